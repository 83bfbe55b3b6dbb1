"""Importing tomograms and feature maps from arrays or volume files (MRC, TIFF, EM, Zarr)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from copick.errors import EntityExistsError, InvalidDataError
from copick.formats.common import MissingVoxelSizeError, apply_flip_transpose, positive_voxel_size
from copick.ops.import_common import (
    DEFAULT_CHUNKS,
    MissingTargetError,
    Targets,
    existing_run,
    replace_allowed,
    run_label,
)

_log = logging.getLogger("copick.ops.importers")


def check_volume(data: Any, source: str) -> np.ndarray:
    """``data`` as a 3-D (z, y, x) array; other shapes are refused naming ``source``."""
    from copick.formats.common import as_3d

    return as_3d(np.asarray(data), source)


def _tomogram_levels(
    volume: Any,
    voxel_spacing: float | None,
    create_pyramid: bool,
    pyramid_levels: int,
    transpose: Any,
    flip: Any,
    source: str,
) -> tuple[Any, list[float] | float, float, tuple[int, ...]]:
    """(levels iterable, voxel sizes, base voxel size, level-0 shape) of an array or a ready pyramid."""
    from copick.formats import ome

    if isinstance(volume, dict):
        if not volume:
            raise InvalidDataError(f"{source}: the pyramid dict is empty.")
        sizes = [positive_voxel_size(v, source) for v in volume]
        levels = [
            apply_flip_transpose(check_volume(a, source), flip, transpose, source=source)
            for a in volume.values()
        ]
        base = positive_voxel_size(voxel_spacing, source) if voxel_spacing is not None else sizes[0]
        if voxel_spacing is not None and not np.isclose(base, sizes[0]):
            sizes = [base * s / sizes[0] for s in sizes]
        return [a.astype(np.float32, copy=False) for a in levels], sizes, base, tuple(levels[0].shape)
    if voxel_spacing is None:
        raise MissingVoxelSizeError(f"{source}: a voxel spacing is needed to store the tomogram.")
    base = positive_voxel_size(voxel_spacing, source)
    data = apply_flip_transpose(check_volume(volume, source), flip, transpose, source=source)
    count = int(pyramid_levels) if create_pyramid else 1
    if count < 1:
        raise InvalidDataError(f"{source}: pyramid_levels must be >= 1, got {pyramid_levels}.")
    return ome.iter_volume_pyramid(data, count, np.float32), base, base, tuple(data.shape)


def _capped_chunks(chunks: Sequence[int] | None, shape: Sequence[int]) -> tuple[int, ...]:
    chunks = tuple(int(c) for c in (chunks or DEFAULT_CHUNKS))
    if len(chunks) != 3 or any(c < 1 for c in chunks):
        raise InvalidDataError(f"chunks must be three positive integers (z, y, x), got {chunks}.")
    return tuple(min(c, max(1, int(n))) for c, n in zip(chunks, shape[-3:]))


def add_tomogram(
    root: Any,
    run: Any,
    tomo_type: str,
    volume: Any,
    voxel_spacing: float | None = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    create_pyramid: bool = False,
    pyramid_levels: int = 3,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    transpose: Any = None,
    flip: Any = None,
    meta: dict[str, Any] | None = None,
    log: bool = False,
) -> Any:
    """Store ``volume`` ((z, y, x) array, or a ready pyramid ``{voxel_size: array}``) as ``<tomo_type>.zarr``.

    ``create_pyramid`` adds ``pyramid_levels - 1`` 2x-mean levels (float32); chunks are capped by
    the level-0 shape. An existing tomogram of that type is an ``EntityExistsError`` unless
    ``overwrite`` (or ``exist_ok``). Nothing is created when the input is unusable.
    """
    source = f"tomogram {tomo_type!r} of run {run_label(run)!r}"
    levels, sizes, base, shape = _tomogram_levels(
        volume, voxel_spacing, create_pyramid, pyramid_levels, transpose, flip, source
    )
    capped = _capped_chunks(chunks, shape)
    current = existing_run(root, run)
    if current is not None and not replace_allowed(exist_ok, overwrite):
        vs = current.get_voxel_spacing(base)
        if vs is not None and vs.get_tomograms(tomo_type):
            raise EntityExistsError(
                f"Tomogram type {tomo_type} already exists at voxel size {base} in run {current.name} "
                "(use --overwrite / overwrite=True to replace it)."
            )
    with Targets(root, create, log) as targets:
        target_run = targets.run(run)
        vs = targets.voxel_spacing(target_run, base)
        found = vs.get_tomograms(tomo_type)
        tomogram = found[0] if found else targets.made(vs.new_tomogram(tomo_type, exist_ok=True))
        tomogram._write_pyramid(levels, sizes, chunks=capped)
    if log:
        _log.info(
            f"Added tomogram {tomogram.tomo_type} (voxel size {base}, shape {shape}) to run {target_run.name}"
        )
    return tomogram


def peek_voxel_size(file_path: str, kind: str, voxel_spacing: float | None) -> float | None:
    """The voxel size a file will be stored at, when it is known without reading the data."""
    if voxel_spacing is not None:
        return positive_voxel_size(voxel_spacing, file_path)
    if kind == "mrc":
        from copick.formats.mrc import read_mrc_header_voxel_size

        return read_mrc_header_voxel_size(file_path)
    if kind in ("tiff", "em"):
        raise MissingVoxelSizeError(
            f"{file_path}: Voxel spacing not provided and cannot be determined from {kind} file. "
            "Please specify --voxel-size."
        )
    return None


def add_tomogram_from_file(
    root: Any,
    run_name: str,
    tomo_type: str,
    file_path: str,
    voxel_spacing: float | None = None,
    file_type: str | None = None,
    create_pyramid: bool = True,
    pyramid_levels: int = 3,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    transpose: Any = None,
    flip: Any = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
) -> Any:
    """Import an MRC/TIFF/EM/Zarr volume file as a tomogram of ``run_name`` (see ``add_tomogram``).

    The voxel size comes from ``voxel_spacing`` or the file (MRC header, OME-Zarr scale); TIFF and
    EM need ``voxel_spacing``. Problems are reported before the data is read where possible.
    """
    from copick.formats.common import require_file, resolve_volume_format
    from copick.formats.volumes import read_volume

    kind = resolve_volume_format(file_path, file_type)
    if kind != "zarr":
        require_file(file_path, f"{kind.upper()} file")
    peek = peek_voxel_size(file_path, kind, voxel_spacing)
    run = root.get_run(run_name)
    if peek is not None and run is not None and not replace_allowed(exist_ok, overwrite):
        vs = run.get_voxel_spacing(peek)
        if vs is not None and vs.get_tomograms(tomo_type):
            raise EntityExistsError(
                f"{file_path}: tomogram type {tomo_type} already exists at voxel size {peek} "
                f"in run {run_name} (use --overwrite to replace it)."
            )
    volume = read_volume(file_path, kind, voxel_spacing)
    return add_tomogram(
        root,
        run_name,
        tomo_type,
        volume.data,
        volume.voxel_size,
        create=create,
        exist_ok=exist_ok,
        overwrite=overwrite,
        create_pyramid=create_pyramid,
        pyramid_levels=pyramid_levels,
        chunks=chunks,
        transpose=transpose,
        flip=flip,
        log=log,
    )


def add_features(
    root: Any,
    run: Any,
    voxel_spacing: float,
    tomo_type: str,
    feature_type: str,
    features_vol: Any,
    exist_ok: bool = False,
    overwrite: bool = False,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    meta: dict[str, Any] | None = None,
    log: bool = False,
) -> Any:
    """Store a (C, Z, Y, X) feature map (or one (Z, Y, X) channel) next to an existing tomogram; a Dask
    array is written block by block, never computed whole (``CopickFeatures.from_numpy``)."""
    from copick.formats.dask_volumes import is_chunked

    source = f"features {feature_type!r} of tomogram {tomo_type!r} in run {run_label(run)!r}"
    data = features_vol if is_chunked(features_vol) else np.asarray(features_vol)
    if data.ndim not in (3, 4) or data.dtype.kind not in "buif":
        raise InvalidDataError(
            f"{source}: expected a numeric (C, Z, Y, X) array, got {data.dtype} {data.shape}."
        )
    target_run = existing_run(root, run)
    vs = target_run.get_voxel_spacing(float(voxel_spacing)) if target_run is not None else None
    tomograms = vs.get_tomograms(tomo_type) if vs is not None else []
    if not tomograms:
        raise MissingTargetError(
            f"{source}: no tomogram {tomo_type!r} at voxel size {voxel_spacing}; import the tomogram first."
        )
    tomogram = tomograms[0]
    existing = tomogram.get_features(feature_type)
    if existing is not None and not replace_allowed(exist_ok, overwrite):
        raise EntityExistsError(f"{source}: features already exist (use overwrite=True to replace them).")
    capped = _capped_chunks(chunks, data.shape)
    with Targets(root, False, log) as targets:
        features = (
            existing
            if existing is not None
            else targets.made(tomogram.new_features(feature_type, exist_ok=True))
        )
        features.from_numpy(data, np.float32, capped)
    if log:
        _log.info(f"Added features {feature_type} to tomogram {tomo_type} in run {target_run.name}")
    return features
