"""``copick cache info|clear``: the on-disk caches copick keeps, the portal's metadata and the files
of remote layers (``copick.remote.cache``); neither command contacts a server."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from copick.cli.common import domain_errors, echo_data, quiet_option, start
from copick.cli.util import add_config_option, add_debug_option


@click.group(short_help="Inspect or clear the portal metadata cache and the remote-file cache.")
def cache() -> None:
    """Portal projects keep the portal's answers in a small on-disk cache, so that repeated starts
    (many parallel jobs) read it instead of querying the portal. Remote layers (SFTP, SMB, HTTP, S3)
    can keep the files they read in a local cache (``copick_cache`` in a layer's fs_args, or
    COPICK_REMOTE_CACHE). These commands never contact a server."""


def _remote_caches(config: str | None) -> list[Any]:
    """The remote-file cache settings of the project's layers (of the environment without -c)."""
    from copick.remote import cache as remote_cache

    if config is None:
        found = remote_cache.settings_from({})
        return [found] if found is not None else []
    with open(config) as f:
        cfg = json.load(f)
    settings = []
    for key in ("overlay_fs_args", "static_fs_args"):
        one = remote_cache.settings_from(cfg.get(key) or {})
        if one is not None and one not in settings:
            settings.append(one)
    return settings


def _is_portal(config: str | None) -> bool:
    if config is None:
        return True
    with open(config) as f:
        return json.load(f).get("config_type") == "cryoet_data_portal"


def _project_cache(config: str | None) -> tuple[list[str], str | None]:
    """The cache folders of the project at ``config`` (the user's cache without one), and the name
    of the project's current document."""
    from copick.portal import cache as portal_cache

    if config is None:
        return [portal_cache.user_cache_dir()], None
    from copick.ops.open import from_file
    from copick.portal.catalog import PortalCatalog

    catalog = getattr(from_file(config), "catalog", None)
    if not isinstance(catalog, PortalCatalog):
        raise click.UsageError(
            f"{config} is not a CryoET Data Portal project (config_type cryoet_data_portal)."
        )
    dirs = portal_cache.candidate_dirs(catalog.settings, catalog.overlay_dir)
    return dirs, portal_cache.document_name(catalog.url, catalog.dataset_ids)


def _describe(entry: dict[str, Any], current: str | None) -> str:
    mark = " (this project)" if os.path.basename(entry["path"]) == current else ""
    ids = ", ".join(map(str, entry["dataset_ids"]))
    return (
        f"{entry['path']}{mark}\n  datasets {ids}; portal {entry['url']}; "
        f"age {entry['age_seconds'] / 3600:.1f} h; {entry['size'] / 1024:.1f} KiB"
    )


@cache.command(short_help="Show the portal cache location and freshness.")
@add_config_option
@quiet_option
@add_debug_option
@domain_errors
def info(config: str | None, debug: bool) -> None:
    """List the cache documents of the project (-c) or of the user's cache: datasets, age, size;
    and the remote-file cache of the project's layers (of COPICK_REMOTE_CACHE without -c)."""
    from copick.portal import cache as portal_cache
    from copick.remote import cache as remote_cache

    start(__name__, debug)
    if _is_portal(config):
        dirs, current = _project_cache(config)
        found = portal_cache.entries(dirs)
        echo_data(f"Cache folders: {', '.join(dirs)}")
        echo_data("\n".join(_describe(e, current) for e in found) if found else "No cached portal metadata.")
    remote = _remote_caches(config)
    if not remote:
        echo_data("Remote-file cache: off (set copick_cache in a layer's fs_args, or COPICK_REMOTE_CACHE).")
    for settings in remote:
        s = remote_cache.summary(settings.dir)
        ttl = f", entries trusted for {settings.ttl:g} s" if settings.ttl else ""
        echo_data(
            f"Remote-file cache: {s['dir']}\n  {s['entries']} files, {s['bytes'] / 2**20:.1f} MiB "
            f"of {settings.max_bytes / 2**20:.0f} MiB{ttl}"
        )


@cache.command(short_help="Remove the portal cache (or the remote-file cache) to force a refresh.")
@add_config_option
@click.option(
    "--all", "everything", is_flag=True, help="Remove every portal cache file, not just this project's."
)
@click.option(
    "--remote",
    is_flag=True,
    help="Clear the remote-file cache of the project's layers (or COPICK_REMOTE_CACHE).",
)
@click.option("-y", "--yes", is_flag=True, help="Do not prompt for confirmation.")
@quiet_option
@add_debug_option
@domain_errors
def clear(config: str | None, everything: bool, remote: bool, yes: bool, debug: bool) -> None:
    """Remove the project's cache document (every document with --all, or without -c); with
    --remote, or for a project that is not a portal project, the files in its remote-file cache."""
    from copick.portal import cache as portal_cache
    from copick.remote import cache as remote_cache

    logger = start(__name__, debug)
    if remote or not _is_portal(config):
        folders = [s.dir for s in _remote_caches(config)]
        if not folders:
            logger.info("No remote-file cache is set up: nothing to clear.")
            return
        if not yes:
            click.confirm(f"Remove the cached remote files in {', '.join(folders)}?", abort=True)
        removed = sum(remote_cache.clear(folder) for folder in folders)
        logger.info(f"Removed {removed} cached remote file(s).")
        return
    dirs, current = _project_cache(config)
    doomed = [e["path"] for e in portal_cache.entries(dirs) if everything or current is None
              or os.path.basename(e["path"]) == current]  # fmt: skip
    if not doomed:
        logger.info("Nothing to clear.")
        return
    if not yes:
        click.confirm(f"Remove {len(doomed)} portal cache file(s)?", abort=True)
    for path in doomed:
        for stale in (path, path + ".lock"):
            if os.path.exists(stale):
                os.remove(stale)
    logger.info(f"Removed {len(doomed)} portal cache file(s).")
