"""Rename and filter a manifest's rows on the way out (export-croissant / append-croissant options).

``Reshape`` holds the options: ``--tomo-type-map`` and ``--object-name-map`` (``a:b,c:d``) rename
values of any source; the CDP-only ones select portal rows by portal metadata (``--*-portal-meta
k=v,...``: keys the metadata lacks are ignored, booleans and numbers compare by value) and authors
(``--*-author``: every name listed must be an author), and ``--session-id-template`` makes picks and
segmentation session ids from the annotation's metadata (``str.format``, sanitized; fields the
annotation lacks are empty; when nothing is left the portal's id stays). Rows carry their entity's
portal metadata under ``FACTS`` (never written); a changed portal value keeps the original in the
row's ``portal_*`` column, as 1.31 does. A target name of a map and a templated session id are
written as they are, so each must be a name ``from_croissant`` reads back (copick's layout rules,
and for objects the config's): else ``InvalidNameError`` naming the option, before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from copick.errors import ConfigError, InvalidNameError

#: The row key holding an entity's portal metadata (``croissant_source.portal_facts``); not a column.
FACTS = "_portal_facts"
#: The tables the CDP-only annotation options act on.
ANNOTATION_TABLES = ("picks", "segmentations", "instance_segmentations", "panoptic_segmentations")
#: The filter options (``--<group>-portal-meta``, ``--<group>-author``) acting on each table.
_FILTER_GROUP = {
    "tomograms": "tomograms", "picks": "picks", "segmentations": "segmentations",
    "instance_segmentations": "segmentations", "panoptic_segmentations": "segmentations",
}  # fmt: skip
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
#: The rename maps: the ``Reshape`` field and its option.
_MAP_OPTIONS = {"tomo_types": "--tomo-type-map", "object_names": "--object-name-map"}


@dataclass
class Reshape:
    """The rename maps, and the CDP-only filters (per table group) and session-id template."""

    tomo_types: dict[str, str] = field(default_factory=dict)
    object_names: dict[str, str] = field(default_factory=dict)
    session_template: str | None = None
    meta: dict[str, dict[str, str]] = field(default_factory=dict)  # "picks"/"segmentations"/"tomograms"
    authors: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Every target name of the rename maps must be readable back (``InvalidNameError`` if not)."""
        for field_name, option in _MAP_OPTIONS.items():
            for old, new in getattr(self, field_name).items():
                try:
                    _check_target(field_name, new)
                except InvalidNameError as err:
                    raise InvalidNameError(f"{option} {f'{old}:{new}'!r}: {err}") from None

    def portal_only_options(self) -> list[str]:
        """The CDP-only options that are set (an error for a filesystem source)."""
        names = [f"{group}_portal_meta" for group, query in self.meta.items() if query]
        names += [f"{group}_author" for group, names_ in self.authors.items() if names_]
        return sorted(names + (["session_id_template"] if self.session_template else []))


def _check_target(field_name: str, name: str) -> None:
    """Raise ``InvalidNameError`` naming the rule when ``name``, written as it is into the rows (and
    for objects into the embedded config), is not a name copick reads back."""
    from copick import layout
    from copick.metadata import check_object_name

    if field_name == "tomo_types":
        layout.tomogram_store_name(name)
        return
    try:
        check_object_name(name)
    except ValueError as err:  # the config's rule, as PickableObject states it
        raise InvalidNameError(str(err)) from None


def _parse_items(value: str | None, option: str, sep: str, form: str, need_value: bool) -> dict[str, str]:
    """``'k<sep>v,...'`` as a dict; an item without ``sep``, a key (or, when ``need_value``, a value)
    is a ``ConfigError`` showing ``form``."""
    found = {}
    for pair in (value or "").split(","):
        if not pair.strip():
            continue
        key, found_sep, text = pair.partition(sep)
        if not found_sep or not key.strip() or (need_value and not text.strip()):
            raise ConfigError(f"{option}: {pair!r} is not {form}.")
        found[key.strip()] = text.strip()
    return found


def parse_map(value: str | None, option: str) -> dict[str, str]:
    """``'a:b,c:d'`` as ``{"a": "b", "c": "d"}``."""
    return _parse_items(value, option, ":", "'old:new' (e.g. 'wbp-raw:wbp')", need_value=True)


def parse_pairs(value: str | None, option: str) -> dict[str, str]:
    """``'k=v,k2=v2'`` as a dict (a value may be empty)."""
    return _parse_items(value, option, "=", "'key=value' (e.g. 'method_type=manual')", need_value=False)


def _equal(value: Any, text: str) -> bool:
    """Does a portal field's value equal the text given on the command line?"""
    if isinstance(value, bool):
        return text.lower() in (_TRUE if value else _FALSE)
    if isinstance(value, (int, float)):
        try:
            return float(text) == value
        except ValueError:
            return False
    return str(value) == text


def matches(facts: Mapping[str, Any] | None, query: Mapping[str, str], authors: list[str]) -> bool:
    """Do a row's portal facts pass a metadata query and an author list? Non-portal rows pass only
    empty ones."""
    if not query and not authors:
        return True
    if facts is None:
        return False
    if any(k in facts and not _equal(facts[k], v) for k, v in query.items()):
        return False
    return all(a in facts["authors"] for a in authors)


class _Blank(dict):
    """Template values where a field the annotation lacks is empty (as 1.31 fills it)."""

    def __missing__(self, key: str) -> str:
        return ""


def _session_id(template: str, facts: Mapping[str, Any], current: str) -> str:
    """The template filled from an annotation's facts and sanitized; the current id when nothing
    usable is left or the template is malformed. An id copick's layout refuses (e.g. one starting
    with '.') is an ``InvalidNameError`` naming the template."""
    from copick import layout
    from copick.util.escape import sanitize_name

    values = _Blank({**facts, "authors": ",".join(facts["authors"])})
    try:
        new = sanitize_name(template.format_map(values), suppress_warnings=True)
    except (IndexError, ValueError, AttributeError, KeyError):
        return current
    try:
        return layout.check_name(new, "Session ID", no_underscore=True)
    except InvalidNameError as err:
        raise InvalidNameError(f"--session-id-template {template!r}: {err}") from None


def apply(rows: dict[str, list[dict[str, Any]]], reshape: Reshape) -> dict[str, list[dict[str, Any]]]:
    """The rows after the filters, renames and session template (tables left as they are)."""
    out = {}
    for table, table_rows in rows.items():
        key = _FILTER_GROUP.get(table)
        if key is not None:
            query, authors = reshape.meta.get(key, {}), reshape.authors.get(key, [])
            table_rows = [r for r in table_rows if matches(r.get(FACTS), query, authors)]
        out[table] = [_renamed(table, dict(r), reshape) for r in table_rows]
    return out


def _renamed(table: str, row: dict[str, Any], reshape: Reshape) -> dict[str, Any]:
    facts = row.get(FACTS)
    if "tomo_type" in row and row["tomo_type"] in reshape.tomo_types:
        if table == "tomograms" and facts is not None:
            row["portal_tomo_type"] = row["tomo_type"]
        row["tomo_type"] = reshape.tomo_types[row["tomo_type"]]
    name_key = {"objects": "name", "picks": "object_name", "meshes": "object_name"}.get(
        table, "name" if table in ANNOTATION_TABLES else None
    )
    if name_key and row.get(name_key) in reshape.object_names:
        row[name_key] = reshape.object_names[row[name_key]]
    if reshape.session_template and facts is not None and table in ANNOTATION_TABLES:
        new = _session_id(reshape.session_template, facts, row["session_id"])
        if new != row["session_id"]:
            row["portal_session_id"], row["session_id"] = row["session_id"], new
    return row


def renamed_objects(objects: list[dict[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Pickable objects (config dicts) renamed by ``names``, the old name kept in their metadata
    (``portal_original_name``)."""
    out = []
    for obj in objects:
        if obj.get("name") in names:
            metadata = {**(obj.get("metadata") or {}), "portal_original_name": obj["name"]}
            obj = {**obj, "name": names[obj["name"]], "metadata": metadata}
        out.append(obj)
    return out
