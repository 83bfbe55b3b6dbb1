"""Image entities as users rely on them (API.md behaviours 10-16, 32-38, 45, 48) and their crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import zarr

import copick
from copick.models import PickableObject
from zarr_compat import V2

OBJECTS = [
    PickableObject(name="proteasome", is_particle=True, label=1),
    PickableObject(name="membrane", is_particle=False, label=2),
]


@pytest.fixture
def config(tmp_path):
    copick.new_config(str(tmp_path / "c.json"), str(tmp_path / "p"), pickable_objects=OBJECTS)
    return str(tmp_path / "c.json")


@pytest.fixture
def vs(config):
    return copick.from_file(config).new_run("TS_1").new_voxel_spacing(10.0)


def test_new_tomogram_creates_an_empty_store_and_rejects_duplicates(vs):
    tomo = vs.new_tomogram("wbp")
    assert os.path.isdir(tomo.overlay_path) and os.listdir(tomo.overlay_path) == []  # as copick 1.31
    with pytest.raises(ValueError, match="Tomogram type wbp already exists for this voxel spacing"):
        vs.new_tomogram("wbp")
    assert vs.new_tomogram("wbp", exist_ok=True) is tomo
    with pytest.warns(DeprecationWarning):
        assert vs.get_tomogram("wbp") is tomo
    assert vs.get_tomograms("wbp") == [tomo] and vs.get_tomograms() == []
    with pytest.raises(KeyError):
        tomo.numpy()


def test_from_numpy_writes_a_three_level_float32_pyramid_readable_with_zarr(vs):
    tomo = vs.new_tomogram("wbp")
    data = np.random.default_rng(0).normal(size=(64, 48, 32))
    tomo.from_numpy(data)
    group = zarr.open(tomo.zarr())
    assert [group[k].shape for k in "012"] == [(64, 48, 32), (32, 24, 16), (16, 12, 8)]
    assert group["0"].dtype == np.float32 and group["0"].chunks == (256, 256, 256)
    scales = [d["coordinateTransformations"][0]["scale"] for d in group.attrs["multiscales"][0]["datasets"]]
    assert scales == [[10.0] * 3, [20.0] * 3, [40.0] * 3]
    np.testing.assert_array_equal(tomo.numpy(), data.astype(np.float32))
    np.testing.assert_array_equal(tomo.numpy(1), np.asarray(group["1"]))
    region = tomo.numpy(x=slice(1, 5), y=slice(2, 4), z=slice(10, 20))
    np.testing.assert_array_equal(region, data.astype(np.float32)[10:20, 2:4, 1:5])
    tomo.from_numpy(data, levels=1)
    assert sorted(zarr.open(tomo.zarr())) == ["0"]
    tomo.set_region(np.ones((2, 2, 2)), x=slice(0, 2), y=slice(0, 2), z=slice(0, 2))
    assert tomo.numpy()[:2, :2, :2].sum() == 8


def test_volume_input_errors_name_the_store(vs):
    tomo = vs.new_tomogram("wbp")
    with pytest.raises(ValueError, match=r"(?s)wbp\.zarr.*3-D"):
        tomo.from_numpy(np.zeros((4, 4)))
    run = vs.run
    seg = run.new_segmentation(10.0, "proteasome", "1", user_id="alice")
    with pytest.raises(ValueError, match="non-negative"):
        seg.from_numpy(-np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="integers"):
        seg.from_numpy(np.full((2, 2, 2), 0.5))


def test_features_live_next_to_their_tomogram(vs, config):
    tomo = vs.new_tomogram("wbp")
    feat = tomo.new_features("sobel")
    assert feat.path.endswith("VoxelSpacing10.000/wbp_sobel_features.zarr")
    with pytest.raises(ValueError):
        tomo.new_features("sobel")
    assert tomo.get_features("nope") is None
    array = zarr.create(
        shape=(3, 8, 8, 8), chunks=(3, 8, 8, 8), dtype="float32", store=feat.zarr(), overwrite=True, **V2
    )
    array[:] = 1.0
    with open(os.path.join(feat.path, ".zarray")) as f:
        assert json.load(f)["zarr_format"] == 2
    again = copick.from_file(config).get_run("TS_1")
    listed = again.get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    assert [f.feature_type for f in listed.features] == ["sobel"]
    assert [t.tomo_type for t in again.get_voxel_spacing(10.0).tomograms] == ["wbp"]


def test_segmentations_types_dtypes_and_defaults(vs, config):
    run = vs.run
    binary = run.new_segmentation(10.0, "proteasome", "1", user_id="alice")
    binary.from_numpy(np.ones((4, 4, 4), dtype=bool))
    assert binary.numpy().dtype == np.uint8
    multi = run.new_segmentation(10.0, "labels", "1", is_multilabel=True, user_id="alice")
    multi.from_numpy(np.full((4, 4, 4), 300.0))
    assert multi.numpy().dtype == np.uint16
    assert multi.path.endswith("Segmentations/10.000_alice_1_labels-multilabel.zarr")
    inst = run.new_segmentation(10.0, "proteasome", "1", user_id="alice", is_instance=True)
    inst.from_numpy(np.arange(64).reshape(4, 4, 4))
    assert inst.numpy().dtype == np.uint16 and "InstanceSegmentations" in inst.path
    with pytest.raises(ValueError, match="not found in pickable objects"):
        run.new_segmentation(10.0, "nope", "1", user_id="alice")
    with pytest.raises(ValueError, match="already exists"):
        run.new_segmentation(10.0, "proteasome", "1", user_id="alice")
    again = copick.from_file(config).get_run("TS_1")
    assert sorted(s.name for s in again.get_segmentations()) == ["labels", "proteasome"]
    assert len(again.segmentations) == 3
    assert [s.segmentation_type for s in again.get_segmentations(is_instance=True)] == ["instance"]
    assert len(again.get_segmentations(voxel_size=10)) == 2
    run.delete_segmentations(name="proteasome")
    assert [s.segmentation_type for s in run.segmentations if s.name == "proteasome"] == ["instance"]


def test_segmentation_pyramid_uses_nearest_neighbour(vs):
    seg = vs.run.new_segmentation(10.0, "proteasome", "1", user_id="alice")
    labels = np.zeros((33, 45, 51), dtype=np.uint8)
    labels[1::2, 1::2, 1::2] = 1
    seg.from_numpy(labels, levels=3)
    assert [seg.numpy(i).shape for i in range(3)] == [(33, 45, 51), (16, 22, 26), (8, 11, 13)]


def test_object_maps(config):
    root = copick.from_file(config)
    obj = root.get_object("proteasome")
    with pytest.raises(KeyError):
        obj.numpy()
    obj.from_numpy(np.ones((8, 8, 8)), 5.0)
    dens = np.array(zarr.open(copick.from_file(config).get_object("proteasome").zarr())["0"])
    assert dens.shape == (8, 8, 8) and dens.dtype == np.float32
    membrane = root.get_object("membrane")
    assert membrane.zarr() is None and membrane.numpy() is None


def test_static_volumes_are_read_only(tmp_path):
    static = copick.new_config(str(tmp_path / "s.json"), str(tmp_path / "static"), pickable_objects=OBJECTS)
    static.new_run("TS_1").new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.ones((4, 4, 4)))
    static.get_object("proteasome").from_numpy(np.ones((4, 4, 4)), 10.0)
    config = {
        "config_type": "filesystem",
        "pickable_objects": [o.model_dump(mode="json") for o in OBJECTS],
        "static_root": "local://" + str(tmp_path / "static"),
        "overlay_root": "local://" + str(tmp_path / "overlay"),
    }
    root = copick.from_string(json.dumps(config))
    tomo = root.get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    assert tomo.read_only
    with pytest.raises(PermissionError):
        tomo.from_numpy(np.zeros((4, 4, 4)))
    with pytest.raises(PermissionError):
        tomo.set_region(np.zeros((1, 1, 1)), x=slice(0, 1), y=slice(0, 1), z=slice(0, 1))
    with pytest.raises(ValueError, match="read-only"):  # zarr's or our store's refusal
        zarr.open(tomo.zarr(), mode="a")["0"][0, 0, 0] = 1
    assert tomo.numpy().sum() == 64
    feat = tomo.new_features("sobel")
    assert not feat.read_only and "overlay" in feat.path
    assert root.get_object("proteasome").read_only and not root.get_object("membrane").read_only
    with pytest.raises(ValueError):
        root.get_run("TS_1").get_voxel_spacing(10.0).new_tomogram("wbp")


REWRITER = textwrap.dedent(
    """
    import sys, numpy as np, copick
    tomo = copick.from_file(sys.argv[1]).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    print("ready", flush=True)
    value = 2.0
    while True:
        tomo.from_numpy(np.full((96, 96, 96), value, dtype=np.float32))
        value += 1
    """
)


def test_a_tomogram_writer_killed_mid_write_leaves_a_complete_tomogram(vs, config):
    vs.new_tomogram("wbp").from_numpy(np.ones((96, 96, 96), dtype=np.float32))
    rng = np.random.default_rng(1)
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", REWRITER, config], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.8))
        child.send_signal(signal.SIGKILL)
        child.wait()
        vsp = copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0)
        assert [t.tomo_type for t in vsp.tomograms] == ["wbp"]
        tomo = vsp.tomograms[0]
        level0, level2 = tomo.numpy(), tomo.numpy(2)
        assert level0.shape == (96, 96, 96) and level2.shape == (24, 24, 24)
        assert np.unique(level0).size == 1 and level0[0, 0, 0] == level2[0, 0, 0]


def test_non_particle_object_cannot_get_a_map(config):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = copick.from_file(config)
    with pytest.raises(ValueError, match="not a particle"):
        root.get_object("membrane").from_numpy(np.ones((2, 2, 2)), 10.0)


def test_repeated_region_reads_stay_correct_when_another_process_rewrites_the_tomogram(vs, config):
    data = np.random.default_rng(3).normal(size=(40, 300, 290)).astype(np.float32)
    vs.new_tomogram("wbp").from_numpy(data, levels=1)
    reader = copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    region = {"x": slice(250, 270), "y": slice(240, 270), "z": slice(5, 25)}  # spans 4 chunks
    for _ in range(2):  # the second read is served from decoded chunks
        np.testing.assert_array_equal(reader.numpy(**region), data[5:25, 240:270, 250:270])
    child = "import sys, numpy as np, copick\n" + (
        "t = copick.from_file(sys.argv[1]).get_run('TS_1').get_voxel_spacing(10.0).get_tomograms('wbp')[0]\n"
        "t.from_numpy(np.full((40, 300, 290), 7.0, dtype=np.float32), levels=1)\n"
    )
    subprocess.run([sys.executable, "-c", child, config], check=True)
    assert np.all(reader.numpy(**region) == 7.0)
