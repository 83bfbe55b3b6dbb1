"""Exporting picks: one pick set (CSV, STAR, EM, Dynamo), RELION particle files of many runs, and the
picks of many runs in one file. Coordinates follow CLI.md §6."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from copick.formats.common import EXPORT_EXTENSIONS, positive_voxel_size
from copick.formats.picks_json import PickArrays
from copick.ops.export_common import PICKS_FORMATS, ExportError, check_format, is_dir_target, open_root

_log = logging.getLogger("copick.ops.export")


def _arrays(picks: Any) -> PickArrays:
    positions, transforms = picks.numpy()
    return PickArrays(positions, transforms, picks.instance_ids(), picks.scores())


def _concat(items: list[PickArrays]) -> PickArrays:
    if len(items) == 1:
        return items[0]
    if not items:
        return PickArrays.empty()
    fields = ("positions", "transforms", "instance_ids", "scores")
    return PickArrays(*(np.concatenate([getattr(a, f) for a in items]) for f in fields))


def picks_file_name(picks: Any, output_format: str) -> str:
    """``<run>_<object>_<user>_<session>.<ext>``: the per-run export file name of a pick set."""
    ext = EXPORT_EXTENSIONS[output_format]
    return f"{picks.run.name}_{picks.pickable_object_name}_{picks.user_id}_{picks.session_id}.{ext}"


def _polarity(picks_sets: list[Any], from_filaments: bool, filaments_uri: str | None) -> Any:
    """Per pick (sets concatenated): is its filament's polarity known, from the stating Filaments."""
    if not from_filaments:
        return False
    from copick.util.relion_filaments import filament_polarity_known

    return np.concatenate([filament_polarity_known(p, filaments_uri) for p in picks_sets])


def _is_filament(root: Any, object_name: str, filament_columns: str) -> bool:
    if filament_columns == "on":
        return True
    if filament_columns == "off":
        return False
    obj = root.get_object(object_name)
    return bool(getattr(obj, "is_filament", False)) if obj is not None else False


def tomograms_table(tomograms_star: Any) -> dict[str, Any]:
    """The ``tomograms.star`` entries by name: read from a path, or the given dict (empty when None)."""
    if not tomograms_star:
        return {}
    if isinstance(tomograms_star, dict):
        return tomograms_star
    from copick.formats.relion_star import read_relion_tomograms

    return read_relion_tomograms(str(tomograms_star))


def _star_options(
    run: Any,
    voxel_spacing: float | None,
    tilt_series_pixel_size: float | None,
    tomograms: dict[str, Any],
    tomo_type: str | None,
    coordinates: str,
    optics_group: int | None,
) -> Any:
    """What is known for one run's STAR export: pixel size, tomogram centre, optics group."""
    from copick.formats.relion import tomogram_center_from_run
    from copick.formats.relion_write import StarExportOptions

    if coordinates not in ("auto", "centered"):
        raise ExportError(f"coordinates must be 'auto' or 'centered', got {coordinates!r}.")
    tomo = tomograms.get(run.name)
    pixel = tilt_series_pixel_size
    if pixel is None and tomo is not None:
        pixel = tomo.tilt_series_pixel_size
    center = tomo.center if tomo is not None else None
    if center is None:
        center = tomogram_center_from_run(run, voxel_spacing, tomo_type)
    if coordinates == "centered" and center is None:
        raise ExportError(
            f"run {run.name}: centred coordinates need the tomogram centre: give a tomograms.star with "
            "rlnTomoSize*, or have a tomogram in the run (--tomo-type, --voxel-size)."
        )
    if pixel is None and center is None and voxel_spacing is None:
        raise ExportError(
            f"run {run.name}: RELION export needs a tilt-series pixel size (--tilt-series-pixel-size or "
            "--tomograms-star), a tomogram centre, or --voxel-size (legacy pixel coordinates)."
        )
    return StarExportOptions(pixel, voxel_spacing, center, optics_group if pixel is not None else None)


# ------------------------------------------------------------------------------------------------
# picks
# ------------------------------------------------------------------------------------------------


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
    arrays = _arrays(picks)
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
        from copick.formats import relion_write as relion

        tomograms = tomograms_table(tomograms_star)
        options = _star_options(
            run,
            voxel_spacing,
            tilt_series_pixel_size,
            tomograms,
            tomo_type,
            coordinates,
            1 if include_optics else None,
        )
        filament = _is_filament(run.root, picks.pickable_object_name, filament_columns)
        polarity = _polarity([picks], filament and polarity_from_filaments, filaments_uri)
        particles = relion.picks_to_relion_particles(
            arrays, name, options, filament, filament_angles, half_sets, path, polarity
        )
        optics = None
        if options.optics_group is not None:
            optics = relion.optics_table([(1, name, options.pixel_size, tomograms.get(run.name))])
        written = relion.write_star_particles(path, particles, optics)
    if log:
        _log.info(
            f"Exported {len(arrays)} picks of {picks.pickable_object_name} from run {name} to {written}"
        )
    return written


def _select_picks(root: Any, picks_uri: str, run_names: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    """(runs considered, {run name: matching pick sets}) for a picks URI."""
    from copick.util.uri import resolve_copick_objects

    if isinstance(run_names, str):
        run_names = [run_names]
    if run_names:
        runs = []
        for name in run_names:
            run = root.get_run(name)
            if run is None:
                raise ExportError(f"Run {name!r} not found in the project.")
            runs.append(run)
    else:
        runs = list(root.runs)
    selected = {}
    for run in runs:
        found = resolve_copick_objects(picks_uri, root, "picks", run_name=run.name)
        if found:
            selected[run.name] = found
    return runs, selected


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


def export_relion_particles(
    root: Any,
    picks_uri: str,
    output_path: str,
    *,
    voxel_spacing: float | None = None,
    run_names: Any = None,
    layout: str = "particles",
    include_optics: bool = True,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    filament_angles: str = "frame",
    half_sets: str | None = None,
    allow_empty: bool = False,
    log: bool = False,
) -> dict[str, Any]:
    """One RELION particles STAR for every selected run (``layout="particles"``), or a
    ``data_coordinate_files`` index plus one STAR per run under ``coordinates/`` (``layout="import"``).

    Returns ``{"path", "particles", "runs", "total_runs", "files"}``.
    """
    import pandas as pd

    from copick.formats import relion_write as relion

    if layout not in ("particles", "import"):
        raise ExportError(f"star layout must be 'particles' or 'import', got {layout!r}.")
    root = open_root(root)
    runs, selected = _select_picks(root, picks_uri, run_names)
    tomograms = tomograms_table(tomograms_star)
    tables, optics_rows, counts = [], [], {}
    for group, run in enumerate((r for r in runs if r.name in selected), start=1):
        arrays = _concat([_arrays(p) for p in selected[run.name]])
        options = _star_options(
            run,
            voxel_spacing,
            tilt_series_pixel_size,
            tomograms,
            tomo_type,
            coordinates,
            group if include_optics else None,
        )
        filament = _is_filament(root, selected[run.name][0].pickable_object_name, filament_columns)
        tables.append(
            (
                run.name,
                relion.picks_to_relion_particles(
                    arrays,
                    run.name,
                    options,
                    filament,
                    filament_angles,
                    half_sets,
                    output_path,
                    _polarity(selected[run.name], filament and polarity_from_filaments, filaments_uri),
                ),
            )
        )
        if options.optics_group is not None:
            optics_rows.append((group, run.name, options.pixel_size, tomograms.get(run.name)))
        counts[run.name] = len(arrays)
    total = sum(counts.values())
    if total == 0 and not allow_empty:
        raise ExportError(
            f"No picks match {picks_uri!r} in the selected runs; nothing written to {output_path}."
        )
    files = []
    if layout == "particles":
        particles = pd.concat([t for _, t in tables], ignore_index=True) if tables else pd.DataFrame()
        if half_sets == "filament" and len(particles):  # balanced over the whole file
            particles["rlnRandomSubset"] = relion.filament_half_sets(particles)
        optics = relion.optics_table(optics_rows) if optics_rows else None
        files.append(relion.write_star_particles(output_path, particles, optics))
    else:
        folder = os.path.join(os.path.dirname(os.path.abspath(output_path)), "coordinates")
        entries = {}
        for name, table in tables:
            path = os.path.join(folder, f"{name}.star")
            rows = [r for r in optics_rows if r[1] == name]
            optics = relion.optics_table(rows) if rows else None
            files.append(relion.write_star_particles(path, table, optics))
            entries[name] = os.path.relpath(path, os.path.dirname(os.path.abspath(output_path)))
        files.insert(0, relion.write_star_import_index(output_path, entries))
    message = (
        f"Exported {total} particles from {len(tables)} of {len(runs)} runs to RELION "
        f"({layout} layout): {output_path}"
    )
    if log:
        _log.info(message)
    return {
        "path": output_path,
        "particles": total,
        "runs": len(tables),
        "total_runs": len(runs),
        "files": files,
    }


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
    runs, selected = _select_picks(root, picks_uri, run_names)
    groups = {name: _concat([_arrays(p) for p in items]) for name, items in selected.items()}
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
