"""Importing files into a project: tomograms, feature maps, segmentations, object maps and picks.

Every import reads and checks its input completely (file readable, voxel size known, columns
present, target free) *before* it writes anything; runs and voxel spacings are created only then,
and are removed again if the write itself fails, so a failed import leaves the project unchanged.
The ``*_from_paths`` functions are the back-ends of ``copick add ...``: they expand globs, map files
to runs and return an ``ImportReport`` counting what was imported, skipped and failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from copick.errors import EntityExistsError, InvalidDataError, ReadOnlyError, UnknownObjectError
from copick.formats.common import MissingVoxelSizeError, apply_flip_transpose, positive_voxel_size
from copick.ops.import_common import (
    DEFAULT_CHUNKS,
    ImportReport,
    MissingTargetError,
    PicksImportResult,
    Targets,
    existing_run,
    plan_paths,
    replace_allowed,
    require_object,
    run_jobs,
    run_label,
)
from copick.ops.import_picks import (
    add_picks,
    add_picks_from_file,
    add_picks_from_paths,
    add_picks_grouped_from_file,
    add_picks_grouped_from_paths,
)

__all__ = [
    "DEFAULT_CHUNKS",
    "ImportReport",
    "MissingTargetError",
    "PicksImportResult",
    "add_features",
    "add_object_volume",
    "add_picks",
    "add_picks_from_file",
    "add_picks_from_paths",
    "add_picks_grouped_from_file",
    "add_picks_grouped_from_paths",
    "add_segmentation",
    "add_segmentation_from_file",
    "add_segmentations_from_paths",
    "add_tomogram",
    "add_tomogram_from_file",
    "add_tomograms_from_paths",
]

_log = logging.getLogger(__name__)
SEGMENTATION_TYPES = ("multilabel", "binary", "instance", "panoptic")


# ------------------------------------------------------------------------------------------------
# tomograms and feature maps
# ------------------------------------------------------------------------------------------------


class ReadOnlyObjectError(ReadOnlyError, ValueError):
    """A density map for an object of the read-only static layer: a ``PermissionError`` like every
    read-only write, and the ``ValueError`` copick 1.31's ``add_object_volume`` raised."""


def _check_volume(data: Any, source: str) -> np.ndarray:
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
            apply_flip_transpose(_check_volume(a, source), flip, transpose, source=source)
            for a in volume.values()
        ]
        base = positive_voxel_size(voxel_spacing, source) if voxel_spacing is not None else sizes[0]
        if voxel_spacing is not None and not np.isclose(base, sizes[0]):
            sizes = [base * s / sizes[0] for s in sizes]
        return [a.astype(np.float32, copy=False) for a in levels], sizes, base, tuple(levels[0].shape)
    if voxel_spacing is None:
        raise MissingVoxelSizeError(f"{source}: a voxel spacing is needed to store the tomogram.")
    base = positive_voxel_size(voxel_spacing, source)
    data = apply_flip_transpose(_check_volume(volume, source), flip, transpose, source=source)
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


def _peek_voxel_size(file_path: str, kind: str, voxel_spacing: float | None) -> float | None:
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
    peek = _peek_voxel_size(file_path, kind, voxel_spacing)
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
    """Store a (C, Z, Y, X) feature map (or one (Z, Y, X) channel) next to an existing tomogram."""
    source = f"features {feature_type!r} of tomogram {tomo_type!r} in run {run_label(run)!r}"
    data = np.asarray(features_vol)
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
    if data.ndim == 4:
        capped = (data.shape[0], *capped)
    with Targets(root, False, log) as targets:
        features = (
            existing
            if existing is not None
            else targets.made(tomogram.new_features(feature_type, exist_ok=True))
        )
        features._write_pyramid(
            [data.astype(np.float32, copy=False)],
            float(voxel_spacing),
            chunks=capped,
            channel_axis=data.ndim == 4,
        )
    if log:
        _log.info(f"Added features {feature_type} to tomogram {tomo_type} in run {target_run.name}")
    return features


# ------------------------------------------------------------------------------------------------
# segmentations and object maps
# ------------------------------------------------------------------------------------------------


def _segmentation_kind(multilabel: bool | None, instance: bool, panoptic: bool) -> str:
    if sum(bool(x) for x in (multilabel, instance, panoptic)) > 1:
        raise InvalidDataError("A segmentation is one of multilabel, instance or panoptic, not several.")
    if panoptic:
        return "panoptic"
    if instance:
        return "instance"
    return "binary" if multilabel is False else "multilabel"


def _write_segmentation(
    root: Any,
    run: Any,
    data: np.ndarray,
    voxel_spacing: float,
    name: str,
    user_id: str,
    session_id: str,
    kind: str,
    transpose: Any,
    flip: Any,
    create: bool,
    exist_ok: bool,
    overwrite: bool,
    log: bool,
    source: str,
) -> Any:
    from copick.formats import ome
    from copick.util.escape import sanitize_name

    panoptic = kind == "panoptic"
    if panoptic and (data.ndim != 4 or data.shape[0] != 2):
        raise InvalidDataError(
            f"{source}: a panoptic segmentation needs shape (2, Z, Y, X), found {data.shape}."
        )
    if not panoptic:
        _check_volume(data, source)
    data = apply_flip_transpose(data, flip, transpose, channel_axis=panoptic, source=source)
    floor = np.uint16 if kind in ("instance", "panoptic") else np.uint8
    try:
        ome.choose_segmentation_dtype(data, floor)
    except InvalidDataError as err:
        raise InvalidDataError(f"{source}: {err}") from None
    vs = positive_voxel_size(voxel_spacing, source)
    name, user_id, session_id = sanitize_name(name), sanitize_name(user_id), sanitize_name(session_id)
    if kind in ("binary", "instance") and root.get_object(name) is None:
        raise UnknownObjectError(
            f"{source}: object name {name} not found in pickable objects "
            f"({kind} segmentations are named after one)."
        )
    if kind == "binary" and data.size and data.max() > 1:
        _log.warning(f"{source}: binary segmentation {name} holds values up to {data.max()} (expected 0/1).")
    flags = {
        "is_multilabel": kind == "multilabel",
        "is_instance": kind == "instance",
        "is_panoptic": panoptic,
    }
    current = existing_run(root, run)
    existing = (
        current.get_segmentations(user_id, session_id, name=name, voxel_size=vs, **flags)
        if current is not None
        else []
    )
    if existing and not replace_allowed(exist_ok, overwrite):
        raise EntityExistsError(
            f"{source}: a {kind} segmentation {name} by {user_id}/{session_id} at voxel size {vs} "
            "already exists (use --overwrite to replace it)."
        )
    with Targets(root, create, log) as targets:
        target_run = targets.run(run)
        seg = (
            existing[0]
            if existing
            else targets.made(
                target_run.new_segmentation(
                    vs,
                    name,
                    session_id,
                    flags["is_multilabel"],
                    user_id,
                    exist_ok=True,
                    is_instance=flags["is_instance"],
                    is_panoptic=panoptic,
                )
            )
        )
        seg.from_numpy(data)
    if log:
        _log.info(
            f"Added {kind} segmentation {name} ({user_id}/{session_id}, voxel size {vs}) "
            f"to run {target_run.name}"
        )
    return seg


def add_segmentation(
    root: Any,
    run: Any,
    mask_path: Any,
    voxel_spacing: float | None,
    name: str,
    user_id: str,
    session_id: str,
    multilabel: bool = False,
    instance: bool = False,
    panoptic: bool = False,
    transpose: Any = None,
    flip: Any = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
) -> Any:
    """Store a segmentation from a volume file (MRC by default, any volume format) or an array."""
    kind = _segmentation_kind(multilabel, instance, panoptic)
    if isinstance(mask_path, (str, bytes)) or hasattr(mask_path, "__fspath__"):
        return add_segmentation_from_file(
            root,
            run_label(run),
            str(mask_path),
            voxel_spacing,
            name,
            user_id,
            session_id,
            None,
            kind == "multilabel",
            instance,
            panoptic,
            transpose=transpose,
            flip=flip,
            create=create,
            exist_ok=exist_ok,
            overwrite=overwrite,
            log=log,
        )
    if voxel_spacing is None:
        raise MissingVoxelSizeError(f"segmentation {name!r}: a voxel spacing is needed to store it.")
    source = f"segmentation {name!r} of run {run_label(run)!r}"
    return _write_segmentation(
        root,
        run,
        np.asarray(mask_path),
        voxel_spacing,
        name,
        user_id,
        session_id,
        kind,
        transpose,
        flip,
        create,
        exist_ok,
        overwrite,
        log,
        source,
    )


def add_segmentation_from_file(
    root: Any,
    run_name: str,
    file_path: str,
    voxel_spacing: float | None,
    name: str,
    user_id: str,
    session_id: str,
    file_type: str | None = None,
    multilabel: bool | None = None,
    instance: bool = False,
    panoptic: bool = False,
    transpose: Any = None,
    flip: Any = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
) -> Any:
    """Import a label volume file as a segmentation (single level); ``multilabel=None`` means multilabel
    unless ``instance``/``panoptic``, ``multilabel=False`` a binary mask of object ``name``."""
    from copick.formats.volumes import read_volume

    kind = _segmentation_kind(multilabel, instance, panoptic)
    volume = read_volume(file_path, file_type, voxel_spacing, channel_axis=kind == "panoptic")
    return _write_segmentation(
        root,
        run_name,
        volume.data,
        volume.voxel_size,
        name,
        user_id,
        session_id,
        kind,
        transpose,
        flip,
        create,
        exist_ok,
        overwrite,
        log,
        file_path,
    )


def add_object_volume(
    root: Any,
    object_name: str,
    volume: Any,
    voxel_size: float | None,
    log: bool = False,
    file_type: str | None = None,
) -> Any:
    """Store a density map for pickable object ``object_name`` (an array, or a volume file path)."""
    obj = root.get_object(object_name)
    if obj is None:
        raise UnknownObjectError(f"Object name {object_name} not found in pickable objects.")
    if not obj.is_particle:
        raise InvalidDataError(f"Object {object_name} is not a particle object and cannot have volume data.")
    if obj.read_only:
        raise ReadOnlyObjectError(
            f"Object {object_name} is read-only and cannot be modified. "
            "Volume data cannot be added to read-only objects."
        )
    if isinstance(volume, str) or hasattr(volume, "__fspath__"):
        from copick.formats.volumes import read_volume

        read = read_volume(str(volume), file_type, voxel_size)
        data, size = read.data, read.voxel_size
    else:
        if voxel_size is None:
            raise MissingVoxelSizeError(
                f"object {object_name}: a voxel size is needed to store its density map."
            )
        data, size = (
            _check_volume(volume, f"density map of {object_name}"),
            positive_voxel_size(voxel_size, ""),
        )
    obj.from_numpy(data, size)
    if log:
        _log.info(f"Added density map (voxel size {size}, shape {tuple(data.shape)}) to object {object_name}")
    return obj


# ------------------------------------------------------------------------------------------------
# batch imports behind ``copick add``
# ------------------------------------------------------------------------------------------------


def add_tomograms_from_paths(
    root: Any,
    path: Any,
    tomo_type: str = "wbp",
    run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    file_type: str | None = None,
    voxel_size: float | None = None,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    pyramid_levels: int = 3,
    create_pyramid: bool = True,
    flip: Any = None,
    transpose: Any = None,
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
) -> ImportReport:
    """``copick add tomogram``: import every file PATH names (a glob) as tomograms, one file per run."""
    report = ImportReport()
    mapping = plan_paths(path, run, run_regex, run_name_prefix, report, root, create)
    options = dict(voxel_spacing=voxel_size, file_type=file_type, create_pyramid=create_pyramid)
    options.update(pyramid_levels=pyramid_levels, chunks=chunks, transpose=transpose, flip=flip)
    options.update(create=create, overwrite=overwrite, log=log)
    jobs = [
        (f, partial(add_tomogram_from_file, root, r, tomo_type, f, **options)) for r, f in mapping.items()
    ]
    run_jobs(jobs, report, max_workers, show_progress, "Processing tomograms")
    return report


def add_segmentations_from_paths(
    root: Any,
    path: Any,
    name: str | None = None,
    user_id: str = "copick",
    session_id: str = "1",
    segmentation_type: str = "multilabel",
    voxel_size: float | None = None,
    file_type: str | None = None,
    run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    flip: Any = None,
    transpose: Any = None,
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
) -> ImportReport:
    """``copick add segmentation``: import label volumes of type multilabel/binary/instance/panoptic."""
    if segmentation_type not in SEGMENTATION_TYPES:
        raise InvalidDataError(
            f"segmentation type must be one of {', '.join(SEGMENTATION_TYPES)}, got {segmentation_type!r}."
        )
    if not name:
        raise InvalidDataError("A segmentation name is needed (--name).")
    if segmentation_type in ("binary", "instance"):
        require_object(root, name)
    report = ImportReport()
    mapping = plan_paths(path, run, run_regex, run_name_prefix, report, root, create)
    options = dict(file_type=file_type, multilabel=segmentation_type == "multilabel")
    options.update(instance=segmentation_type == "instance", panoptic=segmentation_type == "panoptic")
    options.update(transpose=transpose, flip=flip, create=create, overwrite=overwrite, log=log)
    jobs = [
        (f, partial(add_segmentation_from_file, root, r, f, voxel_size, name, user_id, session_id, **options))
        for r, f in mapping.items()
    ]
    run_jobs(jobs, report, max_workers, show_progress, "Processing segmentations")
    return report
