"""The same project story on a local folder, fsspec's ``memory://`` and a real S3 server on loopback.

Every test runs once per backend (the ``backend`` fixture is parametrized). The S3 server is moto
in server mode: s3fs speaks HTTP to it, nothing is mocked on the client side. A "second root" is a
second ``copick.from_file`` of the same config (on S3 with its own client and listings cache), i.e.
what another process would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import copick
from copick.models import CopickLocation, CopickPoint

Location = tuple[str, dict[str, Any]]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def raw_path(backend: Any, location: Location, rel: str) -> str:
    return backend.path(location[0]).rstrip("/") + "/" + rel


def raw_exists(backend: Any, location: Location, rel: str) -> bool:
    fs = backend.filesystem()
    return fs.exists(raw_path(backend, location, rel))


def raw_read(backend: Any, location: Location, rel: str) -> bytes:
    return backend.filesystem().cat_file(raw_path(backend, location, rel))


def snapshot(backend: Any, location: Location) -> dict[str, bytes]:
    """Every file under a location, by relative path: to prove it was left untouched."""
    fs = backend.filesystem()
    base = fs._strip_protocol(backend.path(location[0])).rstrip("/")
    if not fs.exists(base):
        return {}
    return {f[len(base) :]: fs.cat_file(f) for f in sorted(fs.find(base))}


def sample_points(n: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    positions = rng.uniform(0, 1000, size=(n, 3)).round(2)
    transforms = np.tile(np.eye(4), (n, 1, 1))
    angles = np.linspace(0, np.pi, n)
    transforms[:, 0, 0] = np.cos(angles)
    transforms[:, 0, 1] = -np.sin(angles)
    transforms[:, 1, 0] = np.sin(angles)
    transforms[:, 1, 1] = np.cos(angles)
    transforms[:, :3, 3] = rng.uniform(-5, 5, size=(n, 3)).round(3)
    return {
        "positions": positions,
        "transforms": transforms,
        "instance_ids": np.arange(1, n + 1),
        "scores": np.linspace(0.25, 1.0, n),
    }


@pytest.fixture
def config(new_project_config: str) -> str:
    return new_project_config


# --------------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------------


def test_a_fresh_project_has_no_runs(new_project: Any) -> None:
    assert new_project.runs == []
    assert new_project.get_run("TS_001") is None


def test_new_run_is_listed_found_and_written(backend: Any, project_url: Location, config: str) -> None:
    root = copick.from_file(config)
    run = root.new_run("TS_002")
    assert run.name == "TS_002"
    root.new_run("TS_001")
    assert sorted(r.name for r in root.runs) == ["TS_001", "TS_002"]  # appended to the cache
    assert root.get_run("TS_002") is run
    assert raw_read(backend, project_url, "ExperimentRuns/TS_002/.meta") == b"meta"

    other = copick.from_file(config)
    assert [r.name for r in other.runs] == ["TS_001", "TS_002"]
    assert other.get_run("TS_001").name == "TS_001"


def test_duplicate_run_raises_unless_exist_ok(config: str) -> None:
    root = copick.from_file(config)
    run = root.new_run("TS_001")
    with pytest.raises(ValueError, match="already exists"):
        root.new_run("TS_001")
    assert root.new_run("TS_001", exist_ok=True) is run
    with pytest.raises(ValueError):
        copick.from_file(config).new_run("TS_001")


def test_second_root_sees_new_runs_after_refresh(config: str) -> None:
    reader = copick.from_file(config)
    assert reader.runs == []
    writer = copick.from_file(config)
    writer.new_run("TS_001")
    reader.refresh()
    assert [r.name for r in reader.runs] == ["TS_001"]


def test_deleted_run_disappears_with_its_content(backend: Any, project_url: Location, config: str) -> None:
    root = copick.from_file(config)
    run = root.new_run("TS_001")
    run.new_voxel_spacing(10.0)
    run.new_picks("proteasome", "1", user_id="alice").from_numpy(np.ones((2, 3)))
    root.new_run("TS_002")
    root.delete_run("TS_001")
    assert [r.name for r in root.runs] == ["TS_002"]
    assert root.get_run("TS_001") is None
    assert not raw_exists(backend, project_url, "ExperimentRuns/TS_001/Picks/alice_1_proteasome.json")
    assert not raw_exists(backend, project_url, "ExperimentRuns/TS_001/.meta")
    assert [r.name for r in copick.from_file(config).runs] == ["TS_002"]
    root.delete_run("TS_404")  # silently nothing


# --------------------------------------------------------------------------------------------
# voxel spacings
# --------------------------------------------------------------------------------------------


def test_voxel_spacings_are_created_found_and_listed(
    backend: Any, project_url: Location, config: str
) -> None:
    run = copick.from_file(config).new_run("TS_001")
    vs = run.new_voxel_spacing(10.0)
    assert vs.voxel_size == 10.0
    run.new_voxel_spacing(7.84)
    assert raw_read(backend, project_url, "ExperimentRuns/TS_001/VoxelSpacing10.000/.meta") == b"meta"
    assert raw_exists(backend, project_url, "ExperimentRuns/TS_001/VoxelSpacing7.840/.meta")
    assert sorted(v.voxel_size for v in run.voxel_spacings) == [7.84, 10.0]
    assert run.get_voxel_spacing(10) is vs
    assert run.get_voxel_spacing(10.0001) is None

    again = copick.from_file(config).get_run("TS_001")
    assert again.get_voxel_spacing(10).voxel_size == 10.0  # before listing: an existence check
    assert sorted(v.voxel_size for v in again.voxel_spacings) == [7.84, 10.0]
    assert again.get_voxel_spacing(7.84).voxel_size == 7.84
    assert again.get_voxel_spacing(5.0) is None


def test_duplicate_voxel_spacing_raises_unless_exist_ok(config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    vs = run.new_voxel_spacing(10.0)
    with pytest.raises(ValueError, match="already exists"):
        run.new_voxel_spacing(10.0)
    assert run.new_voxel_spacing(10.0, exist_ok=True) is vs


def test_deleted_voxel_spacing_disappears(backend: Any, project_url: Location, config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    run.new_voxel_spacing(10.0)
    run.new_voxel_spacing(20.0)
    run.delete_voxel_spacings(10.0)
    assert [v.voxel_size for v in run.voxel_spacings] == [20.0]
    assert not raw_exists(backend, project_url, "ExperimentRuns/TS_001/VoxelSpacing10.000/.meta")
    again = copick.from_file(config).get_run("TS_001")
    assert [v.voxel_size for v in again.voxel_spacings] == [20.0]


# --------------------------------------------------------------------------------------------
# picks
# --------------------------------------------------------------------------------------------


def test_new_picks_writes_an_empty_set_at_once(backend: Any, project_url: Location, config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("proteasome", "1", user_id="alice")
    assert (picks.pickable_object_name, picks.user_id, picks.session_id) == ("proteasome", "alice", "1")
    assert picks.points == []
    data = json.loads(raw_read(backend, project_url, "ExperimentRuns/TS_001/Picks/alice_1_proteasome.json"))
    assert data == {
        "pickable_object_name": "proteasome",
        "user_id": "alice",
        "session_id": "1",
        "run_name": "TS_001",
        "voxel_spacing": None,
        "unit": "angstrom",
        "points": [],
        "trust_orientation": True,
    }
    positions, transforms = picks.numpy()
    assert positions.shape == (0, 3) and transforms.shape == (0, 4, 4)


def test_picks_round_trip_with_transforms_scores_and_instance_ids(config: str) -> None:
    s = sample_points(5)
    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("ribosome", "7", user_id="bob")
    picks.from_numpy(s["positions"], s["transforms"], s["instance_ids"], s["scores"])
    positions, transforms = picks.numpy()
    np.testing.assert_array_equal(positions, s["positions"])
    np.testing.assert_array_equal(transforms, s["transforms"])

    (reread,) = copick.from_file(config).get_run("TS_001").get_picks("ribosome", "bob", "7")
    positions, transforms = reread.numpy()
    np.testing.assert_array_equal(positions, s["positions"])
    np.testing.assert_array_equal(transforms, s["transforms"])
    assert reread.instance_ids().tolist() == s["instance_ids"].tolist()
    assert reread.scores().tolist() == s["scores"].tolist()
    np.testing.assert_allclose(reread.full_positions(), s["positions"] + s["transforms"][:, :3, 3])
    points = reread.points
    assert len(points) == 5
    for i, pt in enumerate(points):
        assert [pt.location.x, pt.location.y, pt.location.z] == s["positions"][i].tolist()
        np.testing.assert_array_equal(pt.transformation, s["transforms"][i])
        assert pt.instance_id == s["instance_ids"][i]
        assert pt.score == s["scores"][i]
    assert reread.meta.run_name == "TS_001"


def test_picks_from_numpy_defaults_and_plain_lists(config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    run.new_picks("proteasome", "1", user_id="alice").from_numpy([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (reread,) = copick.from_file(config).get_run("TS_001").get_picks("proteasome")
    positions, transforms = reread.numpy()
    assert positions.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    np.testing.assert_array_equal(transforms, np.tile(np.eye(4), (2, 1, 1)))
    assert reread.instance_ids().tolist() == [0, 0]
    assert reread.scores().tolist() == [1.0, 1.0]


def test_assigned_points_persist_only_after_store(config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("proteasome", "1", user_id="alice")
    picks.points = [
        CopickPoint(location=CopickLocation(x=10.0, y=20.0, z=30.0), instance_id=3, score=0.5),
        CopickPoint(location=CopickLocation(x=40.0, y=50.0, z=60.0)),
    ]
    (before,) = copick.from_file(config).get_run("TS_001").get_picks("proteasome")
    assert before.points == []
    picks.store()
    (after,) = copick.from_file(config).get_run("TS_001").get_picks("proteasome")
    assert [(p.location.x, p.location.y, p.location.z) for p in after.points] == [
        (10.0, 20.0, 30.0),
        (40.0, 50.0, 60.0),
    ]
    assert [(p.instance_id, p.score) for p in after.points] == [(3, 0.5), (0, 1.0)]


def test_second_root_sees_new_picks_after_refresh(config: str) -> None:
    copick.from_file(config).new_run("TS_001")
    reader_run = copick.from_file(config).get_run("TS_001")
    assert reader_run.picks == []
    writer_run = copick.from_file(config).get_run("TS_001")
    writer_run.new_picks("proteasome", "1", user_id="alice").from_numpy(np.full((3, 3), 7.0))
    reader_run.refresh()
    (picks,) = reader_run.picks
    assert picks.numpy()[0].tolist() == [[7.0, 7.0, 7.0]] * 3
    writer_run.new_picks("ribosome", "1", user_id="alice")
    reader_run.refresh_picks()
    assert sorted(p.pickable_object_name for p in reader_run.picks) == ["proteasome", "ribosome"]


def test_duplicate_picks_raise_unless_exist_ok(config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("proteasome", "1", user_id="alice")
    with pytest.raises(ValueError, match="already exist"):
        run.new_picks("proteasome", "1", user_id="alice")
    assert run.new_picks("proteasome", "1", user_id="alice", exist_ok=True) is picks
    with pytest.raises(ValueError):
        copick.from_file(config).get_run("TS_001").new_picks("proteasome", "1", user_id="alice")


def test_picks_need_a_user_and_a_known_object(config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    with pytest.raises(ValueError, match="User ID"):
        run.new_picks("proteasome", "1")
    with pytest.raises(ValueError, match="not found"):
        run.new_picks("no-such-object", "1", user_id="alice")
    assert run.new_picks("membrane", "1", user_id="alice").pickable_object_name == "membrane"


def test_config_user_is_the_default_picker(project_url: Location, write_project_config: Callable) -> None:
    root = copick.from_file(write_project_config(project_url, user_id="carol", session_id="3"))
    picks = root.new_run("TS_001").new_picks("proteasome", "3")
    assert picks.user_id == "carol"
    assert [p.user_id for p in root.get_run("TS_001").user_picks()] == ["carol"]


def test_deleted_picks_are_gone(backend: Any, project_url: Location, config: str) -> None:
    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("proteasome", "1", user_id="alice")
    picks.from_numpy(np.ones((2, 3)))
    run.new_picks("ribosome", "1", user_id="bob")
    picks.delete()
    assert not raw_exists(backend, project_url, "ExperimentRuns/TS_001/Picks/alice_1_proteasome.json")
    assert [p.user_id for p in run.picks] == ["bob"]
    with pytest.raises(FileNotFoundError):
        picks.delete()
    run.delete_picks(user_id="bob")
    assert run.picks == []
    assert copick.from_file(config).get_run("TS_001").picks == []


# --------------------------------------------------------------------------------------------
# meshes
# --------------------------------------------------------------------------------------------


def test_mesh_stored_from_trimesh_reloads_as_a_scene(
    backend: Any, project_url: Location, config: str
) -> None:
    import trimesh

    run = copick.from_file(config).new_run("TS_001")
    mesh = run.new_mesh("membrane", "1", user_id="alice")
    assert raw_exists(backend, project_url, "ExperimentRuns/TS_001/Meshes/alice_1_membrane.glb")
    assert isinstance(mesh.mesh, trimesh.Scene)
    sphere = trimesh.creation.icosphere(subdivisions=1, radius=100.0)
    sphere.apply_translation([400.0, 480.0, 320.0])
    mesh.mesh = sphere
    mesh.store()

    (reread,) = copick.from_file(config).get_run("TS_001").get_meshes(object_name="membrane")
    scene = reread.mesh
    assert isinstance(scene, trimesh.Scene)
    (geom,) = scene.geometry.values()
    assert len(geom.vertices) == len(sphere.vertices) == 42
    assert len(geom.faces) == len(sphere.faces) == 80
    np.testing.assert_allclose(np.asarray(scene.bounds), sphere.bounds, rtol=1e-6)
    assert (reread.user_id, reread.session_id) == ("alice", "1")


def test_duplicate_mesh_raises_and_deleted_mesh_is_gone(
    backend: Any, project_url: Location, config: str
) -> None:
    run = copick.from_file(config).new_run("TS_001")
    mesh = run.new_mesh("membrane", "1", user_id="alice")
    with pytest.raises(ValueError, match="already exist"):
        run.new_mesh("membrane", "1", user_id="alice")
    assert run.new_mesh("membrane", "1", user_id="alice", exist_ok=True) is mesh
    mesh.delete()
    assert run.meshes == []
    assert not raw_exists(backend, project_url, "ExperimentRuns/TS_001/Meshes/alice_1_membrane.glb")
    assert copick.from_file(config).get_run("TS_001").meshes == []


def test_second_root_sees_new_meshes_after_refresh(config: str) -> None:
    import trimesh

    copick.from_file(config).new_run("TS_001")
    reader_run = copick.from_file(config).get_run("TS_001")
    assert reader_run.meshes == []
    writer = copick.from_file(config).get_run("TS_001").new_mesh("proteasome", "0", user_id="tool")
    writer.mesh = trimesh.creation.icosphere(subdivisions=2)
    writer.store()
    reader_run.refresh_meshes()
    (mesh,) = reader_run.meshes
    assert mesh.from_tool
    assert sum(len(g.vertices) for g in mesh.mesh.geometry.values()) == 162


# --------------------------------------------------------------------------------------------
# static (read-only) layer under a writable overlay, both on the same backend
# --------------------------------------------------------------------------------------------


@pytest.fixture
def layered(backend: Any, write_project_config: Callable) -> dict[str, Any]:
    """A populated project used as the static layer of a second project with an empty overlay."""
    import trimesh

    static = backend.new_location("static")
    overlay = backend.new_location("overlay")
    writer = copick.from_file(write_project_config(static))
    run = writer.new_run("TS_001")
    run.new_voxel_spacing(10.0)
    s = sample_points(3)
    run.new_picks("proteasome", "1", user_id="alice").from_numpy(
        s["positions"], s["transforms"], s["instance_ids"], s["scores"]
    )
    mesh = run.new_mesh("membrane", "1", user_id="alice")
    mesh.mesh = trimesh.creation.icosphere(subdivisions=1, radius=50.0)
    mesh.store()
    writer.new_run("TS_002").new_picks("ribosome", "0", user_id="tool").from_numpy([[1.0, 2.0, 3.0]])
    return {
        "config": write_project_config(overlay, static, user_id="alice"),
        "static": static,
        "overlay": overlay,
        "points": s,
        "before": snapshot(backend, static),
    }


def test_static_entities_are_read_only_and_left_untouched(backend: Any, layered: dict[str, Any]) -> None:
    import trimesh

    root = copick.from_file(layered["config"])
    assert not root.static_is_overlay
    run = root.get_run("TS_001")
    (picks,) = run.picks
    assert picks.read_only
    np.testing.assert_array_equal(picks.numpy()[0], layered["points"]["positions"])
    with pytest.raises(PermissionError):
        picks.store()
    with pytest.raises(PermissionError):
        picks.from_numpy(np.zeros((1, 3)))
    with pytest.raises(PermissionError):
        picks.delete()
    (mesh,) = run.meshes
    assert mesh.read_only
    assert len(next(iter(mesh.mesh.geometry.values())).vertices) == 42
    mesh.mesh = trimesh.creation.box()
    with pytest.raises(PermissionError):
        mesh.store()
    with pytest.raises(PermissionError):
        mesh.delete()
    assert snapshot(backend, layered["static"]) == layered["before"]
    assert snapshot(backend, layered["overlay"]) == {}


def test_writes_over_a_static_layer_land_in_the_overlay(backend: Any, layered: dict[str, Any]) -> None:
    root = copick.from_file(layered["config"])
    assert [r.name for r in root.runs] == ["TS_001", "TS_002"]
    with pytest.raises(ValueError):
        root.new_run("TS_001")
    run = root.get_run("TS_001")
    with pytest.raises(ValueError):
        run.new_voxel_spacing(10.0)
    with pytest.raises(ValueError):
        run.new_picks("proteasome", "1", user_id="alice")
    mine = run.new_picks("ribosome", "1")  # user alice from the config
    mine.from_numpy([[5.0, 6.0, 7.0]])
    assert not mine.read_only
    root.new_run("TS_003").new_voxel_spacing(10.0)

    assert raw_exists(backend, layered["overlay"], "ExperimentRuns/TS_001/Picks/alice_1_ribosome.json")
    assert raw_exists(backend, layered["overlay"], "ExperimentRuns/TS_003/VoxelSpacing10.000/.meta")
    assert snapshot(backend, layered["static"]) == layered["before"]

    again = copick.from_file(layered["config"])
    assert [r.name for r in again.runs] == ["TS_001", "TS_002", "TS_003"]
    listed = {(p.pickable_object_name, bool(p.read_only)) for p in again.get_run("TS_001").picks}
    assert listed == {("proteasome", True), ("ribosome", False)}
    assert [v.voxel_size for v in again.get_run("TS_001").voxel_spacings] == [10.0]


def test_overlay_entities_stay_writable_and_deletable(backend: Any, layered: dict[str, Any]) -> None:
    root = copick.from_file(layered["config"])
    run = root.get_run("TS_002")
    mine = run.new_picks("proteasome", "2")
    mine.from_numpy([[1.0, 1.0, 1.0]])
    mine.delete()
    assert [(p.user_id, bool(p.read_only)) for p in run.picks] == [("tool", True)]
    assert snapshot(backend, layered["static"]) == layered["before"]


# --------------------------------------------------------------------------------------------
# volumes on every backend (enabled with the other volume tests)
# --------------------------------------------------------------------------------------------


@pytest.mark.volumes
def test_tomogram_pyramid_round_trips_on_every_backend(
    backend: Any, project_url: Location, config: str
) -> None:
    data = np.random.default_rng(1).normal(size=(16, 24, 20)).astype(np.float32)
    vs = copick.from_file(config).new_run("TS_001").new_voxel_spacing(10.0)
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(data)
    np.testing.assert_array_equal(tomo.numpy(), data)
    assert raw_exists(backend, project_url, "ExperimentRuns/TS_001/VoxelSpacing10.000/wbp.zarr/0/.zarray")

    (reread,) = copick.from_file(config).get_run("TS_001").get_voxel_spacing(10.0).tomograms
    np.testing.assert_array_equal(reread.numpy(), data)
    assert reread.numpy("1").shape == (8, 12, 10)
    assert reread.numpy("2").shape == (4, 6, 5)
    np.testing.assert_array_equal(
        reread.numpy(x=slice(1, 5), y=slice(2, 6), z=slice(3, 7)), data[3:7, 2:6, 1:5]
    )


@pytest.mark.volumes
def test_segmentation_round_trips_on_every_backend(config: str) -> None:
    mask = np.zeros((16, 24, 20), dtype=bool)
    mask[4:9, 5:12, 6:10] = True
    run = copick.from_file(config).new_run("TS_001")
    run.new_segmentation(10.0, "proteasome", "1", user_id="alice").from_numpy(mask)
    (seg,) = copick.from_file(config).get_run("TS_001").get_segmentations(name="proteasome")
    got = seg.numpy()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, mask.astype(np.uint8))


@pytest.mark.volumes
def test_static_tomogram_is_read_only_on_every_backend(backend: Any, write_project_config: Callable) -> None:
    static = backend.new_location("static")
    data = np.arange(8 * 8 * 8, dtype=np.float32).reshape(8, 8, 8)
    writer = copick.from_file(write_project_config(static))
    writer.new_run("TS_001").new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(data, levels=1)
    before = snapshot(backend, static)

    root = copick.from_file(write_project_config(backend.new_location("overlay"), static))
    (tomo,) = root.get_run("TS_001").get_voxel_spacing(10.0).tomograms
    assert tomo.read_only
    np.testing.assert_array_equal(tomo.numpy(), data)
    with pytest.raises((OSError, ValueError)):
        tomo.from_numpy(np.zeros((4, 4, 4), dtype=np.float32))
    with pytest.raises(PermissionError):
        tomo.delete()
    assert snapshot(backend, static) == before


# --------------------------------------------------------------------------------------------
# copick.new_config on a local folder
# --------------------------------------------------------------------------------------------


def test_new_config_creates_a_working_local_project(tmp_path: Any) -> None:
    from copick.models import PickableObject

    cfg = tmp_path / "sub" / "config.json"
    root = copick.new_config(
        str(cfg),
        overlay_root=str(tmp_path / "project"),
        pickable_objects=[PickableObject(name="proteasome", is_particle=True, label=1)],
    )
    written = json.loads(cfg.read_text())
    assert written["config_type"] == "filesystem"
    assert written["overlay_root"] == "local://" + str(tmp_path / "project")
    assert written["overlay_fs_args"] == {"auto_mkdir": True}
    root.new_run("TS_001").new_picks("proteasome", "1", user_id="alice").from_numpy([[1.0, 2.0, 3.0]])
    assert (tmp_path / "project/ExperimentRuns/TS_001/Picks/alice_1_proteasome.json").is_file()
