"""Dynamo tables (``dynamotable``): 1 tag, 4-6 shifts, 7-9 tdrot/tilt/narot, 10 cc, 20 tomo, 24-26 x/y/z.

Positions are pixels (no 1-offset): Angstrom = xyz * voxel size. Rotation =
``Rotation.from_euler("zxz", [tdrot, tilt, narot], degrees=True).inv()``; shifts times the voxel
size go to the transform's translation; the score is ``cc``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.common import ensure_parent, require_file
from copick.formats.picks_json import PickArrays
from copick.formats.rotations import euler_from_rotations, rotations_from_euler

MIN_COLUMNS = 26  # x, y, z are columns 24-26
_NEEDED = ("tag", "dx", "dy", "dz", "tdrot", "tilt", "narot", "cc", "tomo", "x", "y", "z")


def read_dynamo_table_frame(path: str) -> Any:
    """The table as a pandas DataFrame with Dynamo's column names; checked for columns and numbers."""
    import dynamotable
    import pandas as pd

    path = require_file(path, "Dynamo table")
    try:
        df = dynamotable.read(path)
    except pd.errors.EmptyDataError:
        raise CorruptFileError(f"{path}: empty Dynamo table.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise CorruptFileError(f"{path}: not a readable Dynamo table: {err}") from None
    if df.shape[1] < MIN_COLUMNS:
        raise CorruptFileError(
            f"{path}: Dynamo table has {df.shape[1]} columns; at least {MIN_COLUMNS} are needed "
            "(x, y, z are columns 24-26)."
        )
    for column in _NEEDED:
        values = pd.to_numeric(df[column], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
            raise CorruptFileError(f"{path}: line {row}: column {column} is not a number.")
        df[column] = values
    return df


def dynamo_to_copick_transform(angles: Any, shifts: Any = None, voxel_size: float = 1.0) -> np.ndarray:
    """(N, 4, 4) transforms from (N, 3) Dynamo angles (tdrot, tilt, narot) and (N, 3) pixel shifts."""
    ang = np.asarray(angles, dtype=np.float64).reshape(-1, 3)
    n = len(ang)
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = rotations_from_euler(ang, "zxz", invert=True)
    if shifts is not None:
        transforms[:, :3, 3] = np.asarray(shifts, dtype=np.float64).reshape(n, 3) * float(voxel_size)
    return transforms


def copick_to_dynamo_transform(transforms: Any, voxel_size: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Dynamo angles (N, 3) tdrot/tilt/narot and pixel shifts (N, 3) of (N, 4, 4) copick transforms."""
    trans = np.asarray(transforms, dtype=np.float64).reshape(-1, 4, 4)
    return euler_from_rotations(trans[:, :3, :3], "zxz", invert=True), trans[:, :3, 3] / float(voxel_size)


def picks_from_frame(df: Any, voxel_size: float) -> PickArrays:
    """Copick arrays of a Dynamo table DataFrame (positions in Angstrom)."""
    positions = df[["x", "y", "z"]].to_numpy(dtype=np.float64) * float(voxel_size)
    transforms = dynamo_to_copick_transform(
        df[["tdrot", "tilt", "narot"]].to_numpy(dtype=np.float64),
        df[["dx", "dy", "dz"]].to_numpy(),
        voxel_size,
    )
    return PickArrays.build(positions, transforms, None, df["cc"].to_numpy(dtype=np.float64))


def read_dynamo_table(path: str, voxel_size: float) -> PickArrays:
    """Every particle of a Dynamo table as copick arrays (Angstrom)."""
    return picks_from_frame(read_dynamo_table_frame(path), voxel_size)


def tomogram_indices(df: Any, path: str) -> np.ndarray:
    """Column 20 (tomo) as integer tomogram indices; non-integers are a ``CorruptFileError``."""
    values = df["tomo"].to_numpy(dtype=np.float64)
    if values.size and not np.all(np.round(values) == values):
        raise CorruptFileError(f"{path}: column 20 (tomo) holds non-integer tomogram indices.")
    return values.astype(np.int64)


def read_dynamo_table_grouped(path: str, voxel_size: float) -> dict[int, PickArrays]:
    """Particles of a multi-tomogram Dynamo table grouped by tomogram index (column 20)."""
    df = read_dynamo_table_frame(path)
    index = tomogram_indices(df, path)
    return {int(i): picks_from_frame(df[index == i], voxel_size) for i in np.unique(index)}


def write_dynamo_table_grouped(path: str, groups: dict[int, PickArrays], voxel_size: float) -> str:
    """Write particles of several tomograms ({tomogram index: picks}) as one table; returns the path written.

    Tags run 1..N; ``aligned_value`` 1 and the other unused columns 0 as ``dynamotable`` writes them.
    """
    import dynamotable
    import pandas as pd

    frames = []
    for index, picks in groups.items():
        n = len(picks)
        angles, shifts = copick_to_dynamo_transform(picks.transforms, voxel_size)
        pix = picks.positions / float(voxel_size)
        frames.append(
            pd.DataFrame(
                {
                    "dx": shifts[:, 0],
                    "dy": shifts[:, 1],
                    "dz": shifts[:, 2],
                    "tdrot": angles[:, 0],
                    "tilt": angles[:, 1],
                    "narot": angles[:, 2],
                    "cc": picks.scores.astype(np.float64),
                    "tomo": np.full(n, int(index)),
                    "x": pix[:, 0],
                    "y": pix[:, 1],
                    "z": pix[:, 2],
                }
            )
        )
    if not frames or sum(len(f) for f in frames) == 0:
        raise InvalidDataError(f"{path}: a Dynamo table needs at least one particle.")
    df = pd.concat(frames, ignore_index=True)
    df.insert(0, "tag", np.arange(1, len(df) + 1))
    ensure_parent(path)
    dynamotable.write(df, path)
    return path if str(path).endswith(".tbl") else f"{path}.tbl"


def write_dynamo_table(path: str, picks: PickArrays, voxel_size: float, tomogram_index: int = 1) -> str:
    """Write one tomogram's particles as a Dynamo table (tomo column = ``tomogram_index``)."""
    return write_dynamo_table_grouped(path, {int(tomogram_index): picks}, voxel_size)
