"""The benchmark's inputs: generated deterministically (fixed seeds) as plain files in copick 1.31's
format, without either implementation, and cached in ``.cache/bench/inputs`` by their description.

``prepare`` builds what one workload needs and returns the params its subprocesses get; the S3
workload's tree is uploaded to the test suite's loopback moto server (``tests/s3server.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_files import (
    ENUM_PICKS,
    ENUM_TOMO_TYPES,
    ENUM_VOXEL_SIZES,
    OBJECTS,
    picks_document,
    random_rotations,
    run_dir,
    write_config,
    write_ome_zarr,
    write_ome_zarr_stub,
    write_picks_file,
)
from specs import Spec

if TYPE_CHECKING:
    from s3server import ServerProcess

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench"
S3_BUCKET = "copick-bench"


def _cached(kind: str, desc: dict, build: Callable[[Path], None]) -> Path:
    """A directory holding the inputs described by ``desc``, built once by ``build(dir)``.

    Built in a private folder and renamed into place, so concurrent runners (parallel test
    workers) never see a half-built input. Holds data only, no absolute paths: it may be
    built under another name than the one it is used under.
    """
    key = hashlib.sha256(json.dumps([kind, desc, OBJECTS], sort_keys=True).encode()).hexdigest()[:12]
    path = CACHE / "inputs" / f"{kind}-{key}"
    if path.exists():
        return path
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    build(tmp)
    (tmp / "inputs.json").write_text(json.dumps({"kind": kind, **desc}))
    try:
        tmp.rename(path)
    except OSError:  # another runner won the race: use its copy
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _config_for(work: Path, tag: str, project: Path | str, fs_args: dict | None = None) -> str:
    """Write a config for ``project`` into this runner's work folder; return its path."""
    work.mkdir(parents=True, exist_ok=True)
    return write_config(str(work / f"{tag}.json"), str(project), fs_args)


def _rng(seed: int) -> Any:
    """numpy's default generator with a fixed seed (numpy imported here, not at module level)."""
    import numpy as np

    return np.random.default_rng(seed)


def _picks_arrays(n: int, seed: int) -> tuple[Any, Any, Any, Any]:
    """``n`` random picks: positions, 4x4 transforms, instance ids and scores."""
    rng = _rng(seed)
    positions = rng.uniform(0.0, 5000.0, (n, 3))
    transforms = random_rotations(n, rng)
    ids = rng.integers(0, 1000, n)
    scores = rng.uniform(0.0, 1.0, n)
    return positions, transforms, ids, scores


def _mesh_glb() -> bytes:
    """A small icosphere as a GLB file's bytes (the enumeration tree's mesh)."""
    import trimesh

    return trimesh.Scene(trimesh.creation.icosphere(subdivisions=1, radius=50.0)).export(file_type="glb")


def _volume(shape: Sequence[int], seed: int = 11) -> Any:
    """A float32 noise volume + 10 (sums well away from zero, so relative checksums mean something)."""
    import numpy as np

    vol = _rng(seed).standard_normal(tuple(shape), dtype=np.float32)
    vol += np.float32(10.0)
    return vol


def _tomogram_run(project: Path, run: str, volume: Any) -> None:
    """Run ``run`` of ``project`` with one 3-level ``wbp`` tomogram of ``volume`` at voxel size 10."""
    vdir = Path(run_dir(str(project), run)) / "VoxelSpacing10.000"
    vdir.mkdir(parents=True)
    for folder in (vdir.parent, vdir):
        (folder / ".meta").write_text("meta")
    write_ome_zarr(str(vdir / "wbp.zarr"), volume, 10.0, levels=3)


def build_enum_tree(project: Path, n_runs: int, n_points: int) -> None:
    """The enumeration project, written as plain files (no copick involved)."""
    glb = _mesh_glb()
    for i in range(n_runs):
        run = f"TS_{i:03d}"
        rdir = Path(run_dir(str(project), run))
        rdir.mkdir(parents=True)
        (rdir / ".meta").write_text("meta")
        for vs in ENUM_VOXEL_SIZES:
            vdir = rdir / f"VoxelSpacing{vs:.3f}"
            vdir.mkdir()
            (vdir / ".meta").write_text("meta")
            for tomo in ENUM_TOMO_TYPES:
                write_ome_zarr_stub(str(vdir / f"{tomo}.zarr"), (64, 64, 64), "<f4", vs, levels=3)
        for j, (user, session, obj) in enumerate(ENUM_PICKS):
            pos, tr, ids, sc = _picks_arrays(n_points, seed=1000 * i + j)
            doc = picks_document(obj, user, session, run, pos, tr, ids, sc)
            write_picks_file(str(rdir / "Picks" / f"{user}_{session}_{obj}.json"), doc)
        (rdir / "Meshes").mkdir()
        (rdir / "Meshes" / "alice_1_membrane.glb").write_bytes(glb)
        write_ome_zarr_stub(
            str(rdir / "Segmentations" / "10.000_bench_0_ribosome.zarr"), (64, 64, 64), "|u1", 10.0
        )


def _enum_project(n_runs: int, n_points: int) -> Path:
    """The cached enumeration tree (``build_enum_tree``) in ``<dir>/project``."""

    def build(d: Path) -> None:
        build_enum_tree(d / "project", n_runs, n_points)

    return _cached("enum", {"n_runs": n_runs, "n_points": n_points}, build)


def _picks_project(n_points: int) -> Path:
    """One run with one picks file of ``n_points`` points, and its arrays as ``.npy`` files."""
    import numpy as np

    def build(d: Path) -> None:
        pos, tr, ids, sc = _picks_arrays(n_points, seed=7)
        np.save(d / "positions.npy", pos)
        np.save(d / "transforms.npy", tr)
        rdir = Path(run_dir(str(d / "project"), "TS_001"))
        rdir.mkdir(parents=True)
        (rdir / ".meta").write_text("meta")
        doc = picks_document("ribosome", "bench", "1", "TS_001", pos, tr, ids, sc)
        write_picks_file(str(rdir / "Picks" / "bench_1_ribosome.json"), doc)

    return _cached("picks", {"n_points": n_points}, build)


def _tomogram_project(shape: Sequence[int]) -> Path:
    """One run with one tomogram of ``shape`` (written by the limit's writer), and its volume as ``.npy``."""
    import numpy as np

    def build(d: Path) -> None:
        vol = _volume(shape)
        np.save(d / "volume.npy", vol)
        _tomogram_run(d / "project", "TS_001", vol)

    return _cached("tomogram", {"shape": list(shape)}, build)


def _many_tomograms_project(n_runs: int, shape: Sequence[int]) -> Path:
    """``n_runs`` runs with one 3-level tomogram each (different data per run), copick 1.31's format."""

    def build(d: Path) -> None:
        for i in range(n_runs):
            _tomogram_run(d / "project", f"TS_{i:03d}", _volume(shape, seed=100 + i))

    return _cached("many-tomograms", {"n_runs": n_runs, "shape": list(shape)}, build)


def _labels(shape: Sequence[int]) -> Path:
    """A uint8 label volume of random boxes, as ``labels.npy``."""
    import numpy as np

    def build(d: Path) -> None:
        rng = _rng(5)
        labels = np.zeros(tuple(shape), dtype=np.uint8)
        for _ in range(40):  # blobs: boxes of random size and place
            size = rng.integers(2, max(3, min(shape) // 3), 3)
            corner = [rng.integers(0, s - k) for s, k in zip(shape, size)]
            labels[tuple(slice(c, c + k) for c, k in zip(corner, size))] = 1
        np.save(d / "labels.npy", labels)

    return _cached("labels", {"shape": list(shape)}, build)


def _small_inputs(tomo_shape: Sequence[int], n_points: int) -> Path:
    """The arrays ``create_project`` writes into every run: a tomogram and pick positions."""
    import numpy as np

    def build(d: Path) -> None:
        np.save(d / "tomogram.npy", _volume(tomo_shape, seed=3))
        np.save(d / "positions.npy", _rng(4).uniform(0.0, 1000.0, (n_points, 3)))

    return _cached("create", {"tomo_shape": list(tomo_shape), "n_points": n_points}, build)


def _mrc_tomogram(shape: Sequence[int]) -> Path:
    """A float32 MRC of ``_volume(shape)`` with voxel size 10 (written with mrcfile)."""

    def build(d: Path) -> None:
        import mrcfile

        with mrcfile.new(str(d / "tomogram.mrc"), overwrite=True) as mrc:
            mrc.set_data(_volume(shape))
            mrc.voxel_size = 10.0

    return _cached("mrc", {"shape": list(shape)}, build)


def start_s3_server(log_path: Path) -> ServerProcess:
    """Start the test suite's moto S3 server (a process of its own, requests logged to ``log_path``)
    with the bucket ``S3_BUCKET``; the caller stops it."""
    tests = str(REPO / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import s3server

    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = s3server.ServerProcess(str(log_path), bucket=S3_BUCKET)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def _s3_project(server: ServerProcess, work: Path, n_runs: int, n_points: int) -> str:
    """Upload the enumeration tree to the server; return the path of its config."""
    import s3fs

    fs_args = {"endpoint_url": server.s3.endpoint_url, "key": server.s3.key, "secret": server.s3.secret}
    local = _enum_project(n_runs, n_points) / "project"
    prefix = f"{S3_BUCKET}/enum-{n_runs}-{n_points}"
    files = [p for p in local.rglob("*") if p.is_file()]
    s3fs.S3FileSystem(**fs_args).put(
        [str(p) for p in files], [f"{prefix}/{p.relative_to(local).as_posix()}" for p in files]
    )
    return _config_for(work, "enum-s3", f"s3://{prefix}", fs_args)


def prepare(spec: Spec, sizes: dict, work: Path, server: ServerProcess | None) -> dict:
    """Build the inputs of one workload; return the params handed to its subprocesses."""
    name = spec.name
    if name == "import":
        return {}
    if name == "create_project":
        d = _small_inputs(sizes["tomo_shape"], sizes["n_points"])
        return {
            "n_runs": sizes["n_runs"],
            "tomogram": str(d / "tomogram.npy"),
            "positions": str(d / "positions.npy"),
        }
    if name in ("enumerate_local", "picks_read_many"):
        d = _enum_project(sizes["n_runs"], sizes["n_points"])
        return {
            "config": _config_for(work, "enum", d / "project"),
            "project": str(d / "project"),
            "n_files": sizes["n_runs"] * len(ENUM_PICKS),
        }
    if name == "enumerate_s3":
        assert server is not None
        return {"config": _s3_project(server, work, sizes["n_runs"], sizes["n_points"])}
    if name.startswith("picks_"):
        d = _picks_project(sizes["n_points"])
        return {
            "config": _config_for(work, f"picks-{sizes['n_points']}", d / "project"),  # one config per size
            "positions": str(d / "positions.npy"),
            "transforms": str(d / "transforms.npy"),
            "picks_file": run_dir(str(d / "project"), "TS_001") + "/Picks/bench_1_ribosome.json",
        }
    if name.startswith("tomogram_"):
        d = _tomogram_project(sizes["shape"])
        params = {
            "config": _config_for(work, "tomogram", d / "project"),
            "volume": str(d / "volume.npy"),
            "tomogram_store": run_dir(str(d / "project"), "TS_001") + "/VoxelSpacing10.000/wbp.zarr",
        }
        if name == "tomogram_regions":
            s = sizes["region_size"]
            rng = _rng(13)
            params["region_size"] = s
            params["regions"] = [
                [int(rng.integers(0, dim - s + 1)) for dim in sizes["shape"]]
                for _ in range(sizes["n_regions"])
            ]
        return params
    if name == "volumes_open_many":
        d = _many_tomograms_project(sizes["n_runs"], sizes["shape"])
        return {
            "config": _config_for(work, "many-tomograms", d / "project"),
            "project": str(d / "project"),
            "n_runs": sizes["n_runs"],
        }
    if name == "segmentation_io":
        return {"labels": str(_labels(sizes["shape"]) / "labels.npy")}
    if name in ("cli_version", "cli_help"):
        return {"n": sizes["n"]}
    if name == "add_tomogram_mrc":
        return {"mrc": str(_mrc_tomogram(sizes["shape"]) / "tomogram.mrc")}
    raise KeyError(name)
