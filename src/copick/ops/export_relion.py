"""Exporting picks as RELION particles (STAR): what is known per run (tilt-series pixel size,
tomogram centre, optics group), filament columns, and the one-file or import-bundle layouts of many
runs. Kept apart from ``copick.ops.export_picks``, which chooses the format and the files to write.
Coordinates follow CLI.md §6.3."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from copick.formats.picks_json import PickArrays
from copick.formats.relion_star import relion_tomograms_from
from copick.ops.export_common import ExportError, open_root, pick_arrays, select_picks

_log = logging.getLogger("copick.ops.export")


def _polarity(picks_sets: list[Any], from_filaments: bool, filaments_uri: str | None) -> Any:
    """Per pick (sets concatenated): is its filament's polarity known, from the stating Filaments."""
    if not from_filaments:
        return False
    from copick.util.relion_filaments import filament_polarity_known

    return np.concatenate([filament_polarity_known(p, filaments_uri) for p in picks_sets])


def _is_filament(root: Any, object_name: str, filament_columns: str) -> bool:
    """Whether the picks of ``object_name`` get RELION's filament columns (``auto``: the object's
    ``is_filament``)."""
    if filament_columns == "on":
        return True
    if filament_columns == "off":
        return False
    obj = root.get_object(object_name)
    return bool(getattr(obj, "is_filament", False)) if obj is not None else False


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


def write_star_picks(
    picks: Any,
    arrays: Any,
    name: str,
    path: str,
    *,
    voxel_spacing: float | None,
    include_optics: bool,
    tilt_series_pixel_size: float | None,
    tomograms_star: Any,
    filament_columns: str,
    polarity_from_filaments: bool,
    filaments_uri: str | None,
    tomo_type: str | None,
    coordinates: str,
    filament_angles: str,
    half_sets: str | None,
) -> str:
    """Write one pick set (``arrays``, of run ``name``) as a RELION particles STAR at ``path``, with
    the columns of CLI.md §6.3 and an optics table when a pixel size is known; the path written."""
    from copick.formats import relion_write as relion

    run = picks.run
    tomograms = relion_tomograms_from(tomograms_star)
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
    return relion.write_star_particles(path, particles, optics)


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
    runs, selected = select_picks(root, picks_uri, run_names)
    tomograms = relion_tomograms_from(tomograms_star)
    tables, optics_rows, counts = [], [], {}
    for group, run in enumerate((r for r in runs if r.name in selected), start=1):
        arrays = PickArrays.concat([pick_arrays(p) for p in selected[run.name]])
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
