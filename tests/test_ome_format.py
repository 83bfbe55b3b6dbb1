"""OME-Zarr images: written exactly as copick 1.31 wrote them, read back, on every store kind."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr

import reference_fixture
from copick.errors import CorruptFileError, ReadOnlyStoreError
from copick.formats import ome, ome_regions
from copick.formats.zarr_store import CopickStore, open_store
from copick.storage import Layer
from copick.util import ome as util_ome
from zarr_compat import V2, requires_zarr3

FIXTURE = reference_fixture.FIXTURE_DIR  # written by copick 1.31.0 (tests/reference_fixture.py)

# Every image of the main fixture project: (relative path, kind).
FIXTURE_IMAGES = [
    ("ExperimentRuns/TS_001/VoxelSpacing10.000/wbp.zarr", "volume"),
    ("ExperimentRuns/TS_001/VoxelSpacing10.000/denoised.zarr", "volume"),
    ("ExperimentRuns/TS_001/VoxelSpacing10.000/wbp_sobel_features.zarr", "volume"),
    ("ExperimentRuns/TS_001/VoxelSpacing7.840/wbp.zarr", "volume"),
    ("ExperimentRuns/TS_002/VoxelSpacing10.000/wbp.zarr", "volume"),
    ("Objects/proteasome.zarr", "volume"),
    ("ExperimentRuns/TS_001/Segmentations/10.000_alice_1_membrane.zarr", "segmentation"),
    ("ExperimentRuns/TS_001/Segmentations/10.000_pytom_0_segmentation-multilabel.zarr", "segmentation"),
    ("ExperimentRuns/TS_001/Segmentations/7.840_bob_2_ribosome.zarr", "segmentation"),
    ("ExperimentRuns/TS_002/InstanceSegmentations/10.000_alice_1_proteasome.zarr", "segmentation"),
    ("ExperimentRuns/TS_002/PanopticSegmentations/10.000_alice_1_scene.zarr", "panoptic"),
]


def need_fixture() -> None:
    if not (FIXTURE / "expected.json").is_file():
        pytest.skip(f"reference fixture not found at {FIXTURE}")


def local_store(tmp_path: Path, rel: str = "img.zarr", read_only: bool = False) -> CopickStore:
    return open_store(Layer.from_url(str(tmp_path)), rel, read_only)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(params=["local", "memory"])
def layer(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A writable layer on a local folder or on fsspec's memory:// filesystem."""
    if request.param == "local":
        yield Layer.from_url(str(tmp_path / "root"))
        return
    import fsspec

    root = f"/ome-tests/{os.getpid()}-{time.monotonic_ns()}"
    yield Layer.from_url("memory://" + root)
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def raw_keys(layer: Layer, rel: str) -> list[str]:
    """Every file below ``rel`` as the filesystem itself lists it (not through zarr)."""
    base = layer.path(rel).rstrip("/")
    return sorted(p[len(base) + 1 :] for p in layer.fs.find(base))


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "voxel", "levels", "channel", "metadata"),
    [
        ("ExperimentRuns/TS_001/VoxelSpacing10.000/wbp.zarr", 10.0, 3, False, None),
        ("ExperimentRuns/TS_001/VoxelSpacing7.840/wbp.zarr", 7.84, 3, False, None),
        ("Objects/proteasome.zarr", 10.0, 1, False, None),
        (
            "ExperimentRuns/TS_002/PanopticSegmentations/10.000_alice_1_scene.zarr",
            10.0,
            1,
            True,
            {"copick": {"segmentation_type": "panoptic", "channels": ["label", "instance"]}},
        ),
    ],
)
def test_multiscale_attrs_equal_the_reference_zattrs(rel, voxel, levels, channel, metadata):
    need_fixture()
    ours = ome.multiscale_attrs(voxel, levels, channel_axis=channel, metadata=metadata)
    raw = (FIXTURE / rel / ".zattrs").read_bytes()
    assert ours == json.loads(raw)
    from copick.formats.zarr_store import zarr2_json

    assert zarr2_json(ours) == raw


def test_scales_double_as_floats_level_by_level():
    scales = [
        d["coordinateTransformations"][0]["scale"][0]
        for d in ome.multiscale_attrs(7.84, 3)["multiscales"][0]["datasets"]
    ]
    assert scales == [7.84, 15.68, 31.36]
    attrs = util_ome.ome_metadata({10.0: None, 20.0: None})
    assert [d["path"] for d in attrs["multiscales"][0]["datasets"]] == ["0", "1"]


@pytest.mark.parametrize(
    ("unit", "expected"), [("angstrom", 7.84), ("nanometer", 78.4), ("micrometer", 78400.0), (None, 7.84)]
)
def test_voxel_size_is_read_with_its_unit(unit, expected):
    attrs = ome.multiscale_attrs(7.84, 2)
    for axis in attrs["multiscales"][0]["axes"]:
        if unit is None:
            axis.pop("unit")
        else:
            axis["unit"] = unit
    assert ome.voxel_size_from_attrs(attrs) == pytest.approx(expected, rel=1e-12)


def test_voxel_size_skips_a_leading_channel_axis():
    attrs = ome.multiscale_attrs(10.0, 1, channel_axis=True)
    assert ome.voxel_size_from_attrs(attrs) == 10.0
    assert util_ome.get_voxel_size_from_zarr(attrs) == 10.0


@pytest.mark.parametrize("attrs", [{}, {"multiscales": []}, {"multiscales": [{"datasets": [{}]}]}])
def test_unreadable_voxel_size_names_the_rule(attrs):
    with pytest.raises(CorruptFileError, match="multiscales"):
        ome.voxel_size_from_attrs(attrs, source="x.zarr")


def test_unknown_unit_is_an_error():
    attrs = ome.multiscale_attrs(1.0, 1)
    attrs["multiscales"][0]["axes"][0]["unit"] = "furlong"
    with pytest.raises(CorruptFileError, match="furlong"):
        ome.voxel_size_from_attrs(attrs)


# --- the reference fixture --------------------------------------------------------------------


@pytest.mark.parametrize(("rel", "kind"), FIXTURE_IMAGES, ids=[r.split("/")[-1] for r, _ in FIXTURE_IMAGES])
def test_writer_reproduces_every_reference_image(tmp_path, rel, kind):
    """Same input, same parameters: identical metadata files, file names and array values."""
    need_fixture()
    src = FIXTURE / rel
    attrs = json.loads((src / ".zattrs").read_text())
    entry = attrs["multiscales"][0]
    n_levels = len(entry["datasets"])
    level0_meta = json.loads((src / "0" / ".zarray").read_text())
    level0 = zarr.open_array(str(src / "0"), mode="r")[...]
    voxel = ome.voxel_size_from_attrs(attrs)
    if kind == "volume":
        levels = ome.iter_volume_pyramid(level0, n_levels)
    else:
        levels = ome.iter_segmentation_pyramid(level0, n_levels, channel_axis=kind == "panoptic")

    store = local_store(tmp_path, "copy.zarr")
    ome.write_multiscale(
        store,
        levels,
        voxel,
        chunks=level0_meta["chunks"][-3:],
        channel_axis=kind == "panoptic",
        metadata=entry["metadata"],
    )
    dst = tmp_path / "copy.zarr"
    assert files_under(dst) == files_under(src)
    for name in files_under(src):
        if name.rsplit("/", 1)[-1] in (".zattrs", ".zgroup", ".zarray"):
            assert (dst / name).read_bytes() == (src / name).read_bytes(), name
    for i in range(n_levels):
        np.testing.assert_array_equal(
            ome.read_region(store, i), zarr.open_array(str(src / str(i)), mode="r")[...]
        )


def expected_images(expected: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(relative path, summary) of every image expected.json describes for the main project."""
    project = expected["project"]
    out = []
    for run, detail in project["runs_detail"].items():
        for vs, tomos in detail["tomograms"].items():
            for tomo, summary in tomos.items():
                out.append((f"ExperimentRuns/{run}/VoxelSpacing{vs}/{tomo}.zarr", summary))
                for feat, fsum in summary["features"].items():
                    out.append((f"ExperimentRuns/{run}/VoxelSpacing{vs}/{tomo}_{feat}_features.zarr", fsum))
        for seg in detail["segmentations"]:
            suffix = "-multilabel" if seg["is_multilabel"] else ""
            name = f"{seg['voxel_size']:.3f}_{seg['user_id']}_{seg['session_id']}_{seg['name']}{suffix}.zarr"
            out.append((f"ExperimentRuns/{run}/{seg['directory']}/{name}", seg))
    for obj in project["objects"]:
        if obj.get("has_map"):
            out.append((f"Objects/{obj['name']}.zarr", obj["map"]))
    return out


def test_reference_arrays_read_equal_to_expected_json():
    need_fixture()
    expected = json.loads((FIXTURE / "expected.json").read_text())
    rtol = expected["tolerance"]["sum_rtol"]
    atol = expected["tolerance"]["value_atol"]
    layer = Layer.from_url(str(FIXTURE))
    images = expected_images(expected)
    assert len(images) == len(FIXTURE_IMAGES)
    for rel, summary in images:
        store = open_store(layer, rel, read_only=True)
        attrs = json.loads(store[".zattrs"])
        assert attrs == summary["zattrs"], rel
        for lvl in summary["levels"]:
            data = ome.read_region(store, lvl["path"])
            assert list(data.shape) == lvl["shape"], rel
            assert str(data.dtype) == lvl["dtype"], rel
            assert math.isclose(float(data.astype(np.float64).sum()), lvl["sum"], rel_tol=rtol, abs_tol=atol)
            for v in lvl["values"]:
                assert data[tuple(v["index"])] == pytest.approx(v["value"], abs=atol), (rel, v)
            if "unique" in lvl:
                assert np.unique(data).tolist() == lvl["unique"]


def test_reference_image_opens_with_plain_zarr_through_our_store():
    need_fixture()
    store = open_store(Layer.from_url(str(FIXTURE)), FIXTURE_IMAGES[0][0], read_only=True)
    group = zarr.open(store)
    assert group["0"].shape == (64, 96, 80)
    assert group["2"].shape == (16, 24, 20)
    assert util_ome.get_voxel_size_from_zarr(group) == 10.0
    assert util_ome.get_voxel_size_from_zarr(store) == 10.0


def test_fixture_call_of_write_ome_zarr_3d_writes_the_reference_files(tmp_path):
    """``write_ome_zarr_3d(store, volume_pyramid(vol, 10.0, 3), chunk_size=...)`` as the fixture script."""
    need_fixture()
    src = FIXTURE / "ExperimentRuns/TS_001/VoxelSpacing10.000/denoised.zarr"
    vol = zarr.open_array(str(src / "0"), mode="r")[...]
    store = local_store(tmp_path, "denoised.zarr")
    util_ome.write_ome_zarr_3d(store, util_ome.volume_pyramid(vol, 10.0, 3), chunk_size=(32, 64, 64))
    dst = tmp_path / "denoised.zarr"
    assert files_under(dst) == files_under(src)
    for name in (".zattrs", ".zgroup", "0/.zarray", "1/.zarray", "2/.zarray"):
        assert (dst / name).read_bytes() == (src / name).read_bytes()


# --- writing and reading ----------------------------------------------------------------------


@requires_zarr3  # ome-zarr-models needs zarr 3
def test_written_image_validates_as_ome_ngff_04(tmp_path):
    from ome_zarr_models.v04 import Image

    store = local_store(tmp_path)
    data = np.random.default_rng(1).standard_normal((20, 30, 40)).astype(np.float32)
    ome.write_multiscale(store, ome.iter_volume_pyramid(data, 3), 10.0)
    image = Image.from_zarr(zarr.open_group(store, mode="r"))
    assert image.ome_attributes.multiscales[0].version == "0.4"

    pan = local_store(tmp_path, "pan.zarr")
    labels = np.zeros((2, 8, 8, 8), np.uint16)
    ome.write_multiscale(pan, [labels], 10.0, channel_axis=True, metadata={"copick": {"x": 1}})
    Image.from_zarr(zarr.open_group(pan, mode="r"))


def test_image_round_trips_on_local_and_memory(layer):
    store = open_store(layer, "run/img.zarr", read_only=False)
    data = np.random.default_rng(2).standard_normal((33, 45, 51)).astype(np.float32)
    shapes = ome.write_multiscale(store, ome.iter_volume_pyramid(data, 3), 7.84, chunks=(16, 32, 32))
    assert shapes == [(33, 45, 51), (17, 23, 26), (9, 12, 13)]
    keys = raw_keys(layer, "run/img.zarr")
    assert ".zattrs" in keys and ".zgroup" in keys and "0/.zarray" in keys
    assert "0/2/1/1" in keys  # nested chunk keys, "/" separator
    assert not any(k.endswith("/.zattrs") for k in keys)  # no empty per-array .zattrs
    reader = open_store(layer, "run/img.zarr", read_only=True)
    np.testing.assert_array_equal(ome.read_region(reader, 0), data)
    np.testing.assert_array_equal(ome.read_region(reader, "1"), ome.volume_pyramid(data, 2)[1])
    region = ome.read_region(reader, 0, (slice(3, 20), slice(None), slice(5, 6)))
    np.testing.assert_array_equal(region, data[3:20, :, 5:6])


def test_writing_again_replaces_the_whole_image(layer):
    store = open_store(layer, "img.zarr", read_only=False)
    ome.write_multiscale(store, ome.iter_volume_pyramid(np.ones((40, 40, 40)), 3), 10.0, chunks=(16, 16, 16))
    store["stale-file"] = b"x"
    ome.write_multiscale(store, [np.full((8, 8, 8), 2, np.float32)], 10.0)
    assert raw_keys(layer, "img.zarr") == [".zattrs", ".zgroup", "0/.zarray", "0/0/0/0"]
    assert len(json.loads(store[".zattrs"])["multiscales"][0]["datasets"]) == 1
    assert ome.read_region(store, 0).max() == 2


def test_small_arrays_keep_256_cubed_chunks(tmp_path):
    store = local_store(tmp_path)
    ome.write_multiscale(store, [np.zeros((4, 5, 6), np.uint8)], 10.0)
    meta = json.loads(store["0/.zarray"])
    assert meta["chunks"] == [256, 256, 256]
    assert meta["fill_value"] == 0 and meta["dtype"] == "|u1"
    assert zarr.open(store)["0"].chunks == (256, 256, 256)


def test_region_reads_touch_only_the_chunks_they_overlap(layer):
    store = open_store(layer, "img.zarr", read_only=False)
    data = np.arange(32 * 32 * 32, dtype=np.float32).reshape(32, 32, 32) + 1
    ome.write_multiscale(store, [data], 10.0, chunks=(8, 8, 8))
    keep = {f"0/{z}/{y}/{x}" for z in (1, 2) for y in (0,) for x in (3,)}
    for key in raw_keys(layer, "img.zarr"):
        if key.count("/") == 3 and key not in keep:
            del store[key]
    region = ome.read_region(store, 0, (slice(8, 24), slice(0, 8), slice(24, 32)))
    np.testing.assert_array_equal(region, data[8:24, 0:8, 24:32])


def test_write_region_updates_part_of_a_level(tmp_path):
    store = local_store(tmp_path)
    ome.write_multiscale(store, [np.zeros((10, 10, 10), np.float32)], 10.0, chunks=(4, 4, 4))
    ome.write_region(store, 0, np.ones((2, 3, 4), np.float32), (slice(1, 3), slice(2, 5), slice(0, 4)))
    out = ome.read_region(store, 0)
    assert out.sum() == 24 and out[1:3, 2:5, 0:4].all()
    with pytest.raises(ValueError, match="does not match"):
        ome.write_region(store, 0, np.ones((2, 2, 2)), (slice(0, 3),))


def test_missing_level_is_a_key_error_naming_the_store(tmp_path):
    empty = local_store(tmp_path, "empty.zarr")
    with pytest.raises(KeyError) as info:
        ome.read_region(empty, "0")
    assert "empty.zarr" in str(info.value) and "no .zgroup" in str(info.value)
    store = local_store(tmp_path)
    ome.write_multiscale(store, [np.zeros((4, 4, 4), np.float32)], 10.0)
    with pytest.raises(KeyError, match=r"no level '2'.*levels: \['0'\]"):
        ome.read_region(store, 2)


def test_broken_zattrs_is_reported_as_a_corrupt_file(tmp_path):
    store = local_store(tmp_path)
    ome.write_multiscale(store, [np.zeros((4, 4, 4), np.float32)], 10.0)
    (tmp_path / "img.zarr" / ".zattrs").write_text("{not json")
    with pytest.raises(CorruptFileError, match="img.zarr"):
        ome.read_region(store, 0)


def test_region_larger_than_free_memory_is_refused(tmp_path, monkeypatch):
    store = local_store(tmp_path)
    ome.write_multiscale(store, [np.zeros((16, 16, 16), np.float32)], 10.0)
    monkeypatch.setattr(ome_regions, "available_memory", lambda: 1000)
    with pytest.raises(ValueError, match="Requested region does not fit in memory"):
        ome.read_region(store, 0)
    assert ome.read_region(store, 0, (slice(0, 1), slice(0, 4), slice(0, 4))).shape == (1, 4, 4)
    arr = zarr.open(store)["0"]
    assert not util_ome.fits_in_memory(arr)
    assert util_ome.fits_in_memory(arr, (slice(0, 1), slice(0, 4), slice(0, 4)))


def test_read_only_store_refuses_every_write(layer):
    store = open_store(layer, "img.zarr", read_only=False)
    ome.write_multiscale(store, [np.zeros((4, 4, 4), np.float32)], 10.0)
    before = raw_keys(layer, "img.zarr")
    ro = open_store(layer, "img.zarr", read_only=True)
    assert ro.read_only and ro.mode == "r"
    with pytest.raises(ReadOnlyStoreError) as info:
        ome.write_multiscale(ro, [np.ones((4, 4, 4), np.float32)], 10.0)
    assert isinstance(info.value, PermissionError) and isinstance(info.value, ValueError)
    with pytest.raises(PermissionError):
        ro["x"] = b"1"
    with pytest.raises(PermissionError):
        del ro[".zattrs"]
    with pytest.raises(ValueError):
        zarr.open(ro)["0"][0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        zarr.create(shape=(2,), dtype="uint8", store=ro, overwrite=True)
    assert raw_keys(layer, "img.zarr") == before
    np.testing.assert_array_equal(ome.read_region(ro, 0), np.zeros((4, 4, 4)))


def test_store_answers_zarr2_mapping_calls(tmp_path):
    store = local_store(tmp_path)
    ome.write_multiscale(store, [np.zeros((4, 4, 4), np.float32)], 10.0)
    assert json.loads(store[".zgroup"]) == {"zarr_format": 2}
    assert ".zattrs" in store and "nope" not in store
    assert set(store) == {".zattrs", ".zgroup", "0/.zarray", "0/0/0/0"}
    assert len(store) == 4
    store["extra"] = b"abc"
    assert store["extra"] == b"abc"
    del store["extra"]
    with pytest.raises(KeyError):
        store["extra"]
    assert store.path.endswith("img.zarr") and store.fs is not None


def test_store_works_on_s3(s3_server):
    """The one test that needs the loopback S3 server (skipped without moto/s3fs)."""
    layer = Layer.from_url(s3_server.unique_url("ome"), s3_server.fs_args())
    store = open_store(layer, "img.zarr", read_only=False)
    data = np.random.default_rng(4).standard_normal((20, 24, 28)).astype(np.float32)
    ome.write_multiscale(store, ome.iter_volume_pyramid(data, 2), 10.0, chunks=(16, 16, 16))
    z = zarr.create(
        shape=(4, 4),
        chunks=(2, 2),
        dtype="uint8",
        compressor=numcodecs.Blosc(),
        store=open_store(layer, "f.zarr", False),
        **V2,
    )
    z[:] = 7
    reader = open_store(layer, "img.zarr", read_only=True)
    np.testing.assert_array_equal(ome.read_region(reader, 0), data)
    assert "0/1/1/1" in raw_keys(layer, "img.zarr")
    assert "1/1" in raw_keys(layer, "f.zarr")
    ome.write_multiscale(store, [np.ones((2, 2, 2), np.float32)], 10.0)  # replaces: one level left
    layer.fs.invalidate_cache()
    assert raw_keys(layer, "img.zarr") == [".zattrs", ".zgroup", "0/.zarray", "0/0/0/0"]


# --- crash safety -----------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    import time

    import numpy as np
    from copick.formats import ome
    from copick.formats.zarr_store import open_store
    from copick.storage import Layer

    store = open_store(Layer.from_url(sys.argv[1]), "img.zarr", read_only=False)
    base = np.random.default_rng(0).standard_normal((48, 64, 64)).astype(np.float32)
    print("ready", flush=True)
    k = 0
    while True:
        levels = ome.iter_volume_pyramid(base + np.float32(k), 3)
        ome.write_multiscale(store, levels, 10.0, chunks=(16, 16, 16))
        k += 1
        time.sleep(0.05)  # a window in which the image is complete
    """
)


def test_a_killed_writer_never_leaves_a_complete_looking_but_unreadable_image(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    base = np.random.default_rng(0).standard_normal((48, 64, 64)).astype(np.float32)
    rng = random.Random(131)
    outcomes = []
    deadline = time.monotonic() + 15
    trial = 0
    while trial < 6 and time.monotonic() < deadline:
        root = tmp_path / f"trial{trial}"
        proc = subprocess.Popen([sys.executable, str(script), str(root)], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.8))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        store = local_store(root, "img.zarr", read_only=True)
        try:
            level0 = ome.read_region(store, 0)
        except KeyError:
            outcomes.append("incomplete")
        else:
            k = float(level0[0, 0, 0] - base[0, 0, 0])
            expected = ome.volume_pyramid(base + np.float32(round(k)), 3)
            attrs = json.loads(store[".zattrs"])
            assert [d["path"] for d in attrs["multiscales"][0]["datasets"]] == ["0", "1", "2"]
            for i, level in enumerate(expected):
                np.testing.assert_array_equal(ome.read_region(store, i), level)
            outcomes.append("complete")
        trial += 1
    print("killed writer outcomes:", outcomes)
    assert trial >= 3, outcomes


def test_store_pickles_for_worker_processes(layer):
    import pickle

    store = open_store(layer, "img.zarr", read_only=False)
    ome.write_multiscale(store, [np.full((3, 3, 3), 4, np.float32)], 10.0)
    copy = pickle.loads(pickle.dumps(store))
    assert ome.read_region(copy, 0).sum() == 4 * 27
    assert copy.path == store.path and copy.fs is not None


@pytest.mark.parametrize(
    ("axes", "scale", "expected"),
    [
        (["z", "y", "x"], [10.0, 10.0, 10.0], 10.0),
        (["c", "z", "y", "x"], [1.0, 7.5, 7.5, 7.5], 7.5),
        (["z", "y", "x", "c"], [1.2, 1.2, 1.2, 1.0], 12.0),  # nanometer axes, channel last
        ([], [3.0, 4.0, 5.0], 3.0),  # no axes: the third-from-last entry
    ],
)
def test_voxel_size_is_read_at_the_first_spatial_axis_whatever_the_order(axes, scale, expected):
    from copick.util.ome import get_voxel_size_from_zarr

    unit = "nanometer" if axes and axes[-1] == "c" else "angstrom"
    described = [
        {"name": n, "type": "channel"} if n == "c" else {"name": n, "type": "space", "unit": unit}
        for n in axes
    ]
    transforms = [{"type": "scale", "scale": scale}]
    attrs = {
        "multiscales": [
            {"axes": described, "datasets": [{"path": "0", "coordinateTransformations": transforms}]}
        ]
    }
    assert get_voxel_size_from_zarr(attrs) == pytest.approx(expected)
