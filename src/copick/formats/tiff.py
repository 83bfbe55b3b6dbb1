"""TIFF volumes (``tifffile``): page stacks read as (z, y, x); ImageJ-style writing with the voxel size."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.common import as_3d, ensure_parent, native, require_file

COMPRESSIONS = ("lzw", "zlib", "jpeg", "none")
_IMAGEJ_DTYPES = (np.uint8, np.int16, np.uint16, np.float32)


def read_tiff_volume(path: str, channel_axis: bool = False) -> np.ndarray:
    """The (z, y, x) page stack of a TIFF file; with ``channel_axis`` a (c, z, y, x) hyperstack.

    TIFF carries no voxel size copick trusts: callers must supply one. ImageJ hyperstacks stored
    z-major (``ZCYX``) are returned channel first.
    """
    import tifffile

    path = require_file(path, "TIFF file")
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            axes = series.axes
            data = series.asarray()
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, EOFError) as err:
        raise CorruptFileError(f"{path}: not a readable TIFF file: {err}") from None
    data = native(np.asarray(data))
    if not channel_axis:
        while data.ndim > 3 and data.shape[0] == 1:  # singleton time/channel axes
            data = data[0]
        return as_3d(data, path)
    if data.ndim != 4:
        raise InvalidDataError(
            f"{path}: expected a 2-channel (c, z, y, x) TIFF stack, found shape {data.shape}."
        )
    if "C" in axes and axes.index("C") == 1 and data.shape[0] != 2:
        data = np.moveaxis(data, 1, 0)
    if data.shape[0] != 2:
        raise InvalidDataError(f"{path}: expected 2 channels (labels, instances), found shape {data.shape}.")
    return data


def _compression_args(compression: str | None, path: str) -> dict[str, Any]:
    if compression is None or compression == "none":
        return {}
    if compression not in COMPRESSIONS:
        raise InvalidDataError(
            f"{path}: unknown TIFF compression {compression!r} (one of {', '.join(COMPRESSIONS)})."
        )
    if compression in ("lzw", "jpeg"):
        try:
            import imagecodecs  # noqa: F401
        except ImportError:
            raise InvalidDataError(
                f"{path}: TIFF compression {compression!r} needs the 'imagecodecs' package "
                "(pip install imagecodecs); 'zlib' and 'none' work without it."
            ) from None
    return {"compression": compression}


def write_tiff_volume(
    path: str,
    data: Any,
    voxel_size: float | None = None,
    compression: str | None = None,
    overwrite: bool = True,
) -> str:
    """Write a (z, y, x) volume as an ImageJ TIFF: resolution 1/voxel size, ``spacing`` and ``unit``
    (without ``voxel_size``: no resolution, as copick 1.31's ``write_tiff_volume`` writes).

    ImageJ holds uint8, int16, uint16 and float32; other integer types are written as uint16 or
    float32 when their values allow it. A 4-D (c, z, y, x) array is written as a plain (non-ImageJ)
    TIFF that ``read_tiff_volume(..., channel_axis=True)`` reads back.
    """
    import tifffile

    arr = np.asarray(data)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path}: output file exists.")
    options = _compression_args(compression, path)
    ensure_parent(path)
    if arr.ndim == 4:
        tifffile.imwrite(path, arr, photometric="minisblack", **options)
        return path
    arr = as_3d(arr, path)
    if arr.dtype.type not in _IMAGEJ_DTYPES:
        arr = arr.astype(_imagej_dtype(arr, path), copy=False)
    if compression == "jpeg" and arr.dtype != np.uint8:
        raise InvalidDataError(f"{path}: JPEG compression needs 8-bit data, the volume is {arr.dtype}.")
    if voxel_size is None:
        tifffile.imwrite(path, arr, imagej=True, metadata={"axes": "ZYX"}, **options)
        return path
    vs = float(voxel_size)
    tifffile.imwrite(
        path,
        arr,
        imagej=True,
        resolution=(1.0 / vs, 1.0 / vs),
        metadata={"spacing": vs, "unit": "angstrom", "axes": "ZYX"},
        **options,
    )
    return path


def _imagej_dtype(arr: np.ndarray, path: str) -> Any:
    if arr.dtype.kind == "b":
        return np.uint8
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = arr.min(), arr.max()
        if lo >= 0 and hi < 2**16:
            return np.uint16
        if lo >= -(2**24) and hi <= 2**24:
            return np.float32
        raise InvalidDataError(f"{path}: values up to {hi} do not fit an ImageJ TIFF (uint16 or float32).")
    return np.float32
