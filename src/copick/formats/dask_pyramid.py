"""Pyramids written from a Dask array block by block, for images larger than memory.

``write_pyramid`` writes an image from a (possibly larger than memory) Dask array: level 0 is
computed a bounded batch of blocks at a time (by the active Dask scheduler, e.g. a
``distributed.Client``) and assembled chunk by chunk; each further level is computed from the level
just written, read back piece by piece. Chunks are encoded by ``zarr2_level.StoredLevel``, one at a
time, so memory stays around ``batch_bytes`` plus a few chunks whatever the image size. The files are
those ``copick.formats.ome.write_multiscale`` writes for the same data, byte for byte: the same metadata
(``ome.array_metadata``, ``ome.multiscale_attrs``, ``.zgroup`` last), the same values
(``pyramids.downscale_mean`` / ``pyramids.nearest_indices`` on pieces aligned so that every voxel is
summed in the order of the whole level) and the same Blosc frames (single-threaded Blosc, and
``blosc_frames.encode_padded`` for edge chunks).

Needs ``dask`` (``pip install "copick[dask]"``); imported only by ``from_dask``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from copick.errors import InvalidDataError
from copick.formats.zarr2_level import StoredLevel, grid

__all__ = ["DEFAULT_BATCH_BYTES", "level_shape", "write_pyramid"]

# Level 0 is computed this many bytes of Dask blocks (at least one block) at a time.
DEFAULT_BATCH_BYTES = 64 * 2**20


def _split_chunks(chunks: tuple[tuple[int, ...], ...], step: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Dask chunks cut at every stored chunk boundary as well (only cuts: no block is merged)."""
    out = []
    for sizes, s in zip(chunks, step):
        n = sum(sizes)
        edges = sorted({0, n, *itertools.accumulate(sizes), *range(0, n, s)})
        out.append(tuple(b - a for a, b in itertools.pairwise(edges)))
    return tuple(out)


def _write_base(level: StoredLevel, data: Any, batch: int, pool: Any) -> None:
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
        for region in grid(level.shape, level.chunks):
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


def _write_downscaled(
    level: StoredLevel, prev: StoredLevel, method: str, channel_axis: bool, pool: Any
) -> None:
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
    for region in grid(level.shape, step):
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
    if channel_axis and method == "mean" and levels > 1:
        raise InvalidDataError(
            "An image with channels (a feature map) is stored as one level, not a pyramid."
        )
    spatial = data.ndim - (1 if channel_axis else 0)
    if spatial != 3 and (levels > 1 or method == "nearest"):
        raise InvalidDataError(f"Image pyramids need a (z, y, x) array, got shape {tuple(data.shape)}.")
    from concurrent.futures import ThreadPoolExecutor

    chunks = ome.normalize_chunks(chunks or ome.DEFAULT_CHUNKS, data.ndim)
    clear(store)
    shapes = [tuple(int(n) for n in data.shape)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="copick-encode") as pool:
        prev = StoredLevel.create(store, "0", shapes[0], data.dtype, chunks, compressor)
        _write_base(prev, data, int(batch_bytes), pool)
        for i in range(1, levels):
            shape = level_shape(shapes[-1], method, channel_axis)
            level = StoredLevel.create(store, str(i), shape, prev.dtype, chunks, compressor)
            _write_downscaled(level, prev, method, channel_axis, pool)
            shapes.append(shape)
            prev = level
    # .zgroup is the completion marker that ome.open_level checks: it goes last.
    attrs = ome.multiscale_attrs(voxel_size, len(shapes), channel_axis, metadata)
    store[".zattrs"] = zarr2_json(attrs)
    store[".zgroup"] = zarr2_json({"zarr_format": 2})
    return shapes
