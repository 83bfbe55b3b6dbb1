"""Requests counted at the loopback portal for a 120-run project: open, list runs, read one tomogram
level; cold and warm cache; ours against copick 1.31.0 (PORTAL.md §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeportal
import pytest
import synthetic
from reference import run_reference

import copick

CLASSES = 9


@pytest.fixture(scope="module")
def big_portal(portal_s3: Any) -> Iterator[fakeportal.PortalServer]:
    """The synthetic portal with 115 more runs in dataset 10002: 120 runs (files of the first 5 only)."""
    yield from fakeportal.serve(synthetic.tables(extra_runs=115))


def _config(tmp_path: Path, name: str) -> str:
    membrane = {"name": "membrane", "is_particle": False, "label": 1, "identifier": "GO:0016020"}
    ribosome = {"name": "cytosolic-ribosome", "is_particle": True, "label": 2, "identifier": "GO:0022626"}
    cfg = {
        "config_type": "cryoet_data_portal", "dataset_ids": [10001, 10002],
        "pickable_objects": [membrane, ribosome],
        "overlay_root": "local://" + str(tmp_path / name), "overlay_fs_args": {"auto_mkdir": True},
    }  # fmt: skip
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def _touch(config: str) -> int:
    root = copick.from_file(config)
    runs = len(root.runs)
    tomogram = root.get_run("101").voxel_spacings[0].tomograms[0]
    assert tomogram.numpy(zarr_group="2").shape == (4, 6, 8)
    return runs


def test_120_runs_cold_and_warm(
    big_portal: fakeportal.PortalServer, portal_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec.config

    monkeypatch.setenv("COPICK_PORTAL_URL", big_portal.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": portal_s3.endpoint_url})
    config = _config(tmp_path, "ours")
    big_portal.reset()
    assert _touch(config) == 120
    cold = big_portal.total()
    assert cold == CLASSES  # one query per entity class for the whole project
    big_portal.reset()
    assert _touch(config) == 120
    assert big_portal.total() == 0  # warm: the cache answers

    # portal runs in portal (id) order as 1.31 lists them ("101" before "1000"), overlay-only runs after
    root = copick.from_file(config)
    root.new_run("0-overlay-run")
    names = [r.name for r in copick.from_file(config).runs]
    assert names == [*map(str, [*range(101, 106), *range(1000, 1115)]), "0-overlay-run"]

    big_portal.reset()
    reference_config = _config(tmp_path, "ref")
    assert run_reference(big_portal.url, portal_s3, tmp_path, "touch", reference_config)["runs"] == 120
    ref_cold = big_portal.total()
    big_portal.reset()
    run_reference(big_portal.url, portal_s3, tmp_path, "touch", reference_config)
    ref_warm = big_portal.total()
    print(
        f"portal requests, 120 runs: ours cold {cold}, warm 0; copick 1.31 cold {ref_cold}, warm {ref_warm}"
    )
    assert ref_cold > cold
