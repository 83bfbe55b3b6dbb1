"""``copick add tomograms-dynamo`` / ``tomograms-relion`` through click's test runner on real files:
runs, voxel sizes and data as listed, skips as copick 1.31 logs them, and lists refused before any write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

import copick
from copick.cli.cli import cli

mrcfile = pytest.importorskip("mrcfile")
starfile = pytest.importorskip("starfile")
pd = pytest.importorskip("pandas")

SHAPE = (8, 12, 10)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project config, two MRC files (voxel size 7 in the header) and the working directory there."""
    (tmp_path / "tomos").mkdir()
    for i, name in enumerate(("TS_01", "TS_02")):
        with mrcfile.new(str(tmp_path / "tomos" / f"{name}.mrc")) as mrc:
            mrc.set_data(np.full(SHAPE, i + 1, dtype=np.float32))
            mrc.voxel_size = 7.0
    config = {
        "config_type": "filesystem",
        "name": "t",
        "pickable_objects": [{"name": "ribosome", "is_particle": True, "label": 1}],
        "overlay_root": f"local://{tmp_path / 'project'}",
        "overlay_fs_args": {"auto_mkdir": True},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _add(*args: str) -> Result:
    return CliRunner().invoke(cli, ["add", *args, "-c", "config.json", "--no-create-pyramid"])


def _tomograms(folder: Path) -> dict[tuple[str, float], float]:
    """{(run, voxel size): the tomogram's constant value} of every wbp tomogram."""
    root = copick.from_file(str(folder / "config.json"))
    return {
        (run.name, vs.voxel_size): float(np.asarray(tomo.numpy()).mean())
        for run in root.runs
        for vs in run.voxel_spacings
        for tomo in vs.get_tomograms("wbp")
    }


def test_dynamo_tomolist_runs_from_file_names_or_index_map(folder: Path) -> None:
    (folder / "list.doc").write_text(f"1\t{folder}/tomos/TS_01.mrc\n2 tomos/TS_02.mrc\n3\tmissing.mrc\n")
    result = _add("tomograms-dynamo", "--tomolist", "list.doc")
    assert result.exit_code == 0, result.output
    assert "Found 2 tomograms to import from tomolist" in result.output
    assert "File not found: missing.mrc, skipping" in result.output
    assert _tomograms(folder) == {("TS_01", 7.0): 1.0, ("TS_02", 7.0): 2.0}

    (folder / "map.csv").write_text("2,runB\n")
    result = _add("tomograms-dynamo", "--tomolist", "list.doc", "--index-map", "map.csv", "--voxel-size", "5")
    assert result.exit_code == 0, result.output
    assert "Index 1 not in mapping, skipping" in result.output
    assert _tomograms(folder)[("runB", 5.0)] == 2.0


def test_relion_tomograms_star_half_and_voxel_size(folder: Path) -> None:
    table = pd.DataFrame(
        {
            "rlnTomoName": ["TS_01", "TS_02"],
            "rlnTomoTiltSeriesPixelSize": [1.5, 1.5],
            "rlnTomoTomogramBinning": [4.0, 4.0],
            "rlnTomoReconstructedTomogramHalf1": ["tomos/TS_01.mrc", "tomos/gone.mrc"],
            "rlnTomoReconstructedTomogramHalf2": ["tomos/TS_02.mrc", "tomos/TS_01.mrc"],
        }
    )
    starfile.write({"global": table}, folder / "tomograms.star")
    result = _add("tomograms-relion", "--tomograms-star", "tomograms.star", "--base-dir", str(folder))
    assert result.exit_code == 0, result.output
    assert f"File not found: {folder}/tomos/gone.mrc, skipping" in result.output
    assert _tomograms(folder) == {("TS_01", 6.0): 1.0}  # 1.5 x 4, not the header's 7

    args = ("--tomograms-star", "tomograms.star", "--base-dir", ".", "--half", "half2", "--voxel-size", "3")
    assert _add("tomograms-relion", *args).exit_code == 0
    assert _tomograms(folder) == {("TS_01", 6.0): 1.0, ("TS_01", 3.0): 2.0, ("TS_02", 3.0): 1.0}


@pytest.mark.parametrize(
    ("columns", "phrase"),
    [
        ({"rlnTomoTomogramBinning": [2.0]}, "Required column 'rlnTomoTiltSeriesPixelSize'"),
        ({"rlnTomoTiltSeriesPixelSize": [2.0]}, "Required column 'rlnTomoTomogramBinning' not found"),
        ({"rlnTomoTiltSeriesPixelSize": [2.0], "rlnTomoTomogramBinning": [2.0], "half1": None},
         "Column 'rlnTomoReconstructedTomogramHalf1' not found in tomograms.star file"),
    ],
)  # fmt: skip
def test_relion_star_without_needed_columns_writes_nothing(folder: Path, columns: dict, phrase: str) -> None:
    table = {"rlnTomoName": ["TS_01"], "rlnTomoReconstructedTomogramHalf1": ["tomos/TS_01.mrc"], **columns}
    if table.pop("half1", 0) is None:
        del table["rlnTomoReconstructedTomogramHalf1"]
    starfile.write({"global": pd.DataFrame(table)}, folder / "t.star")
    result = _add("tomograms-relion", "--tomograms-star", "t.star", "--base-dir", ".")
    assert result.exit_code == 1 and phrase in result.output, result.output
    assert not (folder / "project").exists()


def test_dynamo_lists_refused_before_anything_is_written(folder: Path) -> None:
    (folder / "none.doc").write_text("1\tmissing.mrc\n")
    result = _add("tomograms-dynamo", "--tomolist", "none.doc")
    assert result.exit_code == 2 and "No valid tomograms found in tomolist" in result.output
    (folder / "twice.doc").write_text("1\ttomos/TS_01.mrc\n2\ttomos/TS_02.mrc\n")
    (folder / "map.csv").write_text("1,same\n2,same\n")
    result = _add("tomograms-dynamo", "--tomolist", "twice.doc", "--index-map", "map.csv")
    assert result.exit_code == 1 and "both go to run 'same'" in result.output
    (folder / "tomos" / "x.tif").write_bytes(b"")
    (folder / "tiff.doc").write_text("1\ttomos/TS_01.mrc\n2\ttomos/x.tif\n")
    result = _add("tomograms-dynamo", "--tomolist", "tiff.doc")
    assert result.exit_code == 1 and "--voxel-size" in result.output
    assert not (folder / "project").exists()
