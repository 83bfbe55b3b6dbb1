"""Images as Dask arrays: lazy reads aligned with the zarr chunks, and the array checks of a write.

``level_array`` is one level of a stored image as a ``dask.array``: one task per zarr chunk, each
reading only its chunk, through a small picklable ``LevelReader`` (the layer and the image's path;
the zarr array is opened once per process), so the array computes in threads, in processes or on a
``dask.distributed`` cluster, for images on local disks as on object stores. ``as_dask``,
``is_chunked``, ``value_range`` and ``range_probe`` serve ``from_dask`` (which writes through
``copick.formats.dask_pyramid``).

Needs ``dask`` (``pip install "copick[dask]"``) for the arrays; ``is_chunked`` imports nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from copick.storage import Layer

__all__ = ["LevelReader", "as_dask", "is_chunked", "level_array", "range_probe", "value_range"]


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError as err:  # pragma: no cover - dask is installed with the test extra
        raise ImportError('Dask arrays need dask: pip install "copick[dask]"') from err
    return da


class LevelReader:
    """One level of a stored image, indexable like an array (``reader[slices]``) and picklable: what
    crosses to Dask workers is the layer (its filesystem and root) and the image's path; each
    process opens the zarr array once. ``token`` names one ``to_dask`` call (its Dask keys)."""

    def __init__(self, layer: Layer, rel: str, level: str, shape: Sequence[int], dtype: Any, chunks: Any):
        self.layer = layer
        self.rel = rel
        self.level = str(level)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(int(c) for c in chunks)
        self.token = uuid.uuid4().hex
        self._array: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_array", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _array=None, _lock=threading.Lock())

    def __dask_tokenize__(self) -> Any:
        return ("copick.LevelReader", self.token)

    def __repr__(self) -> str:
        return f"LevelReader({self.layer!r}, {self.rel!r}, level={self.level!r})"

    def _store(self) -> Any:
        return self.layer.zarr_store(self.rel, read_only=True)

    def _zarr(self) -> Any:
        with self._lock:
            if self._array is None:
                from copick.formats import ome

                self._array = ome.open_level(self._store(), self.level)
            return self._array

    def __getitem__(self, index: Any) -> np.ndarray:
        if self.layer.is_local:  # chunk files decoded straight into the block (formats.chunk_cache)
            from copick.formats import ome

            return ome.read_region(self._store(), self.level, index)
        return np.asarray(self._zarr()[index])


def level_array(layer: Layer, rel: str, level: str | int = "0", chunks: Any = None, array: Any = None) -> Any:
    """Level ``level`` of the image at ``rel`` of ``layer`` as a lazy ``dask.array``.

    ``chunks`` defaults to the level's zarr chunks (one task per stored chunk); any Dask chunk
    specification is accepted (multiples of the zarr chunks read each chunk once). ``array`` is the
    level's zarr array when the caller already opened it (its shape, dtype and chunks are used).
    """
    da = _dask_array()
    if array is None:
        from copick.formats import ome

        array = ome.open_level(layer.zarr_store(rel, read_only=True), str(level))
    reader = LevelReader(layer, rel, str(level), array.shape, array.dtype, array.chunks)
    return da.from_array(
        reader,
        chunks=reader.chunks if chunks is None else chunks,
        name=f"copick-{reader.level}-{reader.token}",
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * reader.ndim, dtype=reader.dtype),
    )


def is_chunked(data: Any) -> bool:
    """Whether ``data`` is a chunked, lazily computed array (a ``dask.array``, or anything with
    ``__dask_graph__``) rather than an in-memory one."""
    return hasattr(data, "__dask_graph__") and hasattr(data, "chunks") and hasattr(data, "shape")


def as_dask(data: Any) -> Any:
    """``data`` as a ``dask.array``: Dask arrays as they are; other array-likes with ``chunks``
    (zarr, h5py) chunked as stored; anything else as one in-memory block."""
    da = _dask_array()
    if isinstance(data, da.Array):
        return data
    if hasattr(data, "shape") and hasattr(data, "dtype") and not isinstance(data, np.ndarray):
        chunks = getattr(data, "chunks", None)
        if isinstance(chunks, tuple) and all(isinstance(c, int) for c in chunks):
            return da.from_array(data, chunks=chunks)
    arr = np.asarray(data)
    return da.from_array(arr, chunks=arr.shape or ())


def value_range(data: Any) -> tuple[Any, Any, bool, bool]:
    """``(min, max, all_finite, all_integral)`` of a Dask array, computed in one blockwise pass."""
    import dask

    da = _dask_array()
    if data.size == 0 or data.dtype.kind == "b":
        return (0, 1 if data.size else 0, True, True)
    parts = [data.min(), data.max()]
    if data.dtype.kind in "fc":
        parts += [da.isfinite(data).all(), (da.floor(data) == data).all()]
    values = dask.compute(*parts)
    finite = bool(values[2]) if len(values) > 2 else True
    integral = bool(values[3]) if len(values) > 3 else True
    return values[0], values[1], finite, integral


def range_probe(data: Any) -> np.ndarray:
    """A tiny array of ``data``'s dtype with the same min, max, finiteness and integrality, for the
    dtype rules of ``copick.formats.label_dtypes`` (which look at nothing else)."""
    if data.size == 0:
        return np.empty(0, dtype=data.dtype)
    lo, hi, finite, integral = value_range(data)
    values: list[Any] = [lo, hi]
    if not finite:
        values.append(np.nan)
    elif not integral:
        values.append(0.5)
    return np.array(values, dtype=data.dtype)
