"""Fast paths of issue 16 read and write exactly what the plain paths do (speed is measured in bench/)."""

from __future__ import annotations

import os

import numcodecs
import numpy as np
import orjson
import pytest
import zarr

from copick.errors import CorruptFileError
from copick.formats import blosc_frames, chunk_cache, ome, picks_json, zarr_store

BLOSC = {"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1}


SHAPES = [((32, 32, 32), "<f4"), ((7, 200, 3), "|u1"), ((1, 1, 1), "<i8")]


@pytest.mark.parametrize(("shape", "dtype"), SHAPES)
def test_padded_chunk_frame_decodes_and_matches_single_threaded_blosc(shape, dtype, monkeypatch):
    chunk = np.zeros((64, 256, 256), dtype=dtype)
    chunk[: shape[0], : shape[1], : shape[2]] = np.arange(np.prod(shape)).reshape(shape) % 251
    frame = blosc_frames.encode_padded(BLOSC, chunk[: shape[0]], chunk.nbytes)
    codec = numcodecs.get_codec(BLOSC)
    assert np.array_equal(np.frombuffer(codec.decode(frame), dtype=dtype).reshape(chunk.shape), chunk)
    monkeypatch.setattr(numcodecs.blosc, "use_threads", False)
    assert frame == codec.encode(chunk)


def test_decode_range_gives_the_bytes_asked_for():
    data = np.random.default_rng(0).standard_normal((64, 128, 128)).astype("<f4")
    frame = numcodecs.get_codec(BLOSC).encode(data)
    raw = data.tobytes()
    for start, stop in [(0, 1), (123_457, 2_000_001), (len(raw) - 5, len(raw)), (0, len(raw))]:
        got, offset = blosc_frames.decode_range(frame, start, stop)
        assert bytes(memoryview(got)[start - offset : stop - offset]) == raw[start:stop]


def _image(path, levels, chunks=(16, 16, 16)):
    os.makedirs(path, exist_ok=True)
    ome.write_multiscale(zarr_store.local_store(str(path)), levels, 10.0, chunks=chunks)


@pytest.mark.parametrize("dtype", ["<f4", "|u1"])
def test_small_levels_written_spliced_read_back_through_zarr(tmp_path, dtype):
    data = (np.random.default_rng(1).standard_normal((20, 9, 13)) * 50).astype(dtype)
    _image(tmp_path / "img.zarr", [data, data[::2, ::2, ::2].copy()], chunks=(32, 32, 32))
    group = zarr.open_group(str(tmp_path / "img.zarr"), mode="r")
    assert np.array_equal(group["0"][...], data)
    assert np.array_equal(group["1"][...], data[::2, ::2, ::2])
    assert sorted(os.listdir(tmp_path / "img.zarr" / "0")) == [".zarray", "0"]


def test_direct_local_reads_equal_zarr_reads(tmp_path):
    data = np.random.default_rng(2).standard_normal((40, 37, 50)).astype("<f4")
    _image(tmp_path / "img.zarr", [data])
    os.remove(tmp_path / "img.zarr" / "0" / "1" / "0" / "2")  # a never-written chunk reads as 0
    expected = zarr.open_group(str(tmp_path / "img.zarr"), mode="r")["0"][...]
    level = chunk_cache.open_local_level(str(tmp_path / "img.zarr"), "0")
    rng = np.random.default_rng(3)
    selections = [(slice(None),) * 3, (slice(3, 4), slice(0, 37), slice(49, 50))]
    for _ in range(20):
        lo = rng.integers(0, (40, 37, 50))
        hi = lo + rng.integers(1, 30, 3)
        selections.append(tuple(slice(int(a), int(b)) for a, b in zip(lo, hi)))
    for sel in selections * 2:  # the second pass reads cached chunks
        sel, shape = ome.region_selection(level.shape, sel)
        assert np.array_equal(chunk_cache.read_local(level, sel, shape), expected[sel])


def test_direct_reads_see_rewrites_and_skip_unusual_levels(tmp_path):
    path = tmp_path / "img.zarr"
    _image(path, [np.ones((8, 8, 8), "<f4")], chunks=(4, 4, 4))
    level = chunk_cache.open_local_level(str(path), "0")
    sel, shape = ome.region_selection(level.shape, (slice(0, 2),) * 3)
    for _ in range(3):
        assert chunk_cache.read_local(level, sel, shape).sum() == 8
    _image(path, [np.full((8, 8, 8), 2, "<f4")], chunks=(4, 4, 4))
    assert chunk_cache.read_local(chunk_cache.open_local_level(str(path), "0"), sel, shape).sum() == 16
    assert chunk_cache.open_local_level(str(path), "7") is None
    os.remove(path / ".zgroup")
    assert chunk_cache.open_local_level(str(path), "0") is None


HEADER = {"pickable_object_name": "ribosome", "user_id": "u", "session_id": "1", "run_name": "TS_1"}


def _big_arrays(n: int) -> picks_json.PickArrays:
    rng = np.random.default_rng(4)
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = rng.standard_normal((n, 3, 3))
    return picks_json.PickArrays.build(
        rng.uniform(0, 5000, (n, 3)), transforms, rng.integers(0, 99, n), rng.uniform(0, 1, n)
    )


def test_big_pick_sets_encode_as_one_orjson_dump_and_stream_back():
    arrays = _big_arrays(20_000)
    encoded = bytes(picks_json.encode(HEADER, arrays))
    doc = {**{k: HEADER.get(k) for k in ("pickable_object_name", "user_id", "session_id", "run_name")}}
    doc.update(voxel_spacing=None, unit="angstrom", points=picks_json._point_dicts(arrays, 0, len(arrays)))
    doc["trust_orientation"] = True
    assert encoded == orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    header, points = picks_json.decode(encoded, "big.json")
    assert isinstance(points, picks_json.RawPoints) and header["run_name"] == "TS_1"
    back = picks_json.arrays_from_json(points, "big.json")
    for got, want in zip(
        (back.positions, back.transforms, back.instance_ids, back.scores),
        (arrays.positions, arrays.transforms, arrays.instance_ids, arrays.scores),
    ):
        assert np.array_equal(got, want)
    assert len(points.json()) == len(arrays)


def test_big_pick_files_of_other_layouts_fall_back_to_a_whole_parse():
    arrays = _big_arrays(12_000)
    doc = orjson.loads(bytes(picks_json.encode(HEADER, arrays)))
    doc["extra"] = [{"a": [1, 2]}]  # an array after the points
    doc["points"][5]["note"] = "x}, {y"
    _, points = picks_json.decode(orjson.dumps(doc), "odd.json")
    back = picks_json.arrays_from_json(points, "odd.json")
    assert np.array_equal(back.positions, arrays.positions)
    doc["points"][7000]["location"] = {"x": 1.0}
    _, points = picks_json.decode(orjson.dumps(doc), "bad.json")
    with pytest.raises(CorruptFileError, match="bad.json: point 7000"):
        picks_json.arrays_from_json(points, "bad.json")


def test_direct_reads_work_in_a_forked_child_after_the_parent_read(tmp_path):
    data = np.arange(40 * 40 * 40, dtype="<f4").reshape(40, 40, 40)
    _image(tmp_path / "img.zarr", [data])
    level = chunk_cache.open_local_level(str(tmp_path / "img.zarr"), "0")
    sel, shape = ome.region_selection(level.shape, None)
    assert np.array_equal(chunk_cache.read_local(level, sel, shape), data)  # the parent's pool runs
    pid = os.fork()
    if pid == 0:  # a data-loader worker: the parent's pool threads do not exist here
        ok = np.array_equal(chunk_cache.read_local(level, sel, shape), data)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    ("transform", "rule"),
    [
        ([[1.0, 0.0, 0.0, 0.0]] * 3, "4x4"),  # 3 rows ...
        ([[1.0, 0.0, 0.0]] * 4, "4x4"),  # ... or rows of 3
        ([[1.0, 0.0, 0.0, 0.0]] * 3 + [[0.0, 0.0, 1.0, 1.0]], r"last row"),
    ],
)
def test_small_picks_files_with_a_bad_transform_name_the_file_and_point(transform, rule):
    points = [
        {"location": {"x": float(i), "y": 2.0, "z": 3.0}, "transformation_": np.eye(4).tolist()}
        for i in range(4)
    ]
    points[2]["transformation_"] = transform
    if len(transform) == 3:  # a 5-row matrix next to it keeps the total number of rows right
        points[3]["transformation_"] = [*np.eye(4).tolist(), [0.0, 0.0, 0.0, 1.0]]
    doc = {"pickable_object_name": "a", "user_id": "u", "session_id": "1", "points": points}
    _, parsed = picks_json.decode(orjson.dumps(doc), "small.json")
    with pytest.raises(CorruptFileError, match=f"small.json: point 2 is malformed.*{rule}"):
        picks_json.arrays_from_json(parsed, "small.json")
