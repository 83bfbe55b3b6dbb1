"""``bench/bench_remote.py --smoke``: every remote workload runs at tiny sizes on loopback SFTP, SMB and
HTTP servers and prints its seconds (ours only here, to stay fast; the full bench adds copick 1.31.0
on the same URLs and the ratios). Without smbd (not root, no samba) the bench says why SMB is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_remote.py"


def test_remote_bench_smoke_runs_every_workload() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--no-reference"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    expected = [
        f"{p} {w}" for p in ("sftp", "smb", "http") for w in ("enumerate", "region_read", "tomogram_read")
    ]
    if any(ln.startswith("smb: not measured") for ln in lines):
        expected = [e for e in expected if not e.startswith("smb ")]
    for workload in [*expected, "sftp tomogram_read, cache warm"]:
        (line,) = [ln for ln in lines if ln.startswith(workload + " ")]
        assert "ours " in line and "error" not in line.split("|")[0], line
