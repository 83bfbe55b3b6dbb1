"""OME-NGFF 0.4 multiscale images exactly as copick 1.31 writes them (FORMAT.md sections 7-10).

Pyramids are computed blockwise with numpy (``copick.formats.pyramids``); ``write_multiscale``
replaces a store's content with zarr v2 arrays ``"0"``, ``"1"``, ... and the OME ``multiscales``
metadata; ``read_region`` (``copick.formats.ome_regions``) reads a region of one level, touching only
the chunks it overlaps.

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
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.label_dtypes import choose_segmentation_dtype
from copick.formats.ome_regions import (
    available_memory,
    check_fits_in_memory,
    open_level,
    read_region,
    region_nbytes,
    region_selection,
    write_region,
)
from copick.formats.pyramids import (
    downscale_mean,
    downscale_nearest,
    half_size_nearest,
    iter_segmentation_pyramid,
    iter_volume_pyramid,
    nearest_indices,
    segmentation_pyramid,
    volume_pyramid,
)

# The pyramid, label-dtype and region functions live in their own modules; callers reach them through
# this module, the one entry point of copick's OME-Zarr images.
__all__ = [
    "available_memory",
    "check_fits_in_memory",
    "choose_segmentation_dtype",
    "downscale_mean",
    "downscale_nearest",
    "half_size_nearest",
    "iter_segmentation_pyramid",
    "iter_volume_pyramid",
    "nearest_indices",
    "open_level",
    "read_region",
    "region_nbytes",
    "region_selection",
    "segmentation_pyramid",
    "volume_pyramid",
    "write_region",
]

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
# store I/O
# --------------------------------------------------------------------------------------------


def _put(store: Any, key: str, data: bytes) -> None:
    from copick.formats.zarr_store import writable_local_root

    root = writable_local_root(store)
    if root is None:
        store[key] = data  # both zarr majors' CopickStore take zarr 2 mapping writes
        return
    # A local folder: the file itself (zarr 3 would take a trip through its event loop per key).
    from copick.formats.chunk_writer import write_file

    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_file(path, [data])


def _write_level(
    store: Any, key: str, data: np.ndarray, chunks: Sequence[int], compressor: dict[str, Any] | None
) -> None:
    from copick.formats import chunk_writer, zarr_store

    meta = array_metadata(data.shape, data.dtype, chunks, compressor)
    _put(store, f"{key}/.zarray", zarr_store.zarr2_json(meta))
    root = zarr_store.writable_local_root(store)
    if root is not None and chunk_writer.write_level(os.path.join(root, key), data, meta):
        return  # local disks: chunk files written directly, compressed piece by piece
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
