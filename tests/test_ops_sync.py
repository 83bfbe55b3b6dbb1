"""``copick.ops.sync``: picks, meshes, segmentations and tomograms copied between two local projects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.ops import sync

RNG = np.random.default_rng(5)


@pytest.fixture
def configs(tmp_path: Path, write_project_config: Callable[..., str]) -> tuple[str, str]:
    source = write_project_config(("local://" + str(tmp_path / "src"), {"auto_mkdir": True}))
    target = write_project_config(
        ("local://" + str(tmp_path / "dst"), {"auto_mkdir": True}),
        objects=[{"name": "proteasome", "is_particle": True, "label": 1}],
    )
    return source, target


@pytest.fixture
def source(configs: tuple[str, str]) -> Any:
    root = copick.from_file(configs[0])
    for run_name in ("TS_1", "TS_2"):
        run = root.new_run(run_name)
        for obj, user in (("ribosome", "alice"), ("proteasome", "bob")):
            run.new_picks(obj, "1", user).from_numpy(RNG.uniform(0, 100, (4, 3)), None, None, RNG.random(4))
    return root


def test_sync_picks_filters_renames_and_adds_objects(configs: tuple[str, str], source: Any) -> None:
    report = sync.sync_picks(
        configs[0],
        configs[1],
        source_runs="TS_1",
        target_runs={"TS_1": "run_one"},
        source_objects=["ribosome"],
        target_objects={"ribosome": "ribo"},
        target_users="alice:anna",
    )
    assert report.copied == 1 and not report.errors and report.added_objects == ["ribo"]
    target = copick.from_file(configs[1])
    assert [r.name for r in target.runs] == ["run_one"]
    picks = target.get_run("run_one").get_picks("ribo", "anna", "1")[0]
    src = source.get_run("TS_1").get_picks("ribosome", "alice", "1")[0]
    np.testing.assert_array_equal(picks.numpy()[0], src.numpy()[0])
    np.testing.assert_array_equal(picks.scores(), src.scores())
    saved = json.loads(Path(configs[1]).read_text())
    assert [o["name"] for o in saved["pickable_objects"]] == ["proteasome", "ribo"]
    assert saved["pickable_objects"][1]["label"] == 2  # the source label was free in the target


def test_sync_picks_existing_targets_are_reported(configs: tuple[str, str], source: Any) -> None:
    first = sync.sync_picks(configs[0], configs[1], source_objects="proteasome")
    assert first.copied == 2
    again = sync.sync_picks(configs[0], configs[1], source_objects="proteasome")
    assert again.copied == 0 and len(again.errors) == 2
    assert "already exist in session 1" in again.errors[0]
    forced = sync.sync_picks(configs[0], configs[1], source_objects="proteasome", exist_ok=True)
    assert forced.copied == 2 and not forced.errors


def test_sync_meshes(configs: tuple[str, str], source: Any) -> None:
    trimesh = pytest.importorskip("trimesh")
    mesh = source.get_run("TS_2").new_mesh("ribosome", "1", "alice")
    mesh.mesh = trimesh.Scene(trimesh.creation.box())
    mesh.store()
    report = sync.sync_meshes(configs[0], configs[1])
    assert report.copied == 1
    got = copick.from_file(configs[1]).get_run("TS_2").get_meshes("ribosome")[0].mesh
    np.testing.assert_allclose(got.bounds, mesh.mesh.bounds)


def test_sync_segmentations_and_tomograms(configs: tuple[str, str], source: Any) -> None:
    import zarr

    run = source.get_run("TS_1")
    labels = RNG.integers(0, 3, (8, 8, 8)).astype(np.uint8)
    seg = run.new_segmentation(10.0, "painting", "1", True, "alice")
    seg.from_numpy(labels)
    inst = run.new_segmentation(10.0, "ribosome", "1", False, "alice", is_instance=True)
    inst.from_numpy(labels)
    tomo = run.new_voxel_spacing(10.0).new_tomogram("wbp")
    vol = RNG.random((16, 16, 16)).astype(np.float32)
    tomo.from_numpy(vol)

    report = sync.sync_segmentations(
        configs[0], configs[1], voxel_spacings=[10], target_names="painting:paint"
    )
    assert report.copied == 1  # the instance segmentation is not selected by default
    target = copick.from_file(configs[1])
    got = target.get_run("TS_1").get_segmentations(name="paint")[0]
    assert got.is_multilabel
    np.testing.assert_array_equal(got.numpy(), labels)
    every = sync.sync_segmentations(configs[0], configs[1], is_instance=None, source_names=["ribosome"])
    assert every.copied == 1 and every.added_objects == ["ribosome"]

    report = sync.sync_tomograms(
        configs[0], configs[1], target_tomo_types={"wbp": "denoised"}, voxel_spacings="10.0"
    )
    assert report.copied == 1
    copy = copick.from_file(configs[1]).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("denoised")[0]
    np.testing.assert_array_equal(copy.numpy(), vol)
    np.testing.assert_array_equal(copy.numpy("2"), tomo.numpy("2"))
    src_attrs = zarr.open_group(store=tomo.zarr(), mode="r").attrs.asdict()
    dst_attrs = zarr.open_group(store=copy.zarr(), mode="r").attrs.asdict()
    assert src_attrs == dst_attrs
    assert sync.sync_tomograms(configs[0], configs[1], target_tomo_types="wbp:denoised").errors
