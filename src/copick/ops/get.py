"""Flat queries over a whole project: every run's voxel spacings, tomograms, picks ... matching filters.

Each filter takes a scalar or an iterable (any of them matches); filters combine with AND; ``None``
selects everything. ``root`` may be an opened project or the path of its config file; ``runs`` takes run
names or run objects, one or many. With ``parallel=True`` the runs are queried in threads (always
threads: the results are entities of this process's project; ``copick.ops.stats`` sends its per-run
counting to other processes when the command asks, with the module-level selectors here).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from copick.kinds import FILAMENTS, MESHES, PICKS, AnnotationKind, as_set, open_project

__all__ = [
    "annotations_of_run",
    "get_features",
    "get_filaments",
    "get_meshes",
    "get_picks",
    "get_runs",
    "get_segmentations",
    "get_tomograms",
    "get_voxelspacings",
    "segmentations_of_run",
]

_log = logging.getLogger(__name__)


def _as_sizes(value: Any) -> frozenset[float] | None:
    """A voxel-size filter as a set of floats."""
    if value is None:
        return None
    if isinstance(value, numbers.Real | str):
        return frozenset((float(value),))
    return frozenset(float(v) for v in value)


def _ok(allowed: frozenset | None, value: Any) -> bool:
    return allowed is None or value in allowed


def get_runs(root: Any, names: Any = None) -> list[Any]:
    """The runs called ``names`` (a name, run or iterable of them; unknown names are skipped), or all."""
    root = open_project(root)
    if names is None:
        return list(root.runs)
    if isinstance(names, str) or not isinstance(names, Iterable):
        names = [names]
    found = []
    for item in names:
        if not isinstance(item, str):
            found.append(item)
            continue
        run = root.get_run(item)
        if run is None:
            _log.warning(f"Run {item!r} not found in the project; skipped.")
        else:
            found.append(run)
    return found


def _collect(
    root: Any,
    runs: Any,
    per_run: Callable[[Any], list[Any]],
    parallel: bool,
    workers: int,
    show_progress: bool,
    what: str,
) -> list[Any]:
    """Apply ``per_run`` to the selected runs (in threads with ``parallel``) and flatten, in run order."""
    selected = get_runs(root, runs)
    if not parallel:
        return [item for run in selected for item in per_run(run)]
    from copick.ops.run import map_runs

    results = map_runs(
        per_run,
        root,
        selected,
        workers=workers,
        parallelism="thread",
        show_progress=show_progress,
        task_desc=f"Gathering {what}",
    )
    return [item for run in selected for item in (results.get(run.name) or [])]


def get_voxelspacings(
    root: Any,
    runs: Any = None,
    voxel_size: Any = None,
    parallel: bool = False,
    workers: int = 8,
    show_progress: bool = True,
) -> list[Any]:
    """Voxel spacings of the selected runs, optionally only the given sizes."""
    root = open_project(root)
    sizes = _as_sizes(voxel_size)

    def per_run(run: Any) -> list[Any]:
        return [vs for vs in run.voxel_spacings if _ok(sizes, float(vs.voxel_size))]

    return _collect(root, runs, per_run, parallel, workers, show_progress, "voxel spacings")


def get_tomograms(
    root: Any,
    runs: Any = None,
    voxel_size: Any = None,
    tomo_type: Any = None,
    parallel: bool = False,
    workers: int = 8,
    show_progress: bool = True,
) -> list[Any]:
    """Tomograms of the selected runs by voxel size and type."""
    root = open_project(root)
    sizes, types = _as_sizes(voxel_size), as_set(tomo_type)

    def per_run(run: Any) -> list[Any]:
        return [
            tomo
            for vs in run.voxel_spacings
            if _ok(sizes, float(vs.voxel_size))
            for tomo in vs.tomograms
            if _ok(types, tomo.tomo_type)
        ]

    return _collect(root, runs, per_run, parallel, workers, show_progress, "tomograms")


def get_features(
    root: Any,
    runs: Any = None,
    voxel_size: Any = None,
    tomo_type: Any = None,
    feature_type: Any = None,
    parallel: bool = False,
    workers: int = 8,
    show_progress: bool = True,
) -> list[Any]:
    """Feature maps of the selected runs by voxel size, tomogram type and feature type."""
    root = open_project(root)
    sizes, types, features = _as_sizes(voxel_size), as_set(tomo_type), as_set(feature_type)

    def per_run(run: Any) -> list[Any]:
        return [
            feat
            for vs in run.voxel_spacings
            if _ok(sizes, float(vs.voxel_size))
            for tomo in vs.tomograms
            if _ok(types, tomo.tomo_type)
            for feat in tomo.features
            if _ok(features, feat.feature_type)
        ]

    return _collect(root, runs, per_run, parallel, workers, show_progress, "features")


def annotations_of_run(
    run: Any,
    plural: str,
    users: frozenset | None = None,
    sessions: frozenset | None = None,
    objects: frozenset | None = None,
) -> list[Any]:
    """The ``plural`` (``picks``, ``meshes``, ``filaments``) of ``run`` by user, session and object
    (sets of allowed values, ``None``: any)."""
    return [
        item
        for item in getattr(run, plural)
        if _ok(users, item.user_id)
        and _ok(sessions, item.session_id)
        and _ok(objects, item.pickable_object_name)
    ]


def _annotation_query(kind: AnnotationKind) -> Callable[..., list[Any]]:
    """The drop-in ``get_<plural>`` of an annotation kind: its entities by user, session and object."""

    def query(
        root: Any,
        runs: Any = None,
        user_id: Any = None,
        session_id: Any = None,
        object_name: Any = None,
        parallel: bool = False,
        workers: int = 8,
        show_progress: bool = True,
    ) -> list[Any]:
        filters = {"users": as_set(user_id), "sessions": as_set(session_id), "objects": as_set(object_name)}
        per_run = partial(annotations_of_run, plural=kind.plural, **filters)
        return _collect(open_project(root), runs, per_run, parallel, workers, show_progress, kind.plural)

    query.__name__ = query.__qualname__ = f"get_{kind.plural}"
    query.__doc__ = f"{kind.plural.capitalize()} of the selected runs by user, session and object."
    return query


get_picks = _annotation_query(PICKS)
get_meshes = _annotation_query(MESHES)
get_filaments = _annotation_query(FILAMENTS)


def segmentation_type_filter(
    is_multilabel: bool | None, is_instance: bool | None, is_panoptic: bool | None, types: Any = None
) -> Callable[[Any], bool]:
    """A predicate on segmentations by type flags (``None`` = either); ``types`` (names) replaces the
    instance/panoptic flags."""
    allowed = as_set(types)

    def keep(seg: Any) -> bool:
        if is_multilabel is not None and bool(seg.is_multilabel) != is_multilabel:
            return False
        if allowed is not None:
            return seg.segmentation_type in allowed
        return (is_instance is None or bool(seg.is_instance) == is_instance) and (
            is_panoptic is None or bool(seg.is_panoptic) == is_panoptic
        )

    return keep


def get_segmentations(
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
) -> list[Any]:
    """Segmentations of the selected runs; by default binary and multilabel ones (as ``get_segmentations``).

    ``segmentation_type`` (``binary``/``multilabel``/``instance``/``panoptic``, one or several) overrides
    the three type flags.
    """
    filters = segmentation_filters(
        user_id, session_id, is_multilabel, name, voxel_size, is_instance, is_panoptic, segmentation_type
    )
    per_run = partial(segmentations_of_run, **filters)
    return _collect(open_project(root), runs, per_run, parallel, workers, show_progress, "segmentations")


def segmentation_filters(
    user_id: Any = None,
    session_id: Any = None,
    is_multilabel: bool | None = None,
    name: Any = None,
    voxel_size: Any = None,
    is_instance: bool | None = False,
    is_panoptic: bool | None = False,
    segmentation_type: Any = None,
) -> dict[str, Any]:
    """The keyword arguments of ``segmentations_of_run`` for ``get_segmentations``'s filters."""
    flags = (is_multilabel, is_instance, is_panoptic, as_set(segmentation_type))
    return {
        "users": as_set(user_id),
        "sessions": as_set(session_id),
        "names": as_set(name),
        "sizes": _as_sizes(voxel_size),
        "flags": flags,
    }


def segmentations_of_run(
    run: Any,
    users: frozenset | None = None,
    sessions: frozenset | None = None,
    names: frozenset | None = None,
    sizes: frozenset | None = None,
    flags: tuple[Any, ...] = (None, None, None, None),
) -> list[Any]:
    """The segmentations of ``run`` by user, session, name, voxel size and type (``flags``: the
    arguments of ``segmentation_type_filter``)."""
    keep_type = segmentation_type_filter(*flags)
    return [
        seg
        for seg in run.segmentations
        if _ok(users, seg.user_id)
        and _ok(sessions, seg.session_id)
        and _ok(names, seg.name)
        and _ok(sizes, float(seg.voxel_size))
        and keep_type(seg)
    ]
