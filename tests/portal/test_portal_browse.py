"""``copick browse --dataset-ids`` on the loopback portal: the textual app driven headless by its pilot."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
import synthetic
from click.testing import CliRunner

from copick.cli.cli import cli

pytest.importorskip("textual")
pytestmark = pytest.mark.usefixtures("restore_logging")


def _labels(node: Any) -> list[str]:
    return [str(child.label) for child in node.children]


def test_browse_dataset_ids_shows_portal_runs_and_entities(
    portal_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Tree

    from copick.cli import browser
    from copick.impl.cryoet_data_portal import CopickRootCDP

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the browse overlay goes to the temp folder
    apps: list[Any] = []
    monkeypatch.setattr(browser.CopickBrowser, "run", lambda self: apps.append(self))
    result = CliRunner().invoke(cli, ["browse", "-ds", "10001", "-ds", "10002"], env={"COPICK_CONFIG": ""})
    assert result.exit_code == 0, result.output
    (app,) = apps
    assert isinstance(app.root, CopickRootCDP) and app.root.config.dataset_ids == [10001, 10002]
    (overlay,) = tmp_path.glob("copick-browse-overlay*")
    assert list(overlay.glob(".copick_cache/portal_*.json"))  # the metadata cache, reused next time
    requests_before_ui = portal_env.total()

    async def scenario() -> None:
        async with app.run_test(size=(140, 50)) as pilot:
            tree = app.query_one(Tree)
            objects, runs = tree.root.children
            assert str(runs.label) == "Runs (5)"
            assert _labels(runs) == [str(r) for r in synthetic.RUNS]
            assert _labels(objects) == [  # ordered by portal object_id
                "proteasome-complex (label 1)", "mitochondrion (label 2)", "membrane (label 3)",
                "cytosolic-ribosome (label 4)", "atp-synthase (label 5)",
            ]  # fmt: skip
            run_node = runs.children[0]
            run_node.expand()
            await pilot.pause()
            assert _labels(run_node) == ["Voxel spacings (1)", "Picks (2)", "Meshes (0)", "Segmentations (2)"]
            spacings, picks, _, segmentations = run_node.children
            picks.expand()
            await pilot.pause()
            assert _labels(picks) == [
                "cytosolic-ribosome:data-portal/101000",
                "proteasome-complex:data-portal/101010",
            ]
            tree.move_cursor(picks.children[0])
            await pilot.pause()
            kind, rows = app.shown
            points = len(synthetic.points_of(101, oriented=False))
            assert kind == "picks" and dict(rows)["Points"] == str(points)
            assert dict(rows)["Read-only"] == "True"
            spacings.expand()
            await pilot.pause()
            vs_node = spacings.children[0]
            assert str(vs_node.label) == "VoxelSpacing 10.0"
            vs_node.expand()
            await pilot.pause()
            assert sorted(_labels(vs_node)) == [
                "Tomogram wbp-denoised-denoiset-ctfdeconv",
                "Tomogram wbp-raw",
            ]
            segmentations.expand()
            await pilot.pause()
            assert sorted(_labels(segmentations)) == [
                "atp-synthase:data-portal/101040@10.0 [instance]",
                "membrane:data-portal/101020@10.0 [binary]",
            ]
            await pilot.press("q")

    asyncio.run(scenario())
    assert portal_env.total() == requests_before_ui  # browsing answers from the fetched metadata
