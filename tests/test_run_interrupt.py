"""Ctrl-C during ``map_runs(parallelism="process")`` (issue 18): the command does not wait for the runs
already running. A script maps a slow callback over 8 runs on 2 worker processes; once both workers
are busy it gets SIGINT (as a terminal's Ctrl-C reaches the foreground process): it exits with the
interrupt status, its worker processes are gone and no run finished or started after the interrupt
(each run writes a marker when it starts and when it ends)."""

from __future__ import annotations

import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

import copick
from interrupts import start_interruptible

_SLOW = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import copick
    from copick.ops.run import map_runs

    def slow(run, marker_dir):
        Path(marker_dir, f"started-{run.name}-{os.getpid()}").touch()
        time.sleep(60)
        Path(marker_dir, f"finished-{run.name}").touch()
        return run.name

    if __name__ == "__main__":
        root = copick.from_file(sys.argv[1])
        try:
            names = [r.name for r in root.runs]
            map_runs(slow, root, names, workers=2, parallelism="process", marker_dir=sys.argv[2])
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """
)


def test_ctrl_c_stops_the_worker_processes_and_starts_no_further_run(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    config = str(tmp_path / "config.json")
    root = copick.new_config(config, str(tmp_path / "project"))
    for i in range(8):
        root.new_run(f"TS_{i}")
    script = tmp_path / "slow.py"
    script.write_text(_SLOW)
    markers = tmp_path / "markers"
    markers.mkdir()
    proc = start_interruptible([sys.executable, str(script), config, str(markers)])
    try:
        deadline = time.monotonic() + 60
        while len(list(markers.glob("started-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        started = sorted(p.name for p in markers.glob("started-*"))
        assert len(started) == 2, "the runs did not start in two worker processes"
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)  # waiting for the running runs would take 60 s, all 240 s
        print(f"exited {time.monotonic() - interrupted:.1f} s after Ctrl-C")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in out
    workers = [int(name.rsplit("-", 1)[1]) for name in started]
    gone = time.monotonic() + 30
    while any(psutil.pid_exists(pid) for pid in workers) and time.monotonic() < gone:
        time.sleep(0.1)
    assert not any(psutil.pid_exists(pid) for pid in workers)  # the worker processes were stopped
    assert sorted(p.name for p in markers.glob("started-*")) == started  # no run started after Ctrl-C
    assert not list(markers.glob("finished-*"))  # and none ran to its end
