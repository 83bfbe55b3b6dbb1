"""Interop writer: the same text runs under our copick and under copick 1.31.0.

    python write_project.py base PROJECT_DIR [PROJECT_DIR ...]
    python write_project.py overlay PROJECT_DIR [PROJECT_DIR ...]

``base`` creates ``PROJECT_DIR/copick_config.json`` with ``copick.new_config`` and writes every
entity kind into ``PROJECT_DIR/layer`` (the project's only root); it also saves the config after
``root.new_object`` as ``PROJECT_DIR/saved_config.json``.

``overlay`` expects ``PROJECT_DIR/static`` (a copy of the ``layer`` written by ``base``) and
``PROJECT_DIR/base_saved_config.json`` (its ``saved_config.json``); it writes
``PROJECT_DIR/copick_config.json`` with ``static_root=PROJECT_DIR/static`` and
``overlay_root=PROJECT_DIR/layer``, then writes
new entities into the overlay, including features of a static tomogram and a second copy (same
identity) of a few static entities, copied file by file as another tool would.

Only the public API of API.md is used (plus plain zarr 2-style calls on ``.zarr()`` stores, as
plugins do). Everything is deterministic (seeded RNG). The script prints one JSON object mapping
each PROJECT_DIR to the outcome of each call whose result (value or exception category) the test
compares. Several projects are written by one process only to save interpreter start-ups.
"""

import json
import shutil
import sys
import warnings
from pathlib import Path

import numcodecs
import numpy as np
import trimesh
import zarr

import copick
from copick.models import CopickLocation, CopickPoint, PickableObject

warnings.simplefilter("ignore")  # sanitiser UserWarnings and zarr deprecations are not compared here
# Single-threaded Blosc: with threads, Blosc may order its blocks differently from run to run (same
# data, other bytes); without, chunk files of both implementations can be compared byte for byte.
numcodecs.blosc.use_threads = False

EVENTS = {}  # label -> outcome, for the project being written
BUILTIN_ERRORS = (PermissionError, FileNotFoundError, KeyError, TypeError, ValueError, AttributeError)


def outcome(label, fn):
    """Record ``fn()``'s outcome: ``ok`` or the builtin category of the exception it raised.

    Our errors are subclasses of the builtin type copick 1.31 raises (README difference 11), so the
    category is the first builtin base in ``BUILTIN_ERRORS`` order; anything else keeps its own
    qualified name (e.g. zarr's ``ReadOnlyError``, see README difference 13).
    """
    try:
        fn()
        EVENTS[label] = "ok"
    except Exception as exc:
        for base in BUILTIN_ERRORS:
            if isinstance(exc, base):
                EVENTS[label] = "raise:" + base.__name__
                break
        else:
            EVENTS[label] = f"raise:{type(exc).__module__}.{type(exc).__qualname__}"


def volume(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def rotation(a, b, c, shift):
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rz1 = np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rz2 = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    mat = np.eye(4)
    mat[:3, :3] = rz1 @ ry @ rz2
    mat[:3, 3] = shift
    return mat


def plugin_features(features, data, chunks):
    """Write a single-level feature map the way plugins do: zarr 2 API on ``features.zarr()``."""
    # zarr 3 creates format-3 nodes unless told otherwise (README Differences 30); zarr 2 has no such option
    v2 = {"zarr_format": 2} if zarr.__version__.startswith("3") else {}
    group = zarr.open(features.zarr(), mode="a", **v2)
    arr = group.create_dataset(
        "0",
        shape=data.shape,
        dtype="float32",
        chunks=chunks,
        compressor=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=2),
        overwrite=True,
    )
    arr[:] = data
    spatial = [{"name": n, "type": "space", "unit": "angstrom"} for n in "zyx"]
    axes = ([{"name": "c", "type": "channel"}] if data.ndim == 4 else []) + spatial
    scale = ([1.0] if data.ndim == 4 else []) + [features.tomogram.voxel_spacing.voxel_size] * 3
    group.attrs["multiscales"] = [
        {
            "axes": axes,
            "datasets": [{"coordinateTransformations": [{"scale": scale, "type": "scale"}], "path": "0"}],
            "metadata": {"plugin": "interop"},
            "name": "/",
            "version": "0.4",
        }
    ]


def write_base(project):
    objects = [
        PickableObject(
            name="proteasome",
            is_particle=True,
            label=1,
            color=(255, 0, 0, 255),
            emdb_id="1234",
            pdb_id="3J9I",
            identifier="GO:0000502",
            map_threshold=0.0418,
            radius=60.0,
        ),
        PickableObject(name="ribosome", is_particle=True, label=2, color=(0, 255, 0, 255), radius=150.5),
        PickableObject(name="membrane", is_particle=False, label=3, color=(0, 0, 255, 128)),
        PickableObject(
            name="actin", is_particle=True, label=4, metadata={"copick": {"filament": {"polar": True}}}
        ),
    ]
    root = copick.new_config(
        str(project / "copick_config.json"),
        overlay_root=str(project / "layer"),
        proj_name="interop project",
        proj_description="written by tests/interop/write_project.py",
        pickable_objects=objects,
    )
    root.new_object("apo-ferritin", True, identifier="GO:0070288", radius=65, metadata={"src": {"k": [1, 2]}})
    root.save_config(str(project / "saved_config.json"))

    # Object maps: one at 10 A, one at 7.84 A.
    root.get_object("proteasome").from_numpy(volume((24, 24, 24), 1), 10.0)
    root.get_object("ribosome").from_numpy(volume((20, 18, 16), 2, scale=3.0), 7.84)

    ts1, ts2, ts100 = root.new_run("TS_001"), root.new_run("TS_002"), root.new_run("TS_100")

    # TS_001: two spacings, tomograms with pyramids, features, set_region.
    vs10 = ts1.new_voxel_spacing(10.0)
    wbp = vs10.new_tomogram("wbp")
    wbp.from_numpy(volume((32, 48, 40), 3))  # copick defaults: 3 levels, float32
    denoised = vs10.new_tomogram("denoised")
    denoised.from_numpy(volume((33, 45, 51), 4).astype(np.float64), levels=2)  # odd sizes, cast
    denoised.set_region(np.full((4, 5, 6), 7.5, np.float32), "0", x=slice(2, 8), y=slice(1, 6), z=slice(0, 4))
    vs10.new_tomogram("my_type").from_numpy(volume((8, 8, 8), 5), levels=1)  # sanitised: my-type
    plugin_features(wbp.new_features("sobel"), volume((32, 48, 40), 6), (16, 16, 16))
    plugin_features(wbp.new_features("gabor"), volume((3, 32, 48, 40), 7), (1, 16, 32, 32))
    vs784 = ts1.new_voxel_spacing(7.84)
    vs784.new_tomogram("wbp").from_numpy(volume((17, 23, 29), 8))

    # TS_002: a 2-level integer tomogram (means cast to int16).
    ts2.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(
        volume((16, 20, 24), 9, scale=1000.0), levels=2, dtype=np.int16
    )
    ts100.new_voxel_spacing(10.0)  # a spacing without tomograms

    # Picks: several users and sessions, transforms, scores, instance ids, an empty set.
    rng = np.random.default_rng(10)
    pos = rng.uniform(0, 500, (10, 3))
    mats = np.stack([rotation(*rng.uniform(0, 6.28, 3), rng.uniform(-3, 3, 3)) for _ in range(10)])
    ids = np.arange(1, 11)
    scores = rng.uniform(0, 1, 10)
    ts1.new_picks("proteasome", "1", user_id="alice").from_numpy(pos, mats, ids, scores)
    bob = ts1.new_picks("ribosome", "2", user_id="bob")
    bob.points = [
        CopickPoint(location=CopickLocation(x=1.5 * i, y=2.25 * i, z=100.0 - i), instance_id=i, score=0.5)
        for i in range(4)
    ]
    bob.store()
    ts1.new_picks("proteasome", "0", user_id="pytom").from_numpy(rng.uniform(0, 500, (6, 3)).tolist())
    ts1.new_picks("apo-ferritin", "1", user_id="alice")  # empty, stored by new_picks
    ts1.new_picks("ribosome", "0", user_id="good_picker").from_numpy(rng.uniform(0, 500, (3, 3)))
    ts1.new_picks("membrane", "2", user_id="alice").from_numpy(
        rng.uniform(0, 500, (3, 3)), scores=np.array([0.1, 0.2, 0.3])
    )
    root.user_id = "carol"
    ts1.new_picks("proteasome", "3").from_numpy(rng.uniform(0, 500, (2, 3)))  # user from the config
    ts2.new_picks("proteasome", "1", user_id="alice").from_numpy(rng.uniform(0, 500, (5, 3)))
    ts100.new_picks("ribosome", "1", user_id="bob").from_numpy(np.zeros((0, 3)))

    # Meshes: two icospheres and a placeholder.
    membrane = ts1.new_mesh("membrane", "1", user_id="alice")
    membrane.mesh = trimesh.creation.icosphere(subdivisions=1, radius=50.0).apply_translation((100, 200, 300))
    membrane.store()
    ts1.new_mesh("proteasome", "2", user_id="bob")
    ribo = ts2.new_mesh("ribosome", "0", user_id="pytom")
    ribo.mesh = trimesh.creation.icosphere(subdivisions=2, radius=30.0)
    ribo.store()

    # Filaments: plain polylines with per-filament fields, and curves sampled from control points.
    ts1.new_filaments("actin", "1", user_id="alice").from_numpy(
        [rng.uniform(0, 500, (4, 3)), rng.uniform(0, 500, (2, 3))],
        instance_ids=[3, 7],
        polarity_known=[True, False],
        scores=[0.25, 1.0],
        radii=[35.0, None],
        voxel_spacing=10.0,
        metadata=[{"note": "first"}, None],
    )
    ts2.new_filaments("actin", "0", user_id="tracer").from_control_points(
        [np.array([[0.0, 0.0, 0.0], [100.0, 20.0, 0.0], [200.0, 0.0, 30.0]]), rng.uniform(0, 300, (4, 3))],
        step=12.5,
    )
    outcome("new_filaments_duplicate", lambda: ts1.new_filaments("actin", "1", user_id="alice"))

    # Segmentations: binary, multilabel (uint8 and uint16), pyramids, instance, panoptic, empty.
    zz, yy, xx = np.mgrid[0:32, 0:48, 0:40]
    ball = (zz - 16) ** 2 + (yy - 20) ** 2 + (xx - 22) ** 2 < 100
    ts1.new_segmentation(10.0, "proteasome", "1", user_id="alice").from_numpy(ball)
    labels = ((zz // 8 + yy // 12 + xx // 10) % 5).astype(np.int64)
    ts1.new_segmentation(10.0, "segmentation", "0", True, user_id="pytom").from_numpy(labels, levels=2)
    big = (labels * 75).astype(np.float64)  # max 300 -> uint16
    ts1.new_segmentation(10.0, "big_labels", "1", True, user_id="alice").from_numpy(big)
    odd = (volume((17, 23, 29), 11) > 0.5).astype(np.float32)
    ts1.new_segmentation(7.84, "ribosome", "2", user_id="bob").from_numpy(odd, levels=3)
    inst = ((zz // 8) * 10 + xx // 10)[:16, :20, :24].astype(np.int32)
    ts2.new_segmentation(10.0, "proteasome", "1", user_id="alice", is_instance=True).from_numpy(inst)
    stray = np.stack([np.zeros_like(inst), inst])  # instance ids on background (label 0)
    outcome(
        "panoptic_instances_on_background",
        lambda: ts2.new_segmentation(10.0, "stray", "1", user_id="alice", is_panoptic=True).from_numpy(stray),
    )
    unknown = np.stack([np.full_like(inst, 99), inst])  # 99: no pickable object has this label
    outcome(
        "panoptic_unknown_label",
        lambda: ts2.new_segmentation(
            10.0, "stray", "1", user_id="alice", is_panoptic=True, exist_ok=True
        ).from_numpy(unknown),
    )
    ts2.delete_segmentations(name="stray", is_panoptic=True)
    pan = np.stack([np.where(inst > 0, inst % 3 + 1, 0).astype(np.int64), inst])
    scene = ts2.new_segmentation(10.0, "scene", "1", user_id="alice", is_panoptic=True)
    scene.from_numpy(pan)
    one = (slice(0, 1),) * 3
    outcome(
        "panoptic_set_region_unknown_label",
        lambda: scene.set_region(np.full((1, 1, 1), 99), channel=0, x=one[0], y=one[1], z=one[2]),
    )
    outcome(
        "panoptic_set_region_instance_on_background",
        lambda: scene.set_region(np.full((1, 1, 1), 5), channel=1, x=one[0], y=one[1], z=one[2]),
    )
    scene.from_numpy(pan)  # whatever the two calls above did
    ts100.new_segmentation(10.0, "ribosome", "1", user_id="alice")  # created, never written


def write_overlay(project):
    static_layer = project / "static"
    base_cfg = json.loads((project / "base_saved_config.json").read_text())
    cfg = {
        "config_type": "filesystem",
        "name": "interop layered project",
        "description": "static layer + overlay",
        "version": "1.31.0",
        "pickable_objects": base_cfg["pickable_objects"],
        "user_id": "alice",
        "session_id": "1",
        "overlay_root": "local://" + str(project / "layer"),
        "overlay_fs_args": {"auto_mkdir": True},
        "static_root": "local://" + str(static_layer),
        "static_fs_args": {},
    }
    project.mkdir(parents=True, exist_ok=True)
    (project / "copick_config.json").write_text(json.dumps(cfg, indent=4))
    root = copick.from_file(str(project / "copick_config.json"))
    overlay = project / "layer"

    # Objects: proteasome's map is static (read-only); apo-ferritin gets one in the overlay.
    outcome(
        "object_static_from_numpy",
        lambda: root.get_object("proteasome").from_numpy(volume((4, 4, 4), 1), 10.0),
    )
    root.get_object("apo-ferritin").from_numpy(volume((12, 12, 12), 20), 10.0)

    # A run only in the overlay.
    ts3 = root.new_run("TS_003")
    ts3.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(volume((16, 16, 16), 21), levels=2)
    ts3.new_picks("ribosome", "1").from_numpy(np.array([[1.0, 2.0, 3.0]]))
    outcome("new_run_static_duplicate", lambda: root.new_run("TS_001"))

    ts1 = root.get_run("TS_001")
    vs10 = ts1.get_voxel_spacing(10.0)
    static_wbp = vs10.get_tomograms("wbp")[0]
    outcome("tomogram_static_from_numpy", lambda: static_wbp.from_numpy(volume((4, 4, 4), 1)))
    outcome("new_tomogram_static_duplicate", lambda: vs10.new_tomogram("wbp"))
    outcome("new_voxel_spacing_static_duplicate", lambda: ts1.new_voxel_spacing(10.0))
    plugin_features(static_wbp.new_features("edges"), volume((32, 48, 40), 22), (32, 32, 32))
    vs10.new_tomogram("isonet").from_numpy(volume((16, 24, 20), 23), levels=1)

    # Picks: new overlay sets; the static duplicate; exist_ok returns the read-only static set.
    ts1.new_picks("proteasome", "2").from_numpy(np.array([[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]]))
    outcome("new_picks_static_duplicate", lambda: ts1.new_picks("proteasome", "1", user_id="alice"))
    static_picks = ts1.new_picks("proteasome", "1", user_id="alice", exist_ok=True)
    outcome("picks_static_from_numpy", lambda: static_picks.from_numpy(np.zeros((1, 3))))
    outcome("picks_static_store", static_picks.store)
    outcome("picks_static_delete", static_picks.delete)
    static_mesh = ts1.get_meshes(object_name="membrane")[0]
    outcome("mesh_static_store", static_mesh.store)
    outcome("segmentation_static_delete", lambda: ts1.get_segmentations(name="proteasome")[0].delete())
    static_filaments = ts1.get_filaments(object_name="actin")[0]
    outcome("filaments_static_store", static_filaments.store)
    outcome("filaments_static_delete", static_filaments.delete)
    ts1.new_filaments("actin", "2").from_numpy([np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])])
    mesh = ts1.new_mesh("ribosome", "1")
    mesh.mesh = trimesh.creation.box(extents=(10.0, 20.0, 30.0))
    mesh.store()
    ts1.new_segmentation(10.0, "ribosome", "2").from_numpy(np.ones((4, 5, 6), np.uint8))

    # A spacing that exists only in the overlay, under a run that exists in static.
    ts2 = root.get_run("TS_002")
    ts2.new_voxel_spacing(7.84).new_tomogram("wbp").from_numpy(volume((9, 10, 11), 24), levels=2)

    # Second copies of static entities, written into the overlay by a file copy.
    static_run, overlay_run = static_layer / "ExperimentRuns", overlay / "ExperimentRuns"
    for rel in (
        "TS_001/Picks/bob_2_ribosome.json",
        "TS_001/Meshes/alice_1_membrane.glb",
        "TS_002/VoxelSpacing10.000/.meta",
    ):
        (overlay_run / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(static_run / rel, overlay_run / rel)
    for rel in ("TS_002/VoxelSpacing10.000/wbp.zarr", "TS_001/Segmentations/10.000_alice_1_proteasome.zarr"):
        shutil.copytree(static_run / rel, overlay_run / rel)


def main(argv):
    mode, projects = argv[0], argv[1:]
    results = {}
    for project in projects:
        EVENTS.clear()
        (write_base if mode == "base" else write_overlay)(Path(project))
        results[project] = dict(EVENTS)
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
