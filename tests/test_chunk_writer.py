"""The direct chunk writer (formats/chunk_writer.py) writes the very files zarr writes, and the label
dtype rule skips its value scan only where the values cannot change the answer."""

from __future__ import annotations

import os

import numcodecs
import numpy as np
import pytest
import zarr

from copick.formats import chunk_writer, ome, zarr_store
from copick.formats.label_dtypes import _value_range, choose_segmentation_dtype

BLOSC = {"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1}


def _zarr_level(path, data, chunks):
    """Level "0" written by zarr itself (single-threaded Blosc, every chunk kept)."""
    v2 = {} if zarr.__version__.startswith("2.") else {"zarr_format": 2}
    group = zarr.open_group(str(path), mode="w", **v2)
    common = {
        "shape": data.shape,
        "dtype": data.dtype,
        "chunks": ome.normalize_chunks(chunks, data.ndim),
        "fill_value": 0,
    }
    compressor = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)
    if v2:
        array = group.create_array(
            "0",
            compressors=compressor,
            filters=None,
            chunk_key_encoding={"name": "v2", "separator": "/"},
            config={"write_empty_chunks": True},
            **common,
        )
    else:
        array = group.create_dataset(
            "0", compressor=compressor, dimension_separator="/", write_empty_chunks=True, **common
        )
    array[...] = data


def _chunk_files(level_dir):
    out = {}
    for folder, _, names in os.walk(level_dir):
        for name in names:
            if not name.startswith("."):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, level_dir)] = f.read()
    return out


CASES = [
    ((150, 90, 50), "<f4", (128, 64, 64)),  # pieces per chunk; edge chunks padded in z, y and x
    ((130, 64, 64), "<f4", (130, 64, 64)),  # a trailing partial Blosc block, in the last piece
    ((64, 64, 200), "|u1", (128, 64, 64)),
    ((40, 37, 50), "<u2", (16, 16, 16)),  # chunks smaller than a piece: one task per chunk
    ((20, 9, 13), "<i8", (32, 32, 32)),  # one small padded chunk
    ((2, 30, 40, 50), "|u1", (1, 128, 64, 64)),  # a leading channel axis (panoptic)
    ((70, 130, 130), "<f8", (37, 129, 131)),  # chunk sizes that are no multiple of the block size
]


@pytest.mark.parametrize(("shape", "dtype", "chunks"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_levels_written_directly_equal_zarrs_files_byte_for_byte(tmp_path, monkeypatch, shape, dtype, chunks):
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)
    monkeypatch.setattr(chunk_writer, "PIECE_BYTES", 64 * 1024)  # many pieces at test sizes
    monkeypatch.setattr(chunk_writer, "MIN_PIECE_BLOCKS", 2)
    fallbacks = []
    fallback = chunk_writer._LevelWriter._fallback
    monkeypatch.setattr(
        chunk_writer._LevelWriter, "_fallback", lambda self, i: fallbacks.append(i) or fallback(self, i)
    )
    rng = np.random.default_rng(len(shape) + int(np.prod(shape)))
    data = (np.indices(shape).sum(axis=0) // 3 % 40).astype(dtype)  # compressible: pieces splice
    speckle = rng.random(shape) < 0.02
    data[speckle] = rng.integers(0, 100, int(speckle.sum()))
    ours = tmp_path / "ours.zarr"
    os.makedirs(ours)
    ome.write_multiscale(zarr_store.local_store(str(ours)), [data], 10.0, chunks=chunks)
    _zarr_level(tmp_path / "ref.zarr", data, chunks)
    mine, theirs = _chunk_files(ours / "0"), _chunk_files(tmp_path / "ref.zarr" / "0")
    assert sorted(mine) == sorted(theirs)
    assert all(mine[k] == theirs[k] for k in theirs)
    assert np.array_equal(zarr.open_group(str(ours), mode="r")["0"][...], data)
    assert not any(name.endswith(".partial") for name in _chunk_files(ours / "0"))
    assert fallbacks == []  # every multi-piece chunk was spliced


def test_parallel_write_of_a_large_level_equals_zarr(tmp_path, monkeypatch):
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)
    data = (np.random.default_rng(3).standard_normal((96, 80, 72)) + 10).astype("<f4")  # > one piece
    ours = tmp_path / "ours.zarr"
    os.makedirs(ours)
    ome.write_multiscale(
        zarr_store.local_store(str(ours)), ome.iter_volume_pyramid(data, 2), 10.0, chunks=(64,) * 3
    )
    _zarr_level(tmp_path / "ref.zarr", data, (64,) * 3)
    assert _chunk_files(ours / "0") == _chunk_files(tmp_path / "ref.zarr" / "0")
    assert np.array_equal(ome.read_region(zarr_store.local_store(str(ours)), 1), ome.downscale_mean(data))


def test_incompressible_chunks_fall_back_to_whole_chunk_frames(tmp_path, monkeypatch):
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)
    monkeypatch.setattr(chunk_writer, "PIECE_BYTES", 16 * 1024)
    monkeypatch.setattr(chunk_writer, "MIN_PIECE_BLOCKS", 2)
    fallbacks = []
    fallback = chunk_writer._LevelWriter._fallback
    monkeypatch.setattr(
        chunk_writer._LevelWriter, "_fallback", lambda self, i: fallbacks.append(i) or fallback(self, i)
    )
    data = np.random.default_rng(5).integers(0, 256, (64, 64, 128), dtype=np.uint8)  # Blosc stores it raw
    ours = tmp_path / "ours.zarr"
    os.makedirs(ours)
    ome.write_multiscale(zarr_store.local_store(str(ours)), [data], 10.0, chunks=(64, 64, 128))
    _zarr_level(tmp_path / "ref.zarr", data, (64, 64, 128))
    assert _chunk_files(ours / "0") == _chunk_files(tmp_path / "ref.zarr" / "0")
    assert fallbacks == [(0, 0, 0)]


def test_unusual_levels_are_left_to_zarr(tmp_path):
    data = np.arange(24, dtype="<f4").reshape(2, 3, 4)
    meta = ome.array_metadata(data.shape, data.dtype, (2, 2, 2))
    assert not chunk_writer.write_level(
        str(tmp_path), data, {**meta, "compressor": {"id": "zlib", "level": 1}}
    )
    assert not chunk_writer.write_level(str(tmp_path), data, {**meta, "fill_value": 7.0})
    assert not chunk_writer.write_level(str(tmp_path), data.astype("<f8"), meta)
    store = zarr_store.local_store(str(tmp_path / "z.zarr"))
    ome.write_multiscale(store, [data], 10.0, chunks=(2, 2, 2), compressor={"id": "zlib", "level": 1})
    assert np.array_equal(ome.read_region(store, 0), data)


@pytest.mark.parametrize("dtype", ["|u1", "<u2", "<u4", "<u8"])
@pytest.mark.parametrize("floor", [np.uint8, np.uint16])
@pytest.mark.parametrize("requested", [None, np.uint8, np.uint16, np.int16, np.float32, bool])
@pytest.mark.parametrize("top", [0, 1, 200, 300, 70_000])
def test_unsigned_labels_get_the_dtype_a_full_scan_gives(dtype, floor, requested, top):
    info = np.iinfo(dtype)
    if top > info.max:
        return
    labels = np.zeros((3, 4, 5), dtype=dtype)
    labels[1, 2, 3] = top

    def scanned():
        lo, hi, _, _ = _value_range(labels)
        probe = np.array([lo, hi], dtype=np.float64)  # scanned by the general rule
        return choose_segmentation_dtype(probe, floor, requested)

    try:
        expected = scanned()
    except ValueError as err:
        with pytest.raises(ValueError, match=str(err).split(" ")[0]):
            choose_segmentation_dtype(labels, floor, requested)
    else:
        assert choose_segmentation_dtype(labels, floor, requested) == expected


@pytest.mark.parametrize("dtype", ["|u1", "<f4"])
@pytest.mark.parametrize("zero_rows", [0, 1, 2, 3, 4, 6, 8])
def test_barely_compressible_chunks_are_still_written_as_blosc_writes_them(
    tmp_path, monkeypatch, dtype, zero_rows
):
    """Near Blosc's output bound pieces splice only when Blosc had room for every stream (else the
    chunk is compressed whole): either way the file is the one single-threaded Blosc writes."""
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)
    monkeypatch.setattr(chunk_writer, "PIECE_BYTES", 16 * 1024)
    monkeypatch.setattr(chunk_writer, "MIN_PIECE_BLOCKS", 2)
    shape = (64, 64, 128) if dtype == "|u1" else (64, 128, 128)
    bits = np.random.default_rng(zero_rows).integers(0, 2**32, shape, dtype=np.uint32)
    data = bits.astype(np.uint8) if dtype == "|u1" else (bits & 0x3FFFFFFF).view(np.float32)  # no NaN
    data[:, :zero_rows] = 0
    ours = tmp_path / "ours.zarr"
    os.makedirs(ours)
    ome.write_multiscale(zarr_store.local_store(str(ours)), [data], 10.0, chunks=shape)
    _zarr_level(tmp_path / "ref.zarr", data, shape)
    assert _chunk_files(ours / "0") == _chunk_files(tmp_path / "ref.zarr" / "0")
    assert np.array_equal(ome.read_region(zarr_store.local_store(str(ours)), 0), data)
