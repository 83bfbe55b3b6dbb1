"""Regions of one level of an OME-Zarr image: opening a level (with errors naming what is missing),
normalising a region, refusing regions larger than free memory, reading and writing them, and
``OpenedLevels``, which keeps a remote image's opened levels between region reads.

Opening a level costs several metadata reads (``.zgroup``, ``.zattrs``, ``.zarray``; under zarr 3
also its probes of ``zarr.json`` and ``.zmetadata``): on a local disk that is nothing, on SFTP or SMB
it is 7 round trips before the first chunk. A viewer or a particle extractor reads many small
regions of one image, so an entity keeps its opened levels (``OpenedLevels``) and each further
region read costs only its chunk requests.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError, MissingLevelError, RegionTooLargeError

# Opened levels of a remote image are reused for this long, then opened again: another client's
# rewrite that changes the image's shape, dtype or chunks is seen within this time (a read that fails
# on the old metadata re-opens at once). Chunks themselves are always read from the layer.
REOPEN_AFTER_SECONDS = 5.0


def store_location(store: Any) -> str:
    """Where a store is (its path), for messages."""
    path = getattr(store, "path", None)
    return str(path) if path else str(store)


def open_level(store: Any, level: str | int = "0", writable: bool = False) -> Any:
    """The zarr array of one level; ``MissingLevelError`` (a ``KeyError``) names what is missing."""
    import zarr

    from copick.formats.zarr_store import group_not_found

    key = str(level)
    where = store_location(store)
    try:
        group = zarr.open_group(store=store, mode="r+" if writable else "r")
        group.attrs.asdict()  # zarr 2 reads .zattrs lazily: parse it here, as zarr 3 does on open
    except group_not_found():
        raise MissingLevelError(
            f"{where}: no image stored (no .zgroup): it is empty, or its writer did not finish; "
            f"level {key!r} cannot be read"
        ) from None
    except ValueError as err:
        raise CorruptFileError(f"{where}: unreadable image metadata (.zgroup/.zattrs): {err}") from err
    try:
        node = group[key]
    except KeyError:
        names = sorted(group.array_keys())
        raise MissingLevelError(f"{where}: no level {key!r} in this image (levels: {names})") from None
    except ValueError as err:
        raise CorruptFileError(f"{where}/{key}: unreadable array metadata (.zarray): {err}") from err
    if not isinstance(node, zarr.Array):
        raise MissingLevelError(f"{where}: {key!r} is a group, not a level array")
    return node


def region_selection(shape: Sequence[int], slices: Any) -> tuple[tuple[slice, ...], tuple[int, ...]]:
    """Normalise ``slices`` (a slice, a tuple of slices or None) for ``shape``; return it and its shape."""
    if slices is None:
        slices = ()
    elif not isinstance(slices, tuple):
        slices = (slices,)
    if len(slices) > len(shape):
        raise IndexError(f"{len(slices)} slices for an array of {len(shape)} axes")
    full = tuple(slices) + (slice(None),) * (len(shape) - len(slices))
    out_shape = []
    for s, n in zip(full, shape):
        if not isinstance(s, slice):
            raise TypeError(f"regions are selected with slices, got {s!r}")
        out_shape.append(len(range(*s.indices(n))))
    return full, tuple(out_shape)


def available_memory() -> int:
    """Bytes of memory this process may still use: MemAvailable, capped by a cgroup limit."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return 1 << 62
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                used = int(f.read().strip())
            avail = min(avail, int(limit) - used)
    except (OSError, ValueError):
        pass
    return max(0, avail)


def region_nbytes(shape: Sequence[int], dtype: Any) -> int:
    return math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize


def check_fits_in_memory(shape: Sequence[int], dtype: Any, where: str = "") -> None:
    """Raise ``RegionTooLargeError`` (a ``ValueError``) when a region of ``shape`` exceeds free memory."""
    need = region_nbytes(shape, dtype)
    avail = available_memory()
    if need > avail:
        raise RegionTooLargeError(
            f"Requested region does not fit in memory: {tuple(shape)} of {np.dtype(dtype)} needs "
            f"{need / 2**30:.2f} GiB, {avail / 2**30:.2f} GiB available{f' ({where})' if where else ''}. "
            "Read a smaller region."
        )


def read_region(store: Any, level: str | int = "0", slices: Any = None) -> np.ndarray:
    """A region (tuple of slices, default everything) of one level, as a numpy array.

    Levels on local disks are read straight from their chunk files (``chunk_cache``), the rest
    (and anything unusual) through zarr.
    """
    layer = getattr(store, "layer", None)
    if layer is not None and layer.is_local:
        from copick.formats.chunk_cache import open_local_level, read_local

        local = open_local_level(store.path, str(level))
        if local is not None:
            sel, shape = region_selection(local.shape, slices)
            check_fits_in_memory(shape, local.dtype, f"{store_location(store)}/{level}")
            data = read_local(local, sel, shape)
            if data is not None:
                return data
    return read_array(open_level(store, level), slices, f"{store_location(store)}/{level}")


def read_array(arr: Any, slices: Any, where: str) -> np.ndarray:
    """A region of an opened level array (``where`` names it in errors)."""
    sel, shape = region_selection(arr.shape, slices)
    check_fits_in_memory(shape, arr.dtype, where)
    return np.asarray(arr[sel])


def write_region(store: Any, level: str | int, data: Any, slices: Any = None) -> None:
    """Write ``data`` into a region of an existing level (``set_region``)."""
    arr = open_level(store, level, writable=True)
    sel, shape = region_selection(arr.shape, slices)
    data = np.asarray(data)
    if data.shape != shape:
        raise InvalidDataError(
            f"{store_location(store)}/{level}: data of shape {data.shape} does not match the region {shape}"
        )
    arr[sel] = data


class OpenedLevels:
    """The opened level arrays of one image, reused by later region reads (module docstring).

    Opened again when ``token`` changes (this process rewrote or deleted the image), after
    ``REOPEN_AFTER_SECONDS``, or once when a read through a kept level fails (its metadata may be out
    of date). Thread-safe; a pickled copy starts empty (arrays hold connections).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[str, Any] = {}
        self._token: Hashable = None
        self._since = 0.0

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def forget(self) -> None:
        """Drop every kept level: the next read opens them again."""
        with self._lock:
            self._levels.clear()

    def level(self, store: Callable[[], Any], level: str, token: Hashable) -> tuple[Any, bool]:
        """The array of ``level`` (opened in ``store()`` if not kept) and whether it was kept."""
        now = time.monotonic()
        with self._lock:
            if self._token != token or now - self._since > REOPEN_AFTER_SECONDS:
                self._levels.clear()
                self._token, self._since = token, now
            arr = self._levels.get(level)
        if arr is not None:
            return arr, True
        arr = open_level(store(), level)
        with self._lock:
            if self._token == token:
                self._levels[level] = arr
        return arr, False

    def read(
        self, store: Callable[[], Any], level: str, slices: Any, token: Hashable, where: str
    ) -> np.ndarray:
        """A region of ``level`` (see ``read_region``), through the kept array when there is one."""
        arr, kept = self.level(store, level, token)
        try:
            return read_array(arr, slices, f"{where}/{level}")
        except (RegionTooLargeError, IndexError, TypeError):
            raise  # the request is wrong, not the metadata
        except Exception:
            if not kept:
                raise
        self.forget()
        return read_array(self.level(store, level, token)[0], slices, f"{where}/{level}")
