"""Counts of a project's picks, meshes and segmentations, by run, user, session, object ...

Each function takes the filters of the matching ``copick.ops.get`` query and returns a plain dict (what
``copick stats ... --output json`` prints). Distributions are ordered by count, largest first.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from copick.ops.get import get_meshes, get_picks, get_segmentations
from copick.ops.run import note_failures

__all__ = ["meshes_stats", "picks_stats", "segmentations_stats"]

_log = logging.getLogger(__name__)


def _ranked(counter: Counter) -> dict[Any, int]:
    """A counter as a dict ordered by count (descending), then key."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], str(item[0]))))


def _count_points(picks: Any) -> int | None:
    """Number of points of a pick set, or ``None`` (logged) when its file cannot be read."""
    try:
        return len(picks.numpy()[0])
    except (OSError, ValueError) as err:
        _log.error(
            f"Cannot read picks {picks.pickable_object_name}:{picks.user_id}/{picks.session_id} "
            f"of run {picks.run.name}: {err}"
        )
        return None


def _point_counts(picks: list[Any], workers: int) -> list[int]:
    """Point counts of many pick sets (read in threads when ``workers`` > 1); unreadable files count 0."""
    if workers > 1 and len(picks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(_count_points, picks))
    else:
        counts = [_count_points(p) for p in picks]
    failed = [p for p, n in zip(picks, counts) if n is None]
    if failed:
        note_failures(len(failed), f"unreadable picks file in run {failed[0].run.name}", total=len(picks))
    return [n or 0 for n in counts]


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
    picks = get_picks(root, runs, user_id, session_id, object_name, parallel, workers, show_progress)
    counts = _point_counts(picks, workers if parallel else 1)
    by_run: Counter = Counter()
    by_user: Counter = Counter()
    by_session: Counter = Counter()
    by_object: Counter = Counter()
    total = 0
    for p, n in zip(picks, counts):
        total += n
        by_run[p.run.name] += n
        by_user[p.user_id] += n
        by_session[p.session_id] += n
        by_object[p.pickable_object_name] += n
    return {
        "total_picks": total,
        "total_pick_files": len(picks),
        "distribution_by_run": _ranked(by_run),
        "distribution_by_user": _ranked(by_user),
        "distribution_by_session": _ranked(by_session),
        "distribution_by_object": _ranked(by_object),
    }


def meshes_stats(
    root: Any,
    runs: Any = None,
    user_id: Any = None,
    session_id: Any = None,
    object_name: Any = None,
    parallel: bool = False,
    workers: int = 8,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Number of meshes by user, session, object and session_user_object combination."""
    meshes = get_meshes(root, runs, user_id, session_id, object_name, parallel, workers, show_progress)
    return {
        "total_meshes": len(meshes),
        "distribution_by_user": _ranked(Counter(m.user_id for m in meshes)),
        "distribution_by_session": _ranked(Counter(m.session_id for m in meshes)),
        "distribution_by_object": _ranked(Counter(m.pickable_object_name for m in meshes)),
        "session_user_object_combinations": _ranked(
            Counter(f"{m.session_id}_{m.user_id}_{m.pickable_object_name}" for m in meshes)
        ),
    }


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
    segs = get_segmentations(
        root,
        runs,
        user_id,
        session_id,
        is_multilabel,
        name,
        voxel_size,
        parallel,
        workers,
        show_progress,
        is_instance=is_instance,
        is_panoptic=is_panoptic,
        segmentation_type=segmentation_type,
    )
    return {
        "total_segmentations": len(segs),
        "distribution_by_user": _ranked(Counter(s.user_id for s in segs)),
        "distribution_by_session": _ranked(Counter(s.session_id for s in segs)),
        "distribution_by_name": _ranked(Counter(s.name for s in segs)),
        "distribution_by_voxel_size": _ranked(Counter(float(s.voxel_size) for s in segs)),
        "distribution_by_multilabel": _ranked(Counter(bool(s.is_multilabel) for s in segs)),
        "distribution_by_type": _ranked(Counter(s.segmentation_type for s in segs)),
        "session_user_voxelspacing_multilabel_combinations": _ranked(
            Counter(
                f"{s.session_id}_{s.user_id}_{s.name}_{float(s.voxel_size)}_{bool(s.is_multilabel)}"
                for s in segs
            )
        ),
    }
