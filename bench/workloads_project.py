"""Workloads of whole projects: ``import``, ``create_project``, ``enumerate_local``/``enumerate_s3``
and ``picks_read_many`` (many small picks files)."""

from __future__ import annotations

import json
import os
from typing import Any

from bench_files import (
    OBJECTS,
    PICKS_JSON_OPTIONS,
    keys_checksum,
    picks_document,
    picks_file_checksum,
    run_dir,
    seg_key,
    write_config,
    write_ome_zarr,
    zarr_levels_checksum,
)
from bench_harness import Timer, copick_impl, limit_impl, open_root

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
    root = open_root(p)
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
    root = open_root(p)
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
