"""Images as Dask arrays (issue 18): ``to_dask`` of every kind and level equals ``numpy()``; ``from_dask``
writes, block by block, the very files ``from_numpy`` writes for the same data, also for a volume
larger than the memory it is given (peak RSS measured in a subprocess)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import copick
from copick.errors import InvalidDataError
from copick.models import PickableObject

da = pytest.importorskip("dask.array")
cloudpickle = pytest.importorskip("cloudpickle")

pytestmark = pytest.mark.volumes

OBJECTS = [
    PickableObject(name="proteasome", is_particle=True, label=1),
    PickableObject(name="ribosome", is_particle=True, label=2),
    PickableObject(name="membrane", is_particle=False, label=3),
]


@pytest.fixture
def run(tmp_path):
    copick.new_config(str(tmp_path / "c.json"), str(tmp_path / "p"), pickable_objects=OBJECTS)
    return copick.from_file(str(tmp_path / "c.json")).new_run("TS_1")


def store_files(path: str) -> dict[str, bytes]:
    """Every file of an image store, by relative path."""
    out = {}
    for folder, _, files in os.walk(path):
        for name in files:
            full = os.path.join(folder, name)
            out[os.path.relpath(full, path)] = Path(full).read_bytes()
    return out


def in_thread(call, *args, **kwargs) -> None:
    """``call`` from a non-main thread. Under zarr 2, numcodecs' Blosc compresses with several threads
    when called from the main thread and stores its blocks as they finish, so the chunk bytes of two
    equal writes may differ (same data); from another thread it uses one, in order, as zarr 3 always
    does. The reference writes are made this way so that the files compare byte for byte."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            call(*args, **kwargs)
        except BaseException as err:  # pragma: no cover - re-raised below
            errors.append(err)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------------------------
# to_dask
# --------------------------------------------------------------------------------------------


def test_to_dask_equals_numpy_for_every_kind_and_level(run) -> None:
    rng = np.random.default_rng(0)
    vs = run.new_voxel_spacing(10.0)
    tomo = vs.new_tomogram("wbp")
    tomo.from_numpy(rng.normal(size=(37, 300, 41)))  # two chunks along y at level 0, odd sizes
    seg = run.new_segmentation(10.0, "labels", "1", is_multilabel=True, user_id="u")
    seg.from_numpy(rng.integers(0, 3, size=(33, 20, 17)), levels=3)
    pan = run.new_segmentation(10.0, "pan", "1", user_id="u", is_panoptic=True)
    labels = rng.integers(0, 3, size=(9, 10, 11))
    pan.from_numpy(np.stack([labels, np.where(labels > 0, rng.integers(1, 50, labels.shape), 0)]), levels=2)
    obj = run.root.get_object("proteasome")
    obj.from_numpy(rng.normal(size=(12, 12, 12)), 10.0)
    features = tomo.new_features("sobel")
    from copick.formats import ome

    ome.write_multiscale(
        features.zarr(), [rng.normal(size=(3, 37, 30, 41)).astype(np.float32)], 10.0, chunks=(16, 16, 16)
    )
    cases = [(tomo, "012"), (seg, "012"), (pan, "01"), (obj, "0"), (features, "0")]
    for entity, levels in cases:
        for level in levels:
            arr = entity.to_dask(level)
            expected = entity.numpy(level)
            assert isinstance(arr, da.Array)
            assert arr.shape == expected.shape and arr.dtype == expected.dtype
            assert arr.chunksize == tuple(
                min(c, n) for c, n in zip(ome.open_level(entity.zarr(), level).chunks, arr.shape)
            )
            np.testing.assert_array_equal(arr.compute(), expected)
    assert tomo.to_dask(1).shape == tomo.to_dask("1").shape
    assert run.root.get_object("membrane").to_dask() is None  # not a particle: no map, as numpy()


def test_to_dask_reads_only_the_chunks_it_needs_and_pickles(run) -> None:
    tomo = run.new_voxel_spacing(10.0).new_tomogram("wbp")
    data = np.arange(40 * 300 * 270, dtype=np.float32).reshape(40, 300, 270)
    tomo.from_numpy(data, levels=1)
    arr = tomo.to_dask()
    assert arr.numblocks == (1, 2, 2)
    chunk = Path(tomo.overlay_path) / "0" / "0" / "1" / "1"
    chunk.write_bytes(b"not a blosc frame")  # reading the first chunk does not touch this one
    np.testing.assert_array_equal(arr[:, :100, :100].compute(), data[:, :100, :100])
    with pytest.raises(Exception):  # noqa: B017 - a read that needs it does
        arr[:, 280:, 260:].compute()
    clone = cloudpickle.loads(cloudpickle.dumps(arr[:, :10, :10] * 2))  # what a Dask worker receives
    np.testing.assert_array_equal(clone.compute(), data[:, :10, :10] * 2)
    from copick.formats.dask_volumes import LevelReader

    reader = pickle.loads(
        pickle.dumps(LevelReader(tomo._layer, tomo._relpath, "0", data.shape, "f4", (8, 8, 8)))
    )
    np.testing.assert_array_equal(reader[(slice(0, 2), slice(5, 9), slice(0, 3))], data[:2, 5:9, :3])
    assert tomo.to_dask(chunks=(8, 64, 64)).chunksize == (8, 64, 64)


def test_to_dask_of_a_missing_level_is_an_error(run) -> None:
    tomo = run.new_voxel_spacing(10.0).new_tomogram("wbp")
    with pytest.raises(KeyError):
        tomo.to_dask()
    tomo.from_numpy(np.zeros((4, 4, 4)), levels=1)
    with pytest.raises(KeyError, match="no level '1'"):
        tomo.to_dask("1")


# --------------------------------------------------------------------------------------------
# from_dask: the files of from_numpy
# --------------------------------------------------------------------------------------------


def test_from_dask_writes_the_files_of_from_numpy(run) -> None:
    rng = np.random.default_rng(1)
    vs = run.new_voxel_spacing(10.0)
    data = rng.normal(size=(21, 300, 263)) * 50  # float64 in, float32 stored; several chunks, odd edges
    ref, ours = vs.new_tomogram("ref"), vs.new_tomogram("ours")
    in_thread(ref.from_numpy, data)
    ours.from_dask(da.from_array(data, chunks=(5, 97, 64)))
    assert store_files(ours.overlay_path) == store_files(ref.overlay_path)
    in_thread(ref.from_numpy, data, levels=4, dtype=np.float64)
    ours.from_dask(da.from_array(data, chunks=(21, 300, 263)), levels=4, dtype=np.float64)
    assert store_files(ours.overlay_path) == store_files(ref.overlay_path)
    np.testing.assert_array_equal(ours.numpy("3"), ref.numpy("3"))

    labels = rng.integers(0, 300, size=(35, 270, 33))
    for kind in ({"is_multilabel": True}, {"is_instance": True}):
        name = "proteasome" if "is_instance" in kind else "labels"
        ref_seg = run.new_segmentation(10.0, name, "ref", user_id="u", **kind)
        our_seg = run.new_segmentation(10.0, name, "ours", user_id="u", **kind)
        in_thread(ref_seg.from_numpy, labels, levels=3)
        our_seg.from_dask(da.from_array(labels, chunks=(8, 100, 33)), levels=3)
        files = store_files(our_seg.path)
        assert files == store_files(ref_seg.path) and json.loads(files["0/.zarray"])["dtype"] == "<u2"

    pan_labels = rng.integers(0, 3, size=(17, 40, 23))
    panoptic = np.stack([pan_labels, np.where(pan_labels > 0, rng.integers(1, 9, pan_labels.shape), 0)])
    ref_pan = run.new_segmentation(10.0, "pan", "ref", user_id="u", is_panoptic=True)
    our_pan = run.new_segmentation(10.0, "pan", "ours", user_id="u", is_panoptic=True)
    in_thread(ref_pan.from_numpy, panoptic, levels=2)
    our_pan.from_dask(da.from_array(panoptic, chunks=(1, 9, 40, 7)), levels=2)
    assert store_files(our_pan.path) == store_files(ref_pan.path)

    obj = run.root.get_object("ribosome")
    density = rng.normal(size=(30, 31, 32))
    in_thread(obj.from_numpy, density, 7.5)
    expected = store_files(obj.overlay_path)
    obj.from_dask(da.from_array(density, chunks=8), voxel_size=7.5)
    assert store_files(obj.overlay_path) == expected


def test_from_numpy_of_a_dask_array_writes_the_files_of_the_computed_array(run) -> None:
    """``from_numpy`` (and ``add_features``) hand a Dask array to ``from_dask``: the same files as for
    the computed array, for every kind; the array is computed block by block, never whole (see the
    memory test below)."""
    from copick.ops.importers import add_features

    rng = np.random.default_rng(4)
    vs = run.new_voxel_spacing(10.0)
    volume = da.from_array(rng.normal(size=(19, 270, 41)) * 9, chunks=(7, 100, 41))
    ref, ours = vs.new_tomogram("ref"), vs.new_tomogram("ours")
    in_thread(ref.from_numpy, volume.compute(), levels=2)
    ours.from_numpy(volume, levels=2)
    assert store_files(ours.overlay_path) == store_files(ref.overlay_path)

    channels = da.from_array(rng.normal(size=(3, 19, 270, 41)), chunks=(1, 10, 100, 41))
    in_thread(ref.new_features("ref").from_numpy, channels.compute())
    ours.new_features("ours").from_numpy(channels)
    add_features(run.root, run, 10.0, "ours", "added", channels, chunks=(8, 64, 64))
    in_thread(add_features, run.root, run, 10.0, "ref", "added", channels.compute(), chunks=(8, 64, 64))
    for feature_type in ("ours", "added"):
        mine = store_files(ours.get_features(feature_type).path)
        theirs = store_files(ref.get_features("ref" if feature_type == "ours" else "added").path)
        assert mine == theirs and json.loads(mine["0/.zarray"])["chunks"][0] == 3
    np.testing.assert_array_equal(ours.get_features("added").numpy(), channels.compute().astype(np.float32))

    labels = da.from_array(rng.integers(0, 70000, size=(21, 40, 33)), chunks=(5, 40, 11))
    ref_seg = run.new_segmentation(10.0, "proteasome", "ref", user_id="u", is_instance=True)
    our_seg = run.new_segmentation(10.0, "proteasome", "ours", user_id="u", is_instance=True)
    in_thread(ref_seg.from_numpy, labels.compute(), levels=2)
    our_seg.from_numpy(labels, levels=2)
    files = store_files(our_seg.path)
    assert files == store_files(ref_seg.path) and json.loads(files["0/.zarray"])["dtype"] == "<u4"

    obj = run.root.get_object("ribosome")
    density = da.from_array(rng.normal(size=(30, 31, 32)), chunks=9)
    in_thread(obj.from_numpy, density.compute(), 7.5)
    expected = store_files(obj.overlay_path)
    obj.from_numpy(density, 7.5)
    assert store_files(obj.overlay_path) == expected


def test_from_dask_takes_any_array_like_and_reads_back(run) -> None:
    vs = run.new_voxel_spacing(10.0)
    source = vs.new_tomogram("source")
    data = np.random.default_rng(2).normal(size=(40, 50, 60)).astype(np.float32)
    source.from_numpy(data)
    copy = vs.new_tomogram("copy")
    copy.from_dask(source.to_dask())  # volume to volume, never whole in memory
    for level in "012":
        np.testing.assert_array_equal(copy.numpy(level), source.numpy(level))
    plain = vs.new_tomogram("plain")
    plain.from_dask(data, levels=2)  # a numpy array is one block
    np.testing.assert_array_equal(plain.numpy("1"), source.numpy("1"))
    from copick.formats import ome

    plain.from_dask(ome.open_level(source.zarr(), "0"), levels=1)  # a zarr array: chunked as stored
    np.testing.assert_array_equal(plain.numpy(), data)


def test_from_dask_refuses_what_from_numpy_refuses(run) -> None:
    vs = run.new_voxel_spacing(10.0)
    tomo = vs.new_tomogram("wbp")
    with pytest.raises(InvalidDataError, match="must be a 3-D array"):
        tomo.from_dask(da.zeros((4, 4)))
    with pytest.raises(InvalidDataError, match="must hold numbers"):
        tomo.from_dask(da.from_array(np.array([[["a"]]])))
    seg = run.new_segmentation(10.0, "labels", "1", is_multilabel=True, user_id="u")
    for bad, message in ((-1, "non-negative"), (0.5, "integers"), (np.nan, "finite")):
        values = np.zeros((3, 3, 3))
        values[1, 1, 1] = bad
        with pytest.raises(InvalidDataError, match=message):
            seg.from_numpy(values)
        with pytest.raises(InvalidDataError, match=message):
            seg.from_dask(da.from_array(values, chunks=2))
    with pytest.raises(InvalidDataError, match="do not fit uint8"):
        seg.from_dask(da.full((3, 3, 3), 300), dtype=np.uint8)
    pan = run.new_segmentation(10.0, "pan", "1", user_id="u", is_panoptic=True)
    with pytest.raises(InvalidDataError, match=r"shape \(2, Z, Y, X\)"):
        pan.from_dask(da.zeros((3, 3, 3)))
    unknown = np.zeros((2, 3, 3, 3), dtype=np.uint16)
    unknown[0, 0, 0, 0] = 7
    with pytest.raises(InvalidDataError, match=r"holds \[7\]"):
        pan.from_dask(da.from_array(unknown))
    stray = np.zeros((2, 3, 3, 3), dtype=np.uint16)
    stray[1, :2, 0, 0] = 5
    with pytest.raises(InvalidDataError, match="2 background voxels"):
        pan.from_dask(da.from_array(stray, chunks=1))
    with pytest.raises(ValueError, match="not a particle"):
        run.root.get_object("membrane").from_dask(da.zeros((2, 2, 2)), voxel_size=10.0)
    with pytest.raises(TypeError, match="voxel_size"):
        run.root.get_object("proteasome").from_dask(da.zeros((2, 2, 2)))
    features = tomo.new_features("sobel")
    with pytest.raises(InvalidDataError, match=r"numeric \(C, Z, Y, X\) array"):
        features.from_dask(da.zeros((2, 2)))
    with pytest.raises(InvalidDataError, match="one level"):
        features.from_dask(da.zeros((2, 2, 2, 2)), levels=2)
    with pytest.raises(ValueError, match="levels"):
        tomo.from_dask(da.zeros((2, 2, 2)), levels=0)
    with pytest.raises(KeyError):  # nothing was written by the refused calls
        tomo.numpy()


# --------------------------------------------------------------------------------------------
# from_dask of a volume larger than its memory
# --------------------------------------------------------------------------------------------

SHAPE = (1024, 512, 512)  # int8: 256 MiB, 16 chunks of 256^3 at level 0
LIMIT_MIB = 160  # growth of peak RSS allowed to from_dask (from_numpy of a numpy array needs about 650)

_WRITER = textwrap.dedent(
    """
    import sys, threading, numpy as np
    import dask, dask.array as da
    import copick, copick.formats.dask_volumes, copick.formats.ome

    def hwm():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmHWM"))

    def gen(block, block_info=None):
        (z0, z1), (y0, y1), (x0, x1) = block_info[None]["array-location"]
        z = ((np.arange(z0, z1) * 3) % 256).astype(np.uint8)
        y = ((np.arange(y0, y1) * 5 + np.arange(y0, y1) // 7) % 256).astype(np.uint8)
        x = ((np.arange(x0, x1) // 3) % 256).astype(np.uint8)
        out = np.empty((z1 - z0, y1 - y0, x1 - x0), dtype=np.uint8)
        np.add(z[:, None, None], y[None, :, None], out=out)
        out += x[None, None, :]
        return out.view(np.int8)

    config, name, mode, shape = sys.argv[1], sys.argv[2], sys.argv[3], tuple(map(int, sys.argv[4].split(",")))
    data = da.zeros(shape, chunks=(64, 64, 64), dtype=np.int8).map_blocks(gen, dtype=np.int8)
    tomo = copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms(name)[0]
    base = hwm()
    with dask.config.set(scheduler="threads"):
        if mode == "dask":
            tomo.from_dask(data, dtype=np.int8, batch_bytes=16 << 20)
        elif mode == "numpy-of-dask":  # from_numpy hands the Dask array to from_dask (64 MiB batches)
            tomo.from_numpy(data, dtype=np.int8)
        else:  # the reference, from a thread (see in_thread in the test module)
            volume = data.compute()
            thread = threading.Thread(target=tomo.from_numpy, args=(volume,), kwargs={"dtype": np.int8})
            thread.start(); thread.join()
    print(hwm() - base)
    """
)


def test_from_dask_of_a_volume_larger_than_its_memory_limit(run, tmp_path) -> None:
    vs = run.new_voxel_spacing(10.0)
    ref, ours, via_numpy = vs.new_tomogram("ref"), vs.new_tomogram("ours"), vs.new_tomogram("via-numpy")
    config = str(tmp_path / "c.json")
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    size = ",".join(map(str, SHAPE))
    procs = {
        mode: subprocess.Popen(
            [sys.executable, str(script), config, name, mode, size], stdout=subprocess.PIPE, text=True
        )
        for mode, name in (("dask", "ours"), ("numpy", "ref"), ("numpy-of-dask", "via-numpy"))
    }
    growth = {}
    for mode, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{mode} writer failed"
        growth[mode] = int(out.split()[-1])
    volume_mib = int(np.prod(SHAPE)) >> 20
    print(f"peak RSS growth (MiB) writing a {volume_mib} MiB volume: {growth}")
    assert growth["dask"] < LIMIT_MIB < volume_mib, growth  # the volume never was in memory
    assert growth["numpy-of-dask"] < LIMIT_MIB, growth  # from_numpy of the Dask array: the same path
    assert growth["numpy"] > volume_mib, growth  # (as it is for from_numpy of a numpy array)
    expected = store_files(ref.overlay_path)
    assert store_files(ours.overlay_path) == expected
    assert store_files(via_numpy.overlay_path) == expected
