"""Filaments: polylines (optionally with the curve they were sampled from) of one object by one user
in one session, one JSON file in a run's ``Filaments/`` folder (``CopickFilamentsFile``)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from copick.entities.annotations import FILAMENTS, AnnotationEntity
from copick.entities.base import StoredEntity
from copick.errors import CorruptFileError, InvalidDataError

if TYPE_CHECKING:
    from copick.entities.run import CopickRun
    from copick.filament_models import CopickFilament, CopickFilamentCurve, CopickFilamentsFile

_CURVE_KINDS = ("catmull-rom", "linear", "bspline")


def _models() -> Any:
    from copick import filament_models

    return filament_models


class CopickFilaments(AnnotationEntity, StoredEntity):
    """A set of filaments; the file is read on first use of ``filaments`` and written by ``store()``."""

    _kind = "filaments"
    KIND = FILAMENTS

    def __init__(self, run: CopickRun, file: CopickFilamentsFile, read_only: bool = False):
        self.run = run
        self._file = file
        self.read_only = read_only
        self._loaded = False

    @classmethod
    def created(cls, run: CopickRun, object_name: str, session_id: str, user_id: str) -> CopickFilaments:
        file = _models().CopickFilamentsFile(
            pickable_object_name=object_name, user_id=user_id, session_id=session_id, run_name=run.name
        )
        entity = cls(run, file)
        entity._loaded = True
        return entity

    # --- identity ------------------------------------------------------------------------------

    @property
    def _id_meta(self) -> CopickFilamentsFile:
        return self._file

    @property
    def meta(self) -> CopickFilamentsFile:
        self._ensure_loaded()
        return self._file

    @property
    def voxel_spacing(self) -> float | None:
        return self._file.voxel_spacing

    # --- data ----------------------------------------------------------------------------------

    @property
    def filaments(self) -> list[CopickFilament]:
        self._ensure_loaded()
        return self._file.filaments

    @filaments.setter
    def filaments(self, value: list[CopickFilament]) -> None:
        self._set(list(value), self._file.voxel_spacing)

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def load(self) -> CopickFilamentsFile:
        """Re-read the file (``FileNotFoundError`` if it is gone) and return the file model."""
        from pydantic import ValidationError

        data = self._read_bytes()
        try:
            self._file = _models().CopickFilamentsFile.model_validate(json.loads(data))
        except json.JSONDecodeError as err:
            raise CorruptFileError(f"{self._location}: not valid JSON ({err.msg}).") from None
        except ValidationError as err:
            raise CorruptFileError(f"{self._location}: not a copick filaments file:\n{err}") from None
        self._loaded = True
        return self._file

    def refresh(self) -> None:
        self.load()

    def get(self, instance_id: int) -> CopickFilament | None:
        return next((f for f in self.filaments if f.instance_id == instance_id), None)

    def instance_ids(self) -> np.ndarray:
        return np.array([f.instance_id for f in self.filaments], dtype=np.int64)

    def numpy(self) -> list[np.ndarray]:
        """One (M, 3) array of x/y/z points (Angstrom) per filament."""
        return [np.asarray(f.points, dtype=np.float64).reshape(-1, 3) for f in self.filaments]

    def control_points(self) -> list[np.ndarray | None]:
        """Each filament's curve control points, or ``None`` where it has no curve."""
        return [
            None if f.curve is None else np.asarray(f.curve.control_points, dtype=np.float64)
            for f in self.filaments
        ]

    def editable_curve(
        self, instance_id: int, tolerance: float | None = None, kinds: Iterable[str] = _CURVE_KINDS
    ) -> CopickFilamentCurve:
        filament = self.get(instance_id)
        if filament is None:
            raise KeyError(f"{self!r} has no filament with instance_id {instance_id}.")
        return filament.editable_curve(tolerance=tolerance, kinds=kinds)

    def from_numpy(
        self,
        polylines: list[np.ndarray],
        instance_ids: list[int] | None = None,
        polarity_known: list[bool] | None = None,
        scores: list[float] | None = None,
        radii: list[float | None] | None = None,
        voxel_spacing: float | None = None,
        metadata: list[dict[str, Any] | None] | None = None,
    ) -> None:
        """Replace every filament with the given polylines ((M, 3) x/y/z each) and store."""
        polylines = [_polyline(p, i) for i, p in enumerate(polylines)]
        fields = _per_filament(len(polylines), instance_ids, polarity_known, scores, radii, metadata)
        model = _models().CopickFilament
        self._set([model(points=p, **f) for p, f in zip(polylines, fields)], voxel_spacing)

    def from_curves(
        self,
        curves: list[CopickFilamentCurve],
        instance_ids: list[int] | None = None,
        polarity_known: list[bool] | None = None,
        scores: list[float] | None = None,
        radii: list[float | None] | None = None,
        voxel_spacing: float | None = None,
        metadata: list[dict[str, Any] | None] | None = None,
    ) -> None:
        """Replace every filament with points sampled from ``curves`` (kept with them) and store."""
        fields = _per_filament(len(curves), instance_ids, polarity_known, scores, radii, metadata)
        model = _models().CopickFilament
        filaments = [model.from_curve(f.pop("instance_id"), curve, **f) for curve, f in zip(curves, fields)]
        self._set(filaments, voxel_spacing)

    def from_control_points(
        self,
        control_points: list[np.ndarray],
        instance_ids: list[int] | None = None,
        step: float | None = None,
        kind: str = "catmull-rom",
        alpha: float = 0.5,
        polarity_known: list[bool] | None = None,
        scores: list[float] | None = None,
        radii: list[float | None] | None = None,
        voxel_spacing: float | None = None,
        metadata: list[dict[str, Any] | None] | None = None,
    ) -> None:
        """Replace every filament with a curve through ``control_points`` sampled every ``step`` Angstrom."""
        fields = _per_filament(len(control_points), instance_ids, polarity_known, scores, radii, metadata)
        model = _models().CopickFilament
        filaments = [
            model.from_control_points(
                f.pop("instance_id"), _polyline(cps, i), step=step, kind=kind, alpha=alpha, **f
            )
            for i, (cps, f) in enumerate(zip(control_points, fields))
        ]
        self._set(filaments, voxel_spacing)

    def _set(self, filaments: list[CopickFilament], voxel_spacing: float | None) -> None:
        self._require_writable("store")
        data = {**self._file.model_dump(), "filaments": filaments}
        if voxel_spacing is not None:
            data["voxel_spacing"] = voxel_spacing
        self._file = _models().CopickFilamentsFile.model_validate(data)
        self._loaded = True
        self.store()

    def _drop_stale_curves(self) -> None:
        """Curves that no longer produce their filament's points are dropped, with a warning."""
        stale = [
            f.instance_id for f in self._file.filaments if f.curve is not None and not f.curve_is_current()
        ]
        if stale:
            warnings.warn(
                f"{self!r}: the curves of filaments {stale} no longer match their points and were dropped.",
                UserWarning,
                stacklevel=3,
            )
            for filament in self._file.filaments:
                if filament.instance_id in stale:
                    filament.curve = None

    def _encoded(self) -> bytes:
        self._ensure_loaded()
        self._drop_stale_curves()
        return json.dumps(self._file.model_dump(mode="json"), indent=4).encode()

    def store(self) -> None:
        """Write the file atomically; read-only filaments raise ``PermissionError``."""
        self._write_bytes(self._encoded())

    def _store_new(self) -> None:
        """``store()`` for a new filament set: ``FileExistsError`` if the file exists (create-only)."""
        self._write_bytes(self._encoded(), create=True)

    def copy_from(self, source: Any) -> None:
        """Replace these filaments with ``source``'s file, as its JSON document (curves, radii,
        metadata ... travel unchanged) with this set's identity and run written into it."""
        self._require_writable("store")
        document = json.loads(source._read_bytes())
        document.update(
            pickable_object_name=self.pickable_object_name, user_id=self.user_id, session_id=self.session_id
        )
        if "run_name" in document:
            document["run_name"] = self.run.name
        self._write_bytes(json.dumps(document, indent=2).encode())
        self.refresh()

    def delete(self) -> None:
        """Delete the file and drop it from the run."""
        self._delete_file()
        self._forget_in_run()

    def __repr__(self) -> str:
        count = len(self._file.filaments) if self._loaded else None
        return (
            f"CopickFilaments(pickable_object_name={self.pickable_object_name}, user_id={self.user_id}, "
            f"session_id={self.session_id}, len(filaments)={count}) at {hex(id(self))}"
        )


def _polyline(points: Any, index: int) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InvalidDataError(f"filament {index}: points must have shape (M, 3) (x, y, z), got {arr.shape}.")
    return arr


def _per_filament(
    n: int, instance_ids: Any, polarity_known: Any, scores: Any, radii: Any, metadata: Any
) -> list:
    """The per-filament fields as one dict per filament (instance ids default to 1..n)."""
    columns = {
        "instance_id": list(range(1, n + 1)) if instance_ids is None else instance_ids,
        "polarity_known": polarity_known,
        "score": scores,
        "radius": radii,
        "metadata": metadata,
    }
    plural = {"instance_id": "instance_ids", "score": "scores", "radius": "radii"}
    fields: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, values in columns.items():
        if values is None:
            continue
        values = list(np.asarray(values).tolist()) if isinstance(values, np.ndarray) else list(values)
        if len(values) != n:
            name = plural.get(key, key)
            raise ValueError(f"{name} must have one entry per filament ({n}), got {len(values)}.")
        for entry, value in zip(fields, values):
            if value is not None:
                entry[key] = value
    return fields
