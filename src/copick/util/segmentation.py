"""Segmentation naming and label rules as plugins import them (``copick.util.segmentation``).

Names come from ``copick.layout`` and label dtypes from ``copick.formats.ome``: this module only
offers them under the names and shapes (dicts of flags) that copick 1.31's callers use.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

import numpy as np

from copick import layout
from copick.errors import InvalidDataError

SEGMENTATION_TYPES = layout.SEGMENTATION_TYPES
SEGMENTATION_TYPE_FILTERS = (*SEGMENTATION_TYPES, "all")
SEGMENTATION_DIRECTORIES = dict(layout.SEGMENTATION_DIRS)
PANOPTIC_CHANNELS = ("label", "instance")
RESERVED_NAME_SUFFIXES = (layout.MULTILABEL_SUFFIX,)


def segmentation_type(is_multilabel: bool, is_instance: bool, is_panoptic: bool = False) -> str:
    """``"binary"``, ``"multilabel"``, ``"instance"`` or ``"panoptic"``; two flags is a ``ValueError``."""
    return layout.segmentation_type(is_multilabel, is_instance, is_panoptic)


def _flags(seg_type: str) -> dict[str, bool]:
    return {f"is_{kind}": seg_type == kind for kind in ("multilabel", "instance", "panoptic")}


def segmentation_directory(
    is_multilabel: bool = False, is_instance: bool = False, is_panoptic: bool = False
) -> str:
    """The run sub-folder holding segmentations of that type."""
    return layout.SEGMENTATION_DIRS[segmentation_type(is_multilabel, is_instance, is_panoptic)]


def segmentation_store_name(
    voxel_size: float,
    user_id: str,
    session_id: str,
    name: str,
    *,
    is_multilabel: bool = False,
    is_instance: bool = False,
    is_panoptic: bool = False,
) -> str:
    """``<voxel size>_<user>_<session>_<name>[-multilabel].zarr``."""
    seg_type = segmentation_type(is_multilabel, is_instance, is_panoptic)
    return layout.segmentation_store_name(voxel_size, user_id, session_id, name, seg_type)


def parse_segmentation_store_name(store_name: str, directory: str = "Segmentations") -> dict[str, Any] | None:
    """The identity of a store found in ``directory`` as a dict, or ``None`` for a stray name."""
    if directory not in set(layout.SEGMENTATION_DIRS.values()):
        raise ValueError(f"{directory} is not a segmentation directory.")
    ident = layout.parse_segmentation_store_name(store_name, directory)
    if ident is None:
        return None
    return {
        "voxel_size": ident.voxel_size,
        "user_id": ident.user_id,
        "session_id": ident.session_id,
        "name": ident.name,
        **_flags(ident.segmentation_type),
    }


def segmentation_type_query(segmentation_type: str | None = None) -> dict[str, bool | None]:
    """``get_segmentations`` filter flags for a type name (``None``: binary and multilabel; ``"all"``)."""
    if segmentation_type is None:
        return {"is_multilabel": None, "is_instance": False, "is_panoptic": False}
    if segmentation_type == "all":
        return {"is_multilabel": None, "is_instance": None, "is_panoptic": None}
    if segmentation_type not in SEGMENTATION_TYPES:
        raise ValueError(
            f"Unknown segmentation type {segmentation_type!r}; use one of {SEGMENTATION_TYPE_FILTERS}."
        )
    return _flags(segmentation_type)


def list_segmentation_stores(fs: Any, run_path: str) -> list[dict[str, Any]]:
    """Every segmentation store of the run folder ``run_path`` on ``fs``: identity dicts plus ``path``."""
    found = []
    for directory in dict.fromkeys(layout.SEGMENTATION_DIRS.values()):
        folder = posixpath.join(run_path, directory)
        try:
            entries = fs.ls(folder, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for info in entries:
            if info.get("type") != "directory":
                continue
            ident = parse_segmentation_store_name(posixpath.basename(info["name"].rstrip("/")), directory)
            if ident is not None:
                found.append({**ident, "path": info["name"].rstrip("/")})
    return found


def label_dtype(data: np.ndarray, floor: Any = np.uint8) -> np.dtype:
    """The smallest unsigned dtype, at least ``floor``, holding every label of ``data``."""
    from copick.formats.ome import choose_segmentation_dtype

    return choose_segmentation_dtype(data, floor)


def checked_label_cast(data: np.ndarray, dtype: Any) -> np.ndarray:
    """``data`` as ``dtype`` if every value fits exactly (``dtype=None``: unchanged); else ``ValueError``."""
    from copick.formats.ome import choose_segmentation_dtype

    if dtype is None:
        return data
    arr = np.asarray(data)
    choose_segmentation_dtype(arr, requested=dtype)
    return arr.astype(dtype, copy=False)


def panoptic_channel_index(channel: str | int) -> int:
    """0 for ``"label"``, 1 for ``"instance"`` (or the index itself)."""
    if channel in PANOPTIC_CHANNELS:
        return PANOPTIC_CHANNELS.index(channel)
    if channel in (0, 1) and not isinstance(channel, bool):
        return int(channel)
    raise ValueError(f"Unknown panoptic channel {channel!r}; use one of {PANOPTIC_CHANNELS} or 0/1.")


def check_panoptic_values(labels: np.ndarray, instances: np.ndarray, known_labels: Iterable[int]) -> None:
    """Panoptic rules: every label is an object's; no instance id on background (label 0)."""
    known = set(known_labels)
    unknown = sorted(int(v) for v in np.unique(labels) if v != 0 and int(v) not in known)
    if unknown:
        raise InvalidDataError(
            f"Panoptic label channel holds {unknown}, which no pickable object has as its label."
        )
    stray = int(np.count_nonzero((np.asarray(labels) == 0) & (np.asarray(instances) != 0)))
    if stray:
        raise InvalidDataError(
            f"{stray} background voxels (label 0) carry an instance ID; instances belong to an object."
        )
