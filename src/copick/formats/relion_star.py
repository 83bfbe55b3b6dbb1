"""Reading RELION STAR files (``starfile``): data blocks, the particles table with its optics, and the
rows of a ``tomograms.star`` (``RelionTomogram``). Kept apart from ``copick.formats.relion``, which
turns particle rows into copick positions and orientations by RELION's coordinate conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from copick.errors import CorruptFileError
from copick.formats.common import require_file

SIZE_COLUMNS = ("rlnTomoSizeX", "rlnTomoSizeY", "rlnTomoSizeZ")
_STRING_COLUMNS = [
    "rlnTomoName",
    "rlnOpticsGroupName",
    "rlnTomoImportParticleFile",
    "rlnTomoReconstructedTomogramHalf1",
    "rlnTomoReconstructedTomogramHalf2",
    "rlnTomoTiltSeriesStarFile",
    "rlnMicrographName",
]


@dataclass
class RelionTomogram:
    """One row of a RELION ``tomograms.star``: size in pixels, pixel size, binning, optics, half maps."""

    name: str
    size: tuple[float, float, float] | None = None
    tilt_series_pixel_size: float | None = None
    binning: float | None = None
    half1: str | None = None
    half2: str | None = None
    voltage: float | None = None
    spherical_aberration: float | None = None
    amplitude_contrast: float | None = None
    optics_group_name: str | None = None

    @property
    def center(self) -> np.ndarray | None:
        """Tomogram centre in Angstrom: ``rlnTomoSize / 2 * rlnTomoTiltSeriesPixelSize`` (x, y, z)."""
        if self.size is None or self.tilt_series_pixel_size is None:
            return None
        return np.asarray(self.size, dtype=np.float64) / 2.0 * self.tilt_series_pixel_size

    @property
    def voxel_size(self) -> float | None:
        """Voxel size of the reconstruction: pixel size x binning (None when unknown)."""
        if self.tilt_series_pixel_size is None:
            return None
        return self.tilt_series_pixel_size * (self.binning or 1.0)


def read_star_blocks(path: str) -> dict[str, Any]:
    """Every data block of a STAR file ({name: DataFrame or dict}); ``CorruptFileError`` if unreadable."""
    import starfile

    path = require_file(path, "STAR file")
    try:
        blocks = starfile.read(path, always_dict=True, parse_as_string=_STRING_COLUMNS)
    except Exception as err:  # starfile raises many types on malformed input
        raise CorruptFileError(f"{path}: not a readable STAR file: {err}") from None
    if not blocks:
        raise CorruptFileError(f"{path}: no data block found (not a STAR file?).")
    return dict(blocks)


def _loop(block: Any, name: str, path: str) -> Any:
    import pandas as pd

    if isinstance(block, dict):  # a key-value block: one row
        return pd.DataFrame([block])
    if not isinstance(block, pd.DataFrame):
        raise CorruptFileError(f"{path}: block data_{name} is not a table.")
    return block


def read_star_particles_with_optics(path: str) -> tuple[Any, Any]:
    """(particles, optics or None): particles = block ``particles``, else the first non-``optics`` block."""
    blocks = read_star_blocks(path)
    name = "particles" if "particles" in blocks else next((k for k in blocks if k != "optics"), None)
    if name is None:
        raise CorruptFileError(f"{path}: STAR file has no particles block (only data_optics).")
    optics = _loop(blocks["optics"], "optics", path) if "optics" in blocks else None
    return _loop(blocks[name], name, path), optics


def read_star_particles(path: str) -> Any:
    """The particles table of a STAR file (block ``particles`` or the first non-``optics`` block)."""
    return read_star_particles_with_optics(path)[0]


def group_by_tomogram(particles: Any) -> dict[str, Any]:
    """{rlnTomoName (as text): its particles}, in the order the names first appear."""
    names = particles["rlnTomoName"].astype(str)
    return {str(name): group for name, group in particles.groupby(names, sort=False)}


def read_star_particles_grouped(path: str) -> tuple[dict[str, Any], Any]:
    """({rlnTomoName: particles}, optics or None); a file without ``rlnTomoName`` is an error."""
    particles, optics = read_star_particles_with_optics(path)
    if "rlnTomoName" not in particles.columns:
        raise CorruptFileError(f"{path}: no rlnTomoName column, so particles cannot be assigned to runs.")
    return group_by_tomogram(particles), optics


def _optional_float(row: Any, key: str) -> float | None:
    value = row.get(key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def read_tomograms_table(path: str) -> Any:
    """The table of a RELION ``tomograms.star`` (block ``global``, else the first), with ``rlnTomoName``."""
    blocks = read_star_blocks(path)
    name = "global" if "global" in blocks else next(iter(blocks))
    table = _loop(blocks[name], name, path)
    if "rlnTomoName" not in table.columns:
        raise CorruptFileError(
            f"{path}: Required column 'rlnTomoName' not found in tomograms.star file (block data_{name})."
        )
    return table


def relion_tomograms_from(tomograms: Any) -> dict[str, RelionTomogram]:
    """The ``tomograms.star`` entries an import or export was given: read from a path, the given dict
    itself, or empty when none was given."""
    if not tomograms or isinstance(tomograms, dict):
        return tomograms or {}
    return read_relion_tomograms(str(tomograms))


def read_relion_tomograms(path: str) -> dict[str, RelionTomogram]:
    """{rlnTomoName: RelionTomogram} of a RELION ``tomograms.star`` (global block or first table)."""
    table = read_tomograms_table(path)
    tomograms: dict[str, RelionTomogram] = {}
    for row in table.to_dict("records"):
        sizes = [_optional_float(row, c) for c in SIZE_COLUMNS]
        pixel = _optional_float(row, "rlnTomoTiltSeriesPixelSize")
        if pixel is None:
            pixel = _optional_float(row, "rlnMicrographOriginalPixelSize")
        tomo = RelionTomogram(
            name=str(row["rlnTomoName"]),
            size=tuple(sizes) if all(s is not None for s in sizes) else None,  # type: ignore[arg-type]
            tilt_series_pixel_size=pixel,
            binning=_optional_float(row, "rlnTomoTomogramBinning"),
            half1=row.get("rlnTomoReconstructedTomogramHalf1"),
            half2=row.get("rlnTomoReconstructedTomogramHalf2"),
            voltage=_optional_float(row, "rlnVoltage"),
            spherical_aberration=_optional_float(row, "rlnSphericalAberration"),
            amplitude_contrast=_optional_float(row, "rlnAmplitudeContrast"),
            optics_group_name=row.get("rlnOpticsGroupName"),
        )
        tomograms[tomo.name] = tomo
    return tomograms


def read_relion5_tomogram_centers(path: str) -> dict[str, np.ndarray]:
    """{rlnTomoName: centre (x, y, z) in Angstrom} for the tomograms of a ``tomograms.star`` with sizes."""
    return {name: t.center for name, t in read_relion_tomograms(path).items() if t.center is not None}
