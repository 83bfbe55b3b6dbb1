"""Remote-layer benchmark (issue 17): one project on loopback SFTP, SMB and HTTP servers, read by ours
and by copick 1.31.0 in the same run, each workload in fresh processes (median of ``--repeats``).

Workloads (``bench/workloads.py``'s own functions, run by ``workloads.py`` in a child process):

* ``enumerate``      open the project, list runs, voxel spacings, tomograms, picks, meshes, segmentations;
* ``region_read``    read small regions of one tomogram (``tomogram_regions``);
* ``tomogram_read``  read a whole tomogram level; ours also with the on-disk cache, cold (empty cache)
                     and warm (filled by the cold read), against 1.31 reading over SFTP.

The servers are those of the tests (``tests/remote/servers.py``) on 127.0.0.1: asyncssh's SFTP server
in this process (password login), Samba's smbd (needs root and the samba package; without them the
SMB rows say why they are missing), a static HTTP server in this process (read-only layer). 1.31
opens the same ``ssh://`` and ``http://`` URLs with the same ``fs_args``; its environment has no
smbprotocol, so SMB rows are ours only. The cache rows are on SFTP.

    python bench/bench_remote.py                      # full sizes, every protocol
    python bench/bench_remote.py --protocols sftp     # one protocol
    python bench/bench_remote.py --smoke              # tiny sizes, one repeat (its smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "remote"))

import workloads  # noqa: E402  (read-only helpers and workload functions)

SIZES = {
    "smoke": {"runs": 3, "shape": (64, 64, 64), "chunks": (32, 32, 32), "regions": 4, "region": 16},
    "full": {"runs": 60, "shape": (256, 256, 256), "chunks": (64, 64, 64), "regions": 24, "region": 48},
}


def reference_python() -> str | None:
    """copick 1.31.0's interpreter (``make refenv``), or ``None`` when it is not built."""
    path = HERE.parent / ".cache" / "refenv" / "bin" / "python"
    return str(path) if path.exists() else None


def make_project(root: Path, size: dict) -> None:
    """A project under ``root``: runs with picks and stub tomograms, TS_001 with data."""
    import numpy as np

    rng = np.random.default_rng(0)
    project = root / "project"
    for i in range(size["runs"]):
        name = f"TS_{i + 1:03d}"
        run = Path(workloads.run_dir(str(project), name))
        (run / "Picks").mkdir(parents=True, exist_ok=True)
        for user, session, obj in workloads.ENUM_PICKS[:3]:
            doc = workloads.picks_document(obj, user, session, name, rng.uniform(0, 500, (20, 3)))
            workloads.write_picks_file(str(run / "Picks" / f"{user}_{session}_{obj}.json"), doc)
        tomo = run / "VoxelSpacing10.000" / "wbp.zarr"
        if i == 0:
            data = rng.normal(size=size["shape"]).astype(np.float32)
            workloads.write_ome_zarr(str(tomo), data, 10.0, levels=2, chunks=size["chunks"])
        else:
            workloads.write_ome_zarr_stub(str(tomo), size["shape"], "<f4", 10.0)


def child(python: str, workload: str, params: dict, env: dict | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(params, fh)
    try:
        proc = subprocess.run(
            [python, str(HERE / "workloads.py"), workload, "copick", fh.name],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=1800,
        )
    finally:
        os.remove(fh.name)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(workloads.RESULT_PREFIX)]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no result"])[-1][:300]}
    return json.loads(lines[-1][len(workloads.RESULT_PREFIX) :])


def batch(python: str, jobs: list[tuple[str, dict]]) -> list[Any]:
    """Run ``(workload, params)`` jobs one after the other in one child process (``--smoke``: fast)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump([{"name": w, "kind": "copick", "params": p} for w, p in jobs], fh)
    try:
        argv = [python, str(HERE / "workloads.py"), "--batch", fh.name]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    finally:
        os.remove(fh.name)
    prefix = workloads.RESULT_PREFIX
    results = [json.loads(ln[len(prefix) :]) for ln in proc.stdout.splitlines() if ln.startswith(prefix)]
    if len(results) != len(jobs):
        return [(proc.stderr.strip().splitlines() or ["no result"])[-1][:300]] * len(jobs)
    return [r["error"] if "error" in r else (r["seconds"], r.get("checksum")) for r in results]


def median_seconds(python: str, workload: str, params: dict, repeats: int, env: dict | None = None) -> Any:
    results = [child(python, workload, params, env) for _ in range(repeats)]
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return errors[0]
    return statistics.median(r["seconds"] for r in results), results[-1].get("checksum")


def start_servers(base: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The loopback servers by protocol (``sftp``, ``smb``, ``http``) and why any could not start."""
    import servers

    started: dict[str, Any] = {}
    missing: dict[str, str] = {}
    started["sftp"] = servers.SFTPServer(base / "sftp" / "root", base / "sftp" / "keys")
    started["sftp"].start()
    try:
        smb = servers.SMBServer(base / "smb" / "share", base / "smb" / "state")
        smb.start()
        started["smb"] = smb
    except (servers.SMBUnavailable, ImportError) as err:
        missing["smb"] = str(err).splitlines()[0]
    started["http"] = servers.HTTPServer(base / "http" / "root")
    return started, missing


def stop_servers(started: dict[str, Any]) -> None:
    for server in started.values():
        server.shutdown()


def publish(server: Any, protocol: str, project: Path) -> tuple[str, dict]:
    """Copy the project into a server's folder; its URL and fs_args there."""
    folder = {"sftp": "root", "smb": "share", "http": "root"}[protocol]
    shutil.copytree(project, Path(getattr(server, folder)) / "project")
    return server.url("project"), server.fs_args() if protocol != "http" else {}


def date_back(folder: Path) -> None:
    """Files written a minute ago (the cache keeps no file younger than 2 s)."""
    past = 0.0
    for d, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(d, f)
            past = past or os.path.getmtime(p) - 60
            os.utime(p, (past, past))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="ours only")
    parser.add_argument("--protocols", default="sftp,smb,http", help="comma-separated (default: all)")
    args = parser.parse_args(argv)
    size = SIZES["smoke" if args.smoke else "full"]
    repeats = 1 if args.smoke else args.repeats
    wanted = [p.strip() for p in args.protocols.split(",") if p.strip()]

    rows: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        base = Path(tmp)
        make_project(base / "local", size)
        date_back(base / "local")
        started, missing = start_servers(base)
        try:
            s = size["region"]
            rng = __import__("numpy").random.default_rng(1)
            regions = [[int(rng.integers(0, n - s)) for n in size["shape"]] for _ in range(size["regions"])]
            pythons = {"ours": sys.executable}
            ref = None if args.no_reference else reference_python()
            if ref:
                pythons["1.31"] = ref
            for protocol in wanted:
                if protocol not in started:
                    print(f"{protocol}: not measured ({missing.get(protocol, 'unknown protocol')})")
                    continue
                url, fs_args = publish(started[protocol], protocol, base / "local" / "project")
                config = str(base / f"{protocol}.json")
                workloads.write_config(config, url, fs_args)
                plan = (
                    ("enumerate", "enumerate_local", {"config": config}),
                    (
                        "region_read",
                        "tomogram_regions",
                        {"config": config, "region_size": s, "regions": regions},
                    ),
                    ("tomogram_read", "tomogram_read", {"config": config}),
                )
                impls = {k: py for k, py in pythons.items() if k == "ours" or protocol in REFERENCE_OPENS}
                rows += measure(protocol, plan, impls, repeats, args.smoke)
                if protocol == "sftp":
                    cached = str(base / "cached.json")
                    cache_args = {**fs_args, "copick_cache": {"dir": str(base / "cache"), "max_size": "4GB"}}
                    workloads.write_config(cached, url, cache_args)
                    rows.append(cache_rows(cached, repeats, args.smoke, rows[-1][1].get("1.31")))
        finally:
            stop_servers(started)
    return report(rows, size, repeats, args.smoke, ref is not None)


# Protocols copick 1.31.0's environment can open (it has sshfs and aiohttp, not smbprotocol).
REFERENCE_OPENS = ("sftp", "http")


def measure(
    protocol: str, plan: tuple, pythons: dict[str, str], repeats: int, smoke: bool
) -> list[tuple[str, dict]]:
    """Rows ``"<protocol> <label>"`` of the plan's workloads for each implementation."""
    if smoke:  # every job of an implementation in one process
        done = {k: batch(py, [(w, p) for _, w, p in plan]) for k, py in pythons.items()}
        return [
            (f"{protocol} {label}", {k: done[k][i] for k in pythons}) for i, (label, _, _) in enumerate(plan)
        ]
    return [
        (
            f"{protocol} {label}",
            {k: median_seconds(py, workload, params, repeats) for k, py in pythons.items()},
        )
        for label, workload, params in plan
    ]


def cache_rows(cached: str, repeats: int, smoke: bool, reference: Any) -> tuple[str, dict]:
    """Our whole-tomogram read with the on-disk cache, cold then warm (1.31 over SFTP beside it)."""
    if smoke:
        cold, warm = batch(sys.executable, [("tomogram_read", {"config": cached})] * 2)
    else:
        cold = median_seconds(sys.executable, "tomogram_read", {"config": cached}, 1)
        warm = median_seconds(sys.executable, "tomogram_read", {"config": cached}, repeats)
    row = {"ours": warm, "ours cold": cold}
    if reference is not None:
        row["1.31"] = reference
    return ("sftp tomogram_read, cache warm", row)


def report(rows: list[tuple[str, dict]], size: dict, repeats: int, smoke: bool, with_reference: bool) -> int:
    """Print the table; 1 when one of our workloads failed."""
    print(f"remote bench on loopback servers ({'smoke' if smoke else 'full'}: {size['runs']} runs, "
          f"tomogram {size['shape']}, chunks {size['chunks']}), median of {repeats}")  # fmt: skip
    failed = False
    for label, results in rows:
        cells = []
        for impl, result in results.items():
            if isinstance(result, str):
                cells.append(f"{impl}: error {result}")
                failed = failed or impl.startswith("ours")
            else:
                cells.append(f"{impl} {result[0]:.3f} s")
        if with_reference and "1.31" not in results:
            cells.append("1.31 n/a (its environment has no smbprotocol)")
        ours, theirs = results.get("ours"), results.get("1.31")
        if isinstance(ours, tuple) and isinstance(theirs, tuple) and ours[0] > 0:
            cells.append(f"1.31/ours {theirs[0] / ours[0]:.2f}x")
            if ours[1] != theirs[1]:  # both read the same project: a difference is a wrong answer
                cells.append(f"RESULTS DIFFER: ours {ours[1]} 1.31 {theirs[1]}")
        print(f"{label:34s} " + " | ".join(cells))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
