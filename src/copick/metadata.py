"""The pydantic models of copick's metadata: project config, pickable objects, picks files and
the small identity records of entities. Field names, defaults and validation match copick 1.31."""

from __future__ import annotations

import json
from typing import Annotated, Any

import numpy as np
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from copick.util.escape import sanitize_name

_Byte = Annotated[int, Field(ge=0, le=255)]
_IDENTITY = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0))


def identity_transform() -> list[list[float]]:
    """A fresh 4x4 identity matrix as nested lists (the default orientation of a point)."""
    return [list(row) for row in _IDENTITY]


def _check_clean(value: str | None, field: str) -> str | None:
    if value is not None and value != sanitize_name(value):
        raise ValueError(
            f"{field} {value!r} contains characters copick forbids in names "
            '(< > : " / \\ | ? *, control characters, whitespace, "_"); use a name such as '
            f"{sanitize_name(value, suppress_warnings=True)!r}"
        )
    return value


def check_object_name(name: str) -> str:
    """``name`` if it can name a pickable object: clean (``sanitize_name`` leaves it as it is) and a
    valid copick file name; else a ``ValueError`` naming the rule."""
    from copick import layout

    return layout.check_name(_check_clean(name, "Object name"), "Object name")


class FilamentSpec(BaseModel):
    """How a filament object is described in ``metadata["copick"]["filament"]``."""

    model_config = ConfigDict(extra="allow")
    polar: bool | None = None
    helical_rise_a: Annotated[float, Field(gt=0)] | None = None
    helical_twist_deg: float | None = None


class PickableObject(BaseModel):
    """An object that can be picked or segmented (protein, membrane...)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    is_particle: bool
    label: int | None = 1
    color: tuple[_Byte, _Byte, _Byte, _Byte] | None = (100, 100, 100, 255)
    emdb_id: str | None = None
    pdb_id: str | None = None
    identifier: str | None = Field(default=None, validation_alias=AliasChoices("go_id", "identifier"))
    map_threshold: float | None = None
    radius: float | None = None
    metadata: dict[str, Any] | None = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_is_clean(cls, v: str) -> str:
        return check_object_name(v)

    @field_validator("label")
    @classmethod
    def _label_not_background(cls, v: int | None) -> int | None:
        if v == 0:
            raise ValueError("label 0 is reserved for the background; use a label >= 1")
        return v

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v

    @model_validator(mode="after")
    def _filament_spec_is_valid(self) -> PickableObject:
        spec = (self.metadata or {}).get("copick", {})
        if isinstance(spec, dict) and spec.get("filament") is not None:
            FilamentSpec.model_validate(spec["filament"])
            if not self.is_particle:
                raise ValueError(f"Object {self.name!r}: filaments must have is_particle=True")
        return self

    @property
    def go_id(self) -> str | None:
        return self.identifier

    @go_id.setter
    def go_id(self, value: str | None) -> None:
        self.identifier = value

    @property
    def filament(self) -> FilamentSpec | None:
        spec = (self.metadata or {}).get("copick", {})
        if isinstance(spec, dict) and spec.get("filament") is not None:
            return FilamentSpec.model_validate(spec["filament"])
        return None

    @property
    def is_filament(self) -> bool:
        return self.filament is not None

    def set_filament(self, spec: FilamentSpec | dict | None) -> None:
        """Declare (or with ``None`` undeclare) this object a filament."""
        copick_meta = dict((self.metadata or {}).get("copick", {}))
        if spec is None:
            copick_meta.pop("filament", None)
        else:
            if not self.is_particle:
                raise ValueError(f"Object {self.name!r}: filaments must have is_particle=True")
            copick_meta["filament"] = FilamentSpec.model_validate(spec).model_dump(exclude_none=True)
        self.metadata = {**(self.metadata or {}), "copick": copick_meta}


class CopickConfig(BaseModel):
    """The backend-independent part of a project configuration."""

    name: str | None = "CoPick"
    description: str | None = "Let's CoPick!"
    version: str | None = "0.2.0"
    pickable_objects: list[PickableObject]
    user_id: str | None = None
    session_id: str | None = None
    runs: list[str] | None = None
    voxel_spacings: list[float] | None = None
    tomograms: dict[float, list[str]] | None = Field(default_factory=dict)

    @field_validator("user_id", "session_id")
    @classmethod
    def _ids_are_clean(cls, v: str | None, info: Any) -> str | None:
        from copick import layout

        v = _check_clean(v, info.field_name)
        return v if v is None else layout.check_name(v, info.field_name, no_underscore=True)

    @model_validator(mode="after")
    def _objects_are_distinct(self) -> CopickConfig:
        """Two objects of one name make picks ambiguous: refused. Two of one label make multilabel
        segmentations ambiguous, but configs written by copick 1.31 often have them (the default
        label is 1), so that is a warning."""
        import warnings

        for field in ("name", "label"):
            seen: dict[Any, str] = {}
            for obj in self.pickable_objects:
                value = getattr(obj, field)
                if value is None:
                    continue
                if value in seen:
                    message = (
                        f"pickable_objects: {obj.name!r} has the same {field} ({value!r}) as "
                        f"{seen[value]!r}; every object needs its own {field}"
                    )
                    if field == "name":
                        raise ValueError(message)
                    warnings.warn(
                        message + " (multilabel segmentations cannot tell them apart)", stacklevel=2
                    )
                seen.setdefault(value, obj.name)
        return self

    @classmethod
    def from_file(cls, filename: str) -> CopickConfig:
        with open(filename) as f:
            return cls(**json.load(f))


class CopickLocation(BaseModel):
    """A position in Angstrom, x/y/z order."""

    x: float
    y: float
    z: float


def check_transformation(matrix: Any) -> None:
    """Raise ``ValueError`` unless ``matrix`` is a 4x4 affine matrix with last row [0, 0, 0, 1]."""
    arr = np.asarray(matrix, dtype=float)
    if arr.shape != (4, 4):
        raise ValueError(f"transformation must be a 4x4 matrix, got shape {arr.shape}")
    if not np.array_equal(arr[3], (0.0, 0.0, 0.0, 1.0)):
        raise ValueError(f"transformation's last row must be [0, 0, 0, 1], got {arr[3].tolist()}")


class CopickPoint(BaseModel):
    """One picked point: location (Angstrom), orientation, instance id and score."""

    location: CopickLocation
    transformation_: list[list[float]] | None = Field(default_factory=identity_transform)
    instance_id: int | None = 0
    score: float | None = 1.0

    @field_validator("transformation_")
    @classmethod
    def _valid_matrix(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        if v is not None:
            check_transformation(v)
        return v

    @property
    def transformation(self) -> np.ndarray:
        return np.array(self.transformation_ if self.transformation_ is not None else _IDENTITY, dtype=float)

    @transformation.setter
    def transformation(self, value: np.ndarray) -> None:
        assert value.shape == (4, 4), "transformation must be a 4x4 matrix"
        assert value[3, 3] == 1, "transformation[3, 3] must be 1"
        assert np.array_equal(value[3, :3], (0, 0, 0)), "transformation's last row must be [0, 0, 0, 1]"
        self.transformation_ = value.tolist()


def construct_unchecked(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """Build a model from values known to be valid, skipping validation (hot path of ``picks.points``).

    ``values`` must hold every field; this is ``model_construct`` without its per-field bookkeeping.
    """
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, set(values))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_new = object.__new__
# The slots of every pydantic model, set through their descriptors (no attribute lookup by name).
_set_dict, _set_fields_set, _set_extra, _set_private = (
    vars(BaseModel)[slot].__set__
    for slot in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)


class CopickPicksFile(BaseModel):
    """The content of one picks JSON file."""

    pickable_object_name: str
    user_id: str
    session_id: str
    run_name: str | None = None
    voxel_spacing: float | None = None
    unit: str = "angstrom"
    points: list[CopickPoint] | None = Field(default_factory=list)
    trust_orientation: bool | None = True


class CopickRunMeta(BaseModel):
    name: str


class CopickVoxelSpacingMeta(BaseModel):
    voxel_size: float


class CopickTomogramMeta(BaseModel):
    tomo_type: str


class CopickFeaturesMeta(BaseModel):
    tomo_type: str
    feature_type: str


class CopickMeshMeta(BaseModel):
    pickable_object_name: str
    user_id: str
    session_id: str


class CopickSegmentationMeta(BaseModel):
    user_id: str
    session_id: str
    name: str
    is_multilabel: bool
    is_instance: bool = False
    is_panoptic: bool = False
    voxel_size: float

    @model_validator(mode="after")
    def _one_type(self) -> CopickSegmentationMeta:
        if sum((self.is_multilabel, self.is_instance, self.is_panoptic)) > 1:
            raise ValueError(
                "A segmentation has one type only: at most one of is_multilabel, is_instance, "
                "is_panoptic may be True."
            )
        return self
