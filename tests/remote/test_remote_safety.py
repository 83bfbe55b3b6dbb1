"""Writes on SFTP and SMB are as safe as on a local disk, proven with real writer processes killed by
SIGKILL mid-write against the loopback servers:

* the tomogram-rewrite tests of ``tests/test_volume_staging.py`` (imported, not copied): a killed
  rewriter leaves the old or the new image, two concurrent writers win cleanly or get
  ``ConcurrentWriteError``, a killed writer's leftovers are removed but a live writer's kept;
* a picks file rewritten again and again by a process killed at a random moment always reads whole
  (the old or the new points, never a torn file), and the temporary files it leaves are hidden;
* a write lock left empty by a writer killed between creating it and writing its owner id into it
  (two requests on SFTP and SMB) does not refuse later writers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
import test_volume_staging
from test_volume_staging import (  # noqa: F401  (the shared tests, run here on SFTP and SMB)
    REWRITER,
    _assert_whole,
    _hidden,
    _tomogram,
    test_a_tomogram_writer_killed_at_any_moment_leaves_the_old_or_new_image,
    test_an_image_copy_killed_at_any_moment_leaves_the_old_or_new_image,
    test_concurrent_writers_of_one_tomogram_win_cleanly_or_get_a_clear_error,
    test_leftovers_of_a_killed_writer_are_removed_but_a_live_writers_are_kept,
    test_the_completion_marker_is_never_seen_half_written,
)


class ServerDisk:
    """What ``test_volume_staging`` does with a raw filesystem (list a folder, drop a file in it),
    done on the server's own disk for a path as the client names it."""

    def __init__(self, root: Path, client_prefix: str = ""):
        self.root, self.prefix = Path(root), client_prefix

    def _local(self, path: str) -> Path:
        return self.root / path.removeprefix(self.prefix).lstrip("/")

    def ls(self, folder: str, refresh: bool = True) -> list[str]:
        return [f"{folder.rstrip('/')}/{name}" for name in os.listdir(self._local(folder))]

    def cat_file(self, path: str) -> bytes:
        return self._local(path).read_bytes()

    def pipe_file(self, path: str, data: bytes) -> None:
        local = self._local(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)


def _server_disk(name: str, request: pytest.FixtureRequest) -> ServerDisk:
    if name == "sftp":
        return ServerDisk(request.getfixturevalue("sftp_server").root)
    return ServerDisk(request.getfixturevalue("smb_server").share, "/copick")


@pytest.fixture(params=["sftp", "smb"])
def where(
    request: pytest.FixtureRequest, remotes: Any, write_project_config: Callable[..., str]
) -> tuple[str, Any]:
    """``(config, server disk)`` of a project on SFTP or SMB holding one 64³ tomogram (the fixture
    of ``test_volume_staging``, on a remote server)."""
    _, location = remotes[request.param].new("project")
    config = write_project_config(location)
    vs = copick.from_file(config).new_run("TS_1").new_voxel_spacing(10.0)
    vs.new_tomogram("wbp").from_numpy(np.full((64, 64, 64), -1.0), levels=2)
    return config, _server_disk(request.param, request)


def test_the_staging_tests_are_the_shared_ones() -> None:
    assert test_a_tomogram_writer_killed_at_any_moment_leaves_the_old_or_new_image is (
        test_volume_staging.test_a_tomogram_writer_killed_at_any_moment_leaves_the_old_or_new_image
    )


PICKS_WRITER = textwrap.dedent(
    """
    import sys, numpy as np, copick
    run = copick.from_file(sys.argv[1]).get_run("TS_1")
    (picks,) = run.get_picks("ribosome")
    n = int(sys.argv[2])
    print("ready", flush=True)
    for i in range(1, 100000):
        picks.from_numpy(np.full((n, 3), float(i)))
    """
)


def kill_a_picks_writer(
    config: str, n: int, rng: np.random.Generator, when: Callable[[int], bool] | None = None
) -> int:
    """Start ``PICKS_WRITER`` rewriting the picks of ``config`` with ``n`` points, SIGKILL it and return
    its process id: at a random moment 0.3-1 s after it is ready (mid-write, most of the time), or as
    soon as ``when(pid)`` is true (polled every 2 ms, at most 30 s)."""
    child = subprocess.Popen(
        [sys.executable, "-c", PICKS_WRITER, config, str(n)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    if when is None:
        time.sleep(rng.uniform(0.3, 1.0))
    else:
        deadline = time.monotonic() + 30
        while not when(child.pid) and time.monotonic() < deadline:
            time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return child.pid


@pytest.mark.parametrize("kind", ["sftp", "smb"])
def test_a_picks_writer_killed_mid_write_leaves_a_whole_file(
    kind: str, request: pytest.FixtureRequest, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    n = 10_000  # ~1.5 MB of JSON: each write takes many SFTP/SMB requests
    folder, location = remotes[kind].new("project")
    config = write_project_config(location, user_id="alice")
    run = copick.from_file(config).new_run("TS_1")
    run.new_picks("ribosome", "1").from_numpy(np.zeros((n, 3)))
    rng = np.random.default_rng(3)
    for _ in range(2):
        kill_a_picks_writer(config, n, rng)
        (picks,) = copick.from_file(config).get_run("TS_1").get_picks("ribosome")
        positions = picks.numpy()[0]
        assert positions.shape == (n, 3) and np.unique(positions).size == 1  # one whole version
    picks_dir = Path(folder) / "ExperimentRuns" / "TS_1" / "Picks"
    assert sorted(p.name for p in picks_dir.iterdir() if not p.name.startswith(".")) == [
        "alice_1_ribosome.json"
    ]
    listed = copick.from_file(config).get_run("TS_1").picks  # temporary files are never listed
    assert [(p.user_id, p.pickable_object_name) for p in listed] == [("alice", "ribosome")]


def test_an_empty_write_lock_of_a_killed_creator_does_not_block_writers(where: tuple[str, Any]) -> None:
    config, fs = where
    tomo = _tomogram(config)
    lock = tomo._layer.path(tomo._relpath).rsplit("/", 1)[0] + "/.wbp.zarr.lock"
    fs.pipe_file(lock, b"")  # what a writer killed between the create and the write leaves
    tomo.from_numpy(np.full((64, 64, 64), 4.0), levels=2)
    assert _assert_whole(config) == 4.0
    assert _hidden(config, fs) == []
