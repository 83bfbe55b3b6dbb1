"""Picks file formats and their coordinate conventions (CLI.md §6.2-6.6), on files their libraries wrote."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from copick.errors import CorruptFileError
from copick.formats.picks_json import PickArrays

pd = pytest.importorskip("pandas")
emfile = pytest.importorskip("emfile")
starfile = pytest.importorskip("starfile")
dynamotable = pytest.importorskip("dynamotable")
Rotation = pytest.importorskip("scipy.spatial.transform").Rotation

RNG = np.random.default_rng(7)


def _random_rotations(n: int) -> np.ndarray:
    return Rotation.random(n, random_state=3).as_matrix()


def _picks(n: int = 5, translate: bool = True) -> PickArrays:
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = _random_rotations(n)
    if translate:
        transforms[:, :3, 3] = RNG.uniform(-20, 20, (n, 3))
    return PickArrays.build(
        RNG.uniform(0, 1000, (n, 3)), transforms, np.arange(1, n + 1), RNG.uniform(0, 1, n)
    )


# ------------------------------------------------------------------------------------------------
# rotations
# ------------------------------------------------------------------------------------------------


def test_euler_helpers(caplog: pytest.LogCaptureFixture) -> None:
    from copick.formats.rotations import euler_to_matrix, matrix_to_euler

    np.testing.assert_array_equal(matrix_to_euler(np.eye(3)), [0.0, 0.0, 0.0])
    angles = np.array([[30.0, 40.0, 50.0], [-100.0, 120.0, 10.0]])
    mats = euler_to_matrix(angles)
    np.testing.assert_allclose(mats, Rotation.from_euler("ZYZ", angles, degrees=True).as_matrix())
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(mats)), mats, atol=1e-12)
    with caplog.at_level(logging.WARNING):
        np.testing.assert_array_equal(matrix_to_euler(np.diag([2.0, 1.0, 1.0])), [0.0, 0.0, 0.0])
    assert "not rotations" in caplog.text


# ------------------------------------------------------------------------------------------------
# EM motive lists
# ------------------------------------------------------------------------------------------------


def _motl(n: int) -> np.ndarray:
    rows = np.zeros((20, n))
    rows[3] = RNG.uniform(0, 1, n)
    rows[4] = [1, 2, 2, 5, 1][:n]
    rows[7:10] = RNG.uniform(1, 100, (3, n))
    rows[10:13] = RNG.uniform(-2, 2, (3, n))
    rows[16:19] = RNG.uniform(-180, 180, (3, n))
    rows[17] = RNG.uniform(0, 180, n)
    return rows


def test_em_motivelist_import_convention(tmp_path: Path) -> None:
    from copick.formats.em import read_em_motivelist, read_em_motivelist_grouped

    rows = _motl(5)
    path = tmp_path / "m.em"
    emfile.write(str(path), rows.T[np.newaxis].astype(np.float32))
    rows = rows.astype(np.float32).astype(np.float64)
    picks = read_em_motivelist(str(path), 10.0)
    np.testing.assert_allclose(picks.positions, (rows[7:10].T - 1) * 10.0)
    phi, psi, theta = rows[16], rows[17], rows[18]
    expected = Rotation.from_euler("zxz", np.stack([phi, theta, psi], 1), degrees=True).as_matrix()
    np.testing.assert_allclose(picks.transforms[:, :3, :3], expected, atol=1e-12)
    np.testing.assert_allclose(picks.transforms[:, :3, 3], rows[10:13].T * 10.0)
    np.testing.assert_allclose(picks.scores, rows[3])
    grouped = read_em_motivelist_grouped(str(path), 10.0)
    assert {k: len(v) for k, v in grouped.items()} == {1: 2, 2: 2, 5: 1}
    # a file stored 20 x N is transposed on read
    tall = tmp_path / "tall.em"
    emfile.write(str(tall), rows[np.newaxis].astype(np.float32))
    np.testing.assert_allclose(read_em_motivelist(str(tall), 10.0).positions, picks.positions)


def test_em_motivelist_round_trip(tmp_path: Path) -> None:
    from copick.formats.em import read_em_motivelist, read_em_motivelist_rows, write_em_motivelist

    picks = _picks()
    path = write_em_motivelist(str(tmp_path / "o.em"), picks, 10.0, tomogram_index=3)
    _, data = emfile.read(path)
    assert data.shape == (1, 5, 20) and data.dtype == np.float32
    rows = read_em_motivelist_rows(path)
    np.testing.assert_array_equal(rows[4], 3)
    np.testing.assert_array_equal(rows[5], 1)
    np.testing.assert_array_equal(rows[6], np.arange(1, 6))
    np.testing.assert_array_equal(rows[:3], 0)
    back = read_em_motivelist(path, 10.0)
    np.testing.assert_allclose(back.positions, picks.positions, atol=1e-3)
    np.testing.assert_allclose(back.transforms, picks.transforms, atol=1e-3)
    np.testing.assert_allclose(back.scores, picks.scores, atol=1e-6)


def test_em_bad_motivelist(tmp_path: Path) -> None:
    from copick.formats.em import read_em_motivelist

    path = tmp_path / "vol.em"
    emfile.write(str(path), np.zeros((4, 5, 6), np.float32))
    with pytest.raises(CorruptFileError, match=r"vol\.em.*20 values"):
        read_em_motivelist(str(path), 10.0)


# ------------------------------------------------------------------------------------------------
# Dynamo tables
# ------------------------------------------------------------------------------------------------


def test_dynamo_import_convention_and_round_trip(tmp_path: Path) -> None:
    from copick.formats.dynamo import read_dynamo_table, read_dynamo_table_grouped, write_dynamo_table

    n = 4
    df = pd.DataFrame(
        {
            "tag": np.arange(1, n + 1),
            "dx": RNG.uniform(-1, 1, n),
            "dy": RNG.uniform(-1, 1, n),
            "dz": RNG.uniform(-1, 1, n),
            "tdrot": RNG.uniform(-180, 180, n),
            "tilt": RNG.uniform(0, 180, n),
            "narot": RNG.uniform(-180, 180, n),
            "cc": RNG.uniform(0, 1, n),
            "tomo": [1, 1, 2, 2],
            "x": RNG.uniform(0, 100, n),
            "y": RNG.uniform(0, 100, n),
            "z": RNG.uniform(0, 100, n),
        }
    )
    path = tmp_path / "t.tbl"
    dynamotable.write(df, str(path))
    picks = read_dynamo_table(str(path), 8.0)
    np.testing.assert_allclose(picks.positions, df[["x", "y", "z"]].to_numpy() * 8.0, rtol=1e-5)
    expected = (
        Rotation.from_euler("zxz", df[["tdrot", "tilt", "narot"]].to_numpy(), degrees=True).inv().as_matrix()
    )
    np.testing.assert_allclose(picks.transforms[:, :3, :3], expected, atol=1e-5)
    np.testing.assert_allclose(picks.transforms[:, :3, 3], df[["dx", "dy", "dz"]].to_numpy() * 8.0, rtol=1e-5)
    np.testing.assert_allclose(picks.scores, df["cc"], rtol=1e-5)
    assert sorted(read_dynamo_table_grouped(str(path), 8.0)) == [1, 2]

    mine = _picks()
    out = write_dynamo_table(str(tmp_path / "o.tbl"), mine, 8.0, tomogram_index=7)
    raw = dynamotable.read(out)
    assert list(raw["tag"]) == [1, 2, 3, 4, 5]
    assert set(raw["tomo"]) == {7} and set(raw["aligned_value"]) == {1}
    back = read_dynamo_table(out, 8.0)
    np.testing.assert_allclose(back.positions, mine.positions, atol=1e-6)
    np.testing.assert_allclose(back.transforms, mine.transforms, atol=1e-6)


def test_dynamo_too_few_columns(tmp_path: Path) -> None:
    from copick.formats.dynamo import read_dynamo_table

    path = tmp_path / "short.tbl"
    path.write_text("1 1 0 0 0 0\n2 1 0 0 0 0\n")
    with pytest.raises(CorruptFileError, match=r"short\.tbl.*6 columns"):
        read_dynamo_table(str(path), 1.0)


# ------------------------------------------------------------------------------------------------
# copick CSV
# ------------------------------------------------------------------------------------------------


def test_csv_round_trip_and_defaults(tmp_path: Path) -> None:
    from copick.formats.picks_csv import CSV_COLUMNS, read_picks_csv, write_picks_csv

    runs = {"001": _picks(3), "TS_2": _picks(2)}
    path = write_picks_csv(str(tmp_path / "p.csv"), runs)
    assert Path(path).read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    back = read_picks_csv(path)
    assert list(back) == ["001", "TS_2"]
    for name, picks in runs.items():
        np.testing.assert_allclose(back[name].positions, picks.positions)
        np.testing.assert_allclose(back[name].transforms, picks.transforms)
        np.testing.assert_array_equal(back[name].instance_ids, picks.instance_ids)
    minimal = tmp_path / "min.csv"
    minimal.write_text("run_name,x,y,z\nTS_1,100.0,200.0,300.0\n")
    got = read_picks_csv(str(minimal))["TS_1"]
    np.testing.assert_array_equal(got.transforms[0], np.eye(4))
    assert got.scores[0] == 1.0 and got.instance_ids[0] == 0


def test_csv_wrong_header_names_file_and_columns(tmp_path: Path) -> None:
    from copick.formats.picks_csv import read_picks_csv

    path = tmp_path / "bad.csv"
    path.write_text("name,X,Y,Z\nTS_1,1,2,3\n")
    with pytest.raises(CorruptFileError, match=r"bad\.csv.*run_name, x, y, z"):
        read_picks_csv(str(path))
    text = tmp_path / "text.csv"
    text.write_text("run_name,x,y,z\nTS_1,1,abc,3\n")
    with pytest.raises(CorruptFileError, match=r"text\.csv: line 2: column y"):
        read_picks_csv(str(text))


# ------------------------------------------------------------------------------------------------
# RELION STAR
# ------------------------------------------------------------------------------------------------


def _star_particles(n: int = 4, tomo: str = "TS_1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rlnTomoName": [tomo] * n,
            "rlnCoordinateX": RNG.uniform(0, 500, n),
            "rlnCoordinateY": RNG.uniform(0, 500, n),
            "rlnCoordinateZ": RNG.uniform(0, 200, n),
            "rlnAngleRot": RNG.uniform(-180, 180, n),
            "rlnAngleTilt": RNG.uniform(0, 180, n),
            "rlnAnglePsi": RNG.uniform(-180, 180, n),
            "rlnTomoSubtomogramRot": RNG.uniform(-180, 180, n),
            "rlnTomoSubtomogramTilt": RNG.uniform(0, 180, n),
            "rlnTomoSubtomogramPsi": RNG.uniform(-180, 180, n),
            "rlnOriginXAngst": RNG.uniform(-5, 5, n),
            "rlnOriginYAngst": RNG.uniform(-5, 5, n),
            "rlnOriginZAngst": RNG.uniform(-5, 5, n),
            "rlnOpticsGroup": [1] * n,
        }
    )


def _relion_r(angles: np.ndarray) -> np.ndarray:
    return Rotation.from_euler("ZYZ", angles, degrees=True).inv().as_matrix()


def test_star_pixel_size_rule_orientation_and_origin(tmp_path: Path) -> None:
    from copick.formats.relion import relion_coordinates_to_angstrom, relion_particles_to_picks
    from copick.formats.relion_star import read_star_particles_with_optics

    df = _star_particles()
    optics = pd.DataFrame(
        {"rlnOpticsGroup": [1], "rlnOpticsGroupName": ["g"], "rlnTomoTiltSeriesPixelSize": [1.5]}
    )
    path = tmp_path / "p.star"
    starfile.write({"optics": optics, "particles": df}, str(path))
    particles, opt = read_star_particles_with_optics(str(path))
    positions, rule = relion_coordinates_to_angstrom(particles, optics=opt, source=str(path))
    assert rule == "pixel_size"
    df = particles  # values as written (6 decimals)
    pos = df[["rlnCoordinateX", "rlnCoordinateY", "rlnCoordinateZ"]].to_numpy() * 1.5
    np.testing.assert_allclose(positions, pos)
    picks = relion_particles_to_picks(particles, positions, str(path))
    r_sub = _relion_r(
        df[["rlnTomoSubtomogramRot", "rlnTomoSubtomogramTilt", "rlnTomoSubtomogramPsi"]].to_numpy()
    )
    r_ang = _relion_r(df[["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"]].to_numpy())
    origin = df[["rlnOriginXAngst", "rlnOriginYAngst", "rlnOriginZAngst"]].to_numpy()
    np.testing.assert_allclose(picks.transforms[:, :3, :3], r_sub @ r_ang, atol=1e-12)
    np.testing.assert_allclose(picks.positions, pos - np.einsum("nij,nj->ni", r_sub, origin))
    np.testing.assert_array_equal(picks.transforms[:, :3, 3], 0.0)


def test_star_rules_centered_legacy_and_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from copick.formats.relion import (
        RelionPixelSizeError,
        RelionTomogramCenterError,
        relion_coordinates_to_angstrom,
    )
    from copick.formats.relion_star import read_relion_tomograms

    df = pd.DataFrame(
        {
            "rlnTomoName": ["TS_1", "TS_1"],
            "rlnCenteredCoordinateXAngst": [10.0, -20.0],
            "rlnCenteredCoordinateYAngst": [0.0, 5.0],
            "rlnCenteredCoordinateZAngst": [1.0, 2.0],
        }
    )
    tomos_path = tmp_path / "tomograms.star"
    tomos = pd.DataFrame(
        {
            "rlnTomoName": ["TS_1"],
            "rlnTomoSizeX": [400],
            "rlnTomoSizeY": [300],
            "rlnTomoSizeZ": [100],
            "rlnTomoTiltSeriesPixelSize": [2.0],
            "rlnTomoTomogramBinning": [4.0],
        }
    )
    starfile.write({"global": tomos}, str(tomos_path))
    info = read_relion_tomograms(str(tomos_path))
    np.testing.assert_array_equal(info["TS_1"].center, [400.0, 300.0, 100.0])
    assert info["TS_1"].voxel_size == 8.0
    positions, rule = relion_coordinates_to_angstrom(df, tomograms=info)
    assert rule == "centered"
    np.testing.assert_allclose(positions, [[410.0, 300.0, 101.0], [380.0, 305.0, 102.0]])
    with pytest.raises(RelionTomogramCenterError, match="centre"):
        relion_coordinates_to_angstrom(df, source="x.star")
    both = df.assign(rlnCoordinateX=[1.0, 2.0], rlnCoordinateY=[1.0, 2.0], rlnCoordinateZ=[1.0, 2.0])
    with pytest.raises(RelionTomogramCenterError):
        relion_coordinates_to_angstrom(both, relion_version="relion5", voxel_size=10.0)
    with pytest.raises(RelionPixelSizeError, match="pixel size"):
        relion_coordinates_to_angstrom(both, relion_version="relion4")
    with caplog.at_level(logging.WARNING):
        legacy, rule = relion_coordinates_to_angstrom(both, voxel_size=10.0)
    assert rule == "voxel_size" and "legacy" in caplog.text
    np.testing.assert_allclose(legacy[:, 0], [10.0, 20.0])
    none = pd.DataFrame({"rlnTomoName": ["a"], "rlnAngleRot": [0.0]})
    with pytest.raises(CorruptFileError, match=r"none\.star.*no coordinate columns"):
        relion_coordinates_to_angstrom(none, voxel_size=1.0, source="none.star")


def test_star_export_columns_and_round_trip(tmp_path: Path) -> None:
    from copick.formats import relion, relion_star, relion_write

    picks = _picks(4)
    center = np.array([500.0, 400.0, 100.0])
    options = relion_write.StarExportOptions(pixel_size=1.25, voxel_size=10.0, center=center, optics_group=1)
    table = relion_write.picks_to_relion_particles(picks, "TS_1", options)
    assert list(table.columns) == [
        "rlnTomoName",
        "rlnCoordinateX",
        "rlnCoordinateY",
        "rlnCoordinateZ",
        "rlnAngleRot",
        "rlnAngleTilt",
        "rlnAnglePsi",
        "rlnCenteredCoordinateXAngst",
        "rlnCenteredCoordinateYAngst",
        "rlnCenteredCoordinateZAngst",
        "rlnOpticsGroup",
    ]
    path = relion_write.write_star_particles(
        str(tmp_path / "o.star"), table, relion_write.optics_table([(1, "TS_1", 1.25, None)])
    )
    particles, optics = relion_star.read_star_particles_with_optics(path)
    for version in ("relion4", "relion5"):
        positions, _ = relion.relion_coordinates_to_angstrom(
            particles, optics=optics, centers={"TS_1": options.center}, relion_version=version
        )
        np.testing.assert_allclose(positions, picks.full_positions(), atol=1e-4)
    back = relion.relion_particles_to_picks(particles, positions, path)
    np.testing.assert_allclose(back.transforms[:, :3, :3], picks.transforms[:, :3, :3], atol=1e-5)


def test_star_filament_frame_columns_round_trip() -> None:
    from copick.formats import relion, relion_write

    picks = _picks(6, translate=False)
    picks.instance_ids[:] = [1, 1, 1, 2, 2, 3]
    options = relion_write.StarExportOptions(pixel_size=1.0)
    table = relion_write.picks_to_relion_particles(
        picks, "TS_1", options, filament=True, half_sets="filament"
    )
    np.testing.assert_array_equal(table["rlnAngleTilt"], 90.0)
    assert set(table["rlnAnglePsiFlipRatio"]) == {0.5}
    assert table["rlnHelicalTrackLengthAngst"].iloc[0] == 0.0
    assert set(table.groupby("rlnHelicalTubeID")["rlnRandomSubset"].nunique()) == {1}
    positions, _ = relion.relion_coordinates_to_angstrom(table, tilt_series_pixel_size=1.0)
    back = relion.relion_particles_to_picks(table, positions)
    np.testing.assert_allclose(back.transforms[:, :3, :3], picks.transforms[:, :3, :3], atol=1e-9)
    np.testing.assert_array_equal(back.instance_ids, picks.instance_ids)


def test_star_without_particles_or_unreadable(tmp_path: Path) -> None:
    from copick.formats.relion_star import read_star_particles

    bad = tmp_path / "bad.star"
    bad.write_text("hello world\n")
    with pytest.raises(CorruptFileError, match=r"bad\.star"):
        read_star_particles(str(bad))
    only = tmp_path / "optics.star"
    starfile.write({"optics": pd.DataFrame({"rlnOpticsGroup": [1]})}, str(only))
    with pytest.raises(CorruptFileError, match="no particles block"):
        read_star_particles(str(only))


# ------------------------------------------------------------------------------------------------
# index maps and tomolists
# ------------------------------------------------------------------------------------------------


def test_index_maps_and_tomolists(tmp_path: Path) -> None:
    from copick.formats.index_maps import read_dynamo_tomolist, read_index_map, read_index_map_inverse

    comma = tmp_path / "map.csv"
    comma.write_text("1, TS_001\n2,TS_002\n")
    assert read_index_map(str(comma)) == {1: "TS_001", 2: "TS_002"}
    tab = tmp_path / "map.tsv"
    tab.write_text("10\tTS_a\n11\tTS_b\n")
    assert read_index_map_inverse(str(tab)) == {"TS_a": 10, "TS_b": 11}
    dup = tmp_path / "dup.csv"
    dup.write_text("1,a\n1,b\n")
    with pytest.raises(ValueError, match=r"dup\.csv.*index 1 appears twice"):
        read_index_map(str(dup))
    dup_run = tmp_path / "duprun.csv"
    dup_run.write_text("1,a\n2,a\n")
    assert read_index_map(str(dup_run)) == {1: "a", 2: "a"}
    with pytest.raises(ValueError, match="run 'a'"):
        read_index_map_inverse(str(dup_run))
    tomolist = tmp_path / "tomos.doc"
    tomolist.write_text("1 /data/TS_001.mrc\n2   /data/TS_002.rec\n3 /x/y/TS_003.st\n")
    assert read_dynamo_tomolist(str(tomolist)) == {1: "TS_001", 2: "TS_002", 3: "TS_003"}
