"""``copick.ops.export`` as scripts call it: ``export_run`` folder layout and file names per kind of
segmentation, counts and error phrases, and ``export`` returning its error messages.

python export_run.py WORK_DIR
"""

import contextlib
import io
import logging
import sys
import warnings
from pathlib import Path

import numpy as np

import copick
from copick.models import PickableObject
from copick.ops.export import export, export_run

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
work = Path(sys.argv[1])
#: Phrases of copick 1.31's messages that users match on (ours may say more around them).
PHRASES = ("voxel_spacing is required", "Unsupported output format", "Could not find run")

root = copick.new_config(
    str(work / "config.json"),
    str(work / "project"),
    pickable_objects=[
        PickableObject(name="ribo", is_particle=True, label=1),
        PickableObject(name="mem", is_particle=False, label=2),
    ],
)
run = root.new_run("TS_1")
run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.ones((8, 8, 8), np.float32))
run.new_segmentation(10.0, "mem", "1", user_id="u").from_numpy(np.ones((8, 8, 8), np.uint8))
instance = run.new_segmentation(10.0, "ribo", "1", user_id="u", is_instance=True)
instance.from_numpy(np.arange(512, dtype=np.uint16).reshape(8, 8, 8) % 4)
run.new_segmentation(10.0, "organelles", "2", user_id="v", is_multilabel=True).from_numpy(
    np.ones((8, 8, 8), np.uint8)
)
panoptic = run.new_segmentation(10.0, "cells", "1", user_id="u", is_panoptic=True)
panoptic.from_numpy(np.ones((2, 8, 8, 8), np.uint16))
picks = run.new_picks("ribo", "1", "u")
picks.from_numpy(np.array([[10.0, 20, 30]]), np.eye(4)[None])
picks.store()


def phrases(messages):
    return [[p for p in PHRASES if p in str(m)] for m in messages]


def show(label, call, out):
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # progress bars: not compared
            result = call()
    except Exception as err:
        print(label, "raises", phrases([err]))
    else:
        if isinstance(result, dict):
            result = {k: result[k] for k in ("picks", "segmentations", "tomograms")} | {
                "errors": phrases(result["errors"])
            }
        else:
            result = phrases(result)
        print(label, "->", result)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) if out.exists() else []
    print("  ", [f for f in files if ".zarr/" not in f], len([f for f in files if ".zarr/" in f]))


for label, kwargs in [
    ("segmentations tiff", dict(segmentation_uri="*:*/*@10.0", output_format="tiff")),
    ("instance tiff", dict(segmentation_uri="ribo:u/1@10.0?instance=true", output_format="tiff")),
    ("binary mrc", dict(segmentation_uri="mem:*/*@10.0", output_format="mrc")),
    (
        "panoptic mrc",
        dict(segmentation_uri="cells:u/1@10.0?panoptic=true", output_format="mrc", channel="instance"),
    ),
    ("tomogram mrc", dict(tomogram_uri="wbp@10.0", output_format="mrc")),
    ("tomogram tiff", dict(tomogram_uri="wbp@10.0", output_format="tiff")),
    ("picks csv", dict(picks_uri="ribo:u/1", output_format="csv")),
    ("picks em without voxel size", dict(picks_uri="ribo:u/1", output_format="em")),
    ("picks em", dict(picks_uri="ribo:u/1", output_format="em", voxel_spacing=10.0)),
    ("no URI, no format", {}),
    ("bogus format", dict(tomogram_uri="wbp@10.0", output_format="bogus")),
]:
    out = work / label.replace(" ", "_")
    show(f"export_run {label}", lambda: export_run(run, str(out), **kwargs), out)  # noqa: B023
config = str(work / "config.json")
for label, kwargs in [
    ("ok", dict(tomogram_uri="wbp@10.0", output_format="mrc")),
    ("bogus format", dict(tomogram_uri="wbp@10.0", output_format="bogus")),
]:  # EM picks without a voxel size: README "Drop-in details" (ours refuses before exporting)
    out = work / f"export_{label.replace(' ', '_')}"
    show(f"export {label}", lambda: export(config, str(out), n_workers=1, **kwargs), out)  # noqa: B023
