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
Only the standard library is imported at module level: the same file is the child's script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULT_PREFIX = "BENCH_PORTAL "
DATASETS = [10001, 10002]
RUN, VOXEL, TOMO_TYPE, LEVEL = "101", 10.0, "wbp-raw", "2"
IMPLS = ("ours", "ref", "limit")
CASES = ("cold", "warm")


# ---------------------------------------------------------------------------------------------------
# Child side: one timed job in a fresh interpreter
# ---------------------------------------------------------------------------------------------------


def _checksum(names: list[str], data: Any) -> dict[str, Any]:
    return {
        "runs": len(names),
        "names_crc": zlib.crc32("\n".join(names).encode()),  # listing order included
        "first_names": names[:3],
        "shape": list(data.shape),
        "sum": float(data.astype("float64").sum()),
    }


def _job_copick(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    t_import = time.perf_counter()
    if p["impl"] == "ref":  # copick 1.31 has no setting for the portal URL (PORTAL.md §7)
        import cryoet_data_portal._client

        cryoet_data_portal._client.DEFAULT_URL = p["url"]
    import copick  # ours reads COPICK_PORTAL_URL

    t0 = time.perf_counter()
    import_seconds = t0 - t_import
    root = copick.from_file(p["config"])
    names = [r.name for r in root.runs]
    tomogram = root.get_run(RUN).get_voxel_spacing(VOXEL).get_tomograms(TOMO_TYPE)[0]
    data = tomogram.numpy(zarr_group=LEVEL)
    seconds = time.perf_counter() - t0
    return seconds, {**_checksum(names, data), "copick": copick.__version__, "import_s": import_seconds}


def _post(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    import urllib.request

    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


RUNS_QUERY = "query($ids: [Int!]) { runs(where: {datasetId: {_in: $ids}}, orderBy: [{id: asc}]) { id name } }"
TOMOGRAMS_QUERY = (
    "query($run: Int!) { tomograms(where: {runId: {_eq: $run}}, orderBy: [{id: asc}]) "
    "{ id voxelSpacing reconstructionMethod processing processingSoftware ctfCorrected s3OmezarrDir } }"
)


def _job_limit(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    import zarr

    cache = Path(p["work"]) / "limit-cache.json"
    t0 = time.perf_counter()
    if cache.exists():
        answers = json.loads(cache.read_text())
    else:
        answers = {
            "runs": _post(p["url"], RUNS_QUERY, {"ids": DATASETS})["runs"],
            "tomograms": _post(p["url"], TOMOGRAMS_QUERY, {"run": int(RUN)})["tomograms"],
        }
        cache.write_text(json.dumps(answers))
    names = [str(r["id"]) for r in answers["runs"]]
    kinds = {
        (t["voxelSpacing"], t["reconstructionMethod"].lower(), t["processing"]): t
        for t in answers["tomograms"]
        if not t["processingSoftware"] and not t["ctfCorrected"]
    }
    tomo = kinds[(VOXEL, "wbp", "raw")]
    group = zarr.open_group(tomo["s3OmezarrDir"], mode="r", storage_options={"anon": True})
    data = group[LEVEL][...]
    seconds = time.perf_counter() - t0
    return seconds, _checksum(names, data)


def child_main(kind: str, params_path: str) -> int:
    import traceback

    from bench_harness import peak_mb  # this script's folder is first on sys.path

    for module in ("numpy", "zarr", "fsspec", "s3fs"):
        __import__(module)
    params = json.loads(Path(params_path).read_text())
    try:
        seconds, checksum = (_job_limit if kind == "limit" else _job_copick)(params)
        import_s = checksum.pop("import_s", 0.0)
        result = {
            "seconds": seconds,
            "with_import": seconds + import_s,
            "checksum": checksum,
            "peak_mb": peak_mb(),
        }
    except Exception as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        result = {"error": f"{type(exc).__name__}: {first}"[:300], "peak_mb": peak_mb()}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 1 if "error" in result else 0


# ---------------------------------------------------------------------------------------------------
# Parent side: servers, jobs, table
# ---------------------------------------------------------------------------------------------------


def _config(work: Path) -> Path:
    """A hand-written portal config (as users write them), overlay and cache inside ``work``."""
    objects = [
        {"name": "membrane", "is_particle": False, "label": 1, "identifier": "GO:0016020"},
        {"name": "cytosolic-ribosome", "is_particle": True, "label": 2, "identifier": "GO:0022626"},
    ]
    cfg = {
        "config_type": "cryoet_data_portal", "name": "portal bench", "dataset_ids": DATASETS,
        "pickable_objects": objects, "overlay_root": "local://" + str(work / "overlay"),
        "overlay_fs_args": {"auto_mkdir": True},
    }  # fmt: skip
    path = work / "config.json"
    path.write_text(json.dumps(cfg, indent=2))
    return path


def _child_env(work: Path, portal_url: str, s3_url: str) -> dict[str, str]:
    """No AWS credentials (the portal bucket is read anonymously), fresh HOME / XDG cache per work dir."""
    import refenv

    env = refenv.clean_env(
        {
            "COPICK_PORTAL_URL": portal_url,
            "FSSPEC_S3_ENDPOINT_URL": s3_url,
            "XDG_CACHE_HOME": str(work / "xdg"),
            "HOME": str(work / "home"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "COPICK_PORTAL_CACHE", "COPICK_PORTAL_CACHE_DIR", "COPICK_PORTAL_CACHE_TTL",
                 "PYTHONDONTWRITEBYTECODE"):  # fmt: skip
        env.pop(name, None)  # bytecode is cached as on users' machines (the warm-up round writes it)
    return env


class ServerClock:
    """CPU seconds the fake portal spends answering (graphql-core in this process, thread CPU time):
    on the real portal that work happens elsewhere, so readers can set it apart."""

    def __init__(self, portal: Any) -> None:
        import threading

        self.seconds = 0.0
        self._lock = threading.Lock()
        self._execute = portal.portal.execute
        portal.portal.execute = self._timed

    def _timed(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        t0 = time.thread_time()
        try:
            return self._execute(query, variables)
        finally:
            with self._lock:
                self.seconds += time.thread_time() - t0

    def take(self) -> float:
        with self._lock:
            seconds, self.seconds = self.seconds, 0.0
        return seconds


def run_job(
    python: str, impl: str, work: Path, portal: Any, s3: Any, clock: ServerClock, timeout: float
) -> dict[str, Any]:
    """One job in a fresh interpreter; requests counted at both servers while it ran."""
    params = {"config": str(work / "config.json"), "url": portal.url, "work": str(work), "impl": impl}
    kind = "limit" if impl == "limit" else "copick"
    params_path = work / "params.json"
    params_path.write_text(json.dumps(params))
    delay = portal.delay
    portal.reset()
    portal.delay = delay
    s3_before = s3.requests()
    clock.take()
    try:
        proc = subprocess.run(
            [python, str(Path(__file__).resolve()), "--job", kind, str(params_path)],
            capture_output=True, text=True, cwd=str(work), timeout=timeout,
            env=_child_env(work, portal.url, s3.s3.endpoint_url),
        )  # fmt: skip
        lines = [x for x in proc.stdout.splitlines() if x.startswith(RESULT_PREFIX)]
        if lines:
            result = json.loads(lines[-1][len(RESULT_PREFIX) :])
        else:
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            result = {"error": f"exit {proc.returncode}: {tail}"[:300]}
    except subprocess.TimeoutExpired:
        result = {"error": f"timeout after {timeout:.0f} s"}
    time.sleep(0.05)  # let moto flush its access log
    result["graphql"] = portal.total()
    result["s3"] = s3.requests() - s3_before
    result["portal_cpu"] = clock.take()
    return result


def _agree(a: dict | None, b: dict | None) -> bool:
    if not a or not b:
        return False
    same = all(a[k] == b[k] for k in ("runs", "names_crc", "shape"))
    return same and abs(a["sum"] - b["sum"]) <= 1e-6 * max(1.0, abs(a["sum"]))


def _median(results: list[dict], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None and "error" not in r]
    return statistics.median(values) if values else None


def _fmt_s(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def _fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den <= 0:
        return "-"
    r = num / den
    return f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def _fmt_count(results: list[dict], key: str) -> str:
    values = sorted({r[key] for r in results if key in r})
    return "-" if not values else "/".join(map(str, values)) if len(values) > 1 else str(values[0])


def summarize(results: dict[str, dict[str, list[dict]]], impls: list[str]) -> list[dict[str, Any]]:
    rows = []
    for case in CASES:
        per = {i: results[i][case] for i in impls}
        med = {i: _median(per[i], "seconds") for i in impls}
        with_import = {i: _median(per[i], "with_import") for i in impls}
        portal_cpu = {i: _median(per[i], "portal_cpu") for i in impls}
        errors = [f"{i}: {r['error']}" for i in impls for r in per[i] if "error" in r]
        checks = {i: [r.get("checksum") for r in per[i]] for i in impls}
        base = checks["ours"][0] if checks["ours"] else None
        mismatched = [i for i in impls for c in checks[i] if not _agree(base, c)]
        status = (
            "ERROR"
            if errors
            else ("MISMATCH(" + ",".join(sorted(set(mismatched))) + ")" if mismatched else "ok")
        )
        rows.append({
            "case": case, "seconds": med, "with_import": with_import, "portal_cpu": portal_cpu,
            "status": status, "errors": errors,
            "graphql": {i: _fmt_count(per[i], "graphql") for i in impls},
            "s3": {i: _fmt_count(per[i], "s3") for i in impls},
            "peak_mb": {i: _median(per[i], "peak_mb") for i in impls},
            "checksums": {i: checks[i][:1] for i in impls},
        })  # fmt: skip
    return rows


def render(rows: list[dict[str, Any]], impls: list[str], n_runs: int) -> str:
    def col(row: dict, key: str) -> str:
        return "/".join(row[key].get(i, "-") if i in impls else "n/a" for i in IMPLS)

    header = ["case", "ours s", "ref s", "ref/ours", "limit s", "ours/limit", "+import ours/ref s",
              "GraphQL POSTs ours/ref/limit", "fake-portal CPU s ours/ref/limit",
              "S3 requests ours/ref/limit", "peak MB ours/ref", "status"]  # fmt: skip
    last = len(header) - 1
    lines = [header]
    for r in rows:
        s = r["seconds"]
        peak = "/".join(
            "-" if r["peak_mb"].get(i) is None else f"{r['peak_mb'][i]:.0f}" for i in ("ours", "ref")
        )
        lines.append([
            f"{n_runs} runs, {r['case']} cache", _fmt_s(s.get("ours")), _fmt_s(s.get("ref")),
            _fmt_ratio(s.get("ref"), s.get("ours")), _fmt_s(s.get("limit")),
            _fmt_ratio(s.get("ours"), s.get("limit")),
            "/".join(_fmt_s(r["with_import"].get(i)) for i in ("ours", "ref")),
            col(r, "graphql"),
            "/".join(_fmt_s(r["portal_cpu"].get(i)) if i in impls else "n/a" for i in IMPLS),
            col(r, "s3"), peak, r["status"],
        ])  # fmt: skip
    widths = [max(len(str(line[c])) for line in lines) for c in range(len(header))]
    text = [
        "| " + " | ".join(str(v).ljust(w) if c in (0, last) else str(v).rjust(w) for c, (v, w) in
                          enumerate(zip(line, widths))) + " |"
        for line in lines
    ]  # fmt: skip
    sep = (
        "|"
        + "|".join("-" * (w + 2) if c in (0, last) else "-" * (w + 1) + ":" for c, w in enumerate(widths))
        + "|"
    )
    notes = [f"- {e}" for r in rows for e in r["errors"]]
    return "\n".join([text[0], sep, *text[1:], *notes])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
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
    ns = parse_args(argv)
    for path in (BENCH, REPO / "tests" / "portal", REPO / "tests"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    import fakeportal
    import refenv
    import synthetic

    import s3server

    n_runs = max(5, ns.runs or (8 if ns.smoke else 120))
    repeats = ns.repeats or (1 if ns.smoke else 3)
    pythons = {"ours": ns.ours_python, "limit": ns.ours_python}
    impls = ["ours", "ref", "limit"]
    notes = []
    if ns.no_limit:
        impls.remove("limit")
    if ns.no_ref:
        impls.remove("ref")
        notes.append("reference skipped (--no-ref)")
    else:
        try:
            pythons["ref"] = refenv.reference_python()
        except refenv.RefEnvUnavailable as exc:
            impls.remove("ref")
            notes.append(f"reference unavailable: {str(exc).splitlines()[0]}")
            print(f"WARNING: {notes[-1]}", file=sys.stderr)

    scratch = Path(tempfile.mkdtemp(prefix="copick-bench-portal-"))
    results: dict[str, dict[str, list[dict]]] = {i: {c: [] for c in CASES} for i in impls}
    t_start = time.perf_counter()
    s3 = s3server.ServerProcess(str(scratch / "moto.log"), bucket=synthetic.BUCKET)
    try:
        with s3server._credentials_env():
            s3.start()
            synthetic.upload(synthetic.public_writer(s3.s3), synthetic.tables(), str(scratch / "files"))
        for portal in fakeportal.serve(synthetic.tables(extra_runs=n_runs - len(synthetic.RUNS))):
            portal.delay = ns.portal_delay
            clock = ServerClock(portal)
            print(f"[bench-portal] {n_runs} runs, {repeats}x, impls {impls}", file=sys.stderr, flush=True)
            warmup = ns.warmup if ns.warmup is not None else (0 if ns.smoke else 1)
            for rep in range(-warmup, repeats):  # negative: warm-up rounds, not recorded
                order = impls[rep % len(impls) :] + impls[: rep % len(impls)]
                for impl in order:
                    work = scratch / f"{impl}-{rep}"
                    work.mkdir()
                    _config(work)
                    for case in CASES:  # the warm job reuses the cold job's overlay and caches
                        result = run_job(pythons[impl], impl, work, portal, s3, clock, ns.timeout)
                        if rep >= 0:
                            results[impl][case].append(result)
                        label = f"{'warm-up ' if rep < 0 else ''}{impl} {case}"
                        outcome = result.get("seconds", result.get("error"))
                        print(f"[bench-portal] {label}: {outcome}", file=sys.stderr, flush=True)
                    shutil.rmtree(work, ignore_errors=True)
    finally:
        s3.stop()
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
    if len(sys.argv) == 4 and sys.argv[1] == "--job":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))
    sys.exit(main(sys.argv[1:]))
