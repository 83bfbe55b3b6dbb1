"""Enumerate a project top-down, printing reprs before and after each listing.

python enumerate_project.py CONFIG_PATH
"""

import sys

import copick

root = copick.from_file(sys.argv[1])
print(root)
# before the runs are listed, get_run builds a new object each call (API.md behaviour 40)
print(root.get_run("TS_002") is root.get_run("TS_002"), root.get_run("nope"))
print(root.config.name, root.user_id, root.session_id)
for obj in root.pickable_objects:
    print(" ", obj)
print(root)
for run in root.runs:
    print(run)
    # (spacings, tomograms and features sorted: copick 1.31 lists them out of a set, in an order that
    # changes with PYTHONHASHSEED; picks, meshes and segmentations sorted for readability only)
    for vs in sorted(run.voxel_spacings, key=lambda vs: vs.voxel_size):
        print("  ", vs)
        for tomo in sorted(vs.tomograms, key=lambda t: t.tomo_type):
            print("    ", tomo)
            for feat in sorted(tomo.features, key=lambda f: f.feature_type):
                print("      ", feat)
            print("    ", tomo)
        print("  ", vs)
    for picks in sorted(run.picks, key=lambda p: (p.pickable_object_name, p.user_id, p.session_id)):
        print("  ", picks)
        print(
            "  ",
            picks.pickable_object_name,
            picks.user_id,
            picks.session_id,
            picks.from_tool,
            len(picks.points),
        )
        print("  ", picks)
    for mesh in sorted(run.meshes, key=lambda m: (m.pickable_object_name, m.user_id, m.session_id)):
        print("  ", mesh, mesh.from_user)
    for seg in sorted(
        run.segmentations, key=lambda s: (s.name, s.user_id, s.session_id, s.segmentation_type)
    ):
        print("  ", seg, seg.is_multilabel, seg.directory)
    print(run)
print(root)
print([r.name for r in root.runs])
print(root.get_run("TS_002") is root.get_run("TS_002"))
