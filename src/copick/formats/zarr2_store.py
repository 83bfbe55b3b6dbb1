"""The zarr-2 half of ``copick.formats.zarr_store``: a zarr 2.18 store over a project layer.

``CopickStore`` is a zarr 2 ``BaseStore`` around ``DirectoryStore`` (local disks: each file written
to a temporary name and renamed) or ``FSStore`` (every other fsspec filesystem). Like the
``FSStore(key_separator="/")`` that copick 1.31 returned, arrays created through it get ``/`` chunk
keys (zarr 2 reads ``_dimension_separator`` from the store when it creates an array); unlike it,
an existing array with ``.`` keys keeps reading its own chunk files. zarr 2 itself writes format 2
metadata in copick's layout (sorted keys, 4-space indent), so nothing else is rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from zarr.errors import GroupNotFoundError
from zarr.storage import BaseStore, DirectoryStore, FSStore

from copick.errors import ReadOnlyStoreError

if TYPE_CHECKING:
    from copick.storage import Layer

NOT_FOUND = (GroupNotFoundError, FileNotFoundError)  # zarr.open_group on a store holding no group


def open_store(layer: Layer, rel: str, read_only: bool) -> CopickStore:
    """A store rooted at ``rel`` of ``layer``; local disks get ``DirectoryStore``, others ``FSStore``."""
    path = layer.path(rel)
    if layer.is_local:
        inner: BaseStore = DirectoryStore(path)
    else:
        inner = FSStore(path.rstrip("/"), fs=layer.fs, mode="r" if read_only else "w")
    return CopickStore(inner, path=path, read_only=read_only, layer=layer)


def local_store(path: str) -> CopickStore:
    """A writable store on a local folder outside any project (import/export files)."""
    return CopickStore(DirectoryStore(path), path=path, read_only=False)


def clear(store: CopickStore) -> None:
    """Empty a store, completion markers first; the store's own folder is kept."""
    store.invalidate_listings()
    for marker in (".zgroup", ".zattrs", "zarr.json"):
        store.pop(marker, None)
    for name in store.listdir(""):
        if name in store:  # a file (fsspec lists a file as itself, so ask this way)
            del store[name]
        else:
            store.rmdir(name)


def write_level(store: CopickStore, key: str, data: Any) -> None:
    """Write ``data`` into the v2 array whose ``.zarray`` is already at ``key``, every chunk kept."""
    import zarr

    zarr.open_array(store=store, path=key, mode="r+", write_empty_chunks=True)[...] = data


def writable_local_root(store: Any) -> str | None:
    """The folder of a writable ``CopickStore`` on a local disk, else ``None``."""
    if isinstance(store, CopickStore) and isinstance(store._store, DirectoryStore) and not store.read_only:
        return store._store.path
    return None


def chunk_separator(array: Any) -> str | None:
    """The chunk key separator recorded in the array's ``.zarray`` (zarr 2's default is ``.``)."""
    key = f"{array.path}/.zarray" if array.path else ".zarray"
    return json.loads(array.store[key]).get("dimension_separator") or "."


class CopickStore(BaseStore):
    """A zarr 2 store that creates arrays with ``/`` chunk keys and refuses writes when read-only."""

    _dimension_separator = "/"  # read by zarr 2 when it creates an array in this store

    def __init__(self, store: BaseStore, *, path: str, read_only: bool, layer: Layer | None = None):
        self._store = store
        self.path = path
        self.read_only = read_only
        self.layer = layer

    @property
    def fs(self) -> Any:
        """The fsspec filesystem holding the store, as on zarr 2's ``FSStore``."""
        if self.layer is not None:
            return self.layer.fs
        from fsspec.implementations.local import LocalFileSystem

        return getattr(self._store, "fs", None) or LocalFileSystem()

    @property
    def mode(self) -> str:
        return "r" if self.read_only else "w"

    def __repr__(self) -> str:
        return f"CopickStore({self.path!r}, mode={self.mode!r})"

    def invalidate_listings(self) -> None:
        """Forget cached directory listings of the underlying filesystem (s3fs caches them)."""
        fs = getattr(self._store, "fs", None)
        if fs is not None and hasattr(fs, "invalidate_cache"):
            fs.invalidate_cache()

    def _check_writes(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.path}: the store is read-only (static layer); cannot {what}.")

    def is_writeable(self) -> bool:
        return not self.read_only

    # --- reading ----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        value = self._store[key]
        if key.endswith(".zarray") and b"dimension_separator" not in value:
            # Written elsewhere with zarr's default "." (the portal's arrays): say so, or zarr 2 would
            # take this store's "/" (meant for arrays created here) and read every chunk as missing.
            value = json.dumps({**json.loads(value), "dimension_separator": "."}).encode()
        return value

    def getitems(self, keys: Sequence[str], *, contexts: Any) -> dict[str, Any]:
        """Many chunks at once (``FSStore`` fetches them concurrently)."""
        return self._store.getitems(keys, contexts=contexts)

    def __contains__(self, key: object) -> bool:
        return key in self._store

    def __iter__(self) -> Iterator[str]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)

    def listdir(self, path: str = "") -> list[str]:
        return sorted(self._store.listdir(path))

    def getsize(self, path: str = "") -> int:
        return self._store.getsize(path)

    # --- writing ----------------------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writes(f"write {key!r}")
        self._store[key] = value

    def setitems(self, values: dict[str, Any]) -> None:
        self._check_writes("write to it")
        setitems = getattr(self._store, "setitems", None)  # FSStore writes them concurrently
        if setitems is None:
            for key, value in values.items():
                self._store[key] = value
        else:
            setitems(values)

    def __delitem__(self, key: str) -> None:
        self._check_writes(f"delete {key!r}")
        del self._store[key]

    def rmdir(self, path: str = "") -> None:
        self._check_writes(f"delete {path!r}")
        self._store.rmdir(path)
