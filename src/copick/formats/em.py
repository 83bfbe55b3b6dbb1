"""TOM/Artiatomi EM files (``emfile``): volumes and 20-row motive lists of particles.

Motive list rows (0-based): 3 score, 4 tomogram index, 5 class, 6 particle index, 7-9 x, y, z in
1-based pixels, 10-12 shifts in pixels, 16 phi, 17 psi, 18 theta (degrees). A rotation is
``Rotation.from_euler("zxz", [phi, theta, psi], degrees=True)``; copick positions are
``(xyz - 1) * voxel_size`` Angstrom and the shifts times the voxel size go to the translation.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.common import as_3d, ensure_parent, native, require_file, require_size
from copick.formats.picks_json import PickArrays
from copick.formats.rotations import euler_from_rotations, rotations_from_euler

HEADER_BYTES = 512
MOTL_ROWS = 20
_EM_DTYPES = {1: np.int8, 2: np.int16, 4: np.int32, 5: np.float32, 9: np.float64}
_WRITABLE = (np.int8, np.int16, np.int32, np.float32, np.float64)


def _read(path: str, what: str) -> tuple[dict[str, Any], np.ndarray]:
    """Header and data of an EM file, after checking the header and the file length."""
    import emfile

    path = require_file(path, what)
    try:
        header, _ = emfile.read(path, header_only=True)
    except (struct.error, OSError, EOFError) as err:
        raise CorruptFileError(f"{path}: not a readable EM file ({what}): {err}") from None
    code, dims = header.get("dtype"), (header.get("zdim"), header.get("ydim"), header.get("xdim"))
    if code not in _EM_DTYPES:
        raise CorruptFileError(
            f"{path}: EM header has unsupported data type code {code!r} (known: {sorted(_EM_DTYPES)})."
        )
    if any(not isinstance(n, int) or n < 1 for n in dims):
        raise CorruptFileError(f"{path}: EM header has invalid dimensions {dims} (z, y, x).")
    nbytes = int(np.prod(dims)) * np.dtype(_EM_DTYPES[code]).itemsize
    require_size(path, HEADER_BYTES + nbytes, f"EM file ({what})")
    try:
        header, data = emfile.read(path)
    except (ValueError, OSError) as err:
        raise CorruptFileError(f"{path}: cannot read EM data: {err}") from None
    return header, native(np.asarray(data))


def read_em_volume(path: str) -> np.ndarray:
    """The (z, y, x) volume of an EM file (EM has no voxel size: callers supply one)."""
    _, data = _read(path, "EM volume")
    return as_3d(data, path)


def write_em_volume(path: str, data: Any, dtype: Any = None, overwrite: bool = True) -> str:
    """Write a (z, y, x) volume as EM (float32 unless ``dtype`` or an EM type is given); returns the path."""
    import emfile

    arr = np.asarray(data)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.type not in _WRITABLE:
        arr = arr.astype(np.float32)
    if arr.ndim != 3:
        raise InvalidDataError(f"{path}: EM data must be 3-D, got shape {arr.shape}.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path}: output file exists.")
    ensure_parent(path)
    emfile.write(path, np.ascontiguousarray(arr), overwrite=True)
    return path


# ------------------------------------------------------------------------------------------------
# motive lists
# ------------------------------------------------------------------------------------------------


def read_em_motivelist_rows(path: str) -> np.ndarray:
    """The motive list as a (20, N) float64 array (files stored N x 20 or 20 x N are both accepted)."""
    _, data = _read(path, "EM motive list")
    arr = np.asarray(data, dtype=np.float64)
    squeezed = arr.reshape([n for n in arr.shape if n != 1]) if arr.size else arr
    if squeezed.ndim == 1 and squeezed.shape[0] == MOTL_ROWS:
        return squeezed.reshape(MOTL_ROWS, 1)
    if squeezed.ndim == 2 and squeezed.shape[1] == MOTL_ROWS:
        return squeezed.T.copy()
    if squeezed.ndim == 2 and squeezed.shape[0] == MOTL_ROWS:
        return squeezed.copy()
    raise CorruptFileError(
        f"{path}: not an EM motive list: expected 20 values per particle, found data of shape {arr.shape}."
    )


def em_to_copick_transform(angles: Any, shifts: Any = None, voxel_size: float = 1.0) -> np.ndarray:
    """(N, 4, 4) transforms from (N, 3) EM angles in file order (phi, psi, theta) and pixel shifts."""
    ang = np.asarray(angles, dtype=np.float64).reshape(-1, 3)
    n = len(ang)
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = rotations_from_euler(ang[:, [0, 2, 1]], "zxz")
    if shifts is not None:
        transforms[:, :3, 3] = np.asarray(shifts, dtype=np.float64).reshape(n, 3) * float(voxel_size)
    return transforms


def copick_to_em_transform(transforms: Any, voxel_size: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """EM angles (N, 3) in file order (phi, psi, theta) and pixel shifts (N, 3) of (N, 4, 4) transforms."""
    trans = np.asarray(transforms, dtype=np.float64).reshape(-1, 4, 4)
    phi_theta_psi = euler_from_rotations(trans[:, :3, :3], "zxz")
    return phi_theta_psi[:, [0, 2, 1]], trans[:, :3, 3] / float(voxel_size)


def picks_from_rows(rows: np.ndarray, voxel_size: float) -> PickArrays:
    """Copick arrays of a (20, N) motive list (positions in Angstrom, corner origin)."""
    positions = (rows[7:10].T - 1.0) * float(voxel_size)
    transforms = em_to_copick_transform(rows[16:19].T, rows[10:13].T, voxel_size)
    return PickArrays.build(positions, transforms, None, rows[3].copy())


def read_em_motivelist(path: str, voxel_size: float) -> PickArrays:
    """Every particle of a motive list as copick arrays (Angstrom, corner origin)."""
    return picks_from_rows(read_em_motivelist_rows(path), voxel_size)


def tomogram_indices(rows: np.ndarray, tomo_index_row: int, path: str) -> np.ndarray:
    """The per-particle tomogram index of a (20, N) motive list (row ``tomo_index_row``) as ints."""
    if not 0 <= tomo_index_row < MOTL_ROWS:
        raise InvalidDataError(f"{path}: tomogram index row must be 0..19, got {tomo_index_row}.")
    values = rows[tomo_index_row]
    if values.size and not np.all(np.isfinite(values) & (np.round(values) == values)):
        raise CorruptFileError(
            f"{path}: motive list row {tomo_index_row} (tomogram index) holds non-integer values."
        )
    return values.astype(np.int64)


def read_em_motivelist_grouped(
    path: str, voxel_size: float, tomo_index_row: int = 4
) -> dict[int, PickArrays]:
    """Particles of a multi-tomogram motive list grouped by tomogram index (row ``tomo_index_row``)."""
    rows = read_em_motivelist_rows(path)
    index = tomogram_indices(rows, tomo_index_row, path)
    return {int(i): picks_from_rows(rows[:, index == i], voxel_size) for i in np.unique(index)}


def _rows(picks: PickArrays, voxel_size: float, tomogram_index: int, first: int) -> np.ndarray:
    n = len(picks)
    rows = np.zeros((MOTL_ROWS, n))
    angles, shifts = copick_to_em_transform(picks.transforms, voxel_size)
    rows[3] = picks.scores
    rows[4] = tomogram_index
    rows[5] = 1
    rows[6] = np.arange(first, first + n)
    rows[7:10] = (picks.positions / float(voxel_size) + 1.0).T
    rows[10:13] = shifts.T
    rows[16:19] = angles.T
    return rows


def write_em_motivelist_grouped(path: str, groups: dict[int, PickArrays], voxel_size: float) -> str:
    """Write particles of several tomograms ({tomogram index: picks}) as one motive list (1, N, 20)."""
    blocks, first = [], 1
    for index, picks in groups.items():
        blocks.append(_rows(picks, voxel_size, int(index), first))
        first += len(picks)
    rows = np.concatenate(blocks, axis=1) if blocks else np.zeros((MOTL_ROWS, 0))
    if rows.shape[1] == 0:
        raise InvalidDataError(f"{path}: an EM motive list needs at least one particle.")
    return write_em_volume(path, rows.T[np.newaxis].astype(np.float32), dtype=np.float32)


def write_em_motivelist(path: str, picks: PickArrays, voxel_size: float, tomogram_index: int = 1) -> str:
    """Write one tomogram's particles as an EM motive list (float32, shape (1, N, 20))."""
    return write_em_motivelist_grouped(path, {int(tomogram_index): picks}, voxel_size)
