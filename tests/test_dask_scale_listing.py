"""Projects of 20,000 runs on an object store (issue 18): opening one and listing ``root.runs`` costs a
bounded number of paginated requests (counted at the server), no request per run until a run's
contents are asked for, seconds, and memory linear in what is listed (measured in a subprocess).

The project is the one ``bench/bench_scale.py`` lists (``bench/scale_s3.py``): moto in a process of its
own (its own GIL, as a real server), its bucket filled through moto's backend directly (a PUT per run
would take minutes), with every request it answers logged.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from scale_s3 import ScaleProject, count_requests, serve_runs

pytestmark = pytest.mark.s3

RUNS = 20_000

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


@pytest.fixture(scope="module")
def big_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleProject]:
    """20,000 empty runs on the loopback S3 server of ``bench/scale_s3.py`` (as the benchmark lists)."""
    pytest.importorskip("moto.server")
    with serve_runs(tmp_path_factory.mktemp("scale"), RUNS, prefix="portal-like") as project:
        yield project


def test_opening_and_listing_20000_runs_is_a_few_paginated_requests(big_project: ScaleProject) -> None:
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, big_project.config],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=big_project.env,
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
            counts[message["mark"]] = count_requests(big_project.log)
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
