"""Zarr volumes as import or export files: an OME-NGFF image, a plain group (first array) or a bare array."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.common import InputFileError, native, short_float


def _open(path: str) -> Any:
    import zarr

    if not os.path.exists(path):
        raise InputFileError(f"{path}: zarr store not found.")
    try:
        return zarr.open(store=path, mode="r")
    except Exception as err:  # zarr raises many types for unreadable metadata
        raise CorruptFileError(f"{path}: not a readable zarr store: {err}") from None


def _level_scale(attrs: dict[str, Any], level: str, path: str) -> float | None:
    from copick.formats.ome import voxel_size_from_attrs

    entry = attrs["multiscales"][0]
    base = voxel_size_from_attrs(attrs, path)
    datasets = entry.get("datasets") or []
    ds = next((d for d in datasets if str(d.get("path")) == level), None)
    if ds is None:
        return None
    try:
        scale = next(t["scale"] for t in ds["coordinateTransformations"] if t.get("type") == "scale")
        first = datasets[0]["coordinateTransformations"][0]["scale"]
        return base * float(scale[-3]) / float(first[-3])
    except (KeyError, IndexError, TypeError, ValueError, StopIteration, ZeroDivisionError):
        index = datasets.index(ds)
        return base * 2**index


def read_zarr_volume(
    path: str, level: int | str = 0, channel_axis: bool = False
) -> tuple[np.ndarray, float | None]:
    """The array at ``level`` of an OME-Zarr image (voxel size from its scale, Angstrom), else the first
    array of a plain group, else a bare array (no voxel size). ``channel_axis`` expects (c, z, y, x)."""
    import zarr

    path = os.fspath(path)
    node = _open(path)
    voxel: float | None = None
    if isinstance(node, zarr.Group):
        attrs = dict(node.attrs)
        key = str(level)
        if "multiscales" in attrs:
            multiscale = attrs["multiscales"][0] if attrs["multiscales"] else {}
            paths = [str(d.get("path")) for d in multiscale.get("datasets") or []]
            if key not in paths:
                raise CorruptFileError(f"{path}: OME-Zarr image has no level {key!r} (levels: {paths}).")
            voxel = _level_scale(attrs, key, path)
            array = node[key]
        else:
            names = sorted(node.array_keys())
            if not names:
                raise CorruptFileError(f"{path}: zarr group holds no array.")
            array = node[key] if key in names else node[names[0]]
    else:
        array = node
    data = native(np.asarray(array[...]))
    expected = 4 if channel_axis else 3
    if data.ndim != expected:
        what = "(c, z, y, x)" if channel_axis else "(z, y, x)"
        raise InvalidDataError(f"{path}: expected a {expected}-D {what} array, found shape {data.shape}.")
    return data, (short_float(voxel) if voxel else None)


def write_zarr_volume(
    path: str,
    levels: Any,
    voxel_size: float | list[float],
    chunks: Any = None,
    channel_axis: bool = False,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Write ``levels`` (arrays, level 0 first) as an OME-Zarr 0.4 image at the local ``path`` (replaced)."""
    from copick.formats import ome
    from copick.formats.zarr_store import local_store

    os.makedirs(path, exist_ok=True)
    options: dict[str, Any] = {"channel_axis": channel_axis, "metadata": metadata}
    if chunks is not None:
        options["chunks"] = chunks
    ome.write_multiscale(local_store(path), levels, voxel_size, **options)
    return path
