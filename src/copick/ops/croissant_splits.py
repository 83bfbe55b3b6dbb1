"""Edit the ML splits of an exported ML-Croissant manifest (``copick config set-splits``).

Splits live in the ``split`` column of the manifest's ``runs.csv`` (beside ``metadata.json``); the
manifest's ``splits`` record set names the distinct splits in use, and its file object the table's
sha256. The table is rewritten first and the manifest last.
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections.abc import Iterable, Mapping

from copick.errors import MissingEntityError


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
    from copick.formats import croissant as fmt
    from copick.storage import Layer

    folder, name = posixpath.split(manifest_url)
    layer = Layer.from_url(folder, fs_args)
    document = fmt.parse_document(layer.read_bytes(name), manifest_url)
    table = fmt.TABLE["runs"]
    rows = list(csv.DictReader(io.StringIO(layer.read_bytes(table.file_name).decode("utf-8-sig"))))
    known = {row["name"] for row in rows}
    wanted = {run for runs in assign.values() for run in runs} | set(unassign)
    unknown = sorted(wanted - known)
    if unknown:
        raise MissingEntityError(
            f"{manifest_url} lists no run {', '.join(unknown)}; its runs: {', '.join(sorted(known))}."
        )
    split_of = {row["name"]: (None if clear_all else row.get("split") or None) for row in rows}
    split_of.update({run: split for split, runs in assign.items() for run in runs})
    split_of.update(dict.fromkeys(unassign))
    for row in rows:
        row["split"] = split_of[row["name"]]
    data = fmt.csv_bytes(table, rows)
    layer.write_bytes(table.file_name, data)
    names = [row["split"] for row in rows if row["split"]]
    layer.write_bytes(name, fmt.document_bytes(fmt.with_splits(document, names, fmt.sha256(data))))
    found: dict[str, list[str]] = {}
    for row in rows:
        if row["split"]:
            found.setdefault(row["split"], []).append(row["name"])
    return found
