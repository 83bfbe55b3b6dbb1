"""``copick add picks | picks-em | picks-dynamo | picks-relion`` through click's test runner on real CSV,
STAR, EM and Dynamo files, each exported back with ``copick export picks``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_helpers import assert_one_error, fresh, invoke, new_local_project, ok, run_names
from pick_tables import write_dynamo_tomolist_table

pytestmark = pytest.mark.usefixtures("restore_logging")

emfile = pytest.importorskip("emfile")
starfile = pytest.importorskip("starfile")
pd = pytest.importorskip("pandas")
dynamotable = pytest.importorskip("dynamotable")
Rotation = pytest.importorskip("scipy.spatial.transform").Rotation

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 120.0},
    {"name": "proteasome", "is_particle": True, "label": 3},
]
RNG = np.random.default_rng(11)


@pytest.fixture
def config(tmp_path: Path) -> str:
    return new_local_project(tmp_path, OBJECTS)[0]


def random_transforms(n: int) -> np.ndarray:
    """``n`` random rigid rotations as 4x4 matrices."""
    transforms = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    transforms[:, :3, :3] = Rotation.random(n, random_state=3).as_matrix()
    return transforms


# --------------------------------------------------------------------------------------------------------
# add picks (single-run files)
# --------------------------------------------------------------------------------------------------------


def _csv_frame(runs: dict[str, int]) -> Any:
    rows = []
    for run, n in runs.items():
        transforms = random_transforms(n)
        positions = RNG.uniform(0, 400, (n, 3))
        for i in range(n):
            row = {"run_name": run, **dict(zip("xyz", positions[i]))}
            row.update({f"transform_{a}{b}": transforms[i, a, b] for a in range(4) for b in range(4)})
            row.update(score=0.5, instance_id=i + 1)
            rows.append(row)
    return pd.DataFrame(rows)


def test_add_picks_csv_splits_runs_and_exports_back(tmp_path: Path, config: str) -> None:
    frame = _csv_frame({"TS_1": 4, "TS_2": 3})
    frame.to_csv(tmp_path / "picks.csv", index=False)
    words = "add picks --object-name ribosome --user-id alice --session-id 7"
    result = ok(invoke(words, tmp_path / "picks.csv", config=config))
    assert "Successfully imported picks from" in result.stderr and "to 2 runs" in result.stderr
    assert run_names(config) == ["TS_1", "TS_2"]
    picks = fresh(config).get_run("TS_2").get_picks("ribosome", "alice", "7")[0]
    expected = frame[frame.run_name == "TS_2"]
    np.testing.assert_allclose(picks.numpy()[0], expected[["x", "y", "z"]].to_numpy(), rtol=1e-6)

    out = tmp_path / "out"
    words = "export picks --picks-uri ribosome:alice/7 --output-format csv --output-dir"
    ok(invoke(words, out, config=config))
    back = pd.read_csv(out / "TS_1_ribosome_alice_7.csv")
    want = frame[frame.run_name == "TS_1"].reset_index(drop=True)
    columns = list(want.columns[1:])
    np.testing.assert_allclose(back[columns].to_numpy(), want[columns].to_numpy(), atol=1e-5)


def test_add_picks_bad_files_create_nothing(tmp_path: Path, config: str) -> None:
    (tmp_path / "bad.csv").write_text("name,X,Y,Z\nTS_1,1,2,3\n")
    result = invoke("add picks --object-name ribosome", tmp_path / "bad.csv", config=config)
    assert_one_error(result, "bad.csv", "run_name")
    star = tmp_path / "TS_2.star"
    starfile.write({"particles": pd.DataFrame({"rlnTomoName": ["TS_2"], "rlnAngleRot": [1.0]})}, str(star))
    result = invoke("add picks --object-name ribosome --voxel-size 10", star, config=config)
    assert_one_error(result, "TS_2.star", "coordinate")
    emfile.write(str(tmp_path / "TS_3.em"), np.zeros((1, 2, 20), np.float32))
    result = invoke("add picks --object-name ribosome", tmp_path / "TS_3.em", config=config)
    assert_one_error(result, "TS_3.em", "--voxel-size")
    result = invoke("add picks --object-name nothing --voxel-size 10", tmp_path / "TS_3.em", config=config)
    assert_one_error(result, "Object name nothing not found")
    assert run_names(config) == []
    assert invoke("add picks", star, config=config).exit_code == 2  # --object-name is required


def test_add_picks_star_with_tilt_series_pixel_size(tmp_path: Path, config: str) -> None:
    n, pixel = 5, 1.35
    angles = RNG.uniform(-170, 170, (n, 3))
    coords = RNG.uniform(10, 900, (n, 3))
    particles = pd.DataFrame({"rlnTomoName": ["TS_4"] * n})
    for i, axis in enumerate("XYZ"):
        particles[f"rlnCoordinate{axis}"] = coords[:, i]
    for i, name in enumerate(("Rot", "Tilt", "Psi")):
        particles[f"rlnAngle{name}"] = angles[:, i]
    starfile.write({"particles": particles}, str(tmp_path / "TS_4.star"))
    words = f"add picks --object-name ribosome --tilt-series-pixel-size {pixel}"
    result = ok(invoke(words, tmp_path / "TS_4.star", config=config))
    assert "rule" in result.stderr  # the coordinate rule used is logged
    positions, transforms = fresh(config).get_run("TS_4").get_picks("ribosome")[0].numpy()
    np.testing.assert_allclose(positions, coords * pixel, rtol=1e-5)
    expected = Rotation.from_euler("ZYZ", angles, degrees=True).inv().as_matrix()
    np.testing.assert_allclose(transforms[:, :3, :3], expected, atol=1e-5)


# --------------------------------------------------------------------------------------------------------
# add picks-em / picks-dynamo / picks-relion
# --------------------------------------------------------------------------------------------------------


def test_add_picks_em_splits_by_index_and_exports_back(tmp_path: Path, config: str) -> None:
    rows = np.zeros((20, 5))
    rows[4] = [1, 2, 1, 9, 2]
    rows[7:10] = RNG.uniform(1, 40, (3, 5))
    rows[16:19] = RNG.uniform(0, 90, (3, 5))
    motl, index_map = tmp_path / "all.em", tmp_path / "map.csv"
    emfile.write(str(motl), rows.T[np.newaxis].astype(np.float32))
    index_map.write_text("1,TS_1\n2,TS_2\n")
    words = "add picks-em --object-name ribosome --voxel-size 10"
    assert invoke(words, motl, config=config).exit_code == 2  # --index-map is required
    result = ok(invoke(f"{words} --index-map", index_map, motl, config=config))
    assert "1 particle(s)" in result.stderr and "9" in result.stderr  # the unmapped particle is reported
    assert run_names(config) == ["TS_1", "TS_2"]
    rows32 = rows.astype(np.float32)
    got = fresh(config).get_run("TS_1").get_picks("ribosome")[0].numpy()
    np.testing.assert_allclose(got[0], (rows32[7:10, [0, 2]].T - 1) * 10.0, rtol=1e-6)
    phi, psi, theta = rows32[16:19, [0, 2]]
    expected = Rotation.from_euler("zxz", np.stack([phi, theta, psi], 1), degrees=True).as_matrix()
    np.testing.assert_allclose(got[1][:, :3, :3], expected, atol=1e-5)

    out = tmp_path / "back.em"
    words = "export picks --picks-uri ribosome --output-format em --voxel-size 10 --index-map"
    ok(invoke(words, index_map, "--output-file", out, config=config))
    back = emfile.read(str(out))[1][0].T
    np.testing.assert_allclose(back[7:10], rows32[7:10][:, [0, 2, 1, 4]], atol=1e-3)
    np.testing.assert_array_equal(back[4], [1, 1, 2, 2])


def test_add_picks_dynamo_tomolist(tmp_path: Path, config: str) -> None:
    df, table, tomolist = write_dynamo_tomolist_table(tmp_path)
    index_map = tmp_path / "map.csv"
    index_map.write_text("4,TS_4\n")
    words = "add picks-dynamo --object-name ribosome --voxel-size 5"
    for extra in ([], ["--tomolist", tomolist, "--index-map", index_map]):
        result = invoke(words, *extra, table, config=config)
        assert result.exit_code == 2 and "exactly one" in result.stderr
    ok(invoke(f"{words} --tomolist", tomolist, table, config=config))
    assert run_names(config) == ["TS_4", "TS_5"]
    positions, transforms = fresh(config).get_run("TS_4").get_picks("ribosome")[0].numpy()
    np.testing.assert_allclose(positions, [[5.0, 20.0, 35.0], [10.0, 25.0, 40.0]])
    angles = df[["tdrot", "tilt", "narot"]][:2]
    expected = Rotation.from_euler("zxz", angles, degrees=True).inv().as_matrix()
    np.testing.assert_allclose(transforms[:, :3, :3], expected, atol=1e-6)

    out = tmp_path / "out"
    words = "export picks --picks-uri ribosome --output-format dynamo --voxel-size 5 -r TS_4 --output-dir"
    ok(invoke(words, out, config=config))
    raw = dynamotable.read(str(out / "TS_4_ribosome_copick_1.tbl"))
    np.testing.assert_allclose(raw[["x", "y", "z"]], df[["x", "y", "z"]][:2], atol=1e-5)
    np.testing.assert_allclose(raw[["tdrot", "tilt", "narot"]], angles, atol=1e-5)


def test_add_picks_relion_groups_by_tomo_name(tmp_path: Path, config: str) -> None:
    n = 6
    coords = RNG.uniform(10, 500, (n, 3))
    particles = pd.DataFrame({"rlnTomoName": ["TS_A"] * 4 + ["TS_B"] * 2, "rlnOpticsGroup": [1] * n})
    for i, axis in enumerate("XYZ"):
        particles[f"rlnCoordinate{axis}"] = coords[:, i]
    optics = pd.DataFrame(
        {"rlnOpticsGroup": [1], "rlnOpticsGroupName": ["opticsGroup1"], "rlnTomoTiltSeriesPixelSize": [2.0]}
    )
    star = tmp_path / "all.star"
    starfile.write({"optics": optics, "particles": particles}, str(star))
    words = "add picks-relion --object-name proteasome --user-id relion"
    ok(invoke(words, star, config=config))
    assert run_names(config) == ["TS_A", "TS_B"]
    got = fresh(config).get_run("TS_B").get_picks("proteasome", "relion")[0].numpy()[0]
    np.testing.assert_allclose(got, coords[4:] * 2.0, rtol=1e-6)
    assert_one_error(invoke(words, star, config=config), "already exist")
