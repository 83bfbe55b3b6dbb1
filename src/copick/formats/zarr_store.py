"""Zarr stores for copick's images under zarr 2.18 or zarr 3, chosen by what is installed.

``open_store(layer, rel, read_only)`` returns the installed zarr's own kind of store
(``zarr2_store.CopickStore``, a zarr 2 ``BaseStore``; or ``zarr3_store.CopickStore``, a zarr 3
``WrapperStore``). Both keep copick 1.31's files: zarr format 2, ``/`` chunk keys for arrays created
through them, metadata serialised as zarr 2 writes it, so a plugin's writes give identical files under
either major. Both answer the zarr 2 mapping calls (``store[key]``, ``len``, iteration) and refuse
writes when read-only (static layer). Nothing here changes zarr's behaviour for the process.

The few zarr calls that differ between the majors (clearing a store, writing one level, telling a
level's chunk separator, "no such group" errors) are functions here, answered by the backend module.
"""

from __future__ import annotations

import contextlib
import functools
import json
from types import ModuleType
from typing import TYPE_CHECKING, Any

from copick.errors import InvalidDataError

if TYPE_CHECKING:
    from copick.storage import Layer


class ZarrFormatError(InvalidDataError):
    """zarr format 3 metadata written into a copick image, which is zarr format 2."""


def zarr2_json(obj: Any) -> bytes:
    """JSON bytes exactly as zarr 2 wrote metadata (sorted keys, 4-space indent, ASCII)."""
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": ")).encode()


@functools.cache
def zarr_major() -> int:
    """The major version of the installed zarr (2 or 3)."""
    import zarr

    return int(zarr.__version__.split(".", 1)[0])


def backend() -> ModuleType:
    """The store module for the installed zarr."""
    if zarr_major() == 2:
        from copick.formats import zarr2_store

        return zarr2_store
    from copick.formats import zarr3_store

    return zarr3_store


def open_store(layer: Layer, rel: str, read_only: bool) -> Any:
    """A store rooted at ``rel`` of ``layer`` that the installed zarr accepts."""
    return backend().open_store(layer, rel, read_only)


def local_store(path: str) -> Any:
    """A writable store on a local folder outside any project (import and export files)."""
    return backend().local_store(path)


def clear(store: Any) -> None:
    """Empty a store, completion markers (``.zgroup``, ``.zattrs``) first; its folder is kept."""
    root = writable_local_root(store)
    if root is None:
        backend().clear(store)
        return
    import os
    import shutil

    for marker in (".zgroup", ".zattrs", "zarr.json"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(root, marker))
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(entry.path)


def write_level(store: Any, key: str, data: Any) -> None:
    """Fill the v2 array whose ``.zarray`` is already at ``key`` with ``data``, writing every chunk."""
    backend().write_level(store, key, data)


def writable_local_root(store: Any) -> str | None:
    """The folder of a writable store on a local disk (its files can be written directly), else ``None``."""
    return backend().writable_local_root(store)


def chunk_separator(array: Any) -> str | None:
    """The chunk key separator (``/`` or ``.``) of a zarr v2 array; ``None`` for v3 arrays."""
    return backend().chunk_separator(array)


def group_not_found() -> tuple[type[Exception], ...]:
    """What ``zarr.open_group(store, mode="r")`` raises when the store holds no group."""
    return backend().NOT_FOUND


def __getattr__(name: str) -> Any:
    if name == "CopickStore":  # the store class of the installed zarr
        return backend().CopickStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
