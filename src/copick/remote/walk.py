"""Recursive listings of servers that know no recursive listing (SFTP, SMB, HTTP indexes): every
folder of one depth is listed at once, so a tree costs one round trip per depth level, not one per
folder, and each folder is read exactly once (the protocol's minimum: one directory read each).

fsspec's own ``find`` walks folder by folder, waiting for each answer before asking the next.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import posixpath
from collections.abc import Awaitable, Callable
from typing import Any

# Folders listed at once. SFTP pipelines them over a few channels; SMB multiplexes them on one
# connection; an HTTP client pools its connections.
CONCURRENCY = 32


def _base_entry(path: str) -> dict[str, Any]:
    return {"name": path, "type": "directory", "size": 0}


def _collect(
    found: dict[str, dict], level: list[str], listings: list[Any], withdirs: bool, norm: Callable
) -> list[str]:
    """Merge one level's listings into ``found``; the sub-folders to list next."""
    below: list[str] = []
    for listing in listings:
        if isinstance(listing, BaseException):
            if isinstance(listing, (FileNotFoundError, NotADirectoryError)):
                continue  # vanished meanwhile (another client deleting): nothing below it
            raise listing
        for info in listing:
            name = norm(info["name"])
            if info.get("type") == "directory":
                below.append(name)
                if withdirs:
                    found[name] = {**info, "name": name}
            else:
                found[name] = {**info, "name": name}
    return below


def _norm(name: str) -> str:
    return name.rstrip("/") or "/"


def _result(found: dict[str, dict], detail: bool) -> Any:
    ordered = dict(sorted(found.items()))
    return ordered if detail else list(ordered)


async def find_by_levels(
    ls: Callable[[str], Awaitable[list[dict]]],
    path: str,
    maxdepth: int | None = None,
    withdirs: bool = False,
    detail: bool = False,
    norm: Callable[[str], str] = _norm,
) -> Any:
    """``fs.find`` for an async filesystem whose ``ls(path)`` returns fsspec info dicts. A missing
    ``path`` finds nothing; a file finds itself (one extra ``info`` only in that case)."""
    root = norm(path)
    try:
        first = await ls(root)
    except NotADirectoryError:
        return None  # the caller asks info() for a file
    found: dict[str, dict] = {root: _base_entry(root)} if withdirs else {}
    level = _collect(found, [root], [first], withdirs, norm)
    depth = 1
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(folder: str) -> Any:
        async with semaphore:
            return await ls(folder)

    while level and (maxdepth is None or depth < maxdepth):
        listings = await asyncio.gather(*(one(p) for p in level), return_exceptions=True)
        level = _collect(found, level, listings, withdirs, norm)
        depth += 1
    return _result(found, detail)


def find_by_levels_threaded(
    ls: Callable[[str], list[dict]],
    path: str,
    maxdepth: int | None = None,
    withdirs: bool = False,
    detail: bool = False,
    workers: int = 8,
) -> Any:
    """The same for a synchronous filesystem (SMB): each level's folders listed by a thread pool."""
    root = _norm(path)
    try:
        first = ls(root)
    except NotADirectoryError:
        return None
    found: dict[str, dict] = {root: _base_entry(root)} if withdirs else {}
    level = _collect(found, [root], [first], withdirs, _norm)
    depth = 1

    def safe(folder: str) -> Any:
        try:
            return ls(folder)
        except Exception as err:
            return err

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        while level and (maxdepth is None or depth < maxdepth):
            level = _collect(found, level, list(pool.map(safe, level)), withdirs, _norm)
            depth += 1
    return _result(found, detail)


def parent(path: str) -> str:
    return posixpath.dirname(path.rstrip("/")) or "/"
