"""Counts of a project's picks, meshes, filaments and segmentations, by run, user, session, object ...

Each function takes the filters of the matching ``copick.ops.get`` query and returns a plain dict (what
``copick stats ... --output json`` prints). Distributions are ordered by count, largest first. Pick
files that cannot be read count 0 points and are listed under ``errors`` (present only then).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from copick.kinds import FILAMENTS, MESHES, AnnotationKind
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


def _point_counts(picks: list[Any], workers: int) -> tuple[list[int], list[str]]:
    """Point counts of many pick sets (read in threads when ``workers`` > 1), and the read errors
    (unreadable files count 0)."""
    if workers > 1 and len(picks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(_count_points, picks))
    else:
        counts = [_count_points(p) for p in picks]
    errors = [n for n in counts if isinstance(n, str)]
    return [0 if isinstance(n, str) else n for n in counts], errors


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
    picks = get.get_picks(root, runs, user_id, session_id, object_name, parallel, workers, show_progress)
    counts, errors = _point_counts(picks, workers if parallel else 1)
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
    data = {
        "total_picks": total,
        "total_pick_files": len(picks),
        "distribution_by_run": _ranked(by_run),
        "distribution_by_user": _ranked(by_user),
        "distribution_by_session": _ranked(by_session),
        "distribution_by_object": _ranked(by_object),
    }
    return data | ({"errors": errors} if errors else {})


def _annotation_stats(kind: AnnotationKind) -> Callable[..., dict[str, Any]]:
    """The ``<kind>_stats`` of an annotation kind: counts by user, session, object and combination."""
    query = getattr(get, f"get_{kind.plural}")

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
        items = query(root, runs, user_id, session_id, object_name, parallel, workers, show_progress)
        return {
            f"total_{kind.plural}": len(items),
            "distribution_by_user": _ranked(Counter(m.user_id for m in items)),
            "distribution_by_session": _ranked(Counter(m.session_id for m in items)),
            "distribution_by_object": _ranked(Counter(m.pickable_object_name for m in items)),
            "session_user_object_combinations": _ranked(
                Counter(f"{m.session_id}_{m.user_id}_{m.pickable_object_name}" for m in items)
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
    segs = get.get_segmentations(
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
