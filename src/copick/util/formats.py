"""Readers and writers of the import/export formats with copick 1.31's ``copick.util.formats`` signatures.

Plugins call these positionally, so every function keeps 1.31's argument order, defaults and return
shapes (tuples of arrays; pixel coordinates for EM and Dynamo, 0-based). The work is done by
``copick.formats.<format>``; heavy libraries are imported only when a function runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from copick.formats import dynamo as _dynamo
from copick.formats import em as _em
from copick.formats import picks_csv as _csv
from copick.formats import rotations as _rot
from copick.formats.common import get_picks_format_from_extension, get_volume_format_from_extension
from copick.formats.index_maps import read_dynamo_tomolist, read_index_map, read_index_map_inverse
from copick.formats.picks_json import PickArrays
from copick.formats.relion import RelionPixelSizeError, RelionTomogramCenterError
from copick.formats.relion_star import RelionTomogram, read_star_particles, read_star_particles_with_optics
from copick.formats.relion_tables import (
    build_relion_particles_df,
    build_relion_star_tables,
    check_relion_filament_options,
    relion_tilt_series_pixel_sizes,
    write_relion_import_bundle,
)
from copick.formats.rotations import euler_to_matrix
from copick.util.formats_relion import (
    detect_relion_version,
    get_tomogram_centers_from_copick,
    group_star_particles_by_tomogram,
    read_relion5_tomogram_centers,
    read_relion_tomograms,
    read_star_particles_grouped,
    relion_coordinates_to_angstrom,
    write_star_particles,
)

__all__ = [
    "RelionPixelSizeError",
    "RelionTomogram",
    "RelionTomogramCenterError",
    "build_relion_particles_df",
    "build_relion_star_tables",
    "check_relion_filament_options",
    "copick_csv_df_to_arrays",
    "copick_to_dynamo_transform",
    "copick_to_em_transform",
    "csv_to_copick_arrays",
    "detect_relion_version",
    "dynamo_to_copick_transform",
    "em_to_copick_transform",
    "euler_to_matrix",
    "get_picks_format_from_extension",
    "get_tomogram_centers_from_copick",
    "get_volume_format_from_extension",
    "group_star_particles_by_tomogram",
    "matrix_to_euler",
    "points_and_rotations_to_transforms",
    "read_copick_csv",
    "read_copick_csv_grouped",
    "read_dynamo_table",
    "read_dynamo_table_grouped",
    "read_dynamo_tomolist",
    "read_em_motivelist",
    "read_em_motivelist_grouped",
    "read_em_volume",
    "read_index_map",
    "read_index_map_inverse",
    "read_picks_csv",
    "read_relion5_tomogram_centers",
    "read_relion_tomograms",
    "read_star_particles",
    "read_star_particles_grouped",
    "read_star_particles_with_optics",
    "read_tiff_volume",
    "relion_coordinates_to_angstrom",
    "relion_tilt_series_pixel_sizes",
    "transforms_to_points_and_rotations",
    "write_copick_csv",
    "write_dynamo_table",
    "write_dynamo_table_grouped",
    "write_em_motivelist",
    "write_em_motivelist_grouped",
    "write_em_volume",
    "write_picks_csv",
    "write_picks_csv_grouped",
    "write_relion_import_bundle",
    "write_star_particles",
    "write_tiff_volume",
]

#: ``{run_name: (positions Angstrom, transforms, scores or None)}``, the grouped form of 1.31.
Grouped = Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]

# --------------------------------------------------------------------------------------------------------
# volumes
# --------------------------------------------------------------------------------------------------------


def read_tiff_volume(path: str) -> np.ndarray:
    """The (z, y, x) volume of a TIFF file."""
    from copick.formats.tiff import read_tiff_volume as read

    return read(path)


def read_em_volume(path: str) -> np.ndarray:
    """The (z, y, x) volume of an EM file."""
    return _em.read_em_volume(path)


def write_em_volume(path: str, volume: np.ndarray, dtype: Any = np.float32) -> None:
    """Write a (z, y, x) volume as EM, cast to ``dtype`` (float32 by default, as 1.31)."""
    _em.write_em_volume(path, volume, dtype=dtype)


def write_tiff_volume(path: str, volume: np.ndarray, compression: str | None = None) -> None:
    """Write a (z, y, x) volume as TIFF (no voxel size: TIFF carries none that copick reads)."""
    from copick.formats.tiff import write_tiff_volume as write

    write(path, volume, None, compression)


# --------------------------------------------------------------------------------------------------------
# rotations
# --------------------------------------------------------------------------------------------------------


def matrix_to_euler(matrices: np.ndarray, convention: str = "ZYZ", degrees: bool = True) -> np.ndarray:
    """Euler angles (N, 3) of rotation matrices (N, 3, 3) in ``convention``."""
    return _rot.matrix_to_euler(matrices, convention, degrees)


def transforms_to_points_and_rotations(
    transforms: np.ndarray, eps: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """The translations (N, 3) and rotations (N, 3, 3) of (N, 4, 4) transforms."""
    trans = np.asarray(transforms, dtype=np.float64).reshape(-1, 4, 4)
    rotations = trans[:, :3, :3].copy()
    rotations[np.abs(rotations) < eps] = 0.0
    return trans[:, :3, 3].copy(), rotations


def points_and_rotations_to_transforms(points: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """(N, 4, 4) transforms with ``rotations`` and ``points`` as translation."""
    _, transforms = _rot.points_and_rotations_to_transforms(points, rotations, shifts=points)
    return transforms


# --------------------------------------------------------------------------------------------------------
# copick CSV
# --------------------------------------------------------------------------------------------------------


def read_picks_csv(path: str) -> Any:
    """The CSV as a pandas DataFrame (missing transform/score/instance_id columns filled in)."""
    return _csv.read_copick_csv(path)


def copick_csv_df_to_arrays(df: Any) -> tuple[np.ndarray, ...]:
    """``(positions, transforms, scores, run_names, instance_ids)`` of a copick CSV DataFrame."""
    n = len(df)
    positions = df[list(_csv.POSITION_COLUMNS)].to_numpy(dtype=np.float64)
    if all(c in df.columns for c in _csv.TRANSFORM_COLUMNS):
        transforms = df[list(_csv.TRANSFORM_COLUMNS)].to_numpy(dtype=np.float64).reshape(n, 4, 4)
    else:
        transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    scores = df["score"].to_numpy(dtype=np.float64) if "score" in df.columns else np.ones(n)
    ids = df["instance_id"].to_numpy(dtype=np.int64) if "instance_id" in df.columns else np.zeros(n, np.int64)
    return positions, transforms, scores, df["run_name"].astype(str).to_numpy(dtype=object), ids


def read_copick_csv(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """``(positions, transforms, scores, run_names)`` of a copick CSV file."""
    return copick_csv_df_to_arrays(_csv.read_copick_csv(path))[:4]


def csv_to_copick_arrays(df: Any, include_instance_ids: bool = False) -> dict[str, tuple[np.ndarray, ...]]:
    """``{run_name: (positions, transforms, scores[, instance_ids])}`` of a copick CSV DataFrame."""
    positions, transforms, scores, runs, ids = copick_csv_df_to_arrays(df)
    out = {}
    for run in dict.fromkeys(runs):
        keep = runs == run
        arrays = (positions[keep], transforms[keep], scores[keep])
        out[str(run)] = (*arrays, ids[keep]) if include_instance_ids else arrays
    return out


def read_copick_csv_grouped(path: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``{run_name: (positions, transforms, scores)}`` of a copick CSV file."""
    return csv_to_copick_arrays(_csv.read_copick_csv(path))


def _arrays(positions: Any, transforms: Any, scores: Any = None, instance_ids: Any = None) -> PickArrays:
    return PickArrays.build(
        np.asarray(positions, dtype=np.float64),
        np.asarray(transforms, dtype=np.float64),
        instance_ids,
        scores,
    )


def write_picks_csv(
    path: str,
    run_name: str,
    positions: np.ndarray,
    transforms: np.ndarray,
    scores: np.ndarray | None = None,
    instance_ids: np.ndarray | None = None,
) -> None:
    """Write one run's picks as a copick CSV (``score`` 1 when not given; ``instance_id`` when given)."""
    arrays = _arrays(positions, transforms, scores, instance_ids)
    _csv.write_picks_csv(path, {run_name: arrays}, instance_ids=instance_ids is not None)


def write_picks_csv_grouped(
    path: str, grouped_data: Grouped, instance_ids: Mapping[str, np.ndarray] | None = None
) -> None:
    """Write several runs' picks (``{run: (positions, transforms, scores)}``) as one copick CSV; the
    ``instance_id`` column only when ``instance_ids`` are given (0 for runs without)."""
    ids = instance_ids or {}
    runs = {run: _arrays(p, t, s, ids.get(run)) for run, (p, t, s) in grouped_data.items()}
    _csv.write_picks_csv(path, runs, instance_ids=instance_ids is not None)


def write_copick_csv(
    path: str,
    positions: np.ndarray,
    transforms: np.ndarray,
    run_name: str = "",
    scores: np.ndarray | None = None,
    instance_ids: np.ndarray | None = None,
) -> None:
    """``write_picks_csv`` with the run name after the arrays (1.31's older spelling)."""
    write_picks_csv(path, run_name, positions, transforms, scores, instance_ids)


# --------------------------------------------------------------------------------------------------------
# EM motive lists (pixels, 0-based; Euler angles phi, theta, psi of a "zxz" rotation)
# --------------------------------------------------------------------------------------------------------


def copick_to_em_transform(
    points_angstrom: np.ndarray, transforms: np.ndarray, voxel_size: float, return_shifts: bool = False
) -> tuple[np.ndarray, ...]:
    """``(positions_px, eulers_deg[, shifts_px])`` of copick points and transforms."""
    angles, shifts = _em.copick_to_em_transform(transforms, voxel_size)
    pixels = np.asarray(points_angstrom, dtype=np.float64).reshape(-1, 3) / float(voxel_size)
    eulers = angles[:, [0, 2, 1]]
    return (pixels, eulers, shifts) if return_shifts else (pixels, eulers)


def em_to_copick_transform(
    positions_px: np.ndarray, eulers_deg: np.ndarray, voxel_size: float, shifts_px: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(positions Angstrom, transforms)`` of EM pixel positions, Euler angles and shifts."""
    eulers = np.asarray(eulers_deg, dtype=np.float64).reshape(-1, 3)
    transforms = _em.em_to_copick_transform(eulers[:, [0, 2, 1]], shifts_px, voxel_size)
    return np.asarray(positions_px, dtype=np.float64).reshape(-1, 3) * float(voxel_size), transforms


def read_em_motivelist(
    path: str, include_tomo_index: bool = False, tomo_index_row: int = 4, include_shifts: bool = False
) -> tuple[np.ndarray, ...]:
    """``(positions_px, eulers_deg, scores[, tomo_indices][, shifts_px])`` of a motive list."""
    rows = _em.read_em_motivelist_rows(path).astype(np.float32)
    out: list[np.ndarray] = [rows[7:10].T - 1.0, rows[[16, 18, 17]].T, rows[3].copy()]
    if include_tomo_index:
        out.append(_em.tomogram_indices(rows.astype(np.float64), tomo_index_row, path))
    if include_shifts:
        out.append(rows[10:13].T.copy())
    return tuple(out)


def write_em_motivelist(
    path: str,
    positions: np.ndarray,
    eulers: np.ndarray,
    scores: np.ndarray | None = None,
    tomogram_index: int = 1,
    shifts: np.ndarray | None = None,
) -> None:
    """Write pixel positions (0-based), Euler angles (phi, theta, psi) and shifts as a motive list."""
    positions_a, transforms = em_to_copick_transform(positions, eulers, 1.0, shifts)
    _em.write_em_motivelist(path, _arrays(positions_a, transforms, scores), 1.0, tomogram_index)


def _grouped(groups: Mapping[int, PickArrays], index_to_run: Mapping[int, str]) -> dict[str, tuple]:
    """1.31's grouped form of ``{tomogram index: picks}``; indices without a run are left out."""
    return {
        index_to_run[i]: (a.positions, a.transforms, a.scores) for i, a in groups.items() if i in index_to_run
    }


def _by_index(grouped_data: Grouped, run_to_index: Mapping[str, int]) -> dict[int, PickArrays]:
    missing = [run for run in grouped_data if run not in run_to_index]
    if missing:
        raise ValueError(f"Run '{missing[0]}' not found in run_to_index mapping")
    return {int(run_to_index[run]): _arrays(p, t, s) for run, (p, t, s) in grouped_data.items()}


def read_em_motivelist_grouped(
    path: str, voxel_spacing: float, index_to_run: Mapping[int, str], tomo_index_row: int = 4
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``{run: (positions Angstrom, transforms, scores)}`` of a multi-tomogram motive list."""
    return _grouped(_em.read_em_motivelist_grouped(path, voxel_spacing, tomo_index_row), index_to_run)


def write_em_motivelist_grouped(
    path: str, grouped_data: Grouped, voxel_spacing: float, run_to_index: Mapping[str, int]
) -> None:
    """Write several runs' picks as one motive list, tomogram indices from ``run_to_index``."""
    _em.write_em_motivelist_grouped(path, _by_index(grouped_data, run_to_index), voxel_spacing)


# --------------------------------------------------------------------------------------------------------
# Dynamo tables (pixels; Euler angles tdrot, tilt, narot)
# --------------------------------------------------------------------------------------------------------


def copick_to_dynamo_transform(
    points_angstrom: np.ndarray, transforms: np.ndarray, voxel_size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(positions_px, eulers_deg, shifts_px)`` of copick points and transforms."""
    angles, shifts = _dynamo.copick_to_dynamo_transform(transforms, voxel_size)
    return np.asarray(points_angstrom, dtype=np.float64).reshape(-1, 3) / float(voxel_size), angles, shifts


def dynamo_to_copick_transform(
    positions_px: np.ndarray, eulers_deg: np.ndarray, shifts_px: np.ndarray, voxel_size: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(positions Angstrom, transforms)`` of Dynamo pixel positions, angles and shifts."""
    transforms = _dynamo.dynamo_to_copick_transform(eulers_deg, shifts_px, voxel_size)
    return np.asarray(positions_px, dtype=np.float64).reshape(-1, 3) * float(voxel_size), transforms


def read_dynamo_table(path: str, include_tomo_index: bool = False) -> tuple[np.ndarray, ...]:
    """``(positions_px, eulers_deg, shifts_px, scores[, tomo_indices])`` of a Dynamo table."""
    df = _dynamo.read_dynamo_table_frame(path)
    out = [
        df[[c for c in ("x", "y", "z")]].to_numpy(dtype=np.float64),
        df[["tdrot", "tilt", "narot"]].to_numpy(dtype=np.float64),
        df[["dx", "dy", "dz"]].to_numpy(dtype=np.float64),
        df["cc"].to_numpy(dtype=np.float64),
    ]
    if include_tomo_index:
        out.append(_dynamo.tomogram_indices(df, path))
    return tuple(out)


def write_dynamo_table(
    path: str,
    positions: np.ndarray,
    eulers: np.ndarray,
    shifts: np.ndarray | None = None,
    scores: np.ndarray | None = None,
    tomogram_index: int = 1,
) -> None:
    """Write pixel positions, Dynamo angles and shifts as a Dynamo table."""
    zero = np.zeros_like(np.asarray(positions, dtype=np.float64))
    positions_a, transforms = dynamo_to_copick_transform(
        positions, eulers, zero if shifts is None else shifts, 1.0
    )
    _dynamo.write_dynamo_table(path, _arrays(positions_a, transforms, scores), 1.0, tomogram_index)


def read_dynamo_table_grouped(
    path: str, voxel_spacing: float, index_to_run: Mapping[int, str]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``{run: (positions Angstrom, transforms, scores)}`` of a multi-tomogram Dynamo table."""
    return _grouped(_dynamo.read_dynamo_table_grouped(path, voxel_spacing), index_to_run)


def write_dynamo_table_grouped(
    path: str, grouped_data: Grouped, voxel_spacing: float, run_to_index: Mapping[str, int]
) -> None:
    """Write several runs' picks as one Dynamo table, tomogram indices from ``run_to_index``."""
    _dynamo.write_dynamo_table_grouped(path, _by_index(grouped_data, run_to_index), voxel_spacing)
