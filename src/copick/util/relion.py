"""RELION 5 particle tables of one pick set, as ``picks.df()`` / ``picks.from_df()`` and plugins use them.

Positions are written as tilt-series pixels (``rlnCoordinate*``, when that pixel size is known) and
as centred Angstrom (``rlnCenteredCoordinate*Angst``, around the tomogram centre, which does not
depend on binning); rotations and shifts are composed as RELION does (``copick.formats.relion``).
Filament picks get RELION's filament columns, per-pick polarity and half sets by whole filament.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from copick.formats.relion import (
    CENTERED_COLUMNS,
    COORDINATE_COLUMNS,
    RelionPixelSizeError,
    filament_row_order,
    relion_coordinates_to_angstrom,
    relion_particles_to_picks,
    relion_rows_to_poses,
    tomogram_center_from_run,
)
from copick.formats.relion_tables import check_relion_filament_options
from copick.formats.relion_write import (
    RY90,
    StarExportOptions,
    filament_half_sets,
    filament_relion_angles,
    filament_track_lengths,
    picks_to_relion_particles,
)
from copick.util.relion_filaments import (
    FilamentPolarity,
    filament_polarity,
    filament_polarity_known,
    is_filament_export,
    polarity_filaments,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from copick.entities.picks import CopickPicks

__all__ = [
    "RY90",
    "FilamentPolarity",
    "copick_tomogram_center",
    "filament_half_sets",
    "filament_polarity",
    "filament_polarity_known",
    "filament_relion_angles",
    "filament_track_lengths",
    "get_tomogram_spacing_and_dimensions",
    "is_filament_export",
    "normalize_transforms",
    "order_filament_rows",
    "picks_to_df_relion",
    "polarity_filaments",
    "relion_df_to_picks",
    "relion_instance_ids",
    "relion_rows_to_poses",
]

COORDINATE_MODES = ("auto", "centered")


def copick_tomogram_center(
    picks: CopickPicks, voxel_spacing: float | None = None, tomo_type: str | None = None
) -> tuple[float, float, float] | None:
    """Centre (x, y, z, Angstrom) of the picks' run tomogram (``shape / 2 * voxel size``), None if none."""
    center = tomogram_center_from_run(picks.run, voxel_spacing, tomo_type)
    return None if center is None else tuple(float(c) for c in center)  # type: ignore[return-value]


def get_tomogram_spacing_and_dimensions(
    picks: CopickPicks, only_voxel_size: bool = False
) -> tuple[float, int | None, int | None, int | None]:
    """(voxel size, x, y, z pixels) of the smallest voxel spacing of the run that has a tomogram."""
    from copick.formats import ome

    for vs in sorted(picks.run.voxel_spacings, key=lambda v: v.voxel_size):
        tomograms = vs.tomograms
        if not tomograms:
            continue
        if only_voxel_size:
            return float(vs.voxel_size), None, None, None
        z, y, x = ome.open_level(tomograms[0].zarr(), "0").shape[-3:]
        return float(vs.voxel_size), int(x), int(y), int(z)
    raise ValueError(
        "At least one voxel spacing with a tomogram must be defined to import these particles from RELION."
    )


def normalize_transforms(picks: CopickPicks, eps: float = 1e-8) -> np.ndarray:
    """The picks' (N, 4, 4) transforms with the homogeneous scale (element [3, 3]) divided out."""
    transforms = np.array(picks.numpy()[1], dtype=np.float64)
    w = transforms[:, 3:4, 3:4]
    return np.where(np.abs(w) > eps, transforms / np.where(np.abs(w) > eps, w, 1.0), transforms)


def relion_instance_ids(df: pd.DataFrame) -> np.ndarray | None:
    """``rlnHelicalTubeID`` as int64 instance ids (None when the table has no such column)."""
    if "rlnHelicalTubeID" not in df.columns:
        return None
    ids = df["rlnHelicalTubeID"].to_numpy()
    if not np.all(np.isfinite(ids.astype(np.float64))):
        raise ValueError("rlnHelicalTubeID holds missing values: every filament particle needs one.")
    return ids.astype(np.int64)


def order_filament_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered along each filament (tube id, then track length), or ``df`` as is without them."""
    order = filament_row_order(df)
    return df if order is None else df.iloc[order].reset_index(drop=True)


def picks_to_df_relion(
    picks: CopickPicks,
    *,
    voxel_spacing: float | None = None,
    tilt_series_pixel_size: float | None = None,
    tomogram_center: tuple[float, float, float] | None = None,
    filament: bool | str = "auto",
    polarity_known: bool | Sequence[bool] | np.ndarray = False,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_angles: Literal["frame", "pose"] = "frame",
    half_sets: Literal[None, "filament"] = None,
) -> pd.DataFrame:
    """The RELION 5 particles table of ``picks`` (columns in copick 1.31's order).

    The centre is ``tomogram_center`` or the run's tomogram (at ``voxel_spacing``, of ``tomo_type``);
    pixel coordinates need ``tilt_series_pixel_size`` (or, with no centre, the legacy tomogram
    ``voxel_spacing``); ``coordinates="centered"`` writes centred Angstrom only.
    """
    from copick.formats.picks_json import PickArrays

    check_relion_filament_options(filament_angles, half_sets)
    if coordinates not in COORDINATE_MODES:
        raise ValueError(f"coordinates must be one of {COORDINATE_MODES}, not {coordinates!r}")
    run_name = picks.run.name
    center = tomogram_center
    if center is None:
        center = copick_tomogram_center(picks, voxel_spacing, tomo_type)
    pixel, legacy = tilt_series_pixel_size, voxel_spacing
    if coordinates == "centered":
        if center is None:
            raise ValueError(f"No tomogram center for {run_name}: centered RELION coordinates need one.")
        pixel = legacy = None
    if center is None and pixel is None and legacy is None:
        raise ValueError(
            "Cannot write RELION coordinates: need the tomogram centre (for centred coordinates) or the "
            "tilt-series pixel size."
        )
    positions, transforms = picks.numpy()
    arrays = PickArrays.build(positions, transforms, picks.instance_ids(), picks.scores())
    options = StarExportOptions(
        pixel_size=pixel,
        voxel_size=legacy,
        center=None if center is None else np.asarray(center, dtype=np.float64),
    )
    return picks_to_relion_particles(
        arrays,
        run_name,
        options,
        filament=is_filament_export(picks, filament),
        filament_angles=filament_angles,
        half_sets=half_sets,
        source=f"{run_name} ({picks.pickable_object_name})",
        polarity_known=polarity_known,
    )


def relion_df_to_picks(
    picks: CopickPicks,
    df: pd.DataFrame,
    *,
    optics: pd.DataFrame | None = None,
    tilt_series_pixel_size: float | None = None,
    tomogram_center: tuple[float, float, float] | None = None,
    relion_version: str | None = None,
) -> None:
    """Replace (and store) the points of ``picks`` with the particles of a RELION table.

    Centred coordinates use ``tomogram_center`` or the run's tomogram; pixel coordinates the
    tilt-series pixel size (argument, else ``optics``), else the run's tomogram voxel size.
    """
    if relion_version not in (None, "auto", "relion4", "relion5"):
        raise ValueError(f"Unknown RELION version {relion_version!r}; expected 'relion4' or 'relion5'.")
    columns = set(df.columns)
    if not (set(CENTERED_COLUMNS) <= columns or set(COORDINATE_COLUMNS) <= columns):
        raise ValueError("DataFrame does not contain required RELION columns.")
    source = ""  # a table, not a file: 1.31's messages as they are
    center = tomogram_center
    if center is None and set(CENTERED_COLUMNS) <= columns and relion_version != "relion4":
        center = copick_tomogram_center(picks)
    kwargs = dict(
        centers=center,
        optics=optics,
        tilt_series_pixel_size=tilt_series_pixel_size,
        relion_version=relion_version or "auto",
        source=source,
    )
    try:
        positions, _ = relion_coordinates_to_angstrom(df, **kwargs)
    except RelionPixelSizeError as no_pixel_size:
        try:  # legacy: tomogram pixels of the run's tomogram
            voxel_size = get_tomogram_spacing_and_dimensions(picks, only_voxel_size=True)[0]
        except ValueError:
            raise no_pixel_size from None
        positions, _ = relion_coordinates_to_angstrom(df, voxel_size=voxel_size, **kwargs)
    arrays = relion_particles_to_picks(df, positions, "RELION particles")
    picks.from_numpy(arrays.positions, arrays.transforms, arrays.instance_ids, arrays.scores)
