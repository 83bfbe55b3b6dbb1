"""Object-store behaviour proven against a real server: requests counted at the server, and a server
that goes away and comes back (moto in its own process, access log on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import copick
from copick.errors import StorageUnreachableError

pytestmark = pytest.mark.s3

try:
    from s3server import ServerProcess, logged_s3
except ImportError:  # pragma: no cover - run from the repository root
    from tests.s3server import ServerProcess, logged_s3

RUNS = 500


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    pytest.importorskip("moto.server")
    log = tmp_path_factory.mktemp("s3log") / "requests.log"
    with logged_s3(str(log)) as srv:
        yield srv


def _config(server: ServerProcess, tmp_path: Any, url: str, **fs_args: Any) -> str:
    path = tmp_path / f"config-{os.urandom(4).hex()}.json"
    objects = [{"name": "ribosome", "is_particle": True, "label": 1}]
    cfg = {"config_type": "filesystem", "name": "t", "pickable_objects": objects, "user_id": "alice"}
    cfg.update(overlay_root=url, overlay_fs_args={**server.s3.fs_args(), **fs_args})
    path.write_text(json.dumps(cfg))
    return str(path)


def _stats_requests(server: ServerProcess, config: str, *flags: str) -> tuple[int, dict]:
    before = server.requests()
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-m", "copick.cli.cli", "stats", "picks", "-c", config, "--output", "json", *flags],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    time.sleep(0.2)  # the server writes its access log line after answering
    return server.requests() - before, json.loads(out.stdout)


def test_parallel_stats_over_500_runs_make_no_more_requests_than_serial(
    server: ServerProcess, tmp_path: Any
) -> None:
    url = server.s3.unique_url()
    point = {"location": {"x": 1.0, "y": 2.0, "z": 3.0}, "transformation_": np.eye(4).tolist(), "score": 1.0}
    picks = {"pickable_object_name": "ribosome", "user_id": "alice", "session_id": "1", "points": [point] * 3}
    body = json.dumps(picks).encode()
    files = {f"{url[5:]}/ExperimentRuns/TS_{i:03d}/Picks/alice_1_ribosome.json": body for i in range(RUNS)}
    server.s3.filesystem().pipe(files)
    config = _config(server, tmp_path, url)

    serial, serial_stats = _stats_requests(server, config, "--no-parallel")
    parallel, parallel_stats = _stats_requests(server, config, "--parallel", "--workers", "8")
    assert serial_stats == parallel_stats and serial_stats["total_picks"] == 3 * RUNS
    print(f"requests for stats picks over {RUNS} runs: serial {serial}, parallel {parallel}")
    assert serial <= 2 * RUNS + 10  # one listing per run (read ahead in rounds) and one read per file
    assert parallel <= serial


def test_server_down_mid_listing_and_mid_write_then_back(server: ServerProcess, tmp_path: Any) -> None:
    fast = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
    config = _config(server, tmp_path, server.s3.unique_url(), **fast)
    root = copick.from_file(config)
    for i in range(40):
        root.new_run(f"TS_{i:02d}")
    root = copick.from_file(config)
    runs = root.runs
    assert runs[0].picks == []  # listed now; the other runs are listed as a loop reaches them
    server.stop()
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnreachableError) as listing:
            [run.picks for run in runs[35:]]  # beyond the read-ahead: needs the server
        listing_s = time.monotonic() - started
        with pytest.raises(StorageUnreachableError) as writing:
            runs[1].new_picks("ribosome", "1").from_numpy(np.ones((2, 3)))
    finally:
        server.start()  # moto keeps data in memory: the restarted server has an empty bucket
    for err in (listing.value, writing.value):
        message = str(err)
        assert server.s3.endpoint_url in message and "s3://copick-test/" in message
        assert "testing" not in message  # no credentials
        assert isinstance(err, ConnectionError)
    assert 1.0 < listing_s < 10.0  # retried with backoff, and bounded
    root = copick.from_file(config)
    assert root.runs == []
    root.new_run("TS_00").new_picks("ribosome", "1").from_numpy(np.ones((2, 3)))
    assert copick.from_file(config).get_run("TS_00").picks[0].numpy()[0].shape == (2, 3)
