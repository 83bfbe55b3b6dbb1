"""OME-Zarr helpers that plugins import from ``copick.util.ome`` (thin wrappers over ``copick.formats.ome``).

A *pyramid* here is what copick 1.31's helpers pass around: a dict ``{voxel_size: array}`` in level
order, level ``i`` keyed by the base voxel size doubled ``i`` times, e.g.
``write_ome_zarr_3d(tomo.zarr(), volume_pyramid(vol, 10.0, 3), chunk_size=(64, 64, 64))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from copick.formats import ome as _ome


def volume_pyramid(
    image: Any, voxel_size: float, levels: int = 3, dtype: Any = np.float32
) -> dict[float, Any]:
    """2x2x2 block-mean pyramid of a tomogram or density map (level 0 cast to ``dtype``)."""
    arrays = _ome.volume_pyramid(image, levels, dtype)
    return dict(zip(_ome.level_scales(voxel_size, len(arrays)), arrays))


def segmentation_pyramid(
    image: Any, voxel_size: float, levels: int = 1, channel_axis: bool | None = None
) -> dict[float, Any]:
    """Nearest-neighbour pyramid of a label volume (dtype kept); 4-D input is panoptic ``(c, z, y, x)``."""
    data = np.asarray(image)
    if channel_axis is None:
        channel_axis = data.ndim == 4
    arrays = _ome.segmentation_pyramid(data, levels, channel_axis)
    return dict(zip(_ome.level_scales(voxel_size, len(arrays)), arrays))


def _split(
    pyramid: Mapping[float, Any] | Sequence[Any], voxel_size: float | None
) -> tuple[list[float], list[Any]]:
    if isinstance(pyramid, Mapping):
        return [float(v) for v in pyramid], list(pyramid.values())
    arrays = list(pyramid)
    if voxel_size is None:
        raise ValueError("voxel_size is needed when the pyramid is a list of arrays")
    return _ome.level_scales(voxel_size, len(arrays)), arrays


def ome_metadata(
    pyramid: Mapping[float, Any] | Sequence[float] | float,
    n_levels: int | None = None,
    channel_axis: bool = False,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``.zattrs`` ``{"multiscales": [...]}`` of a pyramid dict, a list of voxel sizes or a base size."""
    if isinstance(pyramid, Mapping):
        scales: float | list[float] = [float(v) for v in pyramid]
        n = len(pyramid)
    elif isinstance(pyramid, (int, float, np.integer, np.floating)):
        scales, n = float(pyramid), n_levels or 1
    else:
        scales = [float(v) for v in pyramid]
        n = len(scales)
    return _ome.multiscale_attrs(scales, n, channel_axis, metadata)


def _as_store(store: Any) -> Any:
    """Accept a store, or a zarr group/array opened at the root of one."""
    inner = getattr(store, "store_path", None)
    if inner is not None:
        if inner.path:
            raise ValueError(f"write the image at the root of a store, not inside {inner.path!r}")
        return inner.store
    return store


def write_ome_zarr_3d(
    store: Any,
    pyramid: Mapping[float, Any] | Sequence[Any],
    chunk_size: Sequence[int] = _ome.DEFAULT_CHUNKS,
    *,
    voxel_size: float | None = None,
    dtype: Any = None,
    channel_axis: bool | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Replace ``store``'s content by the pyramid as OME-NGFF 0.4 zarr v2 (copick 1.31's format)."""
    scales, arrays = _split(pyramid, voxel_size)
    if channel_axis is None:
        channel_axis = bool(arrays) and np.ndim(arrays[0]) == 4
    _ome.write_multiscale(
        _as_store(store),
        arrays,
        scales,
        chunks=chunk_size,
        dtype=dtype,
        channel_axis=channel_axis,
        metadata=metadata,
    )


def get_voxel_size_from_zarr(group: Any) -> float:
    """Voxel size (angstrom) recorded in an OME-Zarr image: a zarr group, a store, or its attrs dict."""
    if isinstance(group, Mapping) and "multiscales" in group:
        return _ome.voxel_size_from_attrs(dict(group))
    attrs = getattr(group, "attrs", None)
    if attrs is None:
        import zarr

        attrs = zarr.open_group(store=group, mode="r").attrs
    return _ome.voxel_size_from_attrs(attrs.asdict(), source=str(getattr(group, "store", group)))


def fits_in_memory(array: Any, slices: Any = None) -> bool:
    """Would ``array[slices]`` (a tuple of slices, default all) fit into the available memory?"""
    from copick.formats import ome_regions

    _, shape = ome_regions.region_selection(array.shape, slices)
    return ome_regions.region_nbytes(shape, array.dtype) <= ome_regions.available_memory()


__all__ = [
    "fits_in_memory",
    "get_voxel_size_from_zarr",
    "ome_metadata",
    "segmentation_pyramid",
    "volume_pyramid",
    "write_ome_zarr_3d",
]
