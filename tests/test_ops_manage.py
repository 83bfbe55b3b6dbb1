"""``copick.ops.manage``, ``copick.ops.get``, ``copick.ops.stats`` and ``copick.ops.add`` from Python."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import copick
from copick.errors import EntityExistsError
from copick.ops import add, get, manage, stats

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1},
    {"name": "proteasome", "is_particle": True, "label": 2},
    {"name": "membrane", "is_particle": False, "label": 3},
]


pytestmark = pytest.mark.usefixtures("restore_logging")  # commands reconfigure the root logger


@pytest.fixture
def config(tmp_path: Path) -> str:
    cfg = tmp_path / "config.json"
    root = copick.new_config(str(cfg), str(tmp_path / "proj"), pickable_objects=OBJECTS)
    for index, name in enumerate(("TS_001", "TS_002")):
        run = root.new_run(name)
        run.new_voxel_spacing(10.0)
        picks = run.new_picks("ribosome", "1", "alice")
        transforms = np.tile(np.eye(4), (index + 2, 1, 1))
        transforms[:, 0, 3] = 5.0
        picks.from_numpy(
            np.arange((index + 2) * 3).reshape(-1, 3), transforms, scores=np.full(index + 2, 0.5)
        )
        run.new_picks("proteasome", "7", "bob")
        run.new_mesh("membrane", "1", "alice")
    root.get_run("TS_002").new_voxel_spacing(20.0)
    return str(cfg)


@pytest.fixture
def root(config: str):
    return copick.from_file(config)


# --------------------------------------------------------------------------------------------------------
# manage
# --------------------------------------------------------------------------------------------------------


def test_copy_keeps_points_transforms_scores(root) -> None:
    result = manage.copy_copick_objects(root, "picks", "ribosome:alice/1", "ribosome:carol/{session_id}")
    assert (result["matched"], result["processed"], result["errors"]) == (2, 2, [])
    assert result["copied"][0] == {
        "run": "TS_001",
        "source": "ribosome:alice/1",
        "target": "ribosome:carol/1",
    }
    for run in root.runs:
        src, dst = run.get_picks("ribosome", "alice", "1")[0], run.get_picks("ribosome", "carol", "1")[0]
        for a, b in zip(src.numpy(), dst.numpy()):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(src.scores(), dst.scores())
        doc = json.loads(Path(dst.path).read_text())
        assert (doc["user_id"], doc["session_id"], doc["run_name"]) == ("carol", "1", run.name)


def test_copy_per_run_and_overwrite(root) -> None:
    run = root.get_run("TS_001")
    first = manage.copy_copick_objects_per_run(run, "picks", "ribosome:alice/1", "ribosome:bob/7")
    assert first["processed"] == 1 and first["errors"] == []
    again = manage.copy_copick_objects_per_run(run, "picks", "ribosome:alice/1", "ribosome:bob/7")
    assert again["processed"] == 0 and "already exist" in again["errors"][0]
    forced = manage.copy_copick_objects_per_run(
        run, "picks", "ribosome:alice/1", "ribosome:bob/7", overwrite=True
    )
    assert forced["processed"] == 1


def test_copy_unknown_target_object(root) -> None:
    result = manage.copy_copick_objects(root, "picks", "ribosome:alice/1", "virus:alice/1", run_name="TS_001")
    assert result["processed"] == 0
    assert "not found in pickable objects" in result["errors"][0]


def test_move_batch(root, config: str) -> None:
    result = manage.move_copick_objects_batch(root, "mesh", "membrane:alice/1", "membrane:alice/2", workers=2)
    assert result["processed"] == 2 and result["moved"] and not result["errors"]
    fresh = copick.from_file(config)
    for run in fresh.runs:
        assert [(m.user_id, m.session_id) for m in run.meshes] == [("alice", "2")]


def test_remove_batch_dry_run_and_real(root, config: str) -> None:
    dry = manage.remove_copick_objects_batch(root, "picks", "*:*/*", dry_run=True)
    assert dry["dry_run"] and dry["matched"] == 4 and len(dry["deleted"]) == 4
    assert len(copick.from_file(config).get_run("TS_001").picks) == 2
    real = manage.remove_copick_objects(root, "picks", "proteasome:bob/7", run_name="TS_002")
    assert real["processed"] == 1 and real["deleted"] == [
        {"run": "TS_002", "uri": "proteasome:bob/7", "read_only": False}
    ]
    assert [p.pickable_object_name for p in copick.from_file(config).get_run("TS_002").picks] == ["ribosome"]


def test_remove_voxel_spacing_tomogram(root, config: str) -> None:
    root.get_run("TS_001").get_voxel_spacing(10.0).new_tomogram("wbp")
    result = manage.remove_copick_objects(root, "tomogram", "wbp@10")
    assert result["processed"] == 1
    assert copick.from_file(config).get_run("TS_001").get_voxel_spacing(10.0).tomograms == []


def test_validation_errors(root) -> None:
    from copick.util.uri import InvalidURIError, UnknownRunError

    with pytest.raises(manage.UnsupportedObjectTypeError):
        manage.copy_copick_objects(root, "tomogram", "wbp", "x")
    with pytest.raises(InvalidURIError):
        manage.copy_copick_objects(root, "picks", "a:b:c", "x")
    with pytest.raises(UnknownRunError):
        manage.remove_copick_objects(root, "picks", "ribosome", run_name="TS_404")


# --------------------------------------------------------------------------------------------------------
# get and stats
# --------------------------------------------------------------------------------------------------------


def test_get_queries(root, config: str) -> None:
    assert [r.name for r in get.get_runs(config)] == ["TS_001", "TS_002"]
    assert [r.name for r in get.get_runs(root, "TS_002")] == ["TS_002"]
    assert [r.name for r in get.get_runs(root, ["TS_002", "TS_404"])] == ["TS_002"]
    assert len(get.get_voxelspacings(root)) == 3
    assert [vs.voxel_size for vs in get.get_voxelspacings(root, voxel_size=20)] == [20.0]
    assert len(get.get_picks(root)) == 4
    assert len(get.get_picks(root, runs="TS_001", user_id=["alice", "bob"], object_name="ribosome")) == 1
    assert len(get.get_picks(root, parallel=True, workers=2, session_id="7")) == 2
    assert len(get.get_meshes(root, runs=[root.get_run("TS_002")])) == 1
    assert get.get_tomograms(root, tomo_type="wbp") == []
    assert get.get_features(root) == []


def test_get_segmentations_types(root) -> None:
    run = root.get_run("TS_001")
    run.new_segmentation(10.0, "membrane", "1", user_id="a")
    run.new_segmentation(10.0, "cells", "1", is_multilabel=True, user_id="a")
    run.new_segmentation(10.0, "ribosome", "1", is_instance=True, user_id="a")
    assert {s.name for s in get.get_segmentations(root)} == {"membrane", "cells"}
    assert {s.name for s in get.get_segmentations(root, is_multilabel=True)} == {"cells"}
    assert {s.name for s in get.get_segmentations(root, is_instance=None)} == {
        "membrane",
        "cells",
        "ribosome",
    }
    assert {s.name for s in get.get_segmentations(root, segmentation_type="instance")} == {"ribosome"}
    assert len(get.get_segmentations(root, voxel_size=[10.0, 20.0], name="membrane", parallel=True)) == 1


def test_stats(root) -> None:
    data = stats.picks_stats(root)
    assert data["total_picks"] == 5 and data["total_pick_files"] == 4
    assert data["distribution_by_run"] == {"TS_002": 3, "TS_001": 2}
    assert list(data["distribution_by_user"]) == ["alice", "bob"]
    assert stats.picks_stats(root, parallel=True, workers=2) == data
    assert stats.meshes_stats(root)["session_user_object_combinations"] == {"1_alice_membrane": 2}
    assert stats.segmentations_stats(root)["total_segmentations"] == 0


# --------------------------------------------------------------------------------------------------------
# add
# --------------------------------------------------------------------------------------------------------


def test_add_run_and_voxelspacing(root, config: str) -> None:
    run = add.add_run(root, "TS_100")
    assert run.name == "TS_100"
    with pytest.raises(EntityExistsError):
        add.add_run(root, "TS_100")
    assert add.add_run(root, "TS_100", exist_ok=True).name == "TS_100"
    assert add.get_or_create_run(root, "TS_100") is not None
    with pytest.raises(add.MissingEntityError):
        add.get_or_create_run(root, "TS_200", create=False)
    vs = add.add_voxelspacing(root, "TS_200", 12.5)
    assert vs.voxel_size == 12.5
    with pytest.raises(EntityExistsError):
        add.add_voxelspacing(root, "TS_200", 12.5)
    assert add.add_voxelspacing(root, "TS_200", 12.5, exist_ok=True).voxel_size == 12.5
    with pytest.raises(add.MissingEntityError):
        add.add_voxelspacing(root, "TS_300", 1.0, create=False)
    fresh = copick.from_file(config).get_run("TS_200")
    assert add.get_or_create_voxelspacing(fresh, 12.5, create=False).voxel_size == 12.5
    with pytest.raises(add.MissingEntityError):
        add.get_or_create_voxelspacing(fresh, 3.0, create=False)
    assert add.get_or_create_voxelspacing(fresh, 3.0).voxel_size == 3.0


def test_add_object_and_save(root, config: str, tmp_path: Path) -> None:
    obj = add.add_object(
        root, "apoferritin", True, radius=60, pdb_id="4V1W", save_config=True, config_path=config
    )
    assert obj.label == 4
    saved = json.loads(Path(config).read_text())
    assert saved["pickable_objects"][-1]["name"] == "apoferritin"
    with pytest.raises(EntityExistsError):
        add.add_object(root, "apoferritin", True)
    with pytest.raises(ValueError, match="voxel_size"):
        add.add_object(root, "virus", True, volume=np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="config_path"):
        add.add_object(root, "virus", True, save_config=True)
    assert root.get_object("virus") is None


def test_add_object_with_volume(root) -> None:
    volume = np.arange(4 * 4 * 4, dtype=np.float32).reshape(4, 4, 4)
    obj = add.add_object(root, "virus", True, volume=volume, voxel_size=5.0)
    np.testing.assert_array_equal(obj.numpy(), volume)
