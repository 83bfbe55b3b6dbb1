"""Scale-out benchmark (issue 18): ``map_runs`` over 200 runs and open+list of a 20,000-run project.

    python bench/bench_scale.py [--smoke] [--repeats N] [--no-ref] [--results PATH]

1. ``map_runs`` of a CPU-bound (pure Python, GIL-holding) per-run function over a local project of
   200 runs: threads vs processes vs Dask (a ``LocalCluster`` made by ``map_runs`` for the call, its
   start-up included; and ``dask-warm``: a client made beforehand), ours and copick 1.31.0's
   threads/processes. Each (implementation, mode) runs in a fresh interpreter; the timed section is
   the ``map_runs`` call; results are checked equal.
2. Opening a project of 20,000 runs on the loopback S3 server (moto in a process of its own, its
   bucket filled through moto's backend, every request logged) and listing ``root.runs``: requests
   counted at the server, seconds, and the peak RSS growth of the client, ours and copick 1.31.0's.

``--smoke`` (tiny sizes, one repeat, each implementation's modes in one interpreter) keeps the script
from rotting (``tests/test_dask_bench_scale.py``). Results go to ``bench/results/scale-latest-<mode>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import refenv  # noqa: E402
import workloads as wl  # noqa: E402
from scale_s3 import S3_ENV, count_requests, serve_runs  # noqa: E402

SIZES = {
    "full": {"runs": 200, "work": 400_000, "listing_runs": 20_000, "repeats": 3},
    "smoke": {"runs": 6, "work": 2_000, "listing_runs": 500, "repeats": 1},
}
OUR_MODES = ("thread", "process", "dask", "dask-warm")
REF_MODES = ("thread", "process")
WORKERS = 2  # this machine has 2 cores

# --------------------------------------------------------------------------------------------
# 1. map_runs
# --------------------------------------------------------------------------------------------

MAP_RUNS = textwrap.dedent(
    """
    import json, sys, time
    import copick
    from copick.ops.run import map_runs

    def work(run, n):
        # CPU-bound and GIL-holding: threads of one process cannot run two of these at once
        total = 0
        for i in range(n):
            total = (total + i * i) % 1000003
        return run.name, total

    def hwm():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmHWM"))

    if __name__ == "__main__":
        config, n, workers, modes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
        root = copick.from_file(config)
        names = [r.name for r in root.runs]
        for mode in modes:
            kwargs = {"parallelism": mode}
            client = cluster = None
            if mode == "dask-warm":  # a cluster already running: what map_runs costs on it
                import distributed
                cluster = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address="127.0.0.1:0", host="127.0.0.1"
                )
                client = distributed.Client(cluster, set_as_default=False)
                client.run(lambda: __import__("copick"))
                kwargs = {"parallelism": "dask", "client": client}
            t = time.perf_counter()
            results = map_runs(work, root, names, workers=workers, show_progress=False, n=n, **kwargs)
            seconds = time.perf_counter() - t
            if client is not None:
                client.close()
                cluster.close()
            check = sum(v[1] for v in results.values() if v) if all(results.values()) else None
            line = {"mode": mode, "seconds": seconds, "check": check, "peak_mb": hwm()}
            print(json.dumps(line), flush=True)
    """
)


def make_local_project(folder: Path, runs: int) -> str:
    """A local project of ``runs`` empty runs (folders with ``.meta``, as ``new_run`` writes them)."""
    project = folder / "project"
    for i in range(runs):
        run = project / "ExperimentRuns" / f"TS_{i:04d}"
        run.mkdir(parents=True)
        (run / ".meta").write_bytes(b"meta")
    return wl.write_config(str(folder / "config.json"), str(project))


def run_script(python: str, script: str, args: list[str], env: dict[str, str], timeout: float) -> list[dict]:
    """Run ``script`` in a fresh interpreter; its JSON lines (anything else is an error)."""
    with tempfile.TemporaryDirectory() as cwd:  # neither source tree importable by accident
        path = Path(cwd) / "script.py"  # a file, not -c: spawned workers re-import __main__ by path
        path.write_text(script)
        proc = subprocess.run(
            [python, str(path), *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
        )
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1])
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def bench_map_runs(pythons: dict[str, str], envs: dict[str, dict], sizes: dict, smoke: bool) -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = make_local_project(Path(tmp), sizes["runs"])
        args = [config, str(sizes["work"]), str(WORKERS)]
        for impl, python in pythons.items():
            modes = OUR_MODES if impl == "ours" else REF_MODES
            if smoke:  # one interpreter per implementation, no second cluster
                modes = tuple(m for m in modes if m != "dask-warm")
                plan = [list(modes)]
            else:
                plan = [[mode] for _ in range(sizes["repeats"]) for mode in modes]
            samples: dict[str, list[dict]] = {mode: [] for mode in modes}
            error = None
            for batch in plan:
                try:
                    for line in run_script(python, MAP_RUNS, [*args, ",".join(batch)], envs[impl], 900):
                        samples[line["mode"]].append(line)
                except (RuntimeError, subprocess.TimeoutExpired) as err:
                    error = str(err)
                    break
            for mode in modes:
                got = samples[mode]
                rows.append(
                    {
                        "impl": impl,
                        "mode": mode,
                        "seconds": statistics.median(s["seconds"] for s in got) if got else None,
                        "samples": [s["seconds"] for s in got],
                        "check": got[0]["check"] if got else None,
                        "peak_mb": max((s["peak_mb"] for s in got), default=None),
                        "error": None if got else error,
                    }
                )
    checks = {row["check"] for row in rows if row["check"] is not None}
    for row in rows:
        row["status"] = "ERROR" if row["error"] else ("ok" if len(checks) == 1 else "MISMATCH")
    return rows


# --------------------------------------------------------------------------------------------
# 2. open + list 20,000 runs on loopback S3
# --------------------------------------------------------------------------------------------

LISTING = textwrap.dedent(
    """
    import json, sys, time
    import copick, s3fs

    def hwm():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmHWM"))

    base = hwm()
    t = time.perf_counter()
    root = copick.from_file(sys.argv[1])
    runs = root.runs
    seconds = time.perf_counter() - t
    print(json.dumps({"runs": len(runs), "seconds": seconds, "grown_mb": hwm() - base, "peak_mb": hwm()}))
    """
)


def bench_listing(pythons: dict[str, str], envs: dict[str, dict], sizes: dict) -> list[dict]:
    rows: list[dict] = []
    n = sizes["listing_runs"]
    with tempfile.TemporaryDirectory() as tmp, serve_runs(Path(tmp), n) as project:
        for _ in range(sizes["repeats"]):
            for impl, python in pythons.items():
                before = count_requests(project.log)
                try:
                    (line,) = run_script(python, LISTING, [project.config], {**envs[impl], **S3_ENV}, 900)
                    error = None
                except (RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
                    line, error = {}, str(err)
                time.sleep(0.3)  # the server logs a request after answering it
                rows.append(
                    {"impl": impl, **line, "requests": count_requests(project.log) - before, "error": error}
                )
    merged = []
    for impl in pythons:
        got = [r for r in rows if r["impl"] == impl and not r["error"]]
        errors = [r["error"] for r in rows if r["impl"] == impl and r["error"]]
        merged.append(
            {
                "impl": impl,
                "runs": got[0]["runs"] if got else None,
                "seconds": statistics.median(r["seconds"] for r in got) if got else None,
                "requests": max((r["requests"] for r in got), default=None),
                "grown_mb": max((r["grown_mb"] for r in got), default=None),
                "peak_mb": max((r["peak_mb"] for r in got), default=None),
                "error": errors[0] if errors else None,
                "status": "ERROR" if errors or not got else ("ok" if got[0]["runs"] == n else "MISMATCH"),
            }
        )
    return merged


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, help="fresh interpreters per measurement (median)")
    parser.add_argument("--no-ref", action="store_true", help="skip copick 1.31.0")
    parser.add_argument("--only", choices=("map_runs", "listing"), help="one of the two parts")
    parser.add_argument("--results", help="JSON results path (default bench/results/scale-latest-MODE.json)")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "full"
    sizes = dict(SIZES[mode])
    if args.repeats:
        sizes["repeats"] = args.repeats
    pythons = {"ours": sys.executable}
    envs = {"ours": dict(os.environ)}
    if not args.no_ref:
        try:
            pythons["ref"] = str(refenv.ensure_refenv())
            envs["ref"] = refenv.clean_env()
        except refenv.RefEnvUnavailable as err:
            print(f"copick 1.31.0 unavailable, ours only: {str(err).splitlines()[0]}", file=sys.stderr)
    out: dict[str, Any] = {"mode": mode, "sizes": sizes, "workers": WORKERS, "cpus": os.cpu_count()}
    if args.only in (None, "map_runs"):
        out["map_runs"] = bench_map_runs(pythons, envs, sizes, args.smoke)
        print(f"\nmap_runs over {sizes['runs']} runs, CPU-bound callback, {WORKERS} workers:")
        print(f"{'impl':6} {'mode':10} {'seconds':>8} {'peak MB':>8}  status")
        for row in out["map_runs"]:
            status = row["status"] + (f" ({row['error']})" if row["error"] else "")
            seconds, peak = _fmt(row["seconds"]), _fmt(row["peak_mb"], "d")
            print(f"{row['impl']:6} {row['mode']:10} {seconds:>8} {peak:>8}  {status}")
    if args.only in (None, "listing"):
        out["listing"] = bench_listing(pythons, envs, sizes)
        print(f"\nopen + root.runs of {sizes['listing_runs']} runs on loopback S3:")
        print(f"{'impl':6} {'requests':>8} {'seconds':>8} {'+MB':>6} {'peak MB':>8}  status")
        for row in out["listing"]:
            status = row["status"] + (f" ({row['error']})" if row["error"] else "")
            print(
                f"{row['impl']:6} {_fmt(row['requests'], 'd'):>8} {_fmt(row['seconds']):>8} "
                f"{_fmt(row['grown_mb'], 'd'):>6} {_fmt(row['peak_mb'], 'd'):>8}  {status}"
            )
    path = Path(args.results) if args.results else BENCH / "results" / f"scale-latest-{mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    failed = [r for part in ("map_runs", "listing") for r in out.get(part, []) if r["status"] != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
