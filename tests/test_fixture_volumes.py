"""Volumes written by the real copick 1.31.0 (tomograms, features, segmentations, object maps) read here.

Every volume fact of ``expected.json`` is checked: the full ``.zattrs``/``.zgroup``/``.zarray``
metadata, and per level shape, dtype, chunks, sum/mean/min/max, sample values and (for integer
data) unique labels and counts, through ``zarr.open(entity.zarr())`` as plugins do and through the
entity's own ``numpy()``. See ``tests/fixture131/README.md`` for the fixture.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import copick
from copick.impl.filesystem import CopickRootFSSpec
from zarr_compat import V2

pytestmark = pytest.mark.volumes

OPENERS: dict[str, Callable[[str], Any]] = {
    "copick.from_file": lambda path: copick.from_file(path),
    "CopickRootFSSpec.from_file": lambda path: CopickRootFSSpec.from_file(path),
}

SEGMENTATION_FIELDS = (
    "name",
    "user_id",
    "session_id",
    "voxel_size",
    "is_multilabel",
    "is_instance",
    "is_panoptic",
    "segmentation_type",
    "directory",
)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def store_json(store: Any, key: str) -> Any:
    """A metadata document read straight from the store returned by ``.zarr()`` (a mapping)."""
    return json.loads(store[key])


def assert_group_matches(
    store: Any, exp: dict[str, Any], tol: dict[str, float], where: str
) -> dict[str, np.ndarray]:
    """Compare one OME-Zarr group with its ``expected.json`` summary; return the level arrays."""
    assert store is not None, where
    group = zarr.open(store, mode="r")
    assert group.attrs.asdict() == exp["zattrs"], where
    assert store_json(store, ".zattrs") == exp["zattrs"], where
    assert store_json(store, ".zgroup") == exp["zgroup"], where
    datasets = exp["zattrs"]["multiscales"][0]["datasets"]
    assert [lvl["path"] for lvl in exp["levels"]] == [d["path"] for d in datasets], where
    arrays = {}
    for lvl, ds in zip(exp["levels"], datasets, strict=True):
        here = f"{where} level {lvl['path']}"
        arr = group[lvl["path"]]
        data = np.asarray(arr[...])
        arrays[lvl["path"]] = data
        assert list(arr.shape) == lvl["shape"], here
        assert list(data.shape) == lvl["shape"], here
        assert str(data.dtype) == lvl["dtype"], here
        assert list(arr.chunks) == lvl["chunks"], here
        assert store_json(store, f"{lvl['path']}/.zarray") == lvl["zarray"], here
        assert ds["coordinateTransformations"] == lvl["coordinateTransformations"], here
        assert ds["coordinateTransformations"][0]["scale"] == lvl["scale"], here
        as64 = data.astype(np.float64)
        assert math.isclose(
            float(as64.sum()), lvl["sum"], rel_tol=tol["sum_rtol"], abs_tol=tol["value_atol"]
        ), here
        assert math.isclose(
            float(as64.mean()), lvl["mean"], rel_tol=tol["sum_rtol"], abs_tol=tol["value_atol"]
        ), here
        assert float(as64.min()) == pytest.approx(lvl["min"], abs=tol["value_atol"]), here
        assert float(as64.max()) == pytest.approx(lvl["max"], abs=tol["value_atol"]), here
        for sample in lvl["values"]:
            got = data[tuple(sample["index"])].item()
            assert got == pytest.approx(sample["value"], abs=tol["value_atol"]), (here, sample["index"])
        if "unique" in lvl:
            labels, counts = np.unique(data, return_counts=True)
            assert labels.tolist() == lvl["unique"], here
            assert counts.tolist() == lvl["counts"], here
    return arrays


def segmentation_key(s: Any) -> tuple[float, str, str, str, str]:
    return (s.voxel_size, s.user_id, s.session_id, s.name, s.segmentation_type)


# --------------------------------------------------------------------------------------------
# fixtures: each reference project opened through each entry point
# --------------------------------------------------------------------------------------------


@pytest.fixture(params=["project", "overlay_variant"])
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def variant_config(request: pytest.FixtureRequest, variant: str) -> str:
    name = "fixture_config" if variant == "project" else "fixture_overlay_config"
    return request.getfixturevalue(name)


@pytest.fixture(params=list(OPENERS))
def reference_root(request: pytest.FixtureRequest, variant_config: str) -> Any:
    return OPENERS[request.param](variant_config)


@pytest.fixture
def reference_expected(expected: dict[str, Any], variant: str) -> dict[str, Any]:
    return expected[variant]


@pytest.fixture
def tol(expected: dict[str, Any]) -> dict[str, float]:
    return expected["tolerance"]


# --------------------------------------------------------------------------------------------
# tomograms and features
# --------------------------------------------------------------------------------------------


def test_tomograms_written_by_reference_read_back_level_by_level(
    reference_root: Any, reference_expected: dict[str, Any], tol: dict[str, float]
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        spacings = {f"{vs.voxel_size:.3f}": vs for vs in run.voxel_spacings}
        assert sorted(spacings) == sorted(detail["tomograms"]), run_name
        for vs_key, exp_tomos in detail["tomograms"].items():
            vs = spacings[vs_key]
            assert sorted(t.tomo_type for t in vs.tomograms) == sorted(exp_tomos), (run_name, vs_key)
            for tomo_type, exp in exp_tomos.items():
                where = f"{run_name}/{vs_key}/{tomo_type}"
                (tomo,) = vs.get_tomograms(tomo_type)
                assert tomo.tomo_type == tomo_type
                assert bool(getattr(tomo, "read_only", False)) is exp["read_only"], where
                arrays = assert_group_matches(tomo.zarr(), exp, tol, where)
                np.testing.assert_array_equal(tomo.numpy(), arrays["0"])
                for path, data in arrays.items():
                    np.testing.assert_array_equal(tomo.numpy(path), data)
                    np.testing.assert_array_equal(tomo.numpy(int(path)), data)


def test_features_written_by_reference_sit_under_their_tomogram(
    reference_root: Any, reference_expected: dict[str, Any], tol: dict[str, float]
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        for vs_key, exp_tomos in detail["tomograms"].items():
            vs = run.get_voxel_spacing(float(vs_key))
            for tomo_type, exp_tomo in exp_tomos.items():
                (tomo,) = vs.get_tomograms(tomo_type)
                feats = {f.feature_type: f for f in tomo.features}
                assert sorted(feats) == sorted(exp_tomo["features"]), (run_name, vs_key, tomo_type)
                for feature_type, exp in exp_tomo["features"].items():
                    where = f"{run_name}/{vs_key}/{tomo_type}/{feature_type}"
                    feat = tomo.get_features(feature_type)
                    assert feat is not None, where
                    assert (feat.tomo_type, feat.feature_type) == (tomo_type, feature_type), where
                    assert bool(getattr(feat, "read_only", False)) is exp["read_only"], where
                    arrays = assert_group_matches(feat.zarr(), exp, tol, where)
                    np.testing.assert_array_equal(feat.numpy(), arrays["0"])
                    region = (slice(1, 4), slice(2, 7), slice(3, 9))
                    np.testing.assert_array_equal(feat.numpy("0", slices=region), arrays["0"][region])
                assert tomo.get_features("no-such-feature") is None


def test_tomogram_regions_are_cut_in_zyx_order(fixture_config: str) -> None:
    run = copick.from_file(fixture_config).get_run("TS_001")
    for vs_size, tomo_type in [(10.0, "wbp"), (10.0, "denoised"), (7.84, "wbp")]:
        (tomo,) = run.get_voxel_spacing(vs_size).get_tomograms(tomo_type)
        full = tomo.numpy()
        part = tomo.numpy(x=slice(2, 41), y=slice(3, 40), z=slice(1, 30))
        np.testing.assert_array_equal(part, full[1:30, 3:40, 2:41])
        part1 = tomo.numpy("1", x=slice(0, 5), y=slice(5, 9), z=slice(2, 4))
        np.testing.assert_array_equal(part1, tomo.numpy("1")[2:4, 5:9, 0:5])


def test_deprecated_get_tomogram_still_finds_reference_tomograms(fixture_config: str) -> None:
    vs = copick.from_file(fixture_config).get_run("TS_001").get_voxel_spacing(10.0)
    with pytest.warns(DeprecationWarning):
        tomo = vs.get_tomogram("wbp")
    assert tomo is not None and tomo.tomo_type == "wbp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert vs.get_tomogram("no-such-type") is None
    assert vs.get_tomograms("no-such-type") == []
    assert [t.tomo_type for t in vs.get_tomograms("denoised")] == ["denoised"]


# --------------------------------------------------------------------------------------------
# segmentations
# --------------------------------------------------------------------------------------------


def test_segmentations_written_by_reference_read_back_with_their_labels(
    reference_root: Any, reference_expected: dict[str, Any], tol: dict[str, float]
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        listed = sorted(run.segmentations, key=segmentation_key)
        assert [segmentation_key(s) for s in listed] == [
            (e["voxel_size"], e["user_id"], e["session_id"], e["name"], e["segmentation_type"])
            for e in detail["segmentations"]
        ], run_name
        for seg, exp in zip(listed, detail["segmentations"], strict=True):
            where = f"{run_name}/{segmentation_key(seg)}"
            assert {f: getattr(seg, f) for f in SEGMENTATION_FIELDS} == {
                f: exp[f] for f in SEGMENTATION_FIELDS
            }, where
            assert bool(getattr(seg, "read_only", False)) is exp["read_only"], where
            arrays = assert_group_matches(seg.zarr(), exp, tol, where)
            np.testing.assert_array_equal(seg.numpy(), arrays["0"])
            for path, data in arrays.items():
                np.testing.assert_array_equal(seg.numpy(path), data)


def test_default_segmentation_query_hides_instance_and_panoptic(
    reference_root: Any, reference_expected: dict[str, Any]
) -> None:
    for run_name, detail in reference_expected["runs_detail"].items():
        run = reference_root.get_run(run_name)
        names = sorted(s.name for s in run.get_segmentations())
        assert names == detail["get_segmentations_default_names"], run_name
        everything = run.get_segmentations(is_instance=None, is_panoptic=None)
        assert len(everything) == len(detail["segmentations"]), run_name


def test_segmentation_filters_find_reference_stores(fixture_config: str) -> None:
    root = copick.from_file(fixture_config)
    ts1, ts2 = root.get_run("TS_001"), root.get_run("TS_002")
    (membrane,) = ts1.get_segmentations(name="membrane", user_id="alice")
    assert (membrane.voxel_size, membrane.segmentation_type) == (10.0, "binary")
    (multi,) = ts1.get_segmentations(is_multilabel=True)
    assert (multi.name, multi.user_id, multi.session_id) == ("segmentation", "pytom", "0")
    assert [s.name for s in ts1.get_segmentations(voxel_size=7.84)] == ["ribosome"]
    assert ts1.get_segmentations(voxel_size=5.0) == []
    (inst,) = ts2.get_segmentations(is_instance=True)
    assert (inst.name, inst.directory) == ("proteasome", "InstanceSegmentations")
    (pan,) = ts2.get_segmentations(is_panoptic=True)
    assert (pan.name, pan.directory) == ("scene", "PanopticSegmentations")
    assert [s.user_id for s in ts1.tool_segmentations()] == ["pytom"]


def test_panoptic_segmentation_of_reference_splits_into_channels(fixture_config: str) -> None:
    ts2 = copick.from_file(fixture_config).get_run("TS_002")
    (pan,) = ts2.get_segmentations(is_panoptic=True)
    both = pan.numpy()
    assert both.shape == (2, 32, 48, 40)
    np.testing.assert_array_equal(pan.numpy(channel="label"), both[0])
    np.testing.assert_array_equal(pan.numpy(channel="instance"), both[1])
    np.testing.assert_array_equal(pan.numpy(channel=0), both[0])
    np.testing.assert_array_equal(pan.numpy(channel=1), both[1])
    (inst,) = ts2.get_segmentations(is_instance=True)
    with pytest.raises(ValueError):
        inst.numpy(channel="label")


# --------------------------------------------------------------------------------------------
# object density maps
# --------------------------------------------------------------------------------------------


def test_object_density_map_written_by_reference_reads_back(
    reference_root: Any, reference_expected: dict[str, Any], tol: dict[str, float]
) -> None:
    for exp in reference_expected["objects"]:
        obj = reference_root.get_object(exp["name"])
        if not exp["is_particle"]:
            assert obj.zarr() is None, exp["name"]
            assert obj.numpy() is None, exp["name"]
            continue
        if not exp["has_map"]:
            continue
        arrays = assert_group_matches(obj.zarr(), exp["map"], tol, exp["name"])
        np.testing.assert_array_equal(obj.numpy(), arrays["0"])
        np.testing.assert_array_equal(
            obj.numpy(x=slice(2, 20), y=slice(4, 9), z=slice(0, 12)), arrays["0"][0:12, 4:9, 2:20]
        )


# --------------------------------------------------------------------------------------------
# the tour of API.md §0, volume parts
# --------------------------------------------------------------------------------------------


def test_tour_of_volumes(fixture_config: str, expected: dict[str, Any]) -> None:
    root = copick.from_file(fixture_config)
    dens = np.array(zarr.open(root.get_object("proteasome").zarr())["0"])
    assert dens.shape == (24, 24, 24)
    run = root.get_run("TS_001")
    assert sorted(seg.name for seg in run.segmentations) == ["membrane", "ribosome", "segmentation"]
    vs = run.get_voxel_spacing(10.000)
    assert sorted(t.tomo_type for t in vs.tomograms) == ["denoised", "wbp"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tomo = vs.get_tomogram("wbp")
    vol = np.array(zarr.open(tomo.zarr())["0"])
    bin2 = zarr.open(tomo.zarr())["1"]
    assert vol.shape == (64, 96, 80) and vol.dtype == np.float32
    assert bin2.shape == (32, 48, 40)
    feat = np.array(zarr.open(tomo.get_features("sobel").zarr())["0"])
    assert feat.shape == (64, 96, 80)
    seg = np.array(zarr.open(run.get_segmentations(name="membrane", user_id="alice")[0].zarr())["0"])
    assert seg.shape == (64, 96, 80) and seg.dtype == np.uint8
    exp_wbp = expected["project"]["runs_detail"]["TS_001"]["tomograms"]["10.000"]["wbp"]
    assert math.isclose(float(vol.astype(np.float64).sum()), exp_wbp["levels"][0]["sum"], rel_tol=1e-6)


def test_static_tomogram_opens_with_plain_zarr_open(fixture_overlay_config: str) -> None:
    vs = copick.from_file(fixture_overlay_config).get_run("TS_001").get_voxel_spacing(10.0)
    (wbp,) = vs.get_tomograms("wbp")
    assert wbp.read_only
    level0 = np.array(zarr.open(wbp.zarr())["0"])  # as the tour does, default mode
    assert level0.shape == (16, 24, 20)


# --------------------------------------------------------------------------------------------
# writing next to the reference: static layer untouched, plugin-style zarr writes stay format 2
# --------------------------------------------------------------------------------------------


def _static_dir(config_path: str) -> Path:
    return Path(config_path).parent / "static"


def test_static_tomogram_refuses_writes_and_stays_unchanged(
    fixture_overlay_config: str, static_digest: Callable[[Any], dict[str, bytes]]
) -> None:
    before = static_digest(_static_dir(fixture_overlay_config))
    vs = copick.from_file(fixture_overlay_config).get_run("TS_001").get_voxel_spacing(10.0)
    (wbp,) = vs.get_tomograms("wbp")
    with pytest.raises((OSError, ValueError)):
        wbp.from_numpy(np.zeros((8, 8, 8), dtype=np.float32))
    with pytest.raises((OSError, ValueError)):
        wbp.set_region(np.zeros((2, 2, 2), dtype=np.float32), x=slice(0, 2), y=slice(0, 2), z=slice(0, 2))
    with pytest.raises(PermissionError):
        wbp.delete()
    with pytest.raises(ValueError):
        vs.new_tomogram("wbp")
    assert static_digest(_static_dir(fixture_overlay_config)) == before


def test_features_of_a_static_tomogram_are_written_to_the_overlay(
    fixture_overlay_config: str, static_digest: Callable[[Any], dict[str, bytes]]
) -> None:
    import numcodecs

    before = static_digest(_static_dir(fixture_overlay_config))
    root = copick.from_file(fixture_overlay_config)
    (wbp,) = root.get_run("TS_001").get_voxel_spacing(10.0).get_tomograms("wbp")
    feat = wbp.new_features("canny")
    assert not feat.read_only
    data = np.arange(16 * 24 * 20, dtype=np.float32).reshape(16, 24, 20)
    arr = zarr.create(
        shape=data.shape,
        chunks=(8, 8, 8),
        dtype="float32",
        compressor=numcodecs.Blosc(cname="zstd", clevel=3),
        store=feat.zarr(),
        overwrite=True,
        **V2,
    )
    arr[:] = data
    folder = Path(fixture_overlay_config).parent / "overlay/ExperimentRuns/TS_001/VoxelSpacing10.000"
    store_dir = folder / "wbp_canny_features.zarr"
    assert (store_dir / ".zarray").is_file()
    assert not (store_dir / "zarr.json").exists()
    assert json.loads((store_dir / ".zarray").read_text())["dimension_separator"] == "/"
    assert static_digest(_static_dir(fixture_overlay_config)) == before

    again = copick.from_file(fixture_overlay_config)
    (wbp2,) = again.get_run("TS_001").get_voxel_spacing(10.0).get_tomograms("wbp")
    assert sorted(f.feature_type for f in wbp2.features) == ["canny", "sobel"]
    np.testing.assert_array_equal(np.asarray(zarr.open(wbp2.get_features("canny").zarr(), mode="r")), data)


def test_plugin_style_zarr_open_on_a_fresh_tomogram_writes_format_2(fixture_config: str) -> None:
    vs = copick.from_file(fixture_config).get_run("TS_100").get_voxel_spacing(10.0)
    tomo = vs.new_tomogram("plugin")
    group = zarr.open_group(tomo.zarr(), mode="a", **V2)
    group.attrs["written_by"] = "plugin"
    store_dir = Path(fixture_config).parent / "ExperimentRuns/TS_100/VoxelSpacing10.000/plugin.zarr"
    assert (store_dir / ".zgroup").is_file()
    assert not (store_dir / "zarr.json").exists()
