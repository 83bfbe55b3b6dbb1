"""Benchmark runner: our copick against copick 1.31.0 and against the physical limit.

    python bench/run.py [--smoke] [--repeats N] [--only NAME ...] [--no-ref] [--no-s3]

For every workload of ``bench/specs.py``: generate the inputs deterministically
(``bench/inputs.py``: untimed, cached in ``.cache/bench/inputs``), then run the same
workload script as a fresh subprocess under our interpreter, under the reference
interpreter (``bench/refenv.py``) and as the "limit" variant (the same work with the
underlying libraries, run under our interpreter), rotating the order every repeat so that
machine noise spreads evenly.
Each subprocess (``bench/workloads.py``) times only its own timed section. The runner checks
that the implementations' checksums agree and prints a table of medians, ratios and peak
memory (``bench/report.py``); the full results go to ``bench/results/`` as JSON.

A workload that fails for one implementation is reported as ERROR with the first line
of its error; the runner itself carries on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import refenv  # noqa: E402
import workloads as wl  # noqa: E402
from inputs import CACHE, prepare, start_s3_server  # noqa: E402
from report import Outcome, Row, check_row, implementations, render_notes, render_table, workloads_summary  # noqa: E402
from scale_s3 import S3_ENV  # noqa: E402
from specs import SPECS  # noqa: E402

WORKLOADS_PY = BENCH / "workloads.py"
RESULTS = BENCH / "results"


def run_jobs(
    python: str, jobs: Sequence[tuple[str, str, dict]], scratch: Path, timeout: float
) -> list[Outcome]:
    """Run workloads ``(name, kind, params)`` in ONE fresh subprocess, in order.

    Each job gets its own empty output folder. Never raises for the workloads' own
    failures: a job that reported no result (crash, timeout) gets an error outcome.
    """
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    payload = []
    for i, (name, kind, params) in enumerate(jobs):
        out = scratch / f"{i:02d}-{name}"
        out.mkdir()
        payload.append({"name": name, "kind": kind, "params": {**params, "out": str(out)}})
    if len(payload) == 1:
        (scratch / "params.json").write_text(json.dumps(payload[0]["params"]))
        args = [jobs[0][0], jobs[0][1], str(scratch / "params.json")]
    else:
        (scratch / "jobs.json").write_text(json.dumps(payload))
        args = ["--batch", str(scratch / "jobs.json")]
    t0 = time.perf_counter()
    failure = None
    try:
        proc = subprocess.run(
            [python, str(WORKLOADS_PY), *args],
            capture_output=True,
            text=True,
            cwd=str(scratch),
            env=refenv.clean_env(S3_ENV),
            timeout=timeout,
        )
        stdout = proc.stdout
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        failure = f"exit {proc.returncode}: {tail}"[:300]
    except subprocess.TimeoutExpired as exc:
        out_bytes = exc.stdout or b""
        stdout = out_bytes.decode(errors="replace") if isinstance(out_bytes, bytes) else out_bytes
        failure = f"timeout after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    shutil.rmtree(scratch, ignore_errors=True)
    results = [
        json.loads(line[len(wl.RESULT_PREFIX) :])
        for line in stdout.splitlines()
        if line.startswith(wl.RESULT_PREFIX)
    ]
    outcomes = []
    for i, (name, _, _) in enumerate(jobs):
        res = results[i] if i < len(results) and results[i].get("name") == name else {"error": failure}
        outcomes.append(
            Outcome(
                seconds=res.get("seconds"),
                peak_mb=res.get("peak_mb"),
                checksum=res.get("checksum"),
                versions=res.get("versions", {}),
                error=res.get("error"),
                wall=wall / len(jobs),
            )
        )
    return outcomes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists it)."""
    ap = argparse.ArgumentParser(description="copick benchmarks: ours vs copick 1.31.0 vs the limit")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat (for the test suite)")
    ap.add_argument(
        "--repeats", type=int, default=None, help="repeats per implementation (default 3; smoke 1)"
    )
    ap.add_argument(
        "--only", nargs="+", metavar="NAME", choices=[s.name for s in SPECS], help="run only these"
    )
    ap.add_argument("--no-ref", action="store_true", help="skip the reference (copick 1.31.0) side")
    ap.add_argument("--no-limit", action="store_true", help="skip the limit side")
    ap.add_argument("--no-s3", action="store_true", help="skip the loopback S3 workload")
    ap.add_argument("--ours-python", default=sys.executable, help="interpreter with our copick installed")
    ap.add_argument(
        "--batch",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run all workloads of an implementation in one process per repeat (default: on in smoke mode)",
    )
    ap.add_argument(
        "--parallel",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the implementations side by side (default: on in smoke mode; skews timings)",
    )
    ap.add_argument("--timeout", type=float, default=None, help="per-subprocess timeout in seconds")
    ap.add_argument(
        "--results", type=Path, default=None, help="results JSON path (default bench/results/...)"
    )
    return ap.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM handler: exit with 128 + the signal number."""
    sys.exit(128 + signum)  # unwinds through ``finally``: the S3 server and scratch go too


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the inputs, run every workload under each implementation, check, print and save."""
    ns = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    mode = "smoke" if ns.smoke else "full"
    repeats = ns.repeats or (1 if ns.smoke else 3)
    timeout = ns.timeout or (120.0 if ns.smoke else 900.0)
    specs = [s for s in SPECS if not ns.only or s.name in ns.only]
    batch = ns.smoke if ns.batch is None else ns.batch
    parallel = ns.smoke if ns.parallel is None else ns.parallel

    impls, pythons, ref_note = implementations(ns.ours_python, ns.no_limit, ns.no_ref)

    rows = [Row(s, s.smoke if ns.smoke else s.full) for s in specs]
    server = None
    work = CACHE / "work" / f"{os.getpid()}"  # configs and scratch of this runner only
    t_start = time.perf_counter()
    try:
        if any(r.spec.s3 for r in rows):
            if ns.no_s3:
                for r in rows:
                    if r.spec.s3:
                        r.skipped = "--no-s3"
            else:
                try:
                    server = start_s3_server(work / "moto.log")
                except Exception as exc:
                    for r in rows:
                        if r.spec.s3:
                            r.skipped = f"S3 server unavailable: {type(exc).__name__}: {exc}"
        ready: list[tuple[Row, dict]] = []
        for row in rows:
            if row.skipped:
                continue
            print(f"[bench] preparing inputs of {row.spec.name}", file=sys.stderr, flush=True)
            try:
                ready.append((row, prepare(row.spec, row.sizes, work, server)))
            except Exception as exc:
                row.skipped = f"input preparation failed: {type(exc).__name__}: {exc}"
        # Batches: one fresh process per implementation and repeat running every workload
        # (smoke); otherwise one fresh process per workload, implementation and repeat.
        batches = [ready] if batch else [[item] for item in ready]
        for batch_items in batches:
            label = ", ".join(r.spec.name for r, _ in batch_items)
            print(f"[bench] {label} ({mode}, {repeats}x)", file=sys.stderr, flush=True)
            for rep in range(repeats):
                order = impls[rep % len(impls) :] + impls[: rep % len(impls)]

                def run_impl(impl: str, items: list = batch_items) -> list[Outcome]:
                    kind = "limit" if impl == "limit" else "copick"
                    jobs = [(r.spec.name, kind, params) for r, params in items]
                    return run_jobs(pythons[impl], jobs, work / "scratch" / impl, timeout * len(jobs))

                if parallel:  # smoke: timings mean nothing, wall time does
                    with ThreadPoolExecutor(len(order)) as pool:
                        results = dict(zip(order, pool.map(run_impl, order)))
                else:
                    results = {impl: run_impl(impl) for impl in order}
                for impl in order:
                    for (r, _), o in zip(batch_items, results[impl]):
                        r.runs[impl].append(o)
                        state = o.error or f"{o.seconds:.3f} s, {o.peak_mb:.0f} MB"
                        print(
                            f"[bench]   {r.spec.name} {impl:5s} #{rep + 1}: {state}",
                            file=sys.stderr,
                            flush=True,
                        )
        for row, _ in ready:
            check_row(row, impls)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    table = render_table(rows, impls)
    notes = render_notes(rows, impls)
    how = "one process per implementation (batch)" if batch else "fresh process per workload"
    how += ", implementations in parallel" if parallel else ""
    print(f"copick benchmark ({mode}, median of {repeats}, {how}; seconds of the timed section)")
    if ref_note:
        print(ref_note)
    print(table)
    if notes:
        print("\nNotes:\n" + notes)

    versions: dict[str, dict] = {impl: {} for impl in impls}
    for r in rows:
        for impl in impls:
            for o in r.runs[impl]:
                versions[impl].update(o.versions)
    # which zarr each side ran (make bench-zarr2 runs ours under zarr 2.18)
    print("zarr: " + ", ".join(f"{impl} {versions[impl].get('zarr', '?')}" for impl in impls))
    results = {
        "mode": mode,
        "repeats": repeats,
        "batch": batch,
        "parallel": parallel,
        "argv": sys.argv if argv is None else list(argv),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "implementations": impls,
        "reference": ref_note or "copick 1.31.0",
        "versions": versions,
        "elapsed_s": round(time.perf_counter() - t_start, 1),
        "table": table,
        "workloads": workloads_summary(rows, impls),
    }
    path = ns.results
    if path is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"{stamp}-{mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    if ns.results is None:
        (RESULTS / f"latest-{mode}.json").write_text(json.dumps(results, indent=2))
    print(f"\nresults: {path}  ({results['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
