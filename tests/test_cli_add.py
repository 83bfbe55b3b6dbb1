"""``copick add tomogram|segmentation|object|object-volume`` through click's test runner (and once as a
subprocess) on real input files; the picks imports are in ``test_cli_add_picks.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_helpers import assert_one_error, fresh, invoke, new_local_project, ok, run_names

pytestmark = pytest.mark.usefixtures("restore_logging")

mrcfile = pytest.importorskip("mrcfile")
tifffile = pytest.importorskip("tifffile")
emfile = pytest.importorskip("emfile")

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 120.0},
    {"name": "membrane", "is_particle": False, "label": 2},
    {"name": "proteasome", "is_particle": True, "label": 3},
]
SHAPE = (32, 48, 40)
RNG = np.random.default_rng(7)


@pytest.fixture
def config(tmp_path: Path) -> str:
    return new_local_project(tmp_path, OBJECTS)[0]


def volume(shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    return RNG.random(shape).astype(np.float32)


def write_mrc(path: Path, data: np.ndarray, voxel_size: float = 10.0) -> str:
    with mrcfile.new(str(path), overwrite=True) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = voxel_size
    return str(path)


def tomogram_array(config: str, run: str, vs: float, tomo_type: str = "wbp", level: str = "0") -> np.ndarray:
    return fresh(config).get_run(run).get_voxel_spacing(vs).get_tomograms(tomo_type)[0].numpy(level)


# --------------------------------------------------------------------------------------------------------
# add tomogram
# --------------------------------------------------------------------------------------------------------


@pytest.mark.volumes
def test_add_tomogram_mrc_then_export_round_trip(tmp_path: Path, config: str) -> None:
    data = volume()
    path = write_mrc(tmp_path / "TS_001.mrc", data, 10.0)
    result = ok(invoke("add tomogram", path, config=config))
    assert result.stdout == ""
    assert "Successfully processed all 1 items" in result.stderr
    assert run_names(config) == ["TS_001"]
    np.testing.assert_array_equal(tomogram_array(config, "TS_001", 10.0), data)
    assert tomogram_array(config, "TS_001", 10.0, level="2").shape == (8, 12, 10)

    out = tmp_path / "out"
    ok(invoke("export tomogram --tomogram-uri wbp@10.0 --output-format mrc --output-dir", out, config=config))
    with mrcfile.open(str(out / "TS_001" / "VoxelSpacing10.000" / "wbp.mrc")) as mrc:
        np.testing.assert_array_equal(mrc.data, data)
        assert float(mrc.voxel_size.x) == pytest.approx(10.0)


@pytest.mark.volumes
def test_add_tomogram_tiff_em_glob_regex_flip_transpose(tmp_path: Path, config: str) -> None:
    data = volume()
    tifffile.imwrite(str(tmp_path / "tomo_TS_1.tif"), data)
    emfile.write(str(tmp_path / "tomo_TS_2.em"), data)
    # the run comes from --run-regex group 1 plus --run-name-prefix
    words = "add tomogram --voxel-size 7.5 --tomo-type denoised --run-name-prefix p- --flip 0"
    words += " --no-create-pyramid --chunk-size 16,16,16 --run-regex"
    ok(invoke(words, r"tomo_(TS_\d)", tmp_path / "tomo_*.tif", config=config))
    words = "add tomogram --voxel-size 7.5 --run p-TS_2 --transpose 2,1,0 --pyramid-levels 2"
    ok(invoke(words, tmp_path / "tomo_TS_2.em", config=config))
    assert run_names(config) == ["p-TS_1", "p-TS_2"]
    np.testing.assert_array_equal(tomogram_array(config, "p-TS_1", 7.5, "denoised"), data[::-1])
    np.testing.assert_array_equal(tomogram_array(config, "p-TS_2", 7.5), data.transpose(2, 1, 0))
    import zarr

    tomo = fresh(config).get_run("p-TS_1").get_voxel_spacing(7.5).get_tomograms("denoised")[0]
    group = zarr.open_group(store=tomo.zarr(), mode="r")
    assert sorted(group.array_keys()) == ["0"] and group["0"].chunks == (16, 16, 16)

    out = tmp_path / "out"
    words = "export tomogram --tomogram-uri denoised@7.5 --output-format tiff --compression zlib --output-dir"
    ok(invoke(words, out, config=config))
    back = tifffile.imread(str(out / "p-TS_1" / "VoxelSpacing7.500" / "denoised.tiff"))
    np.testing.assert_array_equal(back, data[::-1])


@pytest.mark.volumes
def test_add_tomogram_tiff_without_voxel_size_creates_nothing(tmp_path: Path, config: str) -> None:
    tifffile.imwrite(str(tmp_path / "TS_9.tif"), volume())
    result = invoke("add tomogram", tmp_path / "TS_9.tif", config=config)
    assert_one_error(result, "1 of 1 items failed", "TS_9.tif", "--voxel-size")
    assert run_names(config) == []
    # --exit-zero keeps copick 1.31's exit status; the failure is still logged
    result = invoke("add tomogram --exit-zero", tmp_path / "TS_9.tif", config=config)
    assert result.exit_code == 0 and "Failed to process 1 items" in result.stderr
    assert run_names(config) == []


@pytest.mark.volumes
def test_add_tomogram_truncated_mrc_creates_nothing(tmp_path: Path, config: str) -> None:
    path = write_mrc(tmp_path / "TS_5.mrc", volume())
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    assert_one_error(invoke("add tomogram", path, config=config), "TS_5.mrc")
    assert run_names(config) == []
    assert not (Path(config).parent / "proj" / "ExperimentRuns" / "TS_5").exists()


@pytest.mark.volumes
def test_add_tomogram_existing_needs_overwrite(tmp_path: Path, config: str) -> None:
    path = write_mrc(tmp_path / "TS_1.mrc", volume())
    ok(invoke("add tomogram", path, config=config))
    assert_one_error(invoke("add tomogram", path, config=config), "already exists", "--overwrite")
    newer = volume()
    write_mrc(tmp_path / "TS_1.mrc", newer)
    ok(invoke("add tomogram --overwrite", path, config=config))
    np.testing.assert_array_equal(tomogram_array(config, "TS_1", 10.0), newer)
    result = invoke("add tomogram --no-create", write_mrc(tmp_path / "TS_2.mrc", newer), config=config)
    assert_one_error(result, "TS_2", "--no-create")
    assert run_names(config) == ["TS_1"]


def test_add_tomogram_usage_errors(tmp_path: Path, config: str) -> None:
    path = tmp_path / "x.mrc"
    for words, hint in (
        ("--chunk-size 64,64", "--chunk-size"),
        ("--flip z", "--flip"),
        ("--pyramid-levels 0", "--pyramid-levels"),
        ("--voxel-size -1", "--voxel-size"),
        ("--file-type rec", "--file-type"),
    ):
        result = invoke(f"add tomogram {words}", path, config=config)
        assert result.exit_code == 2, (words, result.output)
        assert hint in result.stderr
    assert invoke("add tomogram", path).exit_code == 2  # no config
    nothing = invoke("add tomogram", tmp_path / "nothing-*.mrc", config=config)
    assert nothing.exit_code == 2 and "No files found matching pattern" in nothing.stderr  # as copick 1.31


# --------------------------------------------------------------------------------------------------------
# add segmentation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.volumes
def test_add_segmentation_multilabel_round_trip(tmp_path: Path, config: str) -> None:
    labels = RNG.integers(0, 4, SHAPE).astype(np.uint8)
    path = write_mrc(tmp_path / "TS_1.mrc", labels, 10.0)
    ok(invoke("add segmentation --name organelles --user-id alice", path, config=config))
    seg = fresh(config).get_run("TS_1").get_segmentations(name="organelles")[0]
    assert (seg.user_id, seg.session_id, seg.is_multilabel, seg.voxel_size) == ("alice", "1", True, 10.0)
    np.testing.assert_array_equal(seg.numpy(), labels)

    out = tmp_path / "out"
    folder = out / "TS_1" / "Segmentations"
    for fmt, ext in (("mrc", "mrc"), ("em", "em"), ("tiff", "tiff")):
        words = f"export segmentation --segmentation-uri organelles:alice/1@10.0 --output-format {fmt}"
        ok(invoke(f"{words} --output-dir", out, config=config))
        assert (folder / f"organelles_alice_1.{ext}").is_file(), sorted(p.name for p in folder.iterdir())
    with mrcfile.open(str(folder / "organelles_alice_1.mrc")) as mrc:
        np.testing.assert_array_equal(mrc.data, labels)
    np.testing.assert_array_equal(emfile.read(str(folder / "organelles_alice_1.em"))[1], labels)


@pytest.mark.volumes
def test_add_segmentation_binary_and_panoptic(tmp_path: Path, config: str) -> None:
    mask = (RNG.random(SHAPE) > 0.5).astype(np.uint8)
    tifffile.imwrite(str(tmp_path / "TS_1.tif"), mask)
    words = "add segmentation --voxel-size 10 --segmentation-type binary --name"
    assert_one_error(invoke(words, "nothing", tmp_path / "TS_1.tif", config=config), "nothing", "not found")
    assert run_names(config) == []
    ok(invoke(words, "membrane", tmp_path / "TS_1.tif", config=config))
    seg = fresh(config).get_run("TS_1").get_segmentations(name="membrane")[0]
    assert not seg.is_multilabel
    np.testing.assert_array_equal(seg.numpy(), mask)

    panoptic = np.stack([mask * 3, mask * RNG.integers(1, 9, SHAPE)]).astype(np.uint16)
    tifffile.imwrite(str(tmp_path / "TS_2.tif"), panoptic, photometric="minisblack")
    words = "add segmentation --voxel-size 10 --name cells --segmentation-type panoptic"
    ok(invoke(words, tmp_path / "TS_2.tif", config=config))
    out = tmp_path / "out"
    words = "export segmentation --segmentation-uri cells?panoptic=true --output-format mrc -r TS_2"
    result = invoke(f"{words} --output-dir", out, config=config)
    assert_one_error(result, "1 of 1 items failed", "--channel")
    ok(invoke(f"{words} --channel instance --output-dir", out, config=config))
    with mrcfile.open(str(out / "TS_2" / "PanopticSegmentations" / "cells_copick_1_instance.mrc")) as mrc:
        np.testing.assert_array_equal(mrc.data, panoptic[1])


def test_add_segmentation_needs_a_name(tmp_path: Path, config: str) -> None:
    result = invoke("add segmentation", tmp_path / "x.mrc", config=config)
    assert result.exit_code == 2 and "--name" in result.stderr


# --------------------------------------------------------------------------------------------------------
# add object / object-volume
# --------------------------------------------------------------------------------------------------------


def _objects(config: str) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in json.loads(Path(config).read_text())["pickable_objects"]}


def test_add_object_rewrites_the_config(config: str) -> None:
    words = "add object --name actin --object-type filament --radius 35 --polar --helical-rise 27.5"
    words += " --color 255,0,0,255 --identifier go:0005884 --metadata"
    result = ok(invoke(words, '{"source": "test"}', config=config))
    assert "Successfully added filament object 'actin' with label 4" in result.stderr
    actin = _objects(config)["actin"]
    assert actin["is_particle"] and actin["radius"] == 35.0 and actin["color"] == [255, 0, 0, 255]
    assert actin["identifier"] == "GO:0005884"
    assert actin["metadata"]["source"] == "test"
    assert actin["metadata"]["copick"]["filament"] == {"polar": True, "helical_rise_a": 27.5}
    assert fresh(config).get_object("actin").is_filament
    assert '\n    "pickable_objects"' in Path(config).read_text()  # pretty JSON, 4-space indent

    words = "add object --name vesicle --object-type segmentation --label 9 --identifier pdb:1BXN"
    ok(invoke(words, config=config))
    vesicle = _objects(config)["vesicle"]
    assert (vesicle["is_particle"], vesicle["label"], vesicle["radius"]) == (False, 9, None)
    assert vesicle["identifier"] == "PDB-1BXN"

    assert_one_error(invoke("add object --name actin", config=config), "Object name actin already exists")
    # --exist-ok changes only what is given: radius, type and filament description stay
    result = ok(
        invoke("add object --name actin --exist-ok --pdb-id 1ATN --helical-twist -166.7", config=config)
    )
    assert "Successfully updated filament object 'actin'" in result.stderr
    actin = _objects(config)["actin"]
    assert (actin["pdb_id"], actin["radius"], actin["is_particle"]) == ("1ATN", 35.0, True)
    filament = {"polar": True, "helical_rise_a": 27.5, "helical_twist_deg": -166.7}
    assert actin["metadata"]["copick"]["filament"] == filament
    ok(invoke("add object --name ribosome --exist-ok --emdb-id EMD-1234", config=config))
    assert (_objects(config)["ribosome"]["radius"], _objects(config)["ribosome"]["label"]) == (120.0, 1)

    for words in (
        "--polar",
        "--color 1,2",
        "--color 255,0,0",
        "--metadata [1]",
        "--label 0",
        "--voxel-size 3",
    ):
        result = invoke(f"add object --name x {words}", config=config)
        assert result.exit_code == 2, (words, result.output)
    assert "x" not in _objects(config)


@pytest.mark.volumes
def test_add_object_with_volume_and_object_volume(tmp_path: Path, config: str) -> None:
    density = volume((16, 16, 16))
    path = write_mrc(tmp_path / "map.mrc", density, 4.0)
    ok(invoke("add object --name nucleosome --voxel-size 4 --volume", path, config=config))
    np.testing.assert_array_equal(fresh(config).get_object("nucleosome").numpy(), density)
    assert (Path(config).parent / "proj" / "Objects" / "nucleosome.zarr").is_dir()

    other = volume((16, 16, 16))
    ribo = write_mrc(tmp_path / "ribo.mrc", other, 5.0)  # voxel size from the header
    ok(invoke("add object-volume --object-name ribosome --volume-path", ribo, config=config))
    np.testing.assert_array_equal(fresh(config).get_object("ribosome").numpy(), other)
    result = invoke("add object-volume --object-name membrane --volume-path", path, config=config)
    assert_one_error(result, "membrane", "not a particle")


# --------------------------------------------------------------------------------------------------------
# end to end: the installed console script
# --------------------------------------------------------------------------------------------------------


@pytest.mark.volumes
def test_add_tomogram_subprocess(tmp_path: Path, config: str) -> None:
    script = Path(sys.executable).parent / "copick"
    if not script.exists():
        pytest.skip("copick console script not installed (pip install -e .)")
    data = volume()
    path = write_mrc(tmp_path / "TS_010.mrc", data, 12.0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPICK_")}

    def copick_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], capture_output=True, text=True, env=env)

    done = copick_cli("add", "tomogram", path, "-c", config, "--tomo-type", "imod")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "Successfully processed all 1 items" in done.stderr
    np.testing.assert_array_equal(tomogram_array(config, "TS_010", 12.0, "imod"), data)
    failed = copick_cli("add", "tomogram", str(tmp_path / "TS_011.tif"), "-c", config)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("Error: 1 of 1 items failed")
    assert run_names(config) == ["TS_010"]
