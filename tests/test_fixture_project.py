"""A project written by the real copick 1.31.0 opens here and reads back exactly what 1.31.0 reported.

The reference fixture and its manifest ``expected.json`` are written by copick 1.31.0 at test time
(``tests/reference_fixture.py``); see ``tests/fixture131/README.md``. Every non-volume fact of the manifest
is checked here, through both entry points users call (``copick.from_file`` and
``CopickRootFSSpec.from_file``), for the single-root project and for the static + overlay variant.
Volume facts (tomograms, features, segmentations, object maps) live in ``test_fixture_volumes.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.impl.filesystem import CopickRootFSSpec
from copick.models import CopickLocation, CopickPoint

OPENERS: dict[str, Callable[[str], Any]] = {
    "copick.from_file": lambda path: copick.from_file(path),
    "CopickRootFSSpec.from_file": lambda path: CopickRootFSSpec.from_file(path),
}

OBJECT_FIELDS = (
    "name",
    "is_particle",
    "label",
    "color",
    "emdb_id",
    "pdb_id",
    "identifier",
    "map_threshold",
    "radius",
    "metadata",
)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def picks_key(p: Any) -> tuple[str, str, str, bool]:
    """The order of ``expected.json`` picks lists: (user, session, object, read_only)."""
    return (p.user_id, p.session_id, p.pickable_object_name, bool(getattr(p, "read_only", False)))


def mesh_key(m: Any) -> tuple[str, str, str]:
    return (m.user_id, m.session_id, m.pickable_object_name)


def point_facts(pt: Any) -> dict[str, Any]:
    return {
        "location": {"x": pt.location.x, "y": pt.location.y, "z": pt.location.z},
        "transformation": np.asarray(pt.transformation).tolist(),
        "instance_id": pt.instance_id,
        "score": pt.score,
    }


def assert_picks_match(picks: Any, exp: dict[str, Any], rtol: float, where: str) -> None:
    """Every fact expected.json records for one pick set (and the same facts via numpy())."""
    assert picks.user_id == exp["user_id"], where
    assert picks.session_id == exp["session_id"], where
    assert picks.pickable_object_name == exp["pickable_object_name"], where
    assert picks.from_tool is exp["from_tool"], where
    assert picks.from_user is (not exp["from_tool"]), where
    assert bool(getattr(picks, "read_only", False)) is exp["read_only"], where

    points = picks.points  # loads the file; meta fields are valid from here on
    assert len(points) == exp["count"], where
    assert picks.meta.run_name == exp["run_name"], where
    assert picks.meta.voxel_spacing == exp["voxel_spacing"], where
    assert picks.meta.unit == exp["unit"], where
    assert picks.meta.trust_orientation is exp["trust_orientation"], where
    assert picks.trust_orientation is exp["trust_orientation"], where

    positions, transforms = picks.numpy()
    assert positions.shape == (exp["count"], 3), where
    assert transforms.shape == (exp["count"], 4, 4), where
    if exp["count"] == 0:
        assert points == [], where
        assert len(picks.instance_ids()) == 0, where
        assert len(picks.scores()) == 0, where
        return

    assert point_facts(points[0]) == exp["first_point"], where
    assert point_facts(points[-1]) == exp["last_point"], where
    assert math.isclose(float(positions.sum()), exp["locations_sum"], rel_tol=rtol), where
    assert math.isclose(float(transforms.sum()), exp["transforms_sum"], rel_tol=rtol), where
    assert [int(v) for v in picks.instance_ids()] == exp["instance_ids"], where
    assert [float(v) for v in picks.scores()] == pytest.approx(exp["scores"], rel=rtol), where

    # numpy() and points describe the same points, in the same order.
    for i, pt in enumerate(points):
        assert positions[i].tolist() == [pt.location.x, pt.location.y, pt.location.z], where
        assert transforms[i].tolist() == np.asarray(pt.transformation).tolist(), where
    full = picks.full_positions()
    np.testing.assert_allclose(full, positions + transforms[:, :3, 3], rtol=rtol)


def assert_mesh_matches(mesh: Any, exp: dict[str, Any], rtol: float, where: str) -> None:
    import trimesh

    assert mesh.user_id == exp["user_id"], where
    assert mesh.session_id == exp["session_id"], where
    assert mesh.pickable_object_name == exp["pickable_object_name"], where
    assert bool(getattr(mesh, "read_only", False)) is exp["read_only"], where
    scene = mesh.mesh
    assert type(scene).__name__ == exp["loaded_type"], where
    assert isinstance(scene, trimesh.Scene), where
    geoms = list(scene.geometry.values())
    assert len(geoms) == exp["n_geometries"], where
    assert sum(len(g.vertices) for g in geoms) == exp["vertices"], where
    assert sum(len(g.faces) for g in geoms) == exp["faces"], where
    verts = np.concatenate([g.vertices for g in geoms])
    assert math.isclose(float(verts.sum()), exp["vertex_sum"], rel_tol=rtol), where
    np.testing.assert_allclose(np.asarray(scene.bounds), exp["bounds"], rtol=rtol)


def object_has_map(obj: Any) -> bool:
    store = obj.zarr()
    return store is not None and ".zattrs" in store


# --------------------------------------------------------------------------------------------
# fixtures: each reference project opened through each entry point
# --------------------------------------------------------------------------------------------


@pytest.fixture(params=["project", "overlay_variant"])
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def variant_config(request: pytest.FixtureRequest, variant: str) -> str:
    name = "fixture_config" if variant == "project" else "fixture_overlay_config"
    return request.getfixturevalue(name)


@pytest.fixture(params=list(OPENERS))
def reference_root(request: pytest.FixtureRequest, variant_config: str) -> Any:
    """The reference project (both variants) opened with both ``from_file`` entry points."""
    return OPENERS[request.param](variant_config)


@pytest.fixture
def reference_expected(expected: dict[str, Any], variant: str) -> dict[str, Any]:
    return expected[variant]


@pytest.fixture
def rtol(expected: dict[str, Any]) -> float:
    return expected["tolerance"]["sum_rtol"]


# --------------------------------------------------------------------------------------------
# opening, objects, runs, voxel spacings
# --------------------------------------------------------------------------------------------


def test_reference_config_opens_with_both_entry_points(variant_config: str) -> None:
    for name, opener in OPENERS.items():
        root = opener(variant_config)
        assert isinstance(root, CopickRootFSSpec), name
    cfg = json.loads(Path(variant_config).read_text())
    root = copick.from_file(variant_config)
    assert root.config.name == cfg["name"]
    assert root.config.description == cfg["description"]
    assert root.config.user_id == cfg.get("user_id")
    assert root.config.session_id == cfg.get("session_id")
    assert root.user_id == cfg.get("user_id")
    assert root.session_id == cfg.get("session_id")
    assert root.static_is_overlay is ("static_root" not in cfg)


def test_objects_of_the_reference_config_keep_every_field(
    reference_root: Any, reference_expected: dict[str, Any]
) -> None:
    exp_objects = reference_expected["objects"]
    assert [o.name for o in reference_root.pickable_objects] == [o["name"] for o in exp_objects]
    for exp in exp_objects:
        obj = reference_root.get_object(exp["name"])
        assert obj is not None, exp["name"]
        facts = {f: getattr(obj, f) for f in OBJECT_FIELDS}
        facts["color"] = list(facts["color"]) if facts["color"] is not None else None
        assert facts == {f: exp[f] for f in OBJECT_FIELDS}, exp["name"]
        assert bool(getattr(obj, "read_only", False)) is exp["read_only"], exp["name"]
        # the meta model carries the same values
        assert obj.meta.name == exp["name"]
        assert obj.meta.label == exp["label"]
    assert reference_root.get_object("no-such-object") is None


def test_objects_report_a_density_map_only_where_the_reference_wrote_one(
    reference_root: Any, reference_expected: dict[str, Any]
) -> None:
    for exp in reference_expected["objects"]:
        obj = reference_root.get_object(exp["name"])
        assert object_has_map(obj) is exp["has_map"], exp["name"]
        if not exp["is_particle"]:
            assert obj.zarr() is None, exp["name"]


def test_runs_are_listed_in_reference_order(reference_root: Any, reference_expected: dict[str, Any]) -> None:
    assert [r.name for r in reference_root.runs] == reference_expected["runs"]
    for name in reference_expected["runs"]:
        run = reference_root.get_run(name)
        assert run is not None and run.name == name
    assert reference_root.get_run("TS_999") is None


def test_runs_found_before_listing(variant_config: str, reference_expected: dict[str, Any]) -> None:
    root = copick.from_file(variant_config)  # get_run before root.runs: an existence check only
    for name in reference_expected["runs"]:
        run = root.get_run(name)
        assert run is not None and run.name == name
    assert root.get_run("TS_999") is None


def test_voxel_spacings_written_by_reference_are_listed(
    reference_root: Any, reference_expected: dict[str, Any]
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        sizes = sorted(vs.voxel_size for vs in run.voxel_spacings)
        assert sizes == detail["voxel_spacings"], run_name
        for size in detail["voxel_spacings"]:
            vs = run.get_voxel_spacing(size)
            assert vs is not None and vs.voxel_size == size, (run_name, size)
        assert run.get_voxel_spacing(123.0) is None


def test_voxel_spacing_lookup_accepts_an_int_and_compares_exactly(variant_config: str) -> None:
    run = copick.from_file(variant_config).get_run("TS_001")
    vs = run.get_voxel_spacing(10)  # before listing: an existence check of VoxelSpacing10.000
    assert vs is not None and vs.voxel_size == 10.0
    assert [v.voxel_size for v in run.voxel_spacings] == [10.0] or len(run.voxel_spacings) == 2
    # once listed, lookups compare floats exactly (FORMAT.md §4)
    assert run.get_voxel_spacing(10).voxel_size == 10.0
    assert run.get_voxel_spacing(10.0001) is None


# --------------------------------------------------------------------------------------------
# picks
# --------------------------------------------------------------------------------------------


def test_picks_written_by_reference_open_here(
    reference_root: Any, reference_expected: dict[str, Any], rtol: float
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        listed = sorted(run.picks, key=picks_key)
        assert [picks_key(p) for p in listed] == [
            (e["user_id"], e["session_id"], e["pickable_object_name"], e["read_only"])
            for e in detail["picks"]
        ], run_name
        for picks, exp in zip(listed, detail["picks"], strict=True):
            assert_picks_match(picks, exp, rtol, f"{run_name}/{picks_key(picks)}")


def test_picks_found_by_filters_match_the_reference(
    reference_root: Any, reference_expected: dict[str, Any], rtol: float
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        for exp in detail["picks"]:
            found = run.get_picks(
                object_name=exp["pickable_object_name"], user_id=exp["user_id"], session_id=exp["session_id"]
            )
            same_ro = [p for p in found if bool(getattr(p, "read_only", False)) is exp["read_only"]]
            assert len(same_ro) == 1, (run_name, exp["user_id"], exp["pickable_object_name"])
            assert_picks_match(same_ro[0], exp, rtol, f"{run_name}/get_picks")


def test_picks_filters_accept_strings_and_lists(fixture_config: str) -> None:
    run = copick.from_file(fixture_config).get_run("TS_001")
    assert len(run.picks) == 4
    assert sorted(p.user_id for p in run.get_picks(object_name="proteasome")) == ["alice", "good.picker"]
    assert sorted(p.pickable_object_name for p in run.get_picks(user_id=["alice", "bob"])) == [
        "apo-ferritin",
        "proteasome",
        "ribosome",
    ]
    assert [p.user_id for p in run.get_picks(session_id="0")] == ["good.picker"]
    assert run.get_picks(object_name="proteasome", user_id="bob") == []
    assert [p.user_id for p in run.tool_picks()] == ["good.picker"]
    # no config user_id: user_picks() are all picks made by users (session != "0")
    assert sorted(p.user_id for p in run.user_picks()) == ["alice", "alice", "bob"]


def test_user_picks_follow_the_config_user_in_the_overlay_variant(fixture_overlay_config: str) -> None:
    run = copick.from_file(fixture_overlay_config).get_run("TS_001")
    assert {p.user_id for p in run.user_picks()} == {"alice"}
    assert sorted(bool(p.read_only) for p in run.tool_picks()) == [False, True]


def test_empty_picks_file_of_the_reference_reads_as_no_points(fixture_config: str) -> None:
    run = copick.from_file(fixture_config).get_run("TS_001")
    (picks,) = run.get_picks(object_name="apo-ferritin")
    assert picks.points == []
    positions, transforms = picks.numpy()
    assert positions.shape == (0, 3)
    assert transforms.shape == (0, 4, 4)


def test_pick_with_a_translation_column_shifts_its_full_position(fixture_config: str) -> None:
    run = copick.from_file(fixture_config).get_run("TS_001")
    (picks,) = run.get_picks(object_name="proteasome", user_id="alice")
    second = picks.points[1]
    assert (second.location.x, second.location.y, second.location.z) == (499.12, 602.94, 403.25)
    assert second.transformation[:3, 3].tolist() == [1.5, -2.0, 0.25]
    assert picks.full_positions()[1].tolist() == pytest.approx([500.62, 600.94, 403.5])
    assert (second.instance_id, second.score) == (2, 0.8)


# --------------------------------------------------------------------------------------------
# meshes
# --------------------------------------------------------------------------------------------


def test_meshes_written_by_reference_load_as_scenes(
    reference_root: Any, reference_expected: dict[str, Any], rtol: float
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        listed = sorted(run.meshes, key=mesh_key)
        assert [mesh_key(m) for m in listed] == [
            (e["user_id"], e["session_id"], e["pickable_object_name"]) for e in detail["meshes"]
        ], run_name
        for mesh, exp in zip(listed, detail["meshes"], strict=True):
            assert_mesh_matches(mesh, exp, rtol, f"{run_name}/{mesh_key(mesh)}")


def test_meshes_found_by_filters(fixture_config: str) -> None:
    run = copick.from_file(fixture_config).get_run("TS_001")
    assert [m.user_id for m in run.get_meshes(object_name="membrane", user_id="alice")] == ["alice"]
    assert run.get_meshes(object_name="membrane", user_id="bob") == []
    assert [m.pickable_object_name for m in run.user_meshes()] == ["membrane"]
    assert run.tool_meshes() == []


# --------------------------------------------------------------------------------------------
# the tour of API.md §0 (the parts that need no volumes) and the "random points" snippet
# --------------------------------------------------------------------------------------------


def test_tour_of_runs_picks_and_meshes(fixture_config: str) -> None:
    import trimesh

    root = copick.from_file(fixture_config)
    assert [(o.name, o.label) for o in root.pickable_objects] == [
        ("proteasome", 1),
        ("ribosome", 2),
        ("membrane", 3),
        ("apo-ferritin", 4),
    ]
    assert [run.name for run in root.runs] == ["TS_001", "TS_002", "TS_100"]
    run = root.get_run("TS_001")
    assert root.get_run("missing") is None
    vs = run.get_voxel_spacing(10.000)
    assert vs is not None and vs.voxel_size == 10.0
    picks = run.get_picks(object_name="proteasome", user_id="alice")[0]
    xyz = [(p.location.x, p.location.y, p.location.z) for p in picks.points]
    assert len(xyz) == 5
    assert xyz[0] == (253.81, 296.29, 197.89)
    assert xyz[-1] == (146.52, 201.17, 499.14)
    scene = run.get_meshes(object_name="membrane", user_id="alice")[0].mesh
    assert isinstance(scene, trimesh.Scene)
    (geom,) = scene.geometry.values()
    assert (len(geom.vertices), len(geom.faces)) == (42, 80)


def test_random_points_snippet_stores_picks_that_reopen(fixture_config: str) -> None:
    root = copick.from_file(fixture_config)
    run = root.get_run("TS_002")
    assert run.get_picks(object_name="proteasome", user_id="carol", session_id="7") == []
    rng = np.random.default_rng(0)
    coords = rng.uniform(0, 500, size=(6, 3)).round(3)
    picks = run.new_picks(object_name="proteasome", user_id="carol", session_id="7")
    picks.points = [CopickPoint(location=CopickLocation(x=x, y=y, z=z)) for x, y, z in coords.tolist()]
    picks.store()

    path = Path(fixture_config).parent / "ExperimentRuns/TS_002/Picks/carol_7_proteasome.json"
    data = json.loads(path.read_text())
    assert list(data) == [
        "pickable_object_name",
        "user_id",
        "session_id",
        "run_name",
        "voxel_spacing",
        "unit",
        "points",
        "trust_orientation",
    ]
    assert (data["pickable_object_name"], data["user_id"], data["session_id"]) == ("proteasome", "carol", "7")
    assert data["run_name"] == "TS_002"
    assert list(data["points"][0]) == ["location", "transformation_", "instance_id", "score"]

    again = copick.from_file(fixture_config).get_run("TS_002")
    (reread,) = again.get_picks(object_name="proteasome", user_id="carol", session_id="7")
    assert [[p.location.x, p.location.y, p.location.z] for p in reread.points] == coords.tolist()
    assert all(p.instance_id == 0 and p.score == 1.0 for p in reread.points)
    assert all(np.array_equal(p.transformation, np.eye(4)) for p in reread.points)


# --------------------------------------------------------------------------------------------
# the static + overlay variant: layering as copick 1.31.0 showed it
# --------------------------------------------------------------------------------------------


def _static_dir(config_path: str) -> Path:
    return Path(config_path).parent / "static"


def _overlay_dir(config_path: str) -> Path:
    return Path(config_path).parent / "overlay"


def test_overlay_lists_both_copies_of_a_picks_file_present_in_both_layers(
    fixture_overlay_config: str,
) -> None:
    run = copick.from_file(fixture_overlay_config).get_run("TS_001")
    copies = run.get_picks(object_name="proteasome", user_id="good.picker", session_id="0")
    assert len(copies) == 2
    by_ro = {bool(p.read_only): p for p in copies}
    assert len(by_ro[True].points) == 2
    assert len(by_ro[False].points) == 1


def test_overlay_run_and_objects_follow_their_layer(fixture_overlay_config: str) -> None:
    root = copick.from_file(fixture_overlay_config)
    assert [r.name for r in root.runs] == ["TS_001", "TS_002", "TS_003"]
    assert root.get_run("TS_003") is not None
    ro = {o.name: bool(o.read_only) for o in root.pickable_objects}
    assert ro == {"proteasome": True, "ribosome": False, "membrane": False, "apo-ferritin": False}
    assert not root.static_is_overlay
    assert root.root_static == str(_static_dir(fixture_overlay_config))
    assert root.root_overlay == str(_overlay_dir(fixture_overlay_config))


def test_static_picks_refuse_writes_and_stay_unchanged(
    fixture_overlay_config: str, static_digest: Callable[[Any], dict[str, bytes]]
) -> None:
    before = static_digest(_static_dir(fixture_overlay_config))
    run = copick.from_file(fixture_overlay_config).get_run("TS_001")
    (static,) = [p for p in run.get_picks(user_id="good.picker") if p.read_only]
    assert len(static.points) == 2
    with pytest.raises(PermissionError):
        static.store()
    static.points = []
    with pytest.raises(PermissionError):
        static.store()
    with pytest.raises(PermissionError):
        static.from_numpy(np.zeros((1, 3)))
    with pytest.raises(PermissionError):
        static.delete()
    assert static_digest(_static_dir(fixture_overlay_config)) == before
    again = copick.from_file(fixture_overlay_config).get_run("TS_001")
    (reread,) = [p for p in again.get_picks(user_id="good.picker") if p.read_only]
    assert len(reread.points) == 2


def test_overlay_picks_are_writable_and_land_in_the_overlay(
    fixture_overlay_config: str, static_digest: Callable[[Any], dict[str, bytes]]
) -> None:
    before = static_digest(_static_dir(fixture_overlay_config))
    run = copick.from_file(fixture_overlay_config).get_run("TS_001")
    (writable,) = [p for p in run.get_picks(user_id="good.picker") if not p.read_only]
    writable.from_numpy(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]))
    fresh = run.new_picks("ribosome", "1")  # user from the config: alice
    assert fresh.user_id == "alice"
    fresh.from_numpy([[10.0, 20.0, 30.0]], scores=np.array([0.5]))
    overlay_picks = _overlay_dir(fixture_overlay_config) / "ExperimentRuns/TS_001/Picks"
    assert (overlay_picks / "alice_1_ribosome.json").is_file()
    assert static_digest(_static_dir(fixture_overlay_config)) == before

    again = copick.from_file(fixture_overlay_config).get_run("TS_001")
    (reread,) = [p for p in again.get_picks(user_id="good.picker") if not p.read_only]
    assert reread.numpy()[0].tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    (ribo,) = again.get_picks(object_name="ribosome", user_id="alice")
    assert ribo.scores().tolist() == [0.5]


def test_new_picks_matching_a_static_set_is_a_duplicate(fixture_overlay_config: str) -> None:
    run = copick.from_file(fixture_overlay_config).get_run("TS_001")
    with pytest.raises(ValueError):
        run.new_picks("proteasome", "0", user_id="good.picker")
    existing = run.new_picks("proteasome", "0", user_id="good.picker", exist_ok=True)
    assert existing.pickable_object_name == "proteasome" and existing.user_id == "good.picker"


def test_new_run_and_voxel_spacing_existing_only_in_static_are_duplicates(
    fixture_overlay_config: str, static_digest: Callable[[Any], dict[str, bytes]]
) -> None:
    before = static_digest(_static_dir(fixture_overlay_config))
    root = copick.from_file(fixture_overlay_config)
    with pytest.raises(ValueError):
        root.new_run("TS_002")
    with pytest.raises(ValueError):
        root.get_run("TS_002").new_voxel_spacing(10.0)
    run = root.new_run("TS_004")
    run.new_voxel_spacing(5.0)
    assert (_overlay_dir(fixture_overlay_config) / "ExperimentRuns/TS_004/VoxelSpacing5.000").is_dir()
    assert not (_static_dir(fixture_overlay_config) / "ExperimentRuns/TS_004").exists()
    assert static_digest(_static_dir(fixture_overlay_config)) == before
    assert [r.name for r in copick.from_file(fixture_overlay_config).runs] == [
        "TS_001",
        "TS_002",
        "TS_003",
        "TS_004",
    ]
