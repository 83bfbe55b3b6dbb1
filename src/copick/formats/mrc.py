"""MRC volumes (``mrcfile``): checked reading (truncation, voxel size, anisotropy), float32/label writing."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.common import as_3d, ensure_parent, native, require_file, short_float

_log = logging.getLogger(__name__)

# Largest integer float32 holds exactly.
FLOAT32_EXACT = 2**24


def read_mrc_volume(path: str) -> tuple[np.ndarray, float | None]:
    """The volume (z, y, x, native byte order) and the header voxel size in Angstrom (None when unset).

    Read permissively (files of other programs often have small header flaws), but a file shorter
    than its header announces, or without a readable header, is a ``CorruptFileError``.
    """
    import mrcfile

    path = require_file(path, "MRC file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with mrcfile.open(path, mode="r", permissive=True) as mrc:
                data = mrc.data
                voxel = mrc.voxel_size
                vx, vy, vz = float(voxel.x), float(voxel.y), float(voxel.z)
                shape = (int(mrc.header.nz), int(mrc.header.ny), int(mrc.header.nx))
        except (ValueError, OSError, EOFError) as err:
            raise CorruptFileError(f"{path}: not a readable MRC file: {err}") from None
    problems = "; ".join(str(w.message) for w in caught)
    if data is None:
        raise CorruptFileError(
            f"{path}: truncated or damaged MRC file: header says {shape[2]}x{shape[1]}x{shape[0]} voxels "
            f"but the data cannot be read ({problems or 'no data block'})."
        )
    if problems:
        _log.warning(f"{path}: MRC header problems (read anyway): {problems}")
    if data.ndim == 2:
        data = data[np.newaxis]
    data = native(as_3d(data, path))
    if vx <= 0:
        return data, None
    if any(v > 0 and abs(v - vx) > 1e-3 * vx for v in (vy, vz)):
        _log.warning(f"{path}: anisotropic voxel size x={vx:g}, y={vy:g}, z={vz:g} Angstrom; using x.")
    return data, short_float(vx)


def read_mrc_header_voxel_size(path: str) -> float | None:
    """The header voxel size (x) of an MRC file without reading its data; None when unset."""
    import mrcfile

    path = require_file(path, "MRC file")
    try:
        with mrcfile.open(path, mode="r", permissive=True, header_only=True) as mrc:
            vx = float(mrc.voxel_size.x)
    except (ValueError, OSError, EOFError) as err:
        raise CorruptFileError(f"{path}: not a readable MRC file: {err}") from None
    return short_float(vx) if vx > 0 else None


def segmentation_mrc_dtype(data: np.ndarray, source: str = "") -> np.dtype:
    """int16 if labels fit, else uint16, else float32 (exact below 2^24, with a warning), else an error."""
    if data.size == 0:
        return np.dtype(np.int16)
    lo, hi = data.min(), data.max()
    if lo >= -(2**15) and hi < 2**15:
        return np.dtype(np.int16)
    if lo >= 0 and hi < 2**16:
        return np.dtype(np.uint16)
    if lo >= -FLOAT32_EXACT and hi <= FLOAT32_EXACT:
        _log.warning(f"{source}: labels up to {hi} do not fit 16 bits; written to MRC as float32 (exact).")
        return np.dtype(np.float32)
    raise InvalidDataError(
        f"{source}: labels up to {hi} cannot be stored exactly in an MRC file "
        f"(float32 is exact only up to 2^24)."
    )


def write_mrc_volume(
    path: str, data: Any, voxel_size: float, dtype: Any = np.float32, overwrite: bool = True
) -> str:
    """Write a (z, y, x) volume as MRC with an isotropic voxel size (Angstrom); returns the path."""
    import mrcfile

    arr = as_3d(np.asarray(data), path)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path}: output file exists.")
    ensure_parent(path)
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(np.ascontiguousarray(arr))
        mrc.voxel_size = float(voxel_size)
    return path
