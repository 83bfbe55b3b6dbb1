"""A project of many empty runs on a loopback S3 server that logs every request (issue 18).

Shared by ``bench/bench_scale.py`` (open + list benchmark) and ``tests/test_dask_scale_listing.py``
(request-count assertions), so that both measure the same project the same way: moto runs in a
process of its own (its own GIL, as a real server), its bucket is filled through moto's backend
directly (a PUT per run would take minutes), and every request it answers is written to a log file
that ``count_requests`` reads. Only the standard library is imported here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import workloads as wl

#: Dummy credentials of the loopback server (moto accepts any).
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

#: An access-log line of an S3 request (werkzeug's format, possibly coloured).
_ACCESS = re.compile(r'"(?:\x1b\[[0-9;]*m)?(?:GET|PUT|HEAD|POST|DELETE) \S+ HTTP/')

#: The server process: argv = log path, bucket, prefix, number of runs; prints its URL, serves until
#: its stdin is closed.
SERVER = textwrap.dedent(
    """
    import logging, sys
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    log_path, bucket, prefix, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    log = open(log_path, "a", buffering=1)

    class Log(logging.Handler):
        def emit(self, record):
            log.write(record.getMessage() + "\\n")

    access = logging.getLogger("werkzeug")
    access.setLevel(logging.INFO)
    access.addHandler(Log())
    access.propagate = False
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, "us-east-1")
    for i in range(runs):  # what new_run writes on an object store: ExperimentRuns/<run>/.meta
        backend.put_object(bucket, f"{prefix}/ExperimentRuns/TS_{i:05d}/.meta", b"meta")
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    server.stop()
    """
)


@dataclass(frozen=True)
class ScaleProject:
    """A running loopback project: its ``config`` path, the server's request ``log`` and the ``env``
    (the caller's environment plus ``S3_ENV``) its clients should run with."""

    config: str
    log: Path
    env: dict[str, str]


def count_requests(log: Path) -> int:
    """How many S3 requests the server has logged so far (moto's own ``/moto-api/`` calls excluded).

    The server logs a request after answering it: wait a moment after a client's call before counting.
    """
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if _ACCESS.search(line) and "/moto-api/" not in line)


@contextmanager
def serve_runs(
    folder: Path, runs: int, bucket: str = "copick-scale", prefix: str = "big"
) -> Iterator[ScaleProject]:
    """Start the server holding ``runs`` empty runs at ``s3://<bucket>/<prefix>``, write a config for
    it in ``folder`` and yield the project; the server stops when the block ends."""
    log = folder / "requests.log"
    env = {**os.environ, **S3_ENV}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(log), bucket, prefix, str(runs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        endpoint = server.stdout.readline().strip() if server.stdout else ""
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError("the loopback S3 server did not start")
        fs_args = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}
        config = wl.write_config(str(folder / "config.json"), f"s3://{bucket}/{prefix}", fs_args)
        yield ScaleProject(config, log, env)
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
