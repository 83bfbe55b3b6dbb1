"""Delete entities of every kind and list what is left (single-root project).

python delete_things.py CONFIG_PATH
"""

import sys

import copick


def listing(root):
    for run in root.runs:
        spacings = sorted(run.voxel_spacings, key=lambda vs: vs.voxel_size)
        tomos = [
            (vs.voxel_size, sorted((t.tomo_type, len(t.features)) for t in vs.tomograms)) for vs in spacings
        ]
        print(" ", run.name, tomos)
        print("   ", sorted((p.pickable_object_name, p.user_id, p.session_id) for p in run.picks))
        print("   ", sorted((m.pickable_object_name, m.user_id, m.session_id) for m in run.meshes))
        print(
            "   ", sorted((s.name, s.user_id, s.segmentation_type, s.voxel_size) for s in run.segmentations)
        )


root = copick.from_file(sys.argv[1])
run = root.get_run("TS_001")
run.get_voxel_spacing(10.0).get_tomograms("wbp")[0].get_features("sobel").delete()
run.get_voxel_spacing(10.0).get_tomograms("denoised")[0].delete()
run.delete_picks(object_name="proteasome")
run.delete_meshes(user_id="bob")
run.delete_segmentations(name="proteasome")
run.delete_segmentations(is_multilabel=True, user_id="pytom")
# (listed first: copick 1.31's delete_voxel_spacings on a run whose spacings were never listed
# raises AttributeError: 'NoneType' object has no attribute 'remove')
print([vs.voxel_size for vs in sorted(run.voxel_spacings, key=lambda vs: vs.voxel_size)])
run.delete_voxel_spacings(7.84)
print("same root")
listing(root)
print("fresh root")
listing(copick.from_file(sys.argv[1]))

root.get_run("TS_002").delete_segmentations(is_instance=None, is_panoptic=None)
root.get_run("TS_002").get_voxel_spacing(10.0).delete_tomograms()
root.delete_run("TS_100")
root.delete_run("missing")
# (no CopickObject.delete(): copick 1.31's filesystem backend raises NotImplementedError
# "_delete_data method must be implemented for CopickObject."; ours deletes the map)
print("fresh root")
fresh = copick.from_file(sys.argv[1])
listing(fresh)
try:
    print(fresh.get_object("apo-ferritin").numpy())
except KeyError:  # a particle object without a map (API.md behaviour 48)
    print("no map: KeyError")
