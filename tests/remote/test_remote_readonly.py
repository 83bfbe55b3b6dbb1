"""Read-only layers, a project folder served over HTTP or packed in a zip archive (on a local disk or
on HTTP): as the static layer under a local overlay every entity reads as on a local disk and refuses
writes; as a project's only root, every write is refused with ``ReadOnlyError`` naming the layer and
why, before any request is made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.errors import ReadOnlyError


@pytest.mark.parametrize("kind", ["http", "zip", "zip+http"])
def test_a_read_only_layer_reads_and_refuses_writes_clearly(
    kind: str, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, location = remotes["local"].new("source")
    writer = copick.from_file(write_project_config(location, user_id="alice"))
    run = writer.new_run("TS_001")
    run.new_picks("ribosome", "1").from_numpy(np.arange(12.0).reshape(4, 3))
    run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.ones((8, 8, 8), np.float32), levels=1)
    url, fs_args = remotes[kind].publish(Path(folder))
    _, overlay = remotes["local"].new("overlay")

    root = copick.from_file(write_project_config(overlay, (url, fs_args), user_id="alice"))
    (picks,) = root.get_run("TS_001").picks
    assert picks.numpy()[0].tolist() == np.arange(12.0).reshape(4, 3).tolist()
    (tomo,) = root.get_run("TS_001").get_voxel_spacing(10.0).tomograms
    assert tomo.numpy().sum() == 512
    with pytest.raises(PermissionError):
        picks.from_numpy(np.zeros((1, 3)))
    with pytest.raises((PermissionError, OSError, ValueError)):
        tomo.from_numpy(np.zeros((8, 8, 8), np.float32))

    only = copick.from_file(write_project_config((url, fs_args), user_id="alice"))
    assert [r.name for r in only.runs] == ["TS_001"]
    with pytest.raises(ReadOnlyError) as err:
        only.new_run("TS_002")
    assert f"cannot write {url.split('://', 1)[0]}://" in str(err.value)
    assert [p.name for p in sorted(Path(folder).rglob("*.json"))] == ["alice_1_ribosome.json"]
