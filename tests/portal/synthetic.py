"""A small synthetic portal: 2 datasets, 5 runs, tomograms, and annotations of every shape.

``tables(n_extra_runs)`` gives the GraphQL rows; ``upload(fs, bucket)`` writes the files those rows
point at (OME-Zarr tomograms with 3 levels, ndjson points with and without rotations, zarr
segmentation masks) under the portal's key layout. ``EXPECTED`` holds what a reader must find.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

BUCKET = "cryoet-data-portal-public"
DATASETS = (10001, 10002)
RUNS = {101: ("TS_001", 10001), 102: ("TS_002", 10001), 103: ("TS_003", 10001), 104: ("TS_100", 10002),
        105: ("TS_101", 10002)}  # fmt: skip
SHAPE = (16, 24, 32)  # z, y, x of level 0
VOXEL = 10.0

# object_id, object_name, shape, file format, publications
ANNOTATIONS = [
    ("GO:0022626", "cytosolic ribosome", "Point", "ndjson", "EMD-1234, PDB-5ABC"),
    ("GO:0000502", "Proteasome complex", "OrientedPoint", "ndjson", "EMD-9999"),
    ("GO:0016020", "membrane", "SegmentationMask", "zarr", None),
    ("GO:0016020", "membrane", "SegmentationMask", "mrc", None),
    ("UniProtKB:P12345", "ATP_synthase", "InstanceSegmentationMask", "zarr", None),
    ("GO:0005739", "mitochondrion", "Mesh", "glb", None),
]


def _key(dataset: int, run_name: str) -> str:
    return f"{dataset}/{run_name}"


def tomogram_data(run_id: int, level: int = 0) -> np.ndarray:
    z, y, x = (s // 2**level for s in SHAPE)
    rng = np.random.default_rng(run_id * 10 + level)
    return rng.random((z, y, x), dtype=np.float32)


def points_of(run_id: int, oriented: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(run_id)
    lines = []
    for i in range(3 + run_id % 3):
        loc = {"x": float(rng.uniform(0, 32)), "y": float(rng.uniform(0, 24)), "z": float(rng.uniform(0, 16))}
        line: dict[str, Any] = {"type": "orientedPoint" if oriented else "point", "location": loc}
        if oriented:
            angle = 0.3 * (i + 1)
            c, s = float(np.cos(angle)), float(np.sin(angle))
            line["xyz_rotation_matrix"] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
        lines.append(line)
    return lines


def tables(extra_runs: int = 0) -> dict[str, list[dict[str, Any]]]:
    """The rows of the synthetic portal; ``extra_runs`` more runs (one tomogram each) in dataset 10002."""
    runs = dict(RUNS)
    for i in range(extra_runs):
        runs[1000 + i] = (f"TS_X{i:03d}", 10002)
    t: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "datasets", "runs", "tomogramVoxelSpacings", "tomograms", "tomogramAuthors", "annotations",
        "annotationShapes", "annotationFiles", "annotationAuthors")}  # fmt: skip
    for ds in DATASETS:
        t["datasets"].append(
            {"id": ds, "title": f"Synthetic dataset {ds}", "s3Prefix": f"s3://{BUCKET}/{ds}/"}
        )
    for run_id, (name, ds) in runs.items():
        prefix = f"s3://{BUCKET}/{_key(ds, name)}"
        t["runs"].append({"id": run_id, "name": name, "datasetId": ds, "s3Prefix": prefix + "/"})
        vs_id = run_id * 10
        vs_prefix = f"{prefix}/Reconstructions/VoxelSpacing{VOXEL:.3f}"
        t["tomogramVoxelSpacings"].append(
            {"id": vs_id, "runId": run_id, "voxelSpacing": VOXEL, "s3Prefix": vs_prefix + "/"}
        )
        kinds = [("WBP", "raw", None, False)]
        if run_id < 1000:
            kinds.append(("WBP", "denoised", "DenoisET", True))
        for n, (method, processing, software, ctf) in enumerate(kinds):
            tomo_id = run_id * 100 + n
            t["tomograms"].append({
                "id": tomo_id, "runId": run_id, "tomogramVoxelSpacingId": vs_id, "name": f"{name}-{n}",
                "voxelSpacing": VOXEL, "sizeX": SHAPE[2], "sizeY": SHAPE[1], "sizeZ": SHAPE[0],
                "reconstructionMethod": method, "processing": processing, "processingSoftware": software,
                "reconstructionSoftware": "IMOD", "ctfCorrected": ctf, "depositionId": 1,
                "s3OmezarrDir": f"{vs_prefix}/Tomograms/{100 + n}/{name}.zarr",
                "httpsOmezarrDir": f"https://files.example/{_key(ds, name)}/{100 + n}/{name}.zarr",
                "fiducialAlignmentStatus": "FIDUCIAL", "isPortalStandard": n == 0,
            })  # fmt: skip
            t["tomogramAuthors"].append({"id": tomo_id, "tomogramId": tomo_id, "name": "Ada Author",
                                         "authorListOrder": 1})  # fmt: skip
        if run_id >= 1000:
            continue
        for a, (obj_id, obj_name, shape, fmt, pubs) in enumerate(ANNOTATIONS):
            ann_id = run_id * 100 + a
            t["annotations"].append({
                "id": ann_id, "runId": run_id, "tomogramVoxelSpacingId": vs_id, "objectId": obj_id,
                "objectName": obj_name, "annotationPublication": pubs, "annotationMethod": "manual",
                "groundTruthStatus": a % 2 == 0, "methodType": "manual", "objectCount": 3,
                "s3MetadataPath": f"{vs_prefix}/Annotations/{ann_id}/meta.json",
            })  # fmt: skip
            t["annotationAuthors"].append(
                {
                    "id": ann_id,
                    "annotationId": ann_id,
                    "name": "Bob Picker" if a else "Eve",
                    "authorListOrder": 1,
                }
            )
            t["annotationShapes"].append({"id": ann_id, "annotationId": ann_id, "shapeType": shape})
            stem = f"{obj_name.replace(' ', '_')}-1.0_{shape.lower()}"
            ext = {"ndjson": "ndjson", "zarr": "zarr", "mrc": "mrc", "glb": "glb"}[fmt]
            t["annotationFiles"].append({
                "id": ann_id * 10, "annotationShapeId": ann_id, "tomogramVoxelSpacingId": vs_id,
                "format": fmt, "s3Path": f"{vs_prefix}/Annotations/{100 + a}/{stem}.{ext}",
                "httpsPath": f"https://files.example/{stem}.{ext}", "source": "dataset_author",
                "isVisualizationDefault": True,
            })  # fmt: skip
    return t


def public_writer(s3: Any) -> Any:
    """s3fs on the loopback server writing public-read objects (the portal's bucket is public)."""
    import s3fs

    return s3fs.S3FileSystem(
        **s3.fs_args(), use_listings_cache=False, s3_additional_kwargs={"ACL": "public-read"}
    )


def upload(fs: Any, rows: dict[str, list[dict[str, Any]]], tmp: str) -> None:
    """Write every file the rows point at into the bucket (``fs``: s3fs on the loopback server); zarr
    stores as the portal's (zarr v2, ``/`` dimension separator, 3 levels)."""
    import os

    import zarr

    def put_zarr(url: str, levels: list[np.ndarray]) -> None:
        local = os.path.join(tmp, url.split("://", 1)[1])
        os.makedirs(os.path.dirname(local), exist_ok=True)
        zarr3 = zarr.__version__.startswith("3")
        group = zarr.open_group(local, mode="w", **({"zarr_format": 2} if zarr3 else {}))
        # the portal's OME-Zarrs (ome-zarr writer) use "/" chunk keys: 2/0/0/0, not 2/0.0.0
        separator = {"chunk_key_encoding": {"name": "v2", "separator": "/"}} if zarr3 else {
            "dimension_separator": "/"}  # fmt: skip
        datasets = []
        for i, level in enumerate(levels):
            make = group.create_array if zarr3 else group.create_dataset
            arr = make(str(i), shape=level.shape, dtype=level.dtype, chunks=(16, 16, 16), **separator)
            arr[...] = level
            scale = VOXEL * 2**i
            datasets.append(
                {"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": [scale] * 3}]}
            )
        axes = [{"name": a, "type": "space", "unit": "angstrom"} for a in "zyx"]
        group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
        fs.put(local, url.split("://", 1)[1], recursive=True)

    for tomo in rows["tomograms"]:
        run_id = tomo["runId"]
        put_zarr(tomo["s3OmezarrDir"], [tomogram_data(run_id, lv) + tomo["id"] % 100 for lv in range(3)])
    shapes = {s["id"]: s for s in rows["annotationShapes"]}
    for f in rows["annotationFiles"]:
        shape = shapes[f["annotationShapeId"]]["shapeType"]
        run_id = f["id"] // 1000
        path = f["s3Path"].split("://", 1)[1]
        if f["format"] == "ndjson":
            lines = points_of(run_id, shape == "OrientedPoint") if run_id != 103 else []
            fs.pipe_file(path, "\n".join(json.dumps(line) for line in lines).encode())
        elif f["format"] == "zarr":
            mask = (tomogram_data(run_id) > 0.5).astype(np.uint8)
            if shape == "InstanceSegmentationMask":
                mask = mask * 3
            put_zarr(f["s3Path"], [mask, mask[::2, ::2, ::2], mask[::4, ::4, ::4]])
        else:
            fs.pipe_file(path, b"not used")
