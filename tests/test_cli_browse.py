"""``copick browse``: the textual browser driven headless through textual's test pilot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import copick
from cli_helpers import new_local_project
from copick.cli.cli import cli

pytest.importorskip("textual")
pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def config(tmp_path: Path) -> str:
    objects = [
        {"name": "ribosome", "is_particle": True, "label": 1},
        {"name": "membrane", "is_particle": False, "label": 2},
    ]
    cfg, root = new_local_project(tmp_path, objects, proj_name="demo")
    run = root.new_run("TS_001")
    run.new_voxel_spacing(10.0).new_tomogram("wbp").new_features("sobel")
    run.new_picks("ribosome", "1", "alice").from_numpy(np.zeros((7, 3)))
    run.new_mesh("membrane", "1", "alice")
    run.new_segmentation(10.0, "membrane", "1", user_id="alice")
    root.new_run("TS_002")
    return cfg


def labels(node) -> list[str]:
    return [str(child.label) for child in node.children]


def test_browser_tree_and_details(config: str) -> None:
    from textual.widgets import Tree

    from copick.cli.browser import CopickBrowser

    async def scenario() -> None:
        app = CopickBrowser(copick.from_file(config))
        async with app.run_test(size=(120, 40)) as pilot:
            tree = app.query_one(Tree)
            objects, runs = tree.root.children
            assert str(objects.label) == "Pickable objects (2)"
            assert labels(runs) == ["TS_001", "TS_002"]
            run_node = runs.children[0]
            run_node.expand()
            await pilot.pause()
            assert labels(run_node) == ["Voxel spacings (1)", "Picks (1)", "Meshes (1)", "Segmentations (1)"]
            run_node.children[1].expand()
            await pilot.pause()
            picks_node = run_node.children[1].children[0]
            assert str(picks_node.label) == "ribosome:alice/1"
            tree.move_cursor(picks_node)
            await pilot.pause()
            kind, rows = app.shown
            assert kind == "picks" and dict(rows)["Points"] == "7"
            vs_node = run_node.children[0].children[0]
            vs_node.expand()
            await pilot.pause()
            (tomo_node,) = vs_node.children
            tomo_node.expand()
            await pilot.pause()
            assert labels(tomo_node) == ["Features sobel"]
            assert "[binary]" in labels(run_node.children[3])[0]
            await pilot.press("r")
            await pilot.pause()
            assert labels(app.query_one(Tree).root.children[1]) == ["TS_001", "TS_002"]
            await pilot.press("q")

    asyncio.run(scenario())


def test_details_of_every_kind(config: str) -> None:
    from copick.cli.browser import details_of

    root = copick.from_file(config)
    run = root.get_run("TS_001")
    tomogram = run.voxel_spacings[0].tomograms[0]
    entries = {
        "project": root,
        "object": root.get_object("ribosome"),
        "run": run,
        "voxel_spacing": run.voxel_spacings[0],
        "tomogram": tomogram,
        "features": tomogram.features[0],
        "picks": run.picks[0],
        "mesh": run.meshes[0],
        "segmentation": run.segmentations[0],
    }
    for kind, obj in entries.items():
        rows = dict(details_of(kind, obj))
        assert rows, kind
    assert dict(details_of("segmentation", run.segmentations[0]))["URI"] == "membrane:alice/1@10.0"
    assert dict(details_of("project", root))["Runs"] == "2"


def test_browse_command(monkeypatch: pytest.MonkeyPatch, config: str, tmp_path: Path) -> None:
    import tempfile

    from copick.cli import browser

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where `browse -ds` puts its overlay
    opened = []
    monkeypatch.setattr(browser.CopickBrowser, "run", lambda self: opened.append(self.root))
    result = CliRunner().invoke(cli, ["browse", "-c", config])
    assert result.exit_code == 0, result.output
    assert [r.name for r in opened[0].runs] == ["TS_001", "TS_002"]
    both = CliRunner().invoke(cli, ["browse", "-c", config, "-ds", "10000"])
    assert both.exit_code == 2 and "either --config or --dataset-ids" in both.stderr
    unreachable = {"COPICK_PORTAL_URL": "http://127.0.0.1:1/graphql", "COPICK_PORTAL_RETRY_SECONDS": "1"}
    portal = CliRunner().invoke(cli, ["browse", "-ds", "10000"], env={"COPICK_CONFIG": "", **unreachable})
    assert portal.exit_code == 1 and "Error: The CryoET Data Portal at http://127.0.0.1:1" in portal.stderr
