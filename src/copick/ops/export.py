"""Exporting project data to files: picks (CSV, STAR, EM, Dynamo), tomograms and segmentations (MRC, TIFF,
Zarr, EM), per run (``export_run``) or for a whole project (``export``). Coordinates follow CLI.md §6;
every function checks its arguments before writing a file."""

from __future__ import annotations

import logging
import os
from typing import Any

from copick.formats.relion_star import relion_tomograms_from
from copick.ops.export_common import ExportError, open_root
from copick.ops.export_picks import export_picks, export_picks_combined, run_indices
from copick.ops.export_relion import export_relion_particles
from copick.ops.export_volumes import export_segmentation, export_tomogram, segmentation_file_name

__all__ = [
    "ExportError",
    "export",
    "export_picks",
    "export_picks_combined",
    "export_relion_particles",
    "export_run",
    "export_runs",
    "export_segmentation",
    "export_tomogram",
]

_log = logging.getLogger(__name__)


#: What ``export_run`` counts and reports, in 1.31's keys (``skipped`` is ours: see README).
KINDS = ("picks", "segmentations", "tomograms")


def _segmentation_folder(seg: Any) -> str:
    """``Segmentations`` or, for instance and panoptic ones, their own folder (as 1.31 exports them)."""
    if getattr(seg, "is_panoptic", False):
        return "PanopticSegmentations"
    return "InstanceSegmentations" if getattr(seg, "is_instance", False) else "Segmentations"


def _require_format(output_format: str | None, uri: str | None, what: str) -> None:
    if uri and output_format is None:
        raise ExportError(f"output_format is required to export {what} ({uri}).")


def export_run(
    run: Any,
    output_dir: str,
    picks_uri: str | None = None,
    segmentation_uri: str | None = None,
    tomogram_uri: str | None = None,
    output_format: str | None = None,
    voxel_spacing: float | None = None,
    level: int = 0,
    compression: str | None = None,
    include_optics: bool = True,
    run_to_index: Any = None,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    filament_columns: str = "auto",
    channel: str | None = None,
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_angles: str = "frame",
    half_sets: str | None = None,
    copy_all_levels: bool = True,
) -> dict[str, Any]:
    """Export the picks, segmentations and tomograms of one run that the URIs select (copick 1.31's
    positional order; ``output_format`` is needed only when a URI is given).

    Files: ``<out>/<run>_<object>_<user>_<session>.<ext>`` (picks),
    ``<out>/<run>/VoxelSpacing<vs>/<type>.<ext>`` (tomograms),
    ``<out>/<run>/{Segmentations,InstanceSegmentations,PanopticSegmentations}/<name>_<user>_<session>
    [_channel].<ext>`` (segmentations; the voxel size is prepended when two spacings of one segmentation
    would share a name). Failures are collected in ``errors``; empty pick sets that EM/Dynamo cannot
    hold are listed in ``skipped``.
    """
    from copick import layout
    from copick.formats.common import EXPORT_EXTENSIONS
    from copick.util.uri import resolve_copick_objects

    for uri, what in ((picks_uri, "picks"), (segmentation_uri, "segmentations"), (tomogram_uri, "tomograms")):
        _require_format(output_format, uri, what)
    result: dict[str, Any] = {**dict.fromkeys(KINDS, 0), "errors": [], "skipped": []}
    index = 1
    if run_to_index is not None:
        indices = (
            run_indices(run_to_index, [], "picks") if not isinstance(run_to_index, dict) else run_to_index
        )
        index = int(indices.get(run.name, 1))
    root = run.root
    ext = EXPORT_EXTENSIONS.get(str(output_format), str(output_format))
    if picks_uri:
        star_args = dict(
            include_optics=include_optics,
            tilt_series_pixel_size=tilt_series_pixel_size,
            tomograms_star=relion_tomograms_from(tomograms_star),
            tomo_type=tomo_type,
            coordinates=coordinates,
            filament_columns=filament_columns,
            polarity_from_filaments=polarity_from_filaments,
            filaments_uri=filaments_uri,
            filament_angles=filament_angles,
            half_sets=half_sets,
        )
        for picks in resolve_copick_objects(picks_uri, root, "picks", run_name=run.name):
            label = f"picks {picks.pickable_object_name}:{picks.user_id}/{picks.session_id} of run {run.name}"
            if output_format in ("em", "dynamo") and len(picks.numpy()[0]) == 0:
                result["skipped"].append(f"{label}: no points ({output_format} files need at least one)")
                continue
            try:
                export_picks(
                    picks,
                    output_dir + os.sep,
                    output_format,
                    voxel_spacing,
                    tomogram_index=index,
                    log=log,
                    **star_args,
                )
                result["picks"] += 1
            except Exception as err:
                result["errors"].append(f"{label}: {err}")
    if segmentation_uri:
        segs = resolve_copick_objects(segmentation_uri, root, "segmentation", run_name=run.name)
        names = [segmentation_file_name(s, channel) for s in segs]
        for seg, name in zip(segs, names):
            clash = names.count(name) > 1
            if clash:
                _log.warning(
                    f"run {run.name}: segmentation {name} exists at several voxel sizes; "
                    "the voxel size is prepended to the file names."
                )
            folder = os.path.join(output_dir, run.name, _segmentation_folder(seg))
            path = os.path.join(folder, f"{segmentation_file_name(seg, channel, clash)}.{ext}")
            try:
                export_segmentation(
                    seg, path, output_format, level, compression, copy_all_levels, log, channel
                )
                result["segmentations"] += 1
            except Exception as err:
                result["errors"].append(f"segmentation {name} of run {run.name}: {err}")
    if tomogram_uri:
        for tomogram in resolve_copick_objects(tomogram_uri, root, "tomogram", run_name=run.name):
            vs_dir = layout.voxel_spacing_dirname(tomogram.voxel_spacing.voxel_size)
            path = os.path.join(output_dir, run.name, vs_dir, f"{tomogram.tomo_type}.{ext}")
            try:
                export_tomogram(tomogram, path, output_format, level, compression, copy_all_levels, log)
                result["tomograms"] += 1
            except Exception as err:
                result["errors"].append(
                    f"tomogram {tomogram.tomo_type}@{tomogram.voxel_spacing.voxel_size} "
                    f"of run {run.name}: {err}"
                )
    return result


def export_runs(
    config: Any,
    output_dir: str,
    run_names: Any = None,
    n_workers: int = 8,
    show_progress: bool = True,
    **options: Any,
) -> list[dict[str, Any]]:
    """``export_run(**options)`` over the selected runs (all by default) in threads; one result per run
    (with its ``run`` name). A run that failed as a whole reports ``errors: ["Run X failed completely"]``."""
    from copick.ops.run import map_runs

    uris = {k: options.get(f"{k}_uri") for k in ("picks", "segmentation", "tomogram")}
    for what, uri in uris.items():
        _require_format(options.get("output_format"), uri, what)
    fmt = options.get("output_format")
    if fmt in ("em", "dynamo") and uris["picks"] and options.get("voxel_spacing") is None:
        raise ExportError(f"voxel_spacing is required for {fmt.upper()} export (--voxel-size).")
    root = open_root(config)
    if options.get("tomograms_star"):
        options["tomograms_star"] = relion_tomograms_from(options["tomograms_star"])
    if isinstance(run_names, str):
        run_names = [run_names]
    if run_names:
        missing = [n for n in run_names if root.get_run(n) is None]
        if missing:
            raise ExportError(f"Could not find run(s) {', '.join(missing)} in the project.")
        runs: list[Any] = list(run_names)
    else:
        runs = [r.name for r in root.runs]
    results = map_runs(
        export_run,
        root,
        runs,
        workers=n_workers,
        show_progress=show_progress,
        task_desc="Exporting data",
        output_dir=output_dir,
        **options,
    )
    out = []
    for name in runs:
        result = results.get(name) or {
            **dict.fromkeys(KINDS, 0),
            "skipped": [],
            "errors": [f"Run {name} failed completely"],
        }
        out.append({**result, "run": name})
    return out


def export(
    config: Any,
    output_dir: str,
    run_names: Any = None,
    picks_uri: str | None = None,
    segmentation_uri: str | None = None,
    tomogram_uri: str | None = None,
    output_format: str | None = None,
    voxel_spacing: float | None = None,
    level: int = 0,
    compression: str | None = None,
    include_optics: bool = True,
    run_to_index: Any = None,
    n_workers: int = 8,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    filament_columns: str = "auto",
    channel: str | None = None,
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_angles: str = "frame",
    half_sets: str | None = None,
) -> list[str]:
    """Export the selected runs (all by default) in threads, as copick 1.31: returns the error messages
    (an empty list when everything was exported). ``export_runs`` gives the per-run reports."""
    options = dict(locals())
    for key in ("config", "output_dir", "run_names", "n_workers"):
        options.pop(key)
    results = export_runs(config, output_dir, run_names, n_workers, **options)
    return [error for result in results for error in result["errors"]]
