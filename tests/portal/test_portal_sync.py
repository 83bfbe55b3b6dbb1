"""``copick sync ... --source-dataset-ids``: portal data copied into a local project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import synthetic
from click.testing import CliRunner

import copick
from copick.cli.cli import cli


def test_sync_picks_tomograms_and_segmentations_from_the_portal(
    portal_env: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the portal source's throw-away overlay
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


def test_create_dataportal_config(portal_env: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """1.31's helper: a temporary config file over the datasets, its overlay a new empty folder."""
    import json
    import tempfile

    import pytest

    from copick.errors import ConfigError
    from copick.util.sync import create_dataportal_config

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = Path(create_dataportal_config([10001, 10002]))
    assert path.parent == tmp_path and path.name.startswith("copick_sync_config_") and path.suffix == ".json"
    cfg = json.loads(path.read_text())
    assert (cfg["config_type"], cfg["dataset_ids"], cfg["overlay_fs_args"]) == (
        "cryoet_data_portal", [10001, 10002], {"auto_mkdir": True})  # fmt: skip
    overlay = Path(cfg["overlay_root"].split("://")[-1])
    assert overlay.name == "overlay" and overlay.parent.name.startswith("copick_sync_")
    assert overlay.is_dir() and [p.name for p in overlay.iterdir()] == [".copick_cache"]
    assert "cytosolic-ribosome" in [o["name"] for o in cfg["pickable_objects"]]
    portal_env.reset()
    assert [r.name for r in copick.from_file(str(path)).runs] == ["101", "102", "103", "104", "105"]
    assert portal_env.total() == 0  # the fetch made for the objects is cached in the overlay
    before = sorted(tmp_path.iterdir())
    with pytest.raises(ConfigError, match="777"):
        create_dataportal_config([777])
    assert sorted(tmp_path.iterdir()) == before  # nothing left behind (1.31 left an empty project)
