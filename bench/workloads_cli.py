"""Workloads of the command line: the installed ``copick`` script run as fresh subprocesses."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench_files import run_dir, write_ome_zarr, zarr_levels_checksum
from bench_harness import Timer, copick_impl, fresh_project, limit_impl

# --- command line (the installed ``copick`` script, as fresh subprocesses) ---

#: Commands every ``copick --help`` lists (ours and 1.31.0 alike), and its two sections.
CLI_COMMANDS = ("add", "browse", "config", "cp", "export", "info", "mv", "new", "rm", "stats", "sync")
CLI_SECTIONS = ("Data Management:", "Utilities:")


def _copick_script() -> str:
    """The ``copick`` console script of the interpreter running this workload (its venv's ``bin/``)."""
    return os.path.join(os.path.dirname(sys.executable), "copick")


def _timed_subprocesses(timer: Timer, argv: list[str], n: int) -> Any:
    """Run ``argv`` ``n`` times; add the median wall time of one run to ``timer``; the last result."""
    import subprocess

    times, proc = [], None
    for _ in range(max(1, n)):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
    timer.seconds += sorted(times)[len(times) // 2]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return proc


def _help_checksum(text: str) -> dict:
    import re

    return {
        "sections": [s for s in CLI_SECTIONS if s in text],
        "commands": [c for c in CLI_COMMANDS if re.search(rf"^\s+{c}\s", text, re.MULTILINE)],
    }


@copick_impl("cli_version")
def _cli_version_copick(p: dict, timer: Timer) -> Any:
    proc = _timed_subprocesses(timer, [_copick_script(), "--version"], p["n"])
    return {"first_word": proc.stdout.split()[0]}


@limit_impl("cli_version")
def _cli_version_limit(p: dict, timer: Timer) -> Any:
    proc = _timed_subprocesses(timer, [sys.executable, "-c", "print('copick 0')"], p["n"])
    return {"first_word": proc.stdout.split()[0]}


@copick_impl("cli_help")
def _cli_help_copick(p: dict, timer: Timer) -> Any:
    return _help_checksum(_timed_subprocesses(timer, [_copick_script(), "--help"], p["n"]).stdout)


@limit_impl("cli_help")
def _cli_help_limit(p: dict, timer: Timer) -> Any:
    text = "\n".join([*CLI_SECTIONS, *(f"  {c}  help" for c in CLI_COMMANDS)])
    proc = _timed_subprocesses(timer, [sys.executable, "-c", f"print({text!r})"], p["n"])
    return _help_checksum(proc.stdout)


@copick_impl("add_tomogram_mrc")
def _add_tomogram_copick(p: dict, timer: Timer) -> Any:
    import subprocess

    config = fresh_project(p)
    argv = [_copick_script(), "add", "tomogram", p["mrc"], "-c", config, "--run", "TS_001"]
    argv += ["--tomo-type", "wbp"]
    with timer():
        proc = subprocess.run(argv, capture_output=True, text=True)
    store = os.path.join(
        run_dir(os.path.join(p["out"], "project"), "TS_001"), "VoxelSpacing10.000", "wbp.zarr"
    )
    if proc.returncode != 0 or not os.path.isdir(store):  # 1.31 exits 0 when an item failed
        raise RuntimeError(f"copick add tomogram exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return zarr_levels_checksum(store)


@limit_impl("add_tomogram_mrc")
def _add_tomogram_limit(p: dict, timer: Timer) -> Any:
    import mrcfile
    import numpy as np

    path = os.path.join(p["out"], "wbp.zarr")
    with timer():
        with mrcfile.open(p["mrc"], mode="r", permissive=True) as mrc:
            data = np.asarray(mrc.data, dtype=np.float32)
            voxel_size = float(mrc.voxel_size.x)
        write_ome_zarr(path, data, voxel_size, levels=3)
    return zarr_levels_checksum(path)
