"""Every naming rule of the copick folder tree, in one place: entity identity <-> file name.

Pure functions, no I/O. Formatters build the name of one folder level; parsers return ``None``
for a name that is not an entity of that kind (stray files never crash a listing).
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from typing import Any, NamedTuple

from copick.errors import InvalidNameError

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


def _memo(fn: Any) -> Any:
    """Memoise a pure function of this module for str / float / int arguments: listing a project
    parses the same few names in every run (1,000 runs, 1,000 times ``alice_1_ribosome.json``), so
    each is checked once. Other arguments (wrong types the function refuses) are never cached."""
    cached = functools.lru_cache(maxsize=1 << 14, typed=True)(fn)

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        for arg in args:
            if type(arg) not in _MEMO_TYPES:
                return fn(*args)
        return cached(*args)

    call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return call


_MEMO_TYPES = frozenset((str, float, int))


def join(*parts: str) -> str:
    """Join relative path parts with ``/`` (storage paths are always ``/``-separated)."""
    return "/".join(p.strip("/") for p in parts if p)


def is_hidden(name: str) -> bool:
    """Names starting with ``.`` (markers, temporary files) are never entities."""
    return name.startswith(".")


# Temporary names (whole-file writes, image stagings, write locks) start ``.<start of the name>.``:
# hidden from listings, told apart by their owner, and short enough for any valid name.
TEMP_STEM = 96


def temp_prefix(name: str) -> str:
    """The start of every temporary name made for the file or folder ``name``."""
    return f".{name[:TEMP_STEM]}."


def temp_name(name: str, owner: str) -> str:
    """``.<start of name>.<owner>.tmp``: the temporary file or staging folder of ``owner`` for ``name``."""
    return f"{temp_prefix(name)}{owner}.tmp"


# --- the one name check ----------------------------------------------------------------------

MAX_NAME_BYTES = 255  # the longest file name (UTF-8 bytes) of ext4, XFS, APFS, NTFS and S3 key parts
_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]")


def check_name(name: Any, what: str, *, no_underscore: bool = False) -> str:
    """Return ``name`` if it can be exactly one folder or file name inside its parent, and what is
    written under it lists back under the same identity; else raise ``InvalidNameError`` naming
    the rule. Every name that reaches a path passes here (creation, lookup, deletion alike)."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__} ({name!r}).")
    rule = _broken_rule(name, no_underscore)
    if rule:
        raise InvalidNameError(f"{what} {_shown(name)} cannot be used in copick file names: {rule}.")
    return name


def _broken_rule(name: str, no_underscore: bool) -> str | None:
    if not name:
        return "it is empty"
    if name.startswith("."):
        return "it starts with '.', which hides it from listings (and '.'/'..' name other folders)"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid Unicode text (it holds a lone surrogate)"
    bad = _UNSAFE.search(name)
    if bad:
        return f"it contains {bad.group()!r} ('/', '\\' and control characters such as NUL are not allowed)"
    if no_underscore and "_" in name:
        return "it contains '_', which separates the fields of copick file names"
    return None


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 80 else f"{name[:60]!r}... ({len(name)} characters)"


def check_file_name(file_name: str, what: str) -> str:
    """A whole file or folder name built from checked parts must still fit the file system."""
    size = len(file_name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise InvalidNameError(
            f"{what}: the file name {_shown(file_name)} would be {size} bytes long; file systems allow "
            f"{MAX_NAME_BYTES}. Use shorter names."
        )
    return file_name


# --- voxel spacings --------------------------------------------------------------------------


def check_voxel_size(voxel_size: Any) -> float:
    """A voxel size as a float if it is a finite number > 0 that survives the three-decimal folder
    name; else ``InvalidNameError`` (a ``ValueError``) saying why."""
    if isinstance(voxel_size, bool) or not isinstance(voxel_size, numbers.Real | str):
        raise TypeError(f"Voxel size must be a number, got {type(voxel_size).__name__} ({voxel_size!r}).")
    try:
        value = float(voxel_size)
    except ValueError:
        raise InvalidNameError(f"Voxel size {voxel_size!r} is not a number.") from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidNameError(f"Voxel size {voxel_size!r} must be a finite number > 0 (Angstrom).")
    if float(format(value, ".3f")) <= 0:
        raise InvalidNameError(
            f"Voxel size {voxel_size!r} is stored with three decimals as {format(value, '.3f')!r}, "
            "which is not a size > 0; the smallest voxel size is 0.001."
        )
    return value


def format_voxel_size(voxel_size: float) -> str:
    """The text copick uses for a voxel size in folder and store names: three decimals."""
    return format(check_voxel_size(voxel_size), ".3f")


@_memo
def voxel_spacing_dirname(voxel_size: float) -> str:
    return f"{VOXEL_SPACING_PREFIX}{format_voxel_size(voxel_size)}"


def _parse_float(text: str) -> float | None:
    try:
        return check_voxel_size(text)
    except ValueError:
        return None


@_memo
def parse_voxel_spacing_dirname(name: str) -> float | None:
    """``VoxelSpacing10.000`` -> 10.0; ``None`` for anything else (including a non-numeric suffix)."""
    if not name.startswith(VOXEL_SPACING_PREFIX):
        return None
    return _parse_float(name[len(VOXEL_SPACING_PREFIX) :])


# --- tomograms and feature maps --------------------------------------------------------------


def tomogram_store_name(tomo_type: str) -> str:
    check_name(tomo_type, "Tomogram type")
    if tomogram_store_name_is_features(tomo_type):
        raise InvalidNameError(
            f"Tomogram type {tomo_type!r} cannot be used: '{tomo_type}{ZARR_SUFFIX}' is the name of a "
            "feature map store."
        )
    return check_file_name(f"{tomo_type}{ZARR_SUFFIX}", f"Tomogram type {_shown(tomo_type)}")


def tomogram_store_name_is_features(tomo_type: str) -> bool:
    return f"{tomo_type}{ZARR_SUFFIX}".endswith(FEATURES_SUFFIX)


@_memo
def parse_tomogram_store_name(name: str) -> str | None:
    """``wbp.zarr`` -> ``wbp``; feature stores (``*_features.zarr``) and other names -> ``None``."""
    if not name.endswith(ZARR_SUFFIX) or name.endswith(FEATURES_SUFFIX):
        return None
    return _parsed(name[: -len(ZARR_SUFFIX)], tomogram_store_name, name)


def _parsed(identity: Any, formatter: Any, expected: Any) -> Any:
    """``identity`` if formatting it gives back ``expected`` (one rule, both ways), else ``None``."""
    try:
        args = identity if isinstance(identity, tuple) else (identity,)
        return identity if formatter(*args) == expected else None
    except (ValueError, TypeError):
        return None


def features_store_name(tomo_type: str, feature_type: str) -> str:
    check_name(tomo_type, "Tomogram type")
    check_name(feature_type, "Feature type")
    name = f"{tomo_type}_{feature_type}{FEATURES_SUFFIX}"
    return check_file_name(name, f"Features {_shown(feature_type)} of tomogram type {_shown(tomo_type)}")


@_memo
def parse_features_store_name(name: str, tomo_type: str) -> str | None:
    """``wbp_sobel_features.zarr`` -> ``sobel`` for tomogram type ``wbp``; else ``None``."""
    prefix = f"{tomo_type}_"
    if not (name.startswith(prefix) and name.endswith(FEATURES_SUFFIX)):
        return None
    middle = name[len(prefix) : -len(FEATURES_SUFFIX)]
    return _parsed(middle, lambda feature: features_store_name(tomo_type, feature), name)


# --- picks, meshes, filaments ----------------------------------------------------------------


class AnnotationId(NamedTuple):
    """Identity of a picks / mesh / filaments file."""

    user_id: str
    session_id: str
    object_name: str


def annotation_file_name(user_id: str, session_id: str, object_name: str, ext: str) -> str:
    """``alice_1_proteasome.json`` for ``ext='.json'``."""
    check_name(user_id, "User ID", no_underscore=True)
    check_name(session_id, "Session ID", no_underscore=True)
    check_name(object_name, "Object name")
    name = f"{user_id}_{session_id}_{object_name}{ext}"
    return check_file_name(
        name, f"Annotation of {_shown(object_name)} by {_shown(user_id)} (session {_shown(session_id)})"
    )


@_memo
def parse_annotation_file_name(name: str, ext: str) -> AnnotationId | None:
    """Split ``user_session_object.ext``. Anything after the second ``_`` is the object name,
    so every listed file maps back to itself; names with fewer than three fields -> ``None``."""
    if not name.endswith(ext):
        return None
    parts = name[: -len(ext)].split("_", 2)
    if len(parts) != 3:
        return None
    return _parsed(AnnotationId(*parts), lambda *ident: annotation_file_name(*ident, ext), name)


# --- segmentations ---------------------------------------------------------------------------


class SegmentationId(NamedTuple):
    """Identity of a segmentation store."""

    voxel_size: float
    user_id: str
    session_id: str
    name: str
    segmentation_type: str  # binary | multilabel | instance | panoptic


SEGMENTATION_TYPES = ("binary", "multilabel", "instance", "panoptic")


def segmentation_type(is_multilabel: bool, is_instance: bool, is_panoptic: bool = False) -> str:
    """The one type the three flags name; two flags at once is a ``ValueError``."""
    if sum(map(bool, (is_multilabel, is_instance, is_panoptic))) > 1:
        raise InvalidNameError("A segmentation has one type: multilabel, instance or panoptic.")
    if is_instance:
        return "instance"
    if is_panoptic:
        return "panoptic"
    return "multilabel" if is_multilabel else "binary"


def segmentation_store_name(
    voxel_size: float, user_id: str, session_id: str, name: str, seg_type: str
) -> str:
    check_name(user_id, "User ID", no_underscore=True)
    check_name(session_id, "Session ID", no_underscore=True)
    check_name(name, "Segmentation name")
    if seg_type == "binary" and name.endswith(MULTILABEL_SUFFIX):
        raise InvalidNameError(
            f"Segmentation name {name!r} cannot be used for a binary segmentation: names ending in "
            f"{MULTILABEL_SUFFIX!r} list as multilabel segmentations."
        )
    suffix = MULTILABEL_SUFFIX if seg_type == "multilabel" else ""
    store = f"{format_voxel_size(voxel_size)}_{user_id}_{session_id}_{name}{suffix}{ZARR_SUFFIX}"
    return check_file_name(
        store, f"Segmentation {_shown(name)} by {_shown(user_id)} (session {_shown(session_id)})"
    )


@_memo
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
    ident = SegmentationId(voxel_size, parts[1], parts[2], seg_name, seg_type)
    # the voxel size may be written with other decimals than ours (``10.0_...``): compare the rest
    rest = name.split("_", 1)[1]
    return _parsed(ident, lambda *args: segmentation_store_name(*args).split("_", 1)[1] == rest, True)


# --- objects ---------------------------------------------------------------------------------


def object_store_path(object_name: str) -> str:
    check_name(object_name, "Object name")
    return join(OBJECTS_DIR, check_file_name(f"{object_name}{ZARR_SUFFIX}", f"Object {_shown(object_name)}"))


def check_run_name(name: Any) -> str:
    """Run names are free text, but must be one folder name."""
    return check_file_name(check_name(name, "Run name"), f"Run {_shown(name)}")


@_memo
def run_path(run_name: str) -> str:
    return f"{RUNS_DIR}/{check_run_name(run_name)}"
