"""Shared pieces of the import/export formats: their errors, extension tables, input checks, axis options."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from copick.errors import CopickError, CorruptFileError, InvalidDataError

VOLUME_EXTENSIONS: dict[str, str] = {
    "mrc": "mrc",
    "map": "mrc",
    "zarr": "zarr",
    "tif": "tiff",
    "tiff": "tiff",
    "em": "em",
}
PICKS_EXTENSIONS: dict[str, str] = {"em": "em", "star": "star", "tbl": "dynamo", "csv": "csv"}
VOLUME_FORMATS = ("mrc", "zarr", "tiff", "em")
PICKS_FORMATS = ("em", "star", "dynamo", "csv")
# File extension written for each export format (copick 1.31 lacked "em" and wrote ".zarr" for it).
EXPORT_EXTENSIONS: dict[str, str] = {
    "mrc": "mrc",
    "tiff": "tiff",
    "zarr": "zarr",
    "em": "em",
    "star": "star",
    "dynamo": "tbl",
    "csv": "csv",
}


class UnknownFormatError(CopickError, ValueError):
    """A file type that cannot be guessed from the extension, or is not supported."""


class MissingVoxelSizeError(InvalidDataError):
    """A volume or pick file whose voxel size is neither in the file nor given."""


class InputFileError(CopickError, FileNotFoundError):
    """An input file that does not exist or is not a regular file."""


def _last_extension(path: str) -> str:
    name = os.path.basename(os.path.normpath(str(path)))
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def get_volume_format_from_extension(path: str) -> str | None:
    """``mrc`` (.mrc/.map), ``zarr``, ``tiff`` (.tif/.tiff) or ``em`` from the last extension, else None."""
    return VOLUME_EXTENSIONS.get(_last_extension(path))


def get_picks_format_from_extension(path: str) -> str | None:
    """``em``, ``star``, ``dynamo`` (.tbl) or ``csv`` from the last extension, else ``None``."""
    return PICKS_EXTENSIONS.get(_last_extension(path))


def resolve_volume_format(path: str, file_type: str | None) -> str:
    """The volume format to read ``path`` with: ``file_type`` if given, else guessed from the extension."""
    if file_type:
        kind = file_type.lower()
        kind = {"map": "mrc", "tif": "tiff", "rec": "mrc"}.get(kind, kind)
        if kind not in VOLUME_FORMATS:
            raise UnknownFormatError(
                f"{path}: unknown volume file type {file_type!r} (one of {', '.join(VOLUME_FORMATS)})."
            )
        return kind
    kind = get_volume_format_from_extension(path)
    if kind is None:
        raise UnknownFormatError(
            f"{path}: cannot tell the volume format from the extension "
            f"(.mrc .map .zarr .tif .tiff .em); give the file type explicitly (e.g. --file-type mrc)."
        )
    return kind


def resolve_picks_format(path: str, file_type: str | None) -> str:
    """The picks format to read ``path`` with: ``file_type`` if given, else guessed from the extension."""
    if file_type:
        kind = {"tbl": "dynamo", "relion": "star"}.get(file_type.lower(), file_type.lower())
        if kind not in PICKS_FORMATS:
            raise UnknownFormatError(
                f"{path}: unknown picks file type {file_type!r} (one of {', '.join(PICKS_FORMATS)})."
            )
        return kind
    kind = get_picks_format_from_extension(path)
    if kind is None:
        raise UnknownFormatError(
            f"{path}: cannot tell the picks format from the extension (.em .star .tbl .csv); "
            "give the file type explicitly (e.g. --file-type star)."
        )
    return kind


def require_file(path: str, what: str = "input file") -> str:
    """``path`` as a string; ``InputFileError`` unless it is an existing regular file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFileError(f"{path}: {what} not found.")
    if not os.path.isfile(path):
        raise InputFileError(f"{path}: {what} is not a regular file.")
    return path


def require_size(path: str, needed: int, what: str) -> None:
    """``CorruptFileError`` when the file is shorter than ``needed`` bytes (a truncated file)."""
    size = os.path.getsize(path)
    if size < needed:
        raise CorruptFileError(
            f"{path}: truncated {what}: the header announces {needed} bytes, the file has {size}."
        )


def positive_voxel_size(value: Any, source: str, what: str = "voxel size") -> float:
    """A voxel size as a positive float; anything else is an ``InvalidDataError`` naming ``source``."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        raise InvalidDataError(f"{source}: {what} must be a number, got {value!r}.") from None
    if not np.isfinite(size) or size <= 0:
        raise InvalidDataError(f"{source}: {what} must be a positive number, got {value!r}.")
    return size


def short_float(value: float) -> float:
    """A float32 header value as the shortest decimal that reads back to it (10.012, not 10.01200008)."""
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def parse_axes(value: Any, name: str) -> tuple[int, ...] | None:
    """A ``flip``/``transpose`` option (``"2,1,0"``, a sequence of ints, or None/"") as a tuple of ints."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, (int, np.integer)):
        parts = [value]
    else:
        parts = list(value)
    try:
        return tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        raise InvalidDataError(
            f"{name} must be comma-separated axis indices like '2,1,0', got {value!r}."
        ) from None


def apply_flip_transpose(
    data: np.ndarray, flip: Any = None, transpose: Any = None, channel_axis: bool = False, source: str = ""
) -> np.ndarray:
    """Reorder (``transpose``, a target axis order) then reverse (``flip``) the spatial axes of ``data``.

    Axes are numbered in ZYX array order (0 = z); with ``channel_axis`` the first axis is a channel
    axis and stays in place. Bad axis lists are an ``InvalidDataError``.
    """
    order = parse_axes(transpose, "transpose")
    flips = parse_axes(flip, "flip")
    offset = 1 if channel_axis else 0
    nspatial = data.ndim - offset
    where = f"{source}: " if source else ""
    if order is not None:
        if sorted(order) != list(range(nspatial)):
            raise InvalidDataError(
                f"{where}transpose {order} is not an order of the {nspatial} axes (e.g. 2,1,0)."
            )
        data = np.transpose(data, tuple(range(offset)) + tuple(a + offset for a in order))
    if flips is not None:
        bad = [a for a in flips if not 0 <= a < nspatial]
        if bad:
            raise InvalidDataError(f"{where}flip axes {bad} out of range 0..{nspatial - 1} (0 = z, 2 = x).")
        data = np.flip(data, axis=tuple(sorted({a + offset for a in flips})))
    return data


def as_3d(data: np.ndarray, source: str) -> np.ndarray:
    """``data`` if it is a 3-D numeric array, else an ``InvalidDataError`` naming ``source``."""
    if data.ndim != 3:
        raise InvalidDataError(f"{source}: expected a 3-D volume (z, y, x), found shape {tuple(data.shape)}.")
    if data.dtype.kind not in "buif":
        raise InvalidDataError(f"{source}: volume data must be numbers, found dtype {data.dtype}.")
    return data


def native(data: np.ndarray) -> np.ndarray:
    """``data`` in native byte order (big-endian file data is swapped)."""
    return data if data.dtype.isnative else data.astype(data.dtype.newbyteorder("="))


def ensure_parent(path: str) -> None:
    """Create the folder ``path`` will be written into."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
