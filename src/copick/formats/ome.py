"""OME-NGFF 0.4 multiscale images exactly as copick 1.31 writes them (FORMAT.md sections 7-10).

Pyramids are computed blockwise with numpy; ``write_multiscale`` replaces a store's content with
zarr v2 arrays ``"0"``, ``"1"``, ... and the OME ``multiscales`` metadata; ``read_region`` reads a
region of one level, touching only the chunks it overlaps.

Crash safety of ``write_multiscale``: a store counts as complete when it holds ``.zgroup`` and the
``.zattrs`` listing its levels. The writer first deletes those two files (an old complete image
turns "incomplete" before anything of it is removed), then the old levels, then writes every new
level (each ``.zarray`` before its chunks), and only at the very end ``.zattrs`` and then
``.zgroup``, the marker ``open_level`` checks. Each file is replaced atomically (temp file + rename
locally, one PUT on object stores), so a writer killed at any moment leaves either the previous
complete image, an incomplete store, or the new complete image. ``open_level`` refuses a store
without ``.zgroup`` (``MissingLevelError``), so an interrupted write is reported, never read back
as zeros.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError, MissingLevelError, RegionTooLargeError

DEFAULT_CHUNKS: tuple[int, int, int] = (256, 256, 256)
# zarr 2's default compressor, which copick 1.31 wrote for every array.
DEFAULT_COMPRESSOR: dict[str, Any] = {
    "blocksize": 0,
    "clevel": 5,
    "cname": "lz4",
    "id": "blosc",
    "shuffle": 1,
}
OME_VERSION = "0.4"

# Length units of OME-NGFF 0.4, in angstrom per unit.
UNIT_FACTORS: dict[str, float] = {
    "yoctometer": 1e-14,
    "zeptometer": 1e-11,
    "attometer": 1e-8,
    "femtometer": 1e-5,
    "picometer": 1e-2,
    "angstrom": 1.0,
    "nanometer": 10.0,
    "micrometer": 1e4,
    "millimeter": 1e7,
    "centimeter": 1e8,
    "decimeter": 1e9,
    "meter": 1e10,
    "decameter": 1e11,
    "hectometer": 1e12,
    "kilometer": 1e13,
    "megameter": 1e16,
    "gigameter": 1e19,
    "terameter": 1e22,
    "petameter": 1e25,
    "exameter": 1e28,
    "zettameter": 1e31,
    "yottameter": 1e34,
    "inch": 2.54e8,
    "foot": 3.048e9,
    "yard": 9.144e9,
    "mile": 1.609344e13,
    "parsec": 3.0856775814913673e26,
}

# Work on slabs of about this many input bytes: bounds the temporaries of the pyramid code.
_SLAB_BYTES = 32 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# pyramids
# --------------------------------------------------------------------------------------------


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
    step = max(1, _SLAB_BYTES // (2 * plane_bytes))  # output planes per slab
    hx, hy = nx // 2, ny // 2
    for z0 in range(0, oz, step):
        z1 = min(oz, z0 + step)
        block = np.asarray(level[2 * z0 : 2 * z1])
        if ox == 1:
            out[z0:z1] = _narrow_block_mean(block, z1 - z0, oy, acc)
            continue
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


# --------------------------------------------------------------------------------------------
# metadata
# --------------------------------------------------------------------------------------------


def level_scales(voxel_size: float | Sequence[float], n_levels: int) -> list[float]:
    """Per-level voxel sizes: given explicitly, or the base doubled level by level (10, 20, 40)."""
    if isinstance(voxel_size, (int, float, np.integer, np.floating)):
        scales = [float(voxel_size)]
        for _ in range(n_levels - 1):
            scales.append(scales[-1] * 2)
        return scales
    scales = [float(v) for v in voxel_size]
    if len(scales) != n_levels:
        raise ValueError(f"{len(scales)} voxel sizes given for {n_levels} levels")
    return scales


def multiscale_attrs(
    voxel_size: float | Sequence[float],
    n_levels: int,
    channel_axis: bool = False,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``.zattrs`` of an image (FORMAT.md §7): one multiscales entry, axes z/y/x, scales only."""
    axes: list[dict[str, str]] = [{"name": "c", "type": "channel"}] if channel_axis else []
    axes += [{"name": name, "type": "space", "unit": "angstrom"} for name in "zyx"]
    lead = [1.0] if channel_axis else []
    datasets = [
        {"coordinateTransformations": [{"scale": [*lead, s, s, s], "type": "scale"}], "path": str(i)}
        for i, s in enumerate(level_scales(voxel_size, n_levels))
    ]
    entry = {
        "axes": axes,
        "datasets": datasets,
        "metadata": dict(metadata) if metadata else {},
        "name": "/",
        "version": OME_VERSION,
    }
    return {"multiscales": [entry]}


def _fill_value(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return 0.0
    if dtype.kind == "b":
        return False
    if dtype.kind in "iu":
        return 0
    raise InvalidDataError(f"Cannot store arrays of dtype {dtype} in an image.")


def normalize_chunks(chunks: Sequence[int], ndim: int) -> tuple[int, ...]:
    """Chunk shape for ``ndim`` axes: leading axes missing from ``chunks`` get 1 (panoptic c)."""
    chunks = tuple(int(c) for c in chunks)
    if len(chunks) > ndim or any(c < 1 for c in chunks):
        raise ValueError(f"chunks {chunks} do not suit a {ndim}-D array")
    return (1,) * (ndim - len(chunks)) + chunks


def array_metadata(
    shape: Sequence[int], dtype: Any, chunks: Sequence[int], compressor: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``.zarray`` of one level (FORMAT.md §8): zarr v2, Blosc lz4, ``/`` separator, C order."""
    dt = np.dtype(dtype)
    return {
        "chunks": list(normalize_chunks(chunks, len(shape))),
        "compressor": dict(compressor if compressor is not None else DEFAULT_COMPRESSOR),
        "dimension_separator": "/",
        "dtype": dt.str,
        "fill_value": _fill_value(dt),
        "filters": None,
        "order": "C",
        "shape": [int(n) for n in shape],
        "zarr_format": 2,
    }


def voxel_size_from_attrs(attrs: dict[str, Any], source: str = "image") -> float:
    """Voxel size in angstrom from OME ``.zattrs`` (copick's ``get_voxel_size_from_zarr``).

    First dataset's ``scale`` at the first spatial axis (whatever the axes order; without axes the
    third-from-last entry), times that axis's unit factor (``angstrom`` 1, ``nanometer`` 10, ...;
    no unit = angstrom).
    """
    try:
        entry = attrs["multiscales"][0]
        transforms = entry["datasets"][0]["coordinateTransformations"]
        scale = next(t["scale"] for t in transforms if t.get("type") == "scale")
        axes = entry.get("axes") or []
        spatial = [i for i, a in enumerate(axes) if isinstance(a, dict) and a.get("type") == "space"]
        value = float(scale[spatial[0]] if spatial and len(axes) == len(scale) else scale[-3])
    except (KeyError, IndexError, TypeError, ValueError, StopIteration, AttributeError) as err:
        raise CorruptFileError(
            f"{source}: .zattrs has no OME-NGFF multiscales scale for its first level "
            f"(multiscales[0].datasets[0].coordinateTransformations with a 'scale' of >= 3 values)"
        ) from err
    unit = None
    for axis in entry.get("axes") or []:
        if isinstance(axis, dict) and axis.get("type", "space") == "space" and axis.get("name") != "c":
            unit = axis.get("unit")
            break
    if not unit:
        return value
    try:
        return value * UNIT_FACTORS[unit]
    except KeyError:
        raise CorruptFileError(f"{source}: unknown OME-NGFF length unit {unit!r}") from None


# --------------------------------------------------------------------------------------------
# segmentation dtypes
# --------------------------------------------------------------------------------------------

_UNSIGNED = [np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)]


def _value_range(data: np.ndarray) -> tuple[Any, Any, bool, bool]:
    """``(min, max, all_finite, all_integral)`` of an array, computed slab by slab."""
    flat = data.reshape(data.shape[0], -1) if data.ndim > 1 else data.reshape(-1, 1)
    step = max(1, _SLAB_BYTES // max(1, flat.shape[1] * data.itemsize))
    lo: Any = None
    hi: Any = None
    finite = integral = True
    is_float = data.dtype.kind in "fc"
    for i in range(0, flat.shape[0], step):
        part = flat[i : i + step]
        if is_float:
            if not np.isfinite(part).all():
                finite = False
                break
            if integral and not (np.floor(part) == part).all():
                integral = False
        pmin, pmax = part.min(), part.max()
        lo = pmin if lo is None else min(lo, pmin)
        hi = pmax if hi is None else max(hi, pmax)
    return lo, hi, finite, integral


def choose_segmentation_dtype(data: Any, floor: Any = np.uint8, requested: Any = None) -> np.dtype:
    """The dtype a segmentation is stored in (FORMAT.md §10, API behaviour 36).

    Without ``requested``: the smallest unsigned type at least as wide as ``floor`` that holds every
    value. Negative, non-finite or non-integral values raise ``InvalidDataError`` (a
    ``ValueError``); so does a ``requested`` dtype that cannot hold the values exactly.
    """
    arr = np.asarray(data)
    floor_dt = np.dtype(floor)
    if arr.dtype.kind not in "buif":
        raise InvalidDataError(f"Segmentation values must be numbers, got an array of dtype {arr.dtype}.")
    if arr.dtype.kind == "b" or arr.size == 0:
        lo, hi, finite, integral = (0, 1 if arr.size else 0, True, True)
    else:
        lo, hi, finite, integral = _value_range(arr)
    if not finite:
        raise InvalidDataError("Segmentation values must be finite, found NaN or infinity.")
    if lo < 0:
        raise InvalidDataError(
            f"Segmentation values must be non-negative, found {lo}. "
            "Pass an explicit signed dtype to store negative labels."
        )
    if not integral:
        raise InvalidDataError(
            "Segmentation values must be integers; found non-integral floating-point values."
        )
    if requested is not None:
        req = np.dtype(requested)
        if req.kind in "iu" and hi > np.iinfo(req).max:
            info = np.iinfo(req)
            raise InvalidDataError(
                f"Segmentation values in [{lo}, {hi}] do not fit {req} ([{info.min}, {info.max}]). "
                "Pass a wider dtype, or dtype=None to choose one."
            )
        if req.kind == "b" and hi > 1:
            raise InvalidDataError(f"Segmentation values up to {hi} do not fit in the requested dtype bool.")
        if req.kind not in "buif":
            raise InvalidDataError(f"Segmentations cannot be stored as {req}.")
        return req
    for candidate in _UNSIGNED:
        if candidate.itemsize >= floor_dt.itemsize and hi <= np.iinfo(candidate).max:
            return candidate
    raise InvalidDataError(f"Segmentation values must fit in uint64, found maximum {hi}.")


# --------------------------------------------------------------------------------------------
# store I/O
# --------------------------------------------------------------------------------------------


def _where(store: Any) -> str:
    path = getattr(store, "path", None)
    return str(path) if path else str(store)


def _put(store: Any, key: str, data: bytes) -> None:
    store[key] = data  # both zarr majors' CopickStore take zarr 2 mapping writes


def _write_level(
    store: Any, key: str, data: np.ndarray, chunks: Sequence[int], compressor: dict[str, Any] | None
) -> None:
    from copick.formats import zarr_store

    meta = array_metadata(data.shape, data.dtype, chunks, compressor)
    _put(store, f"{key}/.zarray", zarr_store.zarr2_json(meta))
    chunk = _padded_single_chunk(data, meta)
    if chunk is None:
        zarr_store.write_level(store, key, data)
    else:
        _put(store, "/".join([key, *"0" * data.ndim]), chunk)


def _padded_single_chunk(data: np.ndarray, meta: dict[str, Any]) -> bytes | None:
    """The encoded chunk of a level that fits in one chunk, padding spliced in (``blosc_frames``).

    A small level inside a 256³ chunk would otherwise cost 64 MiB of padding work; the spliced
    frame decodes to the same bytes (and is byte-identical to single-threaded Blosc's output).
    ``None`` when the level spans several chunks or the codec is not Blosc: zarr writes those.
    """
    from copick.formats.blosc_frames import encode_padded

    chunks = meta["chunks"]
    if data.ndim == 0 or data.dtype.kind not in "biuf" or any(n > c for n, c in zip(data.shape, chunks)):
        return None
    if meta["compressor"] is None or meta["compressor"].get("id") != "blosc":
        return None
    prefix = np.zeros((data.shape[0], *chunks[1:]), dtype=data.dtype)
    prefix[tuple(slice(0, n) for n in data.shape)] = data
    return encode_padded(meta["compressor"], prefix, math.prod(chunks) * data.dtype.itemsize)


def write_multiscale(
    store: Any,
    levels: Iterable[Any],
    voxel_size: float | Sequence[float],
    *,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    dtype: Any = None,
    channel_axis: bool = False,
    metadata: dict[str, Any] | None = None,
    compressor: dict[str, Any] | None = None,
) -> list[tuple[int, ...]]:
    """Replace the content of ``store`` with an OME-NGFF image; return the level shapes.

    ``levels`` may be a list or an iterator (e.g. ``iter_volume_pyramid``): each level is written
    and released before the next one is asked for. ``dtype`` casts every level; ``chunks`` gets
    leading 1s for extra leading axes. The metadata is written last (see the module docstring).
    """
    from copick.formats.zarr_store import clear, zarr2_json

    clear(store)
    shapes: list[tuple[int, ...]] = []
    for i, level in enumerate(levels):
        arr = np.asarray(level)
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        if shapes and arr.ndim != len(shapes[0]):
            raise InvalidDataError(f"level {i} has {arr.ndim} axes, level 0 has {len(shapes[0])}")
        _write_level(store, str(i), arr, chunks, compressor)
        shapes.append(tuple(arr.shape))
        del arr, level
    if not shapes:
        raise ValueError("write_multiscale needs at least one level")
    # .zgroup is the completion marker that open_level checks: it goes last.
    _put(store, ".zattrs", zarr2_json(multiscale_attrs(voxel_size, len(shapes), channel_axis, metadata)))
    _put(store, ".zgroup", zarr2_json({"zarr_format": 2}))
    return shapes


def open_level(store: Any, level: str | int = "0", writable: bool = False) -> Any:
    """The zarr array of one level; ``MissingLevelError`` (a ``KeyError``) names what is missing."""
    import zarr

    from copick.formats.zarr_store import group_not_found

    key = str(level)
    where = _where(store)
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
            check_fits_in_memory(shape, local.dtype, f"{_where(store)}/{level}")
            data = read_local(local, sel, shape)
            if data is not None:
                return data
    arr = open_level(store, level)
    sel, shape = region_selection(arr.shape, slices)
    check_fits_in_memory(shape, arr.dtype, f"{_where(store)}/{level}")
    return np.asarray(arr[sel])


def write_region(store: Any, level: str | int, data: Any, slices: Any = None) -> None:
    """Write ``data`` into a region of an existing level (``set_region``)."""
    arr = open_level(store, level, writable=True)
    sel, shape = region_selection(arr.shape, slices)
    data = np.asarray(data)
    if data.shape != shape:
        raise InvalidDataError(
            f"{_where(store)}/{level}: data of shape {data.shape} does not match the region {shape}"
        )
    arr[sel] = data
