"""End to end: the installed ``copick`` console script run as a user runs it (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import copick

SCRIPT = Path(sys.executable).parent / "copick"
pytestmark = pytest.mark.skipif(
    not SCRIPT.exists(), reason="copick console script not installed (pip install -e .)"
)


def copick_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COPICK_")}
    environment.update(env)
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, env=environment)


def test_building_the_cli_loads_no_heavy_module() -> None:
    code = (
        "import sys; from copick.cli.cli import cli; assert 'cp' in cli.commands; "
        "heavy = ('numpy', 'zarr', 'rich', 'pydantic', 'fsspec', 'importlib.metadata', 'copick.ops.manage', "
        "'copick.entities.root', 'trimesh', 'textual', 'logging', 'PIL', 'jinja2', 'dask', 'distributed', "
        "'asyncssh', 'smbprotocol', 'ome_zarr_models'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_version_loads_no_command_module() -> None:
    code = (
        "import sys; sys.argv = ['copick', '--version']; from copick.cli.cli import main; main(); "
        "print(sorted(m for m in sys.modules if m.startswith('copick.cli.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [f"copick {copick.__version__}", "['copick.cli.cli']"]


def test_version_and_help() -> None:
    assert copick_cli("--version").stdout == f"copick {copick.__version__}\n"
    help_text = copick_cli("--help").stdout
    assert "Data Management:" in help_text and "Utilities:" in help_text


def test_workflow(tmp_path: Path) -> None:
    done = copick_cli(
        "config", "filesystem", "--overlay-root", "proj", "--objects", "ribosome,true,120", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    config = str(tmp_path / "config.json")
    env = {"COPICK_CONFIG": config}
    assert copick_cli("new", "run", "TS_001", **env).returncode == 0
    root = copick.from_file(config)
    root.new_run("TS_002")
    for run in root.runs:
        run.new_picks("ribosome", "0", "copick")
    root.get_run("TS_001").new_picks("ribosome", "1", "alice").from_numpy(np.ones((4, 3)))

    copied = copick_cli("cp", "picks", "ribosome:alice/1", "ribosome:bob/{session_id}", **env)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout == ""
    assert "Successfully copied 1 of 1 objects" in copied.stderr

    stats = copick_cli("stats", "picks", "--output", "json", **env)
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)  # stdout is pure JSON
    assert data["total_picks"] == 8 and data["total_pick_files"] == 4

    listed = copick_cli("rm", "picks", "ribosome:copick/*", "--dry-run", **env)
    assert listed.stdout.splitlines() == ["  - [TS_001] ribosome:copick/0", "  - [TS_002] ribosome:copick/0"]

    failed = copick_cli("cp", "picks", "ribosome:alice/1", "ribosome:bob/1", **env)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("Error: 1 of 1 items failed")


def test_domain_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    copick.new_config(str(tmp_path / "c.json"), str(tmp_path / "p")).new_run("TS_001")
    done = copick_cli("new", "run", "TS_001", "-c", str(tmp_path / "c.json"))
    assert done.returncode == 1
    assert done.stderr == "Error: Run name TS_001 already exists.\n"
    debug = copick_cli("new", "run", "TS_001", "-c", str(tmp_path / "c.json"), "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr
