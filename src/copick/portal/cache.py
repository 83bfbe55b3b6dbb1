"""The on-disk cache of portal metadata: one JSON document per fingerprint, shared by processes.

A document holds the rows ``client.fetch_tables`` returned for a set of datasets from one portal.
It is looked up in ``portal_cache_dir`` when set, else ``<overlay>/.copick_cache/`` (local overlays)
then ``$XDG_CACHE_HOME/copick/portal/``, and valid while younger than the TTL (<= 0: forever). On a
miss one process fetches under a file lock while the others wait and then read what it wrote; any
cache failure falls back to fetching, so the cache never fails a user's call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCHEMA = 1  # bump when the fetched fields change: old documents are then ignored
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheSettings:
    """The config's cache keys, each overridden by its environment variable."""

    enabled: bool = True
    ttl_seconds: int = 86400
    directory: str | None = None
    lock_timeout_seconds: int = 60

    @classmethod
    def from_config(cls, config: Any) -> CacheSettings:
        env = os.environ
        enabled = env.get("COPICK_PORTAL_CACHE")
        return cls(
            enabled=config.portal_cache
            if enabled is None
            else enabled.lower() not in ("0", "false", "no", "off"),
            ttl_seconds=int(env.get("COPICK_PORTAL_CACHE_TTL", config.portal_cache_ttl_seconds)),
            directory=env.get("COPICK_PORTAL_CACHE_DIR") or config.portal_cache_dir,
            lock_timeout_seconds=int(
                env.get("COPICK_PORTAL_CACHE_LOCK_TIMEOUT", config.portal_cache_lock_timeout_seconds)
            ),
        )


def user_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "copick", "portal")


def fingerprint(url: str, dataset_ids: list[int]) -> str:
    """What a document answers for: the portal, the datasets and the fetched fields' version."""
    from copick.portal.client import QUERIES

    key = json.dumps([url, sorted(dataset_ids), SCHEMA, sorted(QUERIES.items())])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def document_name(url: str, dataset_ids: list[int]) -> str:
    return f"portal_{fingerprint(url, dataset_ids)}.json"


def candidate_dirs(settings: CacheSettings, overlay_dir: str | None) -> list[str]:
    """Where documents are looked up, in order; the first is where they are written."""
    if settings.directory:
        return [os.path.expanduser(settings.directory)]
    dirs = [os.path.join(overlay_dir, ".copick_cache")] if overlay_dir else []
    return [*dirs, user_cache_dir()]


def _read_fresh(path: str, ttl: int) -> dict[str, Any] | None:
    try:
        if ttl > 0 and time.time() - os.path.getmtime(path) > ttl:
            return None
        with open(path, "rb") as f:
            document = json.loads(f.read())
        return document["tables"] if document.get("schema") == SCHEMA else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: str, dataset_ids: list[int], url: str, tables: dict[str, Any]) -> None:
    from copick.storage_local import write_atomic

    document = {"schema": SCHEMA, "url": url, "dataset_ids": sorted(dataset_ids), "written": time.time()}
    write_atomic(path, json.dumps({**document, "tables": tables}).encode())


def load_or_fetch(
    settings: CacheSettings,
    overlay_dir: str | None,
    url: str,
    dataset_ids: list[int],
    fetch: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """The cached tables when fresh, else ``fetch()`` once among all processes, stored for the next."""
    if not settings.enabled:
        return fetch()
    name = document_name(url, dataset_ids)
    dirs = candidate_dirs(settings, overlay_dir)
    for directory in dirs:
        tables = _read_fresh(os.path.join(directory, name), settings.ttl_seconds)
        if tables is not None:
            return tables
    from filelock import FileLock, Timeout

    path = os.path.join(dirs[0], name)
    lock = FileLock(path + ".lock", timeout=settings.lock_timeout_seconds)
    try:
        os.makedirs(dirs[0], exist_ok=True)
        lock.acquire()
    except (OSError, Timeout) as err:  # only the cache's own failures: a failed fetch is not retried here
        _log.warning("portal cache %s unusable (%s); fetching without it", path, err)
        return fetch()
    try:
        tables = _read_fresh(path, settings.ttl_seconds)  # another process may have fetched
        if tables is None:
            tables = fetch()
            try:
                _write(path, dataset_ids, url, tables)
            except OSError as err:
                _log.warning("portal cache %s not written: %s", path, err)
        return tables
    finally:
        lock.release()


def entries(directories: list[str]) -> list[dict[str, Any]]:
    """The cache documents in ``directories``: path, age (s), size (bytes), dataset ids, portal URL."""
    found = []
    for directory in directories:
        try:
            names = sorted(
                n for n in os.listdir(directory) if n.startswith("portal_") and n.endswith(".json")
            )
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as f:
                    head = json.loads(f.read())
                stat = os.stat(path)
            except (OSError, ValueError):
                continue
            found.append({
                "path": path, "age_seconds": time.time() - stat.st_mtime, "size": stat.st_size,
                "dataset_ids": head.get("dataset_ids", []), "url": head.get("url"),
            })  # fmt: skip
    return found
