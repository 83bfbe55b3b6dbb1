"""Input paths of the import commands: glob expansion, run names from file names, format guessing, reading.

Runs are *not* created here (copick 1.31 created them before reading the file, leaving empty runs
behind when an import failed): the import operations create a run only once its file has been read
and checked.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from copick.formats.common import (
    InputFileError,
    get_picks_format_from_extension,
    get_volume_format_from_extension,
)

_log = logging.getLogger(__name__)

_GLOB_CHARS = re.compile(r"[*?\[]")


def is_glob(path: str) -> bool:
    return bool(_GLOB_CHARS.search(str(path)))


def expand_paths(path: str | list[str] | tuple[str, ...]) -> list[str]:
    """The files a PATH argument names: itself, or the sorted matches of a glob pattern (may be empty).

    A list of paths is expanded item by item (duplicates dropped, order kept).
    """
    if isinstance(path, (list, tuple)):
        out: list[str] = []
        for item in path:
            out.extend(p for p in expand_paths(item) if p not in out)
        return out
    path = os.path.expanduser(str(path))
    if is_glob(path):
        return sorted(p.rstrip("/") for p in glob.glob(path))
    return [path.rstrip("/") or path]


def file_stem(path: str) -> str:
    """The basename without its last extension (``TS_001.mrc`` -> ``TS_001``, ``a.b.zarr/`` -> ``a.b``)."""
    name = os.path.basename(os.path.normpath(str(path)))
    return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name


def run_name_from_path(path: str, run_regex: str = "(.*)", run_name_prefix: str = "") -> str | None:
    """``run_name_prefix`` + group 1 (else the match) of ``re.search(run_regex, stem)``; None if no match."""
    match = re.search(run_regex, file_stem(path))
    if match is None:
        return None
    name = match.group(1) if match.re.groups >= 1 else match.group(0)
    if not name:
        return None
    return f"{run_name_prefix}{name}"


@dataclass
class RunPathPlan:
    """Which file goes to which run, and every file that was left out with the reason."""

    mapping: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, path: str, reason: str, logger: logging.Logger | None = None) -> None:
        self.skipped.append((path, reason))
        (logger or _log).warning(f"Skipping {path}: {reason}")


def plan_runs_from_paths(
    paths: list[str],
    input_run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    logger: logging.Logger | None = None,
) -> RunPathPlan:
    """Map files to runs: ``input_run`` for a single file, else the name ``run_regex`` extracts.

    Files whose name does not match, and second files for a run that already has one, are skipped
    and listed in ``skipped`` (never dropped silently).
    """
    plan = RunPathPlan()
    try:
        re.compile(run_regex)
    except re.error as err:
        raise ValueError(f"--run-regex {run_regex!r} is not a valid regular expression: {err}") from None
    explicit = input_run if input_run and len(paths) == 1 else ""
    if input_run and len(paths) > 1:
        (logger or _log).warning(
            f"--run {input_run!r} ignored: {len(paths)} files given, run names come from "
            f"their file names (--run-regex {run_regex!r})."
        )
    for path in paths:
        run_name = explicit or run_name_from_path(path, run_regex, run_name_prefix)
        if run_name is None:
            plan.skip(path, f"file name does not match --run-regex {run_regex!r}", logger)
        elif run_name in plan.mapping:
            plan.skip(path, f"run {run_name!r} already receives {plan.mapping[run_name]}", logger)
        else:
            plan.mapping[run_name] = path
    return plan


def prepare_runs_from_paths(
    root: Any,
    paths: list[str],
    input_run: str = "",
    run_regex: str = "(.*)",
    run_name_prefix: str = "",
    create: bool = True,
    logger: logging.Logger | None = None,
) -> dict[str, str]:
    """{run name: path} for the import files (see ``plan_runs_from_paths``).

    With ``create=False`` runs missing from the project are skipped with a warning. Runs are never
    created here: the import creates a run only after its file was read successfully.
    """
    plan = plan_runs_from_paths(list(paths), input_run, run_regex, run_name_prefix, logger)
    if create:
        return plan.mapping
    kept = {}
    for run_name, path in plan.mapping.items():
        if root.get_run(run_name) is None:
            plan.skip(path, f"run {run_name!r} does not exist (and --no-create)", logger)
        else:
            kept[run_name] = path
    return kept


def get_format_from_extension(path: str, kind: str = "volume") -> str | None:
    """The format a file's extension implies: volume formats by default, ``kind="picks"`` for picks."""
    if kind == "picks":
        return get_picks_format_from_extension(path)
    return get_volume_format_from_extension(path)


def get_data_from_file(
    file_path: str,
    file_type: str | None = None,
    voxel_size: float | None = None,
    channel_axis: bool = False,
    level: int = 0,
) -> tuple[np.ndarray, float]:
    """Read a volume file: ((z, y, x) array, voxel size in Angstrom); errors name the file."""
    from copick.formats.volumes import read_volume

    if not os.path.exists(str(file_path)):
        raise InputFileError(f"{file_path}: file not found.")
    volume = read_volume(file_path, file_type, voxel_size, channel_axis=channel_axis, level=level)
    return volume.data, volume.voxel_size


__all__ = [
    "RunPathPlan",
    "expand_paths",
    "file_stem",
    "get_data_from_file",
    "get_format_from_extension",
    "is_glob",
    "plan_runs_from_paths",
    "prepare_runs_from_paths",
    "run_name_from_path",
]
