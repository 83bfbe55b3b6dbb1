"""``PortalCatalog``: the records of CryoET Data Portal datasets, as a copick catalog.

Nothing is fetched until a record is first asked for; then all entity classes of all the datasets'
runs come at once (``client.fetch_tables``, through the on-disk ``cache``) and are indexed per run.
Runs are named by their portal id; tomogram types are built from the portal's processing fields;
picks are the Point / OrientedPoint annotation files (ndjson, decoded by ``read_ndjson``) and
segmentations the zarr (Instance)SegmentationMask files, of config objects matched by identifier.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from functools import lru_cache, partial
from typing import Any

from copick.catalog import PICKS, RUN, SEGMENTATION, TOMOGRAM, VOXEL_SPACING, Locator, Record
from copick.errors import ConfigError, CorruptFileError

PORTAL_USER = "data-portal"
POINT_SHAPES = ("Point", "OrientedPoint")
MASK_SHAPES = ("SegmentationMask", "InstanceSegmentationMask")


def camel(value: str) -> str:
    """``Fourier_Space`` -> ``fourierSpace``, ``WBP`` -> ``wbp``: copick 1.31's tomogram-type words."""
    words = re.sub(r"[_-]+", " ", value).title().replace(" ", "")
    return words[:1].lower() + words[1:]


def tomo_type(tomogram: dict[str, Any]) -> str:
    name = f"{camel(tomogram['reconstructionMethod'])}-{camel(tomogram['processing'])}"
    if tomogram.get("processingSoftware"):
        name += f"-{camel(tomogram['processingSoftware'])}"
    return name + ("-ctfdeconv" if tomogram.get("ctfCorrected") else "")


@lru_cache(maxsize=512)
def _snake_key(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def snake(row: dict[str, Any]) -> dict[str, Any]:
    """A portal row with snake-case keys (``s3OmezarrDir`` -> ``s3_omezarr_dir``), as 1.31's models."""
    return {_snake_key(k): v for k, v in row.items()}


def read_ndjson(data: bytes, where: str, voxel_size: float, oriented: bool) -> Any:
    """Points of a portal ndjson file as ``PickArrays``: locations are voxels of ``voxel_size``
    (converted to Angstrom); ``xyz_rotation_matrix`` is the rotation of an oriented point."""
    import json

    import numpy as np

    from copick.formats.picks_json import PickArrays

    positions, transforms = [], []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            point = json.loads(line)
            loc = point["location"]
            positions.append((float(loc["x"]), float(loc["y"]), float(loc["z"])))
            transform = np.eye(4)
            if oriented and point.get("xyz_rotation_matrix") is not None:
                transform[:3, :3] = np.asarray(point["xyz_rotation_matrix"], dtype=np.float64).reshape(3, 3)
            transforms.append(transform)
        except (ValueError, KeyError, TypeError) as err:
            raise CorruptFileError(f"{where}, line {number}: not a portal point ({err})") from None
    if not positions:
        return PickArrays.empty()
    return PickArrays.build(np.asarray(positions) * voxel_size, np.asarray(transforms))


class PortalCatalog:
    """Records of the runs of ``dataset_ids`` on the portal at ``url``; objects matched by identifier."""

    def __init__(self, config: Any, overlay_dir: str | None, tables: dict[str, Any] | None = None):
        from copick.portal import cache, client

        self.dataset_ids = list(config.dataset_ids)
        self.url = client.portal_url(getattr(config, "portal_url", None))
        self.objects = {o.identifier: o.name for o in config.pickable_objects if o.identifier}
        self.settings = cache.CacheSettings.from_config(config)
        self.overlay_dir = overlay_dir
        self._tables = tables
        self._index: dict[tuple, list[Record]] | None = None
        self._layers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lock (roots go to process pools); the fetched rows travel along."""
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    # --- loading -------------------------------------------------------------------------------

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """The datasets' portal rows (fetched, or read from the cache, once)."""
        with self._lock:
            if self._tables is None:
                from copick.portal import cache, client

                fetch = partial(client.fetch_tables, self.url, self.dataset_ids)
                self._tables = cache.load_or_fetch(
                    self.settings, self.overlay_dir, self.url, self.dataset_ids, fetch
                )
                self._check_datasets(self._tables)
            return self._tables

    def _check_datasets(self, tables: dict[str, Any]) -> None:
        found = {d["id"] for d in tables["datasets"]}
        missing = [i for i in self.dataset_ids if i not in found]
        if missing:
            raise ConfigError(
                f"The CryoET Data Portal at {self.url} has no dataset with id {', '.join(map(str, missing))}."
            )

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        if self._index is None:
            tables = self.tables()
            with self._lock:
                if self._index is None:
                    self._index = self._build(tables)
        return self._index.get((kind, run, voxel_size) if kind == TOMOGRAM else (kind, run), [])

    def _blob(self, url: str, reader: Any = None) -> Locator:
        """The locator of ``s3://bucket/key``: the bucket as an anonymous read-only layer."""
        from copick.storage import Layer

        bucket, _, key = url.split("://", 1)[1].partition("/")
        layer = self._layers.get(bucket)
        if layer is None:
            layer = self._layers[bucket] = Layer.from_url(f"s3://{bucket}", {"anon": True})
            layer.read_only = True
        return Locator(layer, key.strip("/"), reader)

    # --- indexing ------------------------------------------------------------------------------

    def _build(self, t: dict[str, list[dict[str, Any]]]) -> dict[tuple, list[Record]]:
        from copick.portal import models as m

        index: dict[tuple, list[Record]] = defaultdict(list)
        run_name = {r["id"]: str(r["id"]) for r in t["runs"]}
        for r in t["runs"]:
            meta = m.CopickRunMetaCDP(
                name=str(r["id"]),
                portal_run_id=r["id"],
                portal_run_name=r["name"],
                portal_dataset_id=r["datasetId"],
            )
            index[(RUN, None)].append(Record(meta, None, f"CryoET Data Portal run {r['id']} ({r['name']})"))
        spacing = {}
        for vs in t["tomogramVoxelSpacings"]:
            spacing[vs["id"]] = vs["voxelSpacing"]
            meta = m.CopickVoxelSpacingMetaCDP(voxel_size=vs["voxelSpacing"], portal_vs_id=vs["id"])
            index[(VOXEL_SPACING, run_name[vs["runId"]])].append(
                Record(meta, None, f"CryoET Data Portal voxel spacing {vs['id']}")
            )
        self._index_tomograms(t, index, run_name, spacing)
        self._index_annotations(t, index, run_name, spacing)
        return dict(index)

    def _index_tomograms(self, t: dict, index: dict, run_name: dict, spacing: dict) -> None:
        from copick.portal import models as m

        authors = _authors(t["tomogramAuthors"], "tomogramId")
        for tomo in t["tomograms"]:
            if not tomo.get("s3OmezarrDir") or tomo.get("tomogramVoxelSpacingId") not in spacing:
                continue
            names = authors.get(tomo["id"], [])
            portal = m.PortalTomogramMeta(
                portal_metadata=m._PortalTomogram(**snake(tomo)), portal_authors=names
            )
            meta = m.CopickTomogramMetaCDP(
                tomo_type=tomo_type(tomo), portal_tomo_id=tomo["id"], portal_tomo_path=tomo["s3OmezarrDir"],
                portal_metadata=portal,
            )  # fmt: skip
            key = (TOMOGRAM, run_name[tomo["runId"]], spacing[tomo["tomogramVoxelSpacingId"]])
            source = f"CryoET Data Portal tomogram {tomo['id']}"
            index[key].append(
                Record(meta, self._blob(tomo["s3OmezarrDir"]), source, snake(tomo), tuple(names))
            )

    def _index_annotations(self, t: dict, index: dict, run_name: dict, spacing: dict) -> None:
        from copick.portal import models as m

        annotations = {a["id"]: a for a in t["annotations"]}
        shapes = {s["id"]: s for s in t["annotationShapes"]}
        authors = _authors(t["annotationAuthors"], "annotationId")
        for f in t["annotationFiles"]:
            shape = shapes.get(f["annotationShapeId"])
            ann = annotations.get(shape["annotationId"]) if shape else None
            if ann is None or ann["objectId"] not in self.objects:
                continue
            kind = shape["shapeType"]
            is_points = kind in POINT_SHAPES and f["format"] == "ndjson"
            if not (is_points or (kind in MASK_SHAPES and f["format"] == "zarr")):
                continue
            size = spacing.get(f.get("tomogramVoxelSpacingId") or ann.get("tomogramVoxelSpacingId"))
            if size is None:
                continue
            names = authors.get(ann["id"], [])
            portal = m.PortalAnnotationMeta(
                portal_annotation=m._PortalAnnotation(**snake(ann)),
                portal_annotation_shape=m._PortalAnnotationShape(**snake(shape)),
                portal_annotation_file=m._PortalAnnotationFile(**snake(f)),
                voxel_spacing=size,
                portal_author_names=names,
            )
            run, name = run_name[ann["runId"]], self.objects[ann["objectId"]]
            fields = {**snake(ann), **snake(f)}
            source = f"CryoET Data Portal annotation file {f['id']} (annotation {ann['id']})"
            if is_points:
                reader = partial(read_ndjson, voxel_size=size, oriented=kind == "OrientedPoint")
                meta = m.CopickPicksFileCDP(
                    pickable_object_name=name, user_id=PORTAL_USER, session_id=str(f["id"]), run_name=run,
                    voxel_spacing=size, unit="angstrom", points=[], trust_orientation=kind == "OrientedPoint",
                    portal_metadata=portal,
                )  # fmt: skip
                index[(PICKS, run)].append(
                    Record(meta, self._blob(f["s3Path"], reader), source, fields, tuple(names))
                )
            else:
                meta = m.CopickSegmentationMetaCDP(
                    user_id=PORTAL_USER, session_id=str(f["id"]), name=name, is_multilabel=False,
                    is_instance=kind == "InstanceSegmentationMask", voxel_size=size, portal_metadata=portal,
                )  # fmt: skip
                index[(SEGMENTATION, run)].append(
                    Record(meta, self._blob(f["s3Path"]), source, fields, tuple(names))
                )


def _authors(rows: list[dict[str, Any]], link: str) -> dict[int, list[str]]:
    """Author names per parent id, in author-list order."""
    by_parent: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for row in rows:
        by_parent[row[link]].append((row.get("authorListOrder") or 0, row["name"]))
    return {k: [name for _, name in sorted(v)] for k, v in by_parent.items()}
