"""Entities listed from a project's folders: their ``.meta`` is the same model copick 1.31 gives (type,
values, every field set), each entity's own, and what users change in it is what the entity reports,
though listings make the model only when ``.meta`` is first used."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.metadata import (
    CopickMeshMeta,
    CopickPicksFile,
    CopickRunMeta,
    CopickSegmentationMeta,
    CopickTomogramMeta,
    CopickVoxelSpacingMeta,
)

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1},
    {"name": "membrane", "is_particle": False, "label": 2},
]


def _two_runs(tmp_path: Path) -> str:
    """A project of two runs holding entities of the same names; returns its config path."""
    config = {
        "config_type": "filesystem",
        "name": "listed",
        "pickable_objects": OBJECTS,
        "overlay_root": f"local://{tmp_path / 'project'}",
        "overlay_fs_args": {"auto_mkdir": True},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    root = copick.from_file(str(path))
    for name in ("TS_1", "TS_2"):
        run = root.new_run(name)
        run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.ones((8, 8, 8), np.float32), levels=1)
        run.new_picks("ribosome", "1", user_id="alice").from_numpy(np.array([[1.0, 2.0, 3.0]]))
        run.new_mesh("membrane", "1", user_id="alice")
        run.new_segmentation(10.0, "ribosome", "1", user_id="alice").from_numpy(np.ones((8, 8, 8), np.uint8))
    return str(path)


def _entities(run: Any) -> dict[str, Any]:
    (vs,) = run.voxel_spacings
    (tomogram,) = vs.tomograms
    (picks,) = run.picks
    (mesh,) = run.meshes
    (seg,) = run.segmentations
    return {"run": run, "vs": vs, "tomogram": tomogram, "picks": picks, "mesh": mesh, "seg": seg}


EXPECTED = {
    "run": CopickRunMeta(name="TS_1"),
    "vs": CopickVoxelSpacingMeta(voxel_size=10.0),
    "tomogram": CopickTomogramMeta(tomo_type="wbp"),
    "picks": CopickPicksFile(pickable_object_name="ribosome", user_id="alice", session_id="1"),
    "mesh": CopickMeshMeta(pickable_object_name="membrane", user_id="alice", session_id="1"),
    "seg": CopickSegmentationMeta(
        user_id="alice", session_id="1", name="ribosome", is_multilabel=False, voxel_size=10.0
    ),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_listed_entity_meta_is_its_own_model_with_every_field(tmp_path: Path, kind: str) -> None:
    root = copick.from_file(_two_runs(tmp_path))
    first, second = (_entities(run)[kind] for run in root.runs)
    meta = first.meta
    expected = EXPECTED[kind]
    assert type(meta) is type(expected)
    assert meta.model_dump() == expected.model_dump()
    assert meta.model_fields_set == set(type(expected).model_fields)  # listed: every field set
    assert first.meta is meta and second.meta is not meta  # kept, and each entity's own
    assert pickle.loads(pickle.dumps(meta)) == meta


def test_changes_to_a_listed_meta_are_the_entity_s_only(tmp_path: Path) -> None:
    root = copick.from_file(_two_runs(tmp_path))
    one, two = (_entities(run) for run in root.runs)
    one["tomogram"].meta.tomo_type = "denoised"
    one["seg"].meta.session_id = "7"
    one["mesh"].meta.user_id = "bob"
    one["vs"].meta.voxel_size = 20.0
    one["run"].meta.name = "TS_9"
    assert (one["tomogram"].tomo_type, two["tomogram"].tomo_type) == ("denoised", "wbp")
    assert (one["seg"].session_id, two["seg"].session_id) == ("7", "1")
    assert (one["mesh"].user_id, two["mesh"].user_id) == ("bob", "alice")
    assert (one["vs"].voxel_size, two["vs"].voxel_size) == (20.0, 10.0)
    assert (one["run"].name, two["run"].name) == ("TS_9", "TS_2")
    one["picks"].meta.trust_orientation = False
    assert (one["picks"].trust_orientation, two["picks"].trust_orientation) == (False, True)


def test_listed_picks_read_their_file_whether_or_not_meta_was_used_first(tmp_path: Path) -> None:
    root = copick.from_file(_two_runs(tmp_path))
    one, two = (run.picks[0] for run in root.runs)
    assert one.meta.points == [] and one.meta.run_name is None  # as listed: the file is not read
    assert len(one.points) == 1 and one.points[0].location.x == 1.0
    assert one.meta.run_name == "TS_1" and one.meta.points is one.points
    positions, _ = two.numpy()
    assert positions.tolist() == [[1.0, 2.0, 3.0]]
    assert two.meta.run_name == "TS_2" and len(two.meta.points) == 1
