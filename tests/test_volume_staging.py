"""Tomogram rewrites on a local disk and on the loopback S3 server: a killed writer never loses the
image (old or new version reads), its leftovers are removed by the next writer, and concurrent
writers either win cleanly or get ``ConcurrentWriteError`` (real processes, real server)."""

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
from copick import staging

REWRITER = textwrap.dedent(
    """
    import sys, numpy as np, copick
    from copick.errors import ConcurrentWriteError
    vs = copick.from_file(sys.argv[1]).get_run("TS_1").get_voxel_spacing(10.0)
    rounds, value = int(sys.argv[2]), float(sys.argv[3])
    print("ready", flush=True)
    for i in range(rounds):
        try:
            vs.new_tomogram("wbp", exist_ok=True).from_numpy(np.full((64, 64, 64), value + i), levels=2)
            print("wrote", flush=True)
        except ConcurrentWriteError as err:
            assert "wbp" in str(err), err
            print("busy", flush=True)
    """
)


@pytest.fixture(params=["local", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Any, write_project_config: Any) -> tuple[str, Any]:
    """``(config path, raw fsspec filesystem or None)`` of a project with one 64³ tomogram."""
    if request.param == "local":
        location: tuple[str, dict] = (str(tmp_path / "project"), {})
        fs = None
    else:
        server = request.getfixturevalue("s3_server")
        location, fs = (server.unique_url(), server.fs_args()), server.filesystem()
    config = write_project_config(location)
    vs = copick.from_file(config).new_run("TS_1").new_voxel_spacing(10.0)
    vs.new_tomogram("wbp").from_numpy(np.full((64, 64, 64), -1.0), levels=2)
    return config, fs


def _tomogram(config: str) -> Any:
    return copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]


def _folder(config: str) -> str:
    """The folder holding the tomogram (its stagings and locks are hidden names there)."""
    tomo = _tomogram(config)
    return os.path.dirname(tomo._layer.path(tomo._relpath))


def _hidden(config: str, fs: Any, folder: str | None = None) -> list[str]:
    """Hidden names beside the tomogram (stagings, locks)."""
    folder = folder or _folder(config)
    names = os.listdir(folder) if fs is None else [p.rsplit("/", 1)[1] for p in fs.ls(folder, refresh=True)]
    return sorted(n for n in names if n.startswith(".") and n != ".meta")


def _kill_a_writer_mid_staging(config: str, fs: Any) -> int:
    """Start a rewriting process and SIGKILL it while its staging is there; returns its pid.

    A listing takes a few milliseconds on S3, time enough for the writer to finish the round it
    was seen in, so a kill that left nothing behind is tried again with a new writer."""
    folder = _folder(config)
    for _attempt in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", REWRITER, config, "1000", "3"], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while not any(f"-{child.pid}-" in n and n.endswith(".tmp") for n in _hidden(config, fs, folder)):
            assert time.monotonic() < deadline
        child.send_signal(signal.SIGKILL)
        child.wait()
        if any(f"-{child.pid}-" in n for n in _hidden(config, fs, folder)):  # left behind, hidden
            return child.pid
    raise AssertionError("no writer was killed while its staging was there in 8 attempts")


def _assert_whole(config: str) -> float:
    tomo = _tomogram(config)
    level0, level1 = tomo.numpy(), tomo.numpy(1)
    assert level0.shape == (64, 64, 64) and level1.shape == (32, 32, 32)
    assert np.unique(level0).size == 1 and level0[0, 0, 0] == level1[0, 0, 0]
    return float(level0[0, 0, 0])


def test_a_tomogram_writer_killed_at_any_moment_leaves_the_old_or_new_image(where: tuple[str, Any]) -> None:
    config, fs = where
    rng = np.random.default_rng(7)
    for trial in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", REWRITER, config, "1000", str(100 * trial)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
        _assert_whole(config)
    tomo = _tomogram(config)
    tomo.from_numpy(np.full((64, 64, 64), 5.0), levels=2)  # the next writer tidies up
    assert _assert_whole(config) == 5.0
    assert _hidden(config, fs) == []


def test_leftovers_of_a_killed_writer_are_removed_but_a_live_writers_are_kept(where: tuple[str, Any]) -> None:
    config, fs = where
    _kill_a_writer_mid_staging(config, fs)

    tomo = _tomogram(config)
    alive = tomo._layer.path(tomo._relpath).rsplit("/", 1)[0] + f"/.wbp.zarr.{staging.owner_id()}.tmp"
    if fs is None:
        os.makedirs(alive)
        open(os.path.join(alive, "x"), "wb").close()
    else:
        fs.pipe_file(f"{alive}/x", b"")
    tomo.from_numpy(np.full((64, 64, 64), 9.0), levels=2)
    assert _assert_whole(config) == 9.0
    assert _hidden(config, fs) == [alive.rsplit("/", 1)[1]]  # the live writer's staging stays


def test_concurrent_writers_of_one_tomogram_win_cleanly_or_get_a_clear_error(where: tuple[str, Any]) -> None:
    config, fs = where
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", REWRITER, config, "4", str(10 * i)], stdout=subprocess.PIPE, text=True
        )
        for i in range(1, 3)
    ]
    outputs = [w.communicate(timeout=120)[0].split() for w in writers]
    assert [w.returncode for w in writers] == [0, 0]  # no raw zarr error in any writer
    assert {"wrote"} <= set(outputs[0] + outputs[1]) <= {"ready", "wrote", "busy"}
    assert _assert_whole(config) in {10.0 + i for i in range(4)} | {20.0 + i for i in range(4)}
    assert _hidden(config, fs) == []


def _read_marker(fs: Any, path: str) -> bytes | None:
    """The image's ``.zgroup`` as stored now, read beside copick (``None`` when there is none)."""
    try:
        if fs is None:
            with open(path, "rb") as f:
                return f.read()
        return fs.cat_file(path)
    except FileNotFoundError:
        return None


def test_the_completion_marker_is_never_seen_half_written(where: tuple[str, Any]) -> None:
    """While a writer rewrites the image again and again, ``.zgroup`` (what tells readers that the
    image is complete) is at every moment either absent or whole: a reader never takes a torn image
    for a complete one."""
    config, fs = where
    marker = f"{_folder(config)}/wbp.zarr/.zgroup"
    child = subprocess.Popen(
        [sys.executable, "-c", REWRITER, config, "12", "1"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    seen = set()
    while child.poll() is None:
        content = _read_marker(fs, marker)
        seen.add(content)
        assert content is None or content.strip().startswith(b"{"), f"torn .zgroup: {content!r}"
        time.sleep(0.001)  # the SFTP server runs in this process: leave it time to serve
    assert child.returncode == 0
    if fs is not None:  # remote switches take the marker away, then put the new one in place
        assert None in seen and len(seen) > 1, "no poll fell within a switch"


COPIER = textwrap.dedent(
    """
    import sys, copick
    target = copick.from_file(sys.argv[1]).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    sources = copick.from_file(sys.argv[2]).get_run("TS_1").get_voxel_spacing(10.0).tomograms
    print("ready", flush=True)
    for i in range(1000):
        target.copy_from(sources[i % 2])
    """
)


def test_an_image_copy_killed_at_any_moment_leaves_the_old_or_new_image(
    where: tuple[str, Any], tmp_path: Path, write_project_config: Callable[..., str]
) -> None:
    """``copy_from`` of an image goes through a staging like any rewrite: a copier
    killed at a random moment leaves a whole image (the old one or a copy), and the next writer
    removes what it left."""
    config, disk = where
    source = write_project_config((str(tmp_path / "source"), {}))
    spacing = copick.from_file(source).new_run("TS_1").new_voxel_spacing(10.0)
    for name, value in (("wbp", 4.0), ("sirt", 5.0)):
        spacing.new_tomogram(name).from_numpy(np.full((64, 64, 64), value), levels=2)
    rng = np.random.default_rng(3)
    for _trial in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", COPIER, config, source], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert _assert_whole(config) in {-1.0, 4.0, 5.0}
    _tomogram(config).copy_from(copick.from_file(source).get_run("TS_1").get_voxel_spacing(10.0).tomograms[0])
    assert _assert_whole(config) in {4.0, 5.0}
    assert _hidden(config, disk) == []
