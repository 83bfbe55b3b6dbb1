"""Zarr stores for copick's images: zarr-python 3 stores that read and write zarr v2 as copick 1.31 did.

``open_store(layer, rel, read_only)`` returns a ``CopickStore``: a thin ``WrapperStore`` around
``zarr.storage.LocalStore`` (local disks: plain files, atomic writes) or ``zarr.storage.FsspecStore``
(everything else; a synchronous filesystem such as ``memory://`` is wrapped in fsspec's
``AsyncFileSystemWrapper``, an async one such as s3fs gets an ``asynchronous=True`` twin).

How zarr v2 with ``/`` chunk keys is kept under zarr 3 (decision, investigated in zarr 3.1.6):

* zarr 3 picks the format of a new node from the global ``default_zarr_format`` setting *before* it
  looks at the store (``zarr.api.asynchronous.create`` raises ``compressor cannot be used for arrays
  with zarr_format 3`` without ever touching it), so no store can choose the format. Opening a store
  therefore sets ``zarr.config["default_zarr_format"] = 2`` for the process, once: plugin code such
  as ``zarr.create(..., compressor=numcodecs.Blosc(), store=tomo.zarr())`` or
  ``zarr.open(x.zarr(), mode="a")`` then writes v2, as it did under zarr 2, which copick 1.31
  required. Code that asks for ``zarr_format=3`` explicitly still gets v3.
* zarr 3 gives v2 arrays the ``.`` separator unless told otherwise, and no setting changes that.
  zarr 2's ``FSStore(key_separator="/")``, which copick 1.31 returned, imposed ``/`` on every array
  created through it; ``CopickStore`` does the same: when a v2 ``.zarray`` is written through it, the
  ``dimension_separator`` is rewritten to ``"/"``, and the chunk keys that the creating array object
  still spells ``1.0.2`` are mapped to ``1/0/2`` for that array. Arrays opened later read ``"/"``
  from ``.zarray`` and use ``/`` keys themselves; arrays created elsewhere with ``.`` keep them.
* Metadata written through the store is re-serialised as zarr 2 wrote it (sorted keys, 4-space
  indent), and an empty ``{}`` ``.zattrs`` is deleted rather than written (zarr 2 wrote none), so
  trees match copick 1.31's file for file.

The store also answers the zarr 2 ``MutableMapping`` calls that user code makes on ``tomo.zarr()``
(``store[".zattrs"]``, ``key in store``, ``del store[key]``, iteration), and exposes ``fs``,
``path`` and ``mode`` like zarr 2's ``FSStore``. A read-only store (every store of the static layer)
refuses writes and deletes with ``ReadOnlyStoreError`` (a ``PermissionError`` and a ``ValueError``,
so both copick's and zarr's callers catch it).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from zarr.storage import FsspecStore, LocalStore, WrapperStore

from copick.errors import ReadOnlyStoreError

if TYPE_CHECKING:
    from zarr.abc.store import ByteRequest, Store
    from zarr.core.buffer import Buffer, BufferPrototype

    from copick.storage import Layer

_V2_METADATA_KEYS = (".zarray", ".zgroup", ".zattrs")
_DOTTED_CHUNK_KEY = re.compile(r"\d+(?:\.\d+)+")

_defaults_lock = threading.Lock()
_defaults_set = False
_async_fs_cache: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def ensure_zarr_v2_default() -> None:
    """Make zarr create format-2 nodes unless told otherwise (process-wide, done once)."""
    global _defaults_set
    if _defaults_set:
        return
    with _defaults_lock:
        if not _defaults_set:
            import zarr

            zarr.config.set({"default_zarr_format": 2})
            zarr.open = _accept_positional_mode(zarr.open)
            _defaults_set = True


def _accept_positional_mode(open_func: Any) -> Any:
    """``zarr.open(store, "w")`` as zarr 2 allowed (zarr 3 takes ``mode`` by keyword only); plugins
    such as copick-utils call it that way on the stores copick hands out."""
    if getattr(open_func, "_copick_compat", False):
        return open_func

    @functools.wraps(open_func)
    def open_compat(store: Any = None, *args: Any, **kwargs: Any) -> Any:
        if args and "mode" not in kwargs:
            kwargs["mode"], args = args[0], args[1:]
        return open_func(store, *args, **kwargs)

    open_compat._copick_compat = True  # type: ignore[attr-defined]
    return open_compat


def zarr2_json(obj: Any) -> bytes:
    """JSON bytes exactly as zarr 2 wrote metadata (sorted keys, 4-space indent, ASCII)."""
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": ")).encode()


def open_store(layer: Layer, rel: str, read_only: bool) -> CopickStore:
    """A zarr store rooted at ``rel`` of ``layer``; local disks get ``LocalStore``, others fsspec."""
    ensure_zarr_v2_default()
    path = layer.path(rel)
    inner: Store
    if layer.is_local:
        inner = LocalStore(path, read_only=read_only)
    else:
        inner = FsspecStore(_async_fs(layer.fs), read_only=read_only, path=path.rstrip("/"))
    return CopickStore(inner, layer=layer, path=path)


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
