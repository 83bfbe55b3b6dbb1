"""``copick.ops.add`` as scripts call it: what each add_* returns, CSV picks columns, error phrases.

python ops_add.py WORK_DIR
"""

# ruff: noqa: B023  (every lambda is called at once by show(), inside its loop iteration)

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import tifffile

import copick
from copick.models import PickableObject
from copick.ops import add

warnings.simplefilter("ignore")
work = Path(sys.argv[1])


#: Phrases of copick 1.31's messages that users match on (ours may say more around them).
PHRASES = (
    "not a particle object",
    "voxel_size must be provided",
    "Voxel spacing not provided",
    "Please specify --voxel-size",
    "not found in CSV file",
    "is read-only and cannot be modified",
)


def show(label, call):
    try:
        value = call()
    except Exception as err:
        kinds = [k.__name__ for k in (ValueError, KeyError, FileNotFoundError) if isinstance(err, k)]
        print(label, "raises", kinds, [p for p in PHRASES if p in str(err)])
        return None
    kind = type(value).__name__
    if isinstance(value, dict):
        kind = {k: type(v).__name__ for k, v in value.items()}
    print(label, "->", kind)
    return value


objects = [
    PickableObject(name="ribo", is_particle=True, label=1, radius=50),
    PickableObject(name="mem", is_particle=False, label=2),
]
root = copick.new_config(str(work / "config.json"), str(work / "project"), pickable_objects=objects)
show("add_run", lambda: add.add_run(root, "TS_1"))
show("add_voxelspacing", lambda: add.add_voxelspacing(root, "TS_1", 10.0))
vol = np.random.default_rng(0).random((16, 16, 16), dtype=np.float32)
show("add_tomogram", lambda: add.add_tomogram(root, "TS_1", "wbp", vol, 10.0))
show("add_object", lambda: add.add_object(root, "prot", True, label=3))
show("add_object_volume", lambda: add.add_object_volume(root, "ribo", vol, 10.0))
show("add_object_volume non-particle", lambda: add.add_object_volume(root, "mem", vol, 10.0))
show("add_object volume no voxel_size", lambda: add.add_object(root, "x", True, volume=vol))

csv = work / "picks.csv"
csv.write_text("run_name,x,y,z,score,instance_id\nTS_1,10.0,20.0,30.0,0.5,7\nTS_1,40.0,50.0,60.0,0.25,9\n")
for fn in ("add_picks", "add_picks_from_file"):
    picks = show(
        fn,
        lambda: getattr(add, fn)(
            root, "TS_1", str(csv), "ribo", fn.replace("_", ""), "1", 10.0, file_type="csv"
        ),
    )
    if picks is not None:
        pos, _ = picks.numpy()
        print("  positions", pos.tolist())
        print(
            "  scores", [p.score for p in picks.points], "instance_id", [p.instance_id for p in picks.points]
        )
(work / "multi.csv").write_text("run_name,x,y,z\nTS_1,1,2,3\nTS_2,4,5,6\n")
show(
    "add_picks run not in CSV",
    lambda: add.add_picks(root, "TS_9", str(work / "multi.csv"), "ribo", "m", "1", 10.0),
)
(work / "bare.csv").write_text("x,y,z\n1,2,3\n")
bare = show(
    "add_picks_from_file CSV without run_name",
    lambda: add.add_picks_from_file(root, "TS_1", str(work / "bare.csv"), "ribo", "b", "1"),
)
print(
    "  ",
    bare.run.name,
    bare.numpy()[0].tolist(),
    [p.score for p in bare.points],
    [p.instance_id for p in bare.points],
)
show(
    "add_picks missing file",
    lambda: add.add_picks_from_file(root, "TS_1", str(work / "nope.csv"), "ribo", "u", "1", 10.0),
)
mask = work / "mask.tif"
tifffile.imwrite(str(mask), (vol > 0.5).astype(np.uint8))
show(
    "add_segmentation_from_file",
    lambda: add.add_segmentation_from_file(root, "TS_1", str(mask), 10.0, "mem", "v", "1"),
)
show(
    "add_segmentation_from_file no vs",
    lambda: add.add_segmentation_from_file(root, "TS_1", str(mask), None, "mem", "w", "1"),
)
show(
    "add_tomogram_from_file",
    lambda: add.add_tomogram_from_file(root, "TS_1", "denoised", str(mask), 10.0, create_pyramid=False),
)
show("add_tomogram_from_file no vs", lambda: add.add_tomogram_from_file(root, "TS_1", "other", str(mask)))

# The project above as the static layer under a fresh overlay: its objects' maps are read-only.
config = json.loads((work / "config.json").read_text())
config.update(static_root=config["overlay_root"], overlay_root=f"local://{work / 'overlay'}")
(work / "layered.json").write_text(json.dumps(config))
layered = copick.from_file(str(work / "layered.json"))
ribo = layered.get_object("ribo")
show("static map read_only", lambda: ribo.read_only)
show("static map shape", lambda: ribo.numpy().shape)
show("static map from_numpy", lambda: ribo.from_numpy(vol, 10.0))
show("static add_object_volume", lambda: add.add_object_volume(layered, "ribo", vol, 10.0))
# what user code of copick 1.31 catches: PermissionError from the map, ValueError from add_object_volume
try:
    ribo.from_numpy(vol, 10.0)
except PermissionError:
    print("from_numpy: PermissionError caught")
try:
    add.add_object_volume(layered, "ribo", vol, 10.0)
except ValueError:
    print("add_object_volume: ValueError caught")
