"""Filament models: a filament's centreline points, its optional editable curve, and the file of them.

``points`` are the canonical centreline; a curve, when present, is how they were made and can be
edited and re-evaluated (``copick.util.filaments`` holds the math). Serialised as in copick 1.31.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from copick.metadata import FilamentSpec
from copick.util import filaments as curves

__all__ = ["CopickFilament", "CopickFilamentCurve", "CopickFilamentsFile", "FilamentSpec"]

Point3 = tuple[float, float, float]


class CopickFilamentCurve(BaseModel):
    """The curve a filament's points were evaluated from: Catmull-Rom, linear or a clamped B-spline.

    Kinds this copick does not know are kept as they are but never evaluated.
    """

    model_config = ConfigDict(extra="allow")

    kind: Annotated[str, Field(min_length=1)]
    control_points: list[Point3]
    step: Annotated[float, Field(gt=0)]
    alpha: float | None = None
    degree: int | None = None
    knots: list[float] | None = None
    smoothing: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _known_kinds_are_evaluable(self) -> CopickFilamentCurve:
        if self.kind == "catmull-rom" and self.alpha is None:
            self.alpha = 0.5
        if self.is_known:
            curves.check_curve(self.kind, self.control_points, self.step, self.alpha, self.degree, self.knots)
        return self

    @model_serializer(mode="wrap")
    def _without_nones(self, handler: Any) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}

    @property
    def is_known(self) -> bool:
        """Whether this copick can evaluate the curve."""
        return self.kind in curves.CURVE_KINDS

    @property
    def passes_through_control_points(self) -> bool:
        """True for Catmull-Rom and linear curves (a B-spline's control points are coefficients)."""
        return self.kind in ("catmull-rom", "linear")

    def evaluate(self) -> np.ndarray:
        """The ``(N, 3)`` points of the curve, spaced by at most ``step`` Angstrom."""
        if not self.is_known:
            raise ValueError(f"Cannot evaluate a curve of unknown kind {self.kind!r}.")
        return curves.evaluate_curve(
            self.control_points, self.step, self.kind, self.alpha, self.degree, self.knots
        )

    def anchors(self) -> np.ndarray:
        """The points every evaluation of the curve passes through."""
        return curves.curve_anchors(self.control_points, self.kind, self.degree, self.knots)

    def is_current_for(self, points: object) -> bool:
        """Whether ``points`` still follow this curve (ends and anchors within 1% of ``step``)."""
        return curves.curve_is_current(
            points, self.control_points, self.step, self.kind, self.degree, self.knots
        )

    def reversed(self) -> CopickFilamentCurve:
        """The same curve traversed from the other end."""
        update: dict[str, Any] = {"control_points": self.control_points[::-1]}
        if self.knots is not None:
            update["knots"] = curves.reverse_knots(self.knots).tolist()
        return self.model_copy(update=update)

    @classmethod
    def from_tck(
        cls, tck: Any, step: float, smoothing: float | None = None, scale: float = 1.0
    ) -> CopickFilamentCurve:
        """A B-spline curve from scipy's ``(t, c, k)`` (e.g. ``splprep``), coefficients times ``scale``."""
        knots, coefficients, degree = tck
        if len(coefficients) != 3:
            raise ValueError("tck must hold three coefficient arrays, for x, y and z.")
        control_points = np.column_stack([np.asarray(c, dtype=float) for c in coefficients]) * scale
        return cls(
            kind="bspline",
            control_points=control_points.tolist(),
            step=step,
            degree=int(degree),
            knots=np.asarray(knots, dtype=float).tolist(),
            smoothing=smoothing,
        )


class CopickFilament(BaseModel):
    """One filament: its centreline ``points`` (Angstrom, at least two) and what describes it."""

    instance_id: Annotated[int, Field(ge=1)]
    points: list[Point3]
    polarity_known: bool = False
    score: float = 1.0
    radius: Annotated[float, Field(gt=0)] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    curve: CopickFilamentCurve | None = None

    @field_validator("points")
    @classmethod
    def _points_are_a_centreline(cls, v: list[Point3]) -> list[Point3]:
        if len(v) < 2:
            raise ValueError("A filament needs at least two points.")
        if not all(math.isfinite(x) for point in v for x in point):
            raise ValueError("Filament points must be finite.")
        return v

    @field_validator("metadata", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v

    @classmethod
    def from_curve(cls, instance_id: int, curve: CopickFilamentCurve, **fields: Any) -> CopickFilament:
        """A filament whose points are ``curve`` evaluated."""
        return cls(instance_id=instance_id, points=curve.evaluate().tolist(), curve=curve, **fields)

    @classmethod
    def from_control_points(
        cls,
        instance_id: int,
        control_points: object,
        step: float,
        kind: str = "catmull-rom",
        alpha: float = 0.5,
        **fields: Any,
    ) -> CopickFilament:
        """A filament traced through ``control_points`` (a Catmull-Rom or linear curve)."""
        if kind not in ("catmull-rom", "linear"):
            raise ValueError(
                f"from_control_points makes catmull-rom or linear curves, not {kind!r}; use from_curve."
            )
        curve = CopickFilamentCurve(
            kind=kind,
            control_points=curves.as_points(control_points).tolist(),
            step=step,
            alpha=alpha if kind == "catmull-rom" else None,
        )
        return cls.from_curve(instance_id, curve, **fields)

    def curve_is_current(self) -> bool:
        """Whether the stored curve still describes ``points`` (False without a known curve)."""
        return self.curve is not None and self.curve.is_known and self.curve.is_current_for(self.points)

    def with_control_points(self, control_points: object, step: float | None = None) -> CopickFilament:
        """This filament re-evaluated from new control points, keeping the curve's kind and settings.

        Without a curve, a Catmull-Rom curve stepped at the points' median spacing is started.
        """
        base = self.curve or CopickFilamentCurve(
            kind="catmull-rom", control_points=self.points, step=curves.median_spacing(self.points), alpha=0.5
        )
        cps = curves.as_points(control_points)
        if base.kind == "bspline" and len(cps) != len(base.control_points):
            raise ValueError(
                f"A bspline keeps its knots, so it needs {len(base.control_points)} control points, "
                f"got {len(cps)}. "
                "Convert it with editable_curve(kinds=('catmull-rom',)) to add or remove points."
            )
        data = base.model_dump()
        data.update(control_points=cps.tolist(), step=base.step if step is None else step)
        curve = CopickFilamentCurve.model_validate(data)
        return self.model_copy(
            update={"points": [tuple(p) for p in curve.evaluate().tolist()], "curve": curve}
        )

    def editable_curve(
        self,
        tolerance: float | None = None,
        step: float | None = None,
        kinds: Iterable[str] = curves.CURVE_KINDS,
    ) -> CopickFilamentCurve:
        """A curve to edit: the stored one when current and of an accepted kind, else a Catmull-Rom
        through a few of the points (within ``tolerance``, default half their median spacing)."""
        if self.curve is not None and self.curve.kind in tuple(kinds) and self.curve_is_current():
            return self.curve
        spacing = curves.median_spacing(self.points)
        control_points = curves.control_points_from_polyline(
            self.points, 0.5 * spacing if tolerance is None else tolerance
        )
        return CopickFilamentCurve(
            kind="catmull-rom",
            control_points=control_points.tolist(),
            step=spacing if step is None else step,
            alpha=0.5,
        )

    def editable_control_points(
        self,
        tolerance: float | None = None,
        step: float | None = None,
        kinds: Iterable[str] = curves.CURVE_KINDS,
    ) -> np.ndarray:
        """The control points of :meth:`editable_curve`, as an ``(N, 3)`` array."""
        return np.asarray(self.editable_curve(tolerance, step, kinds).control_points, dtype=float)

    def reversed(self) -> CopickFilament:
        """The same filament with its direction (points and curve) reversed."""
        curve = self.curve.reversed() if self.curve is not None else None
        return self.model_copy(update={"points": self.points[::-1], "curve": curve})


class CopickFilamentsFile(BaseModel):
    """The content of ``Filaments/<user>_<session>_<object>.json``: filaments with unique instance ids."""

    pickable_object_name: str
    user_id: str
    session_id: str
    run_name: str | None = None
    voxel_spacing: float | None = None
    unit: str = "angstrom"
    version: int = 1
    filaments: list[CopickFilament] = Field(default_factory=list)

    @model_validator(mode="after")
    def _instance_ids_are_unique(self) -> CopickFilamentsFile:
        counts = Counter(f.instance_id for f in self.filaments)
        repeated = sorted(i for i, n in counts.items() if n > 1)
        if repeated:
            raise ValueError(f"Filament instance IDs must be unique within a file (repeated: {repeated}).")
        return self
