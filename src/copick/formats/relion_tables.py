"""RELION particle tables from arrays, with copick 1.31's ``copick.util.formats`` signatures.

``build_relion_particles_df`` (one tomogram), ``build_relion_star_tables`` (particles and optics of
several) and ``write_relion_import_bundle`` (a ``data_coordinate_files`` index plus one STAR per
tomogram) are what plugins call; the columns come from ``copick.formats.relion``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from copick.formats import relion, relion_star, relion_write
from copick.formats.picks_json import PickArrays

PerRun = Mapping[Any, Any]

FILAMENT_ANGLES = ("frame", "pose")
HALF_SETS = (None, "filament")


def check_relion_filament_options(filament_angles: str, half_sets: str | None) -> None:
    """Refuse unknown ``filament_angles`` / ``half_sets`` values (ValueError, 1.31's wording)."""
    if filament_angles not in FILAMENT_ANGLES:
        raise ValueError(f"filament_angles must be one of {FILAMENT_ANGLES}, not {filament_angles!r}")
    if half_sets not in HALF_SETS:
        raise ValueError(f"half_sets must be one of {HALF_SETS}, not {half_sets!r}")


def relion_tilt_series_pixel_sizes(df: Any, optics: Any) -> np.ndarray | None:
    """Per-particle tilt-series pixel size from the optics table (None when it has none)."""
    return relion.particle_pixel_sizes(df, optics)


def build_relion_particles_df(
    positions: np.ndarray,
    transforms: np.ndarray,
    *,
    tomo_name: str | None = None,
    tomogram_center: Sequence[float] | None = None,
    tilt_series_pixel_size: float | None = None,
    legacy_voxel_spacing: float | None = None,
    instance_ids: np.ndarray | None = None,
    filament: bool = False,
    polarity_known: bool | Sequence[bool] | np.ndarray = False,
    coordinates: str = "auto",
    filament_angles: Literal["frame", "pose"] = "frame",
    half_sets: Literal[None, "filament"] = None,
) -> Any:
    """The ``data_particles`` table of one tomogram's picks (positions in Angstrom, corner origin).

    Pixel coordinates need ``tilt_series_pixel_size`` (or the legacy tomogram voxel size), centred
    Angstrom coordinates ``tomogram_center``; ``coordinates="centered"`` writes only the latter.
    ``polarity_known`` (one bool or one per pick) sets filament rows' ``rlnAnglePsiFlipRatio``.
    """
    return _particles(
        positions,
        transforms,
        tomo_name,
        tomogram_center,
        None if coordinates == "centered" else tilt_series_pixel_size,
        None if coordinates == "centered" else legacy_voxel_spacing,
        instance_ids,
        filament,
        filament_angles,
        half_sets,
        polarity_known=polarity_known,
    )


def _particles(
    positions: Any,
    transforms: Any,
    tomo_name: str | None,
    center: Any,
    pixel: float | None,
    legacy: float | None,
    instance_ids: Any,
    filament: bool,
    filament_angles: str,
    half_sets: str | None,
    optics_group: int | None = None,
    polarity_known: Any = False,
) -> Any:
    """The particles table through ``relion_write.picks_to_relion_particles`` (columns in 1.31's order)."""
    picks = PickArrays.build(
        np.asarray(positions, dtype=np.float64), np.asarray(transforms, dtype=np.float64), instance_ids, None
    )
    options = relion_write.StarExportOptions(
        pixel_size=pixel,
        voxel_size=legacy,
        center=None if center is None else np.asarray(center, dtype=np.float64),
        optics_group=optics_group,
    )
    df = relion_write.picks_to_relion_particles(
        picks, tomo_name or "", options, filament, filament_angles, half_sets, polarity_known=polarity_known
    )
    return df if tomo_name is not None else df.drop(columns="rlnTomoName")


def _per_run(value: Any, run: Any) -> Any:
    return value.get(run) if isinstance(value, Mapping) else value


def build_relion_star_tables(
    runs: Mapping[str | None, tuple[np.ndarray, np.ndarray]],
    *,
    voxel_spacing: float | None = None,
    tomogram_centers: Mapping[str | None, tuple[float, float, float]] | None = None,
    tilt_series_pixel_size: float | Mapping[str | None, float] | None = None,
    tomograms: Mapping[str, relion_star.RelionTomogram] | None = None,
    include_optics: bool = True,
    instance_ids: Mapping[str | None, np.ndarray] | None = None,
    filament: bool = False,
    polarity_known: bool | PerRun = False,
    coordinates: str = "auto",
    filament_angles: Literal["frame", "pose"] = "frame",
    half_sets: Literal[None, "filament"] = None,
) -> tuple[Any, Any | None]:
    """``(particles, optics or None)`` of several tomograms' picks (``{name: (positions, transforms)}``).

    Centred coordinates are written when every tomogram's centre is known (``tomogram_centers`` or
    ``tomograms``); one optics group per tomogram when pixel sizes are known and ``include_optics``.
    """
    import pandas as pd

    tomograms = tomograms or {}
    centers = {
        run: (tomogram_centers or {}).get(run)
        if (tomogram_centers or {}).get(run) is not None
        else getattr(tomograms.get(run), "center", None)
        for run in runs
    }
    use_centers = all(c is not None for c in centers.values())
    pixels = {run: _per_run(tilt_series_pixel_size, run) for run in runs}
    pixels = {
        run: p if p is not None or run not in tomograms else tomograms[run].tilt_series_pixel_size
        for run, p in pixels.items()
    }
    with_optics = include_optics and all(p is not None for p in pixels.values())
    frames, optics_rows = [], []
    for group, (run, (positions, transforms)) in enumerate(runs.items(), start=1):
        frames.append(
            _particles(
                positions,
                transforms,
                run,
                centers[run] if use_centers else None,
                None if coordinates == "centered" else pixels[run],
                None if coordinates == "centered" else voxel_spacing,
                (instance_ids or {}).get(run),
                filament,
                filament_angles,
                half_sets,
                group if with_optics else None,
                _per_run(polarity_known, run),
            )
        )
        if with_optics:
            optics_rows.append((group, str(run), pixels[run], tomograms.get(run)))
    particles = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return particles, relion_write.optics_table(optics_rows) if optics_rows else None


def write_relion_import_bundle(
    index_path: str, particles: Any, *, coordinates_dir: str | None = None
) -> tuple[str, dict[str, str]]:
    """Write one particles STAR per ``rlnTomoName`` under ``coordinates_dir`` (default ``coordinates/``
    beside the index; without ``rlnOpticsGroup``) and the ``data_coordinate_files`` index; returns
    ``(index_path, {name: file})``."""
    folder = coordinates_dir or os.path.join(os.path.dirname(os.path.abspath(index_path)), "coordinates")
    files = {}
    tables = particles.drop(columns=["rlnOpticsGroup"], errors="ignore")
    for name, table in relion_star.group_by_tomogram(tables).items():
        files[name] = relion_write.write_star_particles(
            os.path.join(folder, f"{name}.star"), table.reset_index(drop=True)
        )
    relion_write.write_star_import_index(index_path, files)
    return index_path, files
