"""A registry of file-format handlers: volumes (mrc, tiff, em, zarr) and picks (csv, dynamo, em, star).

Each handler has ``format_name``, ``extensions``, ``capabilities`` (``{"read", "write"}``),
``read(path, **options)`` and ``write(path, data, **options)``. Volume handlers read
``(array (z, y, x), voxel_size or None)`` and write an array with ``voxel_size=``; picks handlers
read and write ``PickArrays`` (the CSV handler: ``{run_name: PickArrays}``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from copick.formats.common import (
    UnknownFormatError,
    get_picks_format_from_extension,
    get_volume_format_from_extension,
)

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class FormatHandler:
    """Reading and writing of one file format."""

    format_name: str
    kind: str
    extensions: tuple[str, ...]
    reader: Callable[..., Any] | None = None
    writer: Callable[..., Any] | None = None
    description: str = ""
    capabilities: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        caps = {"read"} if self.reader else set()
        if self.writer:
            caps.add("write")
        object.__setattr__(self, "capabilities", frozenset(caps))

    def can_read(self) -> bool:
        return "read" in self.capabilities

    def can_write(self) -> bool:
        return "write" in self.capabilities

    def read(self, path: str, **options: Any) -> Any:
        if self.reader is None:
            raise UnknownFormatError(f"{path}: the {self.format_name} {self.kind} format cannot be read.")
        return self.reader(path, **options)

    def write(self, path: str, data: Any, **options: Any) -> Any:
        if self.writer is None:
            raise UnknownFormatError(f"{path}: the {self.format_name} {self.kind} format cannot be written.")
        return self.writer(path, data, **options)


class FormatRegistry:
    """Handlers by kind (``volume``/``picks``) and name; lookup by name or by file extension."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], FormatHandler] = {}

    def register(self, handler: FormatHandler, replace: bool = False) -> None:
        key = (handler.kind, handler.format_name)
        if key in self._handlers and not replace:
            raise ValueError(f"A {handler.kind} handler named {handler.format_name!r} is already registered.")
        self._handlers[key] = handler

    def get(self, kind: str, format_name: str) -> FormatHandler:
        try:
            return self._handlers[(kind, format_name.lower())]
        except KeyError:
            names = ", ".join(self.formats(kind))
            raise UnknownFormatError(f"Unknown {kind} format {format_name!r} (known: {names}).") from None

    def get_volume_handler(self, format_name: str) -> FormatHandler:
        return self.get("volume", format_name)

    def get_picks_handler(self, format_name: str) -> FormatHandler:
        return self.get("picks", format_name)

    def formats(self, kind: str) -> list[str]:
        return sorted(name for k, name in self._handlers if k == kind)

    def volume_formats(self) -> list[str]:
        return self.formats("volume")

    def picks_formats(self) -> list[str]:
        return self.formats("picks")

    def for_path(self, path: str, kind: str) -> FormatHandler | None:
        """The handler of ``kind`` whose extensions match ``path`` (case-insensitive), else None."""
        name = os.path.basename(os.path.normpath(str(path))).lower()
        for (k, _), handler in self._handlers.items():
            if k == kind and any(name.endswith(ext) for ext in handler.extensions):
                return handler
        return None

    def handlers(self) -> list[FormatHandler]:
        return list(self._handlers.values())


# --------------------------------------------------------------------------------------------------
# the built-in handlers
# --------------------------------------------------------------------------------------------------


def _read_mrc(path: str, **_: Any) -> tuple[Any, float | None]:
    from copick.formats.mrc import read_mrc_volume

    return read_mrc_volume(path)


def _write_mrc(path: str, data: Any, voxel_size: float, **options: Any) -> str:
    from copick.formats.mrc import write_mrc_volume

    return write_mrc_volume(path, data, voxel_size, **options)


def _read_tiff(path: str, channel_axis: bool = False, **_: Any) -> tuple[Any, None]:
    from copick.formats.tiff import read_tiff_volume

    return read_tiff_volume(path, channel_axis=channel_axis), None


def _write_tiff(path: str, data: Any, voxel_size: float, compression: str | None = None, **_: Any) -> str:
    from copick.formats.tiff import write_tiff_volume

    return write_tiff_volume(path, data, voxel_size, compression=compression)


def _read_em(path: str, **_: Any) -> tuple[Any, None]:
    from copick.formats.em import read_em_volume

    return read_em_volume(path), None


def _write_em(path: str, data: Any, voxel_size: float | None = None, dtype: Any = None, **_: Any) -> str:
    from copick.formats.em import write_em_volume

    return write_em_volume(path, data, dtype=dtype)


def _read_zarr(path: str, level: int = 0, channel_axis: bool = False, **_: Any) -> tuple[Any, float | None]:
    from copick.formats.zarr_files import read_zarr_volume

    return read_zarr_volume(path, level=level, channel_axis=channel_axis)


def _write_zarr(path: str, data: Any, voxel_size: float, chunks: Any = None, **_: Any) -> str:
    from copick.formats.zarr_files import write_zarr_volume

    return write_zarr_volume(
        path, [data], voxel_size, chunks=chunks, channel_axis=getattr(data, "ndim", 3) == 4
    )


def _read_csv(path: str, **_: Any) -> Any:
    from copick.formats.picks_csv import read_picks_csv

    return read_picks_csv(path)


def _write_csv(path: str, data: Any, run_name: str = "", **_: Any) -> str:
    from copick.formats.picks_csv import write_picks_csv

    return write_picks_csv(path, data if isinstance(data, dict) else {run_name: data})


def _read_em_picks(path: str, voxel_size: float, **_: Any) -> Any:
    from copick.formats.em import read_em_motivelist

    return read_em_motivelist(path, voxel_size)


def _write_em_picks(path: str, data: Any, voxel_size: float, tomogram_index: int = 1, **_: Any) -> str:
    from copick.formats.em import write_em_motivelist

    return write_em_motivelist(path, data, voxel_size, tomogram_index)


def _read_dynamo(path: str, voxel_size: float, **_: Any) -> Any:
    from copick.formats.dynamo import read_dynamo_table

    return read_dynamo_table(path, voxel_size)


def _write_dynamo(path: str, data: Any, voxel_size: float, tomogram_index: int = 1, **_: Any) -> str:
    from copick.formats.dynamo import write_dynamo_table

    return write_dynamo_table(path, data, voxel_size, tomogram_index)


def _read_star(path: str, voxel_size: float | None = None, **options: Any) -> Any:
    from copick.formats import relion, relion_star

    particles, optics = relion_star.read_star_particles_with_optics(path)
    positions, _ = relion.relion_coordinates_to_angstrom(
        particles, optics=optics, voxel_size=voxel_size, source=path, **options
    )
    return relion.relion_particles_to_picks(particles, positions, path)


def _write_star(
    path: str,
    data: Any,
    run_name: str = "",
    voxel_size: float | None = None,
    tilt_series_pixel_size: float | None = None,
    center: Any = None,
    include_optics: bool = True,
    **_: Any,
) -> str:
    from copick.formats import relion_write as relion

    group = 1 if tilt_series_pixel_size is not None and include_optics else None
    options = relion.StarExportOptions(tilt_series_pixel_size, voxel_size, center, group)
    particles = relion.picks_to_relion_particles(data, run_name, options, source=path)
    optics = relion.optics_table([(1, run_name, tilt_series_pixel_size, None)]) if group else None
    return relion.write_star_particles(path, particles, optics)


def _builtin() -> FormatRegistry:
    registry = FormatRegistry()
    for handler in (
        FormatHandler("mrc", "volume", (".mrc", ".map", ".rec"), _read_mrc, _write_mrc, "MRC/CCP4 maps"),
        FormatHandler("tiff", "volume", (".tif", ".tiff"), _read_tiff, _write_tiff, "TIFF page stacks"),
        FormatHandler("em", "volume", (".em",), _read_em, _write_em, "TOM/Artiatomi EM volumes"),
        FormatHandler("zarr", "volume", (".zarr",), _read_zarr, _write_zarr, "OME-Zarr images"),
        FormatHandler("csv", "picks", (".csv",), _read_csv, _write_csv, "copick CSV"),
        FormatHandler("dynamo", "picks", (".tbl",), _read_dynamo, _write_dynamo, "Dynamo tables"),
        FormatHandler("em", "picks", (".em",), _read_em_picks, _write_em_picks, "TOM/Artiatomi motive lists"),
        FormatHandler("star", "picks", (".star",), _read_star, _write_star, "RELION STAR particles"),
    ):
        registry.register(handler)
    return registry


registry = _builtin()


def get_registry() -> FormatRegistry:
    """The process-wide registry of format handlers."""
    return registry


# --------------------------------------------------------------------------------------------------
# copick 1.31's helper names
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatCapabilities:
    """What a format handler supports (copick 1.31's description of a handler)."""

    can_read: bool = True
    can_write: bool = False
    supports_voxel_size: bool = False
    supports_transforms: bool = False
    supports_scores: bool = False
    supports_grouped_import: bool = False
    supports_grouped_export: bool = False


class VolumeFormatHandler(Protocol):
    """A volume format: ``read(path, **options)`` and ``write(path, data, **options)``."""

    def read(self, path: str, **options: Any) -> Any: ...

    def write(self, path: str, data: Any, **options: Any) -> Any: ...


class PicksFormatHandler(Protocol):
    """A picks format: single-run ``read``/``write`` and multi-run ``read_grouped``/``write_grouped``."""

    def read(self, path: str, **options: Any) -> Any: ...

    def write(self, path: str, data: Any, **options: Any) -> Any: ...

    def read_grouped(self, path: str, **options: Any) -> Any: ...

    def write_grouped(self, path: str, data: Any, **options: Any) -> Any: ...


def unpack_picks_data(data: tuple[np.ndarray, ...]) -> tuple[Any, Any, Any, Any]:
    """``(positions, transforms, scores, instance_ids)`` of a 3- or 4-tuple (instance ids None for 3)."""
    if len(data) == 3:
        return (*data, None)
    positions, transforms, scores, instance_ids = data
    return positions, transforms, scores, instance_ids


def get_picks_format_from_path(path: str) -> str | None:
    """The picks format of ``path`` by its extension (``csv``, ``star``, ``em``, ``dynamo``) or None."""
    return get_picks_format_from_extension(path)


def get_volume_format_from_path(path: str) -> str | None:
    """The volume format of ``path`` by its extension (``mrc``, ``tiff``, ``em``, ``zarr``) or None."""
    return get_volume_format_from_extension(path)


__all__ = [
    "FormatCapabilities",
    "FormatHandler",
    "FormatRegistry",
    "PicksFormatHandler",
    "VolumeFormatHandler",
    "get_picks_format_from_path",
    "get_registry",
    "get_volume_format_from_path",
    "registry",
    "unpack_picks_data",
]
