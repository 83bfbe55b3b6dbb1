"""Copick CSV picks: ``run_name,x,y,z,transform_00..transform_33,score[,instance_id]`` (Angstrom)."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from copick.errors import CorruptFileError
from copick.formats.common import ensure_parent, require_file
from copick.formats.picks_json import PickArrays

_log = logging.getLogger(__name__)

POSITION_COLUMNS = ("x", "y", "z")
TRANSFORM_COLUMNS = tuple(f"transform_{i}{j}" for i in range(4) for j in range(4))
REQUIRED_COLUMNS = ("run_name", *POSITION_COLUMNS)
CSV_COLUMNS = (*REQUIRED_COLUMNS, *TRANSFORM_COLUMNS, "score", "instance_id")


def read_copick_csv(path: str, default_run: str | None = None) -> Any:
    """The CSV as a pandas DataFrame with every column of ``CSV_COLUMNS`` (defaults filled in).

    Missing transform columns take the identity's entries, a missing score 1 and a missing
    instance id 0; a missing ``run_name`` column is ``default_run`` when one is given. A header
    without ``run_name,x,y,z`` or non-numeric values raise ``CorruptFileError`` naming the file and
    what is wrong.
    """
    import pandas as pd

    path = require_file(path, "CSV file")
    try:
        df = pd.read_csv(path, dtype={"run_name": str}, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise CorruptFileError(
            f"{path}: empty CSV file (expected header {','.join(REQUIRED_COLUMNS)},...)."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise CorruptFileError(f"{path}: not a readable CSV file: {err}") from None
    df.columns = [str(c).strip() for c in df.columns]
    if default_run and "run_name" not in df.columns:
        df.insert(0, "run_name", default_run)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise CorruptFileError(
            f"{path}: CSV header lacks column(s) {', '.join(missing)}; a copick CSV starts with "
            "'run_name,x,y,z' (then transform_00..transform_33, score, instance_id). "
            f"Found: {', '.join(df.columns)}."
        )
    unknown = [c for c in df.columns if c not in CSV_COLUMNS]
    if unknown:
        _log.warning(f"{path}: ignoring unknown CSV column(s) {', '.join(unknown)}.")
    if df["run_name"].isna().any():
        row = int(np.flatnonzero(df["run_name"].isna().to_numpy())[0]) + 2
        raise CorruptFileError(f"{path}: line {row} has no run_name.")
    eye = np.eye(4).ravel()
    defaults = {**dict(zip(TRANSFORM_COLUMNS, eye)), "score": 1.0, "instance_id": 0}
    for column, value in defaults.items():
        if column not in df.columns:
            df[column] = value
    numeric = [c for c in CSV_COLUMNS if c != "run_name"]
    for column in numeric:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values.isna() & ~(df[column].isna() & (column in ("score", "instance_id")))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise CorruptFileError(
                f"{path}: line {row}: column {column} is not a number ({df[column].iloc[row - 2]!r})."
            )
        df[column] = values.fillna(defaults.get(column, 0))
    return df[list(CSV_COLUMNS)]


def _frame_to_picks(df: Any, path: str) -> PickArrays:
    transforms = df[list(TRANSFORM_COLUMNS)].to_numpy(dtype=np.float64).reshape(-1, 4, 4)
    try:
        return PickArrays.build(
            df[list(POSITION_COLUMNS)].to_numpy(dtype=np.float64),
            transforms,
            df["instance_id"].to_numpy(),
            df["score"].to_numpy(dtype=np.float64),
        )
    except ValueError as err:
        raise CorruptFileError(f"{path}: {err}") from None


def read_picks_csv(path: str, default_run: str | None = None) -> dict[str, PickArrays]:
    """The picks of a copick CSV grouped by ``run_name`` (in order of first appearance; rows of a CSV
    without that column belong to ``default_run``)."""
    df = read_copick_csv(path, default_run)
    return {str(name): _frame_to_picks(group, path) for name, group in df.groupby("run_name", sort=False)}


def write_picks_csv(
    path: str, runs: dict[str, PickArrays], overwrite: bool = True, instance_ids: bool = True
) -> str:
    """Write {run_name: picks} as one copick CSV (pandas float formatting, e.g. ``100.0``); returns it.

    ``instance_ids=False`` leaves the ``instance_id`` column out (copick 1.31's ``write_copick_csv``).
    """
    import pandas as pd

    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path}: output file exists.")
    frames = []
    for run_name, picks in runs.items():
        n = len(picks)
        data: dict[str, Any] = {"run_name": [run_name] * n}
        for axis, column in enumerate(POSITION_COLUMNS):
            data[column] = picks.positions[:, axis]
        flat = picks.transforms.reshape(n, 16)
        for k, column in enumerate(TRANSFORM_COLUMNS):
            data[column] = flat[:, k]
        data["score"] = picks.scores.astype(np.float64)
        data["instance_id"] = picks.instance_ids.astype(np.int64)
        frames.append(pd.DataFrame(data, columns=list(CSV_COLUMNS)))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(CSV_COLUMNS))
    if not instance_ids:
        df = df.drop(columns="instance_id")
    ensure_parent(path)
    df.to_csv(path, index=False)
    return path
