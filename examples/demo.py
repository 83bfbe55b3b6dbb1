"""Demo: create a small copick project, list it, write and read picks, print a summary.

Usage: python examples/demo.py [PROJECT_DIR]   (default: ./demo-project, replaced if present)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

import copick
from copick.models import PickableObject


def main(project_dir: str = "demo-project") -> None:
    project = Path(project_dir).resolve()
    shutil.rmtree(project, ignore_errors=True)
    objects = [
        PickableObject(name="ribosome", is_particle=True, label=1, color=(0, 255, 0, 255), radius=150.0),
        PickableObject(name="proteasome", is_particle=True, label=2, color=(255, 0, 0, 255), radius=60.0),
        PickableObject(name="membrane", is_particle=False, label=3),
    ]
    root = copick.new_config(
        str(project / "copick_config.json"), str(project), "demo", "copick demo", objects
    )
    rng = np.random.default_rng(0)
    for i in range(1, 4):
        run = root.new_run(f"TS_{i:03d}")
        vs = run.new_voxel_spacing(10.0)
        tomogram = vs.new_tomogram("wbp")
        tomogram.from_numpy(rng.normal(size=(32, 64, 64)).astype(np.float32))
        for obj in ("ribosome", "proteasome"):
            picks = run.new_picks(obj, "1", user_id="demo")
            picks.from_numpy(rng.uniform(0, 640, size=(10 * i, 3)), scores=rng.uniform(size=10 * i))

    reopened = copick.from_file(str(project / "copick_config.json"))
    print(f"project {reopened.config.name!r} at {project}")
    print("objects:", ", ".join(f"{o.name} (label {o.label})" for o in reopened.pickable_objects))
    total = 0
    for run in reopened.runs:
        tomograms = [f"{t.tomo_type}@{vs.voxel_size}" for vs in run.voxel_spacings for t in vs.tomograms]
        counts = []
        for picks in run.picks:
            positions, _ = picks.numpy()
            counts.append(f"{picks.pickable_object_name}={len(positions)}")
            total += len(positions)
        print(f"  {run.name}: tomograms {', '.join(tomograms)}; picks {', '.join(sorted(counts))}")
    level0 = reopened.runs[0].voxel_spacings[0].tomograms[0].numpy()
    print(f"summary: {len(reopened.runs)} runs, {total} points, tomogram level 0 shape {level0.shape}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
