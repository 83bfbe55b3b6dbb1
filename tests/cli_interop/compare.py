"""Describe what the commands left on disk as data, and list the differences between two folders.

A snapshot maps a path relative to the folder to a comparable value:

* ``<...>.zarr`` (one entry per store): ``{"meta": {file: json}, "arrays": {key: ndarray}}``; chunk files
  are compared through the arrays only (their bytes depend on the zarr version);
* picks JSON: the document after ``json.loads`` with its points as arrays (locations (N, 3), transforms
  (N, 4, 4), instance ids, scores);
* other JSON (the config): after ``json.loads``, the folder's own path replaced by ``<folder>``;
* exported ``.csv``: a ``pandas.DataFrame``; ``.star``: ``starfile.read`` (a dict of DataFrames);
  ``.mrc``: ``{"data", "dtype", "voxel_size"}``; ``.glb`` meshes: ``{"vertices", "faces"}`` (trimesh);
* anything else: its bytes (``.meta`` files).

:func:`differences` compares two snapshots (``expected`` = copick 1.31.0, ``actual`` = ours) and returns one
line per difference, naming the path, the key inside it and both values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

#: Tolerances of float comparisons: Euler angles and pyramids may round differently between numpy,
#: scipy and zarr versions; positions are in Angstrom (hundreds), intensities around 5.
RTOL = 1e-6
ATOL = 1e-6


def _points(doc: dict) -> dict:
    pts = doc.get("points") or []
    out = {k: v for k, v in doc.items() if k != "points"}
    out["points.location"] = np.array(
        [[p["location"]["x"], p["location"]["y"], p["location"]["z"]] for p in pts], dtype=np.float64
    ).reshape(-1, 3)
    out["points.transformation_"] = np.array(
        [p.get("transformation_") if p.get("transformation_") is not None else np.eye(4) for p in pts],
        dtype=np.float64,
    ).reshape(-1, 4, 4)
    out["points.instance_id"] = np.array([p.get("instance_id") for p in pts], dtype=object)
    out["points.score"] = np.array([p.get("score") for p in pts], dtype=object)
    out["points.keys"] = sorted({k for p in pts for k in p})
    return out


def _zarr_store(path: Path) -> dict:
    import zarr

    meta = {}
    for f in sorted(path.rglob(".z*")):
        meta[f.relative_to(path).as_posix()] = json.loads(f.read_text())
    arrays = {}
    try:
        group = zarr.open_group(store=str(path), mode="r")
        for key in sorted(group.array_keys()):
            arrays[key] = np.asarray(group[key][...])
    except Exception as exc:  # a store one side could not read back is a difference by itself
        arrays["<error>"] = f"{type(exc).__name__}: {exc}"
    return {"meta": meta, "arrays": arrays}


def _mrc(path: Path) -> dict:
    import mrcfile

    with mrcfile.open(str(path), permissive=True) as mrc:
        vs = mrc.voxel_size
        return {
            "data": np.array(mrc.data),
            "dtype": str(mrc.data.dtype),
            "voxel_size": [float(vs.x), float(vs.y), float(vs.z)],
        }


def _mesh(path: Path) -> dict:
    import trimesh

    mesh = trimesh.load(str(path), file_type="glb", force="mesh")
    return {"vertices": np.asarray(mesh.vertices), "faces": np.asarray(mesh.faces)}


def _json_with_folder(path: Path, folder: Path) -> Any:
    return json.loads(path.read_text().replace(str(folder), "<folder>"))


def snapshot(folder: Path, subdirs: tuple[str, ...] = ("project", "exp")) -> dict[str, Any]:
    """Everything under ``folder/<subdir>`` plus ``folder/config.json``, as comparable data."""
    import pandas as pd
    import starfile

    out: dict[str, Any] = {"config.json": _json_with_folder(folder / "config.json", folder)}
    for sub in subdirs:
        base = folder / sub
        if not base.exists():
            continue
        stores = sorted(p for p in base.rglob("*.zarr") if p.is_dir())
        for store in stores:
            if any(parent in stores for parent in store.parents):
                continue
            out[store.relative_to(folder).as_posix()] = _zarr_store(store)
        for path in sorted(base.rglob("*")):
            if path.is_dir() or any(s in path.parents for s in stores):
                continue
            rel = path.relative_to(folder).as_posix()
            suffix = path.suffix.lower()
            if suffix == ".json" and path.parent.name == "Picks":
                out[rel] = _points(json.loads(path.read_bytes()))
            elif suffix == ".json":
                out[rel] = _json_with_folder(path, folder)
            elif suffix == ".csv":
                out[rel] = pd.read_csv(path)
            elif suffix == ".star":
                data = starfile.read(path, always_dict=True)
                out[rel] = {name: df for name, df in data.items()}
            elif suffix == ".mrc":
                out[rel] = _mrc(path)
            elif suffix == ".glb":
                out[rel] = _mesh(path)
            else:
                out[rel] = path.read_bytes()
    return out


# --------------------------------------------------------------------------------------------
# differences
# --------------------------------------------------------------------------------------------


def _short(value: Any, limit: int = 160) -> str:
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3):
            text = f"array{value.shape} {value.dtype}: {value!r}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _floaty(a: np.ndarray) -> bool:
    return a.dtype.kind in "fc"


def _array_diff(where: str, a: np.ndarray, b: np.ndarray) -> list[str]:
    if a.shape != b.shape:
        return [f"{where}: shape {a.shape} (1.31) != {b.shape} (ours)"]
    if a.dtype == object or b.dtype == object:
        if a.tolist() != b.tolist():
            return [f"{where}: {_short(a)} (1.31) != {_short(b)} (ours)"]
        return []
    out = []
    if a.dtype != b.dtype:
        out.append(f"{where}: dtype {a.dtype} (1.31) != {b.dtype} (ours)")
    if _floaty(a) or _floaty(b):
        fa, fb = a.astype(np.float64), b.astype(np.float64)
        close = np.isclose(fa, fb, rtol=RTOL, atol=ATOL, equal_nan=True)
        if not close.all():
            bad = np.argwhere(~close)
            i = tuple(bad[0])
            out.append(
                f"{where}: {len(bad)} of {a.size} values differ, max |diff| "
                f"{float(np.nanmax(np.abs(fa - fb))):.3g}; first at {i}: {fa[i]!r} (1.31) != {fb[i]!r} (ours)"
            )
    elif not np.array_equal(a, b):
        bad = np.argwhere(a != b)
        i = tuple(bad[0])
        out.append(
            f"{where}: {len(bad)} of {a.size} values differ; first at {i}: {a[i]!r} (1.31) != {b[i]!r} (ours)"
        )
    return out


def _frame_diff(where: str, a: Any, b: Any) -> list[str]:
    if list(a.columns) != list(b.columns):
        return [f"{where}: columns {list(a.columns)} (1.31) != {list(b.columns)} (ours)"]
    if len(a) != len(b):
        return [f"{where}: {len(a)} rows (1.31) != {len(b)} rows (ours)"]
    out = []
    for col in a.columns:
        ca, cb = a[col].to_numpy(), b[col].to_numpy()
        num = ca.dtype.kind in "iuf" and cb.dtype.kind in "iuf"
        out.extend(_array_diff(f"{where}[{col}]", ca, cb) if num else _values_diff(f"{where}[{col}]", ca, cb))
    return out


def _values_diff(where: str, a: np.ndarray, b: np.ndarray) -> list[str]:
    la, lb = [str(x) for x in a], [str(x) for x in b]
    return [] if la == lb else [f"{where}: {_short(la)} (1.31) != {_short(lb)} (ours)"]


def _diff(where: str, a: Any, b: Any) -> list[str]:
    import pandas as pd

    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in b:
                out.append(f"{where}: key {k!r} only in 1.31 ({_short(a[k])})")
            elif k not in a:
                out.append(f"{where}: key {k!r} only in ours ({_short(b[k])})")
            else:
                out.extend(_diff(f"{where}.{k}" if where else str(k), a[k], b[k]))
        return out
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        return _frame_diff(where, a, b)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _array_diff(where, a, b)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out.extend(_diff(f"{where}[{i}]", x, y))
        return out
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        ok = math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
        return [] if ok else [f"{where}: {a!r} (1.31) != {b!r} (ours)"]
    if type(a) is not type(b) or a != b:
        return [f"{where}: {_short(a)} (1.31) != {_short(b)} (ours)"]
    return []


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One line per difference between two snapshots (``expected``: copick 1.31.0, ``actual``: ours)."""
    out = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            out.append(f"{path}: only written by 1.31")
        elif path not in expected:
            out.append(f"{path}: only written by ours")
        else:
            out.extend(_diff(path, expected[path], actual[path]))
    return out


def entities(folder: Path) -> list[str]:
    """Every entity of the project in ``folder`` as listed by our API (one sorted key per entity)."""
    import copick

    root = copick.from_file(str(folder / "config.json"))
    keys = []
    for run in root.runs:
        keys.append(f"run {run.name}")
        for vs in run.voxel_spacings:
            keys.append(f"voxel_spacing {run.name} {vs.voxel_size:.3f}")
            keys.extend(f"tomogram {run.name} {vs.voxel_size:.3f} {t.tomo_type}" for t in vs.tomograms)
        for p in run.picks:
            n = len(p.points or [])
            keys.append(f"picks {run.name} {p.pickable_object_name}:{p.user_id}/{p.session_id} n={n}")
        keys.extend(
            f"mesh {run.name} {m.pickable_object_name}:{m.user_id}/{m.session_id}" for m in run.meshes
        )
        for s in run.segmentations:
            kind = "multilabel" if s.is_multilabel else "single"
            keys.append(f"segmentation {run.name} {s.name}:{s.user_id}/{s.session_id}@{s.voxel_size} {kind}")
    return sorted(keys)
