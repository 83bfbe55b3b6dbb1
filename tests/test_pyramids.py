"""Pyramids and segmentation dtypes: the numbers copick 1.31 (skimage) produces, bit for bit."""

from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import zarr

import reference_fixture
from copick.formats import ome, pyramids
from copick.util import ome as util_ome

skimage_transform = pytest.importorskip("skimage.transform")

FIXTURE = reference_fixture.FIXTURE_DIR  # written by copick 1.31.0 (tests/reference_fixture.py)
RUN1 = FIXTURE / "ExperimentRuns" / "TS_001"

SHAPES = [(34, 46, 52), (33, 45, 51), (5, 6, 7), (1, 1, 1), (2, 3, 1), (7, 1, 4), (3, 64, 2)]


def skimage_chain(data: np.ndarray, levels: int, dtype=np.float32) -> list[np.ndarray]:
    """What copick 1.31 computes: cast, then downscale_local_mean level by level, cast each time."""
    out = [data.astype(dtype)]
    for _ in range(levels - 1):
        out.append(skimage_transform.downscale_local_mean(out[-1], (2, 2, 2)).astype(dtype))
    return out


def fixture_level(store: Path, level: str) -> np.ndarray:
    return zarr.open_array(str(store / level), mode="r")[...]


# --- volume pyramids --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_volume_pyramid_is_bit_identical_to_skimage_on_random_data(shape):
    data = (np.random.default_rng(3).standard_normal(shape) * 1000).astype(np.float32)
    ours = ome.volume_pyramid(data, 3)
    theirs = skimage_chain(data, 3)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_every_small_shape_matches_skimage_bit_for_bit():
    """Shapes 1..6 per axis cover the narrow cases where numpy sums in another order."""
    rng = np.random.default_rng(4)
    mismatches = []
    for shape in itertools.product(range(1, 7), repeat=3):
        data = (rng.standard_normal(shape) * 1000).astype(np.float32)
        expected = skimage_transform.downscale_local_mean(data, (2, 2, 2))
        if not np.array_equal(ome.downscale_mean(data), expected):
            mismatches.append(shape)
    assert mismatches == []


def test_volume_pyramid_sizes_are_ceil_halves():
    shapes = [a.shape for a in ome.volume_pyramid(np.ones((33, 45, 51), np.float32), 3)]
    assert shapes == [(33, 45, 51), (17, 23, 26), (9, 12, 13)]
    shapes = [a.shape for a in ome.volume_pyramid(np.ones((64, 96, 80), np.float32), 3)]
    assert shapes == [(64, 96, 80), (32, 48, 40), (16, 24, 20)]


def test_odd_edges_count_missing_neighbours_as_zero_and_divide_by_eight():
    data = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    level1 = ome.volume_pyramid(data, 2)[1]
    assert level1.shape == (3, 3, 4)
    assert level1[2, 2, 3] == data[4, 4:6, 6].sum() / 8
    assert level1[0, 0, 0] == data[0:2, 0:2, 0:2].mean()


def test_float64_input_is_cast_before_each_level():
    data = np.random.default_rng(5).standard_normal((20, 22, 19)) * 3.3
    ours = ome.volume_pyramid(data, 3, np.float32)
    for a, b in zip(ours, skimage_chain(data, 3)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float64])
def test_other_target_dtypes_match_the_skimage_chain(dtype):
    data = np.random.default_rng(6).integers(0, 200, (17, 18, 9)).astype(dtype)
    ours = ome.volume_pyramid(data, 3, dtype)
    for a, b in zip(ours, skimage_chain(data, 3, dtype)):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_large_volume_is_processed_in_slabs_and_still_exact(monkeypatch):
    monkeypatch.setattr(pyramids, "SLAB_BYTES", 4096)  # force many small slabs
    data = np.random.default_rng(7).standard_normal((27, 20, 33)).astype(np.float32)
    for a, b in zip(ome.volume_pyramid(data, 3), skimage_chain(data, 3)):
        np.testing.assert_array_equal(a, b)


def test_pyramid_memory_stays_below_two_copies_of_the_input():
    data = np.random.default_rng(8).standard_normal((64, 256, 256)).astype(np.float32)  # 16 MiB
    tracemalloc.start()
    try:
        levels = ome.volume_pyramid(data, 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(levels) == 3
    assert peak < data.nbytes  # levels (1/8 + 1/64 of it) plus bounded slab temporaries


def test_iterating_the_pyramid_yields_levels_one_at_a_time():
    data = np.ones((8, 8, 8), np.float32)
    it = ome.iter_volume_pyramid(data, 4)
    first = next(it)
    assert first is data  # float32 input is not copied
    assert [a.shape for a in it] == [(4, 4, 4), (2, 2, 2), (1, 1, 1)]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_levels_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="levels"):
        ome.volume_pyramid(np.ones((2, 2, 2)), bad)


def test_non_3d_volume_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="3-D"):
        ome.volume_pyramid(np.ones((4, 4)), 2)


@pytest.mark.parametrize(
    "store",
    ["VoxelSpacing10.000/wbp.zarr", "VoxelSpacing10.000/denoised.zarr", "VoxelSpacing7.840/wbp.zarr"],
)
def test_fixture_tomogram_levels_are_reproduced_from_level_0(store):
    path = RUN1 / store
    if not path.is_dir():
        pytest.skip("reference fixture not available")
    level0 = fixture_level(path, "0")
    ours = ome.volume_pyramid(level0, 3)
    for i in (1, 2):
        np.testing.assert_array_equal(ours[i], fixture_level(path, str(i)))


def test_util_volume_pyramid_is_keyed_by_doubled_voxel_sizes():
    pyr = util_ome.volume_pyramid(np.ones((8, 8, 8)), 7.84, 3)
    assert list(pyr) == [7.84, 15.68, 31.36]
    assert [a.dtype for a in pyr.values()] == [np.float32] * 3


# --- segmentation pyramids --------------------------------------------------------------------


def test_segmentation_sizes_round_half_to_even():
    shapes = [a.shape for a in ome.segmentation_pyramid(np.zeros((33, 45, 51), np.uint8), 3)]
    assert shapes == [(33, 45, 51), (16, 22, 26), (8, 11, 13)]
    assert [ome.half_size_nearest(n) for n in (7, 5, 4, 1)] == [4, 2, 2, 1]


def test_segmentation_samples_odd_indices():
    assert ome.nearest_indices(8, 4).tolist() == [1, 3, 5, 7]
    assert ome.nearest_indices(5, 2).tolist() == [1, 3]
    assert ome.nearest_indices(7, 4).tolist() == [0, 2, 4, 6]


@pytest.mark.parametrize("shape", [(33, 45, 51), (8, 10, 12), (5, 7, 9), (3, 2, 11), (21, 13, 6)])
def test_segmentation_pyramid_matches_skimage_rescale_order_0(shape):
    labels = np.random.default_rng(9).integers(0, 7, shape).astype(np.uint16)
    ours = ome.segmentation_pyramid(labels, 3)
    theirs = [labels]
    for _ in range(2):
        theirs.append(
            skimage_transform.rescale(
                theirs[-1], 0.5, order=0, preserve_range=True, anti_aliasing=False
            ).astype(labels.dtype)
        )
    for a, b in zip(ours, theirs):
        assert a.dtype == labels.dtype
        np.testing.assert_array_equal(a, b)


def test_panoptic_pyramid_works_channel_by_channel():
    rng = np.random.default_rng(10)
    data = rng.integers(0, 5, (2, 9, 12, 7)).astype(np.uint16)
    ours = ome.segmentation_pyramid(data, 3, channel_axis=True)
    assert [a.shape for a in ours] == [(2, 9, 12, 7), (2, 4, 6, 4), (2, 2, 3, 2)]
    for c in range(2):
        single = ome.segmentation_pyramid(data[c], 3)
        for a, b in zip(ours, single):
            np.testing.assert_array_equal(a[c], b)
    util = util_ome.segmentation_pyramid(data, 10.0, 2)  # 4-D input: channel axis detected
    assert [a.shape for a in util.values()] == [(2, 9, 12, 7), (2, 4, 6, 4)]


def test_fixture_segmentation_levels_are_reproduced_from_level_0():
    path = RUN1 / "Segmentations" / "7.840_bob_2_ribosome.zarr"
    if not path.is_dir():
        pytest.skip("reference fixture not available")
    ours = ome.segmentation_pyramid(fixture_level(path, "0"), 3)
    for i in (1, 2):
        theirs = fixture_level(path, str(i))
        assert ours[i].dtype == theirs.dtype
        np.testing.assert_array_equal(ours[i], theirs)


# --- segmentation dtypes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "floor", "expected"),
    [
        (np.array([0, 1], dtype=bool), np.uint8, np.uint8),
        (np.array([0, 1, 4], dtype=np.uint8), np.uint8, np.uint8),
        (np.array([0.0, 300.0]), np.uint8, np.uint16),
        (np.array([0, 2], dtype=np.int64), np.uint16, np.uint16),
        (np.array([0, 70000], dtype=np.int64), np.uint16, np.uint32),
        (np.array([0, 2**40], dtype=np.uint64), np.uint8, np.uint64),
        (np.zeros((0, 3, 3), dtype=np.float32), np.uint16, np.uint16),
        (np.array(255.0), np.uint8, np.uint8),
    ],
)
def test_segmentation_dtype_is_the_smallest_unsigned_type_above_the_floor(data, floor, expected):
    assert ome.choose_segmentation_dtype(data, floor) == np.dtype(expected)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.array([0, -1]), "Segmentation values must be non-negative"),
        (np.array([0.0, -0.5]), "Segmentation values must be non-negative"),
        (np.array([0.0, np.nan]), "finite"),
        (np.array([0.0, np.inf]), "finite"),
        (np.array([0.0, 1.5]), "integers"),
        (np.array(["a"]), "numbers"),
    ],
)
def test_bad_segmentation_values_raise_a_clear_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        ome.choose_segmentation_dtype(data, np.uint8)


def test_requested_segmentation_dtype_must_hold_the_values():
    assert ome.choose_segmentation_dtype(np.array([0, 3]), np.uint8, requested=np.uint32) == np.uint32
    with pytest.raises(ValueError, match="do not fit"):
        ome.choose_segmentation_dtype(np.array([0, 300]), np.uint8, requested=np.uint8)


def test_segmentation_value_scan_works_slab_by_slab(monkeypatch):
    monkeypatch.setattr(pyramids, "SLAB_BYTES", 64)
    data = np.zeros((10, 4, 4), dtype=np.float64)
    data[9, 3, 3] = 70000
    assert ome.choose_segmentation_dtype(data, np.uint8) == np.uint32
    data[9, 3, 2] = 0.5
    with pytest.raises(ValueError, match="integers"):
        ome.choose_segmentation_dtype(data, np.uint8)
