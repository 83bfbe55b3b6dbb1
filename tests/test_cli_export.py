"""``copick export picks|tomogram|segmentation`` through click's test runner: formats, round trips, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import copick
from cli_helpers import assert_one_error, invoke, new_local_project, ok

pytestmark = pytest.mark.usefixtures("restore_logging")

starfile = pytest.importorskip("starfile")
pd = pytest.importorskip("pandas")
emfile = pytest.importorskip("emfile")
pytest.importorskip("dynamotable")
Rotation = pytest.importorskip("scipy.spatial.transform").Rotation

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 120.0},
    {"name": "membrane", "is_particle": False, "label": 2},
]
RUNS = ("TS_1", "TS_2")
RNG = np.random.default_rng(23)


@pytest.fixture
def project(tmp_path: Path) -> str:
    """Two runs with ribosome picks by alice/1 (random positions and rotations, ids, scores)."""
    cfg, root = new_local_project(tmp_path, OBJECTS)
    for i, name in enumerate(RUNS):
        n = 4 + i
        transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
        transforms[:, :3, :3] = Rotation.random(n, random_state=i).as_matrix()
        picks = root.new_run(name).new_picks("ribosome", "1", "alice")
        picks.from_numpy(RNG.uniform(20, 600, (n, 3)), transforms, np.arange(1, n + 1), RNG.random(n))
    return cfg


def picks_of(config: str, run: str, user: str = "alice") -> tuple[np.ndarray, np.ndarray]:
    return copick.from_file(config).get_run(run).get_picks("ribosome", user, "1")[0].numpy()


def assert_same_picks(config: str, run: str, user: str, position_atol: float = 1e-3) -> None:
    """The picks ``user`` imported equal alice's originals (positions in Angstrom, 4x4 transforms)."""
    want_pos, want_tf = picks_of(config, run)
    got_pos, got_tf = picks_of(config, run, user)
    np.testing.assert_allclose(got_pos, want_pos, atol=position_atol)
    np.testing.assert_allclose(got_tf, want_tf, atol=1e-4)


# --------------------------------------------------------------------------------------------------------
# export picks
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "ext", "export_words", "import_words"),
    [
        ("csv", "csv", "", ""),
        ("star", "star", "--tilt-series-pixel-size 1.35", ""),
        ("em", "em", "--voxel-size 10", "--voxel-size 10"),
        ("dynamo", "tbl", "--voxel-size 10", "--voxel-size 10"),
    ],
)
def test_export_picks_per_run_then_import_round_trip(
    tmp_path: Path, project: str, fmt: str, ext: str, export_words: str, import_words: str
) -> None:
    out = tmp_path / "out"
    words = f"export picks --picks-uri ribosome:alice/1 --output-format {fmt} {export_words} --output-dir"
    result = ok(invoke(words, out, config=project))
    assert result.stdout == ""
    assert "Exported 2 pick sets from 2 of 2 runs" in result.stderr
    assert "Export completed successfully." in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{run}_ribosome_alice_1.{ext}" for run in RUNS]
    for run in RUNS:
        words = f"add picks --object-name ribosome --user-id back --run {run} {import_words}"
        ok(invoke(words, out / f"{run}_ribosome_alice_1.{ext}", config=project))
        assert_same_picks(project, run, "back")


def test_export_picks_combined_star_csv_and_import_layout(tmp_path: Path, project: str) -> None:
    star = tmp_path / "particles.star"
    words = (
        "export picks --picks-uri ribosome --output-format star --tilt-series-pixel-size 2.0 --output-file"
    )
    result = ok(invoke(words, star, config=project))
    assert "Exported 9 particles from 2 of 2 runs to RELION (particles layout)" in result.stderr
    blocks = starfile.read(str(star), always_dict=True)
    assert sorted(blocks) == ["optics", "particles"]
    assert sorted(set(blocks["particles"]["rlnTomoName"])) == list(RUNS)
    ok(invoke("add picks-relion --object-name ribosome --user-id relion", star, config=project))
    for run in RUNS:
        assert_same_picks(project, run, "relion")

    combined = tmp_path / "all.csv"
    words = "export picks --picks-uri ribosome:alice/1 --output-format csv -r TS_2 --output-file"
    ok(invoke(words, combined, config=project))
    table = pd.read_csv(combined)
    assert set(table["run_name"]) == {"TS_2"} and len(table) == 5
    ok(invoke("add picks --object-name ribosome --user-id csv", combined, config=project))
    assert_same_picks(project, "TS_2", "csv", position_atol=1e-6)

    index = tmp_path / "relion" / "import.star"
    words = "export picks --picks-uri ribosome --output-format star --tilt-series-pixel-size 2.0"
    ok(invoke(f"{words} --star-layout import --output-file", index, config=project))
    assert list(starfile.read(str(index))["rlnTomoName"]) == list(RUNS)
    coordinates = sorted(p.name for p in (tmp_path / "relion" / "coordinates").iterdir())
    assert coordinates == ["TS_1.star", "TS_2.star"]


def test_export_picks_combined_em_and_dynamo_need_index_map(tmp_path: Path, project: str) -> None:
    index_map = tmp_path / "map.tsv"
    index_map.write_text("3\tTS_1\n7\tTS_2\n")
    for fmt, ext in (("em", "em"), ("dynamo", "tbl")):
        words = f"export picks --picks-uri ribosome --output-format {fmt} --voxel-size 10 --output-file"
        result = invoke(words, tmp_path / f"all.{ext}", config=project)
        assert result.exit_code == 2 and "--index-map" in result.stderr
        ok(invoke(words, tmp_path / f"all.{ext}", "--index-map", index_map, config=project))
    rows = emfile.read(str(tmp_path / "all.em"))[1][0].T
    np.testing.assert_array_equal(rows[4], [3] * 4 + [7] * 5)
    words = "--object-name ribosome --voxel-size 10 --index-map"
    ok(invoke(f"add picks-em --user-id em {words}", index_map, tmp_path / "all.em", config=project))
    ok(invoke(f"add picks-dynamo --user-id dyn {words}", index_map, tmp_path / "all.tbl", config=project))
    for run in RUNS:
        assert_same_picks(project, run, "em")
        assert_same_picks(project, run, "dyn")


def test_export_picks_usage_errors(tmp_path: Path, project: str) -> None:
    cases = [
        ("--output-format csv", "exactly one of --output-dir"),
        ("--output-format csv --output-dir a --output-file b", "exactly one of --output-dir"),
        ("--output-format em --output-dir out", "--voxel-size"),
        ("--output-format xml --output-dir out", "--output-format"),
        ("--output-dir out", "--output-format"),
    ]
    for words, needle in cases:
        result = invoke(f"export picks --picks-uri ribosome {words}", config=project)
        assert result.exit_code == 2, (words, result.output)
        assert needle in result.stderr
    assert invoke("export picks --output-format csv --output-dir x", config=project).exit_code == 2


def test_export_picks_empty_selection_warns(tmp_path: Path, project: str) -> None:
    out = tmp_path / "out"
    words = "export picks --picks-uri proteasome --output-format csv --output-dir"
    result = ok(invoke(words, out, config=project))
    assert "No pick sets matched 'proteasome' in 2 run(s)" in result.stderr
    assert "completed successfully" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_export_picks_failures_exit_1(tmp_path: Path, project: str) -> None:
    words = "export picks --picks-uri ribosome --output-format star --output-dir"
    # no tilt-series pixel size, no tomogram centre, no voxel size: nothing can place the particles
    result = invoke(words, tmp_path / "o", config=project)
    assert_one_error(result, "2 of 2 items failed", "pixel size")
    assert "completed successfully" not in result.stderr
    assert invoke(words, tmp_path / "o", "--exit-zero", config=project).exit_code == 0
    unknown = invoke(words, tmp_path / "o", "-r", "TS_9", "--tilt-series-pixel-size", "1", config=project)
    assert_one_error(unknown, "TS_9")


# --------------------------------------------------------------------------------------------------------
# export tomogram / segmentation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.volumes
def test_export_tomogram_zarr_levels_and_mrc_level(tmp_path: Path, project: str) -> None:
    import mrcfile
    import zarr

    from copick.ops.importers import add_tomogram

    data = RNG.random((32, 48, 40)).astype(np.float32)
    add_tomogram(copick.from_file(project), "TS_1", "wbp", data, 10.0, create_pyramid=True, pyramid_levels=3)
    tomo = copick.from_file(project).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    words = "export tomogram --tomogram-uri wbp@10"
    ok(invoke(f"{words} --output-format zarr --output-dir", tmp_path / "all", config=project))
    group = zarr.open_group(str(tmp_path / "all" / "TS_1" / "VoxelSpacing10.000" / "wbp.zarr"), mode="r")
    assert sorted(group.array_keys()) == ["0", "1", "2"]
    np.testing.assert_array_equal(group["0"][...], data)
    np.testing.assert_array_equal(group["2"][...], tomo.numpy("2"))

    level_only = f"{words} --output-format zarr --level-only --level 1 --output-dir"
    ok(invoke(level_only, tmp_path / "one", config=project))
    group = zarr.open_group(str(tmp_path / "one" / "TS_1" / "VoxelSpacing10.000" / "wbp.zarr"), mode="r")
    assert sorted(group.array_keys()) == ["0"] and "multiscales" in group.attrs
    np.testing.assert_array_equal(group["0"][...], tomo.numpy("1"))

    ok(invoke(f"{words} --output-format mrc --level 1 --output-dir", tmp_path / "mrc", config=project))
    with mrcfile.open(str(tmp_path / "mrc" / "TS_1" / "VoxelSpacing10.000" / "wbp.mrc")) as mrc:
        np.testing.assert_array_equal(mrc.data, tomo.numpy("1"))
        assert float(mrc.voxel_size.x) == pytest.approx(20.0)  # vs * 2^level
    bad = invoke(f"{words} --output-format mrc --level -1 --output-dir", tmp_path / "x", config=project)
    assert bad.exit_code == 2 and "--level" in bad.stderr


@pytest.mark.volumes
def test_export_segmentation_names_and_run_filter(tmp_path: Path, project: str) -> None:
    tifffile = pytest.importorskip("tifffile")
    root = copick.from_file(project)
    labels = RNG.integers(0, 3, (16, 20, 24)).astype(np.uint8)
    for vs in (10.0, 20.0):
        root.get_run("TS_1").new_segmentation(vs, "organelles", "1", True, "alice").from_numpy(labels)
    root.get_run("TS_2").new_segmentation(10.0, "organelles", "1", True, "alice").from_numpy(labels)
    out = tmp_path / "out"
    words = "export segmentation --segmentation-uri organelles:alice/1 --output-format tiff -r TS_1"
    result = ok(invoke(f"{words} --output-dir", out, config=project))
    assert "Exported 2 segmentations from 1 of 1 runs" in result.stderr
    names = sorted(p.name for p in (out / "TS_1" / "Segmentations").iterdir())
    assert names == ["10.000_organelles_alice_1.tiff", "20.000_organelles_alice_1.tiff"]  # no collision
    assert not (out / "TS_2").exists()
    np.testing.assert_array_equal(tifffile.imread(str(out / "TS_1" / "Segmentations" / names[0])), labels)
