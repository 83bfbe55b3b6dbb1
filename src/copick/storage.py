"""Storage: one small interface over any fsspec filesystem, and the static/overlay pair.

A ``Layer`` is a filesystem plus a root path; every path it takes is relative to that root and
``/``-separated. Writes are atomic: a same-directory temporary file renamed into place on local
disks, a single PUT on object stores, so no reader and no crash ever sees half a file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import posixpath
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

from copick.errors import ConfigError, ReadOnlyError, UnsafePathError

# Object stores write a whole object in one request: a plain put is already atomic there.
_ATOMIC_PUT_PROTOCOLS = {"s3", "s3a", "gs", "gcs", "az", "abfs", "adl", "memory", "http", "https"}


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()

# Temporary names are ``.<start of the name>.<random>.tmp``: short enough for any valid name.
TEMP_STEM = 96

# How long a prefetched subtree listing may answer folder listings (object stores only).
PREFETCH_TTL_SECONDS = 10.0


class DirEntry(NamedTuple):
    name: str
    is_dir: bool


class Layer:
    """A root folder on one fsspec filesystem. Every path stays inside the root; a read-only layer
    (a project's static layer) refuses every write and delete, whatever the path."""

    def __init__(self, fs: Any, root: str, url: str = "", read_only: bool = False):
        from fsspec.implementations.local import LocalFileSystem

        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.url = url
        self.read_only = read_only
        self.is_local = isinstance(fs, LocalFileSystem)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self.protocol = protocol
        self._atomic_put = protocol in _ATOMIC_PUT_PROTOCOLS
        self._snapshots: dict[str, _Snapshot] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, fs_args: dict | None = None) -> Layer:
        """Open ``url`` (plain path, ``local://``, ``s3://``, ``memory://`` ...) with fsspec."""
        import fsspec.core

        try:
            fs, path = fsspec.core.url_to_fs(url, **(fs_args or {}))
        except (ValueError, ImportError) as err:
            raise ConfigError(f"Cannot open project root {url!r}: {err}") from err
        return cls(fs, path, url)

    def __repr__(self) -> str:
        return f"Layer({self.url or self.root!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lock and the prefetched listings (for process pools)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_snapshots")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _snapshots={})

    @functools.cached_property
    def place(self) -> tuple:
        """What the layer points at, however its URL was spelled (``local://``, ``./``, trailing ``/``)."""
        if self.is_local:
            return ("file", os.path.realpath(self.root))
        options = {k: v for k, v in sorted(self.fs.storage_options.items()) if k != "skip_instance_cache"}
        return (self.protocol, repr(options), posixpath.normpath(self.root))

    def path(self, rel: str) -> str:
        """Absolute path (protocol stripped) of a root-relative path, which must stay inside the root."""
        if not rel:
            return self.root
        if rel.startswith("/") or "\x00" in rel or any(p in ("", ".", "..") for p in rel.split("/")):
            raise UnsafePathError(f"{self}: path {rel!r} would leave the project root {self.root!r}.")
        return posixpath.join(self.root, rel)

    def _writable_path(self, rel: str, what: str) -> str:
        """``path(rel)`` for a write or delete: never the root itself, never in a read-only layer."""
        if self.read_only:
            raise ReadOnlyError(f"Cannot {what} {rel!r}: {self} is the project's read-only static layer.")
        if not rel.strip("/"):
            raise UnsafePathError(f"Refusing to {what} the project root {self.root!r} itself.")
        return self.path(rel)

    # --- reading ---------------------------------------------------------------------------

    def prefetch(self, rels: list[str]) -> None:
        """On remote filesystems, make sure subtree ``rels[0]`` is listed in memory; when it is not,
        list it and the other ``rels`` (read-ahead) each in one recursive request, concurrently on
        async filesystems such as S3. Listings below them are answered from memory for
        ``PREFETCH_TTL_SECONDS``."""
        if self.is_local:
            return
        paths = list(dict.fromkeys(self.path(r) for r in rels))
        with self._lock:
            if not paths or self._has_fresh(paths[0]):
                return  # the subtree needed now is known: no read-ahead until it is not
            bases = [b for b in paths if not self._has_fresh(b)]
        for base in bases:
            self.fs.invalidate_cache(base)
        if getattr(self.fs, "async_impl", False):
            from fsspec.asyn import sync

            listings = sync(self.fs.loop, _find_all, self.fs, bases)
        else:
            listings = [_find_or_empty(self.fs, base) for base in bases]
        snapshots = {base: _Snapshot(base, infos) for base, infos in zip(bases, listings)}
        with self._lock:
            self._snapshots.update(snapshots)

    def _has_fresh(self, base: str) -> bool:
        snapshot = self._snapshots.get(base)
        return snapshot is not None and snapshot.fresh()

    def forget_prefetch(self, rel: str = "") -> None:
        """Drop prefetched listings at or below ``rel`` (everything by default)."""
        self._invalidate(self.path(rel), below=True)

    def _invalidate(self, path: str, below: bool = False) -> None:
        """Drop snapshots that contain ``path`` (and, with ``below``, those inside it)."""
        if not self._snapshots:
            return
        with self._lock:
            for base in list(self._snapshots):
                if _is_within(path, base) or (below and _is_within(base, path)):
                    del self._snapshots[base]

    def _from_snapshot(self, path: str) -> list[DirEntry] | None:
        with self._lock:
            for base, snapshot in list(self._snapshots.items()):
                if _is_within(path, base):
                    if snapshot.fresh():
                        return snapshot.entries(path)
                    del self._snapshots[base]
        return None

    def list_dir(self, rel: str) -> list[DirEntry]:
        """Visible entries of a folder (names starting with ``.`` skipped); ``[]`` if it is missing."""
        path = self.path(rel)
        if self.is_local:
            try:
                with os.scandir(path) as it:
                    return [DirEntry(e.name, e.is_dir()) for e in it if not e.name.startswith(".")]
            except (FileNotFoundError, NotADirectoryError):
                return []
        cached = self._from_snapshot(path)
        if cached is not None:
            return cached
        try:
            self.fs.invalidate_cache(path)
            infos = self.fs.ls(path, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        entries = []
        for info in infos:
            name = posixpath.basename(info["name"].rstrip("/"))
            if name and not name.startswith(".") and info["name"].rstrip("/") != path.rstrip("/"):
                entries.append(DirEntry(name, info.get("type") == "directory"))
        return entries

    def exists(self, rel: str) -> bool:
        path = self.path(rel)
        if self.is_local:
            return os.path.exists(path)
        self.fs.invalidate_cache(path)
        return self.fs.exists(path)

    def read_bytes(self, rel: str) -> bytes:
        path = self.path(rel)
        if self.is_local:
            with open(path, "rb") as f:
                return f.read()
        return self.fs.cat_file(path)

    # --- writing ---------------------------------------------------------------------------

    def makedirs(self, rel: str) -> None:
        path = self._writable_path(rel, "create")
        self._invalidate(path)
        if self.is_local:
            os.makedirs(path, exist_ok=True)
        elif not self._atomic_put:
            self.fs.makedirs(path, exist_ok=True)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Replace the file at ``rel`` with ``data`` atomically; parent folders are created."""
        path = self._writable_path(rel, "write")
        self._invalidate(path)
        if self.is_local:
            _write_local_atomic(path, data)
        elif self._atomic_put:
            self.fs.pipe_file(path, data)
        else:
            self._write_remote_via_rename(path, data)

    def _write_remote_via_rename(self, path: str, data: bytes) -> None:
        parent, name = posixpath.split(path)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = posixpath.join(parent, f".{name[:TEMP_STEM]}.{uuid.uuid4().hex}.tmp")
        self.fs.pipe_file(tmp, data)
        try:
            self.fs.mv(tmp, path)
        except OSError:
            # Some servers (SFTP v3) refuse to rename onto an existing file.
            self.fs.rm(path)
            self.fs.mv(tmp, path)

    def delete(self, rel: str) -> None:
        """Delete a file or a whole folder; ``FileNotFoundError`` when nothing is there."""
        path = self._writable_path(rel, "delete")
        self._invalidate(path, below=True)
        if self.is_local:
            import shutil

            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            return
        self.fs.invalidate_cache(path)
        if not self.fs.exists(path):
            raise FileNotFoundError(path)
        self.fs.rm(path, recursive=True)
        self.fs.invalidate_cache(path)

    def discard(self, rel: str) -> None:
        """Delete a file or folder if it is there (one check, not an ``exists`` before ``delete``)."""
        with contextlib.suppress(FileNotFoundError):
            self.delete(rel)

    def replace_dir(self, new_rel: str, rel: str) -> None:
        """Move the folder ``new_rel`` to ``rel``, replacing what was there (local disks only).

        Uses an atomic exchange where the kernel offers one, so readers see the old or the new
        folder, never neither; the old content is deleted afterwards.
        """
        import shutil

        new, dest = self._writable_path(new_rel, "write"), self._writable_path(rel, "replace")
        self._invalidate(dest, below=True)
        if not os.path.exists(dest):
            os.rename(new, dest)
            return
        if not _exchange(new, dest):
            old = f"{new}.old"
            os.rename(dest, old)
            os.rename(new, dest)
            new = old
        shutil.rmtree(new)

    def zarr_store(self, rel: str, read_only: bool) -> Any:
        """A zarr store rooted at ``rel`` (see ``copick.formats.zarr_store``)."""
        from copick.formats.zarr_store import open_store

        if not read_only:
            self._writable_path(rel, "write")
        return open_store(self, rel, read_only or self.read_only)


def _exchange(a: str, b: str) -> bool:
    """Atomically swap two paths with Linux ``renameat2(RENAME_EXCHANGE)``; False if unavailable."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, a.encode(), at_fdcwd, b.encode(), rename_exchange) == 0


@functools.cache
def _renameat2() -> Any:
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def _find_or_empty(fs: Any, base: str) -> dict:
    try:
        return fs.find(base, withdirs=True, detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return {}


async def _find_all(fs: Any, bases: list[str]) -> list[dict]:
    """Recursive listings of several prefixes at once (a missing prefix lists as empty)."""
    import asyncio

    async def one(base: str) -> dict:
        try:
            return await fs._find(base, withdirs=True, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return {}

    return list(await asyncio.gather(*(one(base) for base in bases)))


def _is_within(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


class _Snapshot:
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

    def entries(self, path: str) -> list[DirEntry]:
        children = self.tree.get(path.rstrip("/"), {})
        return [DirEntry(name, is_dir) for name, is_dir in children.items() if not name.startswith(".")]


def _write_local_atomic(path: str, data: bytes) -> None:
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name[:TEMP_STEM]}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


class ProjectStorage:
    """The two layers of a project: ``static`` (read-only) under ``overlay`` (writable).

    Without a static root both names refer to the same layer and nothing is read-only.
    """

    def __init__(self, overlay: Layer, static: Layer | None = None):
        self.overlay = overlay
        self.static = static if static is not None else overlay
        self.static_is_overlay = static is None
        if static is not None:
            static.read_only = True

    def layers(self) -> Iterator[tuple[Layer, bool]]:
        """``(layer, read_only)`` pairs in listing order: static first, then overlay."""
        if not self.static_is_overlay:
            yield self.static, True
        yield self.overlay, False

    def list_dir(self, rel: str, within: list[str] | None = None) -> list[tuple[DirEntry, Layer, bool]]:
        """Entries of ``rel`` in every layer, static first, not de-duplicated.

        ``within`` names enclosing subtrees (the run of ``rel``, then runs likely listed next) worth
        listing in one round of requests on object stores.
        """
        found = []
        for layer, ro in self.layers():
            if within:
                layer.prefetch(within)
            # copick 1.31 lists entries in file-name order, static layer first; users rely on it
            # when they take get_picks(...)[0].
            found.extend((entry, layer, ro) for entry in sorted(layer.list_dir(rel), key=lambda e: e.name))
        return found

    def forget_prefetch(self, rel: str) -> None:
        for layer, _ in self.layers():
            layer.forget_prefetch(rel)

    def exists(self, rel: str) -> bool:
        return any(layer.exists(rel) for layer, _ in self.layers())

    def ensure_dir(self, rel: str, create: bool) -> bool:
        """Does folder ``rel`` exist in either layer? With ``create``, make it in the overlay with a
        ``.meta`` marker (what copick writes for runs and voxel spacings)."""
        from copick import layout

        if self.exists(rel):
            return True
        if create:
            self.overlay.makedirs(rel)
            self.overlay.write_bytes(layout.join(rel, layout.META_FILE), layout.META_CONTENT)
        return create
