"""``copick.util.sync`` as sync plugins call it: option parsing and ensure_pickable_objects copying the
source objects' metadata into the target config.

python util_sync.py WORK_DIR
"""

# ruff: noqa: B023  (every lambda is called at once by show(), inside its loop iteration)

import json
import logging
import sys
import warnings
from pathlib import Path

import copick
from copick.models import PickableObject
from copick.util import sync as s

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
work = Path(sys.argv[1])


def show(label, call):
    try:
        print(label, "->", repr(call()))
    except Exception as e:
        print(label, "raises", type(e).__name__, e)


for v in ["a,b", " a , b ,", "", None, "a"]:
    show(f"parse_list {v!r}", lambda: s.parse_list(v))
for v in ["a:b,c:d", " a : b ", "", None, "a", "a:b:c"]:
    show(f"parse_mapping {v!r}", lambda: s.parse_mapping(v))
for v in ["1,2", " 3 ", "", None, "x"]:
    show(f"parse_dataset_ids {v!r}", lambda: s.parse_dataset_ids(v))
src = copick.new_config(
    str(work / "src.json"),
    str(work / "src"),
    pickable_objects=[
        PickableObject(
            name="ribo",
            is_particle=True,
            label=1,
            color=[1, 2, 3, 255],
            radius=60,
            pdb_id="4V9D",
            metadata={"k": 1},
        ),
        PickableObject(name="mem", is_particle=False, label=2),
    ],
)
tgt = copick.new_config(
    str(work / "tgt.json"),
    str(work / "tgt"),
    pickable_objects=[PickableObject(name="ribo2", is_particle=True, label=1)],
)
show(
    "ensure",
    lambda: s.ensure_pickable_objects(
        src, tgt, str(work / "tgt.json"), ["ribo", "mem"], {"ribo": "ribosome"}
    ),
)
print(
    [
        {k: o[k] for k in ("name", "label", "color", "is_particle", "pdb_id", "radius", "metadata")}
        for o in json.loads((work / "tgt.json").read_text())["pickable_objects"]
    ]
)
print([(o.name, o.label, list(o.color), o.is_particle) for o in tgt.pickable_objects])
show("ensure again", lambda: s.ensure_pickable_objects(src, tgt, str(work / "tgt.json"), ["ribo"], {}))
print(
    [
        {k: o[k] for k in ("name", "label", "color", "is_particle", "pdb_id", "radius", "metadata")}
        for o in json.loads((work / "tgt.json").read_text())["pickable_objects"]
    ]
)
show("ensure missing", lambda: s.ensure_pickable_objects(src, tgt, str(work / "tgt.json"), ["nope"], {}))
