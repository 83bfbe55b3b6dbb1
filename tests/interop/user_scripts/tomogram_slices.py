"""Read tomogram slices and levels, write a tomogram and a region, read features and maps.

python tomogram_slices.py CONFIG_PATH
"""

import sys
import warnings

import numpy as np
import zarr

import copick


def show(label, arr):
    print(label, arr.shape, arr.dtype, round(float(np.asarray(arr, dtype=np.float64).sum()), 4))


root = copick.from_file(sys.argv[1])
run = root.get_run("TS_001")
tomo = run.get_voxel_spacing(10.0).get_tomograms("wbp")[0]
show("full", tomo.numpy())
show("level 1 str", tomo.numpy("1"))
show("level 1 int", tomo.numpy(1))
show("level 2", tomo.numpy(zarr_group="2"))
show("x slice", tomo.numpy(x=slice(0, 10)))
show("xyz slice", tomo.numpy(x=slice(3, 9), y=slice(10, 30), z=slice(5, 6)))
show("stepless open", tomo.numpy(z=slice(20, None)))
print(
    np.array_equal(tomo.numpy()[5:6, 10:30, 3:9], tomo.numpy(x=slice(3, 9), y=slice(10, 30), z=slice(5, 6)))
)

group = zarr.open(tomo.zarr())
print(sorted(group.array_keys()), [group[k].shape for k in sorted(group.array_keys())])
print(group.attrs["multiscales"][0]["datasets"])

feat = tomo.get_features("gabor")
print(feat)
show("features", feat.numpy())
show("features slices", feat.numpy(slices=(slice(0, 1), slice(0, 4), slice(None), slice(10, 20))))

vs = run.get_voxel_spacing(7.84)
t784 = vs.get_tomograms("wbp")[0]
print(vs.voxel_size, zarr.open(t784.zarr()).attrs["multiscales"][0]["datasets"][2])

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(
        run.get_voxel_spacing(10.0).get_tomogram("wbp").tomo_type,
        run.get_voxel_spacing(10.0).get_tomogram("x"),
    )
print(sorted({w.category.__name__ for w in caught}))
print(
    len(run.get_voxel_spacing(10.0).get_tomograms()),
    run.get_voxel_spacing(10.0001),
    run.get_voxel_spacing(10).voxel_size,
)

# write a new tomogram, then a region of it
new = run.get_voxel_spacing(10.0).new_tomogram("scripted")
data = np.arange(20 * 18 * 16, dtype=np.float64).reshape(20, 18, 16) / 7.0
new.from_numpy(data)
show("new 0", new.numpy())
show("new 1", new.numpy("1"))
show("new 2", new.numpy("2"))
new.set_region(np.ones((2, 3, 4), np.float32), "0", x=slice(0, 4), y=slice(0, 3), z=slice(0, 2))
show("after region", new.numpy())
show("region back", new.numpy(x=slice(0, 5), y=slice(0, 4), z=slice(0, 3)))
new.from_numpy(data[:8, :8, :8], levels=1)
print(sorted(zarr.open(new.zarr()).array_keys()))

# object density map
obj = root.get_object("proteasome")
print(obj)
show("map", obj.numpy())
show("map slice", obj.numpy(x=slice(0, 3)))
print(root.get_object("membrane").zarr(), root.get_object("membrane").numpy())
