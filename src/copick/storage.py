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
import threading
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from copick.catalog.project import ProjectStorage  # noqa: F401  (its old import path)
from copick.errors import ReadOnlyError, UnsafePathError
from copick.storage_local import create_new, read_file, replace_folder, write_atomic
from copick.storage_remote import (
    Snapshot,
    find_all,
    find_or_empty,
    fresh_cat,
    is_within,
    put_new,
    with_retry,
    write_via_rename,
)

# Object stores write a whole object in one request: a plain put is already atomic there.
_ATOMIC_PUT_PROTOCOLS = {"s3", "s3a", "gs", "gcs", "az", "abfs", "adl", "memory", "http", "https"}
# Remote servers that rename a folder in one request whatever other clients have open in it (SMB
# servers refuse while any file below is open, so a reader would make a writer fail there).
_FOLDER_RENAME_PROTOCOLS = {"ssh", "sftp"}


T = TypeVar("T")


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
        self.renames_folders = protocol in _FOLDER_RENAME_PROTOCOLS
        self._snapshots: dict[str, Snapshot] = {}
        self._listing: dict[str, threading.Event] = {}  # subtrees being listed by some thread
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, fs_args: dict | None = None) -> Layer:
        """Open ``url`` (plain path, ``local://``, ``s3://``, ``memory://``, ``ssh://``, ``smb://``,
        ``https://``, ``zip://...`` ...) with fsspec; see ``copick.remote.opening`` for the protocols
        that reconnect (SFTP, SMB) and those that are read-only (HTTP, zip)."""
        from copick.remote.opening import open_filesystem, protocol_of, redact

        fs, path, read_only = open_filesystem(url, fs_args)
        layer = cls(fs, path, redact(url), read_only=read_only)
        if read_only:
            layer.read_only_reason = f"read-only: copick cannot write {protocol_of(url)}:// layers"
        return layer

    def __repr__(self) -> str:
        return f"Layer({self.url or self.root!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lock and the prefetched listings (for process pools)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_snapshots", "_listing")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _snapshots={}, _listing={})

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
        padded = f"/{rel}/"  # every part between two '/': none may be '', '.' or '..'
        if rel[0] == "/" or "//" in padded or "/./" in padded or "/../" in padded or "\x00" in rel:
            raise UnsafePathError(f"{self}: path {rel!r} would leave the project root {self.root!r}.")
        return f"{self.root}/{rel}" if self.root != "/" else f"/{rel}"

    def _writable_path(self, rel: str, what: str) -> str:
        """``path(rel)`` for a write or delete: never the root itself, never in a read-only layer."""
        if self.read_only:
            why = getattr(self, "read_only_reason", "the project's read-only static layer")
            raise ReadOnlyError(f"Cannot {what} {rel!r}: {self} is {why}.")
        if not rel.strip("/"):
            raise UnsafePathError(f"Refusing to {what} the project root {self.root!r} itself.")
        return self.path(rel)

    # --- reading ---------------------------------------------------------------------------

    def located(self, rel: str) -> str:
        """Where ``rel`` of this layer is, as users paste it (see ``shown``)."""
        return self.shown(self.path(rel))

    def shown(self, path: str) -> str:
        """``path`` (of this layer's filesystem) as users paste it: a local path as it is, another as a
        URL (HTTP filesystems' paths already are one)."""
        if self.is_local or "://" in path:
            return path
        return f"{self.protocol}://{path.lstrip('/')}"

    def _remote(self, call: Callable[[], T], path: str, what: str) -> T:
        """``call()`` on the remote filesystem, retried while the server is unreachable."""
        return with_retry(call, self.shown(path), self.fs, what)

    def prefetch(self, rels: list[str]) -> None:
        """On remote filesystems, make sure subtree ``rels[0]`` is listed in memory; when it is not,
        list it and the other ``rels`` (read-ahead) each in one recursive request, concurrently on
        async filesystems such as S3. Listings below them are answered from memory for
        ``PREFETCH_TTL_SECONDS``. Threads share the work: a subtree being listed by one thread is
        waited for, never listed again, so parallel work makes no more requests than serial work."""
        if self.is_local:
            return
        paths = list(dict.fromkeys(self.path(r) for r in rels))
        bases: list[str] = []
        with self._lock:
            if not paths or self._has_fresh(paths[0]):
                return  # the subtree needed now is known: no read-ahead until it is not
            pending = self._listing.get(paths[0])
            if pending is None:
                pending = threading.Event()
                bases = [b for b in paths if not self._has_fresh(b) and b not in self._listing]
                self._listing.update(dict.fromkeys(bases, pending))
        if not bases:
            pending.wait()  # another thread is listing this subtree: its snapshot will answer
            return
        try:
            for base in bases:
                self.fs.invalidate_cache(base)
            snapshots = self._remote(lambda: self._list_subtrees(bases), bases[0], "list")
            with self._lock:
                self._snapshots.update(snapshots)
        finally:
            with self._lock:
                for base in bases:
                    self._listing.pop(base, None)
            pending.set()

    def _list_subtrees(self, bases: list[str]) -> dict[str, Snapshot]:
        if getattr(self.fs, "async_impl", False):
            from fsspec.asyn import sync

            listings = sync(self.fs.loop, find_all, self.fs, bases)
        else:
            listings = [find_or_empty(self.fs, base) for base in bases]
        return {base: Snapshot(base, infos) for base, infos in zip(bases, listings)}

    def prefetched(self, rel: str) -> bool:
        """Is subtree ``rel`` listed in memory (by ``prefetch``) and fresh?"""
        return bool(self._snapshots) and self._has_fresh(self.path(rel))

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
                if is_within(path, base) or (below and is_within(base, path)):
                    del self._snapshots[base]

    def _from_snapshot(self, path: str, hidden: bool) -> list[tuple[str, bool]] | None:
        with self._lock:
            for base, snapshot in list(self._snapshots.items()):
                if is_within(path, base):
                    if snapshot.fresh():
                        return snapshot.entries(path, hidden)
                    del self._snapshots[base]
        return None

    def list_dir(self, rel: str, hidden: bool = False) -> list[DirEntry]:
        """Entries of a folder, ``[]`` if it is missing; names starting with ``.`` (temporary and
        staging files) only with ``hidden``."""
        return [DirEntry(name, is_dir) for name, is_dir in self.scan(rel, hidden)]

    def scan(self, rel: str, hidden: bool = False) -> list[tuple[str, bool]]:
        """``list_dir`` as plain ``(name, is_dir)`` pairs (the listing hot path: no object per entry)."""
        path = self.path(rel)
        if self.is_local:
            try:
                with os.scandir(path) as it:
                    if hidden:
                        return [(e.name, e.is_dir()) for e in it]
                    return [(e.name, e.is_dir()) for e in it if e.name[0] != "."]
            except (FileNotFoundError, NotADirectoryError):
                return []
        cached = self._from_snapshot(path, hidden)
        if cached is not None:
            return cached

        def ls() -> list[dict]:
            self.fs.invalidate_cache(path)
            try:
                return self.fs.ls(path, detail=True)
            except (FileNotFoundError, NotADirectoryError):
                return []

        entries = []
        for info in self._remote(ls, path, "list"):
            name = posixpath.basename(info["name"].rstrip("/"))
            if name and (hidden or not name.startswith(".")) and info["name"].rstrip("/") != path.rstrip("/"):
                entries.append((name, info.get("type") == "directory"))
        return entries

    def list_files(self, rel: str) -> list[str]:
        """Every file below folder ``rel`` (hidden ones too), as paths relative to ``rel``."""
        path = self.path(rel)
        if self.is_local:
            return [
                os.path.relpath(os.path.join(d, f), path).replace(os.sep, "/")
                for d, _, files in os.walk(path)
                for f in files
            ]
        self.fs.invalidate_cache(path)
        found = self._remote(lambda: find_or_empty(self.fs, path), path, "list")
        prefix = path.rstrip("/") + "/"
        return sorted(n[len(prefix) :] for n, i in found.items() if i.get("type") != "directory")

    def exists(self, rel: str) -> bool:
        path = self.path(rel)
        if self.is_local:
            return os.path.exists(path)

        def exists() -> bool:
            self.fs.invalidate_cache(path)
            return self.fs.exists(path)

        return self._remote(exists, path, "check")

    def read_bytes(self, rel: str) -> bytes:
        """The whole file, as it is on the server now (no cached listing is consulted)."""
        path = self.path(rel)
        if self.is_local:
            return read_file(path)
        return self._remote(lambda: fresh_cat(self.fs, self.protocol, path), path, "read")

    # --- writing ---------------------------------------------------------------------------

    def makedirs(self, rel: str) -> None:
        path = self._writable_path(rel, "create")
        self._invalidate(path)
        if self.is_local:
            os.makedirs(path, exist_ok=True)
        elif not self._atomic_put:
            self._remote(lambda: self.fs.makedirs(path, exist_ok=True), path, "create")

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Replace the file at ``rel`` with ``data`` atomically; parent folders are created."""
        path = self._writable_path(rel, "write")
        self._invalidate(path)
        if self.is_local:
            write_atomic(path, data)
        elif self._atomic_put:
            self._remote(lambda: self.fs.pipe_file(path, data), path, "write")
        else:
            self._remote(lambda: write_via_rename(self.fs, path, data), path, "write")

    def create_bytes(self, rel: str, data: bytes) -> None:
        """Write a new file at ``rel``; ``FileExistsError`` if one is there. Of several processes
        creating the same file at once, exactly one succeeds.

        Local disks: the data goes to a temporary file that is hard-linked to ``rel`` (the link fails
        if ``rel`` exists), so the file appears whole. Object stores: a conditional PUT
        (``If-None-Match: *``); where the server or filesystem offers none (older fsspec, a server
        answering "not implemented", SFTP and other rename-based filesystems) a check then a write,
        exclusive only against this process."""
        path = self._writable_path(rel, "create")
        self._invalidate(path)
        if self.is_local:
            create_new(path, data)
        elif self._atomic_put or getattr(self.fs, "exclusive_create", False):
            # (SFTP, SMB: an exclusive create, O_EXCL, is the server's own create-if-absent)
            self._remote(lambda: put_new(self.fs, path, data), path, "create")
        else:

            def check_then_write() -> None:
                self.fs.invalidate_cache(path)
                if self.fs.exists(path):
                    raise FileExistsError(path)
                write_via_rename(self.fs, path, data)

            self._remote(check_then_write, path, "create")

    def move(self, rel: str, new_rel: str) -> None:
        """Rename a file or folder of a remote layer (one request where ``renames_folders``; a file is
        copied, then deleted on object stores); a file at ``new_rel`` is replaced, a folder there must
        not exist."""
        path, target = self._writable_path(rel, "move"), self._writable_path(new_rel, "write")
        self._invalidate(path, below=True)
        self._invalidate(target, below=True)
        self._remote(lambda: self.fs.mv(path, target), target, "move")

    def copy_files(self, pairs: list[tuple[str, str]]) -> None:
        """Copy files within the layer (server-side on object stores), ``(source, destination)``."""
        if not pairs:
            return
        sources = [self.path(a) for a, _ in pairs]
        targets = [self._writable_path(b, "write") for _, b in pairs]
        for target in targets:
            self._invalidate(target)
        if self.is_local:
            import shutil

            for a, b in zip(sources, targets):
                os.makedirs(os.path.dirname(b), exist_ok=True)
                shutil.copyfile(a, b)
            return
        self._remote(lambda: self.fs.copy(sources, targets), targets[0], "copy")

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

        def delete() -> None:
            self.fs.invalidate_cache(path)
            if not self.fs.exists(path):
                raise FileNotFoundError(path)
            self.fs.rm(path, recursive=True)
            self.fs.invalidate_cache(path)

        self._remote(delete, path, "delete")

    def discard(self, rel: str) -> None:
        """Delete a file or folder if it is there (one check, not an ``exists`` before ``delete``)."""
        with contextlib.suppress(FileNotFoundError):
            self.delete(rel)

    def replace_dir(self, new_rel: str, rel: str) -> None:
        """Move the folder ``new_rel`` to ``rel``, replacing what was there (local disks only; readers
        see the old or the new folder, never neither: ``storage_local.replace_folder``)."""
        new, dest = self._writable_path(new_rel, "write"), self._writable_path(rel, "replace")
        self._invalidate(dest, below=True)
        replace_folder(new, dest)

    def zarr_store(self, rel: str, read_only: bool) -> Any:
        """A zarr store rooted at ``rel`` (see ``copick.formats.zarr_store``)."""
        from copick.formats.zarr_store import open_store

        if not read_only:
            self._writable_path(rel, "write")
        return open_store(self, rel, read_only or self.read_only)
