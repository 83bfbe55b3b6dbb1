"""The filesystem wrapper that puts the on-disk cache of ``copick.remote.cache`` in front of a remote
layer's file reads: when an entry is served, kept or dropped. Kept apart from the entry store so
each module has one job (the store knows nothing of remote servers).

How an entry is used:

* Each cached file keeps the remote's validator from when it was fetched: size and modification
  time (and the ETag where the server gives one). A read serves the local copy when the remote
  still shows the same validator, asked with one listing of the file's folder (kept in memory for
  ``LISTING_SECONDS``), so reading a chunked image checks one folder per row of chunks, not each
  chunk. With ``ttl`` seconds, an entry checked less than ``ttl`` ago is served without asking.
* A file modified less than ``SETTLING_SECONDS`` before it was fetched is not kept: servers give
  modification times in whole seconds, so a rewrite of the same size within that second would look
  unchanged.
* Writes through copick go to the server and drop the entries they replace; listings are never
  served from the cache (copick lists the server on ``refresh()``, as users rely on).
"""

from __future__ import annotations

import contextlib
import posixpath
import threading
import time
from collections.abc import Callable
from typing import Any

from fsspec.spec import AbstractFileSystem

from copick.remote.cache import CacheSettings, CacheStore

LISTING_SECONDS = 5.0
SETTLING_SECONDS = 2.0


def validator(info: dict[str, Any]) -> tuple[Any, ...] | None:
    """What identifies a version of a remote file in a listing or ``info`` (``None``: nothing)."""
    mtime = info.get("mtime", info.get("LastModified", info.get("last_modified")))
    etag = info.get("ETag") or info.get("etag")
    size = info.get("size")
    if mtime is None and etag is None:
        return None
    if hasattr(mtime, "timestamp"):
        mtime = mtime.timestamp()
    return (size, mtime, etag)


def _settled(check: tuple[Any, ...] | None, fetched: float) -> bool:
    """Is a file with validator ``check`` safe to keep (see the module docstring)?"""
    if check is None:
        return False
    _, mtime, etag = check
    if etag is not None:
        return True
    return isinstance(mtime, (int, float)) and fetched - float(mtime) >= SETTLING_SECONDS


# Writes: the paths whose entries they make stale (first positional arguments).
_WRITES = ("pipe_file", "pipe", "rm_file", "rm", "rmdir", "mv", "cp_file", "copy", "put_file", "put", "touch")


class CachedFileSystem(AbstractFileSystem):
    """A layer's filesystem with the cache in front of its file reads; everything else passes."""

    def __init__(self, fs: Any, settings: CacheSettings, place: str):
        super().__init__()
        self.fs = fs
        self.store = CacheStore(settings)
        self.place = place
        self.ttl = settings.ttl
        self._listings: dict[str, tuple[float, dict[str, tuple[Any, ...] | None]]] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.storage_options = dict(getattr(fs, "storage_options", {}) or {})
        self.stats = {"hits": 0, "misses": 0}

    # --- plumbing --------------------------------------------------------------------------------

    # Identity, not fsspec's token equality: two instances opened with the same arguments hold
    # different connections / listings, and caches keyed by filesystem must tell them apart.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    @property
    def protocol(self) -> Any:  # type: ignore[override]
        return self.fs.protocol

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "fs" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["fs"], name)

    def __reduce__(self) -> Any:
        return type(self), (self.fs, self.store.settings, self.place)

    def _strip_protocol(self, path: Any) -> Any:  # type: ignore[override]
        return self.fs._strip_protocol(path)

    def invalidate_cache(self, path: str | None = None) -> None:
        self.fs.invalidate_cache(path)
        with self._lock:
            if path is None:
                self._listings.clear()
                self._checked.clear()
            else:
                path = path.rstrip("/")
                self._listings.pop(posixpath.dirname(path), None)
                self._listings.pop(path, None)
                self._checked.pop(path, None)

    def _key(self, path: str) -> str:
        return f"{self.place}|{path}"

    # --- validation ------------------------------------------------------------------------------

    def _remote_check(self, path: str) -> tuple[Any, ...] | None:
        """The remote validator of ``path``, from a recent listing of its folder (listed now if
        none is recent), or from ``info`` when the listing tells nothing (HTTP index pages)."""
        parent = posixpath.dirname(path.rstrip("/"))
        now = time.monotonic()
        with self._lock:
            listed = self._listings.get(parent)
        if listed is None or now - listed[0] > LISTING_SECONDS:
            try:
                infos = self.fs.ls(parent, detail=True)
            except FileNotFoundError:
                infos = []
            listed = (now, {i["name"].rstrip("/"): validator(i) for i in infos})
            with self._lock:
                self._listings[parent] = listed
        if path in listed[1] and listed[1][path] is not None:
            return listed[1][path]
        if path not in listed[1] and listed[1]:
            raise FileNotFoundError(path)
        return validator(self.fs.info(path))

    def _cached(self, path: str) -> bytes | None:
        entry = self.store.get(self._key(path))
        if entry is None:
            return None
        header, data = entry
        key = self._key(path)
        recent = self._checked.get(path)
        if self.ttl > 0 and recent is not None and time.monotonic() - recent < self.ttl:
            self.store.touch(key)
            return data
        try:
            remote = self._remote_check(path)
        except FileNotFoundError:
            self.store.drop(key)
            raise
        if tuple(header["check"]) != remote:
            self.store.drop(key)
            return None
        self._checked[path] = time.monotonic()
        self.store.touch(key)
        return data

    def _fetch(self, path: str, call: Callable[[], bytes]) -> bytes:
        check = self._remote_check(path)  # FileNotFoundError: the folder's listing has no such file
        fetched = time.time()
        data = call()
        if _settled(check, fetched) and (check is None or check[0] in (None, len(data))):
            self.store.put(self._key(path), check, data)  # type: ignore[arg-type]
            self._checked[path] = time.monotonic()
        return data

    # --- reads -----------------------------------------------------------------------------------

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        path = self._strip_protocol(path)
        data = self._cached(path)
        if data is not None:
            self.stats["hits"] += 1
            return data if start is None and end is None else data[start:end]
        self.stats["misses"] += 1
        if start is not None or end is not None:
            return self.fs.cat_file(path, start=start, end=end, **kwargs)
        return self._fetch(path, lambda: self.fs.cat_file(path, **kwargs))

    def cat(self, path: Any, recursive: bool = False, on_error: str = "raise", **kwargs: Any) -> Any:
        if isinstance(path, str) and not recursive:
            return self.cat_file(path, **kwargs)
        paths = self.expand_path(path, recursive=recursive) if recursive else list(path)
        out: dict[str, Any] = {}
        missing = []
        for p in paths:
            try:
                data = self._cached(self._strip_protocol(p))
            except FileNotFoundError as err:
                data = None
                if on_error == "raise":
                    raise
                if on_error == "return":
                    out[p] = err
                continue
            if data is None:
                missing.append(p)
            else:
                self.stats["hits"] += 1
                out[p] = data
        if missing:
            self.stats["misses"] += len(missing)
            checks = {}
            for p in missing:
                with contextlib.suppress(FileNotFoundError):
                    checks[p] = self._remote_check(self._strip_protocol(p))
            fetched = time.time()
            got = self.fs.cat(missing, on_error=on_error, **kwargs)
            got = got if isinstance(got, dict) else {missing[0]: got}
            for p, data in got.items():
                check = checks.get(p)
                if isinstance(data, bytes) and _settled(check, fetched) and check[0] in (None, len(data)):  # type: ignore[index]
                    self.store.put(self._key(self._strip_protocol(p)), check, data)  # type: ignore[arg-type]
                out[p] = data
        return out

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode == "rb":
            import io

            return io.BytesIO(self.cat_file(path))
        self._forget(path)
        return self.fs.open(path, mode, **kwargs)

    def _forget(self, *paths: Any) -> None:
        for one in paths:
            for p in [one] if isinstance(one, str) else list(one or []):
                p = self._strip_protocol(p)
                self.store.drop(self._key(p))
                self.invalidate_cache(p)


def _writer(name: str) -> Callable[..., Any]:
    def method(self: CachedFileSystem, *args: Any, **kwargs: Any) -> Any:
        targets = args[:2] if name in ("mv", "cp_file", "copy", "put_file", "put") else args[:1]
        self._forget(*targets)
        try:
            return getattr(self.fs, name)(*args, **kwargs)
        finally:
            self._forget(*targets)

    method.__name__ = name
    return method


def _passed(name: str) -> Callable[..., Any]:
    def method(self: CachedFileSystem, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.fs, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in _WRITES:
    setattr(CachedFileSystem, _name, _writer(_name))
for _name in ("ls", "info", "find", "exists", "isdir", "isfile", "makedirs", "mkdir", "size", "modified"):
    setattr(CachedFileSystem, _name, _passed(_name))
