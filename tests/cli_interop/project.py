"""The small project and the input files of the CLI interop tests, written as plain files.

The project (config, ``.meta`` files, picks JSON, OME-Zarr tomograms) is written with the plain helpers
of ``bench/workloads.py``, the inputs with mrcfile and starfile; only the filaments, their picks and the
binary/instance segmentations (``write_filaments_and_segmentations``) are written with our copick. Every
copy starts from the same bytes.

Layout of a written folder (the working directory of every command)::

    config.json          overlay_root = <folder>/project
    project/             TS_001, TS_002: VoxelSpacing10.000/wbp.zarr + picks; TS_001: proteasome
                         filaments and their picks; TS_002: membrane (binary) and ribosome (instance)
                         segmentations
    inputs/              tomo.mrc, labels.mrc, mask.mrc, picks.csv, ts.star, centered.star,
                         tomolist.doc, index_map.csv, tomograms.star
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

import workloads as wl  # noqa: E402  (bench/workloads.py: copick's format written without copick)

#: Shape (z, y, x) of every small volume of the project and of the MRC inputs.
SHAPE = (32, 48, 40)
VOXEL_SIZE = 10.0
#: Tilt-series pixel size of the STAR inputs and of the combined STAR export.
TS_PIXEL = 2.5


def _volume(seed: int) -> np.ndarray:
    vol = np.random.default_rng(seed).standard_normal(SHAPE, dtype=np.float32)
    vol += np.float32(5.0)
    return vol


def _picks(n: int, seed: int, extent: tuple[float, float, float]) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    positions = rng.uniform(0.0, 1.0, (n, 3)) * np.array(extent)
    transforms = wl.random_rotations(n, rng)
    ids = rng.integers(1, 50, n)
    scores = rng.uniform(0.0, 1.0, n)
    return positions, transforms, ids, scores


def _euler_deg(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-180.0, 180.0, (n, 3)).round(3)


def write_config(folder: Path) -> Path:
    """(Re)write ``folder/config.json`` with the overlay root at ``folder/project``."""
    return Path(wl.write_config(str(folder / "config.json"), str(folder / "project")))


def write_project(folder: Path) -> None:
    """The base project and the inputs in ``folder`` (see the module docstring)."""
    project = folder / "project"
    extent = tuple(s * VOXEL_SIZE for s in SHAPE[::-1])  # x, y, z in Angstrom
    for i, run in enumerate(("TS_001", "TS_002")):
        rdir = Path(wl.run_dir(str(project), run))
        vdir = rdir / "VoxelSpacing10.000"
        vdir.mkdir(parents=True)
        for d in (rdir, vdir):
            (d / ".meta").write_text("meta")
        wl.write_ome_zarr(str(vdir / "wbp.zarr"), _volume(seed=10 + i), VOXEL_SIZE, levels=3, chunks=SHAPE)
        sets = [("alice", "1", "ribosome", 12 - 5 * i)] + ([("bob", "2", "proteasome", 5)] if i == 0 else [])
        for j, (user, session, obj, n) in enumerate(sets):
            pos, tr, ids, sc = _picks(n, seed=100 * i + j, extent=extent)
            doc = wl.picks_document(obj, user, session, run, pos, tr, ids, sc)
            wl.write_picks_file(str(rdir / "Picks" / f"{user}_{session}_{obj}.json"), doc)
    write_config(folder)
    write_inputs(folder / "inputs")
    write_filaments_and_segmentations(folder)


def _write_mrc(path: Path, data: np.ndarray, voxel_size: float) -> None:
    import mrcfile

    with mrcfile.new(str(path), overwrite=True) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = voxel_size


def write_inputs(inputs: Path) -> None:
    import pandas as pd
    import starfile

    inputs.mkdir(parents=True)
    _write_mrc(inputs / "tomo.mrc", _volume(seed=20), VOXEL_SIZE)

    labels = np.zeros(SHAPE, dtype=np.int8)  # multilabel: the objects' labels 1..3
    labels[2:10, 5:20, 4:30] = 1
    labels[12:20, 25:40, 10:20] = 2
    labels[22:30, :, :] = 3
    _write_mrc(inputs / "labels.mrc", labels, VOXEL_SIZE)
    mask = np.zeros(SHAPE, dtype=np.int8)
    mask[5:25, 10:30, 8:33] = 1
    _write_mrc(inputs / "mask.mrc", mask, VOXEL_SIZE)

    # copick CSV: three runs (TS_003 does not exist yet), rotations plus a translation column.
    rows = []
    extent = tuple(s * VOXEL_SIZE for s in SHAPE[::-1])
    for k, run in enumerate(("TS_001", "TS_002", "TS_003")):
        pos, tr, ids, sc = _picks(4 + k, seed=300 + k, extent=extent)
        for p, t, iid, s in zip(pos, tr, ids, sc):
            row = {"run_name": run, "x": p[0], "y": p[1], "z": p[2]}
            row.update({f"transform_{r}{c}": t[r, c] for r in range(4) for c in range(4)})
            row.update({"score": s, "instance_id": int(iid)})
            rows.append(row)
    pd.DataFrame(rows).to_csv(inputs / "picks.csv", index=False)

    n = 6
    rng = np.random.default_rng(400)
    angles = _euler_deg(n, seed=401)
    angles_df = pd.DataFrame(
        {
            "rlnCoordinateX": rng.uniform(0, SHAPE[2], n).round(2),
            "rlnCoordinateY": rng.uniform(0, SHAPE[1], n).round(2),
            "rlnCoordinateZ": rng.uniform(0, SHAPE[0], n).round(2),
            "rlnAngleRot": angles[:, 0],
            "rlnAngleTilt": angles[:, 1],
            "rlnAnglePsi": angles[:, 2],
        }
    )
    # RELION 4: tilt-series pixel coordinates (optics table), origins in Angstrom.
    ts = angles_df.copy()
    for axis, size in zip("XYZ", SHAPE[::-1]):
        ts[f"rlnCoordinate{axis}"] = (rng.uniform(0, size, n) * VOXEL_SIZE / TS_PIXEL).round(2)
        ts[f"rlnOrigin{axis}Angst"] = rng.uniform(-3.0, 3.0, n).round(3)
    ts["rlnOpticsGroup"] = 1
    optics = pd.DataFrame(
        {
            "rlnOpticsGroup": [1],
            "rlnOpticsGroupName": ["opticsGroup1"],
            "rlnTomoTiltSeriesPixelSize": [TS_PIXEL],
        }
    )
    starfile.write({"optics": optics, "particles": ts}, inputs / "ts.star", overwrite=True)
    # RELION 5: centred Angstrom coordinates, subtomogram orientations (centre from the copick tomogram).
    sub = _euler_deg(n, seed=402)
    centered = pd.DataFrame(
        {
            "rlnTomoName": ["TS_001"] * n,
            **{
                f"rlnCenteredCoordinate{axis}Angst": (rng.uniform(-0.4, 0.4, n) * size * VOXEL_SIZE).round(2)
                for axis, size in zip("XYZ", SHAPE[::-1])
            },
            "rlnAngleRot": angles[:, 0],
            "rlnAngleTilt": angles[:, 1],
            "rlnAnglePsi": angles[:, 2],
            "rlnTomoSubtomogramRot": sub[:, 0],
            "rlnTomoSubtomogramTilt": sub[:, 1],
            "rlnTomoSubtomogramPsi": sub[:, 2],
        }
    )
    starfile.write({"particles": centered}, inputs / "centered.star", overwrite=True)
    write_tomogram_lists(inputs)


def write_tomogram_lists(inputs: Path) -> None:
    """A Dynamo tomolist with an index map and a RELION 5 tomograms.star, both naming ``tomo.mrc`` (paths
    relative to the folder, the commands' working directory; 1.31 reads tab-separated tomolists only)."""
    import pandas as pd
    import starfile

    (inputs / "tomolist.doc").write_text("1\tinputs/tomo.mrc\n2\tinputs/absent.mrc\n")
    (inputs / "index_map.csv").write_text("1,TS_200\n2,TS_201\n")
    table = pd.DataFrame(
        {
            "rlnTomoName": ["TS_300", "TS_301"],
            "rlnTomoTiltSeriesPixelSize": [TS_PIXEL, TS_PIXEL],
            "rlnTomoTomogramBinning": [2.0, 2.0],
            "rlnTomoReconstructedTomogramHalf1": ["inputs/absent.mrc", "inputs/tomo.mrc"],
            "rlnTomoReconstructedTomogramHalf2": ["inputs/tomo.mrc", "inputs/absent.mrc"],
        }
    )
    starfile.write({"global": table}, inputs / "tomograms.star", overwrite=True)


def copy_folder(src: Path, dst: Path) -> None:
    """A copy of a written folder whose config points at the copy's project."""
    shutil.copytree(src, dst)
    write_config(dst)


def read_config(folder: Path) -> dict:
    with open(os.path.join(folder, "config.json")) as fh:
        return json.load(fh)


def write_filaments_and_segmentations(folder: Path) -> None:
    """With our copick: in TS_001, proteasome filaments (``tracer/fil`` with three polarities known,
    ``other/x`` with none) and picks sampled along them (filament id = instance id); in TS_002 at 10 A,
    a binary ``membrane:seg/1`` and an instance ``ribosome:inst/1`` segmentation that overlap."""
    import copick

    root = copick.from_file(str(folder / "config.json"))
    run = root.get_run("TS_001")
    rng = np.random.default_rng(500)
    lines = [np.cumsum(rng.uniform(5.0, 25.0, (5, 3)), axis=0) + 20.0 * k for k in range(4)]
    ids = [3, 1, 7, 9]
    run.new_filaments("proteasome", "fil", "tracer").from_numpy(
        lines, instance_ids=ids, polarity_known=[True, False, True, True]
    )
    run.new_filaments("proteasome", "x", "other").from_numpy(lines, instance_ids=ids)
    points = np.concatenate([line[:-1] + 0.5 * np.diff(line, axis=0) for line in lines])
    pick_ids = np.repeat(ids, 4)
    order = rng.permutation(len(points))
    run.new_picks("proteasome", "fil", "tracer").from_numpy(
        points[order], wl.random_rotations(len(points), rng), instance_ids=pick_ids[order]
    )
    run = root.get_run("TS_002")
    membrane = np.zeros(SHAPE, dtype=np.uint8)
    membrane[4:20, 10:40, 5:35] = 1
    run.new_segmentation(VOXEL_SIZE, "membrane", "1", user_id="seg").from_numpy(membrane)
    instances = np.zeros(SHAPE, dtype=np.uint16)
    for k, (z, y, x) in enumerate(((8, 12, 10), (20, 30, 25), (26, 40, 8)), start=1):
        instances[z - 3 : z + 3, y - 4 : y + 4, x - 4 : x + 4] = 10 * k
    run.new_segmentation(VOXEL_SIZE, "ribosome", "1", user_id="inst", is_instance=True).from_numpy(instances)
