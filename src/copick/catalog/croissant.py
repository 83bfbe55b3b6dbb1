"""``ManifestCatalog``: the entities an ML-Croissant manifest lists, as a copick catalog.

The manifest's CSV tables (``copick.formats.croissant``) name every run (with its ML ``split``),
voxel spacing, tomogram, feature map, picks file, mesh and segmentation, each with the URL of its
bytes: relative to the data's base URL (a project exported from folders, or the portal's bucket)
or absolute (an ``s3://`` portal file); portal picks files (``.ndjson``) are decoded as the portal
writes them. Records are indexed per run once, when the catalog is built. ``UnlistedCatalog`` is a
folder layer's catalog without what the manifest already lists (the data folder of a project opened
without an overlay, where new entities are written next to the listed ones).
"""

from __future__ import annotations

import logging
import posixpath
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from copick import layout
from copick.catalog import (
    FEATURES,
    MESHES,
    PICKS,
    RUN,
    SEGMENTATION,
    TOMOGRAM,
    VOXEL_SPACING,
    Locator,
    Record,
)
from copick.catalog.folders import PICKS_DEFAULTS
from copick.listed_meta import ListedMeta
from copick.metadata import (
    CopickFeaturesMeta,
    CopickMeshMeta,
    CopickPicksFile,
    CopickRunMeta,
    CopickSegmentationMeta,
    CopickTomogramMeta,
    CopickVoxelSpacingMeta,
    construct_unchecked,
)

if TYPE_CHECKING:
    from copick.formats.croissant import Manifest
    from copick.storage import Layer

_log = logging.getLogger(__name__)

#: Segmentation tables and the kind of segmentation their rows are.
_SEGMENTATION_TABLES = {
    "segmentations": None,
    "instance_segmentations": "instance",
    "panoptic_segmentations": "panoptic",
}


class CopickRunMetaMLC(CopickRunMeta):
    """A run listed by a manifest: its ML split and, for portal exports, its portal run id."""

    split: str | None = None
    portal_run_id: str | None = None


class ManifestCatalog:
    """Records of the manifest ``manifest`` whose data are in ``base`` (a read-only layer for URLs
    under the base URL; ``open_layer(url)`` gives the layer of the folder of any other URL)."""

    def __init__(self, manifest: Manifest, base: Layer, open_layer: Any, source: str, read_only: bool = True):
        self.manifest = manifest
        self.base = base
        self.source = source
        self.read_only = read_only
        self._open_layer = open_layer
        self._layers: dict[str, Layer] = {}
        self._index = self._build()

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        return self._index.get((kind, run, voxel_size) if kind in (TOMOGRAM, FEATURES) else (kind, run), [])

    def listed_paths(self) -> set[tuple[str, str]]:
        """``(kind, path in the base layer)`` of every record (runs: their name)."""
        found = set()
        for (kind, *_), records in self._index.items():
            for r in records:
                if kind == RUN:
                    found.add((RUN, r.meta.name))
                elif r.locator is not None and r.locator.layer is self.base:
                    found.add((kind, r.locator.path))
        return found

    @property
    def splits(self) -> dict[str, list[str]]:
        """Run names per split, in manifest order."""
        found: dict[str, list[str]] = defaultdict(list)
        for r in self.records(RUN):
            if r.meta.split:
                found[r.meta.split].append(r.meta.name)
        return dict(found)

    # --- indexing ------------------------------------------------------------------------------

    def _locator(self, url: str) -> Locator:
        """The locator of a data URL: under the base URL, a path of the base layer; else the file's
        name in the (read-only) layer of its folder."""
        base = self.manifest.base_url
        if "://" not in url and not url.startswith("/"):
            return Locator(self.base, url.strip("/"))
        if url.startswith(base + "/"):
            return Locator(self.base, url[len(base) + 1 :].strip("/"))
        parent, name = posixpath.split(url.rstrip("/"))
        layer = self._layers.get(parent)
        if layer is None:
            layer = self._layers[parent] = self._open_layer(parent)
            layer.read_only = True
        return Locator(layer, name)

    def _record(self, meta: Any, url: str, reader: Any = None) -> Record:
        locator = self._locator(url)
        if reader is not None:
            locator = Locator(locator.layer, locator.path, reader)
        return Record(meta, locator, self.source, read_only=self.read_only)

    def _rows(self, table: str) -> Iterator[dict[str, str]]:
        """The rows of ``table`` whose names copick's layout accepts (``_checked``)."""
        return (row for row, _ in self._checked(table))

    def _checked(self, table: str) -> Iterator[tuple[dict[str, str], dict[str, Any] | None]]:
        """``(row, its segmentation meta values or None)`` for the rows of ``table`` whose names
        copick's layout accepts; another row is left out with a warning naming the table and the
        rule it broke, as a folder no name can make is not listed (such a run or entity could be
        neither written nor copied)."""
        for row in self.manifest.rows.get(table, []):
            try:
                values = _check_names(table, row)
            except ValueError as err:
                _log.warning(f"{self.source}: a row of {table}.csv is left out: {err}")
                continue
            yield row, values

    def _build(self) -> dict[tuple, list[Record]]:
        rows = self._rows
        index: dict[tuple, list[Record]] = defaultdict(list)
        for row in rows("runs"):
            meta = CopickRunMetaMLC(
                name=row["name"],
                split=row.get("split") or None,
                portal_run_id=row.get("portal_run_id") or None,
            )
            index[(RUN, None)].append(Record(meta, None, self.source, read_only=self.read_only))
        for row in rows("voxel_spacings"):
            meta = CopickVoxelSpacingMeta(voxel_size=float(row["voxel_size"]))
            index[(VOXEL_SPACING, row["run"])].append(
                Record(meta, None, self.source, read_only=self.read_only)
            )
        for row in rows("tomograms"):
            meta = ListedMeta(CopickTomogramMeta, {"tomo_type": row["tomo_type"]})
            index[(TOMOGRAM, row["run"], float(row["voxel_size"]))].append(self._record(meta, row["url"]))
        for row in rows("features"):
            values = {"tomo_type": row["tomo_type"], "feature_type": row["feature_type"]}
            meta = construct_unchecked(CopickFeaturesMeta, values)
            index[(FEATURES, row["run"], float(row["voxel_size"]))].append(self._record(meta, row["url"]))
        for table, kind, cls in (("picks", PICKS, CopickPicksFile), ("meshes", MESHES, CopickMeshMeta)):
            for row in rows(table):
                values = {"pickable_object_name": row["object_name"], "user_id": row["user_id"]}
                values["session_id"] = row["session_id"]
                reader = _ndjson_reader(row) if kind == PICKS else None
                if kind == PICKS:  # a portal file's voxel size is the row's (copick JSON holds its own)
                    values = {**values, **PICKS_DEFAULTS}
                    if reader is not None:
                        values["voxel_spacing"] = reader.keywords["voxel_size"]
                meta = ListedMeta(cls, values)
                index[(kind, row["run"])].append(self._record(meta, row["url"], reader))
        for table in _SEGMENTATION_TABLES:
            for row, values in self._checked(table):
                meta = ListedMeta(CopickSegmentationMeta, values)
                index[(SEGMENTATION, row["run"])].append(self._record(meta, row["url"]))
        return dict(index)


def _check_names(table: str, row: dict[str, str]) -> dict[str, Any] | None:
    """Raise ``InvalidNameError`` (a ``ValueError``) when a name of ``row`` of ``table`` breaks a rule
    of copick's layout (the names its entity would be stored under); a segmentation row's meta
    values are returned (the flags read once), ``None`` for other tables."""
    layout.check_run_name(row["name"] if table == "runs" else row["run"])
    if table in ("voxel_spacings", "tomograms", "features") or table in _SEGMENTATION_TABLES:
        layout.check_voxel_size(row["voxel_size"])
    if table == "tomograms":
        layout.tomogram_store_name(row["tomo_type"])
    elif table == "features":
        layout.features_store_name(row["tomo_type"], row["feature_type"])
    elif table in ("picks", "meshes"):
        layout.annotation_file_name(row["user_id"], row["session_id"], row["object_name"], ".json")
    elif table in _SEGMENTATION_TABLES:
        values = _segmentation_values(row, _SEGMENTATION_TABLES[table])
        layout.segmentation_store_name(
            values["voxel_size"], row["user_id"], row["session_id"], row["name"], values.pop("seg_type")
        )
        return values
    return None


def _ndjson_reader(row: dict[str, str]) -> Any:
    """The decoder of a portal picks file a manifest lists (``.ndjson``: voxel coordinates at the
    row's voxel size, rotations where given), ``None`` for copick's own JSON."""
    from functools import partial

    from copick.portal.catalog import read_ndjson

    if not row["url"].endswith(".ndjson"):
        return None
    return partial(read_ndjson, voxel_size=float(row.get("voxel_size") or 1.0), oriented=True)


def _segmentation_values(row: dict[str, str], kind: str | None) -> dict[str, Any]:
    """A segmentation row's meta values and its type (``seg_type``: the table's ``kind``, else
    multilabel or binary by the row's flag)."""
    multilabel = row.get("is_multilabel", "").lower() == "true"
    return {
        "user_id": row["user_id"], "session_id": row["session_id"], "name": row["name"],
        "is_multilabel": multilabel, "is_instance": kind == "instance", "is_panoptic": kind == "panoptic",
        "voxel_size": float(row["voxel_size"]),
        "seg_type": kind or ("multilabel" if multilabel else "binary"),
    }  # fmt: skip


class UnlistedCatalog:
    """A folder layer's catalog (``folders``) without the entities ``manifest`` lists."""

    def __init__(self, folders: Any, manifest: ManifestCatalog):
        self.folders = folders
        self._listed = manifest.listed_paths()

    def expect_runs(self, names: list[str]) -> None:
        self.folders.expect_runs(names)

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        listed = self._listed
        if kind == RUN:
            return [r for r in self.folders.records(kind) if (RUN, r.meta.name) not in listed]
        if kind == VOXEL_SPACING:  # spacings merge by size: the manifest's copy comes first
            return self.folders.records(kind, run, voxel_size)
        return [
            r for r in self.folders.records(kind, run, voxel_size) if (kind, r.locator.path) not in listed
        ]


class NoRecords:
    """The catalog of a data folder the manifest speaks for: it lists nothing itself."""

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        return []

    def expect_runs(self, names: list[str]) -> None:
        """Nothing is listed ahead."""
