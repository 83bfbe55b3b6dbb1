"""Describe a copick project as plain JSON data (runs with their split, spacings, tomograms, feature
maps, picks, meshes, segmentations, with a digest of each one's values), for the mlcroissant tests.

Run as a script (``python croissant_describe.py MANIFEST_URL [OVERLAY]``) under either implementation
it opens the manifest with ``copick.from_croissant`` and prints the description as one JSON line;
``describe(root)`` is the same for a root opened any other way.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _digest(array: Any) -> list:
    import numpy as np

    a = np.asarray(array, dtype=np.float64)
    return [list(a.shape), round(float(a.sum()), 4)]


def _vertices(mesh: Any) -> int:
    geometry = getattr(mesh, "geometry", None)
    return sum(len(g.vertices) for g in geometry.values()) if geometry is not None else len(mesh.vertices)


def describe(root: Any) -> dict[str, Any]:
    """Every run of ``root`` with what it holds (sorted, values digested)."""
    runs = {}
    for run in root.runs:
        spacings = {}
        for vs in run.voxel_spacings:
            spacings[str(vs.voxel_size)] = {
                t.tomo_type: {
                    "data": _digest(t.numpy()),
                    "features": {f.feature_type: _digest(f.numpy()) for f in t.features},
                }
                for t in vs.tomograms
            }
        runs[run.name] = {
            "split": getattr(run, "split", None),
            "spacings": spacings,
            "picks": sorted(
                [p.pickable_object_name, p.user_id, p.session_id, _digest(p.numpy()[0])] for p in run.picks
            ),
            "meshes": sorted(
                [m.pickable_object_name, m.user_id, m.session_id, _vertices(m.mesh)] for m in run.meshes
            ),
            "segmentations": sorted(
                [s.name, s.user_id, s.session_id, s.voxel_size, s.is_multilabel, _digest(s.numpy())]
                for s in run.segmentations
            ),
        }
    return {"objects": sorted(o.name for o in root.pickable_objects), "runs": runs}


if __name__ == "__main__":
    import copick

    overlay = sys.argv[2] if len(sys.argv) > 2 else None
    opened = copick.from_croissant(sys.argv[1], overlay_root=overlay)
    print(json.dumps(describe(opened)))
