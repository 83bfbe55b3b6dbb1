"""Exporting picks: one pick set (CSV, STAR, EM, Dynamo), and the picks of many runs in one file.
The RELION side (per-run options, particle files of many runs) is ``copick.ops.export_relion``.
Coordinates follow CLI.md §6."""

from __future__ import annotations

import logging
import os
from typing import Any

from copick.formats.common import EXPORT_EXTENSIONS, positive_voxel_size
from copick.formats.picks_json import PickArrays
from copick.ops.export_common import (
    PICKS_FORMATS,
    ExportError,
    check_format,
    is_dir_target,
    open_root,
    pick_arrays,
    select_picks,
)
from copick.ops.export_relion import export_relion_particles, write_star_picks

_log = logging.getLogger("copick.ops.export")


def picks_file_name(picks: Any, output_format: str) -> str:
    """``<run>_<object>_<user>_<session>.<ext>``: the per-run export file name of a pick set."""
    ext = EXPORT_EXTENSIONS[output_format]
    return f"{picks.run.name}_{picks.pickable_object_name}_{picks.user_id}_{picks.session_id}.{ext}"


def export_picks(
    picks: Any,
    output_path: str,
    output_format: str,
    voxel_spacing: float | None = None,
    include_optics: bool = True,
    run_name: str | None = None,
    tomogram_index: int = 1,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_angles: str = "frame",
    half_sets: str | None = None,
) -> str:
    """Write one pick set to ``output_path`` (a file, or a folder to put ``picks_file_name`` in).

    EM and Dynamo need ``voxel_spacing`` (their coordinates are pixels); STAR writes the columns
    of CLI.md §6.3 (pixel coordinates when a pixel size is known, centred Angstrom coordinates
    when the tomogram centre is known). Returns the path written.
    """
    fmt = check_format(output_format, PICKS_FORMATS, "picks")
    if fmt in ("em", "dynamo") and voxel_spacing is None:
        raise ExportError(
            f"voxel_spacing is required for {fmt.upper()} export (--voxel-size): coordinates are pixels."
        )
    run = picks.run
    name = run_name or run.name
    path = (
        os.path.join(output_path, picks_file_name(picks, fmt)) if is_dir_target(output_path) else output_path
    )
    arrays = pick_arrays(picks)
    if fmt == "csv":
        from copick.formats.picks_csv import write_picks_csv

        written = write_picks_csv(path, {name: arrays})
    elif fmt in ("em", "dynamo"):
        if len(arrays) == 0:
            raise ExportError(
                f"{picks.path if hasattr(picks, 'path') else name}: no points to export as {fmt}."
            )
        vs = positive_voxel_size(voxel_spacing, path)
        if fmt == "em":
            from copick.formats.em import write_em_motivelist

            written = write_em_motivelist(path, arrays, vs, tomogram_index)
        else:
            from copick.formats.dynamo import write_dynamo_table

            written = write_dynamo_table(path, arrays, vs, tomogram_index)
    else:
        written = write_star_picks(
            picks,
            arrays,
            name,
            path,
            voxel_spacing=voxel_spacing,
            include_optics=include_optics,
            tilt_series_pixel_size=tilt_series_pixel_size,
            tomograms_star=tomograms_star,
            filament_columns=filament_columns,
            polarity_from_filaments=polarity_from_filaments,
            filaments_uri=filaments_uri,
            tomo_type=tomo_type,
            coordinates=coordinates,
            filament_angles=filament_angles,
            half_sets=half_sets,
        )
    if log:
        _log.info(
            f"Exported {len(arrays)} picks of {picks.pickable_object_name} from run {name} to {written}"
        )
    return written


def run_indices(run_to_index: Any, names: list[str], fmt: str) -> dict[str, int]:
    """{run: tomogram index} from a dict or an index-map file; every run in ``names`` needs one."""
    from copick.formats.index_maps import read_index_map_inverse

    if run_to_index is None:
        raise ExportError(
            f"A combined {fmt} file needs an index map (--index-map): run name -> tomogram index."
        )
    mapping = (
        read_index_map_inverse(str(run_to_index))
        if isinstance(run_to_index, (str, os.PathLike))
        else {str(k): int(v) for k, v in dict(run_to_index).items()}
    )
    missing = [n for n in names if n not in mapping]
    if missing:
        raise ExportError(f"The index map has no tomogram index for run(s) {', '.join(missing)}.")
    return mapping


def export_picks_combined(
    config: Any,
    output_file: str,
    picks_uri: str,
    output_format: str,
    voxel_spacing: float | None = None,
    run_names: Any = None,
    run_to_index: Any = None,
    include_optics: bool = True,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    star_layout: str = "particles",
    filament_angles: str = "frame",
    half_sets: str | None = None,
    allow_empty: bool = True,
) -> str | None:
    """Write the picks of every selected run into one file; EM/Dynamo need ``run_to_index`` (a dict or
    an index-map path) and ``voxel_spacing``. Returns the path written (None when there are no picks
    for EM/Dynamo, which cannot hold an empty list; logged)."""
    fmt = check_format(output_format, PICKS_FORMATS, "picks")
    root = open_root(config)
    if fmt == "star":
        result = export_relion_particles(
            root,
            picks_uri,
            output_file,
            voxel_spacing=voxel_spacing,
            run_names=run_names,
            layout=star_layout,
            include_optics=include_optics,
            tilt_series_pixel_size=tilt_series_pixel_size,
            tomograms_star=tomograms_star,
            tomo_type=tomo_type,
            coordinates=coordinates,
            filament_columns=filament_columns,
            polarity_from_filaments=polarity_from_filaments,
            filaments_uri=filaments_uri,
            filament_angles=filament_angles,
            half_sets=half_sets,
            allow_empty=allow_empty,
            log=log,
        )
        return result["path"]
    if fmt in ("em", "dynamo") and voxel_spacing is None:
        raise ExportError(
            f"voxel_spacing is required for {fmt.upper()} export (--voxel-size): coordinates are pixels."
        )
    runs, selected = select_picks(root, picks_uri, run_names)
    groups = {name: PickArrays.concat([pick_arrays(p) for p in items]) for name, items in selected.items()}
    if fmt == "csv":
        from copick.formats.picks_csv import write_picks_csv

        written = write_picks_csv(output_file, groups)
    else:
        indices = run_indices(run_to_index, list(groups), fmt)
        by_index = {indices[name]: arrays for name, arrays in groups.items() if len(arrays)}
        if not by_index:
            _log.warning(f"No picks match {picks_uri!r} in the selected runs; {output_file} not written.")
            return None
        vs = positive_voxel_size(voxel_spacing, output_file)
        if fmt == "em":
            from copick.formats.em import write_em_motivelist_grouped

            written = write_em_motivelist_grouped(output_file, by_index, vs)
        else:
            from copick.formats.dynamo import write_dynamo_table_grouped

            written = write_dynamo_table_grouped(output_file, by_index, vs)
    if log:
        total = sum(len(a) for a in groups.values())
        _log.info(f"Exported {total} picks from {len(groups)} of {len(runs)} runs to {written}")
    return written
