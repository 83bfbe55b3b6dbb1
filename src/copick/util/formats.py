"""Readers and writers of the import/export formats (CLI.md §6), as copick 1.31's ``copick.util.formats``.

The implementations live in ``copick.formats.<format>``; heavy libraries (mrcfile, tifffile, emfile,
starfile, dynamotable, pandas, scipy) are imported only when a function runs. Picks are returned as
``PickArrays`` (positions (N, 3) Angstrom x/y/z corner origin, transforms (N, 4, 4), instance ids,
scores); volumes as (z, y, x) numpy arrays.
"""

from __future__ import annotations

from copick.formats.common import (
    InputFileError,
    MissingVoxelSizeError,
    UnknownFormatError,
    apply_flip_transpose,
    get_picks_format_from_extension,
    get_volume_format_from_extension,
)
from copick.formats.dynamo import (
    copick_to_dynamo_transform,
    dynamo_to_copick_transform,
    read_dynamo_table,
    read_dynamo_table_frame,
    read_dynamo_table_grouped,
    write_dynamo_table,
    write_dynamo_table_grouped,
)
from copick.formats.em import (
    copick_to_em_transform,
    em_to_copick_transform,
    read_em_motivelist,
    read_em_motivelist_grouped,
    read_em_motivelist_rows,
    read_em_volume,
    write_em_motivelist,
    write_em_motivelist_grouped,
    write_em_volume,
)
from copick.formats.index_maps import (
    read_dynamo_tomolist,
    read_dynamo_tomolist_paths,
    read_index_map,
    read_index_map_inverse,
)
from copick.formats.mrc import read_mrc_volume, write_mrc_volume
from copick.formats.picks_csv import read_copick_csv, read_picks_csv, write_picks_csv
from copick.formats.picks_json import PickArrays
from copick.formats.relion import (
    RelionPixelSizeError,
    RelionTomogram,
    RelionTomogramCenterError,
    detect_relion_version,
    get_tomogram_centers_from_copick,
    matrix_to_relion_angles,
    read_relion5_tomogram_centers,
    read_relion_tomograms,
    read_star_particles,
    read_star_particles_grouped,
    read_star_particles_with_optics,
    relion_angles_to_matrix,
    relion_coordinates_to_angstrom,
    relion_particles_to_picks,
    write_star_particles,
)
from copick.formats.rotations import (
    euler_to_matrix,
    matrix_to_euler,
    points_and_rotations_to_transforms,
    transforms_to_points_and_rotations,
)
from copick.formats.tiff import read_tiff_volume, write_tiff_volume
from copick.formats.volumes import VolumeData, read_volume
from copick.formats.zarr_files import read_zarr_volume

__all__ = [
    "InputFileError",
    "MissingVoxelSizeError",
    "PickArrays",
    "RelionPixelSizeError",
    "RelionTomogram",
    "RelionTomogramCenterError",
    "UnknownFormatError",
    "VolumeData",
    "apply_flip_transpose",
    "copick_to_dynamo_transform",
    "copick_to_em_transform",
    "detect_relion_version",
    "dynamo_to_copick_transform",
    "em_to_copick_transform",
    "euler_to_matrix",
    "get_picks_format_from_extension",
    "get_tomogram_centers_from_copick",
    "get_volume_format_from_extension",
    "matrix_to_euler",
    "matrix_to_relion_angles",
    "points_and_rotations_to_transforms",
    "read_copick_csv",
    "read_dynamo_table",
    "read_dynamo_table_frame",
    "read_dynamo_table_grouped",
    "read_dynamo_tomolist",
    "read_dynamo_tomolist_paths",
    "read_em_motivelist",
    "read_em_motivelist_grouped",
    "read_em_motivelist_rows",
    "read_em_volume",
    "read_index_map",
    "read_index_map_inverse",
    "read_mrc_volume",
    "read_picks_csv",
    "read_relion5_tomogram_centers",
    "read_relion_tomograms",
    "read_star_particles",
    "read_star_particles_grouped",
    "read_star_particles_with_optics",
    "read_tiff_volume",
    "read_volume",
    "read_zarr_volume",
    "relion_angles_to_matrix",
    "relion_coordinates_to_angstrom",
    "relion_particles_to_picks",
    "transforms_to_points_and_rotations",
    "write_dynamo_table",
    "write_dynamo_table_grouped",
    "write_em_motivelist",
    "write_em_motivelist_grouped",
    "write_em_volume",
    "write_mrc_volume",
    "write_picks_csv",
    "write_star_particles",
    "write_tiff_volume",
]
