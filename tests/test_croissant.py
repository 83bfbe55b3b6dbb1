"""The mlcroissant backend: a project described by an ML-Croissant manifest opens with the same runs,
spacings, tomograms, feature maps, picks, meshes and segmentations as the project opened from its
folders, each run with its ML split; writes go to the overlay (the manifest's data stay read-only),
or, without an overlay, beside the data. Manifests written by copick 1.31.0 (its ``copick config
export-croissant``, run as a subprocess) open here; see ``test_croissant_export.py`` for ours.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import copick
from cli_helpers import new_local_project
from copick.errors import ReadOnlyError
from croissant_describe import describe

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

import refenv  # noqa: E402

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 120.0},
    {"name": "membrane", "is_particle": False, "label": 2},
]
RUNS = ("TS_001", "TS_002", "TS_003")
SPLITS = ["--split", "train=TS_001,TS_002", "--split", "val=TS_003"]


def make_project(folder: Path) -> str:
    """A local project: 3 runs, each with a tomogram and its feature map, picks, a mesh and a mask."""
    import trimesh

    config, root = new_local_project(folder, OBJECTS)
    rng = np.random.default_rng(7)
    for name in RUNS:
        run = root.new_run(name)
        tomogram = run.new_voxel_spacing(10.0).new_tomogram("wbp")
        tomogram.from_numpy(rng.random((8, 16, 16), dtype=np.float32))
        tomogram.new_features("sobel").from_numpy(rng.random((2, 8, 16, 16), dtype=np.float32))
        run.new_picks("ribosome", "1", "alice").from_numpy(rng.random((4, 3)) * 100)
        mesh = run.new_mesh("membrane", "1", "bob")
        mesh.mesh = trimesh.creation.box()
        mesh.store()
        mask = (rng.random((8, 16, 16)) > 0.5).astype(np.uint8)
        run.new_segmentation(10.0, "membrane", "1", False, "carol").from_numpy(mask)
    return config


def expected(config: str, splits: dict[str, str]) -> dict:
    """What the project holds, read from its folders, with the runs' splits."""
    found = describe(copick.from_file(config))
    for name, run in found["runs"].items():
        run["split"] = splits.get(name)
    return found


SPLIT_OF = {"TS_001": "train", "TS_002": "train", "TS_003": "val"}


def reference_export(config: str, project: Path, *args: str) -> Path:
    """``copick config export-croissant`` of copick 1.31.0 on the project; the manifest's path."""
    script = Path(refenv.reference_python(skip_if_unavailable=True)).parent / "copick"
    command = [str(script), "config", "export-croissant", "--config", config, "--project-root", str(project)]
    proc = subprocess.run(
        [*command, "--base-url", project.as_uri() + "/", *args],
        capture_output=True, text=True, env=refenv.clean_env(), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return project / "Croissant" / "metadata.json"


@pytest.fixture(scope="module")
def reference_manifest(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A project and the manifest copick 1.31.0 writes for it (runs split train/train/val)."""
    folder = tmp_path_factory.mktemp("ref-croissant")
    config = make_project(folder)
    return config, reference_export(config, folder / "proj", *SPLITS)


def test_manifest_written_by_reference_opens_here(reference_manifest, tmp_path):
    config, manifest = reference_manifest
    root = copick.from_croissant(str(manifest), overlay_root=str(tmp_path / "overlay"))
    assert type(root).__name__ == "CopickRootMLC" and root.mode == "B"
    assert describe(root) == expected(config, SPLIT_OF)
    assert root.splits == {"train": ["TS_001", "TS_002"], "val": ["TS_003"]}
    assert [r.name for r in root.get_runs_in_split("train")] == ["TS_001", "TS_002"]
    assert root.config.name == copick.from_file(config).config.name
    fresh = copick.from_croissant(str(manifest), overlay_root=str(tmp_path / "overlay"))
    assert describe(pickle.loads(pickle.dumps(fresh))) == describe(root)  # roots go to process pools


def test_config_of_type_mlcroissant_opens_the_manifest(reference_manifest, tmp_path):
    config, manifest = reference_manifest
    path = tmp_path / "mlc.json"
    document = {"config_type": "mlcroissant", "pickable_objects": [], "croissant_url": str(manifest)}
    path.write_text(json.dumps({**document, "overlay_root": str(tmp_path / "overlay")}))
    root = copick.from_file(str(path))
    assert type(root.runs[0]).__name__ == "CopickRunMLC"
    assert [o.name for o in root.pickable_objects] == ["ribosome", "membrane"]
    assert describe(root) == expected(config, SPLIT_OF)
    copick.from_croissant(str(manifest), output_path=str(tmp_path / "saved.json"))
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["config_type"] == "mlcroissant" and saved["croissant_url"] == str(manifest)


def test_writes_go_to_the_overlay_and_the_data_stay_read_only(reference_manifest, tmp_path):
    _, manifest = reference_manifest
    overlay = tmp_path / "overlay"
    before = sorted(p.relative_to(manifest.parents[1]) for p in manifest.parents[1].rglob("*"))
    root = copick.from_croissant(str(manifest), overlay_root=str(overlay))
    run = root.get_run("TS_001")
    with pytest.raises(ReadOnlyError, match="Croissant manifest"):
        run.picks[0].from_numpy(np.zeros((1, 3)))
    run.new_picks("ribosome", "2", "dave").from_numpy(np.ones((3, 3)))
    root.new_run("TS_NEW").new_voxel_spacing(10.0)
    assert (overlay / "ExperimentRuns/TS_001/Picks/dave_2_ribosome.json").is_file()
    after = sorted(p.relative_to(manifest.parents[1]) for p in manifest.parents[1].rglob("*"))
    assert after == before
    again = copick.from_croissant(str(manifest), overlay_root=str(overlay))
    assert [r.name for r in again.runs] == [*RUNS, "TS_NEW"]
    assert again.get_run("TS_NEW").split is None
    picks = {(p.user_id, p.read_only) for p in again.get_run("TS_001").picks}
    assert picks == {("alice", True), ("dave", False)}


def test_without_overlay_new_entities_are_written_beside_the_data(reference_manifest, tmp_path):
    _, manifest = reference_manifest
    project = tmp_path / "proj"
    shutil.copytree(manifest.parents[1], project)
    base = project.as_uri() + "/"
    root = copick.from_croissant(str(project / "Croissant/metadata.json"), croissant_base_url=base)
    assert root.mode == "A"
    root.get_run("TS_002").new_picks("ribosome", "2", "dave").from_numpy(np.ones((3, 3)))
    assert (project / "ExperimentRuns/TS_002/Picks/dave_2_ribosome.json").is_file()
    again = copick.from_croissant(str(project / "Croissant/metadata.json"), croissant_base_url=base)
    assert sorted(p.user_id for p in again.get_run("TS_002").picks) == ["alice", "dave"]
    assert [r.name for r in again.runs] == list(RUNS)
