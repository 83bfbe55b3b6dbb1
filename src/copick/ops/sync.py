"""Copying entities of any kind from one project into another (``copick sync``).

Lists filter (allow-lists of names); dicts rename (source name -> target name); comma-separated
strings (``"a,b"``, ``"src:dst,..."``) are accepted as well. As in copick 1.31, the target run of
every selected source run is created, and voxel spacings as copies need them; pickable objects the
copies need are added to the target config (and the config file rewritten when its path is known).
Per-item failures are returned in the ``SyncReport``, never raised. One generic ``sync_kind`` serves
every kind of ``copick.kinds``; ``sync_picks`` ... are its drop-in front ends.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copick.kinds import FILAMENTS, MESHES, PICKS, SEGMENTATIONS, TOMOGRAMS, Kind, open_project, transfer
from copick.ops.names import parse_name_map, parse_voxel_sizes, split_names
from copick.ops.report import SyncReport
from copick.ops.sync_objects import ensure_objects

__all__ = [
    "SyncReport",
    "sync_filaments",
    "sync_kind",
    "sync_meshes",
    "sync_picks",
    "sync_segmentations",
    "sync_tomograms",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    """One entity to copy, as plain data (it may travel to another process): the source run and the
    source entity's identity, the target run name, the target identity and a label."""

    source_run: str
    source: dict[str, Any]
    target_run: str
    identity: dict[str, Any]
    label: str


def _allowed(value: Any) -> set[str] | None:
    """An allow-list argument (names, a list or comma-separated text) as a set; empty: everything."""
    names = split_names(value) if value not in (None, "") else []
    return set(names) or None


def _source_runs(root: Any, allowed: set[str] | None) -> list[Any]:
    runs = list(root.runs)
    if allowed is not None:
        missing = allowed - {r.name for r in runs}
        if missing:
            _log.warning(f"Source run(s) {', '.join(sorted(missing))} not found; skipped.")
        runs = [r for r in runs if r.name in allowed]
    return runs


def _selected(
    identity: dict[str, Any], filters: dict[str, set[str] | None], sizes: list[float] | None
) -> bool:
    """True when an entity's identity passes the name filters and the voxel-size filter."""
    if any(allowed is not None and identity[key] not in allowed for key, allowed in filters.items()):
        return False
    if sizes is None or "voxel_spacing" not in identity:
        return True
    return any(math.isclose(identity["voxel_spacing"], size, abs_tol=1e-6) for size in sizes)


def _plan(
    kind: Kind,
    source: Any,
    runs: list[Any],
    run_map: dict[str, str],
    filters: dict[str, set[str] | None],
    renames: dict[str, dict[str, str]],
    sizes: list[float] | None,
    listing: Callable[[Any], list[Any]],
) -> list[_Job]:
    """The copies to make: every selected entity of ``runs`` with its renamed target identity."""
    from copick.util.uri import serialize_copick_uri, serialize_identity

    jobs = []
    for run in runs:
        target_run = run_map.get(run.name, run.name)
        for entity in listing(run):
            identity = kind.identity(entity)
            if not _selected(identity, filters, sizes):
                continue
            target = {key: renames.get(key, {}).get(value, value) for key, value in identity.items()}
            label = (
                f"{kind.object_type} {serialize_copick_uri(entity)} of run {run.name} -> "
                f"{serialize_identity(kind.object_type, target)} in run {target_run}"
            )
            jobs.append(_Job(run.name, identity, target_run, target, label))
    return jobs


def _source_entity(kind: Kind, source: Any, job: _Job) -> Any:
    """The source entity of ``job`` in the source project ``source``."""
    run = source.get_run(job.source_run)
    found = [e for e in kind.entities(run) if kind.identity(e) == job.source] if run is not None else []
    if not found:
        raise LookupError(f"the source {kind.object_type} is gone from run {job.source_run}.")
    return found[0]


def copy_into_run(target: Any, run_name: str, work: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Copy ``work["jobs"]`` into the target run ``run_name`` (created if needed): the labels done and
    the errors. A module-level task of ``run_tasks``: it runs in threads, processes or on Dask workers,
    with the source project carried by a ``ProjectHandle``."""
    from copick.kinds import kind_for

    kind = kind_for(work["object_type"])
    source = work["source"].root
    run = target.get_run(run_name) or target.new_run(run_name, exist_ok=True)
    done, errors = [], []
    for job in work["jobs"]:
        try:
            transfer(kind, run, _source_entity(kind, source, job), job.identity, work["exist_ok"])
        except Exception as err:
            errors.append(f"{job.label}: {err}")
            continue
        done.append(job.label)
        if work["log"]:
            _log.info(f"Synced {job.label}")
    return done, errors


def _execute(
    kind: Kind,
    source: Any,
    target: Any,
    target_runs: list[str],
    jobs: list[_Job],
    report: SyncReport,
    exist_ok: bool,
    max_workers: int,
    log: bool,
    show_progress: bool,
) -> SyncReport:
    """Create every target run and copy the jobs grouped by target run, in threads (or processes, or
    on a Dask cluster: the command's ``--executor``); fill ``report``."""
    from copick.ops.project_handle import ProjectHandle
    from copick.ops.run import choose_executor, progress, run_tasks

    by_run: dict[str, list[_Job]] = {name: [] for name in target_runs}
    for job in jobs:
        by_run.setdefault(job.target_run, []).append(job)
    names = list(by_run)
    common = {
        "object_type": kind.object_type,
        "source": ProjectHandle(source),
        "exist_ok": exist_ok,
        "log": log,
    }
    work = [{**common, "jobs": by_run[name]} for name in names]
    parallelism, client = choose_executor(copy_into_run, work)

    def failed(i: int, err: BaseException) -> None:
        _log.error(f"Error processing run {names[i]}: {type(err).__name__}: {err}")
        report.errors.append(f"target run {names[i]}: could not be created or copied into (see the log)")

    with progress(len(names), f"Syncing {kind.plural}", show_progress) as advance:
        outcomes = run_tasks(
            copy_into_run, target, names, work, parallelism, max_workers, client, advance, failed
        )
    for ok, result in outcomes:
        if ok:
            report.items.extend(result[0])
            report.errors.extend(result[1])
    for error in report.errors:
        _log.error(f"Failed: {error}")
    what = kind.plural.capitalize()
    if report.errors:
        _log.warning(f"{what} synchronization finished with {len(report.errors)} error(s).")
    else:
        _log.info(f"{what} synchronization completed successfully.")
    return report


def sync_kind(
    kind: Kind,
    source_root: Any,
    target_root: Any,
    source_runs: Any = None,
    target_runs: Any = None,
    filters: dict[str, Any] | None = None,
    renames: dict[str, Any] | None = None,
    voxel_spacings: Any = None,
    exist_ok: bool = False,
    max_workers: int = 4,
    log: bool = False,
    target_config_path: str | None = None,
    show_progress: bool = True,
    listing: Callable[[Any], list[Any]] | None = None,
) -> SyncReport:
    """Copy the entities of ``kind`` selected by ``filters`` ({identity field: allow-list}) and
    ``voxel_spacings``, renamed by ``renames`` ({identity field: {source: target}}), into the target."""
    source = open_project(source_root)
    target = open_project(target_root)
    config_path = target_config_path or (str(target_root) if target is not target_root else None)
    report = SyncReport(kind.plural)
    runs = _source_runs(source, _allowed(source_runs))
    run_map = parse_name_map(target_runs, "run")
    name_kinds = {"object_name": "object", "name": "segmentation", "user_id": "user"}
    rename_maps = {
        key: parse_name_map(value, name_kinds.get(key, key)) for key, value in (renames or {}).items()
    }
    allow = {key: _allowed(value) for key, value in (filters or {}).items()}
    sizes = parse_voxel_sizes(voxel_spacings)
    jobs = _plan(kind, source, runs, run_map, allow, rename_maps, sizes, listing or kind.entities)
    needed = {}
    for job in jobs:
        wanted = kind.pickable_object(job.identity)
        if wanted is not None:
            needed[wanted] = kind.pickable_object(job.source)
    ensure_objects(source, target, needed, config_path, report)
    target_run_names = [run_map.get(run.name, run.name) for run in runs]
    return _execute(
        kind, source, target, target_run_names, jobs, report, exist_ok, max_workers, log, show_progress
    )


def _annotation_sync(kind: Kind) -> Callable[..., SyncReport]:
    """The drop-in ``sync_<plural>`` of an annotation kind: objects and users filtered and renamed."""

    def sync(
        source_root: Any,
        target_root: Any,
        source_runs: Any = None,
        target_runs: Any = None,
        source_objects: Any = None,
        target_objects: Any = None,
        source_users: Any = None,
        target_users: Any = None,
        exist_ok: bool = False,
        max_workers: int = 4,
        log: bool = False,
        target_config_path: str | None = None,
        show_progress: bool = True,
    ) -> SyncReport:
        return sync_kind(
            kind,
            source_root,
            target_root,
            source_runs,
            target_runs,
            filters={"object_name": source_objects, "user_id": source_users},
            renames={"object_name": target_objects, "user_id": target_users},
            exist_ok=exist_ok,
            max_workers=max_workers,
            log=log,
            target_config_path=target_config_path,
            show_progress=show_progress,
        )

    sync.__name__ = sync.__qualname__ = f"sync_{kind.plural}"
    sync.__doc__ = f"Copy {kind.plural} (filtered and renamed as the arguments say) into the target project."
    return sync


sync_picks = _annotation_sync(PICKS)
sync_meshes = _annotation_sync(MESHES)
sync_filaments = _annotation_sync(FILAMENTS)


def sync_segmentations(
    source_root: Any,
    target_root: Any,
    source_runs: Any = None,
    target_runs: Any = None,
    voxel_spacings: Any = None,
    source_names: Any = None,
    target_names: Any = None,
    source_users: Any = None,
    target_users: Any = None,
    exist_ok: bool = False,
    max_workers: int = 4,
    log: bool = False,
    is_multilabel: bool | None = None,
    is_instance: bool | None = False,
    is_panoptic: bool | None = False,
    target_config_path: str | None = None,
    show_progress: bool = True,
) -> SyncReport:
    """Copy segmentations (by default binary and multilabel ones; every level) into the target project."""
    flags = {"is_multilabel": is_multilabel, "is_instance": is_instance, "is_panoptic": is_panoptic}
    return sync_kind(
        SEGMENTATIONS,
        source_root,
        target_root,
        source_runs,
        target_runs,
        filters={"name": source_names, "user_id": source_users},
        renames={"name": target_names, "user_id": target_users},
        voxel_spacings=voxel_spacings,
        exist_ok=exist_ok,
        max_workers=max_workers,
        log=log,
        target_config_path=target_config_path,
        show_progress=show_progress,
        listing=lambda run: run.get_segmentations(**flags),
    )


def sync_tomograms(
    source_root: Any,
    target_root: Any,
    source_runs: Any = None,
    target_runs: Any = None,
    voxel_spacings: Any = None,
    source_tomo_types: Any = None,
    target_tomo_types: Any = None,
    exist_ok: bool = False,
    max_workers: int = 4,
    log: bool = False,
    show_progress: bool = True,
) -> SyncReport:
    """Copy tomograms (every level) into the target project, creating voxel spacings as needed."""
    return sync_kind(
        TOMOGRAMS,
        source_root,
        target_root,
        source_runs,
        target_runs,
        filters={"tomo_type": source_tomo_types},
        renames={"tomo_type": target_tomo_types},
        voxel_spacings=voxel_spacings,
        exist_ok=exist_ok,
        max_workers=max_workers,
        log=log,
        show_progress=show_progress,
    )
