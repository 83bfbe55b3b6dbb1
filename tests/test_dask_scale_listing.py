"""Projects of 20,000 runs on an object store (issue 18): opening one and listing ``root.runs`` costs a
bounded number of paginated requests (counted at the server), no request per run until a run's
contents are asked for, seconds, and memory linear in what is listed (measured in a subprocess).

The server is moto in a process of its own (its own GIL, as a real server), its bucket filled through
moto's backend directly (a PUT per run would take minutes), with every request it answers logged.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.s3

RUNS = 20_000
BUCKET = "copick-scale"
PREFIX = "portal-like"

_ACCESS = re.compile(r'"(?:\x1b\[[0-9;]*m)?(?:GET|PUT|HEAD|POST|DELETE) \S+ HTTP/')

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

CLIENT = textwrap.dedent(
    """
    import json, sys, time
    import copick, s3fs  # imported before the baseline

    def hwm():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))

    def mark(label):
        print(json.dumps({"mark": label}), flush=True)
        sys.stdin.readline()  # the parent reads the server's request count, then says go on

    config = sys.argv[1]
    base = hwm()
    mark("start")
    t = time.perf_counter()
    root = copick.from_file(config)
    opened = time.perf_counter() - t
    mark("opened")
    runs = root.runs
    listed = time.perf_counter() - t
    grown_kib = hwm() - base
    mark("listed")
    names = [r.name for r in runs]
    assert root.get_run(names[12345]) is runs[12345]
    mark("named")
    runs[100].voxel_spacings  # the first contents asked for: this run and the next few (read-ahead)
    mark("contents")
    print(json.dumps({"runs": len(runs), "open_s": opened, "list_s": listed, "kib": grown_kib}), flush=True)
    """
)


def _requests(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if _ACCESS.search(line) and "/moto-api/" not in line)


@pytest.fixture(scope="module")
def big_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pytest.importorskip("moto.server")
    folder = tmp_path_factory.mktemp("scale")
    log = folder / "requests.log"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(log), BUCKET, PREFIX, str(RUNS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        endpoint = server.stdout.readline().strip()
        assert endpoint.startswith("http://127.0.0.1:"), "the S3 server did not start"
        config = {
            "config_type": "filesystem",
            "name": "20,000 runs",
            "pickable_objects": [{"name": "ribosome", "is_particle": True, "label": 1}],
            "overlay_root": f"s3://{BUCKET}/{PREFIX}",
            "overlay_fs_args": {"endpoint_url": endpoint, "key": "testing", "secret": "testing"},
        }
        path = folder / "config.json"
        path.write_text(json.dumps(config))
        yield {"config": str(path), "log": log, "env": env}
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_opening_and_listing_20000_runs_is_a_few_paginated_requests(big_project: dict[str, Any]) -> None:
    log: Path = big_project["log"]
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, big_project["config"]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=big_project["env"],
    )
    counts: dict[str, int] = {}
    result: dict[str, Any] = {}
    try:
        for line in client.stdout:
            message = json.loads(line)
            if "mark" not in message:
                result = message
                continue
            time.sleep(0.2)  # the server logs a request after answering it
            counts[message["mark"]] = _requests(log)
            client.stdin.write("\n")
            client.stdin.flush()
    finally:
        client.stdin.close()
        client.wait(timeout=60)
    assert client.returncode == 0 and result["runs"] == RUNS
    opening = counts["opened"] - counts["start"]
    listing = counts["listed"] - counts["opened"]
    print(
        f"\n{RUNS} runs on loopback S3: open {opening} requests {result['open_s']:.2f} s, "
        f"root.runs {listing} requests {result['list_s']:.2f} s, peak RSS +{result['kib'] / 1024:.0f} MiB"
    )
    assert opening == 0  # opening reads the config only
    assert listing <= RUNS // 1000 + 2  # ListObjectsV2 pages of 1000 common prefixes: no request per run
    assert counts["named"] == counts["listed"]  # names and get_run of a listed project: no request
    assert counts["contents"] - counts["named"] <= 40  # one run's contents: it and a bounded read-ahead
    assert result["list_s"] < 60
    assert result["kib"] < 4 * RUNS + 64 * 1024  # linear: a few kB per run listed, plus a constant
