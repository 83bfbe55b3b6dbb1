"""Build a project config in Python: new_config, new_object, save_config, reopen.

python build_config.py WORK_DIR
"""

import json
import sys
import warnings
from pathlib import Path

import copick
from copick.models import CopickConfig, PickableObject

work = Path(sys.argv[1])
objects = [
    PickableObject(name="proteasome", is_particle=True, label=1, color=(255, 0, 0, 255), radius=60),
    PickableObject(name="membrane", is_particle=False, label=2, go_id="GO:0016020"),
]
root = copick.new_config(
    str(work / "configs" / "new.json"),
    overlay_root=str(work / "project"),
    proj_name="built in python",
    proj_description="by build_config.py",
    pickable_objects=objects,
)
print(root)
written = json.loads((work / "configs" / "new.json").read_text())
written["version"] = "<version>"  # copick.__version__: ours is 1.32.0, not 1.31.0 (see the test module)
print(json.dumps(written, indent=1).replace(str(work), "<WORK>"))

print(root.new_object("ribosome", True))
print(root.new_object("apo-ferritin", True, label=9, color=(1, 2, 3, 4), radius=70.5, emdb_id="E1"))
print(root.new_object("ribosome", True, radius=99.0, exist_ok=True))
for label, call in [
    ("duplicate name", lambda: root.new_object("ribosome", True)),
    ("bad name", lambda: root.new_object("ribo_some", True)),
    ("duplicate label", lambda: root.new_object("thing", True, label=2)),
    ("label zero", lambda: root.new_object("thing", True, label=0)),
]:
    try:
        call()
        print(label, "ok")
    except ValueError:  # pydantic's ValidationError is a ValueError too
        print(label, "ValueError")
print([(o.name, o.label, o.color, o.radius) for o in root.pickable_objects])
print([o.name for o in root.config.pickable_objects])
root.save_config(str(work / "configs" / "saved.json"))
saved = json.loads((work / "configs" / "saved.json").read_text())
saved["version"] = "<version>"
print(json.dumps(saved, sort_keys=False))

again = copick.from_file(str(work / "configs" / "saved.json"))
print([(o.name, o.label, o.is_particle, o.identifier) for o in again.pickable_objects])
run = again.new_run("TS_1 x")
print(run, run.name, [r.name for r in again.runs])
print(again.new_run("TS_1 x", exist_ok=True) is run)
try:
    again.new_run("TS_1 x")
except ValueError:
    print("duplicate run ValueError")

cfg = CopickConfig(pickable_objects=objects, user_id="me")
print(cfg.name, cfg.description, cfg.version, cfg.user_id, cfg.model_dump()["pickable_objects"][1])
for bad in ({"user_id": "a_b"}, {"session_id": "x y"}):
    try:
        CopickConfig(pickable_objects=[], **bad)
    except ValueError:
        print("bad config", sorted(bad), "ValueError")

# opening configs: a missing config_type warns; errors by category (messages are ours: README 11)
legacy = {"pickable_objects": [], "overlay_root": "local://" + str(work / "legacy")}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(copick.from_string(json.dumps(legacy)).runs)
print(sorted({w.category.__name__ for w in caught}))
for label, text in [
    ("unknown type", json.dumps({**legacy, "config_type": "nope"})),
    ("no overlay_root", json.dumps({"config_type": "filesystem", "pickable_objects": []})),
    ("bad object name", json.dumps({**legacy, "pickable_objects": [{"name": "a_b", "is_particle": True}]})),
]:
    try:
        copick.from_string(text)
        print(label, "ok")
    except ValueError:
        print(label, "ValueError")
# a relative root resolves against the working directory, not the config's folder (FORMAT.md 13.1)
relative = {**legacy, "config_type": "filesystem", "overlay_root": "local://relative-project"}
(work / "configs" / "relative.json").write_text(json.dumps(relative))
rel_root = copick.from_file(str(work / "configs" / "relative.json"))
rel_root.new_run("TS_rel")
print(sorted(str(p.relative_to(Path.cwd())) for p in Path.cwd().glob("relative-project/**/*")))
try:
    copick.from_file(str(work / "missing.json"))
except FileNotFoundError:
    print("missing config FileNotFoundError")
