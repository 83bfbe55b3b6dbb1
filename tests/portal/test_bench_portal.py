"""The portal benchmark cannot rot: ``bench/bench_portal.py --smoke`` (8 runs, one process per
implementation and cache state) runs here. Request counts are asserted (they are counted at the loopback
servers, not timed); seconds never are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "bench_portal.py"


def test_bench_portal_smoke(tmp_path: Path) -> None:
    if str(REPO / "bench") not in sys.path:
        sys.path.insert(0, str(REPO / "bench"))
    import refenv

    args = [sys.executable, str(SCRIPT), "--smoke", "--results", str(tmp_path / "portal.json")]
    try:
        refenv.ensure_refenv()
    except refenv.RefEnvUnavailable:
        args.append("--no-ref")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "8 runs, cold cache" in proc.stdout and "8 runs, warm cache" in proc.stdout
    results = json.loads((tmp_path / "portal.json").read_text())
    cold, warm = results["rows"]
    assert cold["status"] == warm["status"] == "ok"  # ours, 1.31 and the limit read the same runs and voxels
    assert cold["graphql"]["ours"] == "9" and warm["graphql"]["ours"] == "0"  # one query per entity class
    assert cold["graphql"]["limit"] == "2" and warm["graphql"]["limit"] == "0"
    if "ref" in results["impls"]:
        assert int(cold["graphql"]["ref"]) >= 9
    assert cold["checksums"]["ours"][0]["first_names"] == ["101", "102", "103"]  # portal (id) order
