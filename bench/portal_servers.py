"""The portal benchmark's parent side: the loopback servers, the jobs' set-up and their request counts.

The test suite's servers (PORTAL.md §7): a moto S3 process holding the synthetic portal's files
(``tests/portal/synthetic.py``, read anonymously by the jobs) and the fake GraphQL portal
(``tests/portal/fakeportal.py``) over the synthetic portal grown to the benchmark's number of runs.
``PortalServers.run_job`` runs one job of ``bench/portal_jobs.py`` in a fresh interpreter and counts
at the servers what it asked: GraphQL POSTs, S3 requests (moto's access log) and the CPU seconds the
fake portal spent answering.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from portal_jobs import DATASETS, RESULT_PREFIX

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
JOBS_PY = BENCH / "portal_jobs.py"


def write_config(work: Path) -> Path:
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


def child_env(work: Path, portal_url: str, s3_url: str) -> dict[str, str]:
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
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._execute = portal.portal.execute
        portal.portal.execute = self._timed

    def _timed(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        """The fake portal's ``execute``, its thread CPU time added to ``seconds``."""
        t0 = time.thread_time()
        try:
            return self._execute(query, variables)
        finally:
            with self._lock:
                self.seconds += time.thread_time() - t0

    def take(self) -> float:
        """The seconds counted since the last call."""
        with self._lock:
            seconds, self.seconds = self.seconds, 0.0
        return seconds


class PortalServers:
    """The started fake portal (``portal``) and moto S3 process (``s3``) of one benchmark run."""

    def __init__(self, portal: Any, s3: Any) -> None:
        self.portal = portal
        self.s3 = s3
        self.clock = ServerClock(portal)

    def run_job(self, python: str, impl: str, work: Path, timeout: float) -> dict[str, Any]:
        """One job in a fresh interpreter; requests counted at both servers while it ran."""
        portal, s3 = self.portal, self.s3
        params = {"config": str(work / "config.json"), "url": portal.url, "work": str(work), "impl": impl}
        kind = "limit" if impl == "limit" else "copick"
        params_path = work / "params.json"
        params_path.write_text(json.dumps(params))
        delay = portal.delay
        portal.reset()
        portal.delay = delay
        s3_before = s3.requests()
        self.clock.take()
        try:
            proc = subprocess.run(
                [python, str(JOBS_PY), kind, str(params_path)],
                capture_output=True, text=True, cwd=str(work), timeout=timeout,
                env=child_env(work, portal.url, s3.s3.endpoint_url),
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
        result["portal_cpu"] = self.clock.take()
        return result


@contextmanager
def started(scratch: Path, n_runs: int, delay: float) -> Iterator[PortalServers]:
    """Start moto S3 (log and uploaded files in ``scratch``) with the portal's files and the fake portal
    over ``n_runs`` runs, waiting ``delay`` seconds before each answer; stop both on exit."""
    for path in (REPO / "tests" / "portal", REPO / "tests"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    import fakeportal
    import synthetic

    import s3server

    s3 = s3server.ServerProcess(str(scratch / "moto.log"), bucket=synthetic.BUCKET)
    try:
        s3.start()
        synthetic.upload(synthetic.public_writer(s3.s3), synthetic.tables(), str(scratch / "files"))
        for portal in fakeportal.serve(synthetic.tables(extra_runs=n_runs - len(synthetic.RUNS))):
            portal.delay = delay
            yield PortalServers(portal, s3)
    finally:
        s3.stop()
