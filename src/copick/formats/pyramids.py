"""Pyramid levels of images as copick 1.31 computes them, blockwise with numpy: block means (ceil
sizes) for tomograms and feature maps, nearest neighbour (round half to even) for segmentations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from copick.errors import InvalidDataError

# Work on slabs of about this many input bytes: bounds the temporaries of the pyramid code.
SLAB_BYTES = 32 * 1024 * 1024


def _check_levels(levels: int) -> int:
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
    return int(levels)


def _mean_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype ``np.mean`` computes in: float32 stays, float16 -> float32, ints/bools -> float64."""
    if dtype.kind == "f" and dtype.itemsize >= 4:
        return dtype
    if dtype.kind == "f":
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def downscale_mean(level: Any, dtype: Any = None) -> np.ndarray:
    """One 2x2x2 block-mean step, as ``skimage.transform.downscale_local_mean(level, (2, 2, 2))``.

    Output size is ``ceil(n / 2)`` per axis; missing neighbours at odd edges count as zeros and
    every mean divides by 8. Values are summed in the order numpy's reduction uses there (x pairs
    first, then the (z, y) pairs in memory order), so results are bit-identical. Works slab by
    slab: temporaries stay small whatever the volume size. ``dtype`` (default: the input's) is
    the output type, cast as ``ndarray.astype`` does.
    """
    shape = tuple(level.shape)
    if len(shape) != 3:
        raise InvalidDataError(f"Volume pyramids need a 3-D (z, y, x) array, got shape {shape}.")
    in_dtype = np.dtype(level.dtype)
    out_dtype = np.dtype(dtype) if dtype is not None else in_dtype
    acc = _mean_dtype(in_dtype)
    _, ny, nx = shape
    oz, oy, ox = (n - n // 2 for n in shape)  # ceil(n / 2)
    out = np.empty((oz, oy, ox), dtype=out_dtype)
    plane_bytes = max(1, ny * nx * acc.itemsize)
    step = max(1, SLAB_BYTES // (2 * plane_bytes))  # output planes per slab
    hx, hy = nx // 2, ny // 2

    def slab(z0: int) -> None:
        z1 = min(oz, z0 + step)
        block = np.asarray(level[2 * z0 : 2 * z1])
        if ox == 1:
            out[z0:z1] = _narrow_block_mean(block, z1 - z0, oy, acc)
            return
        bz = block.shape[0]
        pairs = np.empty((bz, ny, ox), dtype=acc)
        np.add(block[:, :, 0 : 2 * hx : 2], block[:, :, 1 : 2 * hx : 2], out=pairs[:, :, :hx], dtype=acc)
        if nx % 2:
            pairs[:, :, hx] = block[:, :, nx - 1]
        del block
        total = pairs[0::2, 0::2].copy()
        total[:, :hy] += pairs[0::2, 1::2]
        total[: bz // 2] += pairs[1::2, 0::2]
        total[: bz // 2, :hy] += pairs[1::2, 1::2]
        del pairs
        total /= 8
        out[z0:z1] = total

    starts = range(0, oz, step)
    if len(starts) > 1 and isinstance(level, np.ndarray):
        # numpy releases the GIL in these loops: slabs on the chunk pool use every core.
        from copick.formats.chunk_cache import decode_pool

        for future in [decode_pool().submit(slab, z0) for z0 in starts]:
            future.result()
    else:
        for z0 in starts:
            slab(z0)
    return out


def _narrow_block_mean(block: np.ndarray, oz: int, oy: int, acc: np.dtype) -> np.ndarray:
    """Block means when x has a single block (x <= 2), where numpy sums y and x in one inner loop.

    numpy merges the contiguous (y, x) reduction axes then: four values are summed in sequence per
    z plane, and with a single y block as well all eight in its pairwise tree. Mirrored here.
    """
    padded = np.zeros((2 * oz, 2 * oy, 2), dtype=acc)
    padded[: block.shape[0], : block.shape[1], : block.shape[2]] = block
    if oy == 1:
        v = padded.reshape(oz, 8)
        total = ((v[:, 0] + v[:, 1]) + (v[:, 2] + v[:, 3])) + ((v[:, 4] + v[:, 5]) + (v[:, 6] + v[:, 7]))
        total = total.reshape(oz, 1)
    else:
        q = padded.reshape(oz, 2, oy, 4)
        planes = ((q[..., 0] + q[..., 1]) + q[..., 2]) + q[..., 3]
        total = planes[:, 0] + planes[:, 1]
    total /= 8
    return total.reshape(oz, oy, 1)


def iter_volume_pyramid(data: Any, levels: int, dtype: Any = np.float32) -> Iterator[np.ndarray]:
    """Yield level 0 (``data`` cast to ``dtype``) and each 2x2x2-mean level computed from the last."""
    levels = _check_levels(levels)
    current = np.asarray(data)
    if dtype is not None:
        current = current.astype(dtype, copy=False)
    yield current
    for _ in range(levels - 1):
        current = downscale_mean(current)
        yield current


def volume_pyramid(data: Any, levels: int, dtype: Any = np.float32) -> list[np.ndarray]:
    """All levels of a tomogram/object-map pyramid (FORMAT.md §9): ceil halves, zero-padded means."""
    return list(iter_volume_pyramid(data, levels, dtype))


def half_size_nearest(n: int) -> int:
    """Level size of the nearest-neighbour pyramid: ``round(n * 0.5)`` half to even (33 -> 16).

    A size of 1 stays 1 (the reference would produce an empty axis there).
    """
    return max(1, round(n * 0.5))


def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """Input index sampled by each output voxel: ``round_half_up((o + 0.5) * n_in / n_out - 0.5)``.

    Computed exactly in integers: ``floor((2o + 1) * n_in / (2 n_out))``; even sizes give ``2o + 1``.
    """
    idx = ((2 * np.arange(n_out, dtype=np.int64) + 1) * n_in) // (2 * n_out)
    return np.minimum(idx, n_in - 1)


def _as_slice(idx: np.ndarray) -> slice | None:
    """The slice equal to an index array when it is an arithmetic progression, else ``None``."""
    if len(idx) == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    step = int(idx[1] - idx[0])
    if step > 0 and np.all(np.diff(idx) == step):
        return slice(int(idx[0]), int(idx[-1]) + 1, step)
    return None


def downscale_nearest(level: Any, channel_axis: bool = False) -> np.ndarray:
    """One nearest-neighbour halving, as ``skimage.transform.rescale(level, 0.5, order=0)`` keeping dtype.

    With ``channel_axis`` the first axis (panoptic ``(2, Z, Y, X)``) is kept as is.
    """
    arr = np.asarray(level)
    spatial = arr.shape[1:] if channel_axis else arr.shape
    if len(spatial) != 3:
        raise InvalidDataError(
            f"Segmentation pyramids need a (z, y, x){' with a leading channel axis' if channel_axis else ''} "
            f"array, got shape {arr.shape}."
        )
    first = 1 if channel_axis else 0
    basic: list[slice] = [slice(None)] * arr.ndim
    fancy: list[tuple[int, np.ndarray]] = []
    for axis, n in enumerate(spatial, start=first):
        idx = nearest_indices(n, half_size_nearest(n))
        as_slice = _as_slice(idx)
        if as_slice is not None:
            basic[axis] = as_slice
        else:
            fancy.append((axis, idx))
    out = arr[tuple(basic)]
    for axis, idx in fancy:
        out = np.take(out, idx, axis=axis)
    return np.ascontiguousarray(out)


def iter_segmentation_pyramid(data: Any, levels: int, channel_axis: bool = False) -> Iterator[np.ndarray]:
    """Yield level 0 (``data`` itself) and each nearest-neighbour halving of the previous level."""
    levels = _check_levels(levels)
    current = np.asarray(data)
    yield current
    for _ in range(levels - 1):
        current = downscale_nearest(current, channel_axis)
        yield current


def segmentation_pyramid(data: Any, levels: int, channel_axis: bool = False) -> list[np.ndarray]:
    """All levels of a segmentation pyramid (FORMAT.md §9): round-half-even sizes, odd-index samples."""
    return list(iter_segmentation_pyramid(data, levels, channel_axis))
