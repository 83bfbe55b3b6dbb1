"""The behaviours of API.md §1 (runs, spacings, picks, meshes, objects, config) as users rely on them."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from pydantic import ValidationError

import copick
from copick.models import CopickLocation, CopickPoint, PickableObject

OBJECTS = [
    PickableObject(name="proteasome", is_particle=True, label=1, color=(255, 0, 0, 255)),
    PickableObject(name="ribosome", is_particle=True, label=2),
    PickableObject(name="membrane", is_particle=False, label=3),
]


@pytest.fixture
def root(tmp_path):
    return copick.new_config(str(tmp_path / "config.json"), str(tmp_path / "proj"), pickable_objects=OBJECTS)


@pytest.fixture
def run(root):
    return root.new_run("TS_001")


def reopen(root):
    return copick.from_string(json.dumps(root.config.model_dump(mode="json")))


# --- config ------------------------------------------------------------------------------------


def test_new_config_writes_a_filesystem_config_and_opens_it(tmp_path):
    root = copick.new_config(str(tmp_path / "sub" / "c.json"), str(tmp_path / "p"), pickable_objects=OBJECTS)
    data = json.loads((tmp_path / "sub" / "c.json").read_text())
    assert data["config_type"] == "filesystem"
    assert data["overlay_root"] == "local://" + str(tmp_path / "p")
    assert data["overlay_fs_args"] == {"auto_mkdir": True}
    assert data["version"] == copick.__version__
    assert list(data["pickable_objects"][0]) == [
        "name", "is_particle", "label", "color", "emdb_id", "pdb_id", "identifier", "map_threshold", "radius",
        "metadata",
    ]  # fmt: skip
    assert data["pickable_objects"][0]["color"] == [255, 0, 0, 255]
    assert root.runs == []


def test_config_without_type_warns_and_unknown_type_is_a_value_error(tmp_path):
    body = {"pickable_objects": [], "overlay_root": str(tmp_path)}
    with pytest.warns(DeprecationWarning):
        copick.from_string(json.dumps(body))
    with pytest.raises(ValueError, match="unknown config_type 'nope'"):
        copick.from_string(json.dumps({**body, "config_type": "nope"}))


def test_config_errors_name_the_file_and_the_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"config_type": "filesystem", "pickable_objects": [}')
    with pytest.raises(json.JSONDecodeError, match="bad.json"):
        copick.from_file(str(path))
    path.write_text(json.dumps({"config_type": "filesystem", "pickable_objects": []}))
    with pytest.raises(ValidationError, match=r"(?s)bad\.json.*overlay_root"):
        copick.from_file(str(path))
    objects = [{"name": "a_b", "is_particle": True}]
    path.write_text(
        json.dumps({"config_type": "filesystem", "pickable_objects": objects, "overlay_root": "/x"})
    )
    with (
        pytest.raises(ValidationError, match=r"(?s)pickable_objects\.0\.name.*'a_b'"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        copick.from_file(str(path))
    with pytest.raises(FileNotFoundError):
        copick.from_file(str(tmp_path / "missing.json"))


def test_pickable_object_rules():
    obj = PickableObject(name="x", is_particle=True, go_id="GO:1", radius=60)
    assert obj.identifier == "GO:1" and obj.go_id == "GO:1" and obj.radius == 60.0
    assert obj.model_dump()["identifier"] == "GO:1" and obj.color == (100, 100, 100, 255)
    assert PickableObject(name="x", is_particle=True, metadata=None).metadata == {}
    assert PickableObject(name="x", is_particle=True, label=None).label is None
    for bad in ({"label": 0}, {"color": (1, 2, 3)}, {"color": (1, 2, 3, 256)}):
        with pytest.raises(ValidationError):
            PickableObject(name="x", is_particle=True, **bad)


def test_new_object_labels_colours_and_errors(root):
    obj = root.new_object("apo", True)
    assert (obj.label, obj.color) == (4, (100, 100, 100, 255))
    assert root.config.pickable_objects[-1].name == "apo"
    with pytest.raises(ValueError, match="already exists"):
        root.new_object("apo", True)
    with pytest.raises(ValueError, match="Object label 2 already exists"):
        root.new_object("other", True, label=2)
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.new_object("ribo_some", True)


def test_save_config_round_trips(root, tmp_path):
    root.new_object("apo", True, radius=70)
    root.save_config(str(tmp_path / "saved.json"))
    again = copick.from_file(str(tmp_path / "saved.json"))
    assert [o.name for o in again.pickable_objects] == ["proteasome", "ribosome", "membrane", "apo"]
    assert again.get_object("apo").radius == 70.0


# --- runs and voxel spacings -------------------------------------------------------------------


def test_runs_are_created_listed_sorted_and_deleted(root, tmp_path):
    for name in ("TS_2", "TS_1 x", "TS_10"):
        root.new_run(name)
    assert (tmp_path / "proj" / "ExperimentRuns" / "TS_2" / ".meta").read_text() == "meta"
    other = reopen(root)
    assert [r.name for r in other.runs] == ["TS_1 x", "TS_10", "TS_2"]
    with pytest.raises(ValueError, match="Run name TS_2 already exists"):
        root.new_run("TS_2")
    assert root.new_run("TS_2", exist_ok=True) is root.get_run("TS_2")
    root.delete_run("TS_2")
    root.delete_run("missing")
    assert [r.name for r in root.runs] == ["TS_1 x", "TS_10"]
    assert not (tmp_path / "proj" / "ExperimentRuns" / "TS_2").exists()


def test_get_run_before_listing_checks_existence_and_builds_new_objects(root):
    root.new_run("TS_1")
    other = reopen(root)
    a, b = other.get_run("TS_1"), other.get_run("TS_1")
    assert a is not b and a.name == "TS_1"
    assert other.get_run("missing") is None
    assert other.runs[0] is other.get_run("TS_1")


def test_run_names_that_are_not_one_folder_are_rejected(root):
    for bad in ("", "a/b", ".hidden"):
        with pytest.raises(ValueError, match="Run name"):
            root.new_run(bad)


def test_a_second_root_sees_new_runs_only_after_refresh(root):
    other = reopen(root)
    assert other.runs == []
    root.new_run("TS_9")
    assert other.runs == []
    other.refresh()
    assert [r.name for r in other.runs] == ["TS_9"]


def test_voxel_spacings(run, tmp_path):
    vs = run.new_voxel_spacing(10.0)
    assert (tmp_path / "proj" / "ExperimentRuns" / "TS_001" / "VoxelSpacing10.000" / ".meta").exists()
    with pytest.raises(ValueError, match="VoxelSpacing 10.0 already exists"):
        run.new_voxel_spacing(10.0)
    assert run.new_voxel_spacing(10.0, exist_ok=True) is vs
    assert run.get_voxel_spacing(10) is vs
    assert run.get_voxel_spacing(10.0001) is None
    odd = run.new_voxel_spacing(7.8399)
    assert odd.voxel_size == 7.8399
    other = reopen(run.root).get_run("TS_001")
    assert sorted(v.voxel_size for v in other.voxel_spacings) == [7.84, 10.0]
    run.delete_voxel_spacings(10.0)
    assert [v.voxel_size for v in run.voxel_spacings] == [7.8399]


def test_stray_files_never_break_listing(run, tmp_path):
    run_dir = tmp_path / "proj" / "ExperimentRuns" / "TS_001"
    (run_dir / "VoxelSpacingabc").mkdir()
    (run_dir / "Picks").mkdir()
    (run_dir / "Picks" / "nounderscore.json").write_text("{}")
    (run_dir / "Picks" / "notes.txt").write_text("x")
    (tmp_path / "proj" / "ExperimentRuns" / "README").write_text("stray file")
    other = reopen(run.root)
    assert [r.name for r in other.runs] == ["TS_001"]
    assert other.runs[0].voxel_spacings == [] and other.runs[0].picks == []


# --- picks -------------------------------------------------------------------------------------


def test_new_picks_writes_an_empty_file_immediately(run, tmp_path):
    picks = run.new_picks("proteasome", "1", user_id="alice")
    data = json.loads(
        (tmp_path / "proj" / "ExperimentRuns" / "TS_001" / "Picks" / "alice_1_proteasome.json").read_text()
    )
    assert data == {
        "pickable_object_name": "proteasome", "user_id": "alice", "session_id": "1", "run_name": "TS_001",
        "voxel_spacing": None, "unit": "angstrom", "points": [], "trust_orientation": True,
    }  # fmt: skip
    assert list(data) == list(json.loads(json.dumps(data)))
    assert picks.points == []
    positions, transforms = picks.numpy()
    assert positions.shape == (0, 3) and transforms.shape == (0, 4, 4)


def test_new_picks_errors(run, root):
    with pytest.raises(ValueError, match="User ID must be set"):
        run.new_picks("proteasome", "1")
    with pytest.raises(ValueError, match="Object name nope not found in pickable objects"):
        run.new_picks("nope", "1", user_id="alice")
    with pytest.raises(TypeError):
        run.new_picks("proteasome", 5, user_id="alice")
    first = run.new_picks("proteasome", "1", user_id="alice")
    with pytest.raises(
        ValueError, match="Picks for proteasome by user/tool alice already exist in session 1"
    ):
        run.new_picks("proteasome", "1", user_id="alice")
    assert run.new_picks("proteasome", "1", user_id="alice", exist_ok=True) is first
    root.user_id = "carol"
    assert run.new_picks("membrane", "0").user_id == "carol"


def test_new_picks_sanitizes_ids_with_a_warning(run, tmp_path):
    with pytest.warns(UserWarning):
        picks = run.new_picks("proteasome", session_id="s 1", user_id="me_you")
    assert (picks.user_id, picks.session_id) == ("me-you", "s-1")
    assert (tmp_path / "proj" / "ExperimentRuns" / "TS_001" / "Picks" / "me-you_s-1_proteasome.json").exists()


def test_new_picks_does_not_clobber_a_file_another_process_wrote(run):
    other_run = reopen(run.root).get_run("TS_001")
    assert other_run.picks == []
    run.new_picks("proteasome", "1", user_id="alice").from_numpy([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="already exist"):
        other_run.new_picks("proteasome", "1", user_id="alice")
    assert len(other_run.new_picks("proteasome", "1", user_id="alice", exist_ok=True).points) == 1


def test_picks_from_numpy_round_trip_with_every_point_field(run):
    rng = np.random.default_rng(1)
    positions = rng.uniform(0, 1000, (50, 3))
    transforms = np.tile(np.eye(4), (50, 1, 1))
    transforms[:, :3, 3] = rng.normal(size=(50, 3))
    ids = np.arange(50)
    scores = rng.uniform(size=50)
    picks = run.new_picks("proteasome", "0", user_id="tool")
    picks.from_numpy(positions, transforms, ids, scores)
    again = reopen(run.root).get_run("TS_001").get_picks("proteasome")[0]
    assert again.from_tool and not again.from_user
    pos, tr = again.numpy()
    np.testing.assert_array_equal(pos, positions)
    np.testing.assert_array_equal(tr, transforms)
    np.testing.assert_array_equal(again.instance_ids(), ids)
    np.testing.assert_array_equal(again.scores(), scores)
    np.testing.assert_allclose(again.full_positions(), positions + transforms[:, :3, 3])
    point = again.points[7]
    assert (point.location.x, point.location.y, point.location.z) == tuple(positions[7])
    np.testing.assert_array_equal(point.transformation, transforms[7])
    assert (point.instance_id, point.score) == (7, scores[7])
    assert again.meta.run_name == "TS_001"


def test_picks_from_numpy_validation(run):
    picks = run.new_picks("proteasome", "1", user_id="alice")
    with pytest.raises(ValueError, match="Number of positions and transforms must be the same"):
        picks.from_numpy(np.zeros((3, 3)), np.tile(np.eye(4), (2, 1, 1)))
    with pytest.raises(ValueError, match="instance_ids must be >= 0"):
        picks.from_numpy(np.zeros((2, 3)), instance_ids=[1, -1])
    bad = np.tile(np.eye(4), (1, 1, 1))
    bad[0, 3, 0] = 2
    with pytest.raises(ValueError, match=r"last row must be \[0, 0, 0, 1\]"):
        picks.from_numpy(np.zeros((1, 3)), bad)
    picks.from_numpy([[1, 2, 3]])
    picks.from_numpy(np.zeros((0, 3)))
    assert picks.points == []


def test_points_setter_changes_memory_until_store(run):
    picks = run.new_picks("proteasome", "1", user_id="alice")
    picks.points = [CopickPoint(location=CopickLocation(x=1, y=2, z=3))]
    other = reopen(run.root).get_run("TS_001").picks[0]
    assert other.points == []
    picks.store()
    other = reopen(run.root).get_run("TS_001").picks[0]
    assert len(other.points) == 1 and other.points[0].location.x == 1.0
    other.points[0].location.x = 42.0
    other.store()
    assert reopen(run.root).get_run("TS_001").picks[0].numpy()[0][0, 0] == 42.0


def test_listed_picks_are_not_loaded_until_used(run):
    run.new_picks("proteasome", "1", user_id="alice").from_numpy(np.ones((4, 3)))
    listed = reopen(run.root).get_run("TS_001").picks[0]
    assert listed.meta.run_name is None and "len(points)=0" in repr(listed)
    assert len(listed.points) == 4 and listed.meta.run_name == "TS_001"


def test_get_picks_filters(run):
    run.new_picks("proteasome", "1", user_id="alice")
    run.new_picks("ribosome", "1", user_id="alice")
    run.new_picks("ribosome", "0", user_id="bob")
    assert len(run.get_picks(object_name="ribosome")) == 2
    assert len(run.get_picks(user_id=["alice", "bob"], session_id="1")) == 2
    assert len(run.get_picks("ribosome", "bob", "0")) == 1
    assert [p.user_id for p in run.tool_picks()] == ["bob"]
    assert len(run.user_picks()) == 2
    with pytest.raises(TypeError):
        run.get_picks(session_id=0)


def test_delete_picks(run):
    picks = run.new_picks("proteasome", "1", user_id="alice")
    picks.delete()
    assert run.picks == []
    with pytest.raises(FileNotFoundError):
        picks.delete()
    run.new_picks("ribosome", "1", user_id="alice")
    run.delete_picks(object_name="ribosome")
    assert reopen(run.root).get_run("TS_001").picks == []


def test_corrupt_picks_file_is_named_and_the_others_still_load(run, tmp_path):
    run.new_picks("proteasome", "1", user_id="alice").from_numpy(np.ones((2, 3)))
    bad = tmp_path / "proj" / "ExperimentRuns" / "TS_001" / "Picks" / "bob_1_ribosome.json"
    bad.write_text(
        '{"pickable_object_name": "ribosome", "user_id": "bob", "session_id": "1", "points": [{"loc'
    )
    other = reopen(run.root).get_run("TS_001")
    assert len(other.picks) == 2
    good = other.get_picks(user_id="alice")[0]
    assert len(good.points) == 2
    with pytest.raises(ValueError, match="bob_1_ribosome.json"):
        other.get_picks(user_id="bob")[0].numpy()


def test_picks_color_comes_from_the_object(run):
    assert run.new_picks("proteasome", "1", user_id="alice").color == (255, 0, 0, 255)


# --- meshes ------------------------------------------------------------------------------------


def test_meshes_store_and_reload_as_a_scene(run):
    import trimesh

    mesh = run.new_mesh("membrane", "1", user_id="bob")
    assert isinstance(mesh.mesh, trimesh.Scene)
    mesh.mesh = trimesh.creation.icosphere(subdivisions=1, radius=50.0)
    mesh.store()
    with pytest.raises(ValueError, match="Mesh for membrane by user/tool bob already exist in session 1"):
        run.new_mesh("membrane", "1", user_id="bob")
    again = reopen(run.root).get_run("TS_001").get_meshes(object_name="membrane", user_id="bob")[0]
    scene = again.mesh
    assert isinstance(scene, trimesh.Scene) and len(scene.geometry) == 1
    assert next(iter(scene.geometry.values())).vertices.shape == (42, 3)
    again.delete()
    assert reopen(run.root).get_run("TS_001").meshes == []


# --- static layer ------------------------------------------------------------------------------


@pytest.fixture
def layered(tmp_path):
    """A static project (made read-only on disk) under an empty overlay."""
    static = copick.new_config(str(tmp_path / "s.json"), str(tmp_path / "static"), pickable_objects=OBJECTS)
    run = static.new_run("TS_001")
    run.new_voxel_spacing(10.0)
    run.new_picks("proteasome", "0", user_id="tool").from_numpy(np.ones((2, 3)))
    run.new_mesh("membrane", "0", user_id="tool")
    config = {
        "config_type": "filesystem",
        "pickable_objects": [o.model_dump(mode="json") for o in OBJECTS],
        "static_root": "local://" + str(tmp_path / "static"),
        "overlay_root": "local://" + str(tmp_path / "overlay"),
        "overlay_fs_args": {"auto_mkdir": True},
    }
    snapshot = {p: p.read_bytes() for p in (tmp_path / "static").rglob("*") if p.is_file()}
    yield copick.from_string(json.dumps(config)), snapshot
    assert {p: p.read_bytes() for p in (tmp_path / "static").rglob("*") if p.is_file()} == snapshot


def test_static_entities_are_read_only_and_untouched(layered, tmp_path):
    root, _ = layered
    assert not root.static_is_overlay
    run = root.get_run("TS_001")
    picks = run.picks[0]
    assert picks.read_only
    with pytest.raises(PermissionError, match="Cannot store picks in a read-only source"):
        picks.from_numpy(np.zeros((1, 3)))
    with pytest.raises(PermissionError, match="Cannot store picks"):
        picks.store()
    with pytest.raises(PermissionError, match="Cannot delete picks"):
        picks.delete()
    with pytest.raises(PermissionError):
        run.meshes[0].store()
    with pytest.raises(ValueError):
        run.new_picks("proteasome", "0", user_id="tool")
    assert run.new_picks("proteasome", "0", user_id="tool", exist_ok=True) is picks
    with pytest.raises(ValueError):
        root.new_run("TS_001")
    with pytest.raises(ValueError):
        run.new_voxel_spacing(10.0)


def test_overlay_writes_land_in_the_overlay_and_list_with_static(layered, tmp_path):
    root, _ = layered
    run = root.get_run("TS_001")
    mine = run.new_picks("ribosome", "1", user_id="alice")
    mine.from_numpy(np.zeros((3, 3)))
    assert (tmp_path / "overlay" / "ExperimentRuns" / "TS_001" / "Picks" / "alice_1_ribosome.json").exists()
    assert [p.read_only for p in run.picks] == [True, False]
    root.new_run("TS_002")
    assert [r.name for r in reopen(root).runs] == ["TS_001", "TS_002"]
