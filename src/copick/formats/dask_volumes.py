"""Images as Dask arrays: lazy reads aligned with the zarr chunks, and pyramids written block by block.

``level_array`` is one level of a stored image as a ``dask.array``: one task per zarr chunk, each
reading only its chunk, through a small picklable ``LevelReader`` (the layer and the image's path;
the zarr array is opened once per process), so the array computes in threads, in processes or on a
``dask.distributed`` cluster, for images on local disks as on object stores.

``write_pyramid`` writes an image from a (possibly larger than memory) Dask array: level 0 is
computed a bounded batch of blocks at a time (by the active Dask scheduler, e.g. a
``distributed.Client``) and assembled chunk by chunk; each further level is computed from the level
just written, read back piece by piece. Chunks are encoded here (``_Level``), one at a time, so memory
stays around ``batch_bytes`` plus a few chunks whatever the image size. The files are those
``copick.formats.ome.write_multiscale`` writes for the same data, byte for byte: the same metadata
(``ome.array_metadata``, ``ome.multiscale_attrs``, ``.zgroup`` last), the same values
(``pyramids.downscale_mean`` / ``pyramids.nearest_indices`` on pieces aligned so that every voxel is
summed in the order of the whole level) and the same Blosc frames (single-threaded Blosc, and
``blosc_frames.encode_padded`` for edge chunks).

Needs ``dask`` (``pip install "copick[dask]"``); imported only by ``to_dask``/``from_dask``.
"""

from __future__ import annotations

import itertools
import math
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from copick.errors import InvalidDataError

if TYPE_CHECKING:
    from copick.storage import Layer

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "LevelReader",
    "as_dask",
    "is_chunked",
    "level_array",
    "value_range",
    "write_pyramid",
]

# Level 0 is computed this many bytes of Dask blocks (at least one block) at a time.
DEFAULT_BATCH_BYTES = 64 * 2**20


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError as err:  # pragma: no cover - dask is installed with the test extra
        raise ImportError('Dask arrays need dask: pip install "copick[dask]"') from err
    return da


# --------------------------------------------------------------------------------------------
# chunks of a zarr v2 level, encoded and decoded here
# --------------------------------------------------------------------------------------------


class _Level:
    """A zarr v2 level of a store, its chunks written and read as whole encoded objects.

    The bytes are those zarr writes: the C-order chunk, edge chunks padded with the fill value, through
    the ``.zarray``'s compressor (no filters). Chunks are encoded off the main thread, where numcodecs'
    Blosc uses a single thread and so keeps its blocks in order (multi-threaded Blosc stores them as
    they finish: the same data in other bytes). Only a chunk and its encoding are in memory at a time.
    """

    def __init__(self, store: Any, key: str, meta: dict[str, Any]):
        import numcodecs

        self.store = store
        self.key = key
        self.shape = tuple(int(n) for n in meta["shape"])
        self.dtype = np.dtype(meta["dtype"])
        self.chunks = tuple(int(c) for c in meta["chunks"])
        self.fill = meta["fill_value"]
        self.codec = numcodecs.get_codec(dict(meta["compressor"])) if meta["compressor"] else None
        self.separator = meta.get("dimension_separator") or "."

    @classmethod
    def create(
        cls, store: Any, key: str, shape: Sequence[int], dtype: Any, chunks: Sequence[int], compressor: Any
    ) -> _Level:
        """Write the level's ``.zarray`` exactly as ``ome.write_multiscale`` does."""
        from copick.formats import ome
        from copick.formats.zarr_store import zarr2_json

        meta = ome.array_metadata(shape, dtype, chunks, compressor)
        store[f"{key}/.zarray"] = zarr2_json(meta)
        return cls(store, key, meta)

    @classmethod
    def open(cls, store: Any, key: str) -> _Level:
        import json

        return cls(store, key, json.loads(bytes(store[f"{key}/.zarray"])))

    def _chunk_key(self, index: Sequence[int]) -> str:
        return f"{self.key}/{self.separator.join(str(i) for i in index)}"

    @property
    def _lead(self) -> int:
        """The first axis whose chunk size is not 1: chunks are C-order runs of rows along it."""
        return next((i for i, c in enumerate(self.chunks) if c > 1), len(self.chunks) - 1)

    def _encode(self, index: tuple[int, ...], block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        encoded = None
        if block.shape != self.chunks:
            encoded = self._encode_padded(block)
            if encoded is None:
                padded = np.full(self.chunks, self.fill, dtype=self.dtype)
                padded[tuple(slice(0, n) for n in block.shape)] = block
                block = padded
        if encoded is None:
            encoded = self.codec.encode(block) if self.codec is not None else block.tobytes()
        self.store[self._chunk_key(index)] = bytes(encoded)

    def _encode_padded(self, block: np.ndarray) -> bytes | None:
        """An edge chunk as Blosc encodes it zero-padded, compressing only the rows that hold data
        (``blosc_frames.encode_padded``, as ``ome.write_multiscale`` does for small levels)."""
        from copick.formats.blosc_frames import encode_padded

        if self.codec is None or self.fill not in (0, 0.0, False):
            return None
        a = self._lead
        prefix_shape = (*block.shape[: a + 1], *self.chunks[a + 1 :])
        if prefix_shape == block.shape:
            prefix = block
        else:
            prefix = np.zeros(prefix_shape, dtype=self.dtype)
            prefix[tuple(slice(0, n) for n in block.shape)] = block
        return encode_padded(self.codec.get_config(), prefix, math.prod(self.chunks) * self.dtype.itemsize)

    def write(self, pool: Any, region: tuple[slice, ...], block: np.ndarray) -> None:
        """Store the chunk at ``region`` (one cell of the chunk grid) from ``pool``'s thread."""
        index = tuple(r.start // c for r, c in zip(region, self.chunks))
        pool.submit(self._encode, index, block).result()

    def _decode(self, index: tuple[int, ...], rows: tuple[int, int] | None = None) -> tuple[np.ndarray, int]:
        """A chunk as an array of its rows along the lead axis: all of them, or at least ``rows``
        (decoding only the Blosc blocks holding them); returns it and the index of its first row."""
        raw = self.store[self._chunk_key(index)]
        a = self._lead
        row_shape = self.chunks[a + 1 :]
        row_items = math.prod(row_shape)
        if rows is not None and self.codec is not None and self.codec.codec_id == "blosc":
            from copick.formats.blosc_frames import decode_range

            size = self.dtype.itemsize
            part = decode_range(raw, rows[0] * row_items * size, rows[1] * row_items * size)
            if part is not None:
                data, offset = part
                flat = np.frombuffer(data, dtype=self.dtype)
                skip = rows[0] * row_items - offset // size
                values = flat[skip : skip + (rows[1] - rows[0]) * row_items]
                return values.reshape(*self.chunks[:a], rows[1] - rows[0], *row_shape), rows[0]
        data = self.codec.decode(raw) if self.codec is not None else raw
        return np.frombuffer(data, dtype=self.dtype).reshape(self.chunks), 0

    def read(self, region: tuple[slice, ...]) -> np.ndarray:
        """The values of ``region`` (slices with steps of 1), decoding one chunk at a time."""
        a = self._lead
        first = [r.start // c for r, c in zip(region, self.chunks)]
        last = [(r.stop - 1) // c for r, c in zip(region, self.chunks)]
        out = None
        for index in itertools.product(*(range(i, j + 1) for i, j in zip(first, last))):
            lo = [max(r.start, i * c) for r, i, c in zip(region, index, self.chunks)]
            hi = [min(r.stop, (i + 1) * c) for r, i, c in zip(region, index, self.chunks)]
            rows = (lo[a] - index[a] * self.chunks[a], hi[a] - index[a] * self.chunks[a])
            chunk, row0 = self._decode(index, rows)
            within = tuple(
                slice(x - i * c - (row0 if axis == a else 0), y - i * c - (row0 if axis == a else 0))
                for axis, (x, y, i, c) in enumerate(zip(lo, hi, index, self.chunks))
            )
            if first == last:  # within one chunk: a view of it
                return chunk[within]
            if out is None:
                out = np.empty(tuple(r.stop - r.start for r in region), dtype=self.dtype)
            out[tuple(slice(x - r.start, y - r.start) for x, y, r in zip(lo, hi, region))] = chunk[within]
        return out

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        return self.read(region)


def _grid(shape: Sequence[int], step: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    """The regions of a regular grid of ``step`` over ``shape``, in C order."""
    ranges = [range(0, n, s) for n, s in zip(shape, step)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(a, min(a + s, n)) for a, s, n in zip(starts, step, shape))


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _split_chunks(chunks: tuple[tuple[int, ...], ...], step: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Dask chunks cut at every stored chunk boundary as well (only cuts: no block is merged)."""
    out = []
    for sizes, s in zip(chunks, step):
        n = sum(sizes)
        edges = sorted({0, n, *itertools.accumulate(sizes), *range(0, n, s)})
        out.append(tuple(b - a for a, b in itertools.pairwise(edges)))
    return tuple(out)


def _write_base(level: _Level, data: Any, batch: int, pool: Any) -> None:
    """Level 0: each stored chunk is assembled from the Dask blocks that cover it (the array's blocks
    cut at the chunk boundaries), computed a batch of about ``batch`` bytes at a time by Dask's active
    scheduler (a ``distributed.Client`` when one is the default), then encoded and stored here."""
    import dask

    if data.size == 0:
        return
    split = data.rechunk(_split_chunks(data.chunks, level.chunks))
    blocks = split.to_delayed(optimize_graph=True)
    edges = [np.concatenate(([0], np.cumsum(c))) for c in split.chunks]
    itemsize = data.dtype.itemsize

    def pieces() -> Iterator[tuple[tuple[slice, ...], tuple[slice, ...], Any, int, int]]:
        for region in _grid(level.shape, level.chunks):
            spans = [
                range(int(np.searchsorted(e, r.start)), int(np.searchsorted(e, r.stop)))
                for e, r in zip(edges, region)
            ]
            count = math.prod(len(span) for span in spans)
            for idx in itertools.product(*spans):
                local = tuple(
                    slice(int(e[i]) - r.start, int(e[i + 1]) - r.start) for e, i, r in zip(edges, idx, region)
                )
                nbytes = math.prod(s.stop - s.start for s in local) * itemsize
                yield region, local, blocks[idx], count, nbytes

    open_chunks: dict[tuple[int, ...], list[Any]] = {}  # chunk start -> [buffer, pieces still missing]
    stream = pieces()
    while True:
        group, size = [], 0
        for item in stream:
            group.append(item)
            size += item[4]
            if size >= batch:
                break
        if not group:
            return
        values = dask.compute(*[item[2] for item in group], optimize_graph=False)
        for (region, local, _, count, _), value in zip(group, values):
            if count == 1:
                level.write(pool, region, np.asarray(value))
                continue
            start = tuple(r.start for r in region)
            state = open_chunks.get(start)
            if state is None:
                shape = tuple(r.stop - r.start for r in region)
                state = open_chunks[start] = [np.empty(shape, dtype=level.dtype), count]
            state[0][local] = value
            state[1] -= 1
            if state[1] == 0:
                level.write(pool, region, open_chunks.pop(start)[0])
        del values, group


def _pieces(region: tuple[slice, ...], step: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    """``region`` cut into pieces of at most ``step`` per axis."""
    ranges = [range(r.start, r.stop, s) for r, s in zip(region, step)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(a, min(a + s, r.stop)) for a, s, r in zip(starts, step, region))


def _mean_piece(prev: Any, piece: tuple[slice, ...], full: Sequence[int]) -> np.ndarray:
    """Output ``piece`` of a 2x2x2 block-mean level, computed from the previous level ``prev``.

    ``downscale_mean`` sums a voxel's eight inputs in an order that depends on one thing only: whether
    the block has a single output column (then also: a single output row). A piece takes the whole
    level's path: a one-column piece of a wider level is widened by a neighbouring column (and the same
    for rows where it matters), then cropped.
    """
    from copick.formats.pyramids import downscale_mean

    lo = [s.start for s in piece]
    hi = [s.stop for s in piece]
    crop_start = [0, 0, 0]
    widen = [2] if full[2] > 1 else ([1] if full[1] > 1 else [])
    for axis in widen:
        if hi[axis] - lo[axis] == 1:
            if lo[axis] > 0:
                lo[axis] -= 1
                crop_start[axis] = 1
            else:
                hi[axis] += 1
    region = tuple(slice(2 * a, min(2 * b, n)) for a, b, n in zip(lo, hi, prev.shape))
    out = downscale_mean(np.asarray(prev[region]))
    return out[tuple(slice(c, c + (s.stop - s.start)) for c, s in zip(crop_start, piece))]


def _nearest_piece(prev: Any, piece: tuple[slice, ...], channel_axis: bool) -> np.ndarray:
    """Output ``piece`` of a nearest-neighbour level: each voxel sampled from ``prev`` at the index
    ``pyramids.nearest_indices`` gives for the whole level."""
    from copick.formats.pyramids import half_size_nearest, nearest_indices

    first = 1 if channel_axis else 0
    region: list[slice] = list(piece[:first])
    picks: list[Any] = [slice(None)] * first
    for axis in range(first, len(piece)):
        n_in = prev.shape[axis]
        idx = nearest_indices(n_in, half_size_nearest(n_in))[piece[axis]]
        region.append(slice(int(idx[0]), int(idx[-1]) + 1))
        picks.append(idx - idx[0])
    block = np.asarray(prev[tuple(region)])
    for axis in range(first, len(piece)):  # one axis at a time: the indices are sorted and small
        block = np.take(block, picks[axis], axis=axis)
    return np.ascontiguousarray(block)


def _write_downscaled(level: _Level, prev: _Level, method: str, channel_axis: bool, pool: Any) -> None:
    """A level computed from the level ``prev`` just written: one stored chunk at a time, each from
    pieces whose input is at most one chunk of ``prev`` (read back, decoding only the Blosc blocks
    of the rows needed) and, for block means, one slab of ``pyramids.downscale_mean``."""
    step = level.chunks
    half = tuple(max(1, c // 2) for c in step)
    if channel_axis:
        half = (step[0], *half[1:])
    elif method == "mean":  # one slab of downscale_mean per piece: its temporaries, no more
        from copick.formats import pyramids

        acc = 8 if prev.dtype.kind in "biu" else max(4, prev.dtype.itemsize)  # numpy's mean type
        plane = 4 * half[1] * half[2] * acc
        half = (max(1, min(half[0], getattr(pyramids, "SLAB_BYTES", 2**25) // (2 * plane))), *half[1:])
    for region in _grid(level.shape, step):
        out = None
        for piece in _pieces(region, half):
            if method == "mean":
                value = _mean_piece(prev, piece, level.shape)
            else:
                value = _nearest_piece(prev, piece, channel_axis)
            if piece == region:
                out = value
                break
            if out is None:
                out = np.empty(tuple(r.stop - r.start for r in region), dtype=level.dtype)
            out[tuple(slice(p.start - r.start, p.stop - r.start) for p, r in zip(piece, region))] = value
        level.write(pool, region, out)
        del out


def level_shape(shape: Sequence[int], method: str, channel_axis: bool = False) -> tuple[int, ...]:
    """The shape of the next level: ceil halves (``mean``) or round-half-even halves (``nearest``)."""
    from copick.formats.pyramids import half_size_nearest

    if method == "mean":
        return tuple(n - n // 2 for n in shape)
    first = 1 if channel_axis else 0
    return tuple(shape[:first]) + tuple(half_size_nearest(n) for n in shape[first:])


def write_pyramid(
    store: Any,
    data: Any,
    levels: int,
    voxel_size: float | Sequence[float],
    *,
    method: str = "mean",
    chunks: Sequence[int] | None = None,
    channel_axis: bool = False,
    metadata: dict[str, Any] | None = None,
    compressor: dict[str, Any] | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> list[tuple[int, ...]]:
    """Replace the content of ``store`` with the ``levels``-level pyramid of the Dask array ``data``
    (already of the stored dtype); return the level shapes.

    ``method`` is ``"mean"`` (tomograms, feature maps, object maps: ``pyramids.downscale_mean``) or
    ``"nearest"`` (segmentations: ``pyramids.downscale_nearest``). The files, their order (metadata
    last, ``.zgroup`` at the very end) and the crash-safety rule are those of ``ome.write_multiscale``.
    """
    from copick.formats import ome
    from copick.formats.zarr_store import clear, zarr2_json

    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
    levels = int(levels)
    if method not in ("mean", "nearest"):
        raise ValueError(f"method must be 'mean' or 'nearest', got {method!r}")
    spatial = data.ndim - (1 if channel_axis else 0)
    if spatial != 3 and (levels > 1 or method == "nearest"):
        raise InvalidDataError(f"Image pyramids need a (z, y, x) array, got shape {tuple(data.shape)}.")
    from concurrent.futures import ThreadPoolExecutor

    chunks = ome.normalize_chunks(chunks or ome.DEFAULT_CHUNKS, data.ndim)
    clear(store)
    shapes = [tuple(int(n) for n in data.shape)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="copick-encode") as pool:
        prev = _Level.create(store, "0", shapes[0], data.dtype, chunks, compressor)
        _write_base(prev, data, int(batch_bytes), pool)
        for i in range(1, levels):
            shape = level_shape(shapes[-1], method, channel_axis)
            level = _Level.create(store, str(i), shape, prev.dtype, chunks, compressor)
            _write_downscaled(level, prev, method, channel_axis, pool)
            shapes.append(shape)
            prev = level
    # .zgroup is the completion marker that ome.open_level checks: it goes last.
    attrs = ome.multiscale_attrs(voxel_size, len(shapes), channel_axis, metadata)
    store[".zattrs"] = zarr2_json(attrs)
    store[".zgroup"] = zarr2_json({"zarr_format": 2})
    return shapes
