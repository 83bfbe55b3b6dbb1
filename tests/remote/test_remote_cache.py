"""The opt-in on-disk cache of remote files, with requests counted at the loopback SFTP server.

* The second read of a remote tomogram (by a new root, and by another process) opens no file of the
  image on the server: its folders are listed to validate the cached chunks, nothing is read.
* A change on the server (another client rewrites the tomogram) is seen at once.
* Processes sharing the cache folder read correct data while they fill it together.
* The size limit holds after many files are cached; ``copick cache info|clear`` show and empty it.

Files written just now are not cached (their modification time has whole-second resolution), so
the tests date the server's files back a minute, as for data written earlier.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import servers

import copick
from copick.remote import cache as remote_cache

DATA = np.random.default_rng(5).normal(size=(96, 64, 64)).astype(np.float32)


def _age(folder: Path, seconds: float = 60.0) -> None:
    """Date every file under ``folder`` back (written a while ago, as most data is)."""
    then = time.time() - seconds
    for d, _, files in os.walk(folder):
        for f in files:
            os.utime(os.path.join(d, f), (then, then))


def _cached_project(
    kind: str, remotes: Any, tmp_path: Path, write_project_config: Callable[..., str]
) -> dict:
    """A project on ``kind`` (``sftp``, ``smb``) holding one tomogram written a minute ago, and
    configs reading it with (``config``) and without (``plain``) the on-disk cache."""
    folder, (url, fs_args) = remotes[kind].new("cached")
    plain = write_project_config((url, fs_args), user_id="alice")
    vs = copick.from_file(plain).new_run("TS_1").new_voxel_spacing(10.0)
    vs.new_tomogram("wbp").from_numpy(DATA, levels=2)
    _age(folder)
    cache_dir = tmp_path / "cache"
    cached_args = {**fs_args, "copick_cache": {"dir": str(cache_dir), "max_size": "64MB"}}
    return {
        "folder": folder,
        "plain": plain,
        "config": write_project_config((url, cached_args), user_id="alice"),
        "cache": cache_dir,
    }


@pytest.fixture
def cached_project(
    sftp_server: servers.SFTPServer, remotes: Any, tmp_path: Path, write_project_config: Callable[..., str]
) -> dict[str, Any]:
    return {**_cached_project("sftp", remotes, tmp_path, write_project_config), "server": sftp_server}


def _read_tomogram(config: str, level: int = 0) -> np.ndarray:
    tomo = copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    return tomo.numpy(str(level))


def _image_requests(server: servers.SFTPServer, mark: int) -> dict[str, int]:
    return dict(server.log.count(mark, under="wbp.zarr"))


def test_second_read_of_a_remote_tomogram_reads_nothing_from_the_server(cached_project: dict) -> None:
    server, config = cached_project["server"], cached_project["config"]
    mark = server.log.mark()
    np.testing.assert_array_equal(_read_tomogram(config), DATA)
    first = _image_requests(server, mark)
    assert first.get("open", 0) > 0

    mark = server.log.mark()
    np.testing.assert_array_equal(_read_tomogram(config), DATA)  # a new root: nothing in memory
    second = _image_requests(server, mark)
    print(f"image requests: first read {first}, second read {second}")
    assert second.get("open", 0) == 0  # no file of the image opened, so none read
    assert second.get("scandir", 0) <= first.get("scandir", 0)  # folders listed to validate


def test_second_read_of_a_tomogram_on_smb_reads_nothing_from_the_server(
    smb_server: servers.SMBServer, remotes: Any, tmp_path: Path, write_project_config: Callable[..., str]
) -> None:
    config = _cached_project("smb", remotes, tmp_path, write_project_config)["config"]
    reads = []
    for _ in range(2):
        mark = smb_server.log.mark()
        np.testing.assert_array_equal(_read_tomogram(config), DATA)  # a new root each time
        requests = smb_server.log.since(mark)
        opened = [path for op, path in requests if op == "CREATE" and "wbp.zarr" in path]
        reads.append((len(opened), sum(op == "READ" for op, _ in requests), len(requests)))
    print(f"SMB requests (files of the image opened, READs, all): first read {reads[0]}, second {reads[1]}")
    assert reads[0][0] > 0 and reads[0][1] > 0
    assert reads[1][:2] == (0, 0)  # no file of the image opened, nothing read: folders listed only


def test_a_change_on_the_server_is_seen_by_the_cache(cached_project: dict) -> None:
    config = cached_project["config"]
    np.testing.assert_array_equal(_read_tomogram(config), DATA)
    tomo = copick.from_file(cached_project["plain"]).get_run("TS_1").get_voxel_spacing(10.0).tomograms[0]
    tomo.from_numpy(DATA * 2, levels=2)  # another client, without the cache
    _age(cached_project["folder"], 30)
    np.testing.assert_array_equal(_read_tomogram(config), DATA * 2)
    np.testing.assert_array_equal(_read_tomogram(config, 1).shape, (48, 32, 32))


READER = textwrap.dedent(
    """
    import sys, numpy as np, copick
    tomo = copick.from_file(sys.argv[1]).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    for _ in range(2):
        for level in ("0", "1"):
            data = tomo.numpy(level)
            assert data.dtype == np.float32 and np.isfinite(data).all()
            print(level, float(data.sum()), flush=True)
    """
)


def test_processes_share_the_cache(cached_project: dict) -> None:
    server, config = cached_project["server"], cached_project["config"]
    cfg = json.loads(Path(config).read_text())
    cache_dir = cfg["overlay_fs_args"].pop("copick_cache")["dir"]
    env_config = Path(config).with_name("env-config.json")  # the cache set by the environment instead
    env_config.write_text(json.dumps(cfg))
    env = {**os.environ, remote_cache.ENV_DIR: cache_dir, remote_cache.ENV_SIZE: "64MB"}
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(env_config)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120)[0].split("\n") for r in readers]
    assert [r.returncode for r in readers] == [0, 0]
    expected = {"0": float(DATA.sum()), "1": float(_read_tomogram(cached_project["plain"], 1).sum())}
    for out in outputs:
        for line in filter(None, out):
            level, total = line.split()
            assert float(total) == pytest.approx(expected[level], rel=1e-5)
    mark = server.log.mark()
    third = subprocess.run(
        [sys.executable, "-c", READER, str(env_config)], capture_output=True, text=True, env=env, check=True
    )
    assert third.stdout.count("\n") == 4
    assert _image_requests(server, mark).get("open", 0) == 0  # served from what the others cached


def test_the_size_limit_holds(
    sftp_server: servers.SFTPServer, remotes: Any, tmp_path: Path, write_project_config: Callable[..., str]
) -> None:
    folder, (url, fs_args) = remotes["sftp"].new("limited")
    writer = copick.from_file(write_project_config((url, fs_args), user_id="alice"))
    for i in range(24):
        writer.new_run(f"TS_{i:02d}").new_picks("ribosome", "1").from_numpy(np.full((40, 3), float(i)))
    _age(folder)
    limit = 80_000  # a sixth of the 24 picks files (20 KB each; a file over a quarter is never kept)
    cache_dir = tmp_path / "small-cache"
    config = write_project_config(
        (url, {**fs_args, "copick_cache": {"dir": str(cache_dir), "max_size": limit}}), user_id="alice"
    )
    for _ in range(2):
        for run in copick.from_file(config).runs:
            (picks,) = run.picks
            assert picks.numpy()[0][0, 0] == float(run.name[3:])
    total = remote_cache.summary(str(cache_dir))["bytes"]
    assert 0 < total <= limit


def test_cache_commands_show_and_clear_the_remote_cache(cached_project: dict) -> None:
    from click.testing import CliRunner

    from copick.cli.cli import cli

    _read_tomogram(cached_project["config"])
    info = CliRunner().invoke(cli, ["cache", "info", "-c", cached_project["config"]])
    assert info.exit_code == 0, info.output
    assert str(cached_project["cache"]) in info.output and "64 MiB" in info.output
    assert remote_cache.summary(str(cached_project["cache"]))["entries"] > 0
    cleared = CliRunner().invoke(cli, ["cache", "clear", "--remote", "-c", cached_project["config"], "-y"])
    assert cleared.exit_code == 0, cleared.output
    assert remote_cache.summary(str(cached_project["cache"]))["entries"] == 0
    np.testing.assert_array_equal(_read_tomogram(cached_project["config"]), DATA)  # refilled on use
