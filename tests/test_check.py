"""``copick check``: a project seeded with every kind of damage is reported finding by finding, with
the right severity; ``--fix`` repairs what it may and nothing else; a clean project is clean."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import copick
from copick.cli.check import check as check_command
from copick.ops.check import check_project

OBJECTS = [
    {"name": "proteasome", "is_particle": True, "label": 1, "color": [255, 0, 0, 255]},
    {"name": "ribosome", "is_particle": True, "label": 2, "color": [0, 255, 0, 255]},
    {"name": "membrane", "is_particle": False, "label": 3, "color": [0, 0, 255, 255]},
]
HOUR_AGO = time.time() - 3600


def build_clean(base: Path, static: bool = False) -> str:
    """A healthy project (optionally over a static layer): 2 runs, tomogram, picks, mesh, segmentation."""
    config = base / "config.json"
    copick.new_config(str(config), str(base / "overlay"), pickable_objects=OBJECTS)
    root = copick.from_file(str(config))
    rng = np.random.default_rng(0)
    for name in ("TS_001", "TS_002"):
        run = root.new_run(name)
        vs = run.new_voxel_spacing(10.0)
        vs.new_tomogram("wbp").from_numpy(rng.normal(size=(16, 24, 20)).astype(np.float32), levels=2)
        run.new_picks("ribosome", "1", "alice").from_numpy(rng.uniform(0, 150, (5, 3)))
        run.new_mesh("membrane", "1", "alice")
        labels = np.zeros((16, 24, 20), np.uint8)
        labels[4:8, 4:8, 4:8] = 2
        run.new_segmentation(10.0, "cells", "1", is_multilabel=True, user_id="alice").from_numpy(labels)
    if static:
        shutil.copytree(base / "overlay", base / "static")
        data = json.loads(config.read_text())
        data["static_root"] = "local://" + str(base / "static")
        config.write_text(json.dumps(data, indent=4))
        # only TS_001's picks stay in both layers (a shadow); the rest of the overlay moves to static
        shutil.rmtree(base / "overlay" / "ExperimentRuns" / "TS_002")
        for rel in ("VoxelSpacing10.000", "Meshes", "Segmentations"):
            shutil.rmtree(base / "overlay" / "ExperimentRuns" / "TS_001" / rel)
    return str(config)


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _write(path: Path, data: bytes | str, old: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if old:
        os.utime(path, (HOUR_AGO, HOUR_AGO))


def _edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# (code, path relative to the project base, severity): everything seeded below, each exactly once
EXPECTED = {
    ("config-object", "config.json", "error"),
    ("config-duplicate-name", "config.json", "error"),
    ("config-duplicate-label", "config.json", "warning"),
    ("config-id", "config.json", "error"),
    ("run-name", "overlay/ExperimentRuns/bad\\name", "error"),
    ("stray", "overlay/ExperimentRuns/notes.txt", "warning"),
    ("stray", "overlay/ExperimentRuns/TS_002/Picks/notes.txt", "warning"),
    ("stray", "overlay/ExperimentRuns/TS_002/VoxelSpacingabc", "warning"),
    ("leftover", "overlay/ExperimentRuns/TS_002/Picks/.alice_1_ribosome.json.k2j4h6x0.tmp", "warning"),
    (
        "leftover",
        "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/.wbp.zarr.0badc0de-999999999-1-abc123.tmp",
        "warning",
    ),
    ("leftover", "static/ExperimentRuns/TS_001/Picks/.alice_1_ribosome.json.q1w2e3r4.tmp", "warning"),
    ("write-in-progress", "overlay/ExperimentRuns/TS_002/Meshes/.alice_1_membrane.glb.openfile.tmp", "info"),
    ("empty-folder", "overlay/ExperimentRuns/TS_002/InstanceSegmentations", "info"),
    ("image-empty", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/empty.zarr", "warning"),
    ("picks-unreadable", "overlay/ExperimentRuns/TS_002/Picks/alice_1_proteasome.json", "error"),
    ("picks-non-finite", "overlay/ExperimentRuns/TS_002/Picks/bob_1_ribosome.json", "error"),
    ("unknown-object", "overlay/ExperimentRuns/TS_002/Picks/alice_1_ghost.json", "warning"),
    ("identity-mismatch", "overlay/ExperimentRuns/TS_002/Picks/carol_1_ribosome.json", "warning"),
    ("mesh-unreadable", "overlay/ExperimentRuns/TS_002/Meshes/alice_1_membrane.glb", "error"),
    ("filaments-unreadable", "overlay/ExperimentRuns/TS_002/Filaments/alice_1_ribosome.json", "error"),
    ("ome-invalid", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/noaxes.zarr", "error"),
    ("level-missing", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/nolevel.zarr", "error"),
    ("level-shape", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/shape.zarr", "error"),
    ("level-scale", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/scale.zarr", "error"),
    ("chunk-unreadable", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/chunk.zarr/0/0/0/0", "error"),
    ("image-incomplete", "overlay/ExperimentRuns/TS_002/VoxelSpacing10.000/nogroup.zarr", "error"),
    ("voxel-size-mismatch", "overlay/ExperimentRuns/TS_002/VoxelSpacing20.000/wbp.zarr", "warning"),
    (
        "seg-dtype",
        "overlay/ExperimentRuns/TS_002/Segmentations/10.000_alice_1_floaty-multilabel.zarr",
        "error",
    ),
    (
        "seg-labels",
        "overlay/ExperimentRuns/TS_002/Segmentations/10.000_alice_1_seven-multilabel.zarr",
        "warning",
    ),
    ("unknown-object", "overlay/ExperimentRuns/TS_002/Segmentations/10.000_alice_1_ghost.zarr", "warning"),
    ("shadowed", "overlay/ExperimentRuns/TS_001/Picks/alice_1_ribosome.json", "warning"),
}
FIXED = {
    "leftover",
    "empty-folder",
    "image-empty",
    "picks-unreadable",
    "picks-non-finite",
    "mesh-unreadable",
    "filaments-unreadable",
}


def seed_damage(base: Path) -> Any:
    """Damage a clean static+overlay project in every way ``EXPECTED`` lists; returns an open file that
    must stay open while the project is checked (a write in progress)."""
    over = base / "overlay" / "ExperimentRuns"
    run = over / "TS_002"
    static_run = base / "static" / "ExperimentRuns" / "TS_001"
    shutil.move(base / "static" / "ExperimentRuns" / "TS_002", run)
    vs = run / "VoxelSpacing10.000"
    labels = np.zeros((16, 24, 20), np.uint8)
    labels[0, 0, 0] = 7
    root = copick.from_file(str(base / "config.json"))
    ts2 = root.get_run("TS_002")
    ts2.new_segmentation(10.0, "seven", "1", is_multilabel=True, user_id="alice").from_numpy(labels)
    ts2.new_segmentation(10.0, "ribosome", "1", user_id="alice").from_numpy(labels == 7)

    def config(data: dict) -> None:
        data["pickable_objects"] += [
            {"name": "bad_name", "is_particle": True, "label": 9},
            {"name": "ribosome", "is_particle": True, "label": 8},
            {"name": "actin", "is_particle": True, "label": 2},
        ]
        data["user_id"] = "a_b"

    _edit_json(base / "config.json", config)
    (over / "bad\\name").mkdir()
    _write(over / "notes.txt", "hello")
    _write(run / "Picks" / "notes.txt", "hello")
    (run / "VoxelSpacingabc").mkdir()
    _write(run / "Picks" / ".alice_1_ribosome.json.k2j4h6x0.tmp", b'{"half', old=True)
    staged = vs / ".wbp.zarr.0badc0de-999999999-1-abc123.tmp"
    shutil.copytree(vs / "wbp.zarr", staged)
    _write(static_run / "Picks" / ".alice_1_ribosome.json.q1w2e3r4.tmp", b"{", old=True)
    in_progress = open(run / "Meshes" / ".alice_1_membrane.glb.openfile.tmp", "wb")  # noqa: SIM115
    (run / "InstanceSegmentations").mkdir()
    (vs / "empty.zarr").mkdir()
    good = (run / "Picks" / "alice_1_ribosome.json").read_text()
    _write(run / "Picks" / "alice_1_proteasome.json", good[: len(good) // 2])
    _write(run / "Picks" / "bob_1_ribosome.json", good.replace('"x": ', '"x": NaN, "_x": ', 1))
    _write(run / "Picks" / "alice_1_ghost.json", good.replace('"ribosome"', '"ghost"'))
    _write(run / "Picks" / "carol_1_ribosome.json", good)  # the JSON says alice
    _write(run / "Meshes" / "alice_1_membrane.glb", b"glTF\x02\x00\x00\x00" + b"\x00" * 30)
    _write(run / "Filaments" / "alice_1_ribosome.json", "{}")
    for name in ("noaxes", "nolevel", "shape", "scale", "chunk", "nogroup"):
        shutil.copytree(vs / "wbp.zarr", vs / f"{name}.zarr")
    _edit_json(vs / "noaxes.zarr" / ".zattrs", lambda d: d["multiscales"][0].pop("axes"))
    (vs / "nolevel.zarr" / "1" / ".zarray").unlink()
    _edit_json(vs / "shape.zarr" / "1" / ".zarray", lambda d: d.update(shape=[3, 3, 3]))
    _edit_json(
        vs / "scale.zarr" / ".zattrs",
        lambda d: d["multiscales"][0]["datasets"][1]["coordinateTransformations"][0].update(scale=[30.0] * 3),
    )
    chunk = vs / "chunk.zarr" / "0" / "0" / "0" / "0"
    chunk.write_bytes(chunk.read_bytes()[:40] + b"\x00" * 50)
    (vs / "nogroup.zarr" / ".zgroup").unlink()
    shutil.copytree(vs / "wbp.zarr", run / "VoxelSpacing20.000" / "wbp.zarr")
    segs = run / "Segmentations"
    shutil.copytree(vs / "wbp.zarr", segs / "10.000_alice_1_floaty-multilabel.zarr")
    (segs / "10.000_alice_1_ribosome.zarr").rename(segs / "10.000_alice_1_ghost.zarr")
    return in_progress


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, Any]:
    build_clean(tmp_path, static=True)
    handle = seed_damage(tmp_path)
    yield tmp_path, handle
    handle.close()


def _found(report: Any, base: Path) -> list[tuple[str, str, str]]:
    return sorted((f.code, os.path.relpath(f.path, base), f.severity) for f in report.findings)


def test_every_kind_of_damage_is_found_once_with_its_severity(damaged: tuple[Path, Any]) -> None:
    base, _ = damaged
    report = check_project(str(base / "config.json"))
    assert _found(report, base) == sorted(EXPECTED)
    assert not report.ok and all(f.action for f in report.findings)


def test_fix_repairs_what_it_may_and_nothing_else(damaged: tuple[Path, Any]) -> None:
    base, _ = damaged
    report = check_project(str(base / "config.json"))
    fixable = {os.path.relpath(f.path, base) for f in report.findings if f.repair is not None}
    assert fixable == {p for code, p, _ in EXPECTED if code in FIXED and not p.startswith("static/")}
    before = digest(base)
    fixed = check_project(str(base / "config.json"), fix=True)
    after = digest(base)
    assert {os.path.relpath(f.path, base) for f in fixed.findings if f.fixed} == fixable
    quarantine = Path(fixed.quarantine)
    moved = {str(p.relative_to(quarantine)) for p in quarantine.rglob("*") if p.is_file()}
    assert moved == {
        f"ExperimentRuns/TS_002/{p}"
        for p in (
            "Picks/alice_1_proteasome.json",
            "Picks/bob_1_ribosome.json",
            "Meshes/alice_1_membrane.glb",
            "Filaments/alice_1_ribosome.json",
        )
    }
    for rel in moved:  # moved whole, not rewritten
        assert after[str((quarantine / rel).relative_to(base))] == before[f"overlay/{rel}"]
    touched = {p for p in before if any(p == f or p.startswith(f + "/") for f in fixable)}
    untouched = {p: h for p, h in before.items() if p not in touched}
    assert {p: after.get(p) for p in untouched} == untouched
    again = check_project(str(base / "config.json"))
    assert _found(again, base) == sorted(
        e for e in EXPECTED if e[0] not in FIXED or e[1].startswith("static/")
    )


def test_a_clean_project_is_clean_in_text_and_json(tmp_path: Path) -> None:
    config = build_clean(tmp_path)
    runner = CliRunner()
    text = runner.invoke(check_command, ["-c", config])
    assert text.exit_code == 0, text.output
    assert "clean: no problems found" in text.output
    result = runner.invoke(check_command, ["-c", config, "--output", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] and data["clean"] and data["findings"] == []
    assert data["checked"] == {"runs": 2, "annotations": 4, "images": 4, "chunks": 6}


def test_the_command_exits_1_on_errors_and_names_them(damaged: tuple[Path, Any]) -> None:
    base, _ = damaged
    result = CliRunner().invoke(check_command, ["-c", str(base / "config.json"), "--run", "TS_001"])
    assert result.exit_code == 1
    assert "ERROR   config-duplicate-name" in result.output and "TS_002" not in result.output
    data = json.loads(
        CliRunner()
        .invoke(check_command, ["-c", str(base / "config.json"), "-r", "nope", "--output", "json"])
        .stdout
    )
    assert ("run-missing", "error") in {(f["code"], f["severity"]) for f in data["findings"]}


def test_check_and_fix_on_an_object_store() -> None:
    """The same checks through fsspec (memory://): one recursive listing per run, moves by copy."""
    name = f"memory:///check-{os.getpid()}-{time.time_ns()}"
    cfg = {"config_type": "filesystem", "pickable_objects": OBJECTS[:2], "overlay_root": name}
    root = copick.from_string(json.dumps(cfg))
    run = root.new_run("TS_1")
    run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.zeros((16, 16, 16), np.float32), levels=2)
    run.get_voxel_spacing(10.0).new_tomogram("empty")  # a never-written image: a .copick-new marker
    run.new_picks("ribosome", "1", "alice").from_numpy(np.ones((3, 3)))
    root._storage.overlay.write_bytes("ExperimentRuns/TS_1/Picks/alice_1_proteasome.json", b"{")
    report = check_project(root, fix=True)
    assert sorted((f.code, f.fixed.split(" ")[0]) for f in report.findings) == [
        ("image-empty", "removed"),
        ("picks-unreadable", "moved"),
    ]
    assert report.quarantine.startswith("memory://") and check_project(root).clean
