"""``bench/bench_remote.py --smoke``: every remote workload runs at tiny sizes on a loopback SFTP server
and prints its seconds (ours only here, to stay fast; the full bench adds copick 1.31.0 on the same
URL and the ratios)."""

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
    for workload in ("enumerate", "region_read", "tomogram_read", "tomogram_read, cache warm"):
        (line,) = [ln for ln in lines if ln.startswith(workload + " ")]
        assert "ours " in line and "error" not in line.split("|")[0], line
