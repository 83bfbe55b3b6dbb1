"""Object-store side of ``copick.storage``: fresh reads, create-only puts, writes by rename where a
plain put is not atomic, bounded retries and the recursive listings (snapshots) that answer many
folder listings with one request.

Kept apart from ``storage`` so that module stays a short read; nothing here is public API.
"""

from __future__ import annotations

import errno
import posixpath
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from copick import layout
from copick.errors import StorageUnreachableError
from copick.writers import owner_id

T = TypeVar("T")

# Pauses between attempts of one operation when the server cannot be reached; retrying stops early
# once RETRY_BUDGET_SECONDS have passed (each attempt already includes the client's own retries:
# botocore's default takes 4-9 s to give up on a refused connection).
RETRY_DELAYS = (0.5, 1.0, 2.0)
RETRY_BUDGET_SECONDS = 8.0

# How long a prefetched subtree listing may answer folder listings.
PREFETCH_TTL_SECONDS = 10.0


def is_unreachable(err: BaseException) -> bool:
    """Is ``err`` a failure to reach the server at all (refused, reset, timed out connecting)?

    Matched by class name so neither botocore nor aiohttp is imported: ``ConnectionError`` covers the
    built-in one and botocore's (``EndpointConnectionError``, ``ConnectTimeoutError`` ...),
    ``ClientConnectionError`` aiohttp's."""
    return any(cls.__name__ in ("ConnectionError", "ClientConnectionError") for cls in type(err).__mro__)


def endpoint_of(fs: Any) -> str:
    """The server a filesystem talks to, without any user name or password in it ('' if unknown)."""
    named = getattr(fs, "endpoint", None)  # copick.util.reconnecting_fs: the server, without secrets
    if isinstance(named, str):
        return named
    options = getattr(fs, "storage_options", {}) or {}
    endpoint = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get("endpoint_url") or ""
    parts = urllib.parse.urlsplit(str(endpoint))
    if parts.hostname is None:
        return ""
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def with_retry(call: Callable[[], T], where: str, fs: Any, what: str) -> T:
    """Run ``call``; when the server cannot be reached, retry after ``RETRY_DELAYS`` (within
    ``RETRY_BUDGET_SECONDS``), then raise ``StorageUnreachableError`` naming ``where`` and the server."""
    start = time.monotonic()
    for attempt, delay in enumerate((*RETRY_DELAYS, None)):
        try:
            return call()
        except Exception as err:
            if not is_unreachable(err):
                raise
            elapsed = time.monotonic() - start
            if delay is None or elapsed + delay > RETRY_BUDGET_SECONDS:
                server = endpoint_of(fs)
                via = f" (server {server})" if server else ""
                raise StorageUnreachableError(
                    f"Cannot {what} {where}{via}: the server cannot be reached after {attempt + 1} "
                    f"attempts in {elapsed:.1f} s. Check that it is running and reachable, then retry."
                ) from err
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


def fresh_cat(fs: Any, protocol: str, path: str) -> bytes:
    """The whole object at ``path``, never answered from a (possibly stale) directory cache.

    s3fs's ``cat_file`` first asks the size from the cached listing of the parent folder, so a file
    written by another process since that listing reads as missing (or truncated); one plain GET
    (``max_concurrency=1``) asks the server only. Other filesystems drop their cache entry first."""
    if protocol in ("s3", "s3a"):
        return fs.cat_file(path, max_concurrency=1)
    fs.invalidate_cache(path)
    return fs.cat_file(path)


def put_new(fs: Any, path: str, data: bytes) -> None:
    """Write ``path`` only if no object is there (``FileExistsError`` otherwise), in one step.

    S3 and compatible servers: a conditional PUT (``If-None-Match: *``, s3fs's ``mode="create"``).
    Fallback, with a short race window between check and put: filesystems whose ``pipe_file`` knows
    no ``mode`` (older fsspec), and servers that answer the condition with "not implemented"."""
    try:
        fs.pipe_file(path, data, mode="create")
    except FileExistsError:
        raise
    except TypeError:
        put_if_absent(fs, path, data)
    except OSError as err:
        if err.errno not in (errno.ENOSYS, errno.EOPNOTSUPP):
            raise
        put_if_absent(fs, path, data)


def put_if_absent(fs: Any, path: str, data: bytes) -> None:
    """Fallback create-only write: check, then write (not atomic against other processes)."""
    fs.invalidate_cache(path)
    if fs.exists(path):
        raise FileExistsError(path)
    fs.pipe_file(path, data)


def write_via_rename(fs: Any, path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole on a filesystem whose plain put is not atomic (SFTP,
    SMB): write a temporary file beside it, then rename it into place."""
    parent, name = posixpath.split(path)
    fs.makedirs(parent, exist_ok=True)
    # The writer's owner id in the name: a killed writer's file is told from a live one's
    # (``copick.writers``) and removed by ``copick check --fix``.
    tmp = posixpath.join(parent, layout.temp_name(name, owner_id()))
    fs.pipe_file(tmp, data)
    try:
        fs.mv(tmp, path)
    except OSError:
        # Some servers (SFTP v3) refuse to rename onto an existing file.
        fs.rm(path)
        fs.mv(tmp, path)


def find_or_empty(fs: Any, base: str) -> dict:
    try:
        return fs.find(base, withdirs=True, detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return {}


async def find_all(fs: Any, bases: list[str]) -> list[dict]:
    """Recursive listings of several prefixes at once (a missing prefix lists as empty)."""
    import asyncio

    async def one(base: str) -> dict:
        try:
            return await fs._find(base, withdirs=True, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return {}

    return list(await asyncio.gather(*(one(base) for base in bases)))


def is_within(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


class Snapshot:
    """The folder tree under ``base`` as one recursive listing saw it."""

    def __init__(self, base: str, infos: dict[str, dict]):
        self.base = base.rstrip("/")
        self.taken = time.monotonic()
        self.tree: dict[str, dict[str, bool]] = {self.base: {}}
        prefix = self.base + "/"
        for name, info in infos.items():
            name = name.rstrip("/")
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix) :].split("/")
            parent = self.base
            for i, part in enumerate(parts):
                is_dir = i < len(parts) - 1 or info.get("type") == "directory"
                children = self.tree.setdefault(parent, {})
                children[part] = children.get(part, False) or is_dir
                parent = f"{parent}/{part}"
            if info.get("type") == "directory":
                self.tree.setdefault(parent, {})

    def fresh(self) -> bool:
        return time.monotonic() - self.taken < PREFETCH_TTL_SECONDS

    def entries(self, path: str, hidden: bool = False) -> list[tuple[str, bool]]:
        children = self.tree.get(path.rstrip("/"), {})
        return [(name, is_dir) for name, is_dir in children.items() if hidden or not name.startswith(".")]
