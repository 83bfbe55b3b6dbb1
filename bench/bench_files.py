"""Plain on-disk helpers of the benchmarks (copick's format without copick) and the untimed checksums.

Shared by every workload module, ``bench/inputs.py`` (input generation) and the other bench scripts.
Only the standard library is imported at module level; numpy, zarr and orjson inside the functions.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

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
# Plain on-disk helpers (copick's format without copick), shared with inputs.py
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
