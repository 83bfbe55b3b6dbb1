"""Export a project's folders as an ML-Croissant manifest (``copick config export-croissant``).

Writes ``<project root>/Croissant/metadata.json`` and its CSV tables (``copick.formats.croissant``)
as copick 1.31 does: one row per run, spacing, tomogram, feature map, picks file, mesh and
segmentation of the selected runs (URI filters per kind), each named by its path relative to the
project root (resolved against ``base_url`` by readers), picks and meshes with the sha256 of their
file unless asked not to; runs may be assigned to ML splits. The tables are written first and the
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
    root: Any,
    project_root: str,
    base_url: str,
    selection: CroissantSelection,
    info: Mapping[str, Any] | None = None,
    file_sha256: bool = True,
    force: bool = False,
) -> CroissantExport:
    """Write the manifest of ``root`` (a filesystem project whose folder is ``project_root``)."""
    from copick import __version__
    from copick.formats import croissant as fmt
    from copick.storage import Layer

    layer = Layer.from_url(project_root)
    target = f"{fmt.MANIFEST_DIR}/{fmt.MANIFEST_FILE}"
    if layer.exists(target) and not force:
        raise EntityExistsError(
            f"{layer.path(target)} already exists; pass --force to overwrite it "
            "(or append-croissant to add rows to it)."
        )
    tables = table_rows(root, os.path.abspath(project_root), selection, file_sha256)
    digests = {}
    for table in fmt.TABLES:
        data = fmt.csv_bytes(table, tables[table.name])
        layer.write_bytes(f"{fmt.MANIFEST_DIR}/{table.file_name}", data)
        digests[table.name] = fmt.sha256(data)
    config = root.config
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
    order = ("name", "description", "version", "user_id", "session_id", "pickable_objects")
    document = fmt.manifest_document(
        details, base_url, {k: embedded[k] for k in order}, digests, _split_names(selection.splits)
    )
    layer.write_bytes(target, fmt.document_bytes(document))
    return CroissantExport(layer.path(target), {name: len(rows) for name, rows in tables.items()})


def _split_names(splits: Mapping[str, list[str]]) -> list[str]:
    return [name for name, runs in splits.items() if runs]


def table_rows(
    root: Any, base: str, selection: CroissantSelection, file_sha256: bool, url_prefix: str = ""
) -> dict[str, list]:
    """Every table's rows (dicts by column) for the selected runs; URLs are paths relative to the
    folder ``base``, after ``url_prefix`` (``""``: relative URLs, resolved against the base URL)."""
    from copick.formats.croissant import TABLES, cell, sha256

    split_of = {run: name for name, runs in selection.splits.items() for run in runs}
    wanted = _selected_uris(root, selection)
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
    runs = [r for r in root.runs if selection.runs is None or r.name in selection.runs]
    for run in runs:
        rows["runs"].append({"name": run.name, "split": split_of.get(run.name)})
        for vs in run.voxel_spacings:
            rows["voxel_spacings"].append({"run": run.name, "voxel_size": vs.voxel_size})
            for tomogram in vs.tomograms:
                ids = {"run": run.name, "voxel_size": vs.voxel_size, "tomo_type": tomogram.tomo_type}
                if _keep(wanted, "tomogram", tomogram):
                    rows["tomograms"].append(
                        {**ids, "url": url_prefix + _relative(_tomogram_path(tomogram), base)}
                    )
                for features in tomogram.features:
                    if _keep(wanted, "feature", features):
                        url = url_prefix + _relative(features.path, base)
                        rows["features"].append({**ids, "feature_type": features.feature_type, "url": url})
        for table, entities, kind in (("picks", run.picks, "picks"), ("meshes", run.meshes, "mesh")):
            for entity in entities:
                if not _keep(wanted, kind, entity):
                    continue
                row = {
                    "run": run.name,
                    "user_id": entity.user_id,
                    "session_id": entity.session_id,
                    "object_name": entity.pickable_object_name,
                    "url": url_prefix + _relative(entity.path, base),
                }
                data = _file_bytes(entity) if file_sha256 or kind == "picks" else None
                if kind == "picks":
                    row["voxel_size"] = json.loads(data).get("voxel_spacing") if data else None
                row["sha256"] = sha256(data) if file_sha256 and data is not None else None
                rows[table].append(row)
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
                "url": url_prefix + _relative(segmentation.path, base),
            }
            rows[_segmentation_table(segmentation)].append(row)
    for obj in root.pickable_objects:
        if obj.is_particle and (selection.objects is None or obj.name in selection.objects):
            rows["objects"].append({"name": obj.name, "url": f"{url_prefix}Objects/{obj.name}.zarr"})
    return rows


def _tomogram_path(tomogram: Any) -> str:
    """Where a tomogram's store is: in the static layer when it is read-only, else the overlay."""
    return tomogram.static_path if tomogram.read_only else tomogram.overlay_path


def _segmentation_table(segmentation: Any) -> str:
    if getattr(segmentation, "is_instance", False):
        return "instance_segmentations"
    if getattr(segmentation, "is_panoptic", False):
        return "panoptic_segmentations"
    return "segmentations"


def _selected_uris(root: Any, selection: CroissantSelection) -> dict[str, set[str]]:
    """The URIs of the entities each kind's URI filters select (kinds without filters: absent)."""
    from copick.util.uri import serialize_copick_uri
    from copick.util.uri_select import resolve_copick_objects

    wanted: dict[str, set[str]] = {}
    for kind, uris in selection.uris.items():
        uris = list(uris)
        if uris:
            wanted[kind] = {
                serialize_copick_uri(e) for uri in uris for e in resolve_copick_objects(uri, root, kind)
            }
    return wanted


def _keep(wanted: dict[str, set[str]], kind: str, entity: Any) -> bool:
    from copick.util.uri import serialize_copick_uri

    return kind not in wanted or serialize_copick_uri(entity) in wanted[kind]


def _relative(path: str, base: str) -> str:
    """An entity's path relative to the project root (the URL readers resolve against the base URL)."""
    relative = os.path.relpath(path.split("://", 1)[-1], base)
    if relative.startswith(".."):
        raise ConfigError(f"{path} is not inside the project root {base}; pass the folder that holds it.")
    return relative.replace(os.sep, "/")


def _file_bytes(entity: Any) -> bytes:
    with open(entity.path.split("://", 1)[-1], "rb") as f:
        return f.read()


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
