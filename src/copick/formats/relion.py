"""RELION particles by RELION's conventions: coordinate rules and orientations, and tomogram centres
from a copick project (STAR files are read by ``copick.formats.relion_star``, written by ``relion_write``).

Import positions use the first rule that applies (``relion5`` forces rule 1, ``relion4`` rules 2-3):

1. ``rlnCenteredCoordinate{X,Y,Z}Angst`` + the tomogram centre (Angstrom);
2. ``rlnCoordinate{X,Y,Z}`` x the tilt-series pixel size;
3. ``rlnCoordinate{X,Y,Z}`` x the voxel size (legacy, logged as a warning).

Orientation: ``R = R(rlnTomoSubtomogram{Rot,Tilt,Psi}) @ R(rlnAngle{Rot,Tilt,Psi})`` with
``R(a, b, c) = Rotation.from_euler("ZYZ", [a, b, c], degrees=True).inv()``; location = position -
``R_subtomo @ rlnOrigin{X,Y,Z}Angst``. An angle or origin group missing any of its columns counts as zero.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.picks_json import PickArrays
from copick.formats.rotations import euler_from_rotations, rotations_from_euler

if TYPE_CHECKING:
    from copick.formats.relion_star import RelionTomogram

_log = logging.getLogger(__name__)

COORDINATE_COLUMNS = ("rlnCoordinateX", "rlnCoordinateY", "rlnCoordinateZ")
CENTERED_COLUMNS = (
    "rlnCenteredCoordinateXAngst",
    "rlnCenteredCoordinateYAngst",
    "rlnCenteredCoordinateZAngst",
)
ANGLE_COLUMNS = ("rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi")
SUBTOMO_COLUMNS = ("rlnTomoSubtomogramRot", "rlnTomoSubtomogramTilt", "rlnTomoSubtomogramPsi")
ORIGIN_COLUMNS = ("rlnOriginXAngst", "rlnOriginYAngst", "rlnOriginZAngst")
RELION_VERSIONS = ("auto", "relion4", "relion5")


class RelionPixelSizeError(InvalidDataError):
    """RELION pixel coordinates without a pixel size (tilt series) or voxel size to scale them."""


class RelionTomogramCenterError(InvalidDataError):
    """Centred RELION 5 coordinates whose tomogram centre is not known."""


def detect_relion_version(particles: Any) -> str:
    """``relion5`` when the table has centred Angstrom coordinates, else ``relion4``."""
    return "relion5" if all(c in particles.columns for c in CENTERED_COLUMNS) else "relion4"


# ------------------------------------------------------------------------------------------------
# coordinates and orientations
# ------------------------------------------------------------------------------------------------


def _columns(df: Any, names: tuple[str, ...], path: str, default: float | None = 0.0) -> np.ndarray:
    import pandas as pd

    out = np.zeros((len(df), len(names)))
    for k, name in enumerate(names):
        if name not in df.columns:
            if default is None:
                raise CorruptFileError(f"{path}: STAR particles lack column {name}.")
            out[:, k] = default
            continue
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0]) + 1
            raise CorruptFileError(f"{path}: particle {row}: {name} is not a number.")
        out[:, k] = values
    return out


def _per_particle(df: Any, values: Any) -> np.ndarray | None:
    """A per-particle (N, 3) centre array from one centre or a {tomo name: centre} dict (None if missing)."""
    if values is None:
        return None
    if isinstance(values, dict):
        if "rlnTomoName" not in df.columns:
            return (
                np.asarray(next(iter(values.values())), dtype=np.float64)[None].repeat(len(df), 0)
                if len(values) == 1
                else None
            )
        rows = [values.get(str(n)) for n in df["rlnTomoName"]]
        if any(r is None for r in rows):
            return None
        return np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    return np.broadcast_to(np.asarray(values, dtype=np.float64).reshape(1, 3), (len(df), 3)).copy()


def particle_pixel_sizes(
    df: Any,
    optics: Any = None,
    tilt_series_pixel_size: float | None = None,
    tomograms: dict[str, RelionTomogram] | None = None,
) -> np.ndarray | None:
    """Per-particle tilt-series pixel size: the given one, else optics (by group), else tomograms.star."""
    import pandas as pd

    n = len(df)
    if tilt_series_pixel_size is not None:
        return np.full(n, float(tilt_series_pixel_size))
    if optics is not None and "rlnTomoTiltSeriesPixelSize" in optics.columns and len(optics):
        sizes = pd.to_numeric(optics["rlnTomoTiltSeriesPixelSize"], errors="coerce").to_numpy(
            dtype=np.float64
        )
        if len(optics) == 1 and np.isfinite(sizes[0]):
            return np.full(n, sizes[0])
        for key in ("rlnOpticsGroup", "rlnOpticsGroupName"):
            if key in optics.columns and key in df.columns:
                table = dict(zip(optics[key].astype(str), sizes))
                found = np.array([table.get(str(v), np.nan) for v in df[key]], dtype=np.float64)
                if np.all(np.isfinite(found)):
                    return found
    if tomograms and "rlnTomoName" in df.columns:
        found = np.array(
            [
                getattr(tomograms.get(str(t)), "tilt_series_pixel_size", None) or np.nan
                for t in df["rlnTomoName"]
            ],
            dtype=np.float64,
        )
        if np.all(np.isfinite(found)):
            return found
    return None


def relion_coordinates_to_angstrom(
    particles: Any,
    *,
    centers: Any = None,
    optics: Any = None,
    tilt_series_pixel_size: float | None = None,
    voxel_size: float | None = None,
    tomograms: dict[str, RelionTomogram] | None = None,
    relion_version: str | None = "auto",
    source: str = "STAR file",
) -> tuple[np.ndarray, str]:
    """Particle positions (N, 3) in Angstrom, corner origin, and the rule used (``centered``,
    ``pixel_size`` or ``voxel_size``). ``centers`` is one centre or {rlnTomoName: centre} (Angstrom);
    tomograms.star entries also provide centres and pixel sizes."""
    version = (relion_version or "auto").lower()
    if version not in RELION_VERSIONS:
        raise InvalidDataError(
            f"relion_version must be one of {', '.join(RELION_VERSIONS)}, got {relion_version!r}."
        )
    has_centered = all(c in particles.columns for c in CENTERED_COLUMNS)
    has_pixels = all(c in particles.columns for c in COORDINATE_COLUMNS)
    if not has_centered and not has_pixels:
        raise CorruptFileError(
            f"{source}: STAR particles have no coordinate columns: need rlnCoordinateX/Y/Z (pixels) or "
            f"rlnCenteredCoordinateX/Y/ZAngst (RELION 5). Found: {', '.join(map(str, particles.columns))}."
        )
    if version != "relion4" and has_centered:
        per = _per_particle(particles, centers)
        if per is None and tomograms:
            known = {name: t.center for name, t in tomograms.items() if t.center is not None}
            per = _per_particle(particles, known or None)
        if per is not None:
            return _columns(particles, CENTERED_COLUMNS, source) + per, "centered"
        if version == "relion5" or not has_pixels:
            raise RelionTomogramCenterError(
                f"{source}: centred RELION 5 coordinates need each tomogram's centre: give a tomograms.star "
                "(--tomograms-star, with rlnTomoSize* and rlnTomoTiltSeriesPixelSize) or import the tomogram "
                "into the run first."
            )
    if version == "relion5":
        raise RelionTomogramCenterError(
            f"{source}: relion5 requested but the file has no rlnCenteredCoordinate*Angst columns."
        )
    if not has_pixels:
        raise RelionPixelSizeError(
            f"{source}: relion4 requested but the file has no rlnCoordinateX/Y/Z columns."
        )
    pixels = _columns(particles, COORDINATE_COLUMNS, source)
    sizes = particle_pixel_sizes(particles, optics, tilt_series_pixel_size, tomograms)
    if sizes is not None:
        return pixels * sizes[:, None], "pixel_size"
    if voxel_size is not None:
        _log.warning(
            f"{source}: no tilt-series pixel size known; rlnCoordinate* are taken as tomogram pixels "
            f"of {float(voxel_size):g} Angstrom (legacy)."
        )
        return pixels * float(voxel_size), "voxel_size"
    raise RelionPixelSizeError(
        f"{source}: "
        * bool(source)
        + "rlnCoordinateX/Y/Z need a pixel size and the file states none: pass the "
        "tilt-series pixel size (--tilt-series-pixel-size), a tomograms.star (--tomograms-star), or the "
        "voxel size the coordinates were written in (--voxel-size)."
    )


def relion_angles_to_matrix(angles: Any) -> np.ndarray:
    """RELION's passive ZYZ rotation(s): ``Rotation.from_euler("ZYZ", angles, degrees=True).inv()``."""
    return rotations_from_euler(angles, "ZYZ", invert=True)


def matrix_to_relion_angles(matrices: Any) -> np.ndarray:
    """(N, 3) rlnAngleRot/Tilt/Psi of rotations: ``Rotation.from_matrix(R).inv().as_euler("ZYZ")``."""
    return euler_from_rotations(matrices, "ZYZ", invert=True)


def _triple(df: Any, names: tuple[str, ...], source: str) -> np.ndarray:
    """The three columns of a group (angles, subtomogram angles, origins), zeros unless all are there."""
    if not all(name in df.columns for name in names):
        return np.zeros((len(df), 3))
    return _columns(df, names, source)


def relion_rows_to_poses(df: Any, source: str = "RELION particles") -> tuple[np.ndarray, np.ndarray]:
    """(rotations (N, 3, 3), shifts (N, 3) Angstrom) of particle rows, composed as RELION does:
    ``R = R_subtomo @ R_angle`` and shift ``R_subtomo @ rlnOrigin*Angst`` (missing columns are zero)."""
    r_sub = relion_angles_to_matrix(_triple(df, SUBTOMO_COLUMNS, source))
    r_ang = relion_angles_to_matrix(_triple(df, ANGLE_COLUMNS, source))
    shifts = np.einsum("nij,nj->ni", r_sub, _triple(df, ORIGIN_COLUMNS, source))
    return np.einsum("nij,njk->nik", r_sub, r_ang), shifts


def filament_row_order(df: Any) -> np.ndarray | None:
    """Row order along each filament (by rlnHelicalTubeID, then rlnHelicalTrackLengthAngst; stable),
    or None when the table lacks either column."""
    if not {"rlnHelicalTubeID", "rlnHelicalTrackLengthAngst"} <= set(df.columns):
        return None
    track = _columns(df, ("rlnHelicalTrackLengthAngst",), "RELION particles")[:, 0]
    return np.lexsort((track, _columns(df, ("rlnHelicalTubeID",), "RELION particles")[:, 0]))


def relion_particles_to_picks(particles: Any, positions: np.ndarray, source: str = "STAR file") -> PickArrays:
    """Copick arrays of a particles table, given its positions from ``relion_coordinates_to_angstrom``:
    location = position - shift, the rotation in the transform (translation 0), rlnHelicalTubeID as
    instance id (negative ones as 0), filament rows ordered along their filament."""
    rotations, shifts = relion_rows_to_poses(particles, source)
    n = len(particles)
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = rotations
    ids = None
    if "rlnHelicalTubeID" in particles.columns:
        ids = _columns(particles, ("rlnHelicalTubeID",), source)[:, 0]
        ids = np.where(ids < 0, 0, ids)
    picks = PickArrays.build(positions - shifts, transforms, ids, None)
    order = filament_row_order(particles)
    if order is None:
        return picks
    return PickArrays(
        picks.positions[order], picks.transforms[order], picks.instance_ids[order], picks.scores[order]
    )


# ------------------------------------------------------------------------------------------------
# tomogram centres from a copick project
# ------------------------------------------------------------------------------------------------


def tomogram_center_from_run(
    run: Any, voxel_spacing: float | None = None, tomo_type: str | None = None
) -> Any:
    """Centre (x, y, z, Angstrom) of a run's tomogram: ``shape / 2 * voxel size`` of its level 0.

    The tomogram at ``voxel_spacing`` when it has one, else at the smallest voxel spacing that has
    one (of ``tomo_type`` when given); None when the run has no readable tomogram.
    """
    from copick.errors import CopickError
    from copick.formats import ome

    spacings = sorted(run.voxel_spacings, key=lambda vs: vs.voxel_size)
    if voxel_spacing is not None:
        spacings.sort(key=lambda vs: not np.isclose(vs.voxel_size, float(voxel_spacing)))
    for vs in spacings:
        tomograms = vs.get_tomograms(tomo_type) if tomo_type else vs.tomograms
        for tomogram in tomograms:
            try:
                shape = ome.open_level(tomogram.zarr(), "0").shape
            except (CopickError, KeyError, ValueError, OSError):
                continue
            z, y, x = shape[-3:]
            return np.array([x, y, z], dtype=np.float64) / 2.0 * vs.voxel_size
    return None


def get_tomogram_centers_from_copick(
    root: Any, run_names: Any = None, voxel_spacing: float | None = None, tomo_type: str | None = None
) -> dict[str, np.ndarray]:
    """{run name: tomogram centre in Angstrom} for the runs (all by default) that have a tomogram."""
    if isinstance(run_names, str):
        run_names = [run_names]
    runs = (
        root.runs if run_names is None else [r for r in (root.get_run(n) for n in run_names) if r is not None]
    )
    centers = {}
    for run in runs:
        center = tomogram_center_from_run(run, voxel_spacing, tomo_type)
        if center is not None:
            centers[run.name] = center
    return centers
