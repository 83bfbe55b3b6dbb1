"""``copick.ops`` imports and exports on a real project: round trips, bad inputs, nothing left behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.errors import EntityExistsError, UnknownObjectError
from copick.formats.common import MissingVoxelSizeError
from copick.ops import export as ex
from copick.ops import importers as imp
from pick_tables import write_dynamo_tomolist_table

mrcfile = pytest.importorskip("mrcfile")
tifffile = pytest.importorskip("tifffile")
emfile = pytest.importorskip("emfile")
starfile = pytest.importorskip("starfile")
pd = pytest.importorskip("pandas")
dynamotable = pytest.importorskip("dynamotable")
Rotation = pytest.importorskip("scipy.spatial.transform").Rotation

RNG = np.random.default_rng(11)


@pytest.fixture
def config(tmp_path: Path, write_project_config: Callable[..., str]) -> str:
    return write_project_config(("local://" + str(tmp_path / "project"), {"auto_mkdir": True}))


@pytest.fixture
def root(config: str) -> Any:
    return copick.from_file(config)


def _fresh(config: str) -> Any:
    return copick.from_file(config)


def _mrc(path: Path, data: np.ndarray, voxel_size: float = 10.0) -> str:
    with mrcfile.new(str(path), overwrite=True) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = voxel_size
    return str(path)


def _vol(shape: tuple[int, ...] = (16, 20, 24)) -> np.ndarray:
    return RNG.random(shape).astype(np.float32)


def _picks_arrays(n: int) -> tuple[np.ndarray, np.ndarray]:
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = Rotation.random(n, random_state=5).as_matrix()
    return RNG.uniform(0, 200, (n, 3)), transforms


# ------------------------------------------------------------------------------------------------
# tomograms
# ------------------------------------------------------------------------------------------------


def test_tomograms_from_glob_then_export_round_trip(tmp_path: Path, root: Any, config: str) -> None:
    import zarr

    vols = {name: _vol() for name in ("TS_001", "TS_002")}
    for name, data in vols.items():
        _mrc(tmp_path / f"{name}.mrc", data, 7.5)
    report = imp.add_tomograms_from_paths(root, str(tmp_path / "TS_*.mrc"), tomo_type="wbp", chunks=(8, 8, 8))
    assert report.ok and report.processed == 2 and report.total == 2
    fresh = _fresh(config)
    tomo = fresh.get_run("TS_001").get_voxel_spacing(7.5).get_tomograms("wbp")[0]
    np.testing.assert_array_equal(tomo.numpy(), vols["TS_001"])
    group = zarr.open_group(store=tomo.zarr(), mode="r")
    assert sorted(group.array_keys()) == ["0", "1", "2"] and group["0"].chunks == (8, 8, 8)

    out = tmp_path / "out"
    assert ex.export(config, str(out), tomogram_uri="wbp@7.5", output_format="mrc", n_workers=2) == []
    results = ex.export_runs(config, str(out), tomogram_uri="wbp@7.5", output_format="mrc", n_workers=2)
    assert [r["tomograms"] for r in results] == [1, 1] and not any(r["errors"] for r in results)
    path = out / "TS_002" / "VoxelSpacing7.500" / "wbp.mrc"
    with mrcfile.open(str(path)) as mrc:
        np.testing.assert_array_equal(mrc.data, vols["TS_002"])
        assert mrc.voxel_size.x == pytest.approx(7.5)
    level1 = ex.export_tomogram(tomo, str(tmp_path / "l1.tif"), "tiff", level=1)
    np.testing.assert_allclose(tifffile.imread(level1), tomo.numpy("1"))
    with tifffile.TiffFile(level1) as tif:
        assert tif.imagej_metadata["spacing"] == 15.0
    whole = ex.export_tomogram(tomo, str(tmp_path / "t.zarr"), "zarr")
    back = imp.add_tomogram_from_file(fresh, "copy", "wbp", whole, create_pyramid=False)
    np.testing.assert_array_equal(back.numpy(), vols["TS_001"])
    assert back.voxel_spacing.voxel_size == 7.5


def test_tiff_without_voxel_size_writes_nothing(tmp_path: Path, root: Any, config: str) -> None:
    tifffile.imwrite(str(tmp_path / "TS_9.tif"), _vol())
    report = imp.add_tomograms_from_paths(root, str(tmp_path / "TS_9.tif"))
    assert report.processed == 0 and len(report.errors) == 1
    assert "TS_9.tif" in report.errors[0] and "Voxel spacing not provided" in report.errors[0]
    assert _fresh(config).get_run("TS_9") is None
    with pytest.raises(MissingVoxelSizeError, match=r"TS_9\.tif"):
        imp.add_tomogram_from_file(root, "TS_9", "wbp", str(tmp_path / "TS_9.tif"))
    assert not (tmp_path / "project" / "ExperimentRuns").exists()


def test_truncated_mrc_writes_nothing(tmp_path: Path, root: Any, config: str) -> None:
    full = Path(_mrc(tmp_path / "full.mrc", _vol((10, 10, 10))))
    cut = tmp_path / "TS_cut.mrc"
    cut.write_bytes(full.read_bytes()[:1500])
    report = imp.add_tomograms_from_paths(root, str(cut))
    assert not report.ok and "TS_cut.mrc" in report.errors[0] and "truncated" in report.errors[0]
    assert _fresh(config).get_run("TS_cut") is None


def test_existing_tomogram_and_no_create(tmp_path: Path, root: Any, config: str) -> None:
    path = _mrc(tmp_path / "TS_1.mrc", _vol())
    imp.add_tomogram_from_file(root, "TS_1", "wbp", path)
    with pytest.raises(EntityExistsError, match="already exists"):
        imp.add_tomogram_from_file(root, "TS_1", "wbp", path)
    other = _vol()
    imp.add_tomogram_from_file(root, "TS_1", "wbp", _mrc(tmp_path / "b.mrc", other), overwrite=True)
    np.testing.assert_array_equal(
        _fresh(config).get_run("TS_1").voxel_spacings[0].tomograms[0].numpy(), other
    )
    report = imp.add_tomograms_from_paths(root, path, run="TS_new", create=False)
    assert report.errors and "does not exist" in report.errors[0]
    with pytest.raises(imp.MissingTargetError):
        imp.add_tomogram_from_file(root, "TS_new", "wbp", path, create=False)
    assert _fresh(config).get_run("TS_new") is None


def test_run_regex_prefix_and_duplicates_are_reported(tmp_path: Path, root: Any, config: str) -> None:
    for name in ("tomo_A_bin4.mrc", "tomo_A_bin8.mrc", "other.mrc"):
        _mrc(tmp_path / name, _vol((4, 4, 4)))
    report = imp.add_tomograms_from_paths(
        root, str(tmp_path / "*.mrc"), run_regex=r"tomo_(\w)_", run_name_prefix="P_", max_workers=1
    )
    assert report.processed == 1
    assert len(report.skipped) == 1 and "other.mrc" in report.skipped[0]
    assert len(report.errors) == 1 and "already receives" in report.errors[0]
    assert [r.name for r in _fresh(config).runs] == ["P_A"]


def test_failed_write_removes_created_run(tmp_path: Path, root: Any, config: str, monkeypatch: Any) -> None:
    from copick.entities.tomogram import CopickTomogram

    def boom(self: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(CopickTomogram, "_write_pyramid", boom)
    with pytest.raises(OSError, match="disk full"):
        imp.add_tomogram(root, "TS_x", "wbp", _vol(), 10.0)
    assert _fresh(config).get_run("TS_x") is None


def test_add_tomogram_pyramid_dict_single_level_and_features(root: Any) -> None:
    import zarr

    data = _vol((8, 8, 8))
    tomo = imp.add_tomogram(root, "TS_1", "denoised", {5.0: data, 10.0: data[::2, ::2, ::2]})
    group = zarr.open_group(store=tomo.zarr(), mode="r")
    scales = [
        d["coordinateTransformations"][0]["scale"][0] for d in group.attrs["multiscales"][0]["datasets"]
    ]
    assert scales == [5.0, 10.0]
    single = imp.add_tomogram(root, "TS_1", "wbp", data, 5.0, chunks=(4, 4, 4))
    assert sorted(zarr.open_group(store=single.zarr(), mode="r").array_keys()) == ["0"]
    feats = RNG.random((3, 8, 8, 8)).astype(np.float32)
    features = imp.add_features(root, "TS_1", 5.0, "wbp", "sobel", feats, chunks=(4, 4, 4))
    np.testing.assert_array_equal(features.numpy(), feats)
    with pytest.raises(EntityExistsError):
        imp.add_features(root, "TS_1", 5.0, "wbp", "sobel", feats)
    with pytest.raises(imp.MissingTargetError, match="import the tomogram first"):
        imp.add_features(root, "TS_1", 5.0, "missing", "sobel", feats)


def test_object_volume_from_mrc(tmp_path: Path, root: Any) -> None:
    data = _vol((6, 6, 6))
    obj = imp.add_object_volume(root, "ribosome", _mrc(tmp_path / "ribo.mrc", data, 4.0), None)
    np.testing.assert_array_equal(obj.numpy(), data)
    with pytest.raises(UnknownObjectError):
        imp.add_object_volume(root, "nothing", data, 4.0)


# ------------------------------------------------------------------------------------------------
# segmentations
# ------------------------------------------------------------------------------------------------


def test_segmentation_import_export_round_trip(tmp_path: Path, root: Any, config: str) -> None:
    labels = RNG.integers(0, 4, (8, 10, 12)).astype(np.int16)
    path = _mrc(tmp_path / "TS_1.mrc", labels, 10.0)
    report = imp.add_segmentations_from_paths(root, path, name="painting", user_id="alice", session_id="2")
    assert report.ok
    seg = _fresh(config).get_run("TS_1").get_segmentations(name="painting")[0]
    assert seg.is_multilabel and seg.numpy().dtype == np.uint8
    np.testing.assert_array_equal(seg.numpy(), labels)
    out = ex.export_segmentation(seg, str(tmp_path / "out") + "/", "mrc")
    assert out.endswith("painting_alice_2.mrc")
    with mrcfile.open(out) as mrc:
        assert mrc.data.dtype == np.int16
        np.testing.assert_array_equal(mrc.data, labels)
    em_out = ex.export_segmentation(seg, str(tmp_path / "out") + "/", "em")
    assert em_out.endswith(".em")
    np.testing.assert_array_equal(emfile.read(em_out)[1], labels.astype(np.float32))
    tif = ex.export_segmentation(seg, str(tmp_path / "out") + "/", "tiff")
    np.testing.assert_array_equal(tifffile.imread(tif), labels)


def test_segmentation_binary_needs_object_and_nothing_written(tmp_path: Path, root: Any, config: str) -> None:
    path = _mrc(tmp_path / "TS_1.mrc", np.zeros((4, 4, 4), np.int16))
    with pytest.raises(UnknownObjectError):
        imp.add_segmentations_from_paths(root, path, name="nope", segmentation_type="binary")
    with pytest.raises(UnknownObjectError):
        imp.add_segmentation_from_file(root, "TS_1", path, None, "nope", "u", "1", multilabel=False)
    assert _fresh(config).get_run("TS_1") is None
    seg = imp.add_segmentation(root, "TS_1", np.ones((4, 4, 4)), 10.0, "ribosome", "u", "1")
    assert not seg.is_multilabel and seg.numpy().dtype == np.uint8


def test_panoptic_tiff_import_and_channel_export(tmp_path: Path, root: Any) -> None:
    labels = RNG.integers(0, 3, (2, 5, 6, 7)).astype(np.uint16)
    labels[1][labels[0] == 0] = 0  # panoptic rule: background voxels carry no instance
    path = tmp_path / "TS_1.tif"
    tifffile.imwrite(str(path), labels, photometric="minisblack")
    report = imp.add_segmentations_from_paths(
        root, str(path), name="cells", segmentation_type="panoptic", voxel_size=10.0, flip="0"
    )
    assert report.ok, report.errors
    seg = root.get_run("TS_1").get_segmentations(name="cells", is_panoptic=True)[0]
    np.testing.assert_array_equal(seg.numpy(), labels[:, ::-1])
    out = ex.export_segmentation(seg, str(tmp_path / "o") + "/", "mrc", channel="instance")
    assert out.endswith("cells_copick_1_instance.mrc")
    with mrcfile.open(out) as mrc:
        np.testing.assert_array_equal(mrc.data, labels[1, ::-1])
    with pytest.raises(ex.ExportError, match="channel"):
        ex.export_segmentation(seg, str(tmp_path / "o") + "/", "mrc")


def test_export_run_prepends_voxel_size_on_collision(tmp_path: Path, root: Any) -> None:
    for vs in (10.0, 20.0):
        imp.add_segmentation(root, "TS_1", np.ones((4, 4, 4)), vs, "membrane", "u", "1", multilabel=True)
    result = ex.export_run(
        root.get_run("TS_1"), str(tmp_path / "o"), segmentation_uri="membrane", output_format="mrc"
    )
    assert result["segmentations"] == 2 and not result["errors"]
    names = sorted(p.name for p in (tmp_path / "o" / "TS_1" / "Segmentations").iterdir())
    assert names == ["10.000_membrane_u_1.mrc", "20.000_membrane_u_1.mrc"]


# ------------------------------------------------------------------------------------------------
# picks
# ------------------------------------------------------------------------------------------------


def _store_picks(root: Any, run: str, n: int, obj: str = "ribosome") -> tuple[np.ndarray, np.ndarray]:
    positions, transforms = _picks_arrays(n)
    r = root.get_run(run) or root.new_run(run)
    r.new_picks(obj, "1", "alice", exist_ok=True).from_numpy(positions, transforms)
    return positions, transforms


def test_csv_import_splits_runs_and_exports_back(tmp_path: Path, root: Any, config: str) -> None:
    rows = []
    for run, n in (("TS_1", 3), ("TS_2", 2)):
        pos, trans = _picks_arrays(n)
        for p, t in zip(pos, trans):
            rows.append(
                {
                    "run_name": run,
                    "x": p[0],
                    "y": p[1],
                    "z": p[2],
                    **{f"transform_{i}{j}": t[i, j] for i in range(4) for j in range(4)},
                    "score": 0.5,
                    "instance_id": 3,
                }
            )
    csv = tmp_path / "picks.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    report = imp.add_picks_from_paths(root, str(csv), "ribosome", "alice", "1")
    assert report.ok and set(report.items[str(csv)]) == {"TS_1", "TS_2"}
    fresh = _fresh(config)
    picks = fresh.get_run("TS_1").get_picks("ribosome", "alice", "1")[0]
    np.testing.assert_allclose(picks.numpy()[0], [[r["x"], r["y"], r["z"]] for r in rows[:3]])
    out = ex.export_picks_combined(config, str(tmp_path / "all.csv"), "ribosome:alice/1", "csv")
    back = pd.read_csv(out)
    assert list(back["run_name"]) == ["TS_1"] * 3 + ["TS_2"] * 2
    np.testing.assert_allclose(
        back[["x", "y", "z"]].to_numpy(), pd.DataFrame(rows)[["x", "y", "z"]].to_numpy()
    )
    assert set(back["instance_id"]) == {3} and set(back["score"]) == {0.5}


def test_bad_picks_inputs_write_nothing(tmp_path: Path, root: Any, config: str) -> None:
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("name,X,Y,Z\nTS_1,1,2,3\n")
    report = imp.add_picks_from_paths(root, str(bad_csv), "ribosome")
    assert report.errors and "bad.csv" in report.errors[0] and "run_name" in report.errors[0]
    star = tmp_path / "TS_2.star"
    starfile.write({"particles": pd.DataFrame({"rlnTomoName": ["TS_2"], "rlnAngleRot": [1.0]})}, str(star))
    report = imp.add_picks_from_paths(root, str(star), "ribosome", voxel_size=10.0)
    assert report.errors and "TS_2.star" in report.errors[0] and "coordinate" in report.errors[0]
    em = tmp_path / "TS_3.em"
    emfile.write(str(em), np.zeros((1, 2, 20), np.float32))
    with pytest.raises(MissingVoxelSizeError, match=r"TS_3\.em"):
        imp.add_picks_from_file(root, "TS_3", str(em), "ribosome", "u", "1")
    with pytest.raises(UnknownObjectError, match="Object name nothing not found"):
        imp.add_picks_from_file(root, "TS_3", str(em), "nothing", "u", "1", 10.0)
    assert _fresh(config).runs == []


def test_star_per_run_export_then_import(tmp_path: Path, root: Any, config: str) -> None:
    positions, transforms = _store_picks(root, "TS_1", 4)
    picks = root.get_run("TS_1").get_picks("ribosome")[0]
    out = ex.export_picks(picks, str(tmp_path) + "/", "star", tilt_series_pixel_size=1.35)
    assert Path(out).name == "TS_1_ribosome_alice_1.star"
    blocks = starfile.read(out, always_dict=True)
    assert blocks["optics"]["rlnTomoTiltSeriesPixelSize"].iloc[0] == 1.35
    assert "rlnCenteredCoordinateXAngst" not in blocks["particles"].columns
    got = imp.add_picks_from_file(root, "TS_1", out, "ribosome", "bob", "1")
    np.testing.assert_allclose(got.numpy()[0], positions, atol=1e-4)
    np.testing.assert_allclose(got.numpy()[1], transforms, atol=1e-5)
    with pytest.raises(EntityExistsError):
        imp.add_picks_from_file(root, "TS_1", out, "ribosome", "bob", "1")


def test_relion5_centred_coordinates_use_the_copick_tomogram(tmp_path: Path, root: Any, config: str) -> None:
    imp.add_tomogram(root, "TS_1", "wbp", np.zeros((20, 30, 40), np.float32), 10.0)
    positions, transforms = _store_picks(root, "TS_1", 3)
    result = ex.export_relion_particles(
        root, "ribosome:alice/1", str(tmp_path / "p.star"), voxel_spacing=10.0
    )
    assert result["particles"] == 3 and result["runs"] == 1
    particles = starfile.read(str(tmp_path / "p.star"), always_dict=True)["particles"]
    assert "rlnCoordinateX" not in particles.columns  # no pixel size known: centred only
    centre = np.array([40, 30, 20]) / 2 * 10.0
    np.testing.assert_allclose(
        particles[
            ["rlnCenteredCoordinateXAngst", "rlnCenteredCoordinateYAngst", "rlnCenteredCoordinateZAngst"]
        ],
        positions - centre,
        atol=1e-5,
    )
    report = imp.add_picks_grouped_from_paths(
        root, str(tmp_path / "p.star"), "ribosome", "star", user_id="carol"
    )
    assert report.ok, report.errors
    got = _fresh(config).get_run("TS_1").get_picks("ribosome", "carol")[0]
    np.testing.assert_allclose(got.numpy()[0], positions, atol=1e-4)
    np.testing.assert_allclose(got.numpy()[1], transforms, atol=1e-5)


def test_em_grouped_import_counts_unmapped_and_exports_back(tmp_path: Path, root: Any, config: str) -> None:
    rows = np.zeros((20, 5))
    rows[4] = [1, 1, 2, 9, 2]
    rows[7:10] = RNG.uniform(1, 50, (3, 5))
    rows[16:19] = RNG.uniform(0, 90, (3, 5))
    motl = tmp_path / "all.em"
    emfile.write(str(motl), rows.T[np.newaxis].astype(np.float32))
    index_map = tmp_path / "map.csv"
    index_map.write_text("1,TS_1\n2,TS_2\n")
    report = imp.add_picks_grouped_from_paths(
        root, str(motl), "ribosome", "em", voxel_size=10.0, index_map=str(index_map)
    )
    assert report.ok and report.skipped_particles == 1
    result = report.items[str(motl)]
    assert sorted(result) == ["TS_1", "TS_2"] and result.unmapped == {9: 1}
    fresh = _fresh(config)
    np.testing.assert_allclose(
        fresh.get_run("TS_2").get_picks("ribosome")[0].numpy()[0],
        (rows[7:10, [2, 4]].T.astype(np.float32) - 1) * 10.0,
        rtol=1e-6,
    )
    out = ex.export_picks_combined(
        config, str(tmp_path / "back.em"), "ribosome", "em", voxel_spacing=10.0, run_to_index=str(index_map)
    )
    back = emfile.read(out)[1][0].T
    kept = rows[:, [0, 1, 2, 4]].astype(np.float32)
    np.testing.assert_allclose(back[7:10], kept[7:10], atol=1e-4)
    np.testing.assert_array_equal(back[4], [1, 1, 2, 2])
    with pytest.raises(ex.ExportError, match="index map"):
        ex.export_picks_combined(config, str(tmp_path / "x.em"), "ribosome", "em", voxel_spacing=10.0)


def test_dynamo_tomolist_import_and_per_run_export(tmp_path: Path, root: Any, config: str) -> None:
    df, table, tomolist = write_dynamo_tomolist_table(tmp_path)
    with pytest.raises(Exception, match="exactly one"):
        imp.add_picks_grouped_from_paths(root, str(table), "ribosome", "dynamo", voxel_size=5.0)
    report = imp.add_picks_grouped_from_paths(
        root, str(table), "ribosome", "dynamo", voxel_size=5.0, tomolist=str(tomolist)
    )
    assert report.ok
    fresh = _fresh(config)
    picks = fresh.get_run("TS_4").get_picks("ribosome")[0]
    np.testing.assert_allclose(picks.numpy()[0], [[5.0, 20.0, 35.0], [10.0, 25.0, 40.0]])
    results = ex.export_runs(
        config, str(tmp_path / "o"), picks_uri="ribosome", output_format="dynamo", voxel_spacing=5.0
    )
    assert sum(r["picks"] for r in results) == 2
    raw = dynamotable.read(str(tmp_path / "o" / "TS_4_ribosome_copick_1.tbl"))
    np.testing.assert_allclose(
        raw[["tdrot", "tilt", "narot"]].to_numpy(), df[["tdrot", "tilt", "narot"]][:2], atol=1e-6
    )
    np.testing.assert_allclose(raw["cc"], [0.1, 0.2])
