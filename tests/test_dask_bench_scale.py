"""``bench/bench_scale.py --smoke`` (issue 18) runs end to end: every mode of ``map_runs`` gives the same
results, and listing a project on loopback S3 costs one request per 1,000 runs. No timing is asserted
(benchmarks are measured with ``python bench/bench_scale.py``, never in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import refenv  # noqa: E402

pytestmark = pytest.mark.s3


def test_bench_scale_smoke(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    pytest.importorskip("moto.server")
    results = tmp_path / "scale.json"
    args = [sys.executable, str(REPO / "bench" / "bench_scale.py"), "--smoke", "--results", str(results)]
    try:
        refenv.ensure_refenv()
        impls = {"ours", "ref"}
    except refenv.RefEnvUnavailable:
        args.append("--no-ref")
        impls = {"ours"}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=str(REPO))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(results.read_text())
    modes = {(row["impl"], row["mode"]) for row in out["map_runs"]}
    assert {("ours", "thread"), ("ours", "process"), ("ours", "dask")} <= modes
    if "ref" in impls:
        assert {("ref", "thread"), ("ref", "process")} <= modes
    assert all(row["status"] == "ok" and row["seconds"] is not None for row in out["map_runs"])
    listing = {row["impl"]: row for row in out["listing"]}
    assert set(listing) == impls and all(row["status"] == "ok" for row in listing.values())
    assert listing["ours"]["runs"] == out["sizes"]["listing_runs"]
    assert listing["ours"]["requests"] <= out["sizes"]["listing_runs"] // 1000 + 2
    assert "map_runs over" in proc.stdout and "open + root.runs" in proc.stdout
