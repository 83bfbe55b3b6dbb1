"""Describe a portal project as JSON, with whichever copick runs it (the interop test runs both).

``python describe_portal_project.py PORTAL_URL make OVERLAY CONFIG_OUT DATASET_ID...`` makes the project
with ``from_czcdp_datasets``; ``... PORTAL_URL open CONFIG`` opens a config written by the other copick;
``... PORTAL_URL touch CONFIG`` only lists the runs and reads one tomogram level (request counts).
The last stdout line is the JSON description (objects, runs, spacings, tomogram types and level shapes
and sums, picks with positions and transforms, segmentations and their voxel sums, the portal ids and paths
plugins read).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def level_shape(tomogram: Any, level: str) -> list[Any]:
    """A level's shape, and for level 2 the sum of its voxels (the data, not only the metadata, must
    agree: chunk keys, dtype)."""
    import zarr

    array = zarr.open(tomogram.zarr(), mode="r")[level]
    if level != "2":
        return list(array.shape)
    return [*array.shape, round(float(array[...].astype("float64").sum()), 3)]


def describe(root: Any) -> dict[str, Any]:
    objects = sorted(
        [o.name, o.identifier, o.is_particle, o.emdb_id, o.pdb_id] for o in root.pickable_objects
    )
    runs = {}
    for run in root.runs:
        spacings = {}
        for vs in run.voxel_spacings:
            tomograms = [
                [t.tomo_type, [level_shape(t, lv) for lv in "012"], t.meta.portal_tomo_id, t.static_path,
                 t.portal_tomo]
                for t in vs.tomograms
            ]  # fmt: skip
            spacings[str(vs.voxel_size)] = [vs.portal_vs_id, sorted(tomograms)]
        picks = []
        for p in run.picks:
            try:
                positions, transforms = (a.round(6).tolist() for a in p.numpy())
            except ValueError:  # copick 1.31 fails on an empty ndjson file
                positions = transforms = None
            picks.append([p.pickable_object_name, p.user_id, p.session_id, bool(p.trust_orientation),
                          positions, transforms, p.meta.portal_annotation_id,
                          p.meta.portal_annotation_file_id, p.path])  # fmt: skip
        segmentations = sorted(
            [
                s.name,
                s.user_id,
                s.session_id,
                s.voxel_size,
                int(s.numpy().astype("int64").sum()),
                s.meta.portal_annotation_id,
                s.portal_segmentation_id,
                s.meta.portal_annotation_file_path,
            ]
            for s in run.segmentations
        )
        meta = [run.meta.portal_run_id, run.meta.portal_run_name, run.meta.portal_dataset_id]
        runs[run.name] = {
            "spacings": spacings,
            "picks": sorted(picks),
            "segmentations": segmentations,
            "meta": meta,
        }
    ids = [root.dataset_ids, sorted([k, v] for k, v in root.go_map.items())]
    return {"objects": objects, "runs": runs, "ids": ids}


if __name__ == "__main__":
    url, action, *rest = sys.argv[1:]
    import cryoet_data_portal._client

    cryoet_data_portal._client.DEFAULT_URL = url  # copick 1.31 has no setting for it (PORTAL.md §7)
    import copick

    if action == "make":
        overlay, config_out, *ids = rest
        root = copick.from_czcdp_datasets(
            [int(i) for i in ids], overlay, {"auto_mkdir": True}, output_path=config_out
        )
        print(json.dumps(describe(root)))
    elif action == "open":
        print(json.dumps(describe(copick.from_file(rest[0]))))
    else:  # "touch": open, list the runs, read one tomogram level of run 101
        root = copick.from_file(rest[0])
        runs = len(root.runs)
        tomogram = root.get_run("101").voxel_spacings[0].tomograms[0]
        print(json.dumps({"runs": runs, "voxels": int(tomogram.numpy(zarr_group="2").size)}))
