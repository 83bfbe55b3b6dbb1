"""Portal benchmark: open a CryoET Data Portal project, list all its runs, read one tomogram level.

    python bench/bench_portal.py [--smoke] [--repeats N] [--runs N] [--portal-delay S] [--no-ref]

Everything runs on loopback servers started here (as the tests do, PORTAL.md §7): the fake GraphQL
portal of ``tests/portal/fakeportal.py`` (graphql-core on the ``cryoet-data-portal`` client's schema)
over the synthetic portal of ``tests/portal/synthetic.py`` grown to ``--runs`` runs (default 120), and
a moto S3 server process holding the portal files. The timed section, the same script text under
both copicks:

    root = copick.from_file(config)            # a cryoet_data_portal config: datasets 10001 + 10002
    names = [r.name for r in root.runs]        # all runs
    tomogram = root.get_run("101").get_voxel_spacing(10.0).get_tomograms("wbp-raw")[0]
    tomogram.numpy(zarr_group="2")             # one level of one tomogram

once with a cold metadata cache (fresh overlay and cache folders) and once warm (the same folders
again), each in a fresh subprocess, for ours (``.venv``), copick 1.31.0 (``bench/refenv.py``; its
client redirected by setting ``cryoet_data_portal._client.DEFAULT_URL``, its S3 reads by
``FSSPEC_S3_ENDPOINT_URL``) and the limit: the same answers obtained directly, no copick (cold: one
GraphQL POST for the datasets' runs and one for run 101's tomograms, with urllib, saved to a JSON
file; warm: that file read back; then ``zarr.open_group`` of the tomogram's level on anonymous s3fs).
The implementation order rotates every repeat. Printed per case: median seconds, ref/ours,
ours/limit, the seconds with ``import copick`` added ("+import"), GraphQL POSTs and S3 requests
counted at the servers, the CPU seconds the fake portal spent answering (in this process: on the
real portal that is elsewhere), peak RSS, and whether the three agree (run names in listing order, the
level's shape and sum).

Outside the timed section in every process: numpy, zarr, fsspec, s3fs, and ``import copick`` (for 1.31
with its client module, imported to redirect it), timed apart and shown added in "+import". The modules an
implementation imports lazily in the timed section count against it; a first unrecorded round
(``--warmup``) lets every interpreter write its bytecode cache (``PYTHONDONTWRITEBYTECODE`` is dropped
from the children's environment), as on users' machines.

This file is the command line and the rounds of jobs; the jobs themselves are ``portal_jobs.py`` (the
child's script), the servers and request counts ``portal_servers.py``, the table ``portal_report.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import portal_servers
from portal_report import CASES, render, summarize
from report import implementations

BENCH = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (``--help``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="8 runs, 1 repeat (for the test suite)")
    ap.add_argument(
        "--repeats", type=int, default=None, help="repeats per implementation (default 3; smoke 1)"
    )
    ap.add_argument("--runs", type=int, default=None, help="portal runs (default 120; smoke 8; at least 5)")
    delay = "seconds the fake portal waits before answering each POST (a network round trip)"
    ap.add_argument("--portal-delay", type=float, default=0.0, help=delay)
    warmup = "unrecorded rounds first: every interpreter caches its bytecode (default 1; smoke 0)"
    ap.add_argument("--warmup", type=int, default=None, help=warmup)
    ap.add_argument("--no-ref", action="store_true", help="skip copick 1.31.0")
    ap.add_argument("--no-limit", action="store_true", help="skip the limit")
    ap.add_argument("--ours-python", default=sys.executable, help="interpreter with our copick installed")
    ap.add_argument("--timeout", type=float, default=300.0, help="per-subprocess timeout in seconds")
    ap.add_argument("--results", type=Path, default=None, help="results JSON (default bench/results/...)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the servers, run every implementation's cold and warm jobs per round, print and save."""
    ns = parse_args(argv)
    n_runs = max(5, ns.runs or (8 if ns.smoke else 120))
    repeats = ns.repeats or (1 if ns.smoke else 3)
    impls, pythons, ref_note = implementations(ns.ours_python, ns.no_limit, ns.no_ref)
    notes = [ref_note] if ref_note else []

    scratch = Path(tempfile.mkdtemp(prefix="copick-bench-portal-"))
    results: dict[str, dict[str, list[dict]]] = {i: {c: [] for c in CASES} for i in impls}
    t_start = time.perf_counter()
    try:
        with portal_servers.started(scratch, n_runs, ns.portal_delay) as servers:
            print(f"[bench-portal] {n_runs} runs, {repeats}x, impls {impls}", file=sys.stderr, flush=True)
            warmup = ns.warmup if ns.warmup is not None else (0 if ns.smoke else 1)
            for rep in range(-warmup, repeats):  # negative: warm-up rounds, not recorded
                order = impls[rep % len(impls) :] + impls[: rep % len(impls)]
                for impl in order:
                    work = scratch / f"{impl}-{rep}"
                    work.mkdir()
                    portal_servers.write_config(work)
                    for case in CASES:  # the warm job reuses the cold job's overlay and caches
                        result = servers.run_job(pythons[impl], impl, work, ns.timeout)
                        if rep >= 0:
                            results[impl][case].append(result)
                        label = f"{'warm-up ' if rep < 0 else ''}{impl} {case}"
                        outcome = result.get("seconds", result.get("error"))
                        print(f"[bench-portal] {label}: {outcome}", file=sys.stderr, flush=True)
                    shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    rows = summarize(results, impls)
    print(f"\nportal: {n_runs} runs, median of {repeats} fresh process(es) per cell; "
          f"fake-portal delay {ns.portal_delay:.3f} s per POST")  # fmt: skip
    print(render(rows, impls, n_runs))
    for note in notes:
        print(f"- {note}")
    mode = "smoke" if ns.smoke else "full"
    out = ns.results or BENCH / "results" / f"{dt.datetime.now():%Y%m%d-%H%M%S}-portal-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "mode": mode, "runs": n_runs, "repeats": repeats, "portal_delay": ns.portal_delay, "impls": impls,
        "rows": rows, "results": results, "notes": notes, "wall_seconds": time.perf_counter() - t_start,
    }  # fmt: skip
    out.write_text(json.dumps(document, indent=2))
    if ns.results is None:
        shutil.copyfile(out, out.with_name(f"latest-portal-{mode}.json"))
    print(f"results: {out}", file=sys.stderr)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
