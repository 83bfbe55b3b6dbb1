"""RELION tables of picks: ``picks.df()`` / ``from_df()`` round trips and ``copick.util.relion`` on the
same inputs (particles and filament picks: polarity from Filaments, half sets, row order), printed
as data rounded to 1e-6.

python relion_tables.py WORK_DIR
"""

# ruff: noqa: B023  (every lambda is called at once by show(), inside its loop iteration)

import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

import copick
import copick.util.relion as r
from copick.models import FilamentSpec, PickableObject

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
work = Path(sys.argv[1])


def data(value):
    """Plain data rounded to 1e-6 (-0 as 0) for comparing two implementations' results."""
    if isinstance(value, pd.DataFrame):
        return {"columns": list(value.columns), **{c: data(value[c].tolist()) for c in value.columns}}
    if isinstance(value, dict):
        return {k: data(v) for k, v in value.items()}
    if isinstance(value, tuple | list) and not all(isinstance(v, int | float | np.number) for v in value):
        return [data(v) for v in value]
    if isinstance(value, np.ndarray | list | tuple | float | np.floating):
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            return (np.round(arr, 6) + 0.0).tolist()
        return arr.tolist()
    return value


def show(label, call):
    try:
        print(label, "->", data(call()))
    except Exception as e:  # the builtin type: ours raise subclasses of it (README, Differences 11)
        builtin = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
        print(label, "raises", builtin.__name__, e)


root = copick.new_config(
    str(work / "c.json"),
    str(work / "p"),
    pickable_objects=[
        PickableObject(name="ribo", is_particle=True, label=1),
        PickableObject(name="mt", is_particle=True, label=2),
    ],
)
root.get_object("mt").meta.set_filament(FilamentSpec(polar=True))
root.save_config(str(work / "c.json"))
root = copick.from_file(str(work / "c.json"))
run = root.new_run("TS1")
run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.zeros((30, 50, 40), np.float32), levels=1)
run.new_voxel_spacing(20.0).new_tomogram("wbp").from_numpy(np.zeros((15, 25, 20), np.float32), levels=1)
bare = root.new_run("TS2")
rng = np.random.default_rng(0)
transforms = np.tile(np.eye(4), (6, 1, 1))
transforms[:, :3, :3] = Rotation.random(6, random_state=1).as_matrix()
transforms[:, :3, 3] = rng.normal(0, 3, (6, 3))
transforms[5, :3, :3] = np.eye(3)
ribo = run.new_picks("ribo", "s1", "alice")
ribo.from_numpy(rng.uniform(0, 300, (6, 3)), transforms)
lone = bare.new_picks("ribo", "s1", "alice")
lone.from_numpy(np.ones((2, 3)) * 50)

show("center", lambda: [r.copick_tomogram_center(ribo, *a) for a in [(), (10.0,), (20.0,), (None, "x")]])
show("center bare", lambda: r.copick_tomogram_center(lone))
show("spacing", lambda: [r.get_tomogram_spacing_and_dimensions(ribo, b) for b in (False, True)])
show("spacing bare", lambda: r.get_tomogram_spacing_and_dimensions(lone))
show("normalize", lambda: r.normalize_transforms(ribo))
show("RY90", lambda: r.RY90)
for kw in [
    {},
    {"tilt_series_pixel_size": 2.5},
    {"voxel_spacing": 20.0, "tilt_series_pixel_size": 1.5},
    {"coordinates": "centered", "tilt_series_pixel_size": 2.5},
    {"tomogram_center": (1.0, 2.0, 3.0)},
    {"coordinates": "pixel"},
    {"filament": True},
    {"half_sets": "filament"},
    {"filament_angles": "x"},
]:
    show(f"ribo df {kw}", lambda: ribo.df(**kw))
for kw in [{}, {"voxel_spacing": 10.0}, {"tilt_series_pixel_size": 1.0}, {"coordinates": "centered"}]:
    show(f"bare df {kw}", lambda: lone.df(**kw))
show("format", lambda: ribo.df(format="csv"))

table = ribo.df(tilt_series_pixel_size=2.5)
table["rlnOriginXAngst"], table["rlnOriginYAngst"], table["rlnOriginZAngst"] = 1.0, -2.0, 3.0
table["rlnTomoSubtomogramRot"], table["rlnTomoSubtomogramTilt"] = 5.0, 6.0
show("poses", lambda: r.relion_rows_to_poses(table))
optics = pd.DataFrame({"rlnOpticsGroup": [1], "rlnTomoTiltSeriesPixelSize": [3.0]})
for kw in [
    {},
    {"tilt_series_pixel_size": 2.5},
    {"relion_version": "relion4"},
    {"relion_version": "relion4", "optics": optics},
    {"relion_version": "relion5", "tomogram_center": (0.0, 0.0, 0.0)},
    {"relion_version": "bogus"},
]:
    back = run.new_picks("ribo", "back", "bob", exist_ok=True)
    show(f"from_df {kw}", lambda: (back.from_df(table, **kw), back.numpy(), back.instance_ids())[1:])
show("from_df no coords", lambda: back.from_df(table[["rlnTomoName", "rlnAngleRot"]]))
show("from_df format", lambda: back.from_df(table, format="csv"))
show(
    "from_df bare relion4",
    lambda: lone.from_df(lone.df(tilt_series_pixel_size=1.0), relion_version="relion4"),
)

# filament picks: three filaments sampled in shuffled order
points, ids = [], []
for tube, n in [(3, 4), (1, 3), (7, 5), (9, 4)]:
    for j in range(n):
        points.append([10 * tube + 20 * j, 30 + tube, 40 + 2 * j])
        ids.append(tube)
order = np.random.default_rng(2).permutation(len(points))
points, ids = np.array(points, float)[order], np.array(ids)[order]
frames = np.tile(np.eye(4), (len(points), 1, 1))
frames[:, :3, :3] = Rotation.random(len(points), random_state=3).as_matrix()
fil = run.new_picks("mt", "f1", "alice")
fil.from_numpy(points, frames, instance_ids=ids)
show(
    "is_filament_export",
    lambda: [r.is_filament_export(p, f) for p in (fil, ribo) for f in ("auto", True, False)],
)
show("track lengths", lambda: r.filament_track_lengths(points, ids))
show("filament angles", lambda: r.filament_relion_angles(frames[:, :3, :3]))
show("polarity none", lambda: r.filament_polarity(fil))
show("polarity_filaments none", lambda: r.polarity_filaments(fil))
lines = [np.array([[0, 0, 0], [1, 1, 1.0]]) + k for k in range(4)]
traced = run.new_filaments("mt", "f1", "alice")
traced.from_numpy(lines, instance_ids=[3, 1, 7, 9], polarity_known=[True, False, True, False])
partial = run.new_filaments("mt", "tracer", "carol")
partial.from_numpy(lines[:2], instance_ids=[3, 1], polarity_known=[True, True])
show("polarity own", lambda: r.filament_polarity(fil))
show("polarity known", lambda: r.filament_polarity_known(fil))
show("polarity_filaments own", lambda: r.polarity_filaments(fil).session_id)
for uri in ["mt:alice/f1", "mt:carol/tracer", "mt:nobody/x", "ribo:alice/f1", "bad uri::"]:
    show(f"polarity {uri}", lambda: r.filament_polarity(fil, uri))
show("polarity ribo", lambda: r.filament_polarity(ribo))
for kw in [
    {},
    {"filament_angles": "pose"},
    {"half_sets": "filament"},
    {"polarity_known": True},
    {"polarity_known": r.filament_polarity_known(fil)},
    {"polarity_known": [True, False]},
    {"filament": False},
]:
    show(f"filament df {kw}", lambda: fil.df(tilt_series_pixel_size=2.0, **kw))
no_ids = run.new_picks("mt", "noid", "alice")
no_ids.from_numpy(np.ones((3, 3)))
show("filament df without ids", lambda: no_ids.df())
empty = run.new_picks("mt", "empty", "alice")
empty.from_numpy(np.zeros((0, 3)))
show("filament df empty", lambda: empty.df())
show("polarity empty", lambda: r.filament_polarity(empty))

table = fil.df(tilt_series_pixel_size=2.0, half_sets="filament")
shuffled = table.sample(frac=1, random_state=1)
show("half sets", lambda: r.filament_half_sets(shuffled))
show("order", lambda: r.order_filament_rows(shuffled))
show(
    "order without track", lambda: r.order_filament_rows(shuffled.drop(columns="rlnHelicalTrackLengthAngst"))
)
show("instance ids", lambda: r.relion_instance_ids(shuffled))
for tubes in ([2, 2, 5, 5, 5, 1, 9, 9], [3, 3, 4, 4, 5, 5, 6, 6], [0, 1, -1]):
    show(f"half sets {tubes}", lambda: r.filament_half_sets(pd.DataFrame({"rlnHelicalTubeID": tubes})))
two = pd.DataFrame({"rlnTomoName": ["a", "a", "b", "b", "b", "a"], "rlnHelicalTubeID": [1, 1, 1, 1, 1, 2]})
show("half sets by tomogram", lambda: r.filament_half_sets(two))
show("half sets without ids", lambda: r.filament_half_sets(pd.DataFrame({"x": [1]})))
show("instance ids none", lambda: r.relion_instance_ids(pd.DataFrame({"x": [1]})))
again = run.new_picks("mt", "again", "bob")
show(
    "filament from_df",
    lambda: (again.from_df(shuffled, tilt_series_pixel_size=2.0), again.numpy(), again.instance_ids())[1:],
)
show("filament df again", lambda: again.df(tilt_series_pixel_size=2.0))
