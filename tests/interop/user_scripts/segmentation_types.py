"""Instance and panoptic segmentations and ``copick.util.segmentation``, as copick-utils uses them.

python segmentation_types.py WORK_DIR
"""

# ruff: noqa: B023  (every lambda is called at once by show(), inside its loop iteration)

import re
import sys
import warnings
from pathlib import Path

import numpy as np

import copick
import copick.util.segmentation as su
from copick.models import PickableObject

warnings.simplefilter("ignore")
work = Path(sys.argv[1])


def show(label, call):
    try:
        value = call()
    except Exception as err:  # the phrase users match on, and the built-in type they catch
        kinds = [k.__name__ for k in (ValueError, KeyError, PermissionError) if isinstance(err, k)]
        text = (
            re.sub(r"^.* at 0x[0-9a-f]+ ", "<segmentation> ", str(err)) if isinstance(err, ValueError) else ""
        )
        print(label, "raises", kinds, text)
        return
    if isinstance(value, np.ndarray):
        value = (value.dtype.str[1:], value.shape, value.tolist())
    print(label, "->", value)


for args, flags in [
    ((10.0, "u", "1", "ribo"), {}),
    ((10.0, "u", "1", "ribo"), {"is_multilabel": True}),
    ((7.84, "u", "1", "ribo"), {"is_instance": True}),
    ((10.0, "u", "1", "ribo"), {"is_panoptic": True}),
    ((10.0, "u", "1", "ribo"), {"is_panoptic": True, "is_instance": True}),
]:
    show(f"store_name {args} {flags}", lambda: su.segmentation_store_name(*args, **flags))
for name, directory in [
    ("10.000_u_1_ribo.zarr", "Segmentations"),
    ("10.000_u_1_ribo-multilabel.zarr", "Segmentations"),
    ("10.000_u_1_ribo_x.zarr", "InstanceSegmentations"),
    ("10.000_u_1_ribo.zarr", "PanopticSegmentations"),
    ("x_u_1_ribo.zarr", "Segmentations"),
    ("10_u_1.zarr", "Segmentations"),
    ("10.000_u_1_ribo.zarr", "Other"),
]:
    show(f"parse {name} {directory}", lambda: su.parse_segmentation_store_name(name, directory))
for flags in [(), (True,), (False, True), (False, False, True), (True, True)]:
    show(f"directory {flags}", lambda: su.segmentation_directory(*flags))
    show(f"type {flags}", lambda: su.segmentation_type(*(*flags, False, False)[:3]))
for query in [None, "binary", "multilabel", "instance", "panoptic", "all", "bogus"]:
    show(f"query {query}", lambda: su.segmentation_type_query(query))
for values in [[0, 1, 255], [0, 256], [0, 70000], [1.0, 2.0], [], [True, False], [-1, 1], [0.5]]:
    show(f"label_dtype {values}", lambda: str(su.label_dtype(np.array(values))))
for values, dtype in [([0, 255], np.uint8), ([0, 256], np.uint8), ([1, 2], "int16"), ([0.5], np.uint8)]:
    show(f"cast {values} {dtype}", lambda: su.checked_label_cast(np.array(values), dtype))
for channel in ["label", "instance", 0, 1, 2, "x"]:
    show(f"channel {channel!r}", lambda: su.panoptic_channel_index(channel))
show("SEGMENTATION_TYPE_FILTERS", lambda: su.SEGMENTATION_TYPE_FILTERS)

objects = [
    PickableObject(name="ribo", is_particle=True, label=1),
    PickableObject(name="prot", is_particle=True, label=2),
    PickableObject(name="mem", is_particle=False, label=3),
]
root = copick.new_config(str(work / "config.json"), str(work / "project"), pickable_objects=objects)
run = root.new_run("TS_1")
panoptic = run.new_segmentation(10.0, "parts", "1", user_id="u", is_panoptic=True)
data = np.zeros((2, 4, 4, 4), dtype=np.uint16)
data[:, 0, 0, :2] = [[1], [7]]
data[:, 1, 1, :] = [[2], [3]]
data[:, 2, 2, 0] = [1, 3]
data[0, 3, 3, 3] = 3
panoptic.from_numpy(data)
instance = run.new_segmentation(10.0, "ribo", "1", user_id="u", is_instance=True)
volume = np.zeros((4, 4, 4), dtype=np.uint16)
volume[0, 0, 0] = volume[2, 2, 2] = 5
volume[1, 1, 1] = 2
instance.from_numpy(volume)
binary = run.new_segmentation(10.0, "ribo", "1", user_id="u")
binary.from_numpy(np.ones((4, 4, 4), dtype=np.uint8))
for seg in (panoptic, instance, binary):
    kind = seg.segmentation_type
    show(f"{kind} color", lambda: seg.color)
    show(f"{kind} segments", lambda: seg.segments())
    show(f"{kind} label_volume", lambda: seg.label_volume())
    for obj in (None, "ribo", "prot", "mem", "bogus"):
        show(f"{kind} instance_ids {obj}", lambda: seg.instance_ids(object_name=obj))
        if obj is not None and kind == "panoptic":  # other kinds: README difference 45
            show(f"{kind} instance_volume {obj}", lambda: seg.instance_volume(obj))
    show(f"{kind} level 1", lambda: seg.segments("1"))
