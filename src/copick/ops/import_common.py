"""Shared machinery of the imports: reports, targets made on demand (removed on failure), batch runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copick.errors import EntityExistsError, MissingEntityError, UnknownObjectError

if TYPE_CHECKING:
    from copick.formats.picks_json import PickArrays

_log = logging.getLogger("copick.ops.importers")
DEFAULT_CHUNKS = (256, 256, 256)


MissingTargetError = MissingEntityError  # the name this module used first


# ------------------------------------------------------------------------------------------------
# reports
# ------------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: items imported, files skipped (with reasons), errors, particles dropped."""

    total: int = 0
    processed: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped_particles: int = 0
    items: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_results(self) -> dict[str, dict[str, Any]]:
        """The report in ``report_results`` form (one pseudo-run holding every count)."""
        return {"import": {"processed": self.processed, "errors": list(self.errors)}}

    def log_summary(self, logger: logging.Logger | None = None, what: str = "items") -> None:
        """Log the outcome (as ``report_results`` does) and tell a running command about failures."""
        from copick.ops.run import note_failures

        log = logger or _log
        if self.skipped:
            log.warning(f"Skipped {len(self.skipped)} file(s):")
            for reason in self.skipped:
                log.warning(f"  - {reason}")
        if self.skipped_particles:
            log.warning(
                f"Skipped {self.skipped_particles} particle(s) whose tomogram has no run (see above)."
            )
        if self.errors:
            log.error(f"Failed to process {len(self.errors)} items:")
            for error in self.errors:
                log.error(f"  - {error}")
            if self.processed:
                log.info(f"Successfully processed {self.processed} out of {self.total} {what}")
            note_failures(len(self.errors), self.errors[0], total=max(self.total, len(self.errors)))
        else:
            log.info(f"Successfully processed all {self.processed} {what}")


class PicksImportResult(dict):
    """{run name: picks} of a multi-tomogram import, with the particles that could not be placed.

    ``skipped_particles`` counts particles whose tomogram index (or name) maps to no run;
    ``unmapped`` gives their count per index.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.skipped_particles = 0
        self.unmapped: dict[Any, int] = {}
        self.source = ""


# ------------------------------------------------------------------------------------------------
# targets: created on demand, removed again when the write fails
# ------------------------------------------------------------------------------------------------


class Targets:
    """Gets or creates runs and voxel spacings; ``rollback()`` deletes whatever it created."""

    def __init__(self, root: Any, create: bool, log: bool):
        self.root, self.create, self.log = root, create, log
        self.created: list[Any] = []

    def run(self, run: Any) -> Any:
        if not isinstance(run, str):
            return run
        found = self.root.get_run(run)
        if found is not None:
            return found
        if not self.create:
            raise MissingTargetError(
                f"Run {run!r} not found in the project (and create=False / --no-create)."
            )
        found = self.root.new_run(run, exist_ok=True)
        self.created.append(found)
        if self.log:
            _log.info(f"Created run: {run}")
        return found

    def voxel_spacing(self, run: Any, voxel_size: float) -> Any:
        vs = run.get_voxel_spacing(float(voxel_size))
        if vs is not None:
            return vs
        if not self.create:
            raise MissingTargetError(
                f"Voxel spacing {float(voxel_size)} not found in run {run.name!r} "
                "(and create=False / --no-create)."
            )
        vs = run.new_voxel_spacing(float(voxel_size), exist_ok=True)
        self.created.append(vs)
        if self.log:
            _log.info(f"Created voxel spacing {float(voxel_size)} in run {run.name}")
        return vs

    def made(self, entity: Any) -> Any:
        """Register an entity this import created (deleted on rollback)."""
        self.created.append(entity)
        return entity

    def rollback(self) -> None:
        for entity in reversed(self.created):
            try:
                entity.delete()
            except Exception as err:  # best effort: report, keep cleaning
                _log.warning(f"Could not remove {entity!r} after a failed import: {err}")
        self.created.clear()

    def __enter__(self) -> Targets:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.rollback()


def existing_run(root: Any, run: Any) -> Any:
    return root.get_run(run) if isinstance(run, str) else run


def run_label(run: Any) -> str:
    return run if isinstance(run, str) else run.name


def replace_allowed(exist_ok: bool, overwrite: bool) -> bool:
    return bool(exist_ok or overwrite)


def require_object(root: Any, object_name: str) -> str:
    from copick.util.escape import sanitize_name

    name = sanitize_name(object_name)
    if root.get_object(name) is None:
        raise UnknownObjectError(f"Object name {name} not found in pickable objects.")
    return name


# ------------------------------------------------------------------------------------------------
# batch runs behind ``copick add``
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One file to import: ``fn(root, *args, **kwargs)``. ``fn`` is a module-level function and the
    arguments plain data, so a job can run in another process (``--executor process|dask``)."""

    label: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def run_job(root: Any, job: Job, _: dict[str, Any]) -> Any:
    """The task of one job (``copick.ops.run.run_tasks``), wherever it runs."""
    return job.fn(root, *job.args, **job.kwargs)


def run_job_elsewhere(root: Any, job: Job, options: dict[str, Any]) -> Any:
    """``run_job`` in another process: what comes back is plain data, not entities bound to that
    process's project (see ``portable``)."""
    return portable(run_job(root, job, options))


def portable(value: Any) -> Any:
    """A job's result as it crosses back from another process: an entity as its copick URI (sending
    it would send its whole project), a ``{run: picks}`` result as ``{run: URI}`` with its counts."""
    from copick.entities.base import StoredEntity
    from copick.kinds import kind_of
    from copick.util.uri import serialize_copick_uri

    if isinstance(value, StoredEntity):
        return serialize_copick_uri(value) if kind_of(value) is not None else getattr(value, "name", None)
    if isinstance(value, PicksImportResult):
        out = PicksImportResult({run: portable(picks) for run, picks in value.items()})
        out.skipped_particles, out.unmapped, out.source = (
            value.skipped_particles,
            value.unmapped,
            value.source,
        )
        return out
    return value


def run_jobs(
    root: Any,
    jobs: list[Job],
    report: ImportReport,
    max_workers: int,
    show_progress: bool,
    description: str,
) -> None:
    """Run the jobs in ``max_workers`` threads, or in processes or on a Dask cluster when the running
    command says so (``--executor``); each result or error lands in ``report``. In threads
    ``report.items`` holds the imported entities, elsewhere their URIs (see ``portable``)."""
    from copick.ops.run import choose_executor, progress, run_tasks

    parallelism, client = choose_executor(run_job, jobs)
    task = run_job if parallelism == "thread" else run_job_elsewhere

    def failed(i: int, err: BaseException) -> None:
        label = jobs[i].label
        _log.debug(f"Import of {label} failed", exc_info=(type(err), err, err.__traceback__))
        report.errors.append(f"{label}: {err}" if label not in str(err) else str(err))

    with progress(len(jobs), description, show_progress) as advance:
        outcomes = run_tasks(
            task, root, jobs, [{}] * len(jobs), parallelism, max_workers, client, advance, failed
        )
    for job, (ok, value) in zip(jobs, outcomes):
        if ok:
            report.processed += 1
            report.items[job.label] = value
            report.skipped_particles += getattr(value, "skipped_particles", 0)


def plan_paths(
    path: Any, run: str, run_regex: str, run_name_prefix: str, report: ImportReport, root: Any, create: bool
) -> dict[str, str]:
    """{run: file} for PATH (a glob); unmatched names go to ``skipped``, duplicate runs to ``errors``."""
    from copick.util.path_util import expand_paths, plan_runs_from_paths

    paths = expand_paths(path)
    if not paths:
        report.errors.append(f"No files found matching pattern: {path}")
        return {}
    plan = plan_runs_from_paths(paths, run, run_regex, run_name_prefix)
    for skipped_path, reason in plan.skipped:
        message = f"{skipped_path}: {reason}"
        (report.errors if "already receives" in reason else report.skipped).append(message)
    mapping = {}
    for run_name, file_path in plan.mapping.items():
        if not create and root.get_run(run_name) is None:
            report.errors.append(f"{file_path}: run {run_name!r} does not exist (and --no-create).")
        else:
            mapping[run_name] = file_path
    report.total = len(paths)
    return mapping


# ------------------------------------------------------------------------------------------------
# picks targets
# ------------------------------------------------------------------------------------------------


def check_picks_targets(
    root: Any,
    run_names: Sequence[str],
    object_name: str,
    user_id: str,
    session_id: str,
    create: bool,
    replace: bool,
    source: str,
) -> None:
    """Every target run may be created (or exists) and holds no such picks unless they may be replaced."""
    runs = {name: root.get_run(name) for name in run_names}
    missing = [name for name, run in runs.items() if run is None]
    if missing and not create:
        raise MissingTargetError(f"{source}: run(s) {', '.join(missing)} do not exist (and --no-create).")
    if replace:
        return
    for name, run in runs.items():
        if run is not None and run.get_picks(object_name, user_id, session_id):
            raise EntityExistsError(
                f"{source}: picks for {object_name} by user/tool {user_id} already exist in "
                f"session {session_id} of run {name} (use --overwrite to replace them)."
            )


def store_picks(
    root: Any,
    groups: dict[str, PickArrays],
    object_name: str,
    user_id: str,
    session_id: str,
    create: bool,
    log: bool,
) -> dict[str, Any]:
    """Write every run's picks; on failure remove the runs and pick sets this call created."""
    out = {}
    with Targets(root, create, log) as targets:
        for run_name, arrays in groups.items():
            run = targets.run(run_name)
            found = run.get_picks(object_name, user_id, session_id)
            picks = (
                found[0]
                if found
                else targets.made(run.new_picks(object_name, session_id, user_id, exist_ok=True))
            )
            picks.from_numpy(arrays.positions, arrays.transforms, arrays.instance_ids, arrays.scores)
            out[run_name] = picks
            if log:
                _log.info(f"Imported {len(arrays)} picks of {object_name} into run {run_name}")
    return out
