"""A project whose only root is on a read-only server (HTTP) or in a zip archive reads like a local one,
and every write is refused with ``ReadOnlyError`` naming the layer and why, before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.errors import ReadOnlyError


@pytest.mark.parametrize("kind", ["http", "zip", "zip+http"])
def test_a_read_only_root_reads_and_refuses_writes_clearly(
    kind: str, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, location = remotes["local"].new("source")
    writer = copick.from_file(write_project_config(location, user_id="alice"))
    run = writer.new_run("TS_001")
    run.new_picks("ribosome", "1").from_numpy(np.arange(12.0).reshape(4, 3))
    run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.ones((8, 8, 8), np.float32), levels=1)

    url, fs_args = remotes[kind].publish(Path(folder))
    root = copick.from_file(write_project_config((url, fs_args), user_id="alice"))
    (picks,) = root.get_run("TS_001").picks
    assert picks.numpy()[0].tolist() == np.arange(12.0).reshape(4, 3).tolist()
    (tomo,) = root.get_run("TS_001").get_voxel_spacing(10.0).tomograms
    assert tomo.numpy().sum() == 512

    for write in (
        lambda: root.new_run("TS_002"),
        lambda: picks.from_numpy(np.zeros((1, 3))),
        lambda: root.get_run("TS_001").new_picks("proteasome", "1"),
    ):
        with pytest.raises(ReadOnlyError) as err:
            write()
        assert "read-only" in str(err.value)
    with pytest.raises((ReadOnlyError, OSError, ValueError)):
        tomo.from_numpy(np.zeros((8, 8, 8), np.float32))
    assert [p.name for p in sorted(Path(folder).rglob("*.json"))] == ["alice_1_ribosome.json"]
