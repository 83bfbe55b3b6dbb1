"""One entry point for volume files: read MRC/TIFF/EM/Zarr into (z, y, x) arrays with a checked voxel size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copick.errors import InvalidDataError
from copick.formats.common import MissingVoxelSizeError, positive_voxel_size, resolve_volume_format


@dataclass
class VolumeData:
    """A volume read from a file: ZYX (or CZYX) data, its voxel size in Angstrom, its origin."""

    data: np.ndarray
    voxel_size: float
    source: str
    file_type: str


def read_volume(
    path: str,
    file_type: str | None = None,
    voxel_size: float | None = None,
    channel_axis: bool = False,
    level: int | str = 0,
) -> VolumeData:
    """Read a volume file; ``voxel_size`` overrides the file's. TIFF and EM carry none, so it is required.

    A missing voxel size is reported before any data is read; corrupt files raise ``CorruptFileError``.
    """
    path = str(path)
    kind = resolve_volume_format(path, file_type)
    given = positive_voxel_size(voxel_size, path) if voxel_size is not None else None
    if given is None and kind in ("tiff", "em"):
        raise MissingVoxelSizeError(
            f"{path}: Voxel spacing not provided and cannot be determined from {kind} file. "
            "Please specify --voxel-size."
        )
    if channel_axis and kind in ("mrc", "em"):
        raise InvalidDataError(
            f"{path}: {kind.upper()} files hold one channel; 2-channel (panoptic) "
            "volumes must be TIFF or Zarr."
        )
    found: float | None = None
    if kind == "mrc":
        from copick.formats.mrc import read_mrc_volume

        data, found = read_mrc_volume(path)
    elif kind == "tiff":
        from copick.formats.tiff import read_tiff_volume

        data = read_tiff_volume(path, channel_axis=channel_axis)
    elif kind == "em":
        from copick.formats.em import read_em_volume

        data = read_em_volume(path)
    else:
        from copick.formats.zarr_files import read_zarr_volume

        data, found = read_zarr_volume(path, level=level, channel_axis=channel_axis)
    size = given if given is not None else found
    if size is None:
        raise MissingVoxelSizeError(
            f"{path}: the file records no voxel size; give it explicitly (--voxel-size)."
        )
    return VolumeData(data, float(size), path, kind)
