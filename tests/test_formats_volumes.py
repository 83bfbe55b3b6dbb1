"""Volume file formats: MRC, TIFF, EM and Zarr read/write, with real files written by their own libraries."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from copick.errors import CorruptFileError, InvalidDataError
from copick.formats.common import (
    InputFileError,
    MissingVoxelSizeError,
    UnknownFormatError,
    apply_flip_transpose,
    get_picks_format_from_extension,
    get_volume_format_from_extension,
    resolve_volume_format,
)
from copick.formats.volumes import read_volume
from zarr_compat import V2

mrcfile = pytest.importorskip("mrcfile")
tifffile = pytest.importorskip("tifffile")
emfile = pytest.importorskip("emfile")


def _volume(shape: tuple[int, ...] = (6, 7, 8), dtype: type = np.float32) -> np.ndarray:
    return np.random.default_rng(1).random(shape).astype(dtype)


def _write_mrc(path: Path, data: np.ndarray, voxel_size: object = 10.0) -> Path:
    with mrcfile.new(str(path), overwrite=True) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = voxel_size
    return path


def test_extension_tables() -> None:
    assert get_volume_format_from_extension("a/TS_1.MRC") == "mrc"
    assert get_volume_format_from_extension("x.map") == "mrc"
    assert get_volume_format_from_extension("x.rec") is None
    assert get_volume_format_from_extension("x.tif") == "tiff"
    assert get_volume_format_from_extension("x.tiff") == "tiff"
    assert get_volume_format_from_extension("img.zarr/") == "zarr"
    assert get_volume_format_from_extension("x.em") == "em"
    assert get_picks_format_from_extension("p.tbl") == "dynamo"
    assert get_picks_format_from_extension("p.star") == "star"
    assert get_picks_format_from_extension("p.csv") == "csv"
    assert get_picks_format_from_extension("p.em") == "em"
    assert resolve_volume_format("x.rec", "mrc") == "mrc"
    with pytest.raises(UnknownFormatError, match="x.rec"):
        resolve_volume_format("x.rec", None)


def test_mrc_round_trip_keeps_data_and_voxel_size(tmp_path: Path) -> None:
    from copick.formats.mrc import read_mrc_volume, write_mrc_volume

    data = _volume()
    path = write_mrc_volume(str(tmp_path / "out.mrc"), data, 7.84)
    back, vs = read_mrc_volume(path)
    np.testing.assert_array_equal(back, data)
    assert vs == 7.84  # float32 header value read back as the short decimal


def test_mrc_header_voxel_size_and_override(tmp_path: Path) -> None:
    path = _write_mrc(tmp_path / "a.mrc", _volume(), 12.5)
    vol = read_volume(str(path))
    assert vol.voxel_size == 12.5 and vol.file_type == "mrc"
    assert read_volume(str(path), voxel_size=3.0).voxel_size == 3.0


def test_mrc_without_voxel_size_needs_one(tmp_path: Path) -> None:
    path = _write_mrc(tmp_path / "a.mrc", _volume(), 0.0)
    with pytest.raises(MissingVoxelSizeError, match=r"a\.mrc.*voxel size"):
        read_volume(str(path))


def test_truncated_mrc_is_a_clear_error(tmp_path: Path) -> None:
    path = _write_mrc(tmp_path / "full.mrc", _volume((10, 10, 10)))
    cut = tmp_path / "cut.mrc"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CorruptFileError, match=r"cut\.mrc.*truncated"):
        read_volume(str(cut))
    junk = tmp_path / "junk.mrc"
    junk.write_bytes(b"not an mrc")
    with pytest.raises(CorruptFileError, match=r"junk\.mrc"):
        read_volume(str(junk))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="nope.mrc"):
        read_volume(str(tmp_path / "nope.mrc"))


def test_anisotropic_mrc_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write_mrc(tmp_path / "aniso.mrc", _volume(), (10.0, 10.0, 20.0))
    with caplog.at_level(logging.WARNING):
        assert read_volume(str(path)).voxel_size == 10.0
    assert "anisotropic" in caplog.text


def test_tiff_needs_voxel_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "a.tif"
    tifffile.imwrite(str(path), _volume())
    with pytest.raises(MissingVoxelSizeError, match=r"a\.tif.*--voxel-size"):
        read_volume(str(path))
    vol = read_volume(str(path), voxel_size=4.0)
    np.testing.assert_array_equal(vol.data, _volume())
    assert vol.voxel_size == 4.0


def test_tiff_write_is_imagej_with_spacing(tmp_path: Path) -> None:
    from copick.formats.tiff import read_tiff_volume, write_tiff_volume

    data = _volume()
    path = write_tiff_volume(str(tmp_path / "o.tif"), data, 7.5, compression="zlib")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        assert tif.imagej_metadata["spacing"] == 7.5
        assert tif.imagej_metadata["unit"] == "angstrom"
        assert tif.pages[0].resolution[0] == pytest.approx(1 / 7.5)
    np.testing.assert_array_equal(read_tiff_volume(path), data)


def test_tiff_panoptic_channels(tmp_path: Path) -> None:
    from copick.formats.tiff import read_tiff_volume, write_tiff_volume

    labels = np.random.default_rng(2).integers(0, 4, (2, 5, 6, 7)).astype(np.uint16)
    path = write_tiff_volume(str(tmp_path / "p.tif"), labels, 10.0)
    np.testing.assert_array_equal(read_tiff_volume(path, channel_axis=True), labels)
    # ImageJ hyperstacks come z-major (ZCYX): returned channel first
    zc = tmp_path / "zc.tif"
    tifffile.imwrite(str(zc), np.moveaxis(labels, 0, 1), imagej=True, metadata={"axes": "ZCYX"})
    np.testing.assert_array_equal(read_tiff_volume(str(zc), channel_axis=True), labels)


def test_em_volume_round_trip_and_truncation(tmp_path: Path) -> None:
    from copick.formats.em import write_em_volume

    data = _volume()
    path = tmp_path / "v.em"
    emfile.write(str(path), data)
    with pytest.raises(MissingVoxelSizeError, match=r"v\.em"):
        read_volume(str(path))
    np.testing.assert_array_equal(read_volume(str(path), voxel_size=5.0).data, data)
    out = write_em_volume(str(tmp_path / "o.em"), data.astype(np.uint8))
    np.testing.assert_array_equal(emfile.read(out)[1], data.astype(np.uint8).astype(np.float32))
    cut = tmp_path / "cut.em"
    cut.write_bytes(path.read_bytes()[:700])
    with pytest.raises(CorruptFileError, match=r"cut\.em.*truncated"):
        read_volume(str(cut), voxel_size=5.0)


def test_zarr_inputs_ome_plain_and_bare(tmp_path: Path) -> None:
    import zarr

    from copick.formats.zarr_files import read_zarr_volume, write_zarr_volume

    data = _volume((8, 8, 8))
    ome = write_zarr_volume(str(tmp_path / "ome.zarr"), [data, data[::2, ::2, ::2]], 6.0)
    back, vs = read_zarr_volume(ome)
    np.testing.assert_array_equal(back, data)
    assert vs == 6.0
    assert read_zarr_volume(ome, level=1)[1] == 12.0
    plain = zarr.open_group(str(tmp_path / "plain.zarr"), mode="w", **V2)
    plain.create_dataset("vol", shape=data.shape, data=data)
    np.testing.assert_array_equal(read_zarr_volume(str(tmp_path / "plain.zarr"))[0], data)
    with pytest.raises(MissingVoxelSizeError):
        read_volume(str(tmp_path / "plain.zarr"))
    assert read_volume(str(tmp_path / "plain.zarr"), voxel_size=2.0).voxel_size == 2.0


def test_flip_and_transpose() -> None:
    data = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(apply_flip_transpose(data, flip="0"), data[::-1])
    np.testing.assert_array_equal(apply_flip_transpose(data, transpose="2,1,0"), data.T)
    # transpose first, then flip the axes of the result
    np.testing.assert_array_equal(apply_flip_transpose(data, flip=[0], transpose=(2, 1, 0)), data.T[::-1])
    pan = np.arange(48).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(apply_flip_transpose(pan, flip="2", channel_axis=True), pan[..., ::-1])
    with pytest.raises(InvalidDataError, match="transpose"):
        apply_flip_transpose(data, transpose="0,1")
    with pytest.raises(InvalidDataError, match="flip"):
        apply_flip_transpose(data, flip="3")


def test_handlers_registry(tmp_path: Path) -> None:
    from copick.util.handlers import get_registry

    reg = get_registry()
    assert reg.volume_formats() == ["em", "mrc", "tiff", "zarr"]
    assert reg.picks_formats() == ["csv", "dynamo", "em", "star"]
    mrc = reg.for_path("a/b.MRC", "volume")
    assert mrc is not None and mrc.format_name == "mrc" and mrc.capabilities == {"read", "write"}
    path = mrc.write(str(tmp_path / "h.mrc"), _volume(), voxel_size=3.0)
    data, vs = reg.get_volume_handler("mrc").read(path)
    assert vs == 3.0 and data.shape == (6, 7, 8)
    with pytest.raises(UnknownFormatError):
        reg.get("volume", "png")


def test_path_util_runs_from_paths(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from copick.util.path_util import (
        expand_paths,
        get_data_from_file,
        plan_runs_from_paths,
        prepare_runs_from_paths,
        run_name_from_path,
    )

    for name in ("TS_01.mrc", "TS_02.mrc", "x.mrc"):
        _write_mrc(tmp_path / name, _volume((2, 2, 2)), 4.0)
    paths = expand_paths(str(tmp_path / "*.mrc"))
    assert [Path(p).name for p in paths] == ["TS_01.mrc", "TS_02.mrc", "x.mrc"]
    assert expand_paths(str(tmp_path / "none*.mrc")) == []
    assert run_name_from_path("/a/TS_01.mrc", r"TS_(\d+)", "R") == "R01"
    assert run_name_from_path("/a/img.zarr/", "(.*)") == "img"
    plan = plan_runs_from_paths(paths, run_regex=r"(TS)_")
    assert list(plan.mapping) == ["TS"] and len(plan.skipped) == 2  # duplicate run + no match
    assert prepare_runs_from_paths(None, [paths[0]], "chosen") == {"chosen": paths[0]}

    class NoRuns:
        def get_run(self, name: str) -> None:
            return None

    with caplog.at_level(logging.WARNING):
        assert prepare_runs_from_paths(NoRuns(), paths[:1], create=False) == {}
    assert "does not exist" in caplog.text
    data, vs = get_data_from_file(paths[0])
    assert data.shape == (2, 2, 2) and vs == 4.0
