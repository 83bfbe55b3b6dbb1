"""Importing picks: copick CSV, RELION STAR, EM motive lists and Dynamo tables, single- or multi-tomogram.

Files are read and checked completely, and every target run is checked for existing picks, before the
first pick set is written; runs created for a failed import are removed again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from copick.errors import InvalidDataError
from copick.formats.common import MissingVoxelSizeError, positive_voxel_size
from copick.formats.picks_json import PickArrays
from copick.ops.import_common import (
    PicksImportResult,
    check_picks_targets,
    replace_allowed,
    require_object,
    store_picks,
)

_log = logging.getLogger("copick.ops.importers")


def _star_groups(
    root: Any,
    file_path: str,
    run_filter: str | None,
    voxel_spacing: float | None,
    centers: Any,
    tilt_series_pixel_size: float | None,
    tomograms: Any,
    relion_version: str | None,
) -> tuple[dict[str, PickArrays], int]:
    """Picks per rlnTomoName (one group ``run_filter`` for single-run imports) and the rows left out."""
    from copick.formats import relion, relion_star

    particles, optics = relion_star.read_star_particles_with_optics(file_path)
    tomos = relion_star.relion_tomograms_from(tomograms)
    left_out = 0
    if run_filter is not None:
        names = particles["rlnTomoName"].astype(str) if "rlnTomoName" in particles.columns else None
        if names is not None and names.nunique() > 1:
            if run_filter not in set(names):
                raise InvalidDataError(
                    f"{file_path}: particles of {names.nunique()} tomograms "
                    f"({', '.join(sorted(set(names))[:5])}...) and none named {run_filter!r}; "
                    "use 'add picks-relion' to split them by rlnTomoName."
                )
            keep = (names == run_filter).to_numpy()
            left_out = int((~keep).sum())
            _log.warning(
                f"{file_path}: importing the {int(keep.sum())} particles of tomogram {run_filter}, "
                f"leaving out {left_out} of other tomograms."
            )
            particles = particles[keep]
        groups = {run_filter: particles}
    else:
        if "rlnTomoName" not in particles.columns:
            raise InvalidDataError(
                f"{file_path}: no rlnTomoName column, so particles cannot be assigned to runs."
            )
        groups = relion_star.group_by_tomogram(particles)
    out = {}
    for name, table in groups.items():
        center = centers.get(name) if isinstance(centers, dict) else centers
        from_star = name in tomos and tomos[name].center is not None
        if (
            center is None
            and not from_star
            and relion.detect_relion_version(table) == "relion5"
            and (relion_version != "relion4")
        ):
            run = root.get_run(name)
            center = relion.tomogram_center_from_run(run, voxel_spacing) if run is not None else None
        positions, rule = relion.relion_coordinates_to_angstrom(
            table,
            centers=center,
            optics=optics,
            tilt_series_pixel_size=tilt_series_pixel_size,
            voxel_size=voxel_spacing,
            tomograms=tomos,
            relion_version=relion_version,
            source=file_path,
        )
        _log.info(f"{file_path}: tomogram {name}: {len(table)} particles, coordinates by rule '{rule}'.")
        out[name] = relion.relion_particles_to_picks(table, positions, file_path)
    return out, left_out


def _read_single_run_picks(
    root: Any,
    run_name: str,
    file_path: str,
    kind: str,
    voxel_spacing: float | None,
    tilt_series_pixel_size: Any,
    tomograms_star: Any,
    relion_version: str | None,
    tomogram_center: Any,
) -> dict[str, PickArrays]:
    from copick.formats import dynamo, em, picks_csv

    if kind == "csv":
        return picks_csv.read_picks_csv(file_path, default_run=run_name or None)
    if kind in ("em", "dynamo"):
        if voxel_spacing is None:
            raise MissingVoxelSizeError(
                f"{file_path}: {kind.upper()} coordinates are pixels; give the tomogram "
                "voxel size (--voxel-size)."
            )
        vs = positive_voxel_size(voxel_spacing, file_path)
        if kind == "em":
            rows = em.read_em_motivelist_rows(file_path)
            picks, indices = em.picks_from_rows(rows, vs), rows[4]
        else:
            table = dynamo.read_dynamo_table_frame(file_path)
            picks, indices = dynamo.picks_from_frame(table, vs), table["tomo"].to_numpy()
        distinct = np.unique(indices)
        if len(distinct) > 1:
            _log.warning(
                f"{file_path}: particles of {len(distinct)} tomograms (indices {distinct.tolist()}) all go "
                f"to run {run_name}; 'add picks-{kind}' splits them by tomogram."
            )
        return {run_name: picks}
    groups, _ = _star_groups(
        root,
        file_path,
        run_name,
        voxel_spacing,
        tomogram_center,
        tilt_series_pixel_size,
        tomograms_star,
        relion_version,
    )
    return groups


def import_picks_file(
    root: Any,
    run_name: str,
    file_path: str,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_spacing: float | None = None,
    file_type: str | None = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: str | None = None,
    relion_version: str | None = None,
    tomogram_center: Any = None,
) -> dict[str, Any]:
    """Import one picks file: {run name: picks written} (a CSV with ``run_name``: every run in it)."""
    from copick.formats.common import require_file, resolve_picks_format
    from copick.util.escape import sanitize_name

    object_name = require_object(root, object_name)
    user_id, session_id = sanitize_name(user_id), sanitize_name(session_id)
    kind = resolve_picks_format(file_path, file_type)
    require_file(file_path, f"{kind.upper()} picks file")
    groups = _read_single_run_picks(
        root,
        run_name,
        file_path,
        kind,
        voxel_spacing,
        tilt_series_pixel_size,
        tomograms_star,
        relion_version,
        tomogram_center,
    )
    if run_name and run_name not in groups:
        raise InvalidDataError(f"Run {run_name} not found in CSV file. Available runs: {list(groups)}")
    replace = replace_allowed(exist_ok, overwrite)
    check_picks_targets(root, list(groups), object_name, user_id, session_id, create, replace, file_path)
    stored = store_picks(root, groups, object_name, user_id, session_id, create, log)
    if log and kind == "csv":
        _log.info(f"Successfully imported picks from {file_path} to {len(stored)} runs")
    return stored


def add_picks_from_file(
    root: Any,
    run_name: str,
    file_path: str,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_spacing: float | None = None,
    file_type: str | None = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: str | None = None,
    relion_version: str | None = None,
    tomogram_center: Any = None,
) -> Any:
    """Import a picks file (copick CSV, RELION STAR, EM motive list, Dynamo table); returns the picks of
    ``run_name``, as copick 1.31 does.

    A CSV with a ``run_name`` column is split by it (every run in it is written; ``run_name`` must be one
    of them); a CSV without one goes to ``run_name``. EM and Dynamo need ``voxel_spacing`` (pixel
    coordinates); STAR follows the rules of CLI.md §6.3.
    """
    stored = import_picks_file(
        root,
        run_name,
        file_path,
        object_name,
        user_id,
        session_id,
        voxel_spacing,
        file_type,
        create,
        exist_ok,
        overwrite,
        log,
        tilt_series_pixel_size,
        tomograms_star,
        relion_version,
        tomogram_center,
    )
    return stored[run_name]


def add_picks(
    root: Any,
    run_name: str,
    path: str,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_spacing: float | None,
    file_type: str | None = None,
    tomogram_dimensions: Sequence[float] | None = None,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: str | None = None,
    relion_version: str | None = None,
) -> Any:
    """Legacy form of ``add_picks_from_file``; ``tomogram_dimensions`` (x, y, z pixels) give the centre."""
    center = None
    if tomogram_dimensions is not None and voxel_spacing is not None:
        center = np.asarray(tomogram_dimensions, dtype=np.float64).reshape(3) / 2.0 * float(voxel_spacing)
    return add_picks_from_file(
        root,
        run_name,
        path,
        object_name,
        user_id,
        session_id,
        voxel_spacing,
        file_type,
        create,
        exist_ok,
        overwrite,
        log,
        tilt_series_pixel_size,
        tomograms_star,
        relion_version,
        tomogram_center=center,
    )


def add_picks_grouped_from_file(
    root: Any,
    file_path: str,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_spacing: float | None,
    index_to_run: dict[Any, str] | None,
    file_type: str | None = None,
    tomo_index_row: int = 4,
    create: bool = True,
    exist_ok: bool = False,
    overwrite: bool = False,
    log: bool = False,
    tomogram_centers: dict[str, Any] | None = None,
    relion_version: str | None = None,
    tilt_series_pixel_size: float | None = None,
    tomograms: Any = None,
) -> PicksImportResult:
    """Import a multi-tomogram file (EM motive list, Dynamo table, RELION STAR) into one run per tomogram.

    EM/Dynamo particles are grouped by tomogram index and placed with ``index_to_run``; STAR
    particles by ``rlnTomoName`` (renamed through ``index_to_run`` when given). Particles whose
    tomogram has no run are not imported and are counted in the result's ``skipped_particles``.
    """
    from copick.formats import dynamo, em, picks_csv
    from copick.formats.common import require_file, resolve_picks_format
    from copick.util.escape import sanitize_name

    object_name = require_object(root, object_name)
    user_id, session_id = sanitize_name(user_id), sanitize_name(session_id)
    kind = resolve_picks_format(file_path, file_type)
    require_file(file_path, f"{kind.upper()} picks file")
    result = PicksImportResult()
    result.source = file_path
    if kind == "csv":
        raw: dict[Any, PickArrays] = dict(picks_csv.read_picks_csv(file_path))
    elif kind in ("em", "dynamo"):
        if voxel_spacing is None:
            raise MissingVoxelSizeError(
                f"{file_path}: {kind.upper()} coordinates are pixels; give the tomogram "
                "voxel size (--voxel-size)."
            )
        if not index_to_run:
            raise InvalidDataError(f"{file_path}: an index map (tomogram index -> run name) is needed.")
        vs = positive_voxel_size(voxel_spacing, file_path)
        raw = (
            em.read_em_motivelist_grouped(file_path, vs, tomo_index_row)
            if kind == "em"
            else dynamo.read_dynamo_table_grouped(file_path, vs)
        )
    else:
        raw, _ = _star_groups(
            root,
            file_path,
            None,
            voxel_spacing,
            tomogram_centers,
            tilt_series_pixel_size,
            tomograms,
            relion_version,
        )
    mapping = {(int(k) if kind in ("em", "dynamo") else str(k)): v for k, v in (index_to_run or {}).items()}
    groups: dict[str, PickArrays] = {}
    for key, arrays in raw.items():
        run_name = mapping.get(key) if kind in ("em", "dynamo") else mapping.get(key, key)
        if run_name is None:
            result.unmapped[key] = len(arrays)
            result.skipped_particles += len(arrays)
            continue
        groups[run_name] = PickArrays.concat([groups[run_name], arrays]) if run_name in groups else arrays
    if result.unmapped:
        _log.warning(
            f"{file_path}: {result.skipped_particles} particle(s) of tomogram(s) "
            f"{', '.join(map(str, sorted(result.unmapped)))} have no run in the index map; not imported."
        )
    replace = replace_allowed(exist_ok, overwrite)
    check_picks_targets(root, list(groups), object_name, user_id, session_id, create, replace, file_path)
    result.update(store_picks(root, groups, object_name, user_id, session_id, create, log))
    if log:
        _log.info(
            f"Imported {sum(len(a) for a in groups.values())} particles from {file_path} "
            f"into {len(groups)} runs"
        )
    return result
