"""Image kinds: OME-Zarr stores under a run's voxel spacings — segmentations, tomograms, feature maps."""

from __future__ import annotations

from typing import Any

from copick.kinds.base import Kind

__all__ = [
    "FEATURES",
    "SEGMENTATIONS",
    "SEGMENTATION_TYPES",
    "TOMOGRAMS",
    "segmentation_type_of",
    "selected_segmentation_types",
]

SEGMENTATION_TYPES = ("multilabel", "instance", "panoptic")  # the URI query flags (binary: none set)


def selected_segmentation_types(parts: dict[str, Any]) -> frozenset[str]:
    """The segmentation types a parsed URI (or filter set) selects; untyped: binary and multilabel."""
    for key in ("panoptic", "instance", "multilabel"):
        if parts.get(key):
            return frozenset({key})
    if parts.get("multilabel") is False:
        return frozenset({"binary"})
    return frozenset({"binary", "multilabel"})


def segmentation_type_of(entity: Any) -> str:
    """The type of a segmentation (binary, multilabel, instance or panoptic), from its type or flags."""
    seg_type = getattr(entity, "segmentation_type", None)
    if isinstance(seg_type, str):
        return seg_type
    for key in ("panoptic", "instance", "multilabel"):
        if getattr(entity, f"is_{key}", False):
            return key
    return "binary"


def _type_flags(segmentation_type: str) -> dict[str, bool]:
    """``new_segmentation`` type arguments of one segmentation type."""
    return {
        "is_multilabel": segmentation_type == "multilabel",
        "is_instance": segmentation_type == "instance",
        "is_panoptic": segmentation_type == "panoptic",
    }


def _lookup_flags(allowed: frozenset[str]) -> dict[str, bool | None]:
    """``get_segmentations`` type arguments selecting the ``allowed`` types."""
    if allowed == {"binary", "multilabel"}:
        return {"is_multilabel": None, "is_instance": False, "is_panoptic": False}
    (only,) = allowed
    return {**_type_flags(only), "is_multilabel": {"binary": False, "multilabel": True}.get(only)}


class SegmentationKind(Kind):
    """Segmentations: ``run.segmentations``, ``run.get_segmentations``, ``run.new_segmentation``."""

    object_type = "segmentation"
    plural = "segmentations"
    fields = ("name", "user_id", "session_id", "voxel_spacing")
    grammar = "named@vs"
    form = "name[:user_id[/session_id]][@voxel_spacing][?multilabel=true|?instance=true|?panoptic=true]"
    example = "membrane:alice/1@10.0"
    object_field = "name"

    def entities(self, run: Any) -> list[Any]:
        return list(run.segmentations)

    def lookup(self, run: Any, literal: dict[str, Any], parts: dict[str, Any]) -> list[Any]:
        if not literal:
            return self.entities(run)
        kwargs = {("voxel_size" if key == "voxel_spacing" else key): value for key, value in literal.items()}
        return run.get_segmentations(**kwargs, **_lookup_flags(selected_segmentation_types(parts)))

    def accepts(self, parts: dict[str, Any], entity: Any) -> bool:
        return segmentation_type_of(entity) in selected_segmentation_types(parts)

    def identity(self, entity: Any) -> dict[str, Any]:
        return {
            "name": entity.name,
            "user_id": entity.user_id,
            "session_id": entity.session_id,
            "voxel_spacing": float(entity.voxel_size),
            "segmentation_type": segmentation_type_of(entity),
        }

    def target_identity(self, parts: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        target = super().target_identity(parts, source)
        stated = [flag for flag in SEGMENTATION_TYPES if parts.get(flag)]
        if stated:
            target["segmentation_type"] = stated[0]
        elif parts.get("multilabel") is False:
            target["segmentation_type"] = "binary"
        else:
            target["segmentation_type"] = source["segmentation_type"]
        return target

    def check_copy(self, source: Any, identity: dict[str, Any]) -> None:
        src_type, dst_type = source.segmentation_type, identity["segmentation_type"]
        if (src_type == "panoptic") != (dst_type == "panoptic"):
            raise ValueError(
                f"Cannot copy a {src_type} segmentation as a {dst_type} one (different data layout)."
            )
        if abs(float(source.voxel_size) - identity["voxel_spacing"]) > 1e-9:
            raise ValueError(
                f"Cannot copy a segmentation from voxel spacing {float(source.voxel_size)} to "
                f"{identity['voxel_spacing']}: copying does not resample."
            )

    def new(self, run: Any, identity: dict[str, Any], exist_ok: bool) -> Any:
        flags = _type_flags(identity["segmentation_type"])
        return run.new_segmentation(
            identity["voxel_spacing"],
            identity["name"],
            identity["session_id"],
            user_id=identity["user_id"],
            exist_ok=exist_ok,
            **flags,
        )

    def pickable_object(self, identity: dict[str, Any]) -> str | None:
        """Binary and instance segmentations are named after a pickable object."""
        return identity["name"] if identity["segmentation_type"] in ("binary", "instance") else None


class TomogramKind(Kind):
    """Tomograms: ``vs.tomograms``, ``vs.get_tomograms``, ``vs.new_tomogram`` of each voxel spacing."""

    object_type = "tomogram"
    plural = "tomograms"
    fields = ("tomo_type", "voxel_spacing")
    grammar = "type@vs"
    form = "tomo_type[@voxel_spacing]"
    example = "wbp@10.0"
    copyable = False

    def entities(self, run: Any) -> list[Any]:
        return [tomogram for vs in run.voxel_spacings for tomogram in vs.tomograms]

    def lookup(self, run: Any, literal: dict[str, Any], parts: dict[str, Any]) -> list[Any]:
        if "voxel_spacing" in literal:
            found = run.get_voxel_spacing(literal["voxel_spacing"])
            spacings = [found] if found is not None else []
        else:
            spacings = run.voxel_spacings
        tomo_type = literal.get("tomo_type")
        return [t for vs in spacings for t in (vs.get_tomograms(tomo_type) if tomo_type else vs.tomograms)]

    def identity(self, entity: Any) -> dict[str, Any]:
        return {"tomo_type": entity.tomo_type, "voxel_spacing": float(entity.voxel_spacing.voxel_size)}

    def new(self, run: Any, identity: dict[str, Any], exist_ok: bool) -> Any:
        size = identity["voxel_spacing"]
        vs = run.get_voxel_spacing(size) or run.new_voxel_spacing(size, exist_ok=True)
        return vs.new_tomogram(identity["tomo_type"], exist_ok=exist_ok)


class FeatureKind(Kind):
    """Feature maps of a tomogram: ``tomogram.features``, ``get_features``, ``new_features``."""

    object_type = "feature"
    plural = "features"
    fields = ("tomo_type", "voxel_spacing", "feature_type")
    grammar = "type@vs:feature"
    form = "tomo_type[@voxel_spacing[:feature_type]]"
    example = "wbp@10.0:sobel"
    copyable = False

    def entities(self, run: Any) -> list[Any]:
        return [feature for tomogram in TOMOGRAMS.entities(run) for feature in tomogram.features]

    def lookup(self, run: Any, literal: dict[str, Any], parts: dict[str, Any]) -> list[Any]:
        feature_type = literal.get("feature_type")
        found = []
        for tomogram in TOMOGRAMS.lookup(run, literal, parts):
            if feature_type:
                feature = tomogram.get_features(feature_type)
                found.extend([feature] if feature is not None else [])
            else:
                found.extend(tomogram.features)
        return found

    def identity(self, entity: Any) -> dict[str, Any]:
        return {**TOMOGRAMS.identity(entity.tomogram), "feature_type": entity.feature_type}

    def new(self, run: Any, identity: dict[str, Any], exist_ok: bool) -> Any:
        vs = run.get_voxel_spacing(identity["voxel_spacing"])
        tomograms = vs.get_tomograms(identity["tomo_type"]) if vs is not None else []
        if not tomograms:
            raise ValueError(
                f"No tomogram {identity['tomo_type']}@{identity['voxel_spacing']} in run {run.name} "
                "to hold the feature map."
            )
        return tomograms[0].new_features(identity["feature_type"], exist_ok=exist_ok)


SEGMENTATIONS = SegmentationKind()
TOMOGRAMS = TomogramKind()
FEATURES = FeatureKind()
