"""Run copick's ML-Croissant commands on the loopback portal, with whichever copick runs it.

``python croissant_reference.py PORTAL_URL cli ARGS...`` runs ``copick ARGS...`` (e.g. ``config
export-croissant --source-dataset-ids 10001 ...``); ``... PORTAL_URL describe MANIFEST`` opens a manifest
(the portal's bucket read anonymously) and prints its ``listing`` as the last stdout line. copick 1.31
has no setting for the portal's URL: the client's default is replaced.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def listing(root: Any) -> dict[str, Any]:
    """What a manifest lists (runs, splits, spacings, tomogram types, segmentations) and the picks'
    points. Tomogram and mask data are left out: copick 1.31 looks for them at the copick layout's
    paths under the base URL, not at the URLs a portal manifest gives, and cannot read them."""
    import numpy as np

    runs = {}
    for run in root.runs:
        picks = []
        for p in run.picks:
            points = np.asarray(p.numpy()[0], dtype=np.float64)
            picks.append(
                [
                    p.pickable_object_name,
                    p.user_id,
                    p.session_id,
                    list(points.shape),
                    round(float(points.sum()), 4),
                ]
            )
        runs[run.name] = {
            "split": getattr(run, "split", None),
            "spacings": {
                str(vs.voxel_size): sorted(t.tomo_type for t in vs.tomograms) for vs in run.voxel_spacings
            },
            "picks": sorted(picks),
            "segmentations": sorted(
                [s.name, s.user_id, s.session_id, s.voxel_size] for s in run.segmentations
            ),
        }
    return {"objects": sorted(o.name for o in root.pickable_objects), "runs": runs}


if __name__ == "__main__":
    url, action, *rest = sys.argv[1:]
    import cryoet_data_portal._client

    cryoet_data_portal._client.DEFAULT_URL = url
    if action == "cli":
        from copick.cli.cli import main

        sys.argv = ["copick", *rest]
        main()
    else:
        import copick

        print(json.dumps(listing(copick.from_croissant(rest[0], static_fs_args={"anon": True}))))
