"""Plugins writing through ``entity.zarr()`` with the installed zarr (the suite runs once per major).

The calls are the ones napari-copick, copick-utils and copick-torch make on copick's stores. Under
zarr 2 they work as with copick 1.31; under zarr 3 the same calls with ``zarr_format=2`` (and
``mode=``/``shape=`` by keyword, as zarr 3 demands) write the very same files: ``test_*_files_*``
compare a digest of the written tree with one constant, the same in both passes. Nothing patches
zarr: its process-wide default format is left alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr

import copick
from copick.formats.zarr_store import ZarrFormatError
from zarr_compat import V2, ZARR2

COMPRESSOR = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)
DATA = np.arange(20 * 24 * 28, dtype=np.float32).reshape(20, 24, 28) % 97


@pytest.fixture(autouse=True)
def single_threaded_blosc() -> Iterator[None]:
    """Blosc with threads may order its blocks differently: bytes are only comparable without."""
    before = numcodecs.blosc.use_threads
    numcodecs.blosc.use_threads = False
    yield
    numcodecs.blosc.use_threads = before


@pytest.fixture
def vs(tmp_path: Path) -> Any:
    cfg = tmp_path / "config.json"
    copick.new_config(str(cfg), str(tmp_path / "project"), pickable_objects=[])
    return copick.from_file(str(cfg)).new_run("TS_1").new_voxel_spacing(10.0)


def tree_digest(folder: str) -> str:
    """sha256 over every file's relative path and bytes, in path order."""
    h = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def write_like_a_plugin(store: Any) -> None:
    """``open_group(mode="w")`` over an existing image, then ``create_dataset`` with a compressor."""
    group = zarr.open_group(store, mode="w", **V2)
    group.create_dataset("0", shape=DATA.shape, data=DATA, chunks=(8, 16, 16), compressor=COMPRESSOR)
    group.attrs["multiscales"] = [{"datasets": [{"path": "0"}], "version": "0.4"}]


def test_plugin_overwrite_with_create_dataset_writes_the_same_files_under_both_majors(vs):
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(np.ones((4, 4, 4), np.float32))  # something to overwrite
    write_like_a_plugin(tomo.zarr())
    assert tree_digest(tomo.overlay_path) == "7148c8fcac6a382e"
    assert sorted(p.name for p in Path(tomo.overlay_path).iterdir()) == [".zattrs", ".zgroup", "0"]
    np.testing.assert_array_equal(tomo.numpy(), DATA)


def test_our_pyramid_writes_the_same_files_under_both_majors(vs):
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(DATA)
    assert tree_digest(tomo.overlay_path) == "47d15ea0be89c146"


def test_zarr_create_on_a_new_entity_writes_a_format_2_array(vs):
    features = vs.new_tomogram("wbp").new_features("sobel")
    arr = zarr.create(
        DATA.shape, chunks=(10, 12, 14), dtype="f4", compressor=COMPRESSOR, store=features.zarr(), **V2
    )
    arr[...] = DATA
    folder = features.zarr().path
    assert tree_digest(folder) == "5a7882a8a6b96942"
    assert (Path(folder) / "1/1/1").is_file()


@pytest.mark.skipif(ZARR2, reason="zarr 2 has only format 2")
def test_zarr3_default_format_is_refused_with_a_hint_not_written(vs):
    seg = vs.run.new_segmentation(10.0, "labels", "1", is_multilabel=True, user_id="alice")
    with pytest.raises(ZarrFormatError, match="zarr_format=2"):
        zarr.create((5, 5, 5), store=seg.zarr())
    assert zarr.config.get("default_zarr_format") == 3  # copick changed nothing process-wide


def test_append_mode_adds_a_level_to_an_existing_image(vs):
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(DATA, levels=2)
    group = zarr.open(tomo.zarr(), mode="a")
    group.create_dataset("2", shape=(5, 6, 7), data=np.full((5, 6, 7), 3, np.float32), chunks=(4, 4, 4))
    assert (Path(tomo.overlay_path) / "2/1/1/1").is_file()
    assert tomo.numpy(zarr_group="2").sum() == 3 * 5 * 6 * 7


def test_read_level_0_and_list_levels_in_key_order(vs):
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(DATA)
    group = zarr.open(tomo.zarr(), "r") if ZARR2 else zarr.open(tomo.zarr(), mode="r")
    np.testing.assert_array_equal(group["0"][:], DATA)
    assert [name for name, _ in group.arrays()] == ["0", "1", "2"]
    assert list(group) == ["0", "1", "2"] and list(group.group_keys()) == []


def test_store_is_a_mapping(vs):
    tomo = vs.new_tomogram("wbp")
    store = tomo.zarr()
    assert len(store) == 0 and list(store) == []
    tomo.from_numpy(DATA, levels=1)
    store = tomo.zarr()
    assert sorted(store) == [".zattrs", ".zgroup", "0/.zarray", "0/0/0/0"] and len(store) == 4
    assert store[".zgroup"] == b'{\n    "zarr_format": 2\n}'


def test_static_store_refuses_writes(tmp_path: Path, vs):
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(DATA, levels=1)
    cfg = tmp_path / "static.json"
    cfg.write_text(
        json.dumps(
            {
                "name": "static",
                "pickable_objects": [],
                "overlay_root": f"local://{tmp_path / 'overlay2'}",
                "static_root": f"local://{tmp_path / 'project'}",
            }
        )
    )
    static = copick.from_file(str(cfg)).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    with pytest.raises((PermissionError, ValueError)):  # zarr 3 refuses mode "a" on a read-only store
        zarr.open(static.zarr(), mode="a")["0"][0, 0, 0] = 1.0
    np.testing.assert_array_equal(static.numpy(), DATA)
