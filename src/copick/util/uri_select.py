"""Selecting entities with copick URIs: component matching and resolution over the kinds registry.

A parsed URI's literal components go to the kind's indexed lookup (``run.get_picks(...)``); every
candidate is then matched component by component (glob, regex, numeric voxel spacings).
"""

from __future__ import annotations

import fnmatch
import math
import re
from typing import Any

from copick.kinds import Kind
from copick.util.uri_grammar import (
    GLOB_CHARS,
    SEG_TYPES,
    InvalidURIError,
    UnknownRunError,
    as_float,
    format_voxel_spacing,
    is_missing,
    parse_copick_uri,
    split_query,
    uri_kind,
)

_FILTER_ALIASES = {
    "voxel_size": "voxel_spacing",
    "is_multilabel": "multilabel",
    "is_instance": "instance",
    "is_panoptic": "panoptic",
}


# --------------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------------


def matches(pattern: Any, value: Any, pattern_type: str) -> bool:
    """Match one component: ``*`` matches all; glob via ``fnmatchcase``; regex via ``re.match``."""
    if is_missing(pattern):
        return True
    if value is None:
        return False
    if pattern_type == "regex":
        return re.match(str(pattern), str(value)) is not None
    return fnmatch.fnmatchcase(str(value), str(pattern))


def matches_voxel_spacing(pattern: Any, value: Any, pattern_type: str) -> bool:
    """Match a voxel spacing numerically when both sides are numbers, else as a text pattern."""
    if is_missing(pattern):
        return True
    wanted, actual = as_float(pattern), as_float(value)
    if wanted is not None and actual is not None:
        return math.isclose(wanted, actual, rel_tol=1e-9, abs_tol=1e-9)
    text = format_voxel_spacing(value) if actual is not None else value
    return matches(str(pattern), text, pattern_type)


def is_literal(value: Any, pattern_type: str) -> bool:
    """True when a text component selects exactly one value (glob without wildcards)."""
    if pattern_type != "glob" or not isinstance(value, str) or is_missing(value):
        return False
    return not any(char in GLOB_CHARS for char in value)


def is_pattern_uri(uri: str) -> bool:
    """True when ``uri`` may select several objects: ``re:`` prefix or ``*``/``?``/``[`` before the query."""
    text = uri.strip()
    if text.startswith("re:"):
        return True
    body, _ = split_query(text)
    return any(char in GLOB_CHARS for char in body)


# --------------------------------------------------------------------------------------------------------
# Resolution against a project
# --------------------------------------------------------------------------------------------------------


def find_in_run(kind: Kind, run: Any, parts: dict[str, Any]) -> list[Any]:
    """The entities of ``kind`` in ``run`` selected by the parsed URI ``parts``."""
    pattern_type = parts["pattern_type"]
    literal: dict[str, Any] = {}
    for key in kind.fields:
        if key == "voxel_spacing":
            number = as_float(parts[key])
            if number is not None:
                literal[key] = number
        elif is_literal(parts[key], pattern_type):
            literal[key] = parts[key]
    found = []
    for entity in kind.lookup(run, literal, parts):
        identity = kind.identity(entity)
        if kind.accepts(parts, entity) and all(
            matches_voxel_spacing(parts[key], identity[key], pattern_type)
            if key == "voxel_spacing"
            else matches(parts[key], identity[key], pattern_type)
            for key in kind.fields
        ):
            found.append(entity)
    return found


def _select_runs(root: Any, run_name: str | None) -> list[Any]:
    """Return the one named run (unknown name is an error) or every run of the project."""
    if run_name is None:
        return list(root.runs)
    run = root.get_run(run_name)
    if run is None:
        raise UnknownRunError(f"Run {run_name!r} not found in the project.")
    return [run]


def _filters_to_parts(object_type: str, filters: dict[str, Any]) -> dict[str, Any]:
    """Turn keyword filters into parsed-URI components (missing ones select everything)."""
    normalized = {_FILTER_ALIASES.get(key, key): value for key, value in filters.items()}
    pattern_type = normalized.pop("pattern_type", None) or "glob"
    if pattern_type not in ("glob", "regex"):
        raise InvalidURIError(f"pattern_type must be 'glob' or 'regex', got {pattern_type!r}.")
    normalized.pop("object_type", None)
    kind = uri_kind(object_type)
    if "name" in kind.fields and "name" not in normalized and "object_name" in normalized:
        normalized["name"] = normalized.pop("object_name")
    flags = set(SEG_TYPES) if kind.grammar == "named@vs" else set()
    allowed = set(kind.fields) | flags
    unknown = sorted(set(normalized) - allowed)
    if unknown:
        raise TypeError(
            f"Unknown filter(s) {unknown} for {object_type}; allowed: {sorted(allowed | {'pattern_type'})}."
        )
    parts: dict[str, Any] = {"object_type": object_type, "pattern_type": pattern_type}
    for key in kind.fields:
        value = normalized.get(key)
        parts[key] = "*" if is_missing(value) else value
    parts.update({key: normalized.get(key) for key in flags})
    return parts


def get_copick_objects_by_type(
    root: Any, object_type: str, run_name: str | None = None, **filters: Any
) -> list[Any]:
    """Return the objects of ``object_type`` in one run (or all runs) matching component ``filters``.

    Filters are the keys of ``parse_copick_uri`` results (``object_name``, ``user_id``, ``voxel_spacing``,
    ``multilabel``, ..., plus ``pattern_type``); missing or None ones select everything.
    """
    kind = uri_kind(object_type)
    parts = _filters_to_parts(object_type, filters)
    return [obj for run in _select_runs(root, run_name) for obj in find_in_run(kind, run, parts)]


def resolve_copick_objects(uri: str, root: Any, object_type: str, run_name: str | None = None) -> list[Any]:
    """Return every object of ``object_type`` selected by ``uri`` in one run (or all runs)."""
    parts = parse_copick_uri(uri, object_type)
    filters = {key: value for key, value in parts.items() if key != "object_type"}
    return get_copick_objects_by_type(root, object_type, run_name, **filters)
