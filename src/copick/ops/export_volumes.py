"""Exporting images: tomograms and segmentations as MRC, TIFF, EM (one level) or OME-Zarr."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from copick.formats.common import EXPORT_EXTENSIONS
from copick.ops.export_common import VOLUME_FORMATS, ExportError, check_format, is_dir_target

_log = logging.getLogger("copick.ops.export")


def _level_voxel_size(entity: Any, level: int) -> float:
    from copick.formats import ome
    from copick.util.ome import get_voxel_size_from_zarr

    try:
        import zarr

        attrs = zarr.open_group(store=entity.zarr(), mode="r").attrs.asdict()
        datasets = attrs["multiscales"][0]["datasets"]
        ds = next(d for d in datasets if str(d["path"]) == str(level))
        scale = next(t["scale"] for t in ds["coordinateTransformations"] if t.get("type") == "scale")
        base = ome.voxel_size_from_attrs(attrs)
        first = datasets[0]["coordinateTransformations"][0]["scale"]
        return base * float(scale[-3]) / float(first[-3])
    except (KeyError, IndexError, StopIteration, TypeError, ValueError):
        return float(get_voxel_size_from_zarr(entity.zarr())) * 2 ** int(level)


def _all_levels(entity: Any) -> tuple[list[str], list[np.ndarray], list[float], tuple[int, ...]]:
    import zarr

    group = zarr.open_group(store=entity.zarr(), mode="r")
    datasets = group.attrs.asdict()["multiscales"][0]["datasets"]
    keys = [str(d["path"]) for d in datasets]
    arrays = [np.asarray(group[k][...]) for k in keys]
    return keys, arrays, [_level_voxel_size(entity, int(k)) for k in keys], tuple(group[keys[0]].chunks)


def _write_zarr(entity: Any, path: str, level: int, copy_all_levels: bool) -> str:
    from copick.formats import ome
    from copick.formats.zarr_files import write_zarr_volume

    if copy_all_levels:
        _, arrays, sizes, chunks = _all_levels(entity)
    else:
        arr = ome.open_level(entity.zarr(), str(level))
        arrays, sizes, chunks = [np.asarray(arr[...])], [_level_voxel_size(entity, level)], tuple(arr.chunks)
    return write_zarr_volume(path, arrays, sizes, chunks=chunks, channel_axis=arrays[0].ndim == 4)


def _volume_path(output_path: str, name: str, fmt: str) -> str:
    if is_dir_target(output_path):
        return os.path.join(output_path, f"{name}.{EXPORT_EXTENSIONS[fmt]}")
    return output_path


def export_tomogram(
    tomogram: Any,
    output_path: str,
    output_format: str,
    level: int = 0,
    compression: str | None = None,
    copy_all_levels: bool = True,
    log: bool = False,
) -> str:
    """Write one level of a tomogram as MRC/TIFF/EM (float32, voxel size ``vs * 2^level``) or the image as
    OME-Zarr (all levels, or only ``level`` with ``copy_all_levels=False``). Returns the path."""
    fmt = check_format(output_format, VOLUME_FORMATS, "tomogram")
    path = _volume_path(output_path, tomogram.tomo_type, fmt)
    if fmt == "zarr":
        written = _write_zarr(tomogram, path, level, copy_all_levels)
    else:
        data = np.asarray(tomogram.numpy(str(level)), dtype=np.float32)
        vs = _level_voxel_size(tomogram, level)
        written = _write_volume(path, fmt, data, vs, compression, np.float32)
    if log:
        _log.info(f"Exported tomogram {tomogram.tomo_type} (level {level}) to {written}")
    return written


def _write_volume(
    path: str, fmt: str, data: np.ndarray, vs: float, compression: str | None, dtype: Any
) -> str:
    if fmt == "mrc":
        from copick.formats.mrc import write_mrc_volume

        return write_mrc_volume(path, data, vs, dtype=dtype)
    if fmt == "tiff":
        from copick.formats.tiff import write_tiff_volume

        return write_tiff_volume(path, data, vs, compression=compression)
    from copick.formats.em import write_em_volume

    return write_em_volume(path, data, dtype=dtype)


def _segmentation_dtype(data: np.ndarray, fmt: str, path: str) -> Any:
    from copick.formats.mrc import FLOAT32_EXACT, segmentation_mrc_dtype

    if fmt == "mrc":
        return segmentation_mrc_dtype(data, path)
    if fmt == "em":
        if data.size and data.max() > FLOAT32_EXACT:
            return np.int32
        return np.float32
    return None


def segmentation_file_name(
    segmentation: Any, channel: str | None = None, with_voxel_size: bool = False
) -> str:
    """``<name>_<user>_<session>[_label|_instance]`` (``<vs>_`` first when spacings would collide)."""
    name = f"{segmentation.name}_{segmentation.user_id}_{segmentation.session_id}"
    if with_voxel_size:
        name = f"{segmentation.voxel_size:.3f}_{name}"
    return f"{name}_{channel}" if channel else name


def export_segmentation(
    segmentation: Any,
    output_path: str,
    output_format: str,
    level: int = 0,
    compression: str | None = None,
    copy_all_levels: bool = True,
    log: bool = False,
    channel: str | None = None,
) -> str:
    """Write a segmentation level as MRC (int16/uint16/float32), EM (float32/int32), TIFF or OME-Zarr.

    Panoptic segmentations export one ``channel`` (``label``/``instance``) to MRC/EM; TIFF and Zarr
    can hold both channels. Returns the path.
    """
    fmt = check_format(output_format, VOLUME_FORMATS, "segmentation")
    if channel is not None and channel not in ("label", "instance"):
        raise ExportError(f"channel must be 'label' or 'instance', got {channel!r}.")
    if channel is not None and not segmentation.is_panoptic:
        raise ExportError(
            f"channel is only valid for panoptic segmentations, {segmentation.name} is not one."
        )
    if segmentation.is_panoptic and channel is None and fmt in ("mrc", "em"):
        raise ExportError(f"A panoptic segmentation has two channels; choose one for {fmt} (--channel).")
    path = _volume_path(output_path, segmentation_file_name(segmentation, channel), fmt)
    if fmt == "zarr" and channel is None:
        written = _write_zarr(segmentation, path, level, copy_all_levels)
    else:
        data = np.asarray(segmentation.numpy(str(level), channel=channel))
        vs = _level_voxel_size(segmentation, level)
        if fmt == "zarr":
            from copick.formats.zarr_files import write_zarr_volume

            written = write_zarr_volume(path, [data], vs)
        else:
            written = _write_volume(path, fmt, data, vs, compression, _segmentation_dtype(data, fmt, path))
    if log:
        _log.info(f"Exported segmentation {segmentation.name} (level {level}) to {written}")
    return written
