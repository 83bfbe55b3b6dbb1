"""Euler angles <-> rotation matrices <-> copick 4x4 transforms (scipy's ``Rotation``, imported lazily)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from copick.errors import InvalidDataError

_log = logging.getLogger(__name__)


def _angles(angles: Any) -> tuple[np.ndarray, bool]:
    arr = np.asarray(angles, dtype=np.float64)
    single = arr.ndim == 1
    arr = arr.reshape(-1, 3) if arr.size else arr.reshape(0, 3)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InvalidDataError(f"Euler angles must have shape (3,) or (N, 3), got {np.shape(angles)}.")
    return arr, single


def euler_to_matrix(angles: Any, convention: str = "ZYZ", degrees: bool = True) -> np.ndarray:
    """``Rotation.from_euler(convention, angles).as_matrix()``: (3,) -> (3, 3), (N, 3) -> (N, 3, 3)."""
    from scipy.spatial.transform import Rotation

    arr, single = _angles(angles)
    if len(arr) == 0:
        return np.zeros((0, 3, 3))
    mats = Rotation.from_euler(convention, arr, degrees=degrees).as_matrix()
    return mats[0] if single else mats


def is_rotation(matrices: Any, atol: float = 1e-4) -> np.ndarray:
    """Per matrix: is it a proper rotation (orthonormal, determinant +1)? (N, 3, 3) -> (N,) bool."""
    mats = np.asarray(matrices, dtype=np.float64).reshape(-1, 3, 3)
    eye = np.eye(3)
    ortho = np.all(np.abs(np.einsum("nij,nkj->nik", mats, mats) - eye) <= atol, axis=(1, 2))
    return ortho & (np.abs(np.linalg.det(mats) - 1.0) <= atol)


def matrix_to_euler(
    matrices: Any, convention: str = "ZYZ", degrees: bool = True, what: str = "transform"
) -> np.ndarray:
    """Inverse of ``euler_to_matrix``; identities give exact zeros, non-rotations give zeros (logged)."""
    from scipy.spatial.transform import Rotation

    mats = np.asarray(matrices, dtype=np.float64)
    single = mats.ndim == 2
    mats = mats.reshape(-1, 3, 3)
    out = np.zeros((len(mats), 3))
    if len(mats) == 0:
        return out[0] if single else out
    valid = is_rotation(mats)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        _log.warning(
            f"{len(bad)} {what}(s) are not rotations (e.g. #{int(bad[0])}); their angles are set to 0."
        )
    identity = np.all(np.abs(mats - np.eye(3)) <= 1e-12, axis=(1, 2))
    todo = valid & ~identity
    if todo.any():
        with warnings.catch_warnings():  # gimbal lock: scipy sets the third angle to 0, as wanted
            warnings.simplefilter("ignore", UserWarning)
            out[todo] = Rotation.from_matrix(mats[todo]).as_euler(convention, degrees=degrees)
    out += 0.0  # no negative zeros in written files
    return out[0] if single else out


def rotations_from_euler(
    angles: Any, convention: str, degrees: bool = True, invert: bool = False
) -> np.ndarray:
    """(N, 3, 3) matrices of ``Rotation.from_euler(convention, angles)``, inverted if asked."""
    from scipy.spatial.transform import Rotation

    arr, _ = _angles(angles)
    if len(arr) == 0:
        return np.zeros((0, 3, 3))
    rot = Rotation.from_euler(convention, arr, degrees=degrees)
    return (rot.inv() if invert else rot).as_matrix()


def euler_from_rotations(
    matrices: Any, convention: str, invert: bool = False, what: str = "transform"
) -> np.ndarray:
    """(N, 3) Euler angles in degrees of (N, 3, 3) rotations (of their inverses with ``invert``)."""
    mats = np.asarray(matrices, dtype=np.float64).reshape(-1, 3, 3)
    if invert:
        mats = np.transpose(mats, (0, 2, 1))  # the inverse of a rotation is its transpose
    return matrix_to_euler(mats, convention, True, what)


def transforms_to_points_and_rotations(positions: Any, transforms: Any) -> tuple[np.ndarray, np.ndarray]:
    """Particle centres (location + the transform's translation, Angstrom) and (N, 3, 3) rotations."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    trans = np.asarray(transforms, dtype=np.float64).reshape(-1, 4, 4)
    return pos + trans[:, :3, 3], trans[:, :3, :3].copy()


def points_and_rotations_to_transforms(
    points: Any, rotations: Any = None, shifts: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Copick (positions, transforms) from points, optional (N, 3, 3) rotations and (N, 3) shifts (Angstrom).

    The shifts become the transforms' translation column; positions are the points unchanged.
    """
    pos = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    n = len(pos)
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    if rotations is not None:
        transforms[:, :3, :3] = np.asarray(rotations, dtype=np.float64).reshape(n, 3, 3)
    if shifts is not None:
        transforms[:, :3, 3] = np.asarray(shifts, dtype=np.float64).reshape(n, 3)
    return pos, transforms
