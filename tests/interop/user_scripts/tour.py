"""API.md section 0 (the seed snippets, in order) and the album "random points" snippet.

    python tour.py CONFIG_PATH      (a copy of the project written by write_project.py base)

``mesh.show()`` would open a viewer: the scene is printed instead. Segmentations are printed in
listing order (copick 1.31: file-name order, static layer first).
"""

import sys

import numpy as np
import zarr

import copick
from copick.models import CopickLocation, CopickPoint

root = copick.from_file(sys.argv[1])
print([(o.name, o.label) for o in root.pickable_objects])
for run in root.runs:
    print(run.name)
dens = np.array(zarr.open(root.get_object("proteasome").zarr())["0"])
print("density", dens.shape, dens.dtype, round(float(dens.sum()), 3))
run = root.get_run("TS_001")
print(run)
for seg in run.segmentations:
    print(seg.name)
vs = run.get_voxel_spacing(10.000)
print(vs)
# (sorted: copick 1.31 lists tomograms out of a set, in an order that changes with PYTHONHASHSEED)
for t in sorted(vs.tomograms, key=lambda t: t.tomo_type):
    print(t.tomo_type)
tomo = vs.get_tomogram("wbp")
print(tomo)
vol = np.array(zarr.open(tomo.zarr())["0"])
bin2 = zarr.open(tomo.zarr())["1"]
print("vol", vol.shape, vol.dtype, round(float(vol.sum()), 3), "bin2", bin2.shape, bin2.dtype)
feat = np.array(zarr.open(tomo.get_features("sobel").zarr())["0"])
print("feat", feat.shape, feat.dtype, round(float(feat.sum()), 3))
picks = run.get_picks(object_name="proteasome", user_id="alice")[0]
print(picks)
xyz = [(p.location.x, p.location.y, p.location.z) for p in picks.points]
print(xyz[:3])
print(picks)
mesh = run.get_meshes(object_name="membrane", user_id="alice")[0].mesh
print(type(mesh).__name__, len(mesh.geometry), [len(g.vertices) for g in mesh.geometry.values()])
seg = np.array(zarr.open(run.get_segmentations(name="proteasome", user_id="alice")[0].zarr())["0"])
print("seg", seg.shape, seg.dtype, int(seg.sum()))

# album "random points"
rng = np.random.default_rng(0)
picks = run.get_picks(object_name="ribosome", user_id="album", session_id="7")
print("existing", picks)
if not picks:
    picks = run.new_picks(object_name="ribosome", user_id="album", session_id="7")
    print(picks)
else:
    picks = picks[0]
picks.points = [
    CopickPoint(location=CopickLocation(x=float(x), y=float(y), z=float(z)))
    for x, y, z in rng.uniform(0, 500, (5, 3))
]
print(picks)
picks.store()
again = copick.from_file(sys.argv[1]).get_run("TS_001").get_picks("ribosome", "album", "7")[0]
print(again, len(again.points), again.points[0])
