"""Workloads of images: tomogram write/read/regions, many small volumes (a data loader), segmentations."""

from __future__ import annotations

import os
from typing import Any

from bench_files import run_dir, write_ome_zarr, zarr_levels_checksum
from bench_harness import Timer, copick_impl, fresh_project, limit_impl, open_root

# --- tomograms -------------------------------------------------------------


@copick_impl("tomogram_write")
def _tomo_write_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    data = np.load(p["volume"])
    config = fresh_project(p)
    import copick

    run = copick.from_file(config).new_run("TS_001")
    tomo = run.new_voxel_spacing(10.0).new_tomogram("wbp")
    with timer():
        tomo.from_numpy(data)
    project = os.path.join(p["out"], "project")
    return zarr_levels_checksum(os.path.join(run_dir(project, "TS_001"), "VoxelSpacing10.000", "wbp.zarr"))


@limit_impl("tomogram_write")
def _tomo_write_limit(p: dict, timer: Timer) -> Any:
    import numpy as np

    data = np.load(p["volume"])
    path = os.path.join(p["out"], "wbp.zarr")
    with timer():
        write_ome_zarr(path, data, 10.0, levels=3)
    return zarr_levels_checksum(path)


def _get_tomogram(root):
    return root.get_run("TS_001").get_voxel_spacing(10.0).get_tomograms("wbp")[0]


@copick_impl("tomogram_read")
def _tomo_read_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    root = open_root(p)
    with timer():
        data = _get_tomogram(root).numpy()
    return {"shape": list(data.shape), "sum": float(data.sum(dtype=np.float64))}


@limit_impl("tomogram_read")
def _tomo_read_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    with timer():
        data = zarr.open_group(store=p["tomogram_store"], mode="r")["0"][...]
    return {"shape": list(data.shape), "sum": float(data.sum(dtype=np.float64))}


@copick_impl("tomogram_regions")
def _tomo_regions_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    s = p["region_size"]
    total, n = 0.0, 0
    root = open_root(p)
    with timer():
        tomo = _get_tomogram(root)
        for z, y, x in p["regions"]:
            block = tomo.numpy(x=slice(x, x + s), y=slice(y, y + s), z=slice(z, z + s))
            total += float(block.sum(dtype=np.float64))
            n += block.size
    return {"voxels": n, "sum": total}


@limit_impl("tomogram_regions")
def _tomo_regions_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    s = p["region_size"]
    total, n = 0.0, 0
    with timer():
        arr = zarr.open_group(store=p["tomogram_store"], mode="r")["0"]
        for z, y, x in p["regions"]:
            block = arr[z : z + s, y : y + s, x : x + s]
            total += float(block.sum(dtype=np.float64))
            n += block.size
    return {"voxels": n, "sum": total}


# --- many small volumes (a data loader) ------------------------------------


def _level_checksum(total: float, shapes: set, n: int) -> dict:
    return {"volumes": n, "shapes": sorted(list(s) for s in shapes), "sum": total}


@copick_impl("volumes_open_many")
def _volumes_many_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    root = open_root(p)
    total, shapes = 0.0, set()
    with timer():
        for i in range(p["n_runs"]):
            tomo = root.get_run(f"TS_{i:03d}").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
            data = tomo.numpy(zarr_group="2")
            total += float(data.sum(dtype=np.float64))
            shapes.add(data.shape)
    return _level_checksum(total, shapes, p["n_runs"])


@limit_impl("volumes_open_many")
def _volumes_many_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    total, shapes = 0.0, set()
    with timer():
        for i in range(p["n_runs"]):
            store = os.path.join(run_dir(p["project"], f"TS_{i:03d}"), "VoxelSpacing10.000", "wbp.zarr")
            data = zarr.open_group(store=store, mode="r")["2"][...]
            total += float(data.sum(dtype=np.float64))
            shapes.add(data.shape)
    return _level_checksum(total, shapes, p["n_runs"])


# --- segmentations ---------------------------------------------------------


def _labels_checksum(back, labels) -> dict:
    import numpy as np

    if back.shape != labels.shape or not np.array_equal(back, labels):
        raise AssertionError("segmentation read back differs from what was written")
    return {
        "shape": list(back.shape),
        "sum": int(back.sum(dtype=np.int64)),
        "nonzero": int((back != 0).sum()),
    }


@copick_impl("segmentation_io")
def _seg_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    labels = np.load(p["labels"])
    config = fresh_project(p)
    import copick

    run = copick.from_file(config).new_run("TS_001")
    seg = run.new_segmentation(10.0, "ribosome", "0", user_id="bench")
    with timer():
        seg.from_numpy(labels)
        back = seg.numpy()
    return _labels_checksum(back, labels)


@limit_impl("segmentation_io")
def _seg_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import zarr

    labels = np.load(p["labels"])
    path = os.path.join(p["out"], "10.000_bench_0_ribosome.zarr")
    with timer():
        write_ome_zarr(path, labels, 10.0, levels=1)
        back = np.asarray(zarr.open_group(store=path, mode="r")["0"][...])
    return _labels_checksum(back, labels)
