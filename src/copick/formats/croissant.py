"""The ML-Croissant manifest copick 1.31 writes for a project: ``Croissant/metadata.json`` (JSON-LD)
and one CSV table per entity kind beside it.

One declaration of the tables (``TABLES``: record-set name, CSV columns and their Croissant data
types) serves both directions: ``read_manifest`` finds each record set's CSV through the manifest
(a ``cr:FileObject`` of ``distribution``) and returns its rows; ``manifest_document`` and
``csv_bytes`` write the same layout, byte for byte as 1.31 (CSV rows end in ``\\r\\n``, the JSON is
indented by 2 without a final newline). Only the standard library is used: the ``mlcroissant``
package is not needed to read what copick writes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from copick.errors import CorruptFileError

MANIFEST_DIR = "Croissant"
MANIFEST_FILE = "metadata.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.1"

TEXT, FLOAT, BOOLEAN = "sc:Text", "sc:Float", "sc:Boolean"
_PORTAL = ("portal_object_name", "portal_session_id", "portal_annotation_id", "portal_annotation_file_id")


class Table(NamedTuple):
    """One record set: its name (``copick/<name>``, CSV ``<name>.csv``) and ``(column, dataType)``s."""

    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def file_id(self) -> str:
        return self.name.replace("_", "-") + "-csv"

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def _texts(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, TEXT) for n in names)


_LABELS = (*_texts("run"), ("voxel_size", FLOAT), *_texts("user_id", "session_id", "name"))
TABLES = (
    Table("runs", _texts("name", "portal_run_id", "split")),
    Table("voxel_spacings", (("run", TEXT), ("voxel_size", FLOAT))),
    Table(
        "tomograms",
        (
            ("run", TEXT),
            ("voxel_size", FLOAT),
            *_texts("tomo_type", "url", "portal_tomo_type", "portal_tomogram_id"),
        ),
    ),
    Table("features", (("run", TEXT), ("voxel_size", FLOAT), *_texts("tomo_type", "feature_type", "url"))),
    Table(
        "picks",
        (
            *_texts("run", "user_id", "session_id", "object_name"),
            ("voxel_size", FLOAT),
            *_texts("url", "sha256", *_PORTAL),
        ),
    ),
    Table("meshes", _texts("run", "user_id", "session_id", "object_name", "url", "sha256")),
    Table("segmentations", (*_LABELS, ("is_multilabel", BOOLEAN), *_texts("url", *_PORTAL))),
    Table("instance_segmentations", (*_LABELS, *_texts("url", *_PORTAL))),
    Table("panoptic_segmentations", (*_LABELS, *_texts("url", *_PORTAL))),
    Table("objects", _texts("name", "url")),
)
TABLE = {t.name: t for t in TABLES}

#: Standard split names and the MLCommons definition each stands for (other names: an empty URL).
SPLIT_URLS = {
    "train": "https://mlcommons.org/definitions/training_split",
    "val": "https://mlcommons.org/definitions/validation_split",
    "validation": "https://mlcommons.org/definitions/validation_split",
    "test": "https://mlcommons.org/definitions/test_split",
    "eval": "https://mlcommons.org/definitions/test_split",
}

CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "copick": "https://copick.org/schema/",
    "copick:baseUrl": "copick:baseUrl",
    "copick:config": {"@id": "copick:config", "@type": "@json"},
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


# --- reading ---------------------------------------------------------------------------------------


class Manifest(NamedTuple):
    """A parsed manifest: the JSON document, its data base URL and the rows of each record set."""

    document: dict[str, Any]
    base_url: str
    rows: dict[str, list[dict[str, str]]]

    @property
    def config(self) -> dict[str, Any]:
        """The project config 1.31 embeds (``copick:config``: name, objects ...), ``{}`` when absent."""
        value = self.document.get("copick:config")
        return value if isinstance(value, dict) else {}


def parse_document(data: bytes, where: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError as err:
        raise CorruptFileError(f"{where}: not a Croissant manifest (invalid JSON: {err}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("recordSet"), list):
        raise CorruptFileError(f"{where}: not a Croissant manifest (no 'recordSet' list).")
    return document


def read_manifest(manifest_url: str, read: Callable[[str], bytes], base_url: str | None = None) -> Manifest:
    """Read the manifest at ``manifest_url`` and the CSV of each copick record set (``read(url)``
    gives a file's bytes). Sidecar CSVs are read next to the manifest, wherever the manifest says
    they were published, so a copied or moved project reads its own tables. ``base_url`` overrides
    the manifest's ``copick:baseUrl`` (where the data files are); without either, the data are the
    folder above ``Croissant/``."""
    document = parse_document(read(manifest_url), manifest_url)
    here = posixpath.dirname(manifest_url)
    files = {
        d.get("@id"): d.get("contentUrl")
        for d in document.get("distribution", [])
        if isinstance(d, dict) and d.get("contentUrl")
    }
    rows: dict[str, list[dict[str, str]]] = {}
    for record_set in document["recordSet"]:
        name = str(record_set.get("@id", "")).removeprefix("copick/")
        columns = _columns(record_set)
        if name not in TABLE or not columns:
            continue
        url = files.get(columns[0][1])
        if url is None:
            raise CorruptFileError(f"{manifest_url}: record set {name!r} names no file of 'distribution'.")
        rows[name] = parse_csv(read(_sidecar(url, here)), url, [c for c, _ in columns])
    data_url = base_url or document.get("copick:baseUrl") or posixpath.dirname(here)
    return Manifest(document, str(data_url).rstrip("/"), rows)


def _columns(record_set: dict[str, Any]) -> list[tuple[str, str]]:
    """``(column, file object id)`` of the record set's CSV-backed fields."""
    found = []
    for field in record_set.get("field", []):
        source = field.get("source") if isinstance(field, dict) else None
        if isinstance(source, dict) and "extract" in source:
            found.append((source["extract"].get("column"), source.get("fileObject", {}).get("@id")))
    return found


def _sidecar(url: str, here: str) -> str:
    """A CSV's URL: relative ones resolve against the manifest's folder; a table published under
    ``.../Croissant/`` is read from the manifest's own folder."""
    if "://" not in url and not url.startswith("/"):
        return posixpath.join(here, url)
    parent, name = posixpath.split(url)
    return posixpath.join(here, name) if posixpath.basename(parent) == MANIFEST_DIR else url


def parse_csv(data: bytes, where: str, columns: Iterable[str]) -> list[dict[str, str]]:
    """The rows of a CSV table (dicts by column); a missing column of ``columns`` is an error."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise CorruptFileError(f"{where}: the CSV table has no column {', '.join(missing)}.")
    return list(reader)


# --- writing ---------------------------------------------------------------------------------------


def csv_bytes(table: Table, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A table's CSV as 1.31 writes it: header, then one row per record (``""`` for None)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.column_names)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in table.column_names])
    return out.getvalue().encode()


def cell(value: Any) -> Any:
    """A value as a CSV cell: booleans lowercase (``true``), floats as Python prints them."""
    return str(value).lower() if isinstance(value, bool) else value


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_tables(
    write: Callable[[str, bytes], None], rows: Mapping[str, Iterable[Mapping[str, Any]]], names: Iterable[str]
) -> dict[str, str]:
    """Encode the tables ``names`` (once each) of ``rows`` and ``write(file name, bytes)`` each; their
    sha256 by table name, for the manifest."""
    digests = {}
    for name in dict.fromkeys(names):
        data = csv_bytes(TABLE[name], rows[name])
        write(TABLE[name].file_name, data)
        digests[name] = sha256(data)
    return digests


def manifest_document(
    info: Mapping[str, Any],
    base_url: str,
    config: Mapping[str, Any],
    table_sha256: Mapping[str, str],
    splits: Iterable[str],
) -> dict[str, Any]:
    """The ``metadata.json`` document: dataset ``info`` (name, description, version, license,
    citeAs, datePublished), the data's ``base_url``, the embedded copick ``config``, one file object
    and one record set per table (with the CSV's sha256), and the ``splits`` record set when runs
    are assigned to splits."""
    splits = list(dict.fromkeys(splits))
    root = base_url.rstrip("/")
    distribution = [
        {
            "@type": "cr:FileObject", "@id": t.file_id, "name": t.file_id,
            "contentUrl": f"{root}/{MANIFEST_DIR}/{t.file_name}", "encodingFormat": "text/csv",
            "sha256": table_sha256[t.name],
        }
        for t in TABLES
    ]  # fmt: skip
    record_sets = [_record_set(t, bool(splits)) for t in TABLES]
    if splits:
        record_sets.append(_splits_record_set(splits))
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        **info,
        "copick:baseUrl": base_url,
        "copick:config": dict(config),
        "distribution": distribution,
        "recordSet": record_sets,
    }


def with_tables(
    document: dict[str, Any], table_sha256: Mapping[str, str], splits: Iterable[str]
) -> dict[str, Any]:
    """``document`` after tables changed (their new sha256 by table name), with the ``splits``
    record set (and the runs' ``split`` reference to it) naming ``splits``, or without both when
    there are none."""
    splits = list(dict.fromkeys(splits))
    ids = {TABLE[name].file_id: digest for name, digest in table_sha256.items()}
    for entry in document.get("distribution", []):
        if entry.get("@id") in ids:
            entry["sha256"] = ids[entry["@id"]]
    record_sets = [r for r in document["recordSet"] if r.get("@id") != "copick/splits"]
    for i, record_set in enumerate(record_sets):
        if record_set.get("@id") == "copick/runs":
            record_sets[i] = _record_set(TABLE["runs"], bool(splits))
    if splits:
        record_sets.append(_splits_record_set(splits))
    return {**document, "recordSet": record_sets}


def _record_set(table: Table, with_splits: bool) -> dict[str, Any]:
    fields = []
    for column, data_type in table.columns:
        field = {
            "@type": "cr:Field", "@id": f"copick/{table.name}/{column}", "dataType": data_type,
            "source": {"fileObject": {"@id": table.file_id}, "extract": {"column": column}},
        }  # fmt: skip
        if with_splits and table.name == "runs" and column == "split":
            field["references"] = {"field": {"@id": "copick/splits/name"}}
        fields.append(field)
    return {"@type": "cr:RecordSet", "@id": f"copick/{table.name}", "name": table.name, "field": fields}


def _splits_record_set(splits: list[str]) -> dict[str, Any]:
    data = [{"copick/splits/name": name, "copick/splits/url": SPLIT_URLS.get(name, "")} for name in splits]
    return {
        "@type": "cr:RecordSet", "@id": "copick/splits", "name": "splits",
        "description": "Maps split names to MLCommons definition URLs.", "key": {"@id": "copick/splits/name"},
        "field": [
            {"@type": "cr:Field", "@id": "copick/splits/name", "dataType": "sc:Text"},
            {"@type": "cr:Field", "@id": "copick/splits/url", "dataType": "sc:URL"},
        ],
        "data": data,
    }  # fmt: skip


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """The manifest's bytes as 1.31 writes them (indent 2, no final newline)."""
    return json.dumps(document, indent=2).encode()
