"""The catalog seam (``copick.catalog``): folder layers listed as records with ``copick.layout``'s
names, catalogs merged in order (other sources, then static, then overlay), a new backend added as one
more catalog without touching entities, and entities copied through their locators."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick import catalog, layout
from copick.catalog import Locator, Record
from copick.catalog.folders import FolderCatalog
from copick.entities.base import as_filter
from copick.errors import ReadOnlyError
from copick.metadata import CopickPicksFile, CopickRunMeta, CopickTomogramMeta, CopickVoxelSpacingMeta
from copick.storage import Layer, ProjectStorage

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1},
    {"name": "membrane", "is_particle": False, "label": 2},
]


def _project(tmp_path: Path, name: str = "project", static: Path | None = None) -> Any:
    config = {
        "config_type": "filesystem",
        "name": name,
        "pickable_objects": OBJECTS,
        "overlay_root": f"local://{tmp_path / name}",
        "overlay_fs_args": {"auto_mkdir": True},
    }
    if static is not None:
        config["static_root"] = f"local://{static}"
    path = tmp_path / f"{name}.json"
    import json

    path.write_text(json.dumps(config))
    return copick.from_file(str(path))


def _fill(root: Any, run_name: str = "TS_1") -> Any:
    run = root.new_run(run_name)
    vs = run.new_voxel_spacing(10.0)
    tomogram = vs.new_tomogram("wbp")
    tomogram.from_numpy(np.ones((8, 8, 8), np.float32), levels=1)
    tomogram.new_features("sobel")
    run.new_picks("ribosome", "1", user_id="alice").from_numpy(np.array([[1.0, 2.0, 3.0]]))
    run.new_mesh("membrane", "1", user_id="alice")
    run.new_segmentation(10.0, "ribosome", "1", user_id="alice").from_numpy(np.ones((8, 8, 8), np.uint8))
    return run


def _identities(records: list[Record]) -> list[tuple]:
    return [tuple(record.meta.model_dump().values())[:4] for record in records]


def test_a_folder_layer_lists_every_kind_as_records_with_layout_names(tmp_path: Path) -> None:
    _fill(_project(tmp_path))
    run_dir = tmp_path / "project" / "ExperimentRuns" / "TS_1"
    # stray names are never entities: a hidden run, a file among runs, a bad picks name, a loose file
    (tmp_path / "project" / "ExperimentRuns" / ".hidden").mkdir()
    (tmp_path / "project" / "ExperimentRuns" / "notes.txt").write_text("x")
    (run_dir / "Picks" / "stray.json").write_text("{}")
    (run_dir / "VoxelSpacingabc").mkdir()

    folders = FolderCatalog(Layer.from_url(str(tmp_path / "project")))
    assert [r.meta.name for r in folders.records(catalog.RUN)] == ["TS_1"]
    (spacing,) = folders.records(catalog.VOXEL_SPACING, "TS_1")
    assert spacing.meta.voxel_size == 10.0
    assert spacing.locator.path == "ExperimentRuns/TS_1/VoxelSpacing10.000"
    (tomogram,) = folders.records(catalog.TOMOGRAM, "TS_1", 10.0)
    assert tomogram.meta.tomo_type == "wbp"
    assert tomogram.locator.path == "ExperimentRuns/TS_1/VoxelSpacing10.000/wbp.zarr"
    (features,) = folders.records(catalog.FEATURES, "TS_1", 10.0)
    assert (features.meta.tomo_type, features.meta.feature_type) == ("wbp", "sobel")
    (picks,) = folders.records(catalog.PICKS, "TS_1")
    assert (picks.meta.user_id, picks.meta.session_id, picks.meta.pickable_object_name) == (
        "alice",
        "1",
        "ribosome",
    )
    assert picks.locator.path == "ExperimentRuns/TS_1/Picks/alice_1_ribosome.json"
    (mesh,) = folders.records(catalog.MESHES, "TS_1")
    assert mesh.locator.path.endswith("Meshes/alice_1_membrane.glb")
    (seg,) = folders.records(catalog.SEGMENTATION, "TS_1")
    assert (seg.meta.name, seg.meta.voxel_size, seg.meta.is_multilabel) == ("ribosome", 10.0, False)
    assert folders.records(catalog.FILAMENTS, "TS_1") == []
    assert not any(r.read_only or r.source for r in (spacing, tomogram, picks, mesh, seg))


def test_records_of_a_static_layer_are_read_only_and_listed_before_the_overlay(tmp_path: Path) -> None:
    _fill(_project(tmp_path, "static"))
    root = _project(tmp_path, "overlay", static=tmp_path / "static")
    root.get_run("TS_1").new_picks("ribosome", "1", user_id="bob")
    storage = root._storage
    assert [type(c).__name__ for c in storage.sources] == ["FolderCatalog", "FolderCatalog"]
    picks = storage.records(catalog.PICKS, "TS_1")
    assert [(r.meta.user_id, r.read_only) for r in picks] == [("alice", True), ("bob", False)]
    assert [(p.user_id, p.read_only) for p in root.get_run("TS_1").picks] == [("alice", True), ("bob", False)]


def test_a_hand_written_voxel_spacing_folder_lists_its_tomograms(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _fill(root)
    run_dir = tmp_path / "project" / "ExperimentRuns" / "TS_1"
    os.rename(run_dir / "VoxelSpacing10.000", run_dir / "VoxelSpacing10.0")
    root.refresh()
    (vs,) = root.get_run("TS_1").voxel_spacings
    assert vs.voxel_size == 10.0 and vs._dirname == "VoxelSpacing10.0"
    assert [t.tomo_type for t in vs.tomograms] == ["wbp"]
    assert [f.feature_type for f in vs.tomograms[0].features] == ["sobel"]
    assert vs.tomograms[0].numpy().sum() == 8**3


def test_a_feature_map_name_holding_underscores_is_read_by_each_tomogram_its_prefix_names(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    root.new_run("TS_1").new_voxel_spacing(10.0)
    folder = tmp_path / "project" / "ExperimentRuns" / "TS_1" / "VoxelSpacing10.000"
    for name in (
        "my.zarr",
        "my_tomo.zarr",
        "other.zarr",
        "my_tomo_sobel_features.zarr",
    ):  # as 1.31 wrote them
        (folder / name).mkdir()
    (vs,) = root.get_run("TS_1").voxel_spacings
    features = {t.tomo_type: [f.feature_type for f in t.features] for t in vs.tomograms}
    # the one store reads as a feature map of both "my" and "my_tomo", as in copick 1.31
    assert features == {"my": ["tomo_sobel"], "my_tomo": ["sobel"], "other": []}


class MemoryCatalog:
    """A catalog of another source: records kept in memory, bytes in a folder of its own (the shape
    an mlcroissant or any other backend takes)."""

    def __init__(self, blobs: Layer):
        blobs.read_only = True
        picks = CopickPicksFile(pickable_object_name="ribosome", user_id="curator", session_id="7")
        self.index = {
            (catalog.RUN, None): [Record(CopickRunMeta(name="TS_9"), None, "the memory catalog, run TS_9")],
            (catalog.VOXEL_SPACING, "TS_9"): [
                Record(CopickVoxelSpacingMeta(voxel_size=4.0), None, "spacing 4")
            ],
            (catalog.TOMOGRAM, "TS_9", 4.0): [
                Record(
                    CopickTomogramMeta(tomo_type="denoised"), Locator(blobs, "tomo.zarr"), "memory tomogram 1"
                )
            ],
            (catalog.PICKS, "TS_9"): [
                Record(picks, Locator(blobs, "points.json"), "memory picks 1", {"origin": "memory"}, ("Ann",))
            ],
        }

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        key = (kind, run, voxel_size) if kind in (catalog.TOMOGRAM, catalog.FEATURES) else (kind, run)
        return self.index.get(key, [])


def test_a_new_backend_is_one_more_catalog_and_entities_read_and_refuse_writes_through_it(
    tmp_path: Path,
) -> None:
    source = _project(tmp_path, "source")  # where the other source keeps its bytes
    src_run = source.new_run("X")
    src_run.new_picks("ribosome", "1", user_id="u").from_numpy(np.array([[4.0, 5.0, 6.0]]))
    src_tomo = src_run.new_voxel_spacing(4.0).new_tomogram("t")
    src_tomo.from_numpy(np.full((4, 4, 4), 3, np.float32), levels=1)
    blobs = Layer.from_url(str(tmp_path / "blobs"))
    os.makedirs(tmp_path / "blobs")
    os.rename(src_run.get_picks()[0]._location, tmp_path / "blobs" / "points.json")
    os.rename(src_tomo._location, tmp_path / "blobs" / "tomo.zarr")

    root = _project(tmp_path)
    root._storage = ProjectStorage(root._storage.overlay, catalogs=(MemoryCatalog(blobs),))
    root.new_run("TS_1")
    root.refresh()
    assert [r.name for r in root.runs] == ["TS_1", "TS_9"]
    run = root.get_run("TS_9")
    (picks,) = run.picks
    assert picks.read_only and picks.numpy()[0].tolist() == [[4.0, 5.0, 6.0]]
    assert run.get_picks(portal_meta_query={"origin": "memory"}, portal_author_query=["Ann"]) == [picks]
    with pytest.raises(ReadOnlyError, match="memory picks 1.*overlay"):
        picks.store()
    (tomogram,) = run.get_voxel_spacing(4.0).tomograms
    assert tomogram.numpy().sum() == 3 * 4**3
    # the overlay beside it is writable, and a copy of the catalog's picks lands there
    mine = run.new_picks("ribosome", "1", user_id="me")
    mine.copy_from(picks)
    assert mine.numpy()[0].tolist() == [[4.0, 5.0, 6.0]]
    root.refresh()
    assert [(p.user_id, p.read_only) for p in root.get_run("TS_9").picks] == [
        ("curator", True),
        ("me", False),
    ]


def test_entities_copy_from_any_entity_of_their_kind(tmp_path: Path) -> None:
    run = _fill(_project(tmp_path, "a"))
    other = _project(tmp_path, "b").new_run("Z")
    picks = other.new_picks("ribosome", "9", user_id="carol")
    picks.copy_from(run.picks[0])
    assert picks.load().user_id == "carol" and picks.meta.run_name == "Z"
    assert picks.numpy()[0].tolist() == [[1.0, 2.0, 3.0]]
    mesh = other.new_mesh("membrane", "9", user_id="carol")
    mesh.copy_from(run.meshes[0])
    assert Path(mesh._location).read_bytes() == Path(run.meshes[0]._location).read_bytes()
    tomogram = other.new_voxel_spacing(10.0).new_tomogram("wbp")
    tomogram.copy_from(run.voxel_spacings[0].tomograms[0])
    assert tomogram.numpy().sum() == 8**3


def test_one_filter_rule_for_entity_getters_and_project_getters() -> None:
    from copick.kinds import as_set

    assert as_set is as_filter
    assert as_filter(None) is None
    assert as_filter("a") == as_filter(["a"]) == frozenset({"a"})
    assert as_filter(5) == frozenset({5})  # copick.ops.get's single values
    with pytest.raises(TypeError, match="user_id must be a str"):
        as_filter(5, "user_id")


def test_listing_every_kind_of_the_runs_of_an_object_store_lists_them_in_one_round(tmp_path: Path) -> None:
    import fsspec

    url = f"memory://catalog-test-{os.getpid()}-{id(tmp_path)}"
    config = tmp_path / "memory.json"
    import json

    config.write_text(
        json.dumps({"config_type": "filesystem", "pickable_objects": OBJECTS, "overlay_root": url})
    )
    root = copick.from_file(str(config))
    for name in ("TS_1", "TS_2", "TS_3"):
        _fill(root, name)
    root = copick.from_file(str(config))
    layer = root._storage.overlay
    rounds = []
    original = layer._list_subtrees
    layer._list_subtrees = lambda bases: rounds.append(bases) or original(bases)
    try:
        for run in root.runs:
            for vs in run.voxel_spacings:
                for tomogram in vs.tomograms:
                    assert [f.feature_type for f in tomogram.features] == ["sobel"]
            assert len(run.picks) == len(run.meshes) == len(run.segmentations) == 1
    finally:
        fsspec.filesystem("memory").rm(url.split("://", 1)[1], recursive=True)
    assert [[b.rsplit("/", 1)[-1] for b in bases] for bases in rounds] == [["TS_1", "TS_2", "TS_3"]]


def test_layout_parsers_check_each_name_once() -> None:
    layout.parse_annotation_file_name.cache_clear()
    for _ in range(3):
        assert layout.parse_annotation_file_name("alice_1_ribosome.json", ".json") == (
            "alice",
            "1",
            "ribosome",
        )
    assert layout.parse_annotation_file_name("a/b_1_c.json", ".json") is None
    with pytest.raises(TypeError):
        layout.voxel_spacing_dirname(True)  # never cached as 1
