"""Benchmark workloads: one timed task per function, run in a fresh interpreter.

    python bench/workloads.py WORKLOAD KIND PARAMS_JSON

KIND is ``copick`` (the workload through copick's public API: the very same text runs
under our implementation and under copick 1.31.0) or ``limit`` (the same work done
directly with the underlying libraries: zarr + numpy, orjson + numpy, os.scandir or one
recursive fsspec listing, ``import numpy``).

Each function times only its own timed section (``time.perf_counter``) and returns a
checksum computed afterwards, untimed, from what it read or from the files it wrote,
with plain json/zarr/numpy, so the runner can check that every implementation did the
same work. The process prints one line ``BENCH_RESULT {json}`` with the seconds, the
peak RSS (``ru_maxrss``), the checksum and the versions of the libraries involved.

The workloads live in modules by theme (``workloads_project``: import, create, enumerate, many
small picks files; ``workloads_picks``; ``workloads_volumes``; ``workloads_cli``), on the shared
``bench_files`` (plain on-disk helpers, checksums) and ``bench_harness`` (timer, registries). This
module runs them and keeps every name the bench scripts import from ``workloads``. Only the standard
library is imported at module level, so ``import copick`` is measured from a clean interpreter.
"""

from __future__ import annotations

import json
import resource
import sys
import traceback

import workloads_cli  # noqa: F401  (registers its workloads)
import workloads_picks  # noqa: F401
import workloads_project  # noqa: F401
import workloads_volumes  # noqa: F401
from bench_files import (  # noqa: F401  (the names the bench scripts import from here)
    ENUM_PICKS,
    ENUM_TOMO_TYPES,
    ENUM_VOXEL_SIZES,
    OBJECTS,
    PICKS_JSON_OPTIONS,
    arrays_checksum,
    block_mean_2x,
    config_dict,
    keys_checksum,
    multiscales_attrs,
    picks_document,
    picks_file_checksum,
    random_rotations,
    run_dir,
    seg_key,
    write_config,
    write_ome_zarr,
    write_ome_zarr_stub,
    write_picks_file,
    zarr_levels_checksum,
)
from bench_harness import COPICK, LIMIT, Timer, copick_impl, limit_impl, peak_mb  # noqa: F401

RESULT_PREFIX = "BENCH_RESULT "


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for mod in ("copick", "numpy", "zarr", "numcodecs", "orjson", "pydantic", "fsspec", "s3fs", "mrcfile"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = str(getattr(m, "__version__", "?"))
    return out


def children_peak_mb() -> float:
    """Peak RSS of the biggest waited-for child (the ``copick`` subprocesses of the CLI workloads).

    0 when the workload started none. A child's figure is at least this process's RSS at fork
    time (Linux carries ``ru_maxrss`` over ``execve``), so it only tells for big children.
    """
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


#: Third-party libraries imported before any timed section except ``import``'s own: every
#: implementation needs them, and the ``import`` workload is where import time is measured.
PREIMPORTS = ("numpy", "zarr", "numcodecs", "fsspec", "orjson")
PREIMPORTS_BY_WORKLOAD = {"enumerate_s3": ("s3fs",)}


def run_job(name: str, kind: str, params: dict) -> dict:
    """Run one workload in this process; return its result record (never raises)."""
    timer = Timer()
    try:
        if name != "import":
            for mod in PREIMPORTS + PREIMPORTS_BY_WORKLOAD.get(name, ()):
                __import__(mod)
        table = COPICK if kind == "copick" else LIMIT
        checksum = table[name](params, timer)
    except Exception as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        return {"name": name, "error": f"{type(exc).__name__}: {first}"[:300], "peak_mb": peak_mb()}
    return {
        "name": name,
        "seconds": timer.seconds,
        "peak_mb": max(timer.peak_mb or peak_mb(), children_peak_mb()),
        "checksum": checksum,
        "versions": versions(),
    }


def main(argv: list[str]) -> int:
    """``WORKLOAD KIND PARAMS_JSON``, or ``--batch JOBS_JSON`` (a list of
    ``{"name", "kind", "params"}`` run one after the other in this process, in order)."""
    if len(argv) == 2 and argv[0] == "--batch":
        with open(argv[1]) as fh:
            jobs = json.load(fh)
    elif len(argv) == 3 and argv[1] in ("copick", "limit"):
        with open(argv[2]) as fh:
            jobs = [{"name": argv[0], "kind": argv[1], "params": json.load(fh)}]
    else:
        print("usage: workloads.py WORKLOAD {copick,limit} PARAMS_JSON | --batch JOBS_JSON", file=sys.stderr)
        return 2
    failed = False
    for job in jobs:
        result = run_job(job["name"], job["kind"], job["params"])
        failed = failed or "error" in result
        print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
