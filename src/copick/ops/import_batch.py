"""Batch imports behind ``copick add ...``: expand a PATH glob, map files to runs, import them in
threads (or processes, or on a Dask cluster: ``--executor``) and return an ``ImportReport`` of what was
imported, skipped and failed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from copick.errors import CopickError, InvalidDataError
from copick.formats.common import MissingVoxelSizeError
from copick.formats.relion_star import relion_tomograms_from
from copick.ops.import_common import (
    DEFAULT_CHUNKS,
    ImportReport,
    Job,
    plan_paths,
    require_object,
    run_jobs,
)
from copick.ops.import_picks import (
    add_picks_from_file,
    add_picks_grouped_from_file,
    import_picks_file,
)
from copick.ops.import_segmentations import SEGMENTATION_TYPES, add_segmentation_from_file
from copick.ops.import_tomograms import add_tomogram_from_file

_log = logging.getLogger("copick.ops.importers")


def add_tomograms_from_paths(
    root: Any,
    path: Any,
    tomo_type: str = "wbp",
    run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    file_type: str | None = None,
    voxel_size: float | None = None,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    pyramid_levels: int = 3,
    create_pyramid: bool = True,
    flip: Any = None,
    transpose: Any = None,
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
) -> ImportReport:
    """``copick add tomogram``: import every file PATH names (a glob) as tomograms, one file per run."""
    report = ImportReport()
    mapping = plan_paths(path, run, run_regex, run_name_prefix, report, root, create)
    options = dict(voxel_spacing=voxel_size, file_type=file_type, create_pyramid=create_pyramid)
    options.update(pyramid_levels=pyramid_levels, chunks=chunks, transpose=transpose, flip=flip)
    options.update(create=create, overwrite=overwrite, log=log)
    jobs = [Job(f, add_tomogram_from_file, (r, tomo_type, f), options) for r, f in mapping.items()]
    run_jobs(root, jobs, report, max_workers, show_progress, "Processing tomograms")
    return report


def add_segmentations_from_paths(
    root: Any,
    path: Any,
    name: str | None = None,
    user_id: str = "copick",
    session_id: str = "1",
    segmentation_type: str = "multilabel",
    voxel_size: float | None = None,
    file_type: str | None = None,
    run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    flip: Any = None,
    transpose: Any = None,
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
) -> ImportReport:
    """``copick add segmentation``: import label volumes of type multilabel/binary/instance/panoptic."""
    if segmentation_type not in SEGMENTATION_TYPES:
        raise InvalidDataError(
            f"segmentation type must be one of {', '.join(SEGMENTATION_TYPES)}, got {segmentation_type!r}."
        )
    if not name:
        raise InvalidDataError("A segmentation name is needed (--name).")
    if segmentation_type in ("binary", "instance"):
        require_object(root, name)
    report = ImportReport()
    mapping = plan_paths(path, run, run_regex, run_name_prefix, report, root, create)
    options = dict(file_type=file_type, multilabel=segmentation_type == "multilabel")
    options.update(instance=segmentation_type == "instance", panoptic=segmentation_type == "panoptic")
    options.update(transpose=transpose, flip=flip, create=create, overwrite=overwrite, log=log)
    jobs = [
        Job(f, add_segmentation_from_file, (r, f, voxel_size, name, user_id, session_id), options)
        for r, f in mapping.items()
    ]
    run_jobs(root, jobs, report, max_workers, show_progress, "Processing segmentations")
    return report


def add_picks_from_paths(
    root: Any,
    path: Any,
    object_name: str,
    user_id: str = "copick",
    session_id: str = "1",
    voxel_size: float | None = None,
    file_type: str | None = None,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: str | None = None,
    relion_version: str | None = None,
    run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
) -> ImportReport:
    """``copick add picks``: import picks files, one per run (a CSV is split by its run_name column)."""
    from copick.util.path_util import expand_paths

    require_object(root, object_name)
    report = ImportReport()
    paths = expand_paths(path)
    csv_paths = [p for p in paths if _safe_kind(p, file_type) == "csv"]
    others = [p for p in paths if p not in csv_paths]
    mapping = plan_paths(others, run, run_regex, run_name_prefix, report, root, create) if others else {}
    report.total = len(paths)
    if not paths:
        report.errors.append(f"No files found matching pattern: {path}")
    tomos = relion_tomograms_from(tomograms_star)
    ids = (object_name, user_id, session_id, voxel_size)
    options = dict(create=create, overwrite=overwrite, log=log)
    star = dict(
        tilt_series_pixel_size=tilt_series_pixel_size, tomograms_star=tomos, relion_version=relion_version
    )
    jobs = [Job(f, import_picks_file, ("", f, *ids, "csv"), options) for f in csv_paths]
    jobs += [
        Job(f, add_picks_from_file, (r, f, *ids, file_type), {**options, **star}) for r, f in mapping.items()
    ]
    run_jobs(root, jobs, report, max_workers, show_progress, "Processing picks")
    return report


def _safe_kind(path: str, file_type: str | None) -> str | None:
    from copick.formats.common import resolve_picks_format

    try:
        return resolve_picks_format(path, file_type)
    except CopickError:
        return None


def add_picks_grouped_from_paths(
    root: Any,
    path: Any,
    object_name: str,
    file_type: str,
    user_id: str = "copick",
    session_id: str = "1",
    voxel_size: float | None = None,
    index_map: str | None = None,
    tomolist: str | None = None,
    tomo_index_row: int = 4,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: str | None = None,
    relion_version: str | None = "auto",
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
) -> ImportReport:
    """``copick add picks-em|picks-dynamo|picks-relion``: split multi-tomogram files into runs.

    EM needs ``index_map``; Dynamo exactly one of ``index_map``/``tomolist``; STAR groups by
    ``rlnTomoName``. Everything is checked before the first file is read.
    """
    from copick.formats.index_maps import read_dynamo_tomolist, read_index_map
    from copick.util.path_util import expand_paths

    require_object(root, object_name)
    if file_type in ("em", "dynamo") and voxel_size is None:
        raise MissingVoxelSizeError(f"picks-{file_type}: coordinates are pixels; --voxel-size is required.")
    if file_type == "em" and not index_map:
        raise InvalidDataError("picks-em: --index-map is required (tomogram index -> run name).")
    if file_type == "dynamo" and bool(index_map) == bool(tomolist):
        raise InvalidDataError("picks-dynamo: give exactly one of --index-map and --tomolist.")
    mapping = read_index_map(index_map) if index_map else read_dynamo_tomolist(tomolist) if tomolist else None
    tomos = relion_tomograms_from(tomograms_star)
    report = ImportReport()
    paths = expand_paths(path)
    report.total = len(paths)
    if not paths:
        report.errors.append(f"No files found matching pattern: {path}")
    options = dict(file_type=file_type, tomo_index_row=tomo_index_row, create=create, overwrite=overwrite)
    options.update(log=log, relion_version=relion_version, tilt_series_pixel_size=tilt_series_pixel_size)
    options.update(tomograms=tomos)
    ids = (object_name, user_id, session_id, voxel_size, mapping)
    jobs = [Job(f, add_picks_grouped_from_file, (f, *ids), options) for f in paths]
    run_jobs(root, jobs, report, max_workers, show_progress, "Processing picks")
    return report
