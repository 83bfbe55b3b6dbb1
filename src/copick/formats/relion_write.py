"""RELION STAR particles written from copick picks: the particles table (1.31's column order, filament
columns, half sets by whole filament), the optics table and the STAR files."""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from copick.errors import InvalidDataError
from copick.formats.common import ensure_parent
from copick.formats.picks_json import PickArrays
from copick.formats.relion import (
    ANGLE_COLUMNS,
    CENTERED_COLUMNS,
    COORDINATE_COLUMNS,
    SUBTOMO_COLUMNS,
    matrix_to_relion_angles,
)
from copick.formats.relion_star import RelionTomogram

_log = logging.getLogger(__name__)


@dataclass
class StarExportOptions:
    """What a RELION export knows per run: pixel size, voxel size (legacy), tomogram centre, optics group."""

    pixel_size: float | None = None
    voxel_size: float | None = None
    center: np.ndarray | None = None
    optics_group: int | None = None


#: RELION's filament frame: a pick's rotation R is written as rlnTomoSubtomogram* = R @ RY90 and
#: rlnAngle* = (0, 90, 0), since R(0, 90, 0) = RY90.T.
RY90 = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


def filament_track_lengths(positions: np.ndarray, instance_ids: np.ndarray) -> np.ndarray:
    """rlnHelicalTrackLengthAngst: distance walked along each filament's rows, in row order."""
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    ids = np.asarray(instance_ids)
    out = np.zeros(len(positions))
    for tube in np.unique(ids):
        idx = np.flatnonzero(ids == tube)
        steps = np.linalg.norm(np.diff(positions[idx], axis=0), axis=1)
        out[idx] = np.concatenate([[0.0], np.cumsum(steps)])
    return out


def filament_relion_angles(rotations: np.ndarray) -> dict[str, np.ndarray]:
    """RELION's filament convention for (N, 3, 3) rotations: the frame in rlnTomoSubtomogram*,
    rlnAngle* = (0, 90, 0), tilt prior 90 and psi prior = rlnAnglePsi."""
    rotations = np.asarray(rotations, dtype=np.float64).reshape(-1, 3, 3)
    n = len(rotations)
    sub = matrix_to_relion_angles(rotations @ RY90) if n else np.zeros((0, 3))
    angles = np.tile([0.0, 90.0, 0.0], (n, 1))
    out = {column: sub[:, k] for k, column in enumerate(SUBTOMO_COLUMNS)}
    out.update({column: angles[:, k] for k, column in enumerate(ANGLE_COLUMNS)})
    out["rlnAngleTiltPrior"] = np.full(n, 90.0)
    out["rlnAnglePsiPrior"] = angles[:, 2].copy()
    return out


def half_set_subsets(keys: Sequence[Hashable]) -> np.ndarray:
    """rlnRandomSubset 1/2 per particle by filament key: whole filaments stay together, largest first
    (ties by key) into the half with fewer particles, so the split is balanced and deterministic."""
    counts: dict[Any, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    totals = [0, 0]
    subset_of: dict[Any, int] = {}
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        half = 0 if totals[0] <= totals[1] else 1
        subset_of[key] = half + 1
        totals[half] += counts[key]
    return np.array([subset_of[key] for key in keys], dtype=np.int64)


def check_filament_ids(ids: np.ndarray, run_name: str) -> None:
    """Filament columns need rlnHelicalTubeID >= 1: refuse picks without a filament id (1.31's words)."""
    missing = int(np.count_nonzero(np.asarray(ids) < 1))
    if missing:
        raise InvalidDataError(
            f"{missing} of {len(ids)} picks in {run_name} have no filament ID (instance_id < 1); "
            "rlnHelicalTubeID starts at 1. Assign filament IDs, or export without filament columns."
        )


def flip_ratios(polarity_known: Any, n: int) -> np.ndarray:
    """rlnAnglePsiFlipRatio: 0 where the filament's polarity is known, 0.5 elsewhere."""
    known = np.asarray(polarity_known, dtype=bool)
    if known.ndim == 0:
        known = np.full(n, bool(known))
    if known.shape != (n,):
        raise ValueError(
            f"polarity_known has shape {known.shape}; expected a bool or one value per pick ({n})."
        )
    return np.where(known, 0.0, 0.5)


def picks_to_relion_particles(
    picks: PickArrays,
    run_name: str,
    options: StarExportOptions,
    filament: bool = False,
    filament_angles: str = "frame",
    half_sets: str | None = None,
    source: str = "",
    polarity_known: Any = False,
) -> Any:
    """The particles table of one run's picks, columns in copick 1.31's order: name, pixel
    coordinates, angles (filament frame or pose), filament columns, centred Angstrom, optics group,
    half set. ``polarity_known`` is one bool or one per pick (filaments only)."""
    import pandas as pd

    n = len(picks)
    points = picks.full_positions()
    rotations = picks.transforms[:, :3, :3]
    data: dict[str, Any] = {"rlnTomoName": [run_name] * n}
    if options.pixel_size is not None:
        pix = points / float(options.pixel_size)
    elif options.center is None and options.voxel_size is not None:
        _log.warning(
            f"{source or run_name}: no tilt-series pixel size; rlnCoordinate* written in tomogram pixels "
            f"of {float(options.voxel_size):g} Angstrom (legacy)."
        )
        pix = points / float(options.voxel_size)
    else:
        pix = None
    if pix is not None:
        data.update({column: pix[:, k] for k, column in enumerate(COORDINATE_COLUMNS)})
    if filament:
        check_filament_ids(picks.instance_ids, run_name)
    if filament and filament_angles == "frame":
        data.update(filament_relion_angles(rotations))
    else:
        angles = matrix_to_relion_angles(rotations) if n else np.zeros((0, 3))
        data.update({column: angles[:, k] for k, column in enumerate(ANGLE_COLUMNS)})
    if filament:
        data["rlnHelicalTubeID"] = picks.instance_ids.astype(np.int64)
        data["rlnHelicalTrackLengthAngst"] = filament_track_lengths(points, picks.instance_ids)
        data["rlnAnglePsiFlipRatio"] = flip_ratios(polarity_known, n)
    if options.center is not None:
        centered = points - np.asarray(options.center, dtype=np.float64).reshape(1, 3)
        data.update({column: centered[:, k] for k, column in enumerate(CENTERED_COLUMNS)})
    if options.optics_group is not None:
        data["rlnOpticsGroup"] = [int(options.optics_group)] * n
    table = pd.DataFrame(data)
    if half_sets == "filament":
        table["rlnRandomSubset"] = filament_half_sets(table)
    return table


def filament_half_sets(df: Any) -> np.ndarray:
    """rlnRandomSubset of a particles table by whole filament (rlnTomoName, rlnHelicalTubeID)."""
    if "rlnHelicalTubeID" not in df.columns:
        raise ValueError(
            "Half sets by filament are keyed by rlnHelicalTubeID, which these "
            f"{len(df)} particles do not have: they are written without filament columns. Export them "
            "with filament columns (filament_columns='on'), or without filament half sets."
        )
    ids = df["rlnHelicalTubeID"].to_numpy()
    if not np.all(np.isfinite(ids.astype(np.float64))):
        raise ValueError("rlnHelicalTubeID holds missing values: every filament particle needs one.")
    ids = ids.astype(np.int64).tolist()
    names = df["rlnTomoName"].astype(str).tolist() if "rlnTomoName" in df.columns else [""] * len(ids)
    return half_set_subsets(list(zip(names, ids)))


def optics_table(groups: list[tuple[int, str, float, RelionTomogram | None]]) -> Any:
    """The data_optics table: (group, name, pixel size, tomograms.star entry for voltage/Cs/contrast)."""
    import pandas as pd

    rows = []
    for group, name, pixel, tomo in groups:
        row: dict[str, Any] = {
            "rlnOpticsGroup": group,
            "rlnOpticsGroupName": name,
            "rlnTomoTiltSeriesPixelSize": float(pixel),
        }
        if tomo is not None:
            for key, value in (
                ("rlnVoltage", tomo.voltage),
                ("rlnSphericalAberration", tomo.spherical_aberration),
                ("rlnAmplitudeContrast", tomo.amplitude_contrast),
            ):
                if value is not None:
                    row[key] = value
        rows.append(row)
    return pd.DataFrame(rows)


def write_star_particles(path: str, particles: Any, optics: Any = None, overwrite: bool = True) -> str:
    """Write ``data_optics`` (when given) and ``data_particles`` blocks; returns the path."""
    import starfile

    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path}: output file exists.")
    ensure_parent(path)
    blocks = {"optics": optics, "particles": particles} if optics is not None else {"particles": particles}
    starfile.write(blocks, path, overwrite=True)
    return path


def write_star_import_index(path: str, entries: dict[str, str]) -> str:
    """Write a ``data_coordinate_files`` index ({rlnTomoName: rlnTomoImportParticleFile})."""
    import pandas as pd
    import starfile

    ensure_parent(path)
    table = pd.DataFrame({"rlnTomoName": list(entries), "rlnTomoImportParticleFile": list(entries.values())})
    starfile.write({"coordinate_files": table}, path, overwrite=True)
    return path
