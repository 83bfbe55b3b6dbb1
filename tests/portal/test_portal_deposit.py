"""``copick deposit`` of a data-portal project, on the loopback portal: portal runs are renamed
``<dataset id>_<portal run name>_<run id>`` (unless a prefix is given); the user's overlay files are
linked, the portal's read-only data cannot be."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

import copick
from copick.cli.cli import cli


def _portal_project(tmp_path: Path) -> str:
    """Dataset 10001 (runs 101-103) with the user's picks in runs 101 and 102; the config path."""
    cfg = str(tmp_path / "portal.json")
    root = copick.from_czcdp_datasets([10001], str(tmp_path / "overlay"), {"auto_mkdir": True}, "me",
                                      output_path=cfg)  # fmt: skip
    for name in ("101", "102"):
        root.get_run(name).new_picks("cytosolic-ribosome", "1").from_numpy(np.ones((2, 3)))
    return cfg


def _deposit(cfg: str, target: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["deposit", "-c", cfg, "--target-dir", str(target), *args])


def test_portal_runs_are_renamed_and_overlay_files_linked(portal_env: Any, tmp_path: Path) -> None:
    cfg = _portal_project(tmp_path)
    target = tmp_path / "deposit"
    result = _deposit(cfg, target, "--picks", "*:me/*")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(target / "ExperimentRuns")) == ["10001_TS_001_101", "10001_TS_002_102"]
    link = target / "ExperimentRuns/10001_TS_001_101/Picks/me_1_cytosolic-ribosome.json"
    assert os.readlink(link) == str(
        tmp_path / "overlay/ExperimentRuns/101/Picks/me_1_cytosolic-ribosome.json"
    )
    result = _deposit(cfg, target, "--picks", "*:me/*", "--run-name-prefix", "mine_", "--run-names", "101")
    assert result.exit_code == 0, result.output
    assert (target / "ExperimentRuns/mine_101/Picks/me_1_cytosolic-ribosome.json").is_symlink()


def test_read_only_portal_data_cannot_be_linked(portal_env: Any, tmp_path: Path) -> None:
    cfg = _portal_project(tmp_path)
    target = tmp_path / "deposit"
    result = _deposit(cfg, target, "--run-names", "101", "--tomograms", "*", "--picks", "*")
    assert result.exit_code == 1, result.output
    assert "cannot be linked: it is read-only data of CryoET Data Portal tomogram" in result.output
    assert "items failed" in result.output
    # the user's own picks of that run are linked all the same; nothing of the portal is
    picks = target / "ExperimentRuns/10001_TS_001_101/Picks"
    assert [p.name for p in picks.iterdir()] == ["me_1_cytosolic-ribosome.json"]
    assert not (target / "ExperimentRuns/10001_TS_001_101/VoxelSpacing10.000").exists()
