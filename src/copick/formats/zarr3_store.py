"""The zarr-3 half of ``copick.formats.zarr_store``: a store that keeps copick 1.31's zarr v2 files.

``open_store`` returns a ``CopickStore``: a thin ``WrapperStore`` around ``zarr.storage.LocalStore``
(local disks: plain files) or ``zarr.storage.FsspecStore`` (everything else; a synchronous
filesystem such as ``memory://`` is wrapped in fsspec's ``AsyncFileSystemWrapper``, an async one such
as s3fs gets an ``asynchronous=True`` twin).

How zarr v2 with ``/`` chunk keys is kept under zarr 3 (investigated in zarr 3.1.6), without touching
zarr's process-wide settings:

* zarr 3 picks the format of a new node from its global ``default_zarr_format`` *before* it looks at
  the store, so no store can choose it. The store refuses zarr 3 metadata (``zarr.json``) with an
  error saying to pass ``zarr_format=2``: a copick image is zarr v2, which copick 1.31 requires.
* zarr 3 gives v2 arrays the ``.`` separator unless told otherwise. zarr 2's
  ``FSStore(key_separator="/")``, which copick 1.31 returned, imposed ``/`` on every array created
  through it; ``CopickStore`` does the same: when a v2 ``.zarray`` is written through it, the
  ``dimension_separator`` is rewritten to ``"/"``, and the chunk keys that the creating array object
  still spells ``1.0.2`` are mapped to ``1/0/2`` for that array. Arrays opened later read ``"/"``
  from ``.zarray``; arrays created elsewhere with ``.`` keep it.
* Metadata written through the store is re-serialised as zarr 2 wrote it (sorted keys, 4-space
  indent), and an empty ``{}`` ``.zattrs`` is deleted rather than written (zarr 2 wrote none).
* Members list in key order (``0, 1, 2``) as under zarr 2: directory listings are sorted, and on
  local disks metadata is read without yielding, so zarr's concurrent member lookups finish in order.

The store also answers the zarr 2 ``MutableMapping`` calls (``store[".zattrs"]``, ``key in store``,
``del store[key]``, ``len``, iteration) and exposes ``fs``, ``path`` and ``mode`` like zarr 2's
``FSStore``. A read-only store refuses writes with ``ReadOnlyStoreError``.
"""

from __future__ import annotations

import contextlib
import json
import re
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from zarr.errors import NodeNotFoundError
from zarr.storage import FsspecStore, LocalStore, WrapperStore

from copick.errors import ReadOnlyStoreError
from copick.formats.zarr_store import ZarrFormatError, zarr2_json

if TYPE_CHECKING:
    from zarr.abc.store import ByteRequest, Store
    from zarr.core.buffer import Buffer, BufferPrototype

    from copick.storage import Layer

_V2_METADATA_KEYS = (".zarray", ".zgroup", ".zattrs")
_METADATA_KEYS = (*_V2_METADATA_KEYS, "zarr.json")
NOT_FOUND = (NodeNotFoundError, FileNotFoundError)  # zarr.open_group on a store holding no group
_DOTTED_CHUNK_KEY = re.compile(r"\d+(?:\.\d+)+")

_async_fs_cache: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def open_store(layer: Layer, rel: str, read_only: bool) -> CopickStore:
    """A zarr store rooted at ``rel`` of ``layer``; local disks get ``LocalStore``, others fsspec."""
    path = layer.path(rel)
    inner: Store
    if layer.is_local:
        inner = LocalStore(path, read_only=read_only)
    else:
        inner = FsspecStore(_async_fs(layer.fs), read_only=read_only, path=path.rstrip("/"))
    return CopickStore(inner, layer=layer, path=path)


def local_store(path: str) -> CopickStore:
    """A writable store on a local folder outside any project (import/export files)."""
    return CopickStore(LocalStore(path), path=path)


def clear(store: CopickStore) -> None:
    """Empty a store, completion markers first; the store's own folder is kept."""
    from zarr.core.sync import sync

    store.invalidate_listings()  # a stale cached listing would leave old levels behind

    async def clear_all() -> None:
        for marker in (".zgroup", ".zattrs", "zarr.json"):
            await store.delete(marker)
        names = [name async for name in store.list_dir("")]
        for name in names:
            try:
                await store.delete_dir(name)
            except ValueError:  # LocalStore: a file, not a folder
                await store.delete(name)

    sync(clear_all())


def write_level(store: CopickStore, key: str, data: Any) -> None:
    """Write ``data`` into the v2 array whose ``.zarray`` is already at ``key``, every chunk kept."""
    import zarr

    arr = zarr.open_array(store=store, path=key, mode="r+", zarr_format=2)
    arr.with_config({"write_empty_chunks": True})[...] = data


def writable_local_root(store: Any) -> str | None:
    """The folder of a writable ``CopickStore`` on a local disk, else ``None``."""
    if isinstance(store, CopickStore) and store._local_root and not store.read_only:
        return store._local_root
    return None


def chunk_separator(array: Any) -> str | None:
    """The chunk key separator of a v2 array (``None`` for v3 arrays)."""
    return getattr(array.metadata, "dimension_separator", None)


def _async_fs(fs: Any) -> Any:
    """An asynchronous filesystem for zarr's ``FsspecStore``, cached per synchronous one."""
    try:
        return _async_fs_cache[fs]
    except (KeyError, TypeError):
        pass
    if getattr(fs, "async_impl", False) and getattr(fs, "asynchronous", False):
        afs = fs
    elif getattr(fs, "async_impl", False):
        # A sync instance of an async filesystem (s3fs...): an async twin with the same options.
        afs = type(fs)(**{**fs.storage_options, "asynchronous": True})
    else:
        from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper

        afs = AsyncFileSystemWrapper(fs, asynchronous=True)
    with contextlib.suppress(TypeError):  # not weak-referenceable: just do not cache
        _async_fs_cache[fs] = afs
    return afs


class CopickStore(WrapperStore[Any]):
    """A zarr 3 store that keeps copick's zarr v2 conventions (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        layer: Layer | None = None,
        path: str = "",
        fs: Any = None,
        slash_arrays: set[str] | None = None,
    ) -> None:
        super().__init__(store)
        self.layer = layer
        self.path = path
        self._fs = fs
        self.key_separator = "/"
        self._local_root = str(store.root) if isinstance(store, LocalStore) else ""
        # Array prefixes whose .zarray we rewrote to "/": their creators still emit dotted keys.
        self._slash_arrays: set[str] = slash_arrays if slash_arrays is not None else set()

    def _with_store(self, store: Any) -> CopickStore:
        return type(self)(
            store, layer=self.layer, path=self.path, fs=self._fs, slash_arrays=self._slash_arrays
        )

    # --- zarr 2 FSStore look-alike ----------------------------------------------------------

    @property
    def fs(self) -> Any:
        """The (synchronous) fsspec filesystem holding the store, as on zarr 2's ``FSStore``."""
        if self.layer is not None:
            return self.layer.fs
        return self._fs if self._fs is not None else getattr(self._store, "fs", None)

    @property
    def mode(self) -> str:
        return "r" if self.read_only else "w"

    def __repr__(self) -> str:
        return f"CopickStore({self.path!r}, mode={self.mode!r})"

    def __str__(self) -> str:
        return str(self._store)

    def __getstate__(self) -> dict[str, Any]:
        # The layer (locks, caches) stays behind; its filesystem travels.
        return {"store": self._store, "path": self.path, "fs": self.fs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["store"], path=state["path"], fs=state["fs"])  # type: ignore[misc]

    def invalidate_listings(self) -> None:
        """Forget cached directory listings of the underlying filesystem (s3fs caches them)."""
        fs = getattr(self._store, "fs", None)
        if fs is not None and hasattr(fs, "invalidate_cache"):
            fs.invalidate_cache()

    # --- key mapping ------------------------------------------------------------------------

    def _map_key(self, key: str) -> str:
        if not self._slash_arrays:
            return key
        prefix, _, tail = key.rpartition("/")
        if prefix in self._slash_arrays and _DOTTED_CHUNK_KEY.fullmatch(tail):
            return f"{prefix}/{tail.replace('.', '/')}" if prefix else tail.replace(".", "/")
        return key

    def _check_writes(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.path}: the store is read-only (static layer); cannot {what}.")

    def _metadata_value(self, key: str, value: Buffer) -> Buffer | None:
        """Rewrite v2 metadata the way zarr 2 wrote it; ``None`` means "delete the key"."""
        name = key.rpartition("/")[2]
        if name == "zarr.json":
            raise ZarrFormatError(
                f"{self.path}: copick images are zarr format 2 (as copick 1.31 reads them); with zarr 3 "
                "pass zarr_format=2 when creating arrays or groups in a copick store"
            )
        if name not in _V2_METADATA_KEYS:
            return value
        try:
            meta = json.loads(value.to_bytes())
        except ValueError:
            return value
        if name == ".zattrs" and meta == {}:
            return None
        is_v2_array = name == ".zarray" and isinstance(meta, dict) and meta.get("zarr_format") == 2
        if is_v2_array and meta.get("dimension_separator", ".") != "/":
            meta["dimension_separator"] = "/"
            self._slash_arrays.add(key[: -len(".zarray")].rstrip("/"))
        return type(value).from_bytes(zarr2_json(meta))

    # --- zarr Store interface ---------------------------------------------------------------

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        if byte_range is None and self._local_root and key.rpartition("/")[2] in _METADATA_KEYS:
            # No await: zarr's concurrent member lookups then finish in key order (see module doc).
            try:
                with open(f"{self._local_root}/{key}", "rb") as f:
                    return prototype.buffer.from_bytes(f.read())
            except (FileNotFoundError, NotADirectoryError):
                return None
        return await self._store.get(self._map_key(key), prototype, byte_range)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        mapped = [(self._map_key(k), r) for k, r in key_ranges]
        return await self._store.get_partial_values(prototype, mapped)

    async def _get_many(
        self, requests: Iterable[tuple[str, BufferPrototype, ByteRequest | None]]
    ) -> AsyncGenerator[tuple[str, Buffer | None], None]:
        for key, prototype, byte_range in requests:
            yield key, await self.get(key, prototype, byte_range)

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        """Entries in key order, as zarr 2 listed them (zarr 3 keeps the listing's order)."""
        for name in sorted([name async for name in self._store.list_dir(prefix)]):
            yield name

    async def exists(self, key: str) -> bool:
        return await self._store.exists(self._map_key(key))

    async def set(self, key: str, value: Buffer) -> None:
        self._check_writes(f"write {key!r}")
        new = self._metadata_value(key, value)
        if new is None:
            await self._store.delete(key)
        else:
            await self._store.set(self._map_key(key), new)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        self._check_writes(f"write {key!r}")
        new = self._metadata_value(key, value)
        if new is not None:
            await self._store.set_if_not_exists(self._map_key(key), new)

    async def _set_many(self, values: Iterable[tuple[str, Buffer]]) -> None:
        for key, value in values:
            await self.set(key, value)

    async def delete(self, key: str) -> None:
        self._check_writes(f"delete {key!r}")
        await self._store.delete(self._map_key(key))

    async def delete_dir(self, prefix: str) -> None:
        self._check_writes(f"delete {prefix!r}")
        await self._store.delete_dir(prefix)

    async def clear(self) -> None:
        self._check_writes("clear it")
        await self._store.clear()

    def _check_writable(self) -> None:
        self._check_writes("write to it")

    # --- zarr 2 MutableMapping calls (bytes in, bytes out) ----------------------------------

    def __getitem__(self, key: str) -> bytes:
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        buf = sync(self.get(key, default_buffer_prototype()))
        if buf is None:
            raise KeyError(key)
        return buf.to_bytes()

    def __setitem__(self, key: str, value: bytes) -> None:
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        sync(self.set(key, default_buffer_prototype().buffer.from_bytes(bytes(value))))

    def __delitem__(self, key: str) -> None:
        from zarr.core.sync import sync

        if key not in self:
            raise KeyError(key)
        sync(self.delete(key))

    def __contains__(self, key: object) -> bool:
        from zarr.core.sync import sync

        return isinstance(key, str) and bool(sync(self.exists(key)))

    def keys(self) -> list[str]:
        """Every key in the store (zarr 2 mapping style)."""
        from zarr.core.sync import sync

        async def collect(it: AsyncIterator[str]) -> list[str]:
            return [k async for k in it]

        return sync(collect(self.list()))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())
