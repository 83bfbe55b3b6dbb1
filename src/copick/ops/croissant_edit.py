"""Edit an exported ML-Croissant manifest in place: ``copick config set-splits`` (the ML split of
runs) and ``copick config append-croissant`` (rows of another project unioned in).

The tables are the CSVs beside ``metadata.json`` (as ``export-croissant`` writes them). Changed
tables are rewritten first and the manifest last, with the tables' new sha256 and a ``splits``
record set naming the distinct splits in use (none: no record set).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from copick.errors import MissingEntityError

#: The columns that identify a row of each table: an appended row replaces the row with its key.
PRIMARY_KEYS = {
    "runs": ("name",),
    "voxel_spacings": ("run", "voxel_size"),
    "tomograms": ("run", "voxel_size", "tomo_type"),
    "features": ("run", "voxel_size", "tomo_type", "feature_type"),
    "picks": ("run", "user_id", "session_id", "object_name"),
    "meshes": ("run", "user_id", "session_id", "object_name"),
    "segmentations": ("run", "voxel_size", "user_id", "session_id", "name"),
    "instance_segmentations": ("run", "voxel_size", "user_id", "session_id", "name"),
    "panoptic_segmentations": ("run", "voxel_size", "user_id", "session_id", "name"),
    "objects": ("name",),
}


class EditableManifest:
    """The manifest at ``url`` and its tables, read once; ``save`` writes the changed ones back."""

    def __init__(self, url: str, fs_args: dict | None = None):
        from copick.formats import croissant as fmt
        from copick.storage import Layer

        self.url = url
        folder, self.name = posixpath.split(url)
        self.layer = Layer.from_url(folder, fs_args)
        self.document = fmt.parse_document(self.layer.read_bytes(self.name), url)
        self.rows = {
            t.name: fmt.parse_csv(
                self.layer.read_bytes(t.file_name), f"{folder}/{t.file_name}", t.column_names
            )
            for t in fmt.TABLES
            if self.layer.exists(t.file_name)
        }

    def run_names(self) -> set[str]:
        return {row["name"] for row in self.rows.get("runs", [])}

    def splits(self) -> dict[str, list[str]]:
        """Run names per split, in table order."""
        found: dict[str, list[str]] = {}
        for row in self.rows.get("runs", []):
            if row.get("split"):
                found.setdefault(row["split"], []).append(row["name"])
        return found

    def save(self, changed: Iterable[str]) -> None:
        """Write the ``changed`` tables, then the manifest (their sha256, the splits record set)."""
        from copick.formats import croissant as fmt

        digests = fmt.write_tables(self.layer.write_bytes, self.rows, changed)
        document = fmt.with_tables(self.document, digests, self.splits())
        self.layer.write_bytes(self.name, fmt.document_bytes(document))


def set_splits(
    manifest_url: str,
    assign: Mapping[str, Iterable[str]],
    unassign: Iterable[str] = (),
    clear_all: bool = False,
    fs_args: dict | None = None,
) -> dict[str, list[str]]:
    """Assign runs to splits in the manifest at ``manifest_url``: every split cleared first with
    ``clear_all``, then ``assign`` (split -> run names), then the ``unassign`` runs cleared.
    Returns the runs of each split afterwards. Run names not in the manifest are an error."""
    manifest = EditableManifest(manifest_url, fs_args)
    unassign = list(unassign)
    known = manifest.run_names()
    unknown = sorted(({run for runs in assign.values() for run in runs} | set(unassign)) - known)
    if unknown:
        raise MissingEntityError(
            f"{manifest_url} lists no run {', '.join(unknown)}; its runs: {', '.join(sorted(known))}."
        )
    split_of = {run: split for split, runs in assign.items() for run in runs}
    for row in manifest.rows["runs"]:
        split = None if clear_all else row.get("split") or None
        row["split"] = None if row["name"] in unassign else split_of.get(row["name"], split)
    manifest.save(["runs"])
    return manifest.splits()


def append_croissant(
    manifest_url: str,
    source: Any,
    selection: Any,
    file_sha256: bool = True,
    fs_args: dict | None = None,
    reshape: Any = None,
) -> dict[str, int]:
    """Union the selected rows of ``source`` (``croissant_source.CroissantSource``: a filesystem
    project or portal datasets), renamed and filtered by ``reshape``, into the manifest at
    ``manifest_url``: a row whose key (``PRIMARY_KEYS``) is already there replaces it; new rows go
    last (runs: the table sorted by name). URLs are absolute; runs keep their split unless the
    selection assigns one; the config's objects are unioned in. Returns the number of rows appended
    or replaced per table."""
    from copick.ops.croissant_export import table_rows
    from copick.ops.croissant_reshape import Reshape, apply, renamed_objects

    reshape = reshape or Reshape()
    manifest = EditableManifest(manifest_url, fs_args)
    incoming = apply(table_rows(source, selection, file_sha256, absolute=True), reshape)
    kept_splits = {row["name"]: row.get("split") or None for row in manifest.rows.get("runs", [])}
    for row in incoming["runs"]:
        row["split"] = row["split"] or kept_splits.get(row["name"])
    counts = {}
    for name, rows in incoming.items():
        if rows:
            manifest.rows[name] = _union(manifest.rows.get(name, []), rows, PRIMARY_KEYS[name])
            counts[name] = len(rows)
    if "runs" in counts:  # the runs table is kept sorted by name, as 1.31 keeps it
        manifest.rows["runs"].sort(key=lambda row: row["name"])
    objects = source.root.config.model_dump(mode="json")["pickable_objects"]
    embedded = manifest.document.get("copick:config") or {}
    manifest.document["copick:config"] = _union_objects(
        embedded, renamed_objects(objects, reshape.object_names)
    )
    manifest.save(counts)
    return counts


def _union(existing: list[dict], rows: list[dict], key: tuple[str, ...]) -> list[dict]:
    def ident(row: dict) -> tuple:
        return tuple(str(row.get(k)) if row.get(k) not in (None, "") else "" for k in key)

    incoming = {ident(row): row for row in rows}
    merged = [incoming.pop(ident(row), row) for row in existing]
    return merged + list(incoming.values())


def _union_objects(embedded: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The embedded config with the ``objects`` (config dicts) it does not name yet added."""
    known = list(embedded.get("pickable_objects") or [])
    names = {o.get("name") for o in known}
    return {**embedded, "pickable_objects": known + [o for o in objects if o.get("name") not in names]}
