"""``copick deposit``: a view of a project made of symbolic links, in the standard copick layout.

Real projects on disk (a static layer under an overlay), the command run in-process; the view is read
back as a copick project by our library and, when its environment is available, by copick 1.31.0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from cli_helpers import assert_one_error, invoke, new_local_project, ok
from copick.ops.deposit import DepositReport, deposit, deposit_run

pytestmark = pytest.mark.usefixtures("restore_logging")

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 100.0},
    {"name": "membrane", "is_particle": False, "label": 2},
    {"name": "microtubule", "is_particle": True, "label": 3, "metadata": {"copick": {"filament": {}}}},
]
ALL_KINDS = ["--picks", "*:*/*", "--meshes", "*:*/*", "--segmentations", "*:*/*@*", "--tomograms", "*@*",
             "--features", "*@*:*", "--filaments", "*:*/*"]  # fmt: skip
REPO = Path(__file__).resolve().parents[1]


def _fill(run: Any, user: str, images: bool) -> None:
    """Picks, a mesh, a segmentation (and with ``images`` a tomogram with features) of ``user``."""
    import trimesh

    rng = np.random.default_rng(len(run.name) + len(user))
    run.new_picks("ribosome", "1", user).from_numpy(rng.random((4, 3)) * 100)
    mesh = run.new_mesh("membrane", "1", user)
    mesh.mesh = trimesh.creation.box()
    mesh.store()
    vs = run.get_voxel_spacing(10.0) or run.new_voxel_spacing(10.0)
    run.new_segmentation(10.0, "membrane", "1", False, user).from_numpy(np.ones((8, 8, 8), np.uint8))
    if images:
        tomo = vs.new_tomogram("wbp")
        tomo.from_numpy(rng.random((8, 8, 8)).astype(np.float32), levels=1)
        tomo.new_features("cellcanvas").from_numpy(rng.random((2, 8, 8, 8)).astype(np.float32))
        run.new_filaments("microtubule", "1", user).from_numpy([np.array([[0, 0, 0], [1, 1, 1.0]])])


@pytest.fixture
def project(tmp_path: Path) -> str:
    """A project whose static layer holds TS_001..TS_003 (every kind) and whose overlay holds more
    picks, meshes and segmentations in TS_001, TS_002 and TS_004. Returns the config path."""
    static_cfg, static = new_local_project(tmp_path, OBJECTS, config="static.json", overlay="static")
    for name in ("TS_001", "TS_002", "TS_003"):
        _fill(static.new_run(name), "curator", images=True)
    cfg = json.loads(Path(static_cfg).read_text())
    cfg["static_root"], cfg["overlay_root"] = cfg["overlay_root"], f"local://{tmp_path / 'overlay'}"
    cfg["overlay_fs_args"] = {"auto_mkdir": True}
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg))
    root = copick.from_file(str(config))
    for name in ("TS_001", "TS_002", "TS_004"):
        _fill(root.get_run(name) or root.new_run(name), "alice", images=False)
    return str(config)


def links(target: Path) -> dict[str, str]:
    """``{path below target: link text}`` of every symbolic link of the view (not followed)."""
    found = {}
    for folder, dirs, files in os.walk(target):
        for name in dirs + files:
            path = Path(folder, name)
            if path.is_symlink():
                found[str(path.relative_to(target))] = os.readlink(path)
    return found


def view_config(tmp_path: Path, target: Path, name: str = "view.json") -> str:
    """A config whose static root is the deposited view (and an empty overlay)."""
    config = tmp_path / name
    config.write_text(json.dumps({
        "config_type": "filesystem", "name": "view", "version": "1.31.0", "pickable_objects": OBJECTS,
        "static_root": f"local://{target}", "overlay_root": f"local://{tmp_path / 'view-overlay'}",
        "overlay_fs_args": {"auto_mkdir": True},
    }))  # fmt: skip
    return str(config)


def contents(config: str) -> dict[str, Any]:
    """What a project lists, run by run, as URIs of every kind."""
    from copick.util.uri import serialize_copick_uri

    root = copick.from_file(config)
    out = {}
    for run in root.runs:
        entities = [*run.picks, *run.meshes, *run.segmentations, *run.filaments]
        for vs in run.voxel_spacings:
            for tomo in vs.tomograms:
                entities += [tomo, *tomo.features]
        out[run.name] = sorted(f"{type(e).__name__}:{serialize_copick_uri(e)}" for e in entities)
    return out


# --------------------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------------------


def test_every_kind_of_both_layers_is_linked_in_the_standard_layout(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    result = ok(invoke(["deposit", "-c", project, "--target-dir", str(target), *ALL_KINDS]))
    assert "Deposited 4 run(s)" in result.stderr and "27 link(s) made" in result.stderr
    found = links(target)
    run1 = "ExperimentRuns/TS_001"
    static, overlay = tmp_path / "static" / run1, tmp_path / "overlay" / run1
    assert found[f"{run1}/Picks/curator_1_ribosome.json"] == str(static / "Picks/curator_1_ribosome.json")
    assert found[f"{run1}/Picks/alice_1_ribosome.json"] == str(overlay / "Picks/alice_1_ribosome.json")
    assert found[f"{run1}/Meshes/alice_1_membrane.glb"] == str(overlay / "Meshes/alice_1_membrane.glb")
    seg = "Segmentations/10.000_curator_1_membrane.zarr"
    assert found[f"{run1}/{seg}"] == str(static / seg)
    for image in ("wbp.zarr", "wbp_cellcanvas_features.zarr"):
        assert found[f"{run1}/VoxelSpacing10.000/{image}"] == str(static / "VoxelSpacing10.000" / image)
    assert found[f"{run1}/Filaments/curator_1_microtubule.json"].startswith(str(static))
    assert all(os.path.isabs(text) for text in found.values())
    # only the entities are links: every folder on the way is a real one, and no marker is written
    for folder, dirs, files in os.walk(target):
        assert not any(Path(folder, d).is_symlink() for d in dirs if not d.endswith(".zarr"))
        assert ".meta" not in files
    assert sorted(os.listdir(target / "ExperimentRuns")) == ["TS_001", "TS_002", "TS_003", "TS_004"]


def test_the_view_opens_as_a_project_with_the_same_data(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), *ALL_KINDS]))
    view = view_config(tmp_path, target)
    assert contents(view) == contents(project)
    source = copick.from_file(project).get_run("TS_002")
    seen = copick.from_file(view).get_run("TS_002")
    (picks,) = seen.get_picks("ribosome", user_id="alice")
    np.testing.assert_array_equal(
        picks.numpy()[0], source.get_picks("ribosome", user_id="alice")[0].numpy()[0]
    )
    (tomo,) = seen.get_voxel_spacing(10.0).get_tomograms("wbp")
    (original,) = source.get_voxel_spacing(10.0).get_tomograms("wbp")
    np.testing.assert_array_equal(tomo.numpy(), original.numpy())


def test_copick_131_reads_the_view(project: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import refenv

    python = refenv.reference_python(skip_if_unavailable=True)
    target = tmp_path / "deposit"
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), *ALL_KINDS[:10]]))
    script = (
        "import copick, json, sys\n"
        "root = copick.from_file(sys.argv[1])\n"
        "who = lambda e: f'{e.user_id}/{e.session_id}'\n"
        "out = {}\n"
        "for run in root.runs:\n"
        "    names = [f'picks {p.pickable_object_name}:{who(p)} {len(p.points)}' for p in run.picks]\n"
        "    names += [f'mesh {m.pickable_object_name}:{who(m)}' for m in run.meshes]\n"
        "    names += [f'seg {s.name}:{who(s)}@{s.voxel_size}' for s in run.segmentations]\n"
        "    for vs in run.voxel_spacings:\n"
        "        for t in vs.tomograms:\n"
        "            names += [f'tomo {t.tomo_type}@{vs.voxel_size} {t.numpy().shape}']\n"
        "            names += [f'features {f.feature_type}' for f in t.features]\n"
        "    out[run.name] = sorted(names)\n"
        "print(json.dumps(out))\n"
    )
    env = refenv.clean_env({"HOME": str(tmp_path)})
    done = subprocess.run([python, "-c", script, view_config(tmp_path, target)], capture_output=True,
                          text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(seen) == ["TS_001", "TS_002", "TS_003", "TS_004"]
    assert seen["TS_001"] == sorted([
        "picks ribosome:alice/1 4", "picks ribosome:curator/1 4", "mesh membrane:alice/1",
        "mesh membrane:curator/1", "seg membrane:alice/1@10.0", "seg membrane:curator/1@10.0",
        "tomo wbp@10.0 (8, 8, 8)", "features cellcanvas",
    ])  # fmt: skip
    assert seen["TS_004"] == sorted(
        ["picks ribosome:alice/1 4", "mesh membrane:alice/1", "seg membrane:alice/1@10.0"]
    )


# --------------------------------------------------------------------------------------------------------
# Selection and names
# --------------------------------------------------------------------------------------------------------


def test_only_the_kinds_and_entities_the_uris_select_are_linked(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), "--picks", "ribosome:alice/*",
               "--tomograms", "wbp@10"]))  # fmt: skip
    found = sorted(links(target))
    assert found == sorted(
        [f"ExperimentRuns/{r}/Picks/alice_1_ribosome.json" for r in ("TS_001", "TS_002", "TS_004")]
        + [f"ExperimentRuns/{r}/VoxelSpacing10.000/wbp.zarr" for r in ("TS_001", "TS_002", "TS_003")]
    )


def test_run_names_comma_separated_or_repeated(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-names", "TS_001, TS_002",
               "-r", "TS_004", "--picks", "*"]))  # fmt: skip
    assert sorted(os.listdir(target / "ExperimentRuns")) == ["TS_001", "TS_002", "TS_004"]


def test_an_unknown_run_name_is_an_error_before_anything_is_written(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-names", "TS_001,TS_9",
                     "--picks", "*"])  # fmt: skip
    assert_one_error(result, "Run names not found in project: TS_9")
    assert not target.exists()


def test_nothing_selected_warns_and_writes_nothing(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    result = ok(invoke(["deposit", "-c", project, "--target-dir", str(target), "--picks", "nothing"]))
    assert "Nothing matched" in result.stderr and not target.exists()
    result = ok(invoke(["deposit", "-c", project, "--target-dir", str(target)]))
    assert "Nothing matched" in result.stderr and not target.exists()


def test_prefix_and_regex_rename_the_runs(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-name-prefix", "proj1_",
               "--run-names", "TS_001", "--picks", "*"]))  # fmt: skip
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-name-regex", r"TS_(\d+)",
               "--run-name-prefix", "p2-", "--picks", "*"]))  # fmt: skip
    assert sorted(os.listdir(target / "ExperimentRuns")) == [
        "p2-001",
        "p2-002",
        "p2-003",
        "p2-004",
        "proj1_TS_001",
    ]
    assert os.readlink(target / "ExperimentRuns/p2-004/Picks/alice_1_ribosome.json") == str(
        tmp_path / "overlay/ExperimentRuns/TS_004/Picks/alice_1_ribosome.json"
    )


def test_a_prefix_that_is_not_a_name_is_refused(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-name-prefix", "../up/",
                     "--picks", "*"])  # fmt: skip
    assert_one_error(result, "Run name prefix '../up/'", "starts with '.'")
    assert not target.exists() and not (tmp_path / "up").exists()


def test_regex_without_group_is_refused_and_a_run_it_misses_fails(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-name-regex", "TS_0",
                     "--picks", "*"])  # fmt: skip
    assert_one_error(result, "has no group")
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-name-regex", "TS_(00[12])",
                     "--picks", "*"])  # fmt: skip
    assert result.exit_code == 1
    assert "Run name TS_003 does not match regex TS_(00[12])" in result.stderr
    assert sorted(os.listdir(target / "ExperimentRuns")) == ["001", "002"]


def test_runs_that_would_share_a_name_are_not_merged(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--run-name-regex", "(TS)_00[12]",
                     "--picks", "*"])  # fmt: skip
    assert result.exit_code == 1 and "runs TS_001, TS_002 would all be deposited as TS" in result.stderr
    assert not (target / "ExperimentRuns/TS").exists()


# --------------------------------------------------------------------------------------------------------
# Re-running: kept, replaced, never deleted
# --------------------------------------------------------------------------------------------------------


def test_rerunning_keeps_correct_links_and_replaces_wrong_ones(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    args = ["deposit", "-c", project, "--target-dir", str(target), "--picks", "*", "--tomograms", "*"]
    ok(invoke(args))
    first = links(target)
    wrong = target / "ExperimentRuns/TS_001/Picks/alice_1_ribosome.json"
    wrong.unlink()
    wrong.symlink_to(tmp_path / "static.json")
    result = ok(invoke(args))
    assert "0 link(s) made, 8 kept, 1 replaced" in result.stderr
    assert f"was -> {tmp_path / 'static.json'}" in result.stderr
    assert links(target) == first and (tmp_path / "static.json").is_file()
    assert [n for n in os.listdir(wrong.parent) if n.startswith(".")] == []


def test_real_files_and_folders_in_the_way_are_never_deleted(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    picks = target / "ExperimentRuns/TS_002/Picks/alice_1_ribosome.json"
    picks.parent.mkdir(parents=True)
    picks.write_text("my own file")
    image = target / "ExperimentRuns/TS_002/VoxelSpacing10.000/wbp.zarr"
    image.mkdir(parents=True)
    (image / "data").write_text("my own image")
    result = invoke(
        ["deposit", "-c", project, "--target-dir", str(target), "--picks", "*", "--tomograms", "*"]
    )
    assert result.exit_code == 1 and "2 of 9 items failed" in result.stderr
    assert "is a file, not a link: deposit never replaces data" in result.stderr
    assert picks.read_text() == "my own file" and (image / "data").read_text() == "my own image"
    assert (target / "ExperimentRuns/TS_002/Picks/curator_1_ribosome.json").is_symlink()


def test_nothing_is_written_through_a_linked_folder(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (target / "ExperimentRuns").mkdir(parents=True)
    (target / "ExperimentRuns/TS_003").symlink_to(elsewhere)
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--picks", "*"])
    assert result.exit_code == 1 and "TS_003 is a symbolic link, not a folder" in result.stderr
    assert os.listdir(elsewhere) == []
    assert (target / "ExperimentRuns/TS_001/Picks/alice_1_ribosome.json").is_symlink()


def test_a_target_that_is_a_file_is_a_usage_error(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    target.write_text("x")
    result = invoke(["deposit", "-c", project, "--target-dir", str(target), "--picks", "*"])
    assert result.exit_code == 2 and "is a file" in result.stderr


# --------------------------------------------------------------------------------------------------------
# Python API and executors
# --------------------------------------------------------------------------------------------------------


def test_deposit_returns_a_report_and_deposit_run_a_dict(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    report = deposit(project, str(target), run_names="TS_001", picks_uris=["*"], meshes_uris=["*"],
                     show_progress=False)  # fmt: skip
    assert isinstance(report, DepositReport) and report.runs == {"TS_001": "TS_001"}
    assert report.done == 4 and report.errors == [] and report.total == 4
    run = copick.from_file(project).get_run("TS_001")
    again = deposit_run(run, str(target), picks_uris=["*"], segmentations_uris=["*"])
    assert again["processed"] == 4 and again["errors"] == [] and len(again["kept"]) == 2
    assert sorted(again["made"]) == [
        "ExperimentRuns/TS_001/Segmentations/10.000_alice_1_membrane.zarr",
        "ExperimentRuns/TS_001/Segmentations/10.000_curator_1_membrane.zarr",
    ]


def test_runs_are_linked_in_worker_processes(project: str, tmp_path: Path) -> None:
    target = tmp_path / "deposit"
    ok(invoke(["deposit", "-c", project, "--target-dir", str(target), "--picks", "*", "--executor", "process",
               "-w", "2"]))  # fmt: skip
    assert len(links(target)) == 6


def test_files_that_are_not_on_a_local_disk_cannot_be_linked(tmp_path: Path) -> None:
    config = tmp_path / "memory.json"
    config.write_text(json.dumps({
        "config_type": "filesystem", "name": "m", "version": "1.31.0", "pickable_objects": OBJECTS,
        "overlay_root": f"memory://{tmp_path.name}/deposit-source",
    }))  # fmt: skip
    copick.from_file(str(config)).new_run("TS_1").new_picks("ribosome", "1", "alice").from_numpy(
        np.ones((1, 3))
    )
    report = deposit(str(config), str(tmp_path / "deposit"), picks_uris="*", show_progress=False)
    assert report.done == 0 and len(report.errors) == 1
    assert (
        "picks ribosome:alice/1 of run TS_1: cannot be linked: it is stored at memory://" in report.errors[0]
    )
    assert "not on a local disk" in report.errors[0]
