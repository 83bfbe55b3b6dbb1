"""Plugin commands: a tiny plugin package (tests/plugin_pkg) put on sys.path registers commands through the
``copick.commands`` / ``copick.convert.commands`` / ``copick.setup.commands`` entry points."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import invoke, new_local_project
from copick.cli import ext

pytestmark = pytest.mark.usefixtures("restore_logging")

PLUGIN_DIR = Path(__file__).parent / "plugin_pkg"
DIST = "copick-test-plugin"


@pytest.fixture
def plugin_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A freshly built ``copick`` group with the test plugin on ``sys.path``."""
    from copick.cli.cli import build_cli

    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    ext.clear_plugin_cache()
    try:
        yield build_cli()
    finally:
        ext.clear_plugin_cache()
        for name in [m for m in sys.modules if m.startswith("copick_test_plugin")]:
            del sys.modules[name]


@pytest.fixture
def project(tmp_path: Path) -> str:
    cfg, root = new_local_project(tmp_path, [{"name": "ribosome", "is_particle": True}])
    for name, count in (("TS_001", 2), ("TS_002", 1)):
        run = root.new_run(name)
        for session in range(count):
            run.new_picks("ribosome", str(session + 1), "alice").from_numpy(np.zeros((1, 3)))
    return cfg


def test_discovery_matches_importlib_metadata(plugin_cli) -> None:
    from importlib import metadata

    ours = {(ep.group, ep.name, ep.value) for ep in ext.discover_entry_points() if ep.dist_name == DIST}
    (dist,) = [d for d in metadata.distributions() if d.name == DIST]
    theirs = {(ep.group, ep.name, ep.value) for ep in dist.entry_points if ep.group.startswith("copick.")}
    assert ours == theirs
    assert len(ours) == 5
    assert ext.get_plugin_versions() == {DIST: "0.3.0"}


def test_load_plugin_commands(plugin_cli) -> None:
    (main,) = ext.load_plugin_commands("main")
    assert main[0].name == "hello" and main[1] == DIST
    assert [c.name for c, _ in ext.load_plugin_commands("convert")] == ["count-picks"]
    assert ext.load_plugin_commands("inference") == []
    assert ext.get_plugin_command_sources() == {
        "main": [("hello", DIST)],
        "convert": [("count-picks", DIST)],
        "setup": [("prepare", DIST)],
    }
    assert ext.PLUGIN_GROUPS[0] == "main" and {"setup", "download"} <= set(ext.PLUGIN_GROUPS)


def test_bad_entry_points_are_skipped_with_critical_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    ext.clear_plugin_cache()
    try:
        with caplog.at_level(logging.CRITICAL, logger="copick.cli.ext"):
            commands = ext.load_plugin_commands("main")
    finally:
        ext.clear_plugin_cache()
    assert [c.name for c, _ in commands] == ["hello"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert any("'broken'" in m and "not a click.Command" in m for m in messages)
    assert any("'missing'" in m and "ModuleNotFoundError" in m for m in messages)


def test_help_shows_plugin_commands_in_sections(plugin_cli) -> None:
    result = invoke(["--help"], command=plugin_cli)
    assert result.exit_code == 0
    out = result.stdout
    sections = [line for line in out.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert sections == ["Options:", "Data Management:", "Data Processing:", "Utilities:", "Other:"]
    processing = out.split("Data Processing:")[1].split("Utilities:")[0]
    assert "convert" in processing
    assert "setup" in out.split("Utilities:")[1].split("Other:")[0]
    assert "hello" in out.split("Other:")[1]
    assert "broken" not in out and "missing" not in out


def test_info_lists_plugin_commands(plugin_cli) -> None:
    result = invoke(["info"], command=plugin_cli)
    assert result.exit_code == 0
    out = result.stdout
    assert f"{DIST} 0.3.0" in out
    assert f"  {'hello':<20} Say hello to a copick project. [{DIST}]" in out
    assert "convert:" in out and "count-picks" in out
    assert "setup:" in out and "prepare" in out
    data = json.loads(invoke(["info", "--json"], command=plugin_cli).stdout)
    assert data["commands"]["convert"] == [
        {"name": "count-picks", "short_help": "Count pick sets per run.", "package": DIST}
    ]


def test_plugin_commands_run(plugin_cli, project: str) -> None:
    hello = invoke(["hello", "-c", project], command=plugin_cli)
    assert hello.exit_code == 0, hello.output
    assert hello.stdout == "hello from the plugin: 2 runs\n"
    assert "hello is running" in hello.stderr
    count = invoke(["convert", "count-picks"], command=plugin_cli, config=project)
    assert count.exit_code == 0, count.output
    assert count.stdout == "TS_001: 2\nTS_002: 1\n"
    assert "Successfully processed all 3 items" in count.stderr
    assert invoke(["setup", "prepare"], command=plugin_cli).stdout == "prepared\n"


def test_plugin_group_without_args_shows_help(plugin_cli) -> None:
    result = invoke(["convert"], command=plugin_cli)
    assert "count-picks" in result.output
    assert "Usage:" in result.output


def test_plugin_failures_give_exit_status_1(plugin_cli, project: str) -> None:
    result = invoke(["convert", "count-picks", "-c", project, "--fail-run", "TS_002"], command=plugin_cli)
    assert result.exit_code == 1
    assert "Failed to process 1 items:" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: 1 of 3 items failed (first: TS_002: pretended failure)")
    assert "COPICK_EXIT_ZERO=1" in last
    assert result.stdout == "TS_001: 2\nTS_002: 0\n"
    legacy = invoke(
        ["convert", "count-picks", "-c", project, "--fail-run", "TS_002"],
        command=plugin_cli,
        COPICK_EXIT_ZERO="1",
    )
    assert legacy.exit_code == 0


def test_plugin_domain_error_is_one_clean_line(plugin_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = invoke(["hello", "-c", str(bad)], command=plugin_cli)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Error: ") and "not valid JSON" in result.stderr
    debug = invoke(["hello", "-c", str(bad), "--debug"], command=plugin_cli)
    assert debug.exit_code == 1 and isinstance(debug.exception, ValueError)


def test_plugin_through_installed_script(project: str) -> None:
    script = Path(sys.executable).parent / "copick"
    if not script.exists():
        pytest.skip("the copick console script is not installed (pip install -e .)")
    env = {**os.environ, "PYTHONPATH": str(PLUGIN_DIR), "COPICK_CONFIG": project}
    env.pop("COPICK_EXIT_ZERO", None)
    out = subprocess.run([str(script), "--help"], env=env, capture_output=True, text=True, check=True).stdout
    assert "Data Processing:" in out and "convert" in out and "hello" in out
    info = subprocess.run([str(script), "info"], env=env, capture_output=True, text=True, check=True).stdout
    assert f"[{DIST}]" in info
    done = subprocess.run([str(script), "convert", "count-picks"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "TS_001: 2\nTS_002: 1\n"
    assert "not a click.Command" in done.stderr  # the broken entry point is reported, not fatal
