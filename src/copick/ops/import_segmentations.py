"""Importing segmentations (binary, multilabel, instance, panoptic) and object density maps."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from copick.errors import EntityExistsError, InvalidDataError, ReadOnlyError, UnknownObjectError
from copick.formats.common import MissingVoxelSizeError, apply_flip_transpose, positive_voxel_size
from copick.ops.import_common import (
    Targets,
    existing_run,
    replace_allowed,
    run_label,
)
from copick.ops.import_tomograms import check_volume

_log = logging.getLogger("copick.ops.importers")
SEGMENTATION_TYPES = ("multilabel", "binary", "instance", "panoptic")


class ReadOnlyObjectError(ReadOnlyError, ValueError):
    """A density map for an object of the read-only static layer: a ``PermissionError`` like every
    read-only write, and the ``ValueError`` copick 1.31's ``add_object_volume`` raised."""


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
        check_volume(data, source)
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
            check_volume(volume, f"density map of {object_name}"),
            positive_voxel_size(voxel_size, ""),
        )
    obj.from_numpy(data, size)
    if log:
        _log.info(f"Added density map (voxel size {size}, shape {tuple(data.shape)}) to object {object_name}")
    return obj
