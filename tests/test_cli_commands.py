"""The ``copick`` command tree through click's test runner: root group, info, new, stats, config (cp/mv/rm:
``test_cli_manage.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import copick
from cli_helpers import invoke
from cli_project import RUNS, make_project, picks_ids
from copick.cli.cli import COMMAND_CATEGORIES, cli

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def project(tmp_path: Path) -> str:
    return make_project(tmp_path)


# --------------------------------------------------------------------------------------------------------
# root group
# --------------------------------------------------------------------------------------------------------


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"copick {copick.__version__}\n"


def test_help_sections_in_order() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    out = result.stdout
    assert out.index("Data Management:") < out.index("Utilities:")
    assert "Data Processing:" not in out  # shown only when a plugin fills it
    for name in ("cp", "mv", "new", "rm"):
        assert f"\n  {name} " in out.split("Data Management:")[1].split("Utilities:")[0]
    for name in ("config", "info", "stats"):
        assert f"\n  {name} " in out.split("Utilities:")[1]


def test_command_categories_cover_core_commands() -> None:
    listed = {name for names in COMMAND_CATEGORIES.values() for name in names}
    assert set(cli.commands) <= listed | {"hello"}
    assert list(COMMAND_CATEGORIES) == ["Data Management", "Data Processing", "Utilities"]


def test_root_has_no_config_option() -> None:
    result = invoke(["-c", "x.json", "info"])
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_missing_config_is_a_usage_error_not_help(project: str) -> None:
    result = invoke(["stats", "picks"])
    assert result.exit_code == 2
    assert "Missing option '-c' / '--config'" in result.stderr
    assert "Usage:" in result.stderr


def test_config_from_environment_is_enough(project: str) -> None:
    result = invoke(["stats", "picks", "--output", "json"], config=project)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_pick_files"] == 5


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(["stats", "picks", "-c", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_info_without_plugins() -> None:
    result = invoke(["info"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"copick {copick.__version__}")
    assert "No plugin commands available." in result.stdout
    data = json.loads(invoke(["info", "--json"]).stdout)
    assert data["version"] == copick.__version__
    assert set(data["commands"]) >= {"main", "convert", "setup", "download"}


# --------------------------------------------------------------------------------------------------------
# new
# --------------------------------------------------------------------------------------------------------


def test_new_run(project: str) -> None:
    result = invoke(["new", "run", "TS_010"], config=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Created run: TS_010" in result.stderr
    assert copick.from_file(project).get_run("TS_010") is not None


def test_new_run_existing_is_one_clean_error(project: str) -> None:
    result = invoke(["new", "run", "TS_001"], config=project)
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: Run name TS_001 already exists."
    assert "Traceback" not in result.output


def test_new_run_existing_with_debug_raises(project: str) -> None:
    result = invoke(["new", "run", "TS_001", "--debug"], config=project)
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError)


def test_new_run_overwrite_keeps_existing(project: str) -> None:
    result = invoke(["new", "run", "TS_001", "--overwrite"], config=project)
    assert result.exit_code == 0
    assert ("ribosome", "alice", "1") in picks_ids(project, "TS_001")


def test_new_run_invalid_name(project: str) -> None:
    result = invoke(["new", "run", "a/b"], config=project)
    assert result.exit_code == 2
    assert "Error: Invalid value for 'NAME': Run name 'a/b' cannot be used" in result.stderr


def test_new_voxelspacing_creates_run(project: str) -> None:
    result = invoke(["new", "voxelspacing", "7.5", "--run", "TS_020"], config=project)
    assert result.exit_code == 0, result.output
    run = copick.from_file(project).get_run("TS_020")
    assert [vs.voxel_size for vs in run.voxel_spacings] == [7.5]


def test_new_voxelspacing_no_create(project: str) -> None:
    result = invoke(["new", "voxelspacing", "10", "--run", "TS_404", "--no-create"], config=project)
    assert result.exit_code == 1
    assert "TS_404" in result.stderr and "Traceback" not in result.output
    assert copick.from_file(project).get_run("TS_404") is None


def test_new_voxelspacing_existing(project: str) -> None:
    assert invoke(["new", "voxelspacing", "10", "--run", "TS_001"], config=project).exit_code == 0
    again = invoke(["new", "voxelspacing", "10", "--run", "TS_001"], config=project)
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert (
        invoke(["new", "voxelspacing", "10", "--run", "TS_001", "--overwrite"], config=project).exit_code == 0
    )


def test_new_picks_every_run_and_skip_existing(project: str) -> None:
    result = invoke(["new", "picks", "--particle-name", "proteasome"], config=project)
    assert result.exit_code == 0, result.output
    assert "in 3 of 3 runs" in result.stderr
    root = copick.from_file(project)
    for name in RUNS:
        (picks,) = root.get_run(name).get_picks(object_name="proteasome", user_id="copick", session_id="0")
        assert len(picks.numpy()[0]) == 0
    again = invoke(["new", "picks", "--particle-name", "proteasome"], config=project)
    assert again.exit_code == 0 and "3 skipped" in again.stderr


def test_new_picks_overwrite_empties_and_run_filter(project: str) -> None:
    args = ["new", "picks", "--particle-name", "ribosome", "--out-user", "alice", "--out-session", "1"]
    result = invoke([*args, "--overwrite", "-r", "TS_002"], config=project)
    assert result.exit_code == 0, result.output
    root = copick.from_file(project)
    assert len(root.get_run("TS_002").get_picks("ribosome", "alice", "1")[0].numpy()[0]) == 0
    assert len(root.get_run("TS_001").get_picks("ribosome", "alice", "1")[0].numpy()[0]) == 5


def test_new_picks_unknown_object(project: str) -> None:
    result = invoke(["new", "picks", "--particle-name", "nope"], config=project)
    assert result.exit_code == 2
    assert "Object name nope not found" in result.stderr


# --------------------------------------------------------------------------------------------------------
# stats
# --------------------------------------------------------------------------------------------------------


def test_stats_picks_json_is_pure_stdout(project: str) -> None:
    result = invoke(["stats", "picks", "--output", "json"], config=project)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total_picks"] == 5 * 3 + 3 + 2
    assert data["total_pick_files"] == 5
    assert data["distribution_by_run"] == {"TS_001": 8, "TS_002": 7, "TS_003": 5}
    assert data["distribution_by_user"] == {"alice": 18, "bob": 2}
    assert data["distribution_by_object"] == {"ribosome": 18, "proteasome": 2}
    assert data["distribution_by_session"] == {"1": 17, "2": 3}


def test_stats_picks_filters_and_run_spellings(project: str) -> None:
    result = invoke(
        ["stats", "picks", "--output", "json", "-r", "TS_001", "--user-id", "alice"], config=project
    )
    assert json.loads(result.stdout)["total_picks"] == 8
    legacy = invoke(
        ["stats", "picks", "--output", "json", "--runs", "TS_001,TS_002", "--no-parallel"], config=project
    )
    assert legacy.exit_code == 0
    assert json.loads(legacy.stdout)["total_pick_files"] == 4
    assert "deprecated" in legacy.stderr


def test_stats_picks_table(project: str) -> None:
    result = invoke(["stats", "picks"], config=project)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:3] == ["=== Picks Statistics ===", "Total individual picks: 20", "Total pick files: 5"]
    assert "Distribution by run:" in lines and "  TS_001: 8" in lines


def test_stats_meshes(project: str) -> None:
    data = json.loads(invoke(["stats", "meshes", "--output", "json"], config=project).stdout)
    assert data == {
        "total_meshes": 1,
        "distribution_by_user": {"alice": 1},
        "distribution_by_session": {"1": 1},
        "distribution_by_object": {"membrane": 1},
        "session_user_object_combinations": {"1_alice_membrane": 1},
    }


def test_stats_segmentations(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    run = copick.from_file(config).get_run("TS_002")
    run.new_segmentation(10.0, "membrane", "1", user_id="copick").from_numpy(np.ones((2, 2, 2), np.uint8))
    run.new_segmentation(10.0, "cells", "1", is_multilabel=True, user_id="copick")
    run.new_segmentation(10.0, "ribosome", "2", is_instance=True, user_id="copick")
    data = json.loads(invoke(["stats", "segmentations", "--output", "json"], config=config).stdout)
    assert data["total_segmentations"] == 3
    assert data["distribution_by_type"] == {"binary": 1, "instance": 1, "multilabel": 1}
    assert data["distribution_by_voxel_size"] == {"10.0": 3}
    assert data["session_user_voxelspacing_multilabel_combinations"]["1_copick_membrane_10.0_False"] == 1
    only_ml = invoke(["stats", "segmentations", "--output", "json", "--multilabel"], config=config)
    assert json.loads(only_ml.stdout)["distribution_by_name"] == {"cells": 1}
    typed = invoke(
        ["stats", "segmentations", "--output", "json", "--segmentation-type", "instance"], config=config
    )
    assert json.loads(typed.stdout)["distribution_by_name"] == {"ribosome": 1}
    table = invoke(["stats", "segmentations"], config=config)
    assert "Frequent session_user_voxelspacing_multilabel combinations:" in table.stdout


def test_stats_empty_selection_warns(project: str) -> None:
    result = invoke(["stats", "picks", "--output", "json", "--user-id", "nobody"], config=project)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total_pick_files"] == 0
    assert "No picks matched" in result.stderr


# --------------------------------------------------------------------------------------------------------
# config filesystem
# --------------------------------------------------------------------------------------------------------


def test_config_filesystem(tmp_path: Path) -> None:
    out = tmp_path / "cfg.json"
    objects = ["--objects", "ribosome,True,120,4V9D", "--objects", "membrane,false"]
    result = invoke(
        ["config", "filesystem", "--overlay-root", str(tmp_path / "p"), "--config", str(out), *objects]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["config_type"] == "filesystem"
    assert data["name"] == "project" and data["description"] == "Config Project for SessionXXa"
    assert data["version"] == copick.__version__
    assert data["overlay_root"] == "local://" + str(tmp_path / "p")
    assert data["overlay_fs_args"] == {"auto_mkdir": True}
    ribosome, membrane = data["pickable_objects"]
    assert list(ribosome) == [
        "name", "is_particle", "label", "color", "emdb_id", "pdb_id", "identifier", "map_threshold", "radius",
        "metadata",
    ]  # fmt: skip
    assert ribosome == {
        "name": "ribosome", "is_particle": True, "label": 1, "color": [100, 100, 100, 255], "emdb_id": None,
        "pdb_id": "4V9D", "identifier": None, "map_threshold": None, "radius": 120.0, "metadata": {},
    }  # fmt: skip
    assert membrane["is_particle"] is False and membrane["label"] == 2 and membrane["radius"] is None
    root = copick.from_file(str(out))
    assert [o.name for o in root.pickable_objects] == ["ribosome", "membrane"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [("ribosome,true,12.5", "must be an integer"), ("bad_name,true", "forbids"), ("lonely", "expected")],
)
def test_config_filesystem_bad_objects(tmp_path: Path, spec: str, message: str) -> None:
    out = tmp_path / "cfg.json"
    result = invoke(
        ["config", "filesystem", "--overlay-root", str(tmp_path), "--config", str(out), "--objects", spec]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert not out.exists()


def test_config_filesystem_requires_overlay_root(tmp_path: Path) -> None:
    result = invoke(["config", "filesystem", "--config", str(tmp_path / "c.json")])
    assert result.exit_code == 2 and "--overlay-root" in result.stderr
