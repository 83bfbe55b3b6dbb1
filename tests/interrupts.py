"""Ctrl-C on a slow ``map_runs``, as a user at a terminal presses it (the tests of issue 18).

``interrupt_slow_map`` runs a script that maps a 60 s callback over a project's runs on 2 workers
(processes or a Dask ``LocalCluster`` made for the call); each run writes a marker when it starts
(``started-<run>-<pid>``) and when it ends. Once two runs are busy the script gets SIGINT.

A shell that runs a job in the background (``make test &``, CI runners, ``nohup``) sets SIGINT to
"ignore", every process below inherits it, and a Python started that way installs no
``KeyboardInterrupt`` handler: the SIGINT would be dropped. A terminal's foreground job has the
default disposition, so the script gets it back before it starts.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

_SLOW_MAP = textwrap.dedent(
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
            map_runs(slow, root, names, workers=2, parallelism=sys.argv[3], marker_dir=sys.argv[2])
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """
)


@dataclass
class Interrupted:
    """How the interrupted script ended and what its runs left behind."""

    returncode: int
    stdout: str
    started: list[str]  # the start markers present when SIGINT was sent
    markers: Path

    @property
    def worker_pids(self) -> list[int]:
        """The processes the started runs ran in."""
        return [int(name.rsplit("-", 1)[1]) for name in self.started]

    def markers_now(self, prefix: str) -> list[str]:
        """The markers named ``<prefix>-*`` present now."""
        return sorted(p.name for p in self.markers.glob(f"{prefix}-*"))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_slow_map(config: str, work_dir: Path, parallelism: str) -> Interrupted:
    """Run the slow map over ``config``'s runs with ``parallelism``, SIGINT it once two runs have
    started, and wait for it to end (at most 120 s: not interrupted, 8 runs would take 240 s)."""
    script = work_dir / "slow.py"
    script.write_text(_SLOW_MAP)
    markers = work_dir / "markers"
    markers.mkdir()
    args = [sys.executable, str(script), config, str(markers), parallelism]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 60
        while len(list(markers.glob("started-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        started = sorted(p.name for p in markers.glob("started-*"))
        assert len(started) == 2, f"two runs did not start in {parallelism} workers"
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
        print(f"exited {time.monotonic() - interrupted:.1f} s after Ctrl-C")
    finally:
        if proc.poll() is None:  # not interrupted: stop it and the workers it started
            import psutil

            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
    return Interrupted(proc.returncode, out, started, markers)


def wait_until_gone(pids: list[int], seconds: float = 30) -> bool:
    """Whether every process of ``pids`` has ended within ``seconds``."""
    import psutil

    deadline = time.monotonic() + seconds
    while any(psutil.pid_exists(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(psutil.pid_exists(pid) for pid in pids)
