"""``copick cache info|clear``: the on-disk cache of portal metadata (never contacts the portal)."""

from __future__ import annotations

import os
from typing import Any

import click

from copick.cli.common import domain_errors, echo_data, quiet_option, start
from copick.cli.util import add_config_option, add_debug_option


@click.group(short_help="Inspect or clear the CryoET Data Portal metadata cache.")
def cache() -> None:
    """Portal projects keep the portal's answers in a small on-disk cache, so that repeated starts
    (many parallel jobs) read it instead of querying the portal. These commands never contact it."""


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
    """List the cache documents of the project (-c) or of the user's cache: datasets, age, size."""
    from copick.portal import cache as portal_cache

    start(__name__, debug)
    dirs, current = _project_cache(config)
    found = portal_cache.entries(dirs)
    echo_data(f"Cache folders: {', '.join(dirs)}")
    echo_data("\n".join(_describe(e, current) for e in found) if found else "No cached portal metadata.")


@cache.command(short_help="Remove the portal cache to force a refresh.")
@add_config_option
@click.option(
    "--all", "everything", is_flag=True, help="Remove every portal cache file, not just this project's."
)
@click.option("-y", "--yes", is_flag=True, help="Do not prompt for confirmation.")
@quiet_option
@add_debug_option
@domain_errors
def clear(config: str | None, everything: bool, yes: bool, debug: bool) -> None:
    """Remove the project's cache document (every document with --all, or without -c)."""
    from copick.portal import cache as portal_cache

    logger = start(__name__, debug)
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
