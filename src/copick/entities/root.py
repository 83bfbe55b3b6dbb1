"""The root of a project: its config, pickable objects and runs."""

from __future__ import annotations

import json
import warnings
from typing import Any

from copick import layout
from copick.catalog import RUN
from copick.entities.base import from_record, storage_of
from copick.entities.object import CopickObject
from copick.entities.run import CopickRun
from copick.errors import ConfigError, EntityExistsError, InvalidNameError
from copick.metadata import CopickConfig, CopickRunMeta, PickableObject
from copick.storage import ProjectStorage


class CopickRoot:
    """A copick project. Runs and objects are listed lazily and cached until ``refresh()``."""

    run_class = CopickRun
    object_class = CopickObject
    _storage: ProjectStorage | None = None

    def __init__(self, config: CopickConfig):
        self.config = config
        self._runs: list[CopickRun] | None = None
        self._objects: list[CopickObject] | None = None

    # --- config --------------------------------------------------------------------------------

    @property
    def user_id(self) -> str | None:
        return self.config.user_id

    @user_id.setter
    def user_id(self, value: str | None) -> None:
        self.config.user_id = value

    @property
    def session_id(self) -> str | None:
        return self.config.session_id

    @session_id.setter
    def session_id(self, value: str | None) -> None:
        self.config.session_id = value

    def save_config(self, config_path: str) -> None:
        """Write the config as JSON (4-space indent) to a local path, atomically."""
        import os

        from copick.storage_local import write_atomic

        text = json.dumps(self.config.model_dump(mode="json"), indent=4)
        write_atomic(os.path.abspath(config_path), text.encode())

    # --- objects -------------------------------------------------------------------------------

    @property
    def pickable_objects(self) -> list[CopickObject]:
        if self._objects is None:
            self._objects = [self.object_class(self, meta) for meta in self.config.pickable_objects]
        return self._objects

    def get_object(self, name: str) -> CopickObject | None:
        return next((o for o in self.pickable_objects if o.name == name), None)

    def new_object(
        self,
        name: str,
        is_particle: bool,
        label: int | None = None,
        color: Any = None,
        emdb_id: str | None = None,
        pdb_id: str | None = None,
        identifier: str | None = None,
        map_threshold: float | None = None,
        radius: float | None = None,
        metadata: dict | None = None,
        exist_ok: bool = False,
        filament: Any = None,
    ) -> CopickObject:
        """Add an object to the config in memory (``save_config`` persists it)."""
        from copick.util.escape import sanitize_name

        if sanitize_name(name) != name:
            raise InvalidNameError(f"Object name {name!r} is not valid; use {sanitize_name(name, True)!r}.")
        layout.check_name(name, "Object name")
        if name.endswith("-multilabel"):
            warnings.warn(
                f"Object name {name!r} ends in '-multilabel', which makes segmentation names ambiguous.",
                UserWarning,
                stacklevel=2,
            )
        fields = dict(
            color=color, emdb_id=emdb_id, pdb_id=pdb_id, identifier=identifier,
            map_threshold=map_threshold, radius=radius, metadata=metadata,
        )  # fmt: skip
        existing = self.get_object(name)
        if existing is not None:
            if not exist_ok:
                raise EntityExistsError(f"Object name {name} already exists.")
            given = {**fields, "label": label, "is_particle": is_particle}
            updates = {k: v for k, v in given.items() if v is not None}  # None keeps, anything else updates
            meta = PickableObject.model_validate({**existing.meta.model_dump(), **updates})
            if filament is not None:
                meta.set_filament(filament)
            index = self.config.pickable_objects.index(existing.meta)
            self.config.pickable_objects[index] = meta
            existing.meta = meta
            return existing
        labels = [o.label for o in self.config.pickable_objects if o.label is not None]
        if label is None:
            label = max(labels, default=0) + 1
        elif label in labels:
            raise EntityExistsError(f"Object label {label} already exists.")
        given = {k: v for k, v in fields.items() if v is not None}
        meta = PickableObject(name=name, is_particle=is_particle, label=label, **given)
        if filament is not None:
            meta.set_filament(filament)
        self.config.pickable_objects.append(meta)
        obj = self.object_class(self, meta)
        self.pickable_objects.append(obj)
        return obj

    def _forget_object(self, obj: CopickObject) -> None:
        if self._objects is not None and obj in self._objects:
            self._objects.remove(obj)

    # --- runs ----------------------------------------------------------------------------------

    @property
    def runs(self) -> list[CopickRun]:
        if self._runs is None:
            self._runs = self.query()
        return self._runs

    def query(self) -> list[CopickRun]:
        """List the runs: the config's ``runs`` list when given, else the runs of every catalog of the
        project (its folder layers' run folders, a portal's runs), merged by name, sorted. A run listed
        by a catalog of another source than the folders gets its meta from there."""
        storage = self._storage
        if storage is None:
            return []
        if self.config.runs is not None:
            names = list(self.config.runs)
            for name in names:
                try:
                    layout.check_run_name(name)
                except (InvalidNameError, TypeError) as err:
                    raise ConfigError(f"The config's 'runs' list holds an unusable run name: {err}") from None
            records = {r.meta.name: r for catalog in storage.catalogs for r in catalog.records(RUN)}
        else:
            records = {}
            for record in storage.records(RUN):
                records.setdefault(record.meta.name, record)  # catalogs first, then static
            names = sorted(records)
        storage.expect_runs(names)
        run_class = self.run_class
        runs = []
        for name in names:
            record = records.get(name)
            if record is None:
                runs.append(run_class(self, CopickRunMeta(name=name)))
            else:
                runs.append(from_record(run_class(self, record.meta), record))
        return runs

    def get_run(self, name: str, **kwargs: Any) -> CopickRun | None:
        """The run called ``name``, or ``None``. Before listing, only checks that its folder exists."""
        layout.check_run_name(name)
        if self._runs is None and not (self._storage and self._storage.catalogs):
            if self._storage is None:
                return None
            run = self.run_class(self, CopickRunMeta(name=name, **kwargs))
            return run if run.ensure(create=False) else None
        return next((r for r in self.runs if r.name == name), None)

    def new_run(self, name: str, exist_ok: bool = False, **kwargs: Any) -> CopickRun:
        """Create ``ExperimentRuns/<name>/`` (with ``.meta``) in the overlay."""
        layout.check_run_name(name)
        storage_of(self)
        existing = next((r for r in self.runs if r.name == name), None)
        if existing is None:
            probe = self.run_class(self, CopickRunMeta(name=name, **kwargs))
            if probe.ensure(create=False):
                existing = probe
                self.runs.append(probe)
        if existing is not None:
            if exist_ok:
                return existing
            raise EntityExistsError(f"Run name {name} already exists.")
        run = self.run_class(self, CopickRunMeta(name=name, **kwargs))
        run.ensure(create=True)
        self.runs.append(run)
        return run

    def delete_run(self, name: str) -> None:
        """Delete a run's overlay folder; a missing run is a no-op."""
        run = self.get_run(name)
        if run is not None:
            run.delete()

    def _forget_run(self, run: CopickRun) -> None:
        if self._runs is not None:
            self._runs = [r for r in self._runs if r.name != run.name]

    def refresh(self) -> None:
        """Re-list runs now and rebuild the object list from the config."""
        self._runs = self.query()
        self._objects = None

    def reconnect(self) -> None:
        """Drop every cache (remote backends reconnect on next use)."""
        self._runs = None
        self._objects = None

    def __repr__(self) -> str:
        objects = None if self._objects is None else len(self._objects)
        runs = None if self._runs is None else len(self._runs)
        return (
            f"CopickRoot(user_id={self.user_id}, len(pickable_objects)={objects}, "
            f"len(runs)={runs}) at {hex(id(self))}"
        )
