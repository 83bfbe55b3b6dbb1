"""Point picks: one JSON file per (user, session, object) in a run's ``Picks/`` folder.

Points are held as numpy arrays and turned into ``CopickPoint`` models only when ``.points`` or
``.meta`` is used, so big pick sets read and write at JSON-parser speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copick.entities.annotations import PICKS, AnnotationEntity
from copick.entities.base import StoredEntity, own_meta
from copick.formats import picks_json
from copick.formats.picks_json import PickArrays, bulk_objects
from copick.listed_meta import ListedMeta
from copick.metadata import (
    CopickLocation,
    CopickPicksFile,
    CopickPoint,
    construct_unchecked,
)

if TYPE_CHECKING:
    from copick.entities.run import CopickRun


def points_from_arrays(arrays: PickArrays) -> list[CopickPoint]:
    """Build point models from already validated arrays (no per-point validation)."""
    point, loc = CopickPoint, CopickLocation
    with bulk_objects():
        return [
            construct_unchecked(
                point,
                {
                    "location": construct_unchecked(loc, {"x": x, "y": y, "z": z}),
                    "transformation_": t,
                    "instance_id": i,
                    "score": s,
                },
            )
            for (x, y, z), t, i, s in zip(
                arrays.positions.tolist(),
                arrays.transforms.tolist(),
                arrays.instance_ids.tolist(),
                arrays.scores.tolist(),
            )
        ]


_LAST_ROW = [0.0, 0.0, 0.0, 1.0]


def points_from_json(points: list[dict[str, Any]]) -> list[CopickPoint]:
    """Build point models straight from parsed JSON points, checking what validation would."""
    point, loc = CopickPoint, CopickLocation
    models = []
    for p in points:
        xyz = p["location"]
        transform = p.get("transformation_")
        if transform is not None and (
            len(transform) != 4 or transform[3] != _LAST_ROW or any(len(r) != 4 for r in transform)
        ):
            raise ValueError(f"transformation_ must be 4x4 with last row [0, 0, 0, 1], got {transform!r}")
        instance_id, score = p.get("instance_id", 0), p.get("score", 1.0)
        models.append(
            construct_unchecked(
                point,
                {
                    "location": construct_unchecked(
                        loc, {"x": float(xyz["x"]), "y": float(xyz["y"]), "z": float(xyz["z"])}
                    ),
                    "transformation_": transform,
                    "instance_id": None if instance_id is None else int(instance_id),
                    "score": None if score is None else float(score),
                },
            )
        )
    return models


def arrays_from_points(points: list[CopickPoint]) -> PickArrays:
    """Arrays of a list of point models (``None`` fields take their defaults)."""
    if not points:
        return PickArrays.empty()
    return PickArrays.build(
        [(p.location.x, p.location.y, p.location.z) for p in points],
        [p.transformation_ if p.transformation_ is not None else np.eye(4) for p in points],
        [0 if p.instance_id is None else p.instance_id for p in points],
        [1.0 if p.score is None else p.score for p in points],
    )


class CopickPicks(AnnotationEntity, StoredEntity):
    """A set of picked points of one object by one user in one session."""

    _kind = "picks"
    KIND = PICKS

    def __init__(self, run: CopickRun, file: CopickPicksFile, read_only: bool = False):
        self.run = run
        self._meta = file
        self.read_only = read_only
        # Points not yet turned into models: arrays (after from_numpy) or JSON points (after a read).
        self._pending: PickArrays | list | None = None
        self._loaded = type(file) is not ListedMeta and bool(file.points)  # listed files: not yet

    # --- identity ----------------------------------------------------------------------------

    @property
    def _id_meta(self) -> CopickPicksFile:
        return self._meta

    @classmethod
    def created(cls, run: CopickRun, object_name: str, session_id: str, user_id: str) -> CopickPicks:
        """A new, empty pick set (not yet stored)."""
        file = CopickPicksFile(
            pickable_object_name=object_name, user_id=user_id, session_id=session_id, run_name=run.name
        )
        return cls(run, file)

    @property
    def _file(self) -> CopickPicksFile:
        """The file model, made from the listed values (``ListedMeta``) on first use."""
        return own_meta(self)

    @property
    def _stored_points(self) -> list[CopickPoint] | None:
        """The file model's points, without making the model (a listed file has none yet)."""
        meta = self._meta
        return None if type(meta) is ListedMeta else meta.points

    @property
    def trust_orientation(self) -> bool | None:
        return self._meta.trust_orientation

    @property
    def color(self) -> tuple[int, int, int, int] | None:
        obj = self.run.root.get_object(self.pickable_object_name)
        if obj is None:
            raise ValueError(f"{self.pickable_object_name} is not a known pickable object.")
        return obj.color

    # --- data ----------------------------------------------------------------------------------

    @property
    def meta(self) -> CopickPicksFile:
        """The file model; point models are built here on first use."""
        pending = self._pending
        if isinstance(pending, PickArrays):
            self._file.points = points_from_arrays(pending)
        elif pending is not None:
            self._file.points = picks_json.convert_points(pending, self._location, points_from_json)
        self._pending = None
        return self._file

    @meta.setter
    def meta(self, value: CopickPicksFile) -> None:
        self._meta, self._pending, self._loaded = value, None, True

    @property
    def points(self) -> list[CopickPoint]:
        self._ensure_loaded()
        return self.meta.points

    @points.setter
    def points(self, value: list[CopickPoint]) -> None:
        self._file.points, self._pending, self._loaded = value, None, True

    def _ensure_loaded(self) -> None:
        if not self._loaded and self._pending is None and not self._stored_points:
            self._read()

    def _read(self) -> None:
        data = self._read_bytes()
        reader = self._locator.reader
        if reader is not None:  # not copick's JSON (portal ndjson): the header is the record's meta
            self._pending, self._loaded = reader(data, self._location), True
            return
        header, points = picks_json.decode(data, self._location)
        self._meta = construct_unchecked(CopickPicksFile, {**header, "points": []})
        self._pending, self._loaded = points, True

    def _current_arrays(self) -> PickArrays:
        """The points as arrays (converting JSON points once, and keeping the result)."""
        self._ensure_loaded()
        if self._pending is not None and not isinstance(self._pending, PickArrays):  # JSON points
            self._pending = picks_json.arrays_from_json(self._pending, self._location)
        if self._pending is not None:
            return self._pending
        return arrays_from_points(self._stored_points or [])

    def load(self) -> CopickPicksFile:
        """Re-read the file (``FileNotFoundError`` if it is gone) and return the file model."""
        self._read()
        return self.meta

    def refresh(self) -> None:
        self.load()

    def store(self) -> None:
        """Write the picks file atomically; read-only picks raise ``PermissionError``."""
        self._write_bytes(self._encoded())
        self._loaded = True

    def _store_new(self) -> None:
        """``store()`` for a new pick set: ``FileExistsError`` if the file exists (create-only)."""
        self._write_bytes(self._encoded(), create=True)
        self._loaded = True

    def copy_from(self, source: Any) -> None:
        """Replace these picks with ``source``'s (any picks, of any project or backend): every header
        field and point, with this pick set's identity and run written into the file."""
        self._require_writable("store")
        model = source.load()
        update = {
            "pickable_object_name": self.pickable_object_name,
            "user_id": self.user_id,
            "session_id": self.session_id,
        }
        if "run_name" in type(model).model_fields:
            update["run_name"] = self.run.name
        self.meta = model.model_copy(update=update)
        self.store()

    def _encoded(self) -> bytes:
        arrays = (
            self._current_arrays()
            if self._pending is not None
            else arrays_from_points(self._stored_points or [])
        )
        header = {k: getattr(self._meta, k) for k in ("pickable_object_name", "user_id", "session_id")}
        header.update({k: getattr(self._meta, k, d) for k, d in picks_json.HEADER_DEFAULTS.items()})
        return picks_json.encode(header, arrays)

    def numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions (N, 3) in Angstrom x/y/z, transforms (N, 4, 4)), float64 copies."""
        arrays = self._current_arrays()
        return arrays.positions.copy(), arrays.transforms.copy()

    def instance_ids(self) -> np.ndarray:
        return self._current_arrays().instance_ids.copy()

    def scores(self) -> np.ndarray:
        return self._current_arrays().scores.copy()

    def full_positions(self) -> np.ndarray:
        """Positions plus each transform's translation column (the particle centres), Angstrom."""
        return self._current_arrays().full_positions()

    def from_numpy(
        self,
        positions: Any,
        transforms: Any = None,
        instance_ids: Any = None,
        scores: Any = None,
    ) -> None:
        """Replace all points with the given arrays and store immediately."""
        self._require_writable("store")
        arrays = PickArrays.build(positions, transforms, instance_ids, scores)
        self._file.points, self._pending, self._loaded = [], arrays, True
        self.store()

    def df(self, format: str = "relion", **kwargs: Any) -> Any:
        """These picks as a table: ``relion`` (RELION 5 particles, ``copick.util.relion``)."""
        if format != "relion":
            raise ValueError(f"Format {format} is not supported.")
        from copick.util.relion import picks_to_df_relion

        return picks_to_df_relion(self, **kwargs)

    def from_df(self, df: Any, format: str = "relion", **kwargs: Any) -> None:
        """Replace (and store) the points with a table's rows: ``relion`` particles."""
        if format != "relion":
            raise ValueError(f"Format {format} is not supported.")
        from copick.util.relion import relion_df_to_picks

        relion_df_to_picks(self, df, **kwargs)

    def delete(self) -> None:
        """Delete the file (``FileNotFoundError`` if already gone) and drop it from the run."""
        self._delete_file()
        self._forget_in_run()

    def __repr__(self) -> str:
        n = len(self._pending) if self._pending is not None else len(self._stored_points or [])
        return (
            f"CopickPicks(pickable_object_name={self.pickable_object_name}, user_id={self.user_id}, "
            f"session_id={self.session_id}, len(points)={n}) at {hex(id(self))}"
        )
