"""Interop describer: the same text runs under our copick and under copick 1.31.0.

    python describe.py CONFIG_PATH [CONFIG_PATH ...]

Opens each project with ``copick.from_file`` and prints ONE JSON object that maps each
CONFIG_PATH to a description of everything the public API exposes: config, objects (with density
maps), runs, voxel spacings, tomograms (every pyramid level, OME attributes, ``.zarray`` metadata
and store keys), feature maps, picks (arrays, metadata, listing state), meshes (geometry),
segmentations (every level), plus the answers of a set of lookups (``get_*`` filters, user/tool
splits). Arrays are summarised by shape, dtype, sum, min, max and a SHA-256 of their C-ordered
bytes, so equal summaries mean equal arrays.

Lists whose order the spec leaves unspecified are sorted; runs are kept in listing order (sorted
by the spec), and ``listing_order`` records the order in which picks, meshes and segmentations are
listed (copick 1.31 lists them in file-name order, static layer first, and users index ``[0]`` of
``get_picks(...)``). Voxel spacings, tomograms and features come out of a set in copick 1.31:
their order changes with ``PYTHONHASHSEED``, so it is not recorded.

A call that raises is recorded as ``"raise:<builtin category>"`` (our errors subclass the builtin
type copick 1.31 raises; README difference 11). The script only reads, but copick 1.31 creates
empty stores on ``.zarr()`` of some writable entities, so the test runs it on a copy.
"""

import hashlib
import json
import sys
import warnings

import numpy as np
import zarr

import copick

warnings.simplefilter("ignore")  # DeprecationWarning of get_tomogram etc. are not compared here

BUILTIN_ERRORS = (PermissionError, FileNotFoundError, KeyError, TypeError, ValueError, AttributeError)


def error_name(exc):
    for base in BUILTIN_ERRORS:
        if isinstance(exc, base):
            return "raise:" + base.__name__
    return f"raise:{type(exc).__module__}.{type(exc).__qualname__}"


def attempt(fn):
    """``fn()``, or the category of the exception it raised (as data, never a crash)."""
    try:
        return fn()
    except Exception as exc:
        return error_name(exc)


def array_summary(arr):
    if arr is None:
        return None
    arr = np.ascontiguousarray(arr)
    return {
        "shape": list(arr.shape),
        "dtype": arr.dtype.str,
        "sum": float(arr.sum(dtype=np.float64)),
        "min": float(arr.min()) if arr.size else None,
        "max": float(arr.max()) if arr.size else None,
        "sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
    }


def store_summary(entity):
    """OME attributes, array metadata and keys of an entity's zarr store, read through zarr."""

    def read():
        store = entity.zarr()
        group = zarr.open(store, mode="r")
        levels = sorted(group.array_keys())
        return {
            "zattrs": dict(group.attrs),
            "levels": levels,
            "zarray": {lv: json.loads(bytes(store[lv + "/.zarray"])) for lv in levels},
            "zgroup": json.loads(bytes(store[".zgroup"])),
            "keys": sorted(k for k in store if not k.startswith(".")),
        }

    return attempt(read)


STATIC = "<static: level 0 only>"


def full(entity):
    """Read everything of writable entities; of static (read-only) ones only level "0".

    Static entities of a layered project are copies of a base project that both implementations
    read in full already; reading them again costs time (every 256^3 chunk decodes to 64 MiB).
    """
    return getattr(entity, "read_only", False) is not True


def volume_levels(entity, levels, read):
    """Every level's array, read through the entity's own ``numpy`` (``read(entity, level)``)."""
    if not isinstance(levels, list):
        return attempt(lambda: array_summary(read(entity, "0")))
    return {
        lv: attempt(lambda lv=lv: array_summary(read(entity, lv)))
        for lv in (levels if full(entity) else levels[:1])
    }


def region(entity, fn):
    return attempt(lambda: array_summary(fn())) if full(entity) else STATIC


def describe_volume(entity, read):
    store = store_summary(entity)
    levels = store.get("levels") if isinstance(store, dict) else None
    return {
        "read_only": getattr(entity, "read_only", "<absent>"),
        "store": store,
        "data": volume_levels(entity, levels, read),
        "default_level": attempt(lambda: array_summary(entity.numpy())),
    }


def describe_object(obj):
    d = {
        "name": obj.name,
        "is_particle": obj.is_particle,
        "label": obj.label,
        "color": list(obj.color) if obj.color is not None else None,
        "emdb_id": obj.emdb_id,
        "pdb_id": obj.pdb_id,
        "identifier": obj.identifier,
        "map_threshold": obj.map_threshold,
        "radius": obj.radius,
        "metadata": obj.metadata,
        "read_only": getattr(obj, "read_only", "<absent>"),
        "zarr_is_none": attempt(lambda: obj.zarr() is None),
        "numpy": attempt(lambda: array_summary(obj.numpy())),
    }
    if d["zarr_is_none"] is False and isinstance(d["numpy"], dict):
        d["store"] = store_summary(obj)
        d["region"] = region(obj, lambda: obj.numpy(x=slice(1, 5), y=slice(0, 3), z=slice(2, 4)))
    return d


def describe_tomogram(tomo):
    d = {"tomo_type": tomo.tomo_type}
    d.update(describe_volume(tomo, lambda t, lv: t.numpy(lv)))
    d["region"] = region(tomo, lambda: tomo.numpy(x=slice(2, 9), y=slice(0, 4), z=slice(1, 3)))
    d["features"] = sorted(
        (describe_features(f) for f in tomo.features), key=lambda f: (f["feature_type"], str(f["read_only"]))
    )
    d["get_features_missing"] = tomo.get_features("nope") is None
    return d


def describe_features(feat):
    d = {"tomo_type": feat.tomo_type, "feature_type": feat.feature_type}
    d.update(describe_volume(feat, lambda f, lv: f.numpy(lv)))
    ndim = len(d["store"]["zarray"]["0"]["shape"]) if isinstance(d["store"], dict) else 3
    d["region"] = region(
        feat, lambda: feat.numpy(slices=(slice(0, 2), slice(1, 3), *[slice(None)] * (ndim - 2)))
    )
    # Fewer slices than axes: copick 1.31 raises ValueError (from zip()), numpy indexing would not.
    d["short_slices"] = (
        attempt(lambda: list(feat.numpy(slices=(slice(0, 2),)).shape)) if full(feat) else STATIC
    )
    return d


def describe_voxel_spacing(vs):
    return {
        "voxel_size": vs.voxel_size,
        "read_only": getattr(vs, "read_only", "<absent>"),
        "tomograms": sorted(
            (describe_tomogram(t) for t in vs.tomograms), key=lambda t: (t["tomo_type"], str(t["read_only"]))
        ),
        "get_tomograms_no_arg": len(vs.get_tomograms()),
        "get_tomograms_wbp": len(vs.get_tomograms("wbp")),
        "get_tomogram_missing": vs.get_tomogram("nope") is None,
    }


def describe_picks(p):
    listed = {"run_name": p.meta.run_name, "n_points": len(p.meta.points or [])}
    d = {
        "object": p.pickable_object_name,
        "user_id": p.user_id,
        "session_id": p.session_id,
        "read_only": getattr(p, "read_only", "<absent>"),
        "from_tool": p.from_tool,
        "from_user": p.from_user,
        "color": attempt(lambda: list(p.color)),
        "listed_state": listed,
        "n_points": len(p.points),
    }
    d["run_name"] = p.meta.run_name
    d["voxel_spacing"] = p.meta.voxel_spacing
    d["unit"] = p.meta.unit
    d["trust_orientation"] = p.trust_orientation
    positions, transforms = p.numpy()
    d["positions"] = {
        "dtype": positions.dtype.str,
        "shape": list(positions.shape),
        "values": positions.tolist(),
    }
    d["transforms"] = {
        "dtype": transforms.dtype.str,
        "shape": list(transforms.shape),
        "values": transforms.tolist(),
    }
    d["instance_ids"] = attempt(
        lambda: {"dtype": p.instance_ids().dtype.str, "values": p.instance_ids().tolist()}
    )
    d["scores"] = attempt(lambda: {"dtype": p.scores().dtype.str, "values": p.scores().tolist()})
    d["full_positions"] = attempt(lambda: p.full_positions().tolist())
    d["points"] = [
        {
            "location": [pt.location.x, pt.location.y, pt.location.z],
            "transformation_": pt.transformation_,
            "instance_id": pt.instance_id,
            "score": pt.score,
        }
        for pt in p.points
    ]
    return d


def describe_mesh(m):
    def geometry():
        scene = m.mesh
        out = {"type": type(scene).__name__, "geometries": []}
        geoms = scene.geometry.items() if hasattr(scene, "geometry") else [("<mesh>", scene)]
        for name, g in sorted(geoms):
            v = np.asarray(g.vertices, dtype=np.float64)
            f = np.asarray(g.faces, dtype=np.int64)
            out["geometries"].append(
                {"name": name, "vertices": array_summary(v), "faces": array_summary(f), "n_vertices": len(v)}
            )
        return out

    return {
        "object": m.pickable_object_name,
        "user_id": m.user_id,
        "session_id": m.session_id,
        "read_only": getattr(m, "read_only", "<absent>"),
        "from_tool": m.from_tool,
        "color": attempt(lambda: list(m.color)),
        "mesh": attempt(geometry),
    }


def describe_filaments(f):
    return {
        "object": f.pickable_object_name,
        "user_id": f.user_id,
        "session_id": f.session_id,
        "read_only": getattr(f, "read_only", "<absent>"),
        "from_tool": f.from_tool,
        "voxel_spacing": f.voxel_spacing,
        "instance_ids": f.instance_ids().tolist(),
        "numpy": [line.tolist() for line in f.numpy()],
        "control_points": [None if c is None else c.tolist() for c in f.control_points()],
        "filaments": [fil.model_dump(mode="json") for fil in f.filaments],
    }


def describe_segmentation(s):
    d = {
        "name": s.name,
        "user_id": s.user_id,
        "session_id": s.session_id,
        "voxel_size": s.voxel_size,
        "is_multilabel": s.is_multilabel,
        "is_instance": s.is_instance,
        "is_panoptic": s.is_panoptic,
        "segmentation_type": s.segmentation_type,
        "from_tool": s.from_tool,
        "color": attempt(lambda: list(s.color)),
    }
    d.update(describe_volume(s, lambda seg, lv: seg.numpy(lv)))
    d["region"] = region(s, lambda: s.numpy(x=slice(0, 3), y=slice(1, 4), z=slice(2, 5)))
    if not full(s):
        pass
    elif s.is_panoptic:
        d["channels"] = {str(c): attempt(lambda c=c: array_summary(s.numpy(channel=c))) for c in ("label", 1)}
    elif isinstance(d["store"], dict) and d["store"]["levels"]:
        # (On a store without data copick 1.31 raises KeyError('0') before it looks at channel.)
        d["channel_on_non_panoptic"] = attempt(lambda: s.numpy(channel=0))
    return d


def ids(items):
    return sorted(
        [x.pickable_object_name, x.user_id, x.session_id, str(getattr(x, "read_only", None))] for x in items
    )


def seg_ids(items):
    return sorted(
        [
            x.name,
            x.user_id,
            x.session_id,
            x.voxel_size,
            x.segmentation_type,
            str(getattr(x, "read_only", None)),
        ]
        for x in items
    )


def queries(run):
    q = {
        "get_voxel_spacing_int_10": attempt(lambda: getattr(run.get_voxel_spacing(10), "voxel_size", None)),
        "get_voxel_spacing_10.0001": attempt(lambda: run.get_voxel_spacing(10.0001) is None),
        "get_voxel_spacing_7.84": attempt(lambda: getattr(run.get_voxel_spacing(7.84), "voxel_size", None)),
        "get_picks_objects": ids(run.get_picks(object_name=["proteasome", "ribosome"])),
        "get_picks_alice": ids(run.get_picks(user_id="alice")),
        "get_picks_tool_session": ids(run.get_picks(session_id="0")),
        "get_picks_all3": ids(run.get_picks("proteasome", "alice", "1")),
        "get_picks_int_session": attempt(lambda: run.get_picks(session_id=0)),
        "user_picks": ids(run.user_picks()),
        "tool_picks": ids(run.tool_picks()),
        "get_meshes_membrane": ids(run.get_meshes(object_name="membrane")),
        "user_meshes": ids(run.user_meshes()),
        "tool_meshes": ids(run.tool_meshes()),
        "get_segmentations_default": seg_ids(run.get_segmentations()),
        "get_segmentations_all_types": seg_ids(run.get_segmentations(is_instance=None, is_panoptic=None)),
        "get_segmentations_instance": seg_ids(run.get_segmentations(is_instance=True)),
        "get_segmentations_multilabel": seg_ids(run.get_segmentations(is_multilabel=True)),
        "get_segmentations_7.84": seg_ids(run.get_segmentations(voxel_size=7.84)),
        "get_segmentations_name_user": seg_ids(run.get_segmentations(user_id="alice", name="proteasome")),
        "get_segmentations_positional": seg_ids(run.get_segmentations("pytom", "0")),
        "user_segmentations": seg_ids(run.user_segmentations()),
        "tool_segmentations": seg_ids(run.tool_segmentations()),
    }
    # copick 1.31 raises TypeError for an int voxel_size here; ours accepts it (README difference 10).
    q["get_segmentations_int_10"] = attempt(lambda: seg_ids(run.get_segmentations(voxel_size=10)))
    q["get_segmentations_10.0"] = seg_ids(run.get_segmentations(voxel_size=10.0))
    return q


def describe_run(run):
    return {
        "name": run.name,
        "voxel_spacings": sorted(
            (describe_voxel_spacing(vs) for vs in run.voxel_spacings), key=lambda v: v["voxel_size"]
        ),
        "picks": sorted(
            (describe_picks(p) for p in run.picks),
            key=lambda p: (p["object"], p["user_id"], p["session_id"], str(p["read_only"])),
        ),
        "meshes": sorted(
            (describe_mesh(m) for m in run.meshes),
            key=lambda m: (m["object"], m["user_id"], m["session_id"], str(m["read_only"])),
        ),
        "filaments": sorted(
            (describe_filaments(f) for f in run.filaments),
            key=lambda f: (f["object"], f["user_id"], f["session_id"], str(f["read_only"])),
        ),
        "segmentations": sorted(
            (describe_segmentation(s) for s in run.segmentations),
            key=lambda s: (
                s["segmentation_type"],
                s["name"],
                s["user_id"],
                s["session_id"],
                s["voxel_size"],
                str(s["read_only"]),
            ),
        ),
        "queries": queries(run),
        "listing_order": {
            "picks": [[p.pickable_object_name, p.user_id, p.session_id] for p in run.picks],
            "meshes": [[m.pickable_object_name, m.user_id, m.session_id] for m in run.meshes],
            "filaments": [[f.pickable_object_name, f.user_id, f.session_id] for f in run.filaments],
            "segmentations": [[s.name, s.user_id, s.session_id, s.voxel_size] for s in run.segmentations],
        },
    }


def describe(config_path):
    root = copick.from_file(config_path)
    cfg = root.config
    out = {
        "config": {
            "name": cfg.name,
            "description": cfg.description,
            "user_id": cfg.user_id,
            "session_id": cfg.session_id,
            "pickable_objects": [o.model_dump(mode="json") for o in cfg.pickable_objects],
        },
        "root_lookups": {
            "get_run_TS_001_before_listing": getattr(root.get_run("TS_001"), "name", None),
            "get_run_missing": root.get_run("missing") is None,
            "get_object_missing": root.get_object("missing") is None,
        },
        "objects": sorted((describe_object(o) for o in root.pickable_objects), key=lambda o: o["name"]),
        "run_names": [r.name for r in root.runs],
        "runs": [describe_run(r) for r in root.runs],
    }
    return out


if __name__ == "__main__":
    print(json.dumps({path: describe(path) for path in sys.argv[1:]}, sort_keys=True))
