"""Image rewrites on SFTP switch the staged pyramid in by renames (``staging._switch_by_renames``),
counted at the loopback server, and a writer killed before any one of those renames leaves an image
that the next reader finishes (roll-forward) and reads whole.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import servers
from test_remote_safety import ServerDisk

import copick
from test_volume_staging import _assert_whole, _hidden


@pytest.fixture
def project(sftp_server: servers.SFTPServer, remotes: Any, write_project_config: Callable[..., str]) -> str:
    _, location = remotes["sftp"].new("switch")
    config = write_project_config(location)
    vs = copick.from_file(config).new_run("TS_1").new_voxel_spacing(10.0)
    vs.new_tomogram("wbp").from_numpy(np.full((64, 64, 64), -1.0), levels=2)
    return config


def test_a_rewrite_on_sftp_renames_levels_into_place_and_copies_no_chunk(
    sftp_server: servers.SFTPServer, project: str
) -> None:
    tomo = copick.from_file(project).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    mark = sftp_server.log.mark()
    tomo.from_numpy(np.full((64, 64, 64), 2.0), levels=2)
    requests = sftp_server.log.since(mark)
    image = [(op, path) for op, path in requests if "/wbp.zarr/" in path]  # not the staging's
    renames = [path.rsplit("/", 2)[-2:] for op, path in requests if op == "posix_rename"]
    print(f"requests on the image's own paths: {image}; renames (from): {renames}")
    assert not [p for op, p in image if op == "open"]  # no file of the image written or copied
    assert len(renames) == 6  # 2 old levels out; 2 new levels, .zattrs and .zgroup in
    assert _assert_whole(project) == 2.0


KILLED_BEFORE_MOVE = textwrap.dedent(
    """
    import os, signal, sys, numpy as np, copick
    from copick.storage import Layer
    moves, stop_at = [0], int(sys.argv[2])
    original = Layer.move

    def move(self, rel, new_rel):
        moves[0] += 1
        if moves[0] == stop_at:
            os.kill(os.getpid(), signal.SIGKILL)  # killed just before this rename
        original(self, rel, new_rel)

    Layer.move = move
    tomo = copick.from_file(sys.argv[1]).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    tomo.from_numpy(np.full((64, 64, 64), 7.0), levels=2)
    """
)


@pytest.mark.parametrize("stop_at", range(1, 7))
def test_a_writer_killed_before_any_rename_of_the_switch_leaves_a_whole_image(
    sftp_server: servers.SFTPServer, project: str, stop_at: int
) -> None:
    child = subprocess.run([sys.executable, "-c", KILLED_BEFORE_MOVE, project, str(stop_at)], timeout=120)
    assert child.returncode == -9  # killed mid-switch
    assert _assert_whole(project) == 7.0  # the reader finished the switch: the new image, whole
    assert _hidden(project, ServerDisk(sftp_server.root)) == []  # staging and trash gone
