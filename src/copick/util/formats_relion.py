"""The RELION STAR helpers of ``copick.util.formats`` (1.31's names and signatures) over
``copick.formats.relion``, ``copick.formats.relion_star`` and ``copick.formats.relion_write``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from copick.formats import relion as _relion
from copick.formats import relion_star as _star
from copick.formats import relion_write
from copick.formats.relion_star import RelionTomogram


def detect_relion_version(df: Any) -> str:
    """``"relion5"`` when the particles have centred Angstrom coordinates, else ``"relion4"``."""
    return _relion.detect_relion_version(df)


def get_tomogram_centers_from_copick(
    root: Any, run_names: list[str], voxel_spacing: float | None, tomo_type: str | None = None
) -> dict[str, tuple[float, float, float]]:
    """Tomogram centres (Angstrom) of ``run_names`` from their tomograms' shapes in the project."""
    return _relion.get_tomogram_centers_from_copick(root, run_names, voxel_spacing, tomo_type)


def read_relion_tomograms(tomograms_star_path: str) -> dict[str, RelionTomogram]:
    """The entries of a RELION ``tomograms.star`` by tomogram name."""
    return _star.read_relion_tomograms(tomograms_star_path)


def read_relion5_tomogram_centers(tomograms_star_path: str) -> dict[str, tuple[float, float, float]]:
    """Tomogram centres (Angstrom, x/y/z) of a RELION 5 ``tomograms.star``."""
    return {
        k: tuple(float(v) for v in c)
        for k, c in _star.read_relion5_tomogram_centers(tomograms_star_path).items()
    }


def read_star_particles_grouped(path: str) -> dict[str, Any]:
    """The particles of a STAR file by ``rlnTomoName``."""
    return _star.read_star_particles_grouped(path)[0]


def group_star_particles_by_tomogram(df: Any) -> dict[str, Any]:
    """The particles of a DataFrame by ``rlnTomoName``."""
    return _star.group_by_tomogram(df)


def relion_coordinates_to_angstrom(
    df: Any,
    *,
    voxel_spacing: float | None = None,
    tomogram_centers: Mapping[str, tuple[float, float, float]] | None = None,
    tomogram_center: tuple[float, float, float] | None = None,
    tomo_name: str | None = None,
    tilt_series_pixel_size: float | None = None,
    optics: Any = None,
    tomograms: Mapping[str, RelionTomogram] | None = None,
    relion_version: str | None = None,
) -> np.ndarray:
    """Particle positions (N, 3) in Angstrom (corner origin) by the rules of CLI.md §6.3."""
    centers: Any = tomogram_center
    if centers is None and tomogram_centers is not None:
        centers = tomogram_centers.get(tomo_name) if tomo_name is not None else dict(tomogram_centers)
    positions, _ = _relion.relion_coordinates_to_angstrom(
        df,
        centers=centers,
        optics=optics,
        tilt_series_pixel_size=tilt_series_pixel_size,
        voxel_size=voxel_spacing,
        tomograms=dict(tomograms) if tomograms else None,
        relion_version=relion_version,
    )
    return positions


def write_star_particles(path: str, df: Any, optics_group: Any = None) -> None:
    """Write a particles table (and an optics table: a DataFrame or one group as a dict) as STAR."""
    import pandas as pd

    optics = pd.DataFrame([optics_group]) if isinstance(optics_group, dict) else optics_group
    relion_write.write_star_particles(path, df, optics)
