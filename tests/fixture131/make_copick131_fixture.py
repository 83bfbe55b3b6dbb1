#!/usr/bin/env python
"""Write the copick 1.31.0 reference fixture project and its expected-values manifest.

Usage (with a Python environment that has copick==1.31.0 installed):

    python make_copick131_fixture.py OUTDIR

OUTDIR is (re)created. Everything is written through copick's public API
(copick.new_config, root.new_run, run.new_voxel_spacing, vs.new_tomogram,
tomogram.from_numpy, tomogram.new_features, run.new_picks, picks.from_numpy,
run.new_mesh, run.new_segmentation, segmentation.from_numpy,
root.get_object(...).from_numpy). Feature maps have no from_numpy in copick, so
their pyramid is written with copick.util.ome.write_ome_zarr_3d into the store
returned by features.zarr() (the same writer copick uses for tomograms).

All data is deterministic (fixed RNG seed, quantised values so that it
compresses well). After writing, the manifest (expected.json) is produced by
re-opening the project with a fresh copick root and reading everything back.

The configs are written by copick with absolute roots and then rewritten to
paths relative to the directory holding the config file ("local://." etc.),
so that the committed fixture contains no machine-specific path. copick itself
resolves relative roots against the *current working directory*; see README.md.
"""

import hashlib
import json
import os
import shutil
import sys
import warnings

# Byte-for-byte reproducible chunk files: multithreaded Blosc may store its blocks in a different
# order from run to run (same decoded data, different bytes). This changes nothing in the format.
import numcodecs
import numpy as np

import copick
from copick.impl.filesystem import CopickConfigFSSpec, CopickRootFSSpec
from copick.models import PickableObject
from copick.util.ome import volume_pyramid, write_ome_zarr_3d

numcodecs.blosc.use_threads = False

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

SEED = 131

# ---------------------------------------------------------------------------
# Pickable objects
# ---------------------------------------------------------------------------

OBJECTS = [
    PickableObject(
        name="proteasome",
        is_particle=True,
        pdb_id="3J9I",
        emdb_id="1234",
        identifier="GO:0000502",
        label=1,
        color=(255, 0, 0, 255),
        radius=60,
        map_threshold=0.0418,
    ),
    PickableObject(
        name="ribosome",
        is_particle=True,
        pdb_id="4V9D",
        emdb_id="EMD-5678",
        identifier="GO:0022626",
        label=2,
        color=(0, 255, 0, 255),
        radius=150.5,
        map_threshold=0.25,
    ),
    PickableObject(
        name="membrane",
        is_particle=False,
        identifier="GO:0016020",
        label=3,
        color=(0, 0, 255, 128),
    ),
    # color, radius, pdb/emdb ids left to their defaults on purpose; metadata set.
    PickableObject(
        name="apo-ferritin",
        is_particle=True,
        go_id="UniProtKB:P02794",  # the go_id alias is accepted on input, dumped as "identifier"
        label=4,
        radius=65,
        metadata={
            "source": "experimental_data",
            "confidence": 0.95,
            "notes": "High-resolution structure",
            "nested": {"tags": ["a", "b"], "count": 2},
        },
    ),
]


# ---------------------------------------------------------------------------
# Deterministic synthetic data
# ---------------------------------------------------------------------------


def quantise(a, step=1.0 / 16.0):
    return (np.round(a / step) * step).astype(np.float32)


def blob_volume(shape, centers_zyx, sigma, rng, noise=0.05):
    zz, yy, xx = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    vol = np.zeros(shape, dtype=np.float64)
    for cz, cy, cx in centers_zyx:
        vol += np.exp(-((zz - cz) ** 2 + (yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    vol += 0.1 * (zz / shape[0]) - 0.05 * (xx / shape[2])
    vol += noise * rng.standard_normal(shape)
    return quantise(vol)


def sobel_magnitude(vol):
    g = np.gradient(vol.astype(np.float64))
    return quantise(np.sqrt(sum(c**2 for c in g)), step=1.0 / 32.0)


def sphere_mask(shape, centers_zyx, radius_vox):
    zz, yy, xx = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    m = np.zeros(shape, dtype=bool)
    for cz, cy, cx in centers_zyx:
        m |= ((zz - cz) ** 2 + (yy - cy) ** 2 + (xx - cx) ** 2) <= radius_vox**2
    return m


def rot_z(deg):
    t = np.deg2rad(deg)
    m = np.eye(4)
    m[0, 0], m[0, 1], m[1, 0], m[1, 1] = np.cos(t), -np.sin(t), np.sin(t), np.cos(t)
    return m


# ---------------------------------------------------------------------------
# Config helpers
# ---------------------------------------------------------------------------


def relativise_config(config_path, mapping):
    """Replace absolute root URLs in a config by ones relative to the config's directory."""
    with open(config_path) as f:
        data = json.load(f)
    for key, rel in mapping.items():
        data[key] = rel
    with open(config_path, "w") as f:
        json.dump(data, f, indent=4)


def open_with_roots(config_path, roots):
    """Open a config whose relative roots are resolved against the config's directory."""
    with open(config_path) as f:
        data = json.load(f)
    base = os.path.dirname(os.path.abspath(config_path))
    for key in roots:
        url = data[key]
        assert url.startswith("local://")
        data[key] = "local://" + os.path.normpath(os.path.join(base, url[len("local://") :]))
    return CopickRootFSSpec(CopickConfigFSSpec(**data))


# ---------------------------------------------------------------------------
# Main project
# ---------------------------------------------------------------------------


def write_main_project(outdir, rng):
    cfg_path = os.path.join(outdir, "copick_config.json")
    root = copick.new_config(
        cfg_path,
        overlay_root=os.path.abspath(outdir),
        proj_name="copick131 reference fixture",
        proj_description="Small deterministic project written by copick 1.31.0.",
        pickable_objects=OBJECTS,
    )

    # ---- Object density map (Objects/proteasome.zarr), one level, float32
    zz, yy, xx = np.meshgrid(*[np.arange(24, dtype=np.float64)] * 3, indexing="ij")
    r2 = (zz - 11.5) ** 2 + (yy - 11.5) ** 2 + (xx - 11.5) ** 2
    density = quantise(np.exp(-r2 / (2 * 4.0**2)) - 0.2 * np.exp(-r2 / (2 * 8.0**2)))
    root.get_object("proteasome").from_numpy(density, voxel_size=10.0)

    # ---- Runs
    ts1 = root.new_run("TS_001")
    ts2 = root.new_run("TS_002")
    ts100 = root.new_run("TS_100")

    # TS_001 @ 10.000: wbp + denoised, 64x96x80, 3 levels; sobel features on wbp.
    # wbp goes through tomogram.from_numpy (copick defaults: 3 levels, float32, 256^3 chunks).
    # The other volumes use copick's own pyramid/writer functions with smaller chunks, so that the
    # fixture stays small and also contains multi-chunk arrays (edge chunks included).
    shape = (64, 96, 80)
    centers = [(20, 30, 25), (40, 60, 50), (32, 48, 40), (10, 80, 70), (50, 20, 15)]
    vs10 = ts1.new_voxel_spacing(10.0)
    wbp = blob_volume(shape, centers, sigma=4.0, rng=rng, noise=0.03)
    denoised = blob_volume(shape, centers, sigma=4.0, rng=rng, noise=0.0)
    vs10.new_tomogram("wbp").from_numpy(wbp)  # default: levels=3, float32, chunks (256,256,256)
    write_ome_zarr_3d(
        vs10.new_tomogram("denoised").zarr(), volume_pyramid(denoised, 10.0, 3), chunk_size=(32, 64, 64)
    )
    feat = vs10.get_tomograms("wbp")[0].new_features("sobel")
    write_ome_zarr_3d(feat.zarr(), volume_pyramid(sobel_magnitude(wbp), 10.0, 1), chunk_size=(64, 64, 64))

    # TS_001 @ 7.84: odd-shaped wbp, 3 levels (ceil-halving of downscale_local_mean).
    vs784 = ts1.new_voxel_spacing(7.84)
    odd_shape = (33, 45, 51)
    odd = blob_volume(odd_shape, [(16, 22, 25)], sigma=3.0, rng=rng, noise=0.0)
    write_ome_zarr_3d(vs784.new_tomogram("wbp").zarr(), volume_pyramid(odd, 7.84, 3), chunk_size=(32, 32, 32))

    # TS_002 @ 10.000: small wbp, 3 levels.
    vs10b = ts2.new_voxel_spacing(10.0)
    small = (32, 48, 40)
    sm = blob_volume(small, [(16, 24, 20)], sigma=3.0, rng=rng, noise=0.0)
    write_ome_zarr_3d(vs10b.new_tomogram("wbp").zarr(), volume_pyramid(sm, 10.0, 3), chunk_size=(32, 32, 32))

    # TS_100: a voxel spacing directory without any tomogram.
    ts100.new_voxel_spacing(10.0)

    # ---- Picks (locations in Angstrom, x/y/z)
    # alice/1/proteasome: transforms, instance ids and scores
    pos = np.array([[c[2] * 10.0, c[1] * 10.0, c[0] * 10.0] for c in centers], dtype=np.float64)
    pos += np.round(rng.uniform(-4, 4, size=pos.shape), 2)
    tr = np.stack([rot_z(a) for a in (0.0, 30.0, 45.0, 90.0, 180.0)])
    tr[1, :3, 3] = [1.5, -2.0, 0.25]  # a refined shift in the translation column
    p = ts1.new_picks("proteasome", session_id="1", user_id="alice")
    p.from_numpy(
        pos, tr, instance_ids=np.array([1, 2, 3, 4, 5]), scores=np.array([0.9, 0.8, 0.75, 0.5, 0.125])
    )

    # bob/2/ribosome: plain points via the CopickPoint model (defaults for everything but location)
    from copick.models import CopickLocation, CopickPoint

    p = ts1.new_picks("ribosome", session_id="2", user_id="bob")
    p.points = [
        CopickPoint(location=CopickLocation(x=100.0, y=200.0, z=300.0)),
        CopickPoint(location=CopickLocation(x=110.5, y=210.25, z=310.125), score=0.5),
        CopickPoint(location=CopickLocation(x=790.0, y=950.0, z=630.0), instance_id=7),
    ]
    p.store()

    # good.picker/0/proteasome: a "tool" pick set (session 0), user id containing a dot
    p = ts1.new_picks("proteasome", session_id="0", user_id="good.picker")
    p.from_numpy(
        np.array([[250.0, 300.0, 200.0], [500.0, 600.0, 400.0], [150.0, 800.0, 100.0], [700.0, 200.0, 500.0]])
    )

    # alice/1/apo-ferritin: an empty picks file (new_picks stores immediately)
    ts1.new_picks("apo-ferritin", session_id="1", user_id="alice")

    # TS_002 and TS_100 picks
    p = ts2.new_picks("ribosome", session_id="2", user_id="bob")
    p.from_numpy(np.array([[160.0, 240.0, 200.0], [50.0, 60.0, 70.0]]), scores=np.array([0.3, 0.7]))
    p = ts100.new_picks("ribosome", session_id="0", user_id="pytom")
    p.from_numpy(np.array([[1.0, 2.0, 3.0]]), instance_ids=np.array([42]))

    # ---- Mesh (GLB), alice/1/membrane on TS_001
    import trimesh

    sphere = trimesh.creation.icosphere(subdivisions=1, radius=100.0)
    sphere.apply_translation([400.0, 480.0, 320.0])
    m = ts1.new_mesh("membrane", session_id="1", user_id="alice")
    m.mesh = sphere.scene() if hasattr(sphere, "scene") else trimesh.Scene(sphere)
    m.store()

    # ---- Segmentations on TS_001
    # binary (single label) membrane slab, 64x96x80, 1 level (default), uint8 (auto)
    seg_bin = np.zeros(shape, dtype=np.uint8)
    seg_bin[28:34, :, :] = 1
    s = ts1.new_segmentation(voxel_size=10.0, name="membrane", session_id="1", user_id="alice")
    s.from_numpy(seg_bin)

    # multilabel: labels 1..4 (object labels), background 0
    ml = np.zeros(shape, dtype=np.uint8)
    ml[28:34, :, :] = 3
    ml[sphere_mask(shape, centers[:3], 5)] = 1
    ml[sphere_mask(shape, centers[3:], 6)] = 2
    ml[sphere_mask(shape, [(56, 10, 10)], 4)] = 4
    s = ts1.new_segmentation(
        voxel_size=10.0, name="segmentation", session_id="0", user_id="pytom", is_multilabel=True
    )
    s.from_numpy(ml)

    # binary at 7.84 with an explicit 3-level pyramid on an odd shape (nearest-neighbour rescale)
    seg_odd = sphere_mask(odd_shape, [(16, 22, 25)], 8).astype(np.uint8)
    s = ts1.new_segmentation(voxel_size=7.84, name="ribosome", session_id="2", user_id="bob")
    s.from_numpy(seg_odd, levels=3)

    # instance and panoptic segmentations (copick 1.31 extensions) on TS_002
    inst = np.zeros(small, dtype=np.uint16)
    inst[sphere_mask(small, [(8, 12, 10)], 4)] = 1
    inst[sphere_mask(small, [(24, 36, 30)], 4)] = 2
    s = ts2.new_segmentation(
        voxel_size=10.0, name="proteasome", session_id="1", user_id="alice", is_instance=True
    )
    s.from_numpy(inst)
    lab = np.zeros(small, dtype=np.uint16)
    lab[inst > 0] = 1
    lab[14:18, :, :] = 3
    pan_inst = np.where(lab == 1, inst, 0).astype(np.uint16)
    s = ts2.new_segmentation(voxel_size=10.0, name="scene", session_id="1", user_id="alice", is_panoptic=True)
    s.from_numpy(np.stack([lab, pan_inst]))

    relativise_config(cfg_path, {"overlay_root": "local://."})
    return cfg_path


# ---------------------------------------------------------------------------
# Overlay variant: static (read-only) root + overlay (writable) root
# ---------------------------------------------------------------------------


def write_overlay_variant(vdir, rng):
    static_dir = os.path.join(vdir, "static")
    overlay_dir = os.path.join(vdir, "overlay")
    os.makedirs(vdir, exist_ok=True)

    # 1) populate the static root through a plain (single-root) project
    tmp_cfg = os.path.join(vdir, "_static_writer.json")
    st = copick.new_config(tmp_cfg, overlay_root=os.path.abspath(static_dir), pickable_objects=OBJECTS)
    small = (16, 24, 20)
    r1 = st.new_run("TS_001")
    vs = r1.new_voxel_spacing(10.0)
    vol = blob_volume(small, [(8, 12, 10)], sigma=3.0, rng=rng, noise=0.0)
    write_ome_zarr_3d(vs.new_tomogram("wbp").zarr(), volume_pyramid(vol, 10.0, 3), chunk_size=(16, 16, 16))
    r1.new_picks("proteasome", session_id="0", user_id="good.picker").from_numpy(
        np.array([[100.0, 100.0, 100.0], [200.0, 200.0, 200.0]]),
    )
    r2 = st.new_run("TS_002")
    vol = blob_volume(small, [(4, 4, 4)], sigma=3.0, rng=rng, noise=0.0)
    write_ome_zarr_3d(
        r2.new_voxel_spacing(10.0).new_tomogram("denoised").zarr(),
        volume_pyramid(vol, 10.0, 3),
        chunk_size=(16, 16, 16),
    )
    zz, yy, xx = np.meshgrid(*[np.arange(16, dtype=np.float64)] * 3, indexing="ij")
    obj = quantise(np.exp(-((zz - 7.5) ** 2 + (yy - 7.5) ** 2 + (xx - 7.5) ** 2) / 18.0))
    write_ome_zarr_3d(
        st.get_object("proteasome").zarr(), volume_pyramid(obj, 10.0, 1), chunk_size=(16, 16, 16)
    )
    os.remove(tmp_cfg)

    # 2) the overlay config (static + overlay roots); written with copick's own config model
    cfg = CopickConfigFSSpec(
        config_type="filesystem",
        name="copick131 overlay fixture",
        description="Static root holds tomograms, overlay root holds picks/segmentations.",
        version=copick.__version__,
        pickable_objects=OBJECTS,
        overlay_root="local://" + os.path.abspath(overlay_dir),
        overlay_fs_args={"auto_mkdir": True},
        static_root="local://" + os.path.abspath(static_dir),
        static_fs_args={},
        user_id="alice",
        session_id="1",
    )
    cfg_path = os.path.join(vdir, "copick_config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg.model_dump(exclude_unset=True), f, indent=4)

    root = copick.from_file(cfg_path)
    run = root.get_run("TS_001")
    # picks/segmentation/features go to the overlay root (user/session from the config)
    run.new_picks("proteasome", session_id="1").from_numpy(np.array([[300.0, 310.0, 320.0]]))
    run.new_segmentation(voxel_size=10.0, name="membrane", session_id="1").from_numpy(
        np.pad(np.ones((4, 24, 20), dtype=np.uint8), ((6, 6), (0, 0), (0, 0))),
    )
    tomo = run.get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    feat = tomo.new_features("sobel")
    write_ome_zarr_3d(
        feat.zarr(), volume_pyramid(sobel_magnitude(tomo.numpy()), 10.0, 1), chunk_size=(16, 16, 16)
    )
    root.new_run("TS_003").new_picks("ribosome", session_id="1").from_numpy(np.array([[5.0, 6.0, 7.0]]))

    # 3) a duplicate: same user/session/object as a static picks file, written directly into the overlay root
    ov = copick.new_config(tmp_cfg, overlay_root=os.path.abspath(overlay_dir), pickable_objects=OBJECTS)
    ov.get_run("TS_001").new_picks("proteasome", session_id="0", user_id="good.picker").from_numpy(
        np.array([[111.0, 222.0, 333.0]]),
    )
    os.remove(tmp_cfg)

    relativise_config(cfg_path, {"overlay_root": "local://overlay", "static_root": "local://static"})
    return cfg_path


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------


def f64(x):
    return float(np.asarray(x, dtype=np.float64))


def array_summary(arr, attrs_level, n_values=4, seed=7):
    a = np.asarray(arr[...])
    d = {
        "shape": list(a.shape),
        "dtype": str(a.dtype),
        "chunks": list(arr.chunks),
        "sum": f64(a.astype(np.float64).sum()),
        "min": f64(a.min()),
        "max": f64(a.max()),
        "mean": f64(a.astype(np.float64).mean()),
        "scale": attrs_level["coordinateTransformations"][0]["scale"],
        "coordinateTransformations": attrs_level["coordinateTransformations"],
    }
    r = np.random.default_rng(seed)
    idx = [tuple(0 for _ in a.shape), tuple(n - 1 for n in a.shape), tuple(n // 2 for n in a.shape)]
    idx += [tuple(int(r.integers(0, n)) for n in a.shape) for _ in range(n_values)]
    d["values"] = [{"index": list(i), "value": a[i].item()} for i in idx]
    if a.dtype.kind in "iub":
        u, c = np.unique(a, return_counts=True)
        d["unique"] = [int(v) for v in u]
        d["counts"] = [int(v) for v in c]
    return d


def zarr_group_summary(store):
    import zarr

    g = zarr.open(store, mode="r")
    attrs = g.attrs.asdict()
    ms = attrs["multiscales"][0]
    levels = []
    for ds in ms["datasets"]:
        arr = g[ds["path"]]
        s = array_summary(arr, ds)
        s["path"] = ds["path"]
        s["zarray"] = json.loads(store[ds["path"] + "/.zarray"])
        levels.append(s)
    return {"zattrs": attrs, "zgroup": json.loads(store[".zgroup"]), "levels": levels}


def point_dict(pt):
    return {
        "location": {"x": pt.location.x, "y": pt.location.y, "z": pt.location.z},
        "transformation": pt.transformation.tolist(),
        "instance_id": pt.instance_id,
        "score": pt.score,
    }


def picks_summary(p):
    pts = p.points
    d = {
        "user_id": p.user_id,
        "session_id": p.session_id,
        "pickable_object_name": p.pickable_object_name,
        "from_tool": p.from_tool,
        "read_only": getattr(p, "read_only", None),
        "count": len(pts),
        "run_name": p.meta.run_name,
        "voxel_spacing": p.meta.voxel_spacing,
        "unit": p.meta.unit,
        "trust_orientation": p.meta.trust_orientation,
    }
    if pts:
        loc, tr = p.numpy()
        d["first_point"] = point_dict(pts[0])
        d["last_point"] = point_dict(pts[-1])
        d["locations_sum"] = f64(loc.sum())
        d["transforms_sum"] = f64(tr.sum())
        d["instance_ids"] = [int(v) for v in p.instance_ids()]
        d["scores"] = [float(v) for v in p.scores()]
    return d


def run_summary(run):
    vss = sorted(run.voxel_spacings, key=lambda v: v.voxel_size)
    out = {
        "voxel_spacings": [v.voxel_size for v in vss],
        "tomograms": {},
        "picks": [],
        "meshes": [],
        "segmentations": [],
    }
    for vs in vss:
        key = f"{vs.voxel_size:.3f}"
        out["tomograms"][key] = {}
        for t in sorted(vs.tomograms, key=lambda t: t.tomo_type):
            ts = zarr_group_summary(t.zarr())
            ts["read_only"] = getattr(t, "read_only", None)
            ts["features"] = {}
            for ft in sorted(t.features, key=lambda f: f.feature_type):
                fs = zarr_group_summary(ft.zarr())
                fs["read_only"] = getattr(ft, "read_only", None)
                ts["features"][ft.feature_type] = fs
            out["tomograms"][key][t.tomo_type] = ts
    for p in sorted(
        run.picks, key=lambda p: (p.user_id, p.session_id, p.pickable_object_name, bool(p.read_only))
    ):
        out["picks"].append(picks_summary(p))
    for m in sorted(run.meshes, key=lambda m: (m.user_id, m.session_id, m.pickable_object_name)):
        scene = m.mesh
        geoms = list(scene.geometry.values()) if hasattr(scene, "geometry") else [scene]
        verts = np.concatenate([g.vertices for g in geoms]) if geoms else np.zeros((0, 3))
        out["meshes"].append(
            {
                "user_id": m.user_id,
                "session_id": m.session_id,
                "pickable_object_name": m.pickable_object_name,
                "loaded_type": type(scene).__name__,
                "n_geometries": len(geoms),
                "vertices": int(sum(len(g.vertices) for g in geoms)),
                "faces": int(sum(len(g.faces) for g in geoms)),
                "vertex_sum": f64(verts.sum()),
                "bounds": np.asarray(scene.bounds).tolist(),
                "read_only": getattr(m, "read_only", None),
            },
        )
    for s in sorted(
        run.segmentations, key=lambda s: (s.voxel_size, s.user_id, s.session_id, s.name, s.segmentation_type)
    ):
        ss = zarr_group_summary(s.zarr())
        ss.update(
            {
                "name": s.name,
                "user_id": s.user_id,
                "session_id": s.session_id,
                "voxel_size": s.voxel_size,
                "is_multilabel": s.is_multilabel,
                "is_instance": s.is_instance,
                "is_panoptic": s.is_panoptic,
                "segmentation_type": s.segmentation_type,
                "directory": s.directory,
                "read_only": getattr(s, "read_only", None),
            },
        )
        out["segmentations"].append(ss)
    # default query behaviour: get_segmentations() hides instance/panoptic types
    out["get_segmentations_default_names"] = sorted(s.name for s in run.get_segmentations())
    return out


def object_summary(o):
    d = {
        "name": o.name,
        "is_particle": o.is_particle,
        "label": o.label,
        "color": list(o.color) if o.color is not None else None,
        "emdb_id": o.emdb_id,
        "pdb_id": o.pdb_id,
        "identifier": o.identifier,
        "map_threshold": o.map_threshold,
        "radius": o.radius,
        "metadata": o.metadata,
        "read_only": getattr(o, "read_only", None),
    }
    store = o.zarr()
    has_map = store is not None and ".zattrs" in store
    d["has_map"] = bool(has_map)
    if has_map:
        d["map"] = zarr_group_summary(store)
    return d


def list_files(base):
    out = []
    for dp, dn, fn in os.walk(base):
        dn.sort()
        for f in sorted(fn):
            full = os.path.join(dp, f)
            rel = os.path.relpath(full, base).replace(os.sep, "/")
            if rel == "expected.json":
                continue
            with open(full, "rb") as fh:
                h = hashlib.sha256(fh.read()).hexdigest()
            out.append({"path": rel, "size": os.path.getsize(full), "sha256": h})
    return sorted(out, key=lambda e: e["path"])


def project_summary(root, with_config_path):
    with open(with_config_path) as f:
        raw = json.load(f)
    return {
        "config": raw,
        "objects": [object_summary(o) for o in root.pickable_objects],
        "runs": [r.name for r in root.runs],
        "runs_detail": {r.name: run_summary(r) for r in root.runs},
    }


def main(outdir):
    from importlib.metadata import version

    import numcodecs
    import ome_zarr  # noqa: F401
    import trimesh
    import zarr

    outdir = os.path.abspath(outdir)
    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)

    rng = np.random.default_rng(SEED)
    cfg = write_main_project(outdir, rng)
    vcfg = write_overlay_variant(os.path.join(outdir, "overlay-variant"), rng)

    # Read back with fresh roots (roots resolved relative to the config file's directory)
    root = open_with_roots(cfg, ["overlay_root"])
    vroot = open_with_roots(vcfg, ["overlay_root", "static_root"])

    manifest = {
        "generator": "make_copick131_fixture.py",
        "seed": SEED,
        "versions": {
            "copick": copick.__version__,
            "zarr": zarr.__version__,
            "numpy": np.__version__,
            "numcodecs": numcodecs.__version__,
            "ome-zarr": version("ome-zarr"),
            "scikit-image": version("scikit-image"),
            "trimesh": trimesh.__version__,
            "pydantic": version("pydantic"),
            "fsspec": version("fsspec"),
        },
        "tolerance": {"sum_rtol": 1e-6, "value_atol": 1e-6},
        "notes": [
            "Lists inside runs_detail are sorted by this script (copick's own listing order is not guaranteed).",  # noqa: E501
            "Voxel-spacing keys are formatted with '%.3f'.",
            "Sums are float64 sums of the stored arrays; compare with sum_rtol.",
            "'files' lists every file of the fixture with size and sha256 (expected.json excluded).",
        ],
        "project": project_summary(root, cfg),
        "overlay_variant": project_summary(vroot, vcfg),
        "files": list_files(outdir),
    }
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")
    total = sum(e["size"] for e in manifest["files"])
    print(f"wrote {len(manifest['files'])} files, {total} bytes, to {outdir}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1])
