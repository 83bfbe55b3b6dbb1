"""``copick sync ... --source-dataset-ids``: portal data copied into a local project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import synthetic
from click.testing import CliRunner

import copick
from copick.cli.cli import cli


def test_sync_picks_tomograms_and_segmentations_from_the_portal(portal_env: Any, tmp_path: Path) -> None:
    objects = [{"name": "cytosolic-ribosome", "is_particle": True, "label": 1},
               {"name": "membrane", "is_particle": False, "label": 2}]  # fmt: skip
    copick.new_config(str(tmp_path / "t.json"), str(tmp_path / "target"), pickable_objects=objects)
    for what in ("picks", "tomograms", "segmentations"):
        spacing = [] if what == "picks" else ["--voxel-spacings", "10"]
        args = [
            "sync",
            what,
            "--source-dataset-ids",
            "10001",
            "--target-config",
            str(tmp_path / "t.json"),
            *spacing,
        ]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    run = copick.from_file(str(tmp_path / "t.json")).get_run("102")
    picks = run.get_picks("cytosolic-ribosome", user_id="data-portal")[0]
    expected = [[p["location"][a] * 10.0 for a in "xyz"] for p in synthetic.points_of(102, oriented=False)]
    np.testing.assert_allclose(picks.numpy()[0], expected)
    raw = run.get_voxel_spacing(10.0).get_tomograms("wbp-raw")[0]
    np.testing.assert_array_equal(raw.numpy(), synthetic.tomogram_data(102))
    membrane = run.get_segmentations(name="membrane")[0]
    np.testing.assert_array_equal(membrane.numpy(), (synthetic.tomogram_data(102) > 0.5).astype(np.uint8))
