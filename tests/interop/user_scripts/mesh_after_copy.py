"""What ``CopickMesh.mesh`` returns after ``store()``, ``copick cp mesh`` and ``copick sync meshes``
(issue 14: copick 1.31.0 returns a trimesh ``Scene`` in all three cases, as ours does).

python mesh_after_copy.py WORK_DIR
"""

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import trimesh

import copick
from copick.models import PickableObject

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
work = Path(sys.argv[1])
script = str(Path(sys.executable).parent / "copick")  # the copick command of this interpreter's venv
objs = [PickableObject(name="mem", is_particle=False, label=1)]
root = copick.new_config(str(work / "a.json"), str(work / "a"), pickable_objects=objs)
copick.new_config(str(work / "b.json"), str(work / "b"), pickable_objects=objs)
run = root.new_run("TS_1")
m = run.new_mesh("mem", "1", "u")
m.mesh = trimesh.creation.box()
m.store()
print("store:", type(copick.from_file(str(work / "a.json")).get_run("TS_1").get_meshes()[0].mesh).__name__)
for args in (
    ["cp", "mesh", "-c", str(work / "a.json"), "mem:u/1", "mem:cp/1"],
    ["sync", "meshes", "-c", str(work / "a.json"), "--target-config", str(work / "b.json")],
):
    p = subprocess.run([script, *args], capture_output=True, text=True)
    print(args[:2], "exit", p.returncode, p.stderr.strip().splitlines()[-1:] if p.returncode else "")
a = copick.from_file(str(work / "a.json"))
for mesh in a.get_run("TS_1").get_meshes():
    print("a", mesh.user_id, type(mesh.mesh).__name__, hasattr(mesh.mesh, "vertices"))
b = copick.from_file(str(work / "b.json"))
for r in b.runs:
    for mesh in r.get_meshes():
        print("b", mesh.user_id, type(mesh.mesh).__name__, hasattr(mesh.mesh, "vertices"))
