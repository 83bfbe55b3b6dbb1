"""Write and read segmentations: dtype choice, levels, filters, delete.

python segmentation_rw.py CONFIG_PATH
"""

import sys

import numpy as np
import zarr

import copick

root = copick.from_file(sys.argv[1])
run = root.get_run("TS_002")
zz, yy, xx = np.mgrid[0:20, 0:24, 0:28]
mask = (zz - 10) ** 2 + (yy - 12) ** 2 + (xx - 14) ** 2 < 40

seg = run.new_segmentation(10.0, "ribosome", "4", user_id="scripter")
print(seg)
try:
    seg.numpy()
except KeyError:  # (the message is ours, naming the store: README difference 11)
    print("empty store: KeyError")
seg.from_numpy(mask)
out = seg.numpy()
print(out.shape, out.dtype, int(out.sum()), np.array_equal(out, mask))

ml = run.new_segmentation(10.0, "parts", "4", is_multilabel=True, user_id="scripter")
labels = (zz // 5 + xx // 7).astype(np.int64)
ml.from_numpy(labels, levels=3)
group = zarr.open(ml.zarr())
print(ml, sorted(group.array_keys()), [group[k].shape for k in sorted(group.array_keys())])
print([ml.numpy(lv).dtype.str for lv in ("0", "1", "2")], ml.numpy("2")[1, :, 3].tolist())
print(group.attrs["multiscales"][0]["datasets"][1])

wide = run.new_segmentation(10.0, "wide", "4", is_multilabel=True, user_id="scripter")
wide.from_numpy(labels.astype(np.float64) * 30)
print(wide.numpy().dtype, int(wide.numpy().max()))
for label, data in [("negative", -labels), ("fractional", labels / 2.0)]:
    try:
        wide.from_numpy(data)
        print(label, "ok")
    except ValueError:
        print(label, "ValueError")
print(wide.numpy().dtype)

region = np.full((2, 2, 2), 1, np.uint8)
seg.set_region(region, "0", x=slice(0, 2), y=slice(0, 2), z=slice(0, 2))
print(int(seg.numpy().sum()), seg.numpy(x=slice(0, 3), y=slice(0, 3), z=slice(0, 3)).sum())

print(len(run.get_segmentations()), len(run.get_segmentations(user_id="scripter")))
print(sorted(s.name for s in run.get_segmentations(is_multilabel=True)))
print(sorted(s.name for s in run.get_segmentations(is_instance=True)))
print(sorted((s.name, s.segmentation_type) for s in run.segmentations))
print(len(run.get_segmentations(voxel_size=10.0, session_id="4")))
other = copick.from_file(sys.argv[1]).get_run("TS_002")
print(sorted(s.name for s in other.get_segmentations(user_id="scripter")))
run.delete_segmentations(user_id="scripter", is_multilabel=True)
print(sorted(s.name for s in run.get_segmentations(user_id="scripter")))
print(sorted(s.name for s in other.get_segmentations(user_id="scripter")))
other.refresh_segmentations()
print(sorted(s.name for s in other.get_segmentations(user_id="scripter")))
