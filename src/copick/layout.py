"""Every naming rule of the copick folder tree, in one place: entity identity <-> file name.

Pure functions, no I/O. Formatters build the name of one folder level; parsers return ``None``
for a name that is not an entity of that kind (stray files never crash a listing).
"""

from __future__ import annotations

import math
from typing import NamedTuple

RUNS_DIR = "ExperimentRuns"
OBJECTS_DIR = "Objects"
META_FILE = ".meta"
META_CONTENT = b"meta"
PICKS_DIR = "Picks"
MESHES_DIR = "Meshes"
FILAMENTS_DIR = "Filaments"
VOXEL_SPACING_PREFIX = "VoxelSpacing"
ZARR_SUFFIX = ".zarr"
FEATURES_SUFFIX = "_features.zarr"
MULTILABEL_SUFFIX = "-multilabel"

SEGMENTATION_DIRS = {
    "binary": "Segmentations",
    "multilabel": "Segmentations",
    "instance": "InstanceSegmentations",
    "panoptic": "PanopticSegmentations",
}


def join(*parts: str) -> str:
    """Join relative path parts with ``/`` (storage paths are always ``/``-separated)."""
    return "/".join(p.strip("/") for p in parts if p)


def is_hidden(name: str) -> bool:
    """Names starting with ``.`` (markers, temporary files) are never entities."""
    return name.startswith(".")


# --- voxel spacings --------------------------------------------------------------------------


def format_voxel_size(voxel_size: float) -> str:
    """The text copick uses for a voxel size in folder and store names: three decimals."""
    return format(float(voxel_size), ".3f")


def voxel_spacing_dirname(voxel_size: float) -> str:
    return f"{VOXEL_SPACING_PREFIX}{format_voxel_size(voxel_size)}"


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def parse_voxel_spacing_dirname(name: str) -> float | None:
    """``VoxelSpacing10.000`` -> 10.0; ``None`` for anything else (including a non-numeric suffix)."""
    if not name.startswith(VOXEL_SPACING_PREFIX):
        return None
    return _parse_float(name[len(VOXEL_SPACING_PREFIX) :])


# --- tomograms and feature maps --------------------------------------------------------------


def tomogram_store_name(tomo_type: str) -> str:
    return f"{tomo_type}{ZARR_SUFFIX}"


def parse_tomogram_store_name(name: str) -> str | None:
    """``wbp.zarr`` -> ``wbp``; feature stores (``*_features.zarr``) and other names -> ``None``."""
    if not name.endswith(ZARR_SUFFIX) or name.endswith(FEATURES_SUFFIX):
        return None
    stem = name[: -len(ZARR_SUFFIX)]
    return stem or None


def features_store_name(tomo_type: str, feature_type: str) -> str:
    return f"{tomo_type}_{feature_type}{FEATURES_SUFFIX}"


def parse_features_store_name(name: str, tomo_type: str) -> str | None:
    """``wbp_sobel_features.zarr`` -> ``sobel`` for tomogram type ``wbp``; else ``None``."""
    prefix = f"{tomo_type}_"
    if not (name.startswith(prefix) and name.endswith(FEATURES_SUFFIX)):
        return None
    middle = name[len(prefix) : -len(FEATURES_SUFFIX)]
    return middle or None


# --- picks, meshes, filaments ----------------------------------------------------------------


class AnnotationId(NamedTuple):
    """Identity of a picks / mesh / filaments file."""

    user_id: str
    session_id: str
    object_name: str


def annotation_file_name(user_id: str, session_id: str, object_name: str, ext: str) -> str:
    """``alice_1_proteasome.json`` for ``ext='.json'``."""
    return f"{user_id}_{session_id}_{object_name}{ext}"


def parse_annotation_file_name(name: str, ext: str) -> AnnotationId | None:
    """Split ``user_session_object.ext``. Anything after the second ``_`` is the object name,
    so every listed file maps back to itself; names with fewer than three fields -> ``None``."""
    if not name.endswith(ext):
        return None
    parts = name[: -len(ext)].split("_", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return AnnotationId(*parts)


# --- segmentations ---------------------------------------------------------------------------


class SegmentationId(NamedTuple):
    """Identity of a segmentation store."""

    voxel_size: float
    user_id: str
    session_id: str
    name: str
    segmentation_type: str  # binary | multilabel | instance | panoptic


def segmentation_type(is_multilabel: bool, is_instance: bool, is_panoptic: bool) -> str:
    if is_instance:
        return "instance"
    if is_panoptic:
        return "panoptic"
    return "multilabel" if is_multilabel else "binary"


def segmentation_store_name(
    voxel_size: float, user_id: str, session_id: str, name: str, seg_type: str
) -> str:
    suffix = MULTILABEL_SUFFIX if seg_type == "multilabel" else ""
    return f"{format_voxel_size(voxel_size)}_{user_id}_{session_id}_{name}{suffix}{ZARR_SUFFIX}"


def parse_segmentation_store_name(name: str, directory: str) -> SegmentationId | None:
    """Parse ``<vs>_<user>_<session>_<name>[-multilabel].zarr`` found in ``directory``."""
    if not name.endswith(ZARR_SUFFIX):
        return None
    parts = name[: -len(ZARR_SUFFIX)].split("_", 3)
    if len(parts) != 4 or not all(parts):
        return None
    voxel_size = _parse_float(parts[0])
    if voxel_size is None:
        return None
    seg_name = parts[3]
    if directory == SEGMENTATION_DIRS["instance"]:
        seg_type = "instance"
    elif directory == SEGMENTATION_DIRS["panoptic"]:
        seg_type = "panoptic"
    elif directory == SEGMENTATION_DIRS["binary"]:
        seg_type = "binary"
        if seg_name.endswith(MULTILABEL_SUFFIX) and len(seg_name) > len(MULTILABEL_SUFFIX):
            seg_name, seg_type = seg_name[: -len(MULTILABEL_SUFFIX)], "multilabel"
    else:
        return None
    return SegmentationId(voxel_size, parts[1], parts[2], seg_name, seg_type)


# --- objects ---------------------------------------------------------------------------------


def object_store_path(object_name: str) -> str:
    return join(OBJECTS_DIR, f"{object_name}{ZARR_SUFFIX}")


def run_path(run_name: str) -> str:
    return f"{RUNS_DIR}/{run_name}"
