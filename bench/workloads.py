"""Benchmark workloads: one timed task per function, run in a fresh interpreter.

    python bench/workloads.py WORKLOAD KIND PARAMS_JSON

KIND is ``copick`` (the workload through copick's public API: the very same text runs
under our implementation and under copick 1.31.0) or ``limit`` (the same work done
directly with the underlying libraries: zarr + numpy, orjson + numpy, os.scandir or one
recursive fsspec listing, ``import numpy``).

Each function times only its own timed section (``time.perf_counter``) and returns a
checksum computed afterwards, untimed, from what it read or from the files it wrote,
with plain json/zarr/numpy, so the runner can check that every implementation did the
same work. The process prints one line ``BENCH_RESULT {json}`` with the seconds, the
peak RSS (``ru_maxrss``), the checksum and the versions of the libraries involved.

Only the standard library is imported at module level, so ``import copick`` is measured
from a clean interpreter. The module is also imported by ``bench/run.py`` for the plain
on-disk helpers (config, picks JSON, OME-Zarr writer) that generate the inputs.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "

#: Pickable objects of every benchmark project (config entries as copick writes them).
OBJECTS: list[dict[str, Any]] = [
    {
        "name": name,
        "is_particle": particle,
        "label": label,
        "color": color,
        "emdb_id": None,
        "pdb_id": None,
        "identifier": None,
        "map_threshold": None,
        "radius": radius,
        "metadata": {},
    }
    for name, particle, label, color, radius in (
        ("ribosome", True, 1, [0, 255, 0, 255], 150.0),
        ("proteasome", True, 2, [255, 0, 0, 255], 60.0),
        ("membrane", False, 3, [100, 100, 255, 255], None),
    )
]

#: Picks files of every run of the enumeration tree: (user, session, object).
ENUM_PICKS = (
    ("alice", "1", "ribosome"),
    ("alice", "1", "proteasome"),
    ("bob", "2", "ribosome"),
    ("bob", "2", "proteasome"),
    ("pytom", "0", "ribosome"),
)
ENUM_VOXEL_SIZES = (10.0, 20.0)
ENUM_TOMO_TYPES = ("wbp", "denoised")


# ---------------------------------------------------------------------------
# Plain on-disk helpers (copick's format without copick), shared with run.py
# ---------------------------------------------------------------------------


def config_dict(overlay_root: str, fs_args: dict | None = None, name: str = "bench") -> dict:
    """A filesystem-config dict as ``copick.new_config`` writes it."""
    return {
        "config_type": "filesystem",
        "name": name,
        "description": "copick benchmark project",
        "version": "1.31.0",
        "pickable_objects": OBJECTS,
        "overlay_root": overlay_root,
        "overlay_fs_args": {"auto_mkdir": True} if fs_args is None else fs_args,
    }


def write_config(path: str, overlay_root: str, fs_args: dict | None = None) -> str:
    """Write a project config to ``path``; a bare local path becomes a ``local://`` URL."""
    if "://" not in overlay_root:
        overlay_root = "local://" + os.path.abspath(overlay_root)
    with open(path, "w") as fh:
        json.dump(config_dict(overlay_root, fs_args), fh, indent=4)
    return path


def picks_document(obj, user, session, run_name, positions, transforms=None, ids=None, scores=None) -> dict:
    """The JSON document of a picks file (keys in copick's order) from numpy arrays.

    Matrices stay numpy views (serialise with ``orjson.OPT_SERIALIZE_NUMPY``): 3x faster
    than ``tolist()`` of the whole (N, 4, 4) array.
    """
    import numpy as np

    n = len(positions)
    locs = np.asarray(positions, dtype=np.float64).tolist()
    if transforms is None:
        eye = np.eye(4).tolist()
        mats = [eye] * n
    else:
        mats = list(np.asarray(transforms, dtype=np.float64))
    ids = [0] * n if ids is None else np.asarray(ids).astype(int).tolist()
    scores = [1.0] * n if scores is None else np.asarray(scores, dtype=np.float64).tolist()
    points = [
        {
            "location": {"x": loc[0], "y": loc[1], "z": loc[2]},
            "transformation_": mat,
            "instance_id": iid,
            "score": sc,
        }
        for loc, mat, iid, sc in zip(locs, mats, ids, scores)
    ]
    return {
        "pickable_object_name": obj,
        "user_id": user,
        "session_id": session,
        "run_name": run_name,
        "voxel_spacing": None,
        "unit": "angstrom",
        "points": points,
        "trust_orientation": True,
    }


PICKS_JSON_OPTIONS = 1 | 16  # orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY (no import here)


def write_picks_file(path: str, document: dict) -> None:
    import orjson

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(orjson.dumps(document, option=PICKS_JSON_OPTIONS))


def random_rotations(n: int, rng) -> Any:
    """``n`` 4x4 rigid transforms: uniform random rotations plus a small translation."""
    import numpy as np

    q = rng.standard_normal((n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    m = np.zeros((n, 4, 4))
    m[:, 0, 0] = 1 - 2 * (y * y + z * z)
    m[:, 0, 1] = 2 * (x * y - z * w)
    m[:, 0, 2] = 2 * (x * z + y * w)
    m[:, 1, 0] = 2 * (x * y + z * w)
    m[:, 1, 1] = 1 - 2 * (x * x + z * z)
    m[:, 1, 2] = 2 * (y * z - x * w)
    m[:, 2, 0] = 2 * (x * z - y * w)
    m[:, 2, 1] = 2 * (y * z + x * w)
    m[:, 2, 2] = 1 - 2 * (x * x + y * y)
    m[:, :3, 3] = rng.uniform(-5.0, 5.0, (n, 3))
    m[:, 3, 3] = 1.0
    return m


def block_mean_2x(a):
    """2x2x2 block mean with zero padding for odd sizes (copick's tomogram pyramid rule)."""
    import numpy as np

    if any(s % 2 for s in a.shape):
        a = np.pad(a, [(0, s % 2) for s in a.shape])
    out = a[0::2, 0::2, 0::2].astype(np.float32, copy=True)
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                if dz or dy or dx:
                    out += a[dz::2, dy::2, dx::2]
    out *= np.float32(0.125)
    return out


def multiscales_attrs(voxel_size: float, n_levels: int) -> list[dict]:
    """OME-NGFF 0.4 ``multiscales`` attribute value as copick writes it."""
    datasets, scale = [], float(voxel_size)
    for i in range(n_levels):
        datasets.append(
            {"coordinateTransformations": [{"scale": [scale] * 3, "type": "scale"}], "path": str(i)}
        )
        scale *= 2
    axes = [{"name": n, "type": "space", "unit": "angstrom"} for n in "zyx"]
    return [{"axes": axes, "datasets": datasets, "metadata": {}, "name": "/", "version": "0.4"}]


def write_ome_zarr(path: str, data, voxel_size: float, levels: int = 3, chunks=(256, 256, 256)) -> None:
    """Write an OME-Zarr image in copick's format (zarr v2, nested keys, Blosc lz4) with zarr 3 or 2."""
    import numcodecs
    import zarr

    compressor = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
    v2 = {} if zarr.__version__.startswith("2.") else {"zarr_format": 2}  # tests run it under both
    group = zarr.open_group(store=path, mode="w", **v2)
    level = data
    for i in range(levels):
        if i:
            level = block_mean_2x(level)
        common = {"shape": level.shape, "dtype": level.dtype, "chunks": chunks, "fill_value": 0, "order": "C"}
        if v2:  # zarr 3
            arr = group.create_array(
                str(i),
                compressors=compressor,
                filters=None,
                chunk_key_encoding={"name": "v2", "separator": "/"},
                config={"write_empty_chunks": True},
                **common,
            )
        else:  # zarr 2
            arr = group.create_dataset(
                str(i), compressor=compressor, dimension_separator="/", write_empty_chunks=True, **common
            )
        arr[...] = level
    group.attrs["multiscales"] = multiscales_attrs(voxel_size, levels)


def write_ome_zarr_stub(path: str, shape, dtype: str, voxel_size: float, levels: int = 1) -> None:
    """A metadata-only OME-Zarr group (chunks absent = fill value): fast tree generation."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, ".zgroup"), "w") as fh:
        json.dump({"zarr_format": 2}, fh)
    with open(os.path.join(path, ".zattrs"), "w") as fh:
        json.dump({"multiscales": multiscales_attrs(voxel_size, levels)}, fh)
    for i in range(levels):
        os.makedirs(os.path.join(path, str(i)), exist_ok=True)
        zarray = {
            "chunks": [256, 256, 256],
            "compressor": {"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1},
            "dimension_separator": "/",
            "dtype": dtype,
            "fill_value": 0,
            "filters": None,
            "order": "C",
            "shape": [max(1, s >> i) for s in shape],
            "zarr_format": 2,
        }
        with open(os.path.join(path, str(i), ".zarray"), "w") as fh:
            json.dump(zarray, fh)


def run_dir(project: str, run: str) -> str:
    return os.path.join(project, "ExperimentRuns", run)


# ---------------------------------------------------------------------------
# Checksums (untimed, plain libraries; work with zarr 2 and zarr 3 alike)
# ---------------------------------------------------------------------------


def zarr_levels_checksum(path: str) -> dict:
    import numpy as np
    import zarr

    group = zarr.open_group(store=path, mode="r")
    out = {}
    for key in sorted(group.array_keys(), key=int):
        arr = np.asarray(group[key][...])
        out[key] = {"shape": list(arr.shape), "sum": float(arr.sum(dtype=np.float64))}
    return out


def picks_file_checksum(path: str) -> dict:
    import numpy as np

    with open(path, "rb") as fh:
        doc = json.loads(fh.read())
    pts = doc["points"]
    locs = np.array([[p["location"]["x"], p["location"]["y"], p["location"]["z"]] for p in pts]).reshape(
        -1, 3
    )
    mats = np.array([p.get("transformation_", np.eye(4).tolist()) for p in pts]).reshape(-1, 4, 4)
    return {
        "n": len(pts),
        "locations": float(locs.sum()),
        "transforms": float(mats.sum()),
        "instance_ids": int(sum(p.get("instance_id", 0) for p in pts)),
        "scores": float(sum(p.get("score", 1.0) for p in pts)),
    }


def arrays_checksum(positions, transforms) -> dict:
    import numpy as np

    return {
        "n": len(positions),
        "locations": float(np.asarray(positions, dtype=np.float64).sum()),
        "transforms": float(np.asarray(transforms, dtype=np.float64).sum()),
    }


def keys_checksum(keys: list[str]) -> dict:
    """Counts per entity kind and a CRC of the sorted identity keys of an enumeration."""
    counts: dict[str, int] = {}
    for k in keys:
        kind = k.split(" ", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    return {"counts": counts, "crc32": zlib.crc32("\n".join(sorted(keys)).encode())}


def seg_key(run: str, voxel_size: float, user: str, session: str, name: str, multilabel: bool) -> str:
    return f"seg {run} {voxel_size:.3f} {user} {session} {name} {int(bool(multilabel))}"


# ---------------------------------------------------------------------------
# Harness
# ---------------------------------------------------------------------------


class Timer:
    """Accumulates the wall time of the ``with timer():`` sections of one workload."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.peak_mb = 0.0  # peak RSS when the last timed section ended (the checksum comes after)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - t0
            self.peak_mb = _peak_mb()


Workload = Callable[[dict, Timer], Any]
COPICK: dict[str, Workload] = {}
LIMIT: dict[str, Workload] = {}


def copick_impl(name: str) -> Callable[[Workload], Workload]:
    def deco(fn: Workload) -> Workload:
        COPICK[name] = fn
        return fn

    return deco


def limit_impl(name: str) -> Callable[[Workload], Workload]:
    def deco(fn: Workload) -> Workload:
        LIMIT[name] = fn
        return fn

    return deco


def _open_root(p: dict):
    """Open the project of ``p`` (untimed setup everywhere it is used)."""
    import copick

    return copick.from_file(p["config"])


def _fresh_project(p: dict) -> str:
    """Write a config for an empty project in ``p["out"]``; return the config path."""
    project = os.path.join(p["out"], "project")
    os.makedirs(project, exist_ok=True)
    return write_config(os.path.join(p["out"], "copick_config.json"), project)


# --- import ----------------------------------------------------------------


@copick_impl("import")
def _import_copick(p: dict, timer: Timer) -> Any:
    with timer():
        import copick
    return {"from_file": callable(copick.from_file), "new_config": callable(copick.new_config)}


@limit_impl("import")
def _import_limit(p: dict, timer: Timer) -> Any:
    with timer():
        import numpy  # noqa: F401
    return None


# --- create a project ------------------------------------------------------


def _created_project_checksum(project: str) -> dict:
    runs_dir = os.path.join(project, "ExperimentRuns")
    runs = sorted(e.name for e in os.scandir(runs_dir) if e.is_dir() and not e.name.startswith("."))
    picks = {"n": 0, "locations": 0.0}
    levels: dict[str, dict] = {}
    for run in runs:
        ck = picks_file_checksum(os.path.join(runs_dir, run, "Picks", "bench_0_ribosome.json"))
        picks["n"] += ck["n"]
        picks["locations"] += ck["locations"]
        tomo = zarr_levels_checksum(os.path.join(runs_dir, run, "VoxelSpacing10.000", "wbp.zarr"))
        for key, lv in tomo.items():
            acc = levels.setdefault(key, {"shape": lv["shape"], "sum": 0.0})
            acc["sum"] += lv["sum"]
    return {"runs": len(runs), "picks": picks, "tomogram_levels": levels}


@copick_impl("create_project")
def _create_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    import copick
    from copick.models import PickableObject

    vol = np.load(p["tomogram"])
    positions = np.load(p["positions"])
    objects = [PickableObject(**o) for o in OBJECTS]
    project = os.path.join(p["out"], "project")
    config = os.path.join(p["out"], "copick_config.json")
    with timer():
        root = copick.new_config(config, project, "bench", "copick benchmark project", objects)
        for i in range(p["n_runs"]):
            run = root.new_run(f"TS_{i:03d}")
            vs = run.new_voxel_spacing(10.0)
            vs.new_tomogram("wbp").from_numpy(vol)
            run.new_picks("ribosome", "0", user_id="bench").from_numpy(positions)
    return _created_project_checksum(project)


@limit_impl("create_project")
def _create_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import orjson

    vol = np.load(p["tomogram"])
    positions = np.load(p["positions"])
    project = os.path.join(p["out"], "project")
    with timer():
        os.makedirs(project, exist_ok=True)
        write_config(os.path.join(p["out"], "copick_config.json"), project)
        for i in range(p["n_runs"]):
            name = f"TS_{i:03d}"
            rdir = run_dir(project, name)
            vdir = os.path.join(rdir, "VoxelSpacing10.000")
            os.makedirs(vdir)
            for d in (rdir, vdir):
                with open(os.path.join(d, ".meta"), "w") as fh:
                    fh.write("meta")
            write_ome_zarr(os.path.join(vdir, "wbp.zarr"), vol, 10.0, levels=3)
            os.makedirs(os.path.join(rdir, "Picks"))
            doc = picks_document("ribosome", "bench", "0", name, positions)
            with open(os.path.join(rdir, "Picks", "bench_0_ribosome.json"), "wb") as fh:
                fh.write(orjson.dumps(doc, option=PICKS_JSON_OPTIONS))
    return _created_project_checksum(project)


# --- enumerate -------------------------------------------------------------


def _enumerate_copick(p: dict, timer: Timer) -> Any:
    keys: list[str] = []
    root = _open_root(p)
    with timer():
        for run in root.runs:
            keys.append(f"run {run.name}")
            for vs in run.voxel_spacings:
                keys.append(f"vs {run.name} {vs.voxel_size:.3f}")
                for tomo in vs.tomograms:
                    keys.append(f"tomo {run.name} {vs.voxel_size:.3f} {tomo.tomo_type}")
            for pk in run.picks:
                keys.append(f"picks {run.name} {pk.user_id} {pk.session_id} {pk.pickable_object_name}")
            for m in run.meshes:
                keys.append(f"mesh {run.name} {m.user_id} {m.session_id} {m.pickable_object_name}")
            for s in run.segmentations:
                keys.append(seg_key(run.name, s.voxel_size, s.user_id, s.session_id, s.name, s.is_multilabel))
    return keys_checksum(keys)


copick_impl("enumerate_local")(_enumerate_copick)
copick_impl("enumerate_s3")(_enumerate_copick)


def _keys_from_relpaths(run: str, rel_entries: list[tuple[str, ...]]) -> list[str]:
    """Identity keys of a run from its entries, each a path tuple relative to the run folder."""
    keys = [f"run {run}"]
    for parts in rel_entries:
        top = parts[0]
        if top.startswith("VoxelSpacing"):
            vs = float(top[len("VoxelSpacing") :])
            if len(parts) == 1:
                keys.append(f"vs {run} {vs:.3f}")
            elif parts[1].endswith(".zarr") and "features" not in parts[1] and not parts[1].startswith("."):
                keys.append(f"tomo {run} {vs:.3f} {parts[1][:-5]}")
        elif len(parts) == 2 and not parts[1].startswith("."):
            stem, _, ext = parts[1].rpartition(".")
            if top == "Picks" and ext == "json":
                u, s, o = stem.split("_")[:3]
                keys.append(f"picks {run} {u} {s} {o}")
            elif top == "Meshes" and ext == "glb":
                u, s, o = stem.split("_")[:3]
                keys.append(f"mesh {run} {u} {s} {o}")
            elif top.endswith("Segmentations") and ext == "zarr":
                v, u, s, name = stem.split("_", 3)
                multi = top == "Segmentations" and name.endswith("-multilabel")
                name = name[: -len("-multilabel")] if multi else name
                keys.append(seg_key(run, float(v), u, s, name, multi))
    return keys


@limit_impl("enumerate_local")
def _enumerate_local_limit(p: dict, timer: Timer) -> Any:
    keys: list[str] = []
    with timer():
        base = os.path.join(p["project"], "ExperimentRuns")
        runs = sorted(e.name for e in os.scandir(base) if not e.name.startswith(".") and e.is_dir())
        for run in runs:
            entries: list[tuple[str, ...]] = []
            for e in os.scandir(os.path.join(base, run)):
                if e.name.startswith(".") or not e.is_dir():
                    continue
                if e.name.startswith("VoxelSpacing"):
                    entries.append((e.name,))
                entries.extend((e.name, c.name) for c in os.scandir(e.path))
            keys.extend(_keys_from_relpaths(run, entries))
    return keys_checksum(keys)


@limit_impl("enumerate_s3")
def _enumerate_s3_limit(p: dict, timer: Timer) -> Any:
    import fsspec

    with open(p["config"]) as fh:
        cfg = json.load(fh)
    keys: list[str] = []
    with timer():
        fs, prefix = fsspec.url_to_fs(cfg["overlay_root"], **cfg.get("overlay_fs_args", {}))
        base = prefix.rstrip("/") + "/ExperimentRuns/"
        per_run: dict[str, set[tuple[str, ...]]] = {}
        for path in fs.find(base):
            rel = path[len(base) :].split("/")
            if len(rel) < 2 or rel[0].startswith("."):
                continue
            entries = per_run.setdefault(rel[0], set())
            if rel[1].startswith("VoxelSpacing"):
                entries.add((rel[1],))
            if len(rel) >= 3:
                entries.add((rel[1], rel[2]))
        for run in sorted(per_run):
            keys.extend(_keys_from_relpaths(run, sorted(per_run[run])))
    return keys_checksum(keys)


# --- read many small picks files -------------------------------------------


@copick_impl("picks_read_many")
def _picks_many_copick(p: dict, timer: Timer) -> Any:
    n, total = 0, 0.0
    root = _open_root(p)
    with timer():
        for run in root.runs:
            for pk in run.picks:
                pos, _ = pk.numpy()
                n += len(pos)
                total += float(pos.sum())
    return {"files": p["n_files"], "n": n, "locations": total}


@limit_impl("picks_read_many")
def _picks_many_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import orjson

    n, total = 0, 0.0
    with timer():
        base = os.path.join(p["project"], "ExperimentRuns")
        for run in sorted(e.name for e in os.scandir(base) if e.is_dir() and not e.name.startswith(".")):
            pdir = os.path.join(base, run, "Picks")
            for e in os.scandir(pdir):
                if not e.name.endswith(".json") or e.name.startswith("."):
                    continue
                with open(e.path, "rb") as fh:
                    pts = orjson.loads(fh.read())["points"]
                pos = np.array([(q["location"]["x"], q["location"]["y"], q["location"]["z"]) for q in pts])
                n += len(pos)
                total += float(pos.sum())
    return {"files": p["n_files"], "n": n, "locations": total}


# --- picks: write, read numpy(), read .points ------------------------------


@copick_impl("picks_write")
def _picks_write_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    positions, transforms = np.load(p["positions"]), np.load(p["transforms"])
    config = _fresh_project(p)
    import copick

    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("ribosome", "1", user_id="bench")
    with timer():
        picks.from_numpy(positions, transforms)
    path = os.path.join(p["out"], "project", "ExperimentRuns", "TS_001", "Picks", "bench_1_ribosome.json")
    return picks_file_checksum(path)


@limit_impl("picks_write")
def _picks_write_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import orjson

    positions, transforms = np.load(p["positions"]), np.load(p["transforms"])
    path = os.path.join(p["out"], "bench_1_ribosome.json")
    with timer():
        doc = picks_document("ribosome", "bench", "1", "TS_001", positions, transforms)
        with open(path, "wb") as fh:
            fh.write(orjson.dumps(doc, option=PICKS_JSON_OPTIONS))
    return picks_file_checksum(path)


def _get_big_picks(root):
    return root.get_run("TS_001").get_picks("ribosome", "bench", "1")[0]


COPICK["picks_write_big"] = _picks_write_copick
LIMIT["picks_write_big"] = _picks_write_limit


@copick_impl("picks_read_numpy")
def _picks_numpy_copick(p: dict, timer: Timer) -> Any:
    root = _open_root(p)
    with timer():
        positions, transforms = _get_big_picks(root).numpy()
    return arrays_checksum(positions, transforms)


def _load_points_plain(path: str):
    import orjson

    with open(path, "rb") as fh:
        return orjson.loads(fh.read())["points"]


@limit_impl("picks_read_numpy")
def _picks_numpy_limit(p: dict, timer: Timer) -> Any:
    import numpy as np

    chain = itertools.chain.from_iterable
    with timer():
        pts = _load_points_plain(p["picks_file"])
        n = len(pts)
        xyz = chain((q["location"]["x"], q["location"]["y"], q["location"]["z"]) for q in pts)
        positions = np.fromiter(xyz, np.float64, count=3 * n).reshape(n, 3)
        mats = chain(chain(q["transformation_"] for q in pts))
        transforms = np.fromiter(mats, np.float64, count=16 * n).reshape(n, 4, 4)
    return arrays_checksum(positions, transforms)


COPICK["picks_read_big"] = _picks_numpy_copick
LIMIT["picks_read_big"] = _picks_numpy_limit


@copick_impl("picks_read_points")
def _picks_points_copick(p: dict, timer: Timer) -> Any:
    root = _open_root(p)
    with timer():
        points = _get_big_picks(root).points
    total = sum(pt.location.x + pt.location.y + pt.location.z for pt in points)
    return {"n": len(points), "locations": total}


@limit_impl("picks_read_points")
def _picks_points_limit(p: dict, timer: Timer) -> Any:
    with timer():
        points = _load_points_plain(p["picks_file"])
    total = sum(q["location"]["x"] + q["location"]["y"] + q["location"]["z"] for q in points)
    return {"n": len(points), "locations": total}


# --- tomograms -------------------------------------------------------------


@copick_impl("tomogram_write")
def _tomo_write_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    data = np.load(p["volume"])
    config = _fresh_project(p)
    import copick

    run = copick.from_file(config).new_run("TS_001")
    tomo = run.new_voxel_spacing(10.0).new_tomogram("wbp")
    with timer():
        tomo.from_numpy(data)
    project = os.path.join(p["out"], "project")
    return zarr_levels_checksum(os.path.join(run_dir(project, "TS_001"), "VoxelSpacing10.000", "wbp.zarr"))


@limit_impl("tomogram_write")
def _tomo_write_limit(p: dict, timer: Timer) -> Any:
    import numpy as np

    data = np.load(p["volume"])
    path = os.path.join(p["out"], "wbp.zarr")
    with timer():
        write_ome_zarr(path, data, 10.0, levels=3)
    return zarr_levels_checksum(path)


def _get_tomogram(root):
    return root.get_run("TS_001").get_voxel_spacing(10.0).get_tomograms("wbp")[0]


@copick_impl("tomogram_read")
def _tomo_read_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    root = _open_root(p)
    with timer():
        data = _get_tomogram(root).numpy()
    return {"shape": list(data.shape), "sum": float(data.sum(dtype=np.float64))}


@limit_impl("tomogram_read")
def _tomo_read_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    with timer():
        data = zarr.open_group(store=p["tomogram_store"], mode="r")["0"][...]
    return {"shape": list(data.shape), "sum": float(data.sum(dtype=np.float64))}


@copick_impl("tomogram_regions")
def _tomo_regions_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    s = p["region_size"]
    total, n = 0.0, 0
    root = _open_root(p)
    with timer():
        tomo = _get_tomogram(root)
        for z, y, x in p["regions"]:
            block = tomo.numpy(x=slice(x, x + s), y=slice(y, y + s), z=slice(z, z + s))
            total += float(block.sum(dtype=np.float64))
            n += block.size
    return {"voxels": n, "sum": total}


@limit_impl("tomogram_regions")
def _tomo_regions_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    s = p["region_size"]
    total, n = 0.0, 0
    with timer():
        arr = zarr.open_group(store=p["tomogram_store"], mode="r")["0"]
        for z, y, x in p["regions"]:
            block = arr[z : z + s, y : y + s, x : x + s]
            total += float(block.sum(dtype=np.float64))
            n += block.size
    return {"voxels": n, "sum": total}


# --- many small volumes (a data loader) ------------------------------------


def _level_checksum(total: float, shapes: set, n: int) -> dict:
    return {"volumes": n, "shapes": sorted(list(s) for s in shapes), "sum": total}


@copick_impl("volumes_open_many")
def _volumes_many_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    root = _open_root(p)
    total, shapes = 0.0, set()
    with timer():
        for i in range(p["n_runs"]):
            tomo = root.get_run(f"TS_{i:03d}").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
            data = tomo.numpy(zarr_group="2")
            total += float(data.sum(dtype=np.float64))
            shapes.add(data.shape)
    return _level_checksum(total, shapes, p["n_runs"])


@limit_impl("volumes_open_many")
def _volumes_many_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    total, shapes = 0.0, set()
    with timer():
        for i in range(p["n_runs"]):
            store = os.path.join(run_dir(p["project"], f"TS_{i:03d}"), "VoxelSpacing10.000", "wbp.zarr")
            data = zarr.open_group(store=store, mode="r")["2"][...]
            total += float(data.sum(dtype=np.float64))
            shapes.add(data.shape)
    return _level_checksum(total, shapes, p["n_runs"])


# --- segmentations ---------------------------------------------------------


def _labels_checksum(back, labels) -> dict:
    import numpy as np

    if back.shape != labels.shape or not np.array_equal(back, labels):
        raise AssertionError("segmentation read back differs from what was written")
    return {
        "shape": list(back.shape),
        "sum": int(back.sum(dtype=np.int64)),
        "nonzero": int((back != 0).sum()),
    }


@copick_impl("segmentation_io")
def _seg_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    labels = np.load(p["labels"])
    config = _fresh_project(p)
    import copick

    run = copick.from_file(config).new_run("TS_001")
    seg = run.new_segmentation(10.0, "ribosome", "0", user_id="bench")
    with timer():
        seg.from_numpy(labels)
        back = seg.numpy()
    return _labels_checksum(back, labels)


@limit_impl("segmentation_io")
def _seg_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    labels = np.load(p["labels"])
    path = os.path.join(p["out"], "10.000_bench_0_ribosome.zarr")
    with timer():
        write_ome_zarr(path, labels, 10.0, levels=1)
        back = np.asarray(zarr.open_group(store=path, mode="r")["0"][...])
    return _labels_checksum(back, labels)


# --- command line (the installed ``copick`` script, as fresh subprocesses) ---

#: Commands every ``copick --help`` lists (ours and 1.31.0 alike), and its two sections.
CLI_COMMANDS = ("add", "browse", "config", "cp", "export", "info", "mv", "new", "rm", "stats", "sync")
CLI_SECTIONS = ("Data Management:", "Utilities:")


def _copick_script() -> str:
    """The ``copick`` console script of the interpreter running this workload (its venv's ``bin/``)."""
    return os.path.join(os.path.dirname(sys.executable), "copick")


def _timed_subprocesses(timer: Timer, argv: list[str], n: int) -> Any:
    """Run ``argv`` ``n`` times; add the median wall time of one run to ``timer``; the last result."""
    import subprocess

    times, proc = [], None
    for _ in range(max(1, n)):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
    timer.seconds += sorted(times)[len(times) // 2]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return proc


def _help_checksum(text: str) -> dict:
    import re

    return {
        "sections": [s for s in CLI_SECTIONS if s in text],
        "commands": [c for c in CLI_COMMANDS if re.search(rf"^\s+{c}\s", text, re.MULTILINE)],
    }


@copick_impl("cli_version")
def _cli_version_copick(p: dict, timer: Timer) -> Any:
    proc = _timed_subprocesses(timer, [_copick_script(), "--version"], p["n"])
    return {"first_word": proc.stdout.split()[0]}


@limit_impl("cli_version")
def _cli_version_limit(p: dict, timer: Timer) -> Any:
    proc = _timed_subprocesses(timer, [sys.executable, "-c", "print('copick 0')"], p["n"])
    return {"first_word": proc.stdout.split()[0]}


@copick_impl("cli_help")
def _cli_help_copick(p: dict, timer: Timer) -> Any:
    return _help_checksum(_timed_subprocesses(timer, [_copick_script(), "--help"], p["n"]).stdout)


@limit_impl("cli_help")
def _cli_help_limit(p: dict, timer: Timer) -> Any:
    text = "\n".join([*CLI_SECTIONS, *(f"  {c}  help" for c in CLI_COMMANDS)])
    proc = _timed_subprocesses(timer, [sys.executable, "-c", f"print({text!r})"], p["n"])
    return _help_checksum(proc.stdout)


@copick_impl("add_tomogram_mrc")
def _add_tomogram_copick(p: dict, timer: Timer) -> Any:
    import subprocess

    config = _fresh_project(p)
    argv = [_copick_script(), "add", "tomogram", p["mrc"], "-c", config, "--run", "TS_001"]
    argv += ["--tomo-type", "wbp"]
    with timer():
        proc = subprocess.run(argv, capture_output=True, text=True)
    store = os.path.join(
        run_dir(os.path.join(p["out"], "project"), "TS_001"), "VoxelSpacing10.000", "wbp.zarr"
    )
    if proc.returncode != 0 or not os.path.isdir(store):  # 1.31 exits 0 when an item failed
        raise RuntimeError(f"copick add tomogram exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return zarr_levels_checksum(store)


@limit_impl("add_tomogram_mrc")
def _add_tomogram_limit(p: dict, timer: Timer) -> Any:
    import mrcfile
    import numpy as np

    path = os.path.join(p["out"], "wbp.zarr")
    with timer():
        with mrcfile.open(p["mrc"], mode="r", permissive=True) as mrc:
            data = np.asarray(mrc.data, dtype=np.float32)
            voxel_size = float(mrc.voxel_size.x)
        write_ome_zarr(path, data, voxel_size, levels=3)
    return zarr_levels_checksum(path)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for mod in ("copick", "numpy", "zarr", "numcodecs", "orjson", "pydantic", "fsspec", "s3fs", "mrcfile"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = str(getattr(m, "__version__", "?"))
    return out


def _peak_mb() -> float:
    """Peak RSS of this process in MiB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` over ``execve``, so a
    child would report its parent's peak when the parent was bigger.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _children_peak_mb() -> float:
    """Peak RSS of the biggest waited-for child (the ``copick`` subprocesses of the CLI workloads).

    0 when the workload started none. A child's figure is at least this process's RSS at fork
    time (Linux carries ``ru_maxrss`` over ``execve``), so it only tells for big children.
    """
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


#: Third-party libraries imported before any timed section except ``import``'s own: every
#: implementation needs them, and the ``import`` workload is where import time is measured.
PREIMPORTS = ("numpy", "zarr", "numcodecs", "fsspec", "orjson")
PREIMPORTS_BY_WORKLOAD = {"enumerate_s3": ("s3fs",)}


def run_job(name: str, kind: str, params: dict) -> dict:
    """Run one workload in this process; return its result record (never raises)."""
    timer = Timer()
    try:
        if name != "import":
            for mod in PREIMPORTS + PREIMPORTS_BY_WORKLOAD.get(name, ()):
                __import__(mod)
        table = COPICK if kind == "copick" else LIMIT
        checksum = table[name](params, timer)
    except Exception as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        return {"name": name, "error": f"{type(exc).__name__}: {first}"[:300], "peak_mb": _peak_mb()}
    return {
        "name": name,
        "seconds": timer.seconds,
        "peak_mb": max(timer.peak_mb or _peak_mb(), _children_peak_mb()),
        "checksum": checksum,
        "versions": _versions(),
    }


def main(argv: list[str]) -> int:
    """``WORKLOAD KIND PARAMS_JSON``, or ``--batch JOBS_JSON`` (a list of
    ``{"name", "kind", "params"}`` run one after the other in this process, in order)."""
    if len(argv) == 2 and argv[0] == "--batch":
        with open(argv[1]) as fh:
            jobs = json.load(fh)
    elif len(argv) == 3 and argv[1] in ("copick", "limit"):
        with open(argv[2]) as fh:
            jobs = [{"name": argv[0], "kind": argv[1], "params": json.load(fh)}]
    else:
        print("usage: workloads.py WORKLOAD {copick,limit} PARAMS_JSON | --batch JOBS_JSON", file=sys.stderr)
        return 2
    failed = False
    for job in jobs:
        result = run_job(job["name"], job["kind"], job["params"])
        failed = failed or "error" in result
        print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
