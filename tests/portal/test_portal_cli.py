"""``copick config dataportal`` and ``copick cache info|clear`` on the loopback portal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import copick
from copick.cli.cli import cli


def test_config_dataportal_writes_a_config_that_opens(portal_env: Any, tmp_path: Path) -> None:
    out = tmp_path / "cfg.json"
    args = ["config", "dataportal", "-ds", "10001", "-ds", "10002", "--overlay", str(tmp_path / "ov"),
            "--output", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    cfg = json.loads(out.read_text())
    assert cfg["dataset_ids"] == [10001, 10002] and cfg["overlay_root"].startswith("local://")
    assert [o["name"] for o in cfg["pickable_objects"]][:2] == ["proteasome-complex", "mitochondrion"]
    portal_env.reset()
    assert len(copick.from_file(str(out)).runs) == 5 and portal_env.total() == 0  # the cache in the overlay


def test_config_dataportal_names_unknown_datasets(portal_env: Any, tmp_path: Path) -> None:
    args = [
        "config",
        "dataportal",
        "-ds",
        "777",
        "--overlay",
        str(tmp_path / "ov"),
        "--output",
        str(tmp_path / "c"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "777" in result.output


def test_cache_info_and_clear(portal_env: Any, tmp_path: Path) -> None:
    out = tmp_path / "cfg.json"
    copick.from_czcdp_datasets([10002], str(tmp_path / "ov"), {"auto_mkdir": True}, output_path=str(out))
    info = CliRunner().invoke(cli, ["cache", "info", "-c", str(out)])
    assert info.exit_code == 0 and "(this project)" in info.output and "datasets 10002" in info.output
    cleared = CliRunner().invoke(cli, ["cache", "clear", "-c", str(out), "-y"])
    assert cleared.exit_code == 0, cleared.output
    assert not list((tmp_path / "ov" / ".copick_cache").glob("portal_*.json"))
    portal_env.reset()
    assert len(copick.from_file(str(out)).runs) == 2 and portal_env.total() == 9
