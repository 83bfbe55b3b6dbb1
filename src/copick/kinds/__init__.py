"""The registry of entity kinds: each kind declared once, and looked up by URI type or by entity.

``KINDS`` holds them in URI-type order; ``kind_for`` finds one by its URI object type (``picks``,
``mesh``, ``segmentation`` ...) or plural (``meshes`` ...); ``kind_of`` finds the kind of an entity.
URIs (``copick.util.uri``), cp/mv/rm, sync, get, stats and the CLI loop over this registry.
"""

from __future__ import annotations

from typing import Any

from copick.kinds.annotations import FILAMENTS, MESHES, PICKS, AnnotationKind
from copick.kinds.base import Kind, as_set, open_project, transfer
from copick.kinds.images import FEATURES, SEGMENTATION_TYPES, SEGMENTATIONS, TOMOGRAMS

__all__ = [
    "ANNOTATION_KINDS",
    "FEATURES",
    "FILAMENTS",
    "KINDS",
    "MESHES",
    "PICKS",
    "SEGMENTATIONS",
    "SEGMENTATION_TYPES",
    "TOMOGRAMS",
    "AnnotationKind",
    "Kind",
    "as_set",
    "kind_for",
    "kind_of",
    "open_project",
    "transfer",
]

KINDS: tuple[Kind, ...] = (PICKS, MESHES, SEGMENTATIONS, TOMOGRAMS, FEATURES, FILAMENTS)
ANNOTATION_KINDS: tuple[AnnotationKind, ...] = (PICKS, MESHES, FILAMENTS)

_BY_NAME = {kind.object_type: kind for kind in KINDS} | {kind.plural: kind for kind in KINDS}


def kind_for(name: str) -> Kind | None:
    """The kind whose URI object type (or plural) is ``name``, or None."""
    return _BY_NAME.get(name)


def kind_of(entity: Any) -> Kind | None:
    """The kind of an entity, recognised by its identity attributes (picks, meshes and filaments,
    which share them, all answer ``PICKS``: their URIs are alike)."""
    if hasattr(entity, "feature_type"):
        return FEATURES
    if hasattr(entity, "tomo_type"):
        return TOMOGRAMS
    if hasattr(entity, "segmentation_type") or hasattr(entity, "is_multilabel"):
        return SEGMENTATIONS
    if hasattr(entity, "pickable_object_name"):
        return PICKS
    return None
