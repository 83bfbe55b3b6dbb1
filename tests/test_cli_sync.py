"""``copick sync picks|meshes|segmentations|tomograms`` between two local projects, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import copick
from cli_helpers import assert_one_error, invoke, new_local_project, ok

pytestmark = pytest.mark.usefixtures("restore_logging")

RNG = np.random.default_rng(31)
SOURCE_OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 120.0},
    {"name": "proteasome", "is_particle": True, "label": 2},
    {"name": "membrane", "is_particle": False, "label": 3},
]
TARGET_OBJECTS = [{"name": "ribosome", "is_particle": True, "label": 5}]


@pytest.fixture
def projects(tmp_path: Path) -> tuple[str, str]:
    """A source project (2 runs of picks) and an empty target that only knows ribosome (label 5)."""
    source, root = new_local_project(tmp_path, SOURCE_OBJECTS, "source.json", "src")
    target, _ = new_local_project(tmp_path, TARGET_OBJECTS, "target.json", "dst")
    for run_name in ("TS_1", "TS_2"):
        run = root.new_run(run_name)
        for obj, user in (("ribosome", "alice"), ("proteasome", "bob")):
            run.new_picks(obj, "1", user).from_numpy(RNG.uniform(0, 300, (4, 3)), None, None, RNG.random(4))
    return source, target


def sync(kind: str, projects: tuple[str, str], words: str = "") -> Result:
    """``copick sync <kind> -c SOURCE --target-config TARGET <words>``."""
    return invoke(f"sync {kind} {words}", "-c", projects[0], "--target-config", projects[1])


def object_names(config: str) -> list[str]:
    return [o["name"] for o in json.loads(Path(config).read_text())["pickable_objects"]]


# --------------------------------------------------------------------------------------------------------
# picks and meshes
# --------------------------------------------------------------------------------------------------------


def test_sync_picks_filters_renames_and_adds_objects(projects: tuple[str, str]) -> None:
    words = "--source-runs TS_1 --target-runs TS_1:run-one --source-users bob --target-users bob:robert --log"
    result = ok(sync("picks", projects, words))
    assert result.stdout == ""
    assert "Copied 1 of 1 pick sets" in result.stderr
    assert "Synced picks proteasome:bob/1 of run TS_1" in result.stderr  # --log names every item
    target = copick.from_file(projects[1])
    assert [r.name for r in target.runs] == ["run-one"]
    got = target.get_run("run-one").get_picks("proteasome", "robert", "1")[0]
    want = copick.from_file(projects[0]).get_run("TS_1").get_picks("proteasome", "bob", "1")[0]
    np.testing.assert_array_equal(got.numpy()[0], want.numpy()[0])
    np.testing.assert_array_equal(got.scores(), want.scores())
    assert object_names(projects[1]) == ["ribosome", "proteasome"]  # written to the target config file


def test_sync_picks_existing_targets_fail_unless_exist_ok(projects: tuple[str, str]) -> None:
    ok(sync("picks", projects, "--source-objects ribosome"))
    assert sorted(r.name for r in copick.from_file(projects[1]).runs) == ["TS_1", "TS_2"]
    again = sync("picks", projects, "--source-objects ribosome")
    assert_one_error(again, "2 of 2 items failed", "already exist")
    assert "completed successfully" not in again.stderr
    assert sync("picks", projects, "--source-objects ribosome --exit-zero").exit_code == 0
    forced = ok(sync("picks", projects, "--source-objects ribosome --exist-ok"))
    assert "Copied 2 of 2 pick sets" in forced.stderr


def test_sync_picks_nothing_matched_warns(projects: tuple[str, str]) -> None:
    result = ok(sync("picks", projects, "--source-users nobody"))
    assert "No pick sets matched the filters" in result.stderr
    # as copick 1.31: the target run of every selected source run is created, even with nothing to copy
    assert sorted(r.name for r in copick.from_file(projects[1]).runs) == ["TS_1", "TS_2"]


def test_sync_meshes(projects: tuple[str, str]) -> None:
    trimesh = pytest.importorskip("trimesh")
    mesh = copick.from_file(projects[0]).get_run("TS_2").new_mesh("membrane", "1", "alice")
    mesh.mesh = trimesh.Scene(trimesh.creation.box(extents=(10, 20, 30)))
    mesh.store()
    ok(sync("meshes", projects))
    got = copick.from_file(projects[1]).get_run("TS_2").get_meshes("membrane", "alice", "1")[0].mesh
    np.testing.assert_allclose(got.bounds, mesh.mesh.bounds)
    assert "membrane" in object_names(projects[1])


# --------------------------------------------------------------------------------------------------------
# segmentations and tomograms
# --------------------------------------------------------------------------------------------------------


@pytest.mark.volumes
def test_sync_segmentations_types_and_renames(projects: tuple[str, str]) -> None:
    run = copick.from_file(projects[0]).get_run("TS_1")
    mask = (RNG.random((16, 20, 24)) > 0.5).astype(np.uint8)
    labels = RNG.integers(0, 3, (16, 20, 24)).astype(np.uint8)
    run.new_segmentation(10.0, "membrane", "1", False, "alice").from_numpy(mask)
    run.new_segmentation(10.0, "organelles", "1", True, "alice").from_numpy(labels)
    run.new_segmentation(10.0, "membrane", "1", False, "carol", is_instance=True).from_numpy(mask * 4)

    assert "No segmentations matched" in ok(sync("segmentations", projects, "--voxel-spacings 20")).stderr
    words = "--source-names membrane --target-names membrane:mem --voxel-spacings 10.0"
    ok(sync("segmentations", projects, words))
    got = copick.from_file(projects[1]).get_run("TS_1").get_segmentations(name="mem")
    assert [(s.user_id, s.is_multilabel, s.is_instance) for s in got] == [("alice", False, False)]
    np.testing.assert_array_equal(got[0].numpy(), mask)
    assert "mem" in object_names(projects[1])  # binary segmentations are named after an object

    ok(sync("segmentations", projects, "--segmentation-type multilabel"))
    multilabel = copick.from_file(projects[1]).get_run("TS_1").get_segmentations(name="organelles")[0]
    np.testing.assert_array_equal(multilabel.numpy(), labels)
    ok(sync("segmentations", projects, "--segmentation-type instance"))
    instance = copick.from_file(projects[1]).get_run("TS_1").get_segmentations(is_instance=True)
    assert [s.user_id for s in instance] == ["carol"]


@pytest.mark.volumes
def test_sync_tomograms_all_levels_and_type_rename(projects: tuple[str, str]) -> None:
    from copick.ops.importers import add_tomogram

    data = RNG.random((32, 48, 40)).astype(np.float32)
    source = copick.from_file(projects[0])
    add_tomogram(source, "TS_2", "wbp", data, 10.0, create_pyramid=True, pyramid_levels=2)
    add_tomogram(source, "TS_2", "wbp", data[::2, ::2, ::2], 20.0)
    words = "--voxel-spacings 10 --target-tomo-types wbp:imported"
    ok(sync("tomograms", projects, f"{words} --source-runs TS_2"))
    target = copick.from_file(projects[1])
    assert [vs.voxel_size for vs in target.get_run("TS_2").voxel_spacings] == [10.0]
    tomo = target.get_run("TS_2").get_voxel_spacing(10.0).get_tomograms("imported")[0]
    want = source.get_run("TS_2").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    for level in ("0", "1"):
        np.testing.assert_array_equal(tomo.numpy(level), want.numpy(level))
    assert_one_error(sync("tomograms", projects, words), "already exists")


# --------------------------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------------------------


def test_sync_option_errors(projects: tuple[str, str]) -> None:
    source, target = projects
    missing_target = invoke("sync picks -c", source)
    assert missing_target.exit_code == 2 and "--target-config" in missing_target.stderr
    no_source = invoke("sync picks --target-config", target)
    assert no_source.exit_code == 2 and "--config" in no_source.stderr
    ok(invoke("sync picks --target-config", target, COPICK_CONFIG=source))  # source from the environment
    bad_ids = invoke("sync picks --source-dataset-ids 10000,abc --target-config", target)
    assert bad_ids.exit_code == 2 and "--source-dataset-ids" in bad_ids.stderr
    unreachable = {"COPICK_PORTAL_URL": "http://127.0.0.1:1/graphql", "COPICK_PORTAL_RETRY_SECONDS": "1"}
    portal = invoke("sync picks --source-dataset-ids 10000 --target-config", target, **unreachable)
    assert (
        portal.exit_code == 1
        and "Error: The CryoET Data Portal at http://127.0.0.1:1/graphql" in portal.stderr
    )
    no_colon = sync("picks", projects, "--target-runs TS_1")
    assert (
        no_colon.exit_code == 2
        and "'--target-runs'" in no_colon.stderr
        and "source:target" in no_colon.stderr
    )
    assert sync("segmentations", projects, "--segmentation-type weird").exit_code == 2
