"""Counts of a project's picks, meshes, filaments and segmentations, by run, user, session, object ...

Each function takes the filters of the matching ``copick.ops.get`` query and returns a plain dict (what
``copick stats ... --output json`` prints). Distributions are ordered by count, largest first. Pick
files that cannot be read count 0 points and are listed under ``errors`` (present only then).

Each run is counted by a module-level function returning plain records, so with ``parallel`` the runs
are counted in threads, or in processes or on a Dask cluster when the command says so (``--executor``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from copick.kinds import FILAMENTS, MESHES, AnnotationKind, as_set, open_project
from copick.ops import get

__all__ = ["filaments_stats", "meshes_stats", "picks_stats", "segmentations_stats"]

_log = logging.getLogger(__name__)


def _ranked(counter: Counter) -> dict[Any, int]:
    """A counter as a dict ordered by count (descending), then key."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], str(item[0]))))


def _count_points(picks: Any) -> int | str:
    """Number of points of a pick set, or the error (logged) when its file cannot be read."""
    try:
        return len(picks.numpy()[0])
    except (OSError, ValueError) as err:
        error = (
            f"Cannot read picks {picks.pickable_object_name}:{picks.user_id}/{picks.session_id} "
            f"of run {picks.run.name}: {err}"
        )
        _log.error(error)
        return error


def _records(
    root: Any,
    runs: Any,
    per_run: Callable[[Any], list[Any]],
    parallel: bool,
    workers: int,
    show: bool,
    what: str,
) -> list[Any]:
    """``per_run(run)`` of every selected run, flattened in run order: in ``workers`` threads (or the
    command's ``--executor``) with ``parallel``, else one run after the other."""
    from copick.ops.run import map_runs

    selected = get.get_runs(root, runs)
    results = map_runs(
        per_run,
        root,
        selected,
        workers=workers if parallel else 1,
        parallelism=None if parallel else "thread",
        show_progress=show,
        task_desc=f"Counting {what}",
    )
    return [record for run in selected for record in (results.get(run.name) or [])]


def picks_records(run: Any, **filters: Any) -> list[tuple[str, str, str, str, int | str]]:
    """``(run, user, session, object, points or read error)`` of each selected pick set of ``run``."""
    return [
        (run.name, p.user_id, p.session_id, p.pickable_object_name, _count_points(p))
        for p in get.annotations_of_run(run, "picks", **filters)
    ]


def picks_stats(
    root: Any,
    runs: Any = None,
    user_id: Any = None,
    session_id: Any = None,
    object_name: Any = None,
    parallel: bool = False,
    workers: int = 8,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Number of pick files and of points, with their distribution by run, user, session and object."""
    filters = {"users": as_set(user_id), "sessions": as_set(session_id), "objects": as_set(object_name)}
    per_run = partial(picks_records, **filters)
    records = _records(open_project(root), runs, per_run, parallel, workers, show_progress, "picks")
    errors = [n for *_, n in records if isinstance(n, str)]
    by_run: Counter = Counter()
    by_user: Counter = Counter()
    by_session: Counter = Counter()
    by_object: Counter = Counter()
    total = 0
    for run, user, session, obj, n in records:
        n = 0 if isinstance(n, str) else n
        total += n
        by_run[run] += n
        by_user[user] += n
        by_session[session] += n
        by_object[obj] += n
    data = {
        "total_picks": total,
        "total_pick_files": len(records),
        "distribution_by_run": _ranked(by_run),
        "distribution_by_user": _ranked(by_user),
        "distribution_by_session": _ranked(by_session),
        "distribution_by_object": _ranked(by_object),
    }
    return data | ({"errors": errors} if errors else {})


def annotation_records(run: Any, plural: str, **filters: Any) -> list[tuple[str, str, str]]:
    """``(user, session, object)`` of each selected mesh or filament set (``plural``) of ``run``."""
    return [
        (m.user_id, m.session_id, m.pickable_object_name)
        for m in get.annotations_of_run(run, plural, **filters)
    ]


def _annotation_stats(kind: AnnotationKind) -> Callable[..., dict[str, Any]]:
    """The ``<kind>_stats`` of an annotation kind: counts by user, session, object and combination."""

    def stats(
        root: Any,
        runs: Any = None,
        user_id: Any = None,
        session_id: Any = None,
        object_name: Any = None,
        parallel: bool = False,
        workers: int = 8,
        show_progress: bool = True,
    ) -> dict[str, Any]:
        filters = {"users": as_set(user_id), "sessions": as_set(session_id), "objects": as_set(object_name)}
        per_run = partial(annotation_records, plural=kind.plural, **filters)
        items = _records(open_project(root), runs, per_run, parallel, workers, show_progress, kind.plural)
        return {
            f"total_{kind.plural}": len(items),
            "distribution_by_user": _ranked(Counter(user for user, _, _ in items)),
            "distribution_by_session": _ranked(Counter(session for _, session, _ in items)),
            "distribution_by_object": _ranked(Counter(obj for _, _, obj in items)),
            "session_user_object_combinations": _ranked(
                Counter(f"{session}_{user}_{obj}" for user, session, obj in items)
            ),
        }

    stats.__name__ = stats.__qualname__ = f"{kind.plural}_stats"
    stats.__doc__ = f"Number of {kind.plural} by user, session, object and session_user_object combination."
    return stats


meshes_stats = _annotation_stats(MESHES)
filaments_stats = _annotation_stats(FILAMENTS)


def segmentations_stats(
    root: Any,
    runs: Any = None,
    user_id: Any = None,
    session_id: Any = None,
    is_multilabel: bool | None = None,
    name: Any = None,
    voxel_size: Any = None,
    parallel: bool = False,
    workers: int = 8,
    show_progress: bool = True,
    is_instance: bool | None = False,
    is_panoptic: bool | None = False,
    segmentation_type: Any = None,
) -> dict[str, Any]:
    """Number of segmentations by user, session, name, voxel size, multilabel flag and type."""
    filters = get.segmentation_filters(
        user_id, session_id, is_multilabel, name, voxel_size, is_instance, is_panoptic, segmentation_type
    )
    per_run = partial(segmentation_records, **filters)
    segs = _records(open_project(root), runs, per_run, parallel, workers, show_progress, "segmentations")
    return {
        "total_segmentations": len(segs),
        "distribution_by_user": _ranked(Counter(s["user"] for s in segs)),
        "distribution_by_session": _ranked(Counter(s["session"] for s in segs)),
        "distribution_by_name": _ranked(Counter(s["name"] for s in segs)),
        "distribution_by_voxel_size": _ranked(Counter(s["voxel_size"] for s in segs)),
        "distribution_by_multilabel": _ranked(Counter(s["multilabel"] for s in segs)),
        "distribution_by_type": _ranked(Counter(s["type"] for s in segs)),
        "session_user_voxelspacing_multilabel_combinations": _ranked(
            Counter(
                f"{s['session']}_{s['user']}_{s['name']}_{s['voxel_size']}_{s['multilabel']}" for s in segs
            )
        ),
    }


def segmentation_records(run: Any, **filters: Any) -> list[dict[str, Any]]:
    """User, session, name, voxel size, multilabel flag and type of each selected segmentation of ``run``."""
    return [
        {
            "user": s.user_id,
            "session": s.session_id,
            "name": s.name,
            "voxel_size": float(s.voxel_size),
            "multilabel": bool(s.is_multilabel),
            "type": s.segmentation_type,
        }
        for s in get.segmentations_of_run(run, **filters)
    ]
