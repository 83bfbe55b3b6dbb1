"""Export a project as an ML-Croissant manifest (``copick config export-croissant``).

Writes ``<project root>/Croissant/metadata.json`` and its CSV tables (``copick.formats.croissant``)
as copick 1.31 does: one row per run, spacing, tomogram, feature map, picks file, mesh and
segmentation of the selected runs (URI filters per kind), each named by its path relative to the
source's base (``croissant_source``: the project's folder, resolved against ``base_url`` by readers,
or the portal's ``s3://`` prefix), picks and meshes with the sha256 of their file unless asked not
to, portal entities with their portal ids; runs may be assigned to ML splits, and the rows are
renamed and filtered by ``croissant_reshape``. The tables are written first and the
manifest last, so a manifest on disk always names complete tables.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from copick.errors import ConfigError, EntityExistsError

#: The dataset description when neither the command nor the project gives one (as 1.31).
DEFAULT_DESCRIPTION = "Copick project exported as Croissant."


@dataclass
class CroissantSelection:
    """What to export: run names (``None``: all), copick URIs per kind (empty: all), object names
    whose maps are listed (``None``: every particle), and run names per ML split."""

    runs: list[str] | None = None
    uris: Mapping[str, Iterable[str]] = field(default_factory=dict)  # "tomogram", "picks" ...
    objects: list[str] | None = None
    splits: Mapping[str, list[str]] = field(default_factory=dict)


@dataclass
class CroissantExport:
    """What was written: the manifest's path and the number of rows of each table."""

    manifest: str
    rows: dict[str, int]


def export_croissant(
    source: Any,
    project_root: str,
    base_url: str,
    selection: CroissantSelection,
    info: Mapping[str, Any] | None = None,
    file_sha256: bool = True,
    force: bool = False,
    reshape: Any = None,
) -> CroissantExport:
    """Write the manifest of ``source`` (``croissant_source.CroissantSource``) under ``project_root``;
    URLs resolve against ``base_url`` (a portal source: the portal's own prefix). ``reshape``
    (``croissant_reshape.Reshape``) renames and filters the rows."""
    from copick import __version__
    from copick.formats import croissant as fmt
    from copick.ops.croissant_reshape import Reshape, apply, renamed_objects
    from copick.storage import Layer

    reshape = reshape or Reshape()
    layer = Layer.from_url(project_root)
    target = f"{fmt.MANIFEST_DIR}/{fmt.MANIFEST_FILE}"
    if layer.exists(target) and not force:
        raise EntityExistsError(
            f"{layer.path(target)} already exists; pass --force to overwrite it "
            "(or append-croissant to add rows to it)."
        )
    tables = apply(table_rows(source, selection, file_sha256), reshape)
    digests = fmt.write_tables(
        lambda file_name, data: layer.write_bytes(f"{fmt.MANIFEST_DIR}/{file_name}", data),
        tables,
        [table.name for table in fmt.TABLES],
    )
    config = source.root.config
    details = {
        "name": config.name,
        "description": config.description or DEFAULT_DESCRIPTION,
        "conformsTo": fmt.CONFORMS_TO,
        "version": __version__,
        "license": "CC-BY-4.0",
        "citeAs": f"copick project {config.name}",
        "datePublished": datetime.date.today().isoformat(),
    }
    details.update({k: v for k, v in (info or {}).items() if v})
    embedded = config.model_dump(
        mode="json", include={"name", "description", "version", "user_id", "session_id", "pickable_objects"}
    )
    embedded["pickable_objects"] = renamed_objects(embedded["pickable_objects"], reshape.object_names)
    order = ("name", "description", "version", "user_id", "session_id", "pickable_objects")
    base = source.base if source.is_portal else base_url
    document = fmt.manifest_document(
        details, base, {k: embedded[k] for k in order}, digests, _split_names(selection.splits)
    )
    layer.write_bytes(target, fmt.document_bytes(document))
    return CroissantExport(layer.path(target), {name: len(rows) for name, rows in tables.items()})


def _split_names(splits: Mapping[str, list[str]]) -> list[str]:
    return [name for name, runs in splits.items() if runs]


def table_rows(
    source: Any, selection: CroissantSelection, file_sha256: bool, absolute: bool = False
) -> dict[str, list]:
    """Every table's rows (dicts by column, portal entities' metadata under ``croissant_reshape.FACTS``)
    for the selected runs; URLs relative to the source's base, or with ``absolute`` all absolute."""
    from copick import layout
    from copick.entities.base import shown_location
    from copick.formats.croissant import TABLES, cell
    from copick.ops.croissant_reshape import FACTS
    from copick.ops.croissant_source import portal_facts

    root = source.root
    prefix = source.absolute_prefix if absolute else ""

    def url(entity: Any) -> str:
        return _url(shown_location(entity), source, prefix)

    split_of = {run: name for name, runs in selection.splits.items() for run in runs}
    filters = _uri_filters(selection)
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
    runs = [r for r in root.runs if selection.runs is None or r.name in selection.runs]
    _check_splits(selection.splits, {r.name for r in runs})
    files: list[tuple[dict[str, Any], Any, bool]] = []  # picks/mesh rows completed from their files
    for run in runs:
        wanted = _selected_uris(root, run.name, filters)
        portal_run = getattr(run.meta, "portal_run_id", None)
        rows["runs"].append({"name": run.name, "portal_run_id": portal_run, "split": split_of.get(run.name)})
        for vs in run.voxel_spacings:
            rows["voxel_spacings"].append({"run": run.name, "voxel_size": vs.voxel_size})
            for tomogram in vs.tomograms:
                ids = {"run": run.name, "voxel_size": vs.voxel_size, "tomo_type": tomogram.tomo_type}
                if _keep(wanted, "tomogram", tomogram):
                    portal_id = getattr(tomogram.meta, "portal_tomo_id", None)
                    row = {**ids, "url": url(tomogram), "portal_tomogram_id": portal_id}
                    rows["tomograms"].append({**row, FACTS: portal_facts(tomogram)})
                for features in tomogram.features:
                    if _keep(wanted, "feature", features):
                        rows["features"].append(
                            {**ids, "feature_type": features.feature_type, "url": url(features)}
                        )
        for table, entities, kind in (("picks", run.picks, "picks"), ("meshes", run.meshes, "mesh")):
            for entity in entities:
                if not _keep(wanted, kind, entity):
                    continue
                row = {
                    "run": run.name,
                    "user_id": entity.user_id,
                    "session_id": entity.session_id,
                    "object_name": entity.pickable_object_name,
                    "url": url(entity),
                }
                if kind == "picks":
                    row.update(_annotation_columns(entity))
                rows[table].append(row)
                files.append((row, entity, kind == "picks"))
        for segmentation in run.segmentations:
            if not _keep(wanted, "segmentation", segmentation):
                continue
            row = {
                "run": run.name,
                "voxel_size": segmentation.voxel_size,
                "user_id": segmentation.user_id,
                "session_id": segmentation.session_id,
                "name": segmentation.name,
                "is_multilabel": cell(segmentation.is_multilabel),
                "url": url(segmentation),
                **_annotation_columns(segmentation),
            }
            rows[_segmentation_table(segmentation)].append(row)
    if not source.is_portal:  # portal projects have no density maps of their objects
        for obj in root.pickable_objects:
            if obj.is_particle and (selection.objects is None or obj.name in selection.objects):
                rows["objects"].append({"name": obj.name, "url": prefix + layout.object_store_path(obj.name)})
    _complete_from_files(files, file_sha256)
    return rows


def _complete_from_files(files: list[tuple[dict[str, Any], Any, bool]], file_sha256: bool) -> None:
    """Fill the ``sha256`` of picks and mesh rows (``(row, entity, is_picks)``) and the ``voxel_size``
    of picks rows from their files, read concurrently (remote sources: one request each); a file is
    read only when needed."""
    from concurrent.futures import ThreadPoolExecutor

    from copick.entities.base import locator_of, stored_bytes
    from copick.formats.croissant import sha256

    def fill(item: tuple[dict[str, Any], Any, bool]) -> None:
        row, entity, is_picks = item
        portal_file = locator_of(entity).reader is not None  # portal ndjson: its voxel size is listed
        data = stored_bytes(entity) if file_sha256 or (is_picks and not portal_file) else None
        if is_picks:
            row["voxel_size"] = entity.meta.voxel_spacing if portal_file else _json_voxel_size(data)
        row["sha256"] = sha256(data) if file_sha256 and data is not None else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fill, files))


def _check_splits(splits: Mapping[str, list[str]], listed: set[str]) -> None:
    """Every run a split names must be among the rows (a typo would silently leave it unassigned)."""
    from copick.errors import MissingEntityError

    unknown = [f"{split}: {run}" for split, runs in splits.items() for run in runs if run not in listed]
    if unknown:
        raise MissingEntityError(
            f"The splits name runs that are not among the selected runs ({'; '.join(unknown)}); "
            f"selected: {', '.join(sorted(listed)) or 'none'}. Fix the run names or widen --runs."
        )


def _annotation_columns(entity: Any) -> dict[str, Any]:
    """The portal columns of a picks file or segmentation (empty for the project's own), and its
    portal metadata under ``FACTS``."""
    from copick.ops.croissant_reshape import FACTS
    from copick.ops.croissant_source import portal_facts

    facts = portal_facts(entity)
    if facts is None:
        return {FACTS: None}
    return {
        "portal_object_name": facts.get("object_name"),
        "portal_annotation_id": facts.get("id"),
        "portal_annotation_file_id": facts.get("annotation_file_id"),
        FACTS: facts,
    }


def _json_voxel_size(data: bytes | None) -> Any:
    """The ``voxel_spacing`` of a copick picks file's JSON."""
    return json.loads(data).get("voxel_spacing") if data else None


def _segmentation_table(segmentation: Any) -> str:
    """The table of a segmentation: instance and panoptic ones have their own, binary and
    multilabel ones share ``segmentations``."""
    from copick.kinds.images import segmentation_type_of

    seg_type = segmentation_type_of(segmentation)
    return f"{seg_type}_segmentations" if seg_type in ("instance", "panoptic") else "segmentations"


def _uri_filters(selection: CroissantSelection) -> dict[str, list[str]]:
    """Each kind's URI filters (kinds without filters: absent), each parsed once here so a malformed
    URI is an error even when no run is selected."""
    from copick.util.uri import parse_copick_uri

    filters = {kind: list(uris) for kind, uris in selection.uris.items()}
    filters = {kind: uris for kind, uris in filters.items() if uris}
    for kind, uris in filters.items():
        for uri in uris:
            parse_copick_uri(uri, kind)
    return filters


def _selected_uris(root: Any, run_name: str, filters: Mapping[str, list[str]]) -> dict[str, set[str]]:
    """The URIs of the entities of run ``run_name`` each kind's URI ``filters`` select."""
    from copick.util.uri import serialize_copick_uri
    from copick.util.uri_select import resolve_copick_objects

    return {
        kind: {
            serialize_copick_uri(e) for uri in uris for e in resolve_copick_objects(uri, root, kind, run_name)
        }
        for kind, uris in filters.items()
    }


def _keep(wanted: dict[str, set[str]], kind: str, entity: Any) -> bool:
    from copick.util.uri import serialize_copick_uri

    return kind not in wanted or serialize_copick_uri(entity) in wanted[kind]


def _url(location: str, source: Any, prefix: str) -> str:
    """A row's URL: relative to the source's base (after ``prefix``); a file outside the base keeps
    its URL or path when the source allows it (portal, manifest), else it is an error."""
    relative = source.relative(location)
    if relative is not None:
        return prefix + relative
    if source.external:
        return location
    raise ConfigError(
        f"{location} is not inside the project root {source.base}; pass the folder that holds it."
    )


def overlay_settings(
    overlay: str | None, fs_args: Mapping[str, Any] | None
) -> tuple[str | None, dict[str, Any]]:
    """``(overlay_root, overlay_fs_args)`` of an overlay given as a URL or a local folder (as 1.31
    stores it: ``local://<absolute path>``, ``auto_mkdir`` added unless the fs args set it)."""
    args = dict(fs_args or {})
    if not overlay:
        return None, args
    if "://" not in overlay:
        overlay = "local://" + os.path.abspath(overlay)
    if overlay.startswith(("file://", "local://")):
        args.setdefault("auto_mkdir", True)
    return overlay, args


def mlcroissant_config(
    manifest_url: str,
    overlay: str | None = None,
    overlay_fs_args: Mapping[str, Any] | None = None,
    static_fs_args: Mapping[str, Any] | None = None,
    croissant_fs_args: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON config ``export-croissant --emit-config`` writes: it reads the manifest at
    ``manifest_url`` (with an overlay: mode B); keys in 1.31's order."""
    document: dict[str, Any] = {
        "config_type": "mlcroissant",
        "pickable_objects": [],
        "croissant_url": manifest_url,
        "static_fs_args": dict(static_fs_args or {}),
        "croissant_fs_args": dict(croissant_fs_args or {}),
    }
    overlay_root, overlay_args = overlay_settings(overlay, overlay_fs_args)
    if overlay_root is not None:
        document.update(overlay_root=overlay_root, overlay_fs_args=overlay_args)
    return document
