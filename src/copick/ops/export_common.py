"""What the export modules share: the error type, the format names and the argument checks."""

from __future__ import annotations

import os
from typing import Any

from copick.errors import CopickError

PICKS_FORMATS = ("csv", "star", "em", "dynamo")
VOLUME_FORMATS = ("mrc", "tiff", "zarr", "em")


class ExportError(CopickError, ValueError):
    """An export that cannot be done as asked (missing voxel size, index map, centre...)."""


def open_root(config: Any) -> Any:
    """The project of ``config``: a config path is opened, a root is used as is."""
    if isinstance(config, (str, os.PathLike)):
        import copick

        return copick.from_file(str(config))
    return config


def check_format(output_format: str | None, allowed: tuple[str, ...], what: str) -> str:
    """The canonical name of ``output_format`` (``tif`` -> ``tiff``...); others are refused with 1.31's
    phrase "Unsupported output format"."""
    fmt = {"tif": "tiff", "tbl": "dynamo", "relion": "star"}.get(str(output_format).lower(), output_format)
    if fmt not in allowed:
        raise ExportError(
            f"Unsupported output format: {output_format} (the {what} formats are {', '.join(allowed)})."
        )
    return fmt


def is_dir_target(path: str) -> bool:
    """Whether ``path`` names a folder to write into (trailing separator, or an existing non-zarr folder)."""
    return str(path).endswith(("/", os.sep)) or (os.path.isdir(path) and not str(path).endswith(".zarr"))
