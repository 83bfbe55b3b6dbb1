"""Copying picks, meshes, segmentations and tomograms from one project into another (``copick sync``).

Lists filter (allow-lists of names); dicts rename (source name -> target name); comma-separated
strings (``"a,b"``, ``"src:dst,..."``) are accepted as well. Missing target runs and voxel spacings
are created when something is copied into them; pickable objects the copies need are added to the
target config (and the config file rewritten when its path is known). Per-item failures are
reported, counted and returned, never raised.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from copick.ops.names import parse_name_map, parse_voxel_sizes, split_names

__all__ = ["SyncReport", "sync_meshes", "sync_picks", "sync_segmentations", "sync_tomograms"]

_log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """Counts of a sync: items copied, errors (one line each), objects added to the target config."""

    kind: str
    copied: int = 0
    errors: list[str] = field(default_factory=list)
    added_objects: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.copied + len(self.errors)

    def __bool__(self) -> bool:
        return True


@dataclass
class _Job:
    """One entity to copy: its source, the target run name and the target identity."""

    source: Any
    target_run: str
    ids: dict[str, Any]
    label: str


# ------------------------------------------------------------------------------------------------
# arguments
# ------------------------------------------------------------------------------------------------


def _allow(value: Any) -> set[str] | None:
    if value is None or value == "" or value == []:
        return None
    return set(split_names(value)) or None


def _open(root: Any) -> tuple[Any, str | None]:
    if isinstance(root, (str, os.PathLike)):
        import copick

        return copick.from_file(str(root)), str(root)
    return root, None


def _source_runs(root: Any, allowed: set[str] | None) -> list[Any]:
    runs = list(root.runs)
    if allowed is not None:
        missing = allowed - {r.name for r in runs}
        if missing:
            _log.warning(f"Source run(s) {', '.join(sorted(missing))} not found; skipped.")
        runs = [r for r in runs if r.name in allowed]
    return runs


def _close(a: float, b: float) -> bool:
    return bool(np.isclose(float(a), float(b), rtol=0, atol=1e-6))


# ------------------------------------------------------------------------------------------------
# target config: pickable objects
# ------------------------------------------------------------------------------------------------


def _ensure_objects(
    source: Any, target: Any, needed: dict[str, str], config_path: str | None, report: SyncReport
) -> None:
    """Add every target object name in ``needed`` ({target name: source name}) missing from the target."""
    missing = {t: s for t, s in needed.items() if target.get_object(t) is None}
    if not missing:
        return
    used = {o.label for o in target.pickable_objects if o.label is not None}
    for target_name, source_name in missing.items():
        src = source.get_object(source_name)
        fields: dict[str, Any] = {}
        label = None
        is_particle = True
        if src is not None:
            meta = src.meta.model_dump()
            is_particle = bool(meta.pop("is_particle", True))
            label = meta.pop("label", None)
            meta.pop("name", None)
            filament = meta.pop("filament", None) if "filament" in meta else None
            fields = {
                k: meta.get(k)
                for k in ("color", "emdb_id", "pdb_id", "identifier", "map_threshold", "radius", "metadata")
            }
            if filament is not None:
                fields["filament"] = filament
        if label in used:
            label = None
        obj = target.new_object(target_name, is_particle, label=label, **fields)
        used.add(obj.label)
        report.added_objects.append(target_name)
        _log.info(f"Added pickable object {target_name} (label {obj.label}) to the target project.")
    if config_path:
        target.save_config(config_path)
    else:
        _log.warning("The target config path is unknown: added objects are not saved to its config file.")


# ------------------------------------------------------------------------------------------------
# running the copies
# ------------------------------------------------------------------------------------------------


def _target_run(target: Any, name: str) -> Any:
    run = target.get_run(name)
    return run if run is not None else target.new_run(name, exist_ok=True)


def _execute(
    kind: str,
    target: Any,
    jobs: list[_Job],
    copy: Callable[[Any, _Job], None],
    report: SyncReport,
    max_workers: int,
    log: bool,
    show_progress: bool,
) -> SyncReport:
    """Copy the jobs grouped by target run, in threads; record every result in ``report``."""
    from copick.ops.run import map_runs, report_results

    by_run: dict[str, list[_Job]] = {}
    for job in jobs:
        by_run.setdefault(job.target_run, []).append(job)

    def per_run(run_name: str, items: list[_Job]) -> dict[str, Any]:
        processed, errors = 0, []
        try:
            run = _target_run(target, run_name)
        except Exception as err:
            return {"processed": 0, "errors": [f"target run {run_name}: {err}"]}
        for job in items:
            try:
                copy(run, job)
                processed += 1
                report.items.append(job.label)
                if log:
                    _log.info(f"Synced {job.label}")
            except Exception as err:
                errors.append(f"{job.label}: {err}")
        return {"processed": processed, "errors": errors}

    names = list(by_run)
    results = map_runs(
        lambda item, **_: per_run(item.name, by_run[item.name]),
        target,
        [_Name(n) for n in names],
        workers=max_workers,
        show_progress=show_progress,
        task_desc=f"Syncing {kind}",
    )
    for result in results.values():
        if result is not None:
            report.copied += result["processed"]
            report.errors.extend(result["errors"])
    report_results(results, len(jobs), logger=_log)
    if report.errors:
        _log.warning(f"{kind.capitalize()} synchronization finished with {len(report.errors)} error(s).")
    else:
        _log.info(f"{kind.capitalize()} synchronization completed successfully.")
    return report


class _Name:
    """A target run named before it exists: ``map_runs`` passes it through to the callback unresolved."""

    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return self.name


# ------------------------------------------------------------------------------------------------
# picks and meshes
# ------------------------------------------------------------------------------------------------


def _annotation_jobs(
    source: Any,
    kind: str,
    source_runs: Any,
    target_runs: Any,
    source_objects: Any,
    target_objects: Any,
    source_users: Any,
    target_users: Any,
) -> list[_Job]:
    runs = _source_runs(source, _allow(source_runs))
    run_map, obj_map = parse_name_map(target_runs, "run"), parse_name_map(target_objects, "object")
    user_map = parse_name_map(target_users, "user")
    objects, users = _allow(source_objects), _allow(source_users)
    jobs = []
    for run in runs:
        items = run.get_picks() if kind == "picks" else run.get_meshes()
        for item in items:
            obj, user = item.pickable_object_name, item.user_id
            if (objects is not None and obj not in objects) or (users is not None and user not in users):
                continue
            ids = {
                "object_name": obj_map.get(obj, obj),
                "user_id": user_map.get(user, user),
                "session_id": item.session_id,
            }
            target_run = run_map.get(run.name, run.name)
            label = (
                f"{kind} {obj}:{user}/{item.session_id} of run {run.name} -> {ids['object_name']}:"
                f"{ids['user_id']}/{ids['session_id']} of run {target_run}"
            )
            jobs.append(_Job(item, target_run, ids, label))
    return jobs


def _copy_picks(exist_ok: bool) -> Callable[[Any, _Job], None]:
    def copy(run: Any, job: _Job) -> None:
        positions, transforms = job.source.numpy()
        ids, scores = job.source.instance_ids(), job.source.scores()
        picks = run.new_picks(
            job.ids["object_name"], job.ids["session_id"], job.ids["user_id"], exist_ok=exist_ok
        )
        picks.from_numpy(positions, transforms, ids, scores)

    return copy


def _copy_mesh(exist_ok: bool) -> Callable[[Any, _Job], None]:
    def copy(run: Any, job: _Job) -> None:
        scene = job.source.mesh
        mesh = run.new_mesh(
            job.ids["object_name"], job.ids["session_id"], job.ids["user_id"], exist_ok=exist_ok
        )
        mesh.mesh = scene
        mesh.store()

    return copy


def _sync_annotations(
    kind: str,
    source_root: Any,
    target_root: Any,
    source_runs: Any,
    target_runs: Any,
    source_objects: Any,
    target_objects: Any,
    source_users: Any,
    target_users: Any,
    exist_ok: bool,
    max_workers: int,
    log: bool,
    target_config_path: str | None,
    show_progress: bool,
) -> SyncReport:
    source, _ = _open(source_root)
    target, path = _open(target_root)
    report = SyncReport(kind)
    jobs = _annotation_jobs(
        source, kind, source_runs, target_runs, source_objects, target_objects, source_users, target_users
    )
    needed = {job.ids["object_name"]: job.source.pickable_object_name for job in jobs}
    _ensure_objects(source, target, needed, target_config_path or path, report)
    copy = _copy_picks(exist_ok) if kind == "picks" else _copy_mesh(exist_ok)
    return _execute(kind, target, jobs, copy, report, max_workers, log, show_progress)


def sync_picks(
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
    """Copy pick sets (filtered and renamed as the arguments say) into the target project."""
    return _sync_annotations(
        "picks",
        source_root,
        target_root,
        source_runs,
        target_runs,
        source_objects,
        target_objects,
        source_users,
        target_users,
        exist_ok,
        max_workers,
        log,
        target_config_path,
        show_progress,
    )


def sync_meshes(
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
    """Copy meshes (filtered and renamed as the arguments say) into the target project."""
    return _sync_annotations(
        "meshes",
        source_root,
        target_root,
        source_runs,
        target_runs,
        source_objects,
        target_objects,
        source_users,
        target_users,
        exist_ok,
        max_workers,
        log,
        target_config_path,
        show_progress,
    )


# ------------------------------------------------------------------------------------------------
# volumes: segmentations and tomograms
# ------------------------------------------------------------------------------------------------


def copy_image(source: Any, target: Any) -> None:
    """Copy every level of an OME-Zarr image entity into another (chunks, compressor, metadata kept)."""
    import zarr

    from copick.formats.ome import voxel_size_from_attrs

    group = zarr.open_group(store=source.zarr(), mode="r")
    attrs = group.attrs.asdict()
    entry = attrs["multiscales"][0]
    datasets = entry["datasets"]
    keys = [str(d["path"]) for d in datasets]
    base = voxel_size_from_attrs(attrs, str(source))
    first_scale = float(datasets[0]["coordinateTransformations"][0]["scale"][-3])
    sizes = [base * float(d["coordinateTransformations"][0]["scale"][-3]) / first_scale for d in datasets]
    first = group[keys[0]]
    channel_axis = any(isinstance(a, dict) and a.get("type") == "channel" for a in entry.get("axes") or [])
    compressor = getattr(first.metadata, "compressor", None)
    options: dict[str, Any] = {"chunks": tuple(first.chunks), "channel_axis": channel_axis}
    if entry.get("metadata"):
        options["metadata"] = entry["metadata"]
    if compressor is not None and hasattr(compressor, "get_config"):
        options["compressor"] = compressor.get_config()
    levels = (np.asarray(group[k][...]) for k in keys)
    target._write_pyramid(levels, sizes, **options)


def _seg_flags(seg: Any) -> dict[str, bool]:
    return {
        "is_multilabel": seg.is_multilabel,
        "is_instance": seg.is_instance,
        "is_panoptic": seg.is_panoptic,
    }


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
    source, _ = _open(source_root)
    target, path = _open(target_root)
    report = SyncReport("segmentations")
    run_map, name_map = parse_name_map(target_runs, "run"), parse_name_map(target_names, "segmentation")
    user_map = parse_name_map(target_users, "user")
    names, users, sizes = _allow(source_names), _allow(source_users), parse_voxel_sizes(voxel_spacings)
    jobs = []
    for run in _source_runs(source, _allow(source_runs)):
        for seg in run.get_segmentations(
            is_multilabel=is_multilabel, is_instance=is_instance, is_panoptic=is_panoptic
        ):
            if (names is not None and seg.name not in names) or (
                users is not None and seg.user_id not in users
            ):
                continue
            if sizes is not None and not any(_close(seg.voxel_size, v) for v in sizes):
                continue
            ids = {
                "name": name_map.get(seg.name, seg.name),
                "user_id": user_map.get(seg.user_id, seg.user_id),
                "session_id": seg.session_id,
                "voxel_size": seg.voxel_size,
                **_seg_flags(seg),
            }
            target_run = run_map.get(run.name, run.name)
            label = (
                f"segmentation {seg.name}:{seg.user_id}/{seg.session_id}@{seg.voxel_size} of run {run.name} "
                f"-> {ids['name']} in run {target_run}"
            )
            jobs.append(_Job(seg, target_run, ids, label))
    needed = {
        j.ids["name"]: j.source.name for j in jobs if not (j.ids["is_multilabel"] or j.ids["is_panoptic"])
    }
    _ensure_objects(source, target, needed, target_config_path or path, report)

    def copy(run: Any, job: _Job) -> None:
        ids = job.ids
        seg = run.new_segmentation(
            ids["voxel_size"],
            ids["name"],
            ids["session_id"],
            ids["is_multilabel"],
            ids["user_id"],
            exist_ok=exist_ok,
            is_instance=ids["is_instance"],
            is_panoptic=ids["is_panoptic"],
        )
        copy_image(job.source, seg)

    return _execute("segmentations", target, jobs, copy, report, max_workers, log, show_progress)


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
    source, _ = _open(source_root)
    target, _ = _open(target_root)
    report = SyncReport("tomograms")
    run_map, type_map = parse_name_map(target_runs, "run"), parse_name_map(target_tomo_types, "tomo_type")
    types, sizes = _allow(source_tomo_types), parse_voxel_sizes(voxel_spacings)
    jobs = []
    for run in _source_runs(source, _allow(source_runs)):
        for vs in run.voxel_spacings:
            if sizes is not None and not any(_close(vs.voxel_size, v) for v in sizes):
                continue
            for tomogram in vs.tomograms:
                if types is not None and tomogram.tomo_type not in types:
                    continue
                target_run = run_map.get(run.name, run.name)
                ids = {
                    "tomo_type": type_map.get(tomogram.tomo_type, tomogram.tomo_type),
                    "voxel_size": vs.voxel_size,
                }
                label = (
                    f"tomogram {tomogram.tomo_type}@{vs.voxel_size} of run {run.name} -> {ids['tomo_type']} "
                    f"in run {target_run}"
                )
                jobs.append(_Job(tomogram, target_run, ids, label))

    def copy(run: Any, job: _Job) -> None:
        vs = run.get_voxel_spacing(job.ids["voxel_size"]) or run.new_voxel_spacing(
            job.ids["voxel_size"], exist_ok=True
        )
        tomogram = vs.new_tomogram(job.ids["tomo_type"], exist_ok=exist_ok)
        copy_image(job.source, tomogram)

    return _execute("tomograms", target, jobs, copy, report, max_workers, log, show_progress)
