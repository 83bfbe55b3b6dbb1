"""Copick URIs: a compact text form that names (or selects, with glob/regex patterns) copick entities.

Grammar (``[re:] body [? query]``)::

    picks | mesh | filaments:  object_name[:user_id[/session_id]]
    segmentation:              name[:user_id[/session_id]][@voxel_spacing][?TYPE=true]
                               (TYPE: multilabel, instance or panoptic)
    tomogram:                  tomo_type[@voxel_spacing]
    feature:                   tomo_type[@voxel_spacing[:feature_type]]

Missing parts select everything (``*``). Plain URIs are globs (``fnmatch``, case-sensitive); a ``re:``
prefix makes every part a regular expression matched with ``re.match`` (anchored at the start only).
Voxel spacings compare numerically when both sides are numbers.
"""

from __future__ import annotations

import fnmatch
import math
import numbers
import re
from collections.abc import Iterable
from typing import Any

from copick.errors import CopickError

__all__ = [
    "OBJECT_TYPES",
    "InvalidURIError",
    "UnknownRunError",
    "expand_output_uri",
    "get_copick_objects_by_type",
    "is_pattern_uri",
    "parse_copick_uri",
    "resolve_copick_objects",
    "serialize_copick_uri",
    "serialize_copick_uri_from_dict",
]


class InvalidURIError(CopickError, ValueError):
    """A copick URI (or URI component) that does not follow the grammar of its object type."""


class UnknownRunError(CopickError, ValueError):
    """A run name that the project does not contain."""


OBJECT_TYPES = ("picks", "mesh", "segmentation", "tomogram", "feature", "filaments")

_PICKS_LIKE = ("picks", "mesh", "filaments")
_SEG_TYPES = ("multilabel", "instance", "panoptic")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_GLOB_CHARS = frozenset("*?[")
_PLACEHOLDERS = ("{input_session_id}", "{instance_id}")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUERY_ITEM = re.compile(r"[A-Za-z_]\w*=[^&=]*")

_FORMS = {
    "picks": ("object_name[:user_id[/session_id]]", "ribosome:alice/1"),
    "mesh": ("object_name[:user_id[/session_id]]", "membrane:alice/1"),
    "filaments": ("object_name[:user_id[/session_id]]", "microtubule:alice/1"),
    "segmentation": (
        "name[:user_id[/session_id]][@voxel_spacing][?multilabel=true|?instance=true|?panoptic=true]",
        "membrane:alice/1@10.0",
    ),
    "tomogram": ("tomo_type[@voxel_spacing]", "wbp@10.0"),
    "feature": ("tomo_type[@voxel_spacing[:feature_type]]", "wbp@10.0:sobel"),
}

# Component keys of each object type, in URI order (the parse result adds object/pattern type and flags).
_FIELDS = {
    "picks": ("object_name", "user_id", "session_id"),
    "mesh": ("object_name", "user_id", "session_id"),
    "filaments": ("object_name", "user_id", "session_id"),
    "segmentation": ("name", "user_id", "session_id", "voxel_spacing"),
    "tomogram": ("tomo_type", "voxel_spacing"),
    "feature": ("tomo_type", "voxel_spacing", "feature_type"),
}

_FILTER_ALIASES = {
    "voxel_size": "voxel_spacing",
    "is_multilabel": "multilabel",
    "is_instance": "instance",
    "is_panoptic": "panoptic",
}


# --------------------------------------------------------------------------------------------------------
# Errors and small helpers
# --------------------------------------------------------------------------------------------------------


def _check_object_type(object_type: str) -> str:
    """Return ``object_type`` if it is one of the known kinds, else raise naming the valid ones."""
    if object_type not in _FORMS:
        raise InvalidURIError(
            f"Unknown copick object type {object_type!r}; expected one of {', '.join(OBJECT_TYPES)}."
        )
    return object_type


def _uri_error(uri: str, object_type: str, rule: str) -> InvalidURIError:
    """Build the error for ``uri`` breaking ``rule``, showing the expected form of ``object_type``."""
    form, example = _FORMS[object_type]
    return InvalidURIError(
        f"Invalid {object_type} URI format: {uri!r}: {rule}. Expected [re:]{form} (for example {example!r})."
    )


def _as_float(value: Any) -> float | None:
    """Interpret ``value`` as a finite number (real or decimal text), or return None if it is not one."""
    if isinstance(value, bool):
        return None
    is_text_number = isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None
    if not (isinstance(value, numbers.Real) or is_text_number):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _format_voxel_spacing(value: Any) -> str:
    """Format a voxel spacing for a URI: numbers via ``str(float)`` (``10.0``), text unchanged."""
    if isinstance(value, str):
        return value
    number = _as_float(value)
    if number is None:
        raise InvalidURIError(f"Voxel spacing {value!r} is neither a number nor a text pattern.")
    return str(number)


def _missing(value: Any) -> bool:
    """True when a component is absent (None, empty or ``*``) and so selects everything."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "*"))


def _or_star(text: str) -> str:
    """Return ``text``, or ``*`` when it is empty (a missing URI component)."""
    return text if text else "*"


# --------------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------------


def _looks_like_query(text: str) -> bool:
    """True when ``text`` reads as a query string (``key=value`` or a bare type flag, ``&``-joined)."""
    if text == "":
        return True
    return all(_QUERY_ITEM.fullmatch(item) or item.lower() in _SEG_TYPES for item in text.split("&"))


def _split_query(text: str) -> tuple[str, str | None]:
    """Split ``text`` at the first ``?`` that starts a query string; other ``?`` stay glob wildcards."""
    for index, char in enumerate(text):
        if char == "?" and _looks_like_query(text[index + 1 :]):
            return text[:index], text[index + 1 :]
    return text, None


def _parse_flag_value(value: str, uri: str, object_type: str, key: str) -> bool:
    """Read a boolean query value (true/1/yes or false/0/no, case-insensitive)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _uri_error(uri, object_type, f"query value {key}={value!r} is not true/1/yes or false/0/no")


def _parse_query(query: str | None, uri: str, object_type: str) -> dict[str, bool | None]:
    """Parse the segmentation type query into ``multilabel``/``instance``/``panoptic`` flags."""
    flags: dict[str, bool | None] = dict.fromkeys(_SEG_TYPES)
    if not query:
        return flags
    if object_type != "segmentation":
        raise _uri_error(uri, object_type, f"query {'?' + query!r} is only allowed in segmentation URIs")
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if key not in _SEG_TYPES:
            raise _uri_error(uri, object_type, f"unknown query parameter {key!r}")
        flags[key] = _parse_flag_value(value, uri, object_type, key) if sep else True
    if sum(bool(flag) for flag in flags.values()) > 1:
        raise _uri_error(uri, object_type, "at most one of multilabel, instance, panoptic may be true")
    return flags


def _separator_positions(text: str, sep: str, glob: bool) -> list[int]:
    """Positions of ``sep`` in ``text``; for regexes, those escaped or inside ``()``/``[]`` are skipped."""
    if glob:
        return [index for index, char in enumerate(text) if char == sep]
    positions: list[int] = []
    depth, in_class, escaped = 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth = depth + 1 if char == "(" else max(depth - 1, 0)
        elif char == sep and depth == 0:
            positions.append(index)
    return positions


def _partition(text: str, sep: str, glob: bool) -> tuple[str, bool, str]:
    """Split ``text`` at its first (top-level, for regexes) ``sep``: (head, found, tail)."""
    positions = _separator_positions(text, sep, glob)
    if not positions:
        return text, False, ""
    return text[: positions[0]], True, text[positions[0] + 1 :]


def _parse_named(body: str, uri: str, object_type: str, glob: bool) -> tuple[str, str, str]:
    """Parse ``name[:user_id[/session_id]]`` into (name, user_id, session_id)."""
    if len(_separator_positions(body, ":", glob)) > 1:
        raise _uri_error(uri, object_type, "more than one ':' in the main part")
    name, _, rest = _partition(body, ":", glob)
    if glob and "/" in name:
        raise _uri_error(uri, object_type, f"name {name!r} contains '/'; user and session follow a ':'")
    user, _, session = _partition(rest, "/", glob)
    return _or_star(name), _or_star(user), _or_star(session)


def _parse_voxel_spacing(text: str, uri: str, object_type: str, glob: bool = True) -> float | str:
    """Parse the part after ``@``: a number becomes a float, a pattern stays text. A number must be a
    voxel size layout accepts, and a glob without wildcards must be a number (``nan``, ``inf`` and
    ``0`` name no voxel spacing that could be listed or written)."""
    from copick.layout import check_voxel_size

    if any(_separator_positions(text, sep, glob) for sep in ":/@"):
        raise _uri_error(uri, object_type, f"voxel spacing {text!r} contains ':', '/' or '@' (wrong order?)")
    text = text.strip()
    number = _as_float(text)
    if number is None and (not glob or _missing(text) or any(char in _GLOB_CHARS for char in text)):
        return _or_star(text)
    try:
        return check_voxel_size(text if number is None else number)
    except ValueError as err:
        raise _uri_error(uri, object_type, str(err).rstrip(".")) from None


def _parse_picks_like(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a picks, mesh or filaments URI."""
    name, user, session = _parse_named(body, uri, object_type, glob)
    return {"object_name": name, "user_id": user, "session_id": session}


def _parse_segmentation(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a segmentation URI (split at the first ``@``, then at ``:``)."""
    main, _, vs_text = _partition(body, "@", glob)
    name, user, session = _parse_named(main, uri, object_type, glob)
    voxel_spacing = _parse_voxel_spacing(vs_text, uri, object_type, glob)
    return {"name": name, "user_id": user, "session_id": session, "voxel_spacing": voxel_spacing}


def _parse_tomogram(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a tomogram URI."""
    tomo_type, _, vs_text = _partition(body, "@", glob)
    if _separator_positions(tomo_type, ":", glob):
        raise _uri_error(uri, object_type, "tomogram URIs have no ':' part (is this a feature URI?)")
    voxel_spacing = _parse_voxel_spacing(vs_text, uri, object_type, glob)
    return {"tomo_type": _or_star(tomo_type), "voxel_spacing": voxel_spacing}


def _parse_feature(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a feature URI (the feature type needs a voxel spacing before it)."""
    tomo_type, at, rest = _partition(body, "@", glob)
    if not at and _separator_positions(tomo_type, ":", glob):
        raise _uri_error(uri, object_type, "the feature type must follow a voxel spacing ('@vs:feature')")
    if len(_separator_positions(rest, ":", glob)) > 1:
        raise _uri_error(uri, object_type, "more than one ':' after the voxel spacing")
    vs_text, _, feature_type = _partition(rest, ":", glob)
    return {
        "tomo_type": _or_star(tomo_type),
        "voxel_spacing": _parse_voxel_spacing(vs_text, uri, object_type, glob),
        "feature_type": _or_star(feature_type),
    }


_PARSERS = {
    "picks": _parse_picks_like,
    "mesh": _parse_picks_like,
    "filaments": _parse_picks_like,
    "segmentation": _parse_segmentation,
    "tomogram": _parse_tomogram,
    "feature": _parse_feature,
}


def _check_regexes(parts: dict[str, Any], uri: str, object_type: str) -> None:
    """Compile every regex component now so a bad pattern fails with the URI in the message."""
    for key in _FIELDS[object_type]:
        value = parts[key]
        if isinstance(value, str) and value != "*":
            try:
                re.compile(value)
            except re.error as err:
                rule = f"{key} {value!r} is not a valid regular expression ({err})"
                raise _uri_error(uri, object_type, rule) from None


def parse_copick_uri(uri: str, object_type: str) -> dict[str, Any]:
    """Parse a copick URI of ``object_type`` into its components (missing ones are ``*``).

    Keys: ``object_type``, ``pattern_type`` (``glob``/``regex``) and the component names of the type;
    segmentations also get ``multilabel``/``instance``/``panoptic`` (None unless the query states them).
    Numeric voxel spacings are returned as floats, patterns as text.
    """
    _check_object_type(object_type)
    if not isinstance(uri, str):
        raise InvalidURIError(f"A copick URI must be a str, got {type(uri).__name__} ({uri!r}).")
    text = uri.strip()
    pattern_type = "glob"
    if text.startswith("re:"):
        pattern_type, text = "regex", text[3:]
    body, query = _split_query(text)
    if not body.strip():
        raise _uri_error(uri, object_type, "the URI is empty (use '*' to select everything)")
    parts = _PARSERS[object_type](body, uri, object_type, pattern_type == "glob")
    flags = _parse_query(query, uri, object_type)
    if pattern_type == "regex":
        _check_regexes(parts, uri, object_type)
    result: dict[str, Any] = {"object_type": object_type, "pattern_type": pattern_type, **parts}
    if object_type == "segmentation":
        result.update(flags)
    return result


# --------------------------------------------------------------------------------------------------------
# Serialization
# --------------------------------------------------------------------------------------------------------


def _seg_query(multilabel: Any, instance: Any, panoptic: Any) -> str:
    """Return the ``?<type>=true`` suffix of a segmentation URI ('' for binary)."""
    stated = [key for key, flag in zip(_SEG_TYPES, (multilabel, instance, panoptic)) if flag]
    if len(stated) > 1:
        raise InvalidURIError(f"At most one of multilabel, instance, panoptic may be true, got {stated}.")
    return f"?{stated[0]}=true" if stated else ""


def _join_named(name: str, user_id: str | None, session_id: str | None) -> str:
    """Format ``name[:user[/session]]``, writing ``*`` for a user that is missing before a session."""
    if _missing(user_id) and _missing(session_id):
        return name
    if _missing(session_id):
        return f"{name}:{user_id}"
    return f"{name}:{'*' if _missing(user_id) else user_id}/{session_id}"


def _format_uri(object_type: str, parts: dict[str, Any]) -> str:
    """Format URI components of ``object_type``; missing trailing parts are left out."""
    vs = parts.get("voxel_spacing")
    at_vs = "" if _missing(vs) else f"@{_format_voxel_spacing(vs)}"
    if object_type in _PICKS_LIKE:
        return _join_named(parts["object_name"], parts.get("user_id"), parts.get("session_id"))
    if object_type == "segmentation":
        head = _join_named(parts["name"], parts.get("user_id"), parts.get("session_id"))
        query = _seg_query(parts.get("multilabel"), parts.get("instance"), parts.get("panoptic"))
        return f"{head}{at_vs}{query}"
    if object_type == "tomogram":
        return f"{parts['tomo_type']}{at_vs}"
    feature_type = parts.get("feature_type")
    if _missing(feature_type):
        return f"{parts['tomo_type']}{at_vs}"
    return f"{parts['tomo_type']}{at_vs or '@*'}:{feature_type}"


def _segmentation_type_of(obj: Any) -> str:
    """Return the segmentation type of ``obj`` (binary, multilabel, instance or panoptic)."""
    seg_type = getattr(obj, "segmentation_type", None)
    if isinstance(seg_type, str):
        return seg_type
    for key in ("panoptic", "instance", "multilabel"):
        if getattr(obj, f"is_{key}", False):
            return key
    return "binary"


def serialize_copick_uri(obj: Any) -> str:
    """Return the complete (literal) URI of a picks, mesh, filaments, segmentation, tomogram or features."""
    if hasattr(obj, "feature_type"):
        tomogram = obj.tomogram
        return (
            f"{obj.tomo_type}@{_format_voxel_spacing(tomogram.voxel_spacing.voxel_size)}:{obj.feature_type}"
        )
    if hasattr(obj, "tomo_type"):
        return f"{obj.tomo_type}@{_format_voxel_spacing(obj.voxel_spacing.voxel_size)}"
    if hasattr(obj, "segmentation_type") or hasattr(obj, "is_multilabel"):
        seg_type = _segmentation_type_of(obj)
        query = "" if seg_type == "binary" else f"?{seg_type}=true"
        vs = _format_voxel_spacing(obj.voxel_size)
        return f"{obj.name}:{obj.user_id}/{obj.session_id}@{vs}{query}"
    if hasattr(obj, "pickable_object_name"):
        return f"{obj.pickable_object_name}:{obj.user_id}/{obj.session_id}"
    raise InvalidURIError(
        f"Cannot serialize a {type(obj).__name__} to a copick URI; "
        "expected picks, mesh, filaments, segmentation, tomogram or features."
    )


def _check_component(object_type: str, key: str, value: Any) -> None:
    """Reject a missing or separator-containing component that would not parse back to itself."""
    if value is None or (isinstance(value, str) and not value.strip()):
        form, _ = _FORMS[object_type]
        raise InvalidURIError(f"Cannot build a {object_type} URI without {key}; expected form {form}.")
    if key != "voxel_spacing" and isinstance(value, str) and any(sep in value for sep in ":/@"):
        raise InvalidURIError(
            f"Cannot build a {object_type} URI: {key} {value!r} contains a URI separator (':', '/' or '@')."
        )


def serialize_copick_uri_from_dict(
    object_type: str,
    object_name: str | None = None,
    name: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    tomo_type: str | None = None,
    voxel_spacing: float | str | None = None,
    feature_type: str | None = None,
    multilabel: bool | None = None,
    instance: bool | None = None,
    panoptic: bool | None = None,
) -> str:
    """Build the complete URI of ``object_type`` from its components; a missing required part is an error."""
    _check_object_type(object_type)
    if object_type == "segmentation" and name is None:
        name = object_name
    if object_type in _PICKS_LIKE and object_name is None:
        object_name = name
    given = {
        "object_name": object_name,
        "name": name,
        "user_id": user_id,
        "session_id": session_id,
        "tomo_type": tomo_type,
        "voxel_spacing": voxel_spacing,
        "feature_type": feature_type,
    }
    parts = {key: given[key] for key in _FIELDS[object_type]}
    for key, value in parts.items():
        _check_component(object_type, key, value)
    if object_type == "segmentation":
        parts.update(multilabel=multilabel, instance=instance, panoptic=panoptic)
    return _format_uri(object_type, parts)


# --------------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------------


def _matches(pattern: Any, value: Any, pattern_type: str) -> bool:
    """Match one component: ``*`` matches all; glob via ``fnmatchcase``; regex via ``re.match``."""
    if _missing(pattern):
        return True
    if value is None:
        return False
    if pattern_type == "regex":
        return re.match(str(pattern), str(value)) is not None
    return fnmatch.fnmatchcase(str(value), str(pattern))


def _matches_voxel_spacing(pattern: Any, value: Any, pattern_type: str) -> bool:
    """Match a voxel spacing numerically when both sides are numbers, else as a text pattern."""
    if _missing(pattern):
        return True
    wanted, actual = _as_float(pattern), _as_float(value)
    if wanted is not None and actual is not None:
        return math.isclose(wanted, actual, rel_tol=1e-9, abs_tol=1e-9)
    text = _format_voxel_spacing(value) if actual is not None else value
    return _matches(str(pattern), text, pattern_type)


def _is_literal(value: Any, pattern_type: str) -> bool:
    """True when a text component selects exactly one value (glob without wildcards)."""
    if pattern_type != "glob" or not isinstance(value, str) or _missing(value):
        return False
    return not any(char in _GLOB_CHARS for char in value)


def is_pattern_uri(uri: str) -> bool:
    """True when ``uri`` may select several objects: ``re:`` prefix or ``*``/``?``/``[`` before the query."""
    text = uri.strip()
    if text.startswith("re:"):
        return True
    body, _ = _split_query(text)
    return any(char in _GLOB_CHARS for char in body)


def _allowed_segmentation_types(parts: dict[str, Any]) -> frozenset[str]:
    """Return the segmentation types a parsed URI selects (untyped: binary and multilabel)."""
    for key in ("panoptic", "instance", "multilabel"):
        if parts.get(key):
            return frozenset({key})
    if parts.get("multilabel") is False:
        return frozenset({"binary"})
    return frozenset({"binary", "multilabel"})


# --------------------------------------------------------------------------------------------------------
# Resolution against a project
# --------------------------------------------------------------------------------------------------------


def _literal_kwargs(parts: dict[str, Any], keys: Iterable[str]) -> dict[str, str]:
    """Collect the literal components of ``parts`` among ``keys`` (usable in indexed ``get_*`` lookups)."""
    return {key: parts[key] for key in keys if _is_literal(parts[key], parts["pattern_type"])}


def _find_picks_like(run: Any, parts: dict[str, Any]) -> list[Any]:
    """Find the picks, meshes or filaments of ``run`` selected by ``parts``."""
    listing, lookup = {
        "picks": ("picks", "get_picks"),
        "mesh": ("meshes", "get_meshes"),
        "filaments": ("filaments", "get_filaments"),
    }[parts["object_type"]]
    literal = _literal_kwargs(parts, ("object_name", "user_id", "session_id"))
    candidates = getattr(run, lookup)(**literal) if literal else getattr(run, listing)
    pattern_type = parts["pattern_type"]
    return [
        obj
        for obj in candidates
        if _matches(parts["object_name"], obj.pickable_object_name, pattern_type)
        and _matches(parts["user_id"], obj.user_id, pattern_type)
        and _matches(parts["session_id"], obj.session_id, pattern_type)
    ]


def _segmentation_lookup_flags(allowed: frozenset[str]) -> dict[str, bool | None]:
    """Translate the selected segmentation types into ``get_segmentations`` type arguments."""
    if allowed == {"binary", "multilabel"}:
        return {"is_multilabel": None, "is_instance": False, "is_panoptic": False}
    (only,) = allowed
    return {
        "is_multilabel": {"binary": False, "multilabel": True}.get(only),
        "is_instance": only == "instance",
        "is_panoptic": only == "panoptic",
    }


def _find_segmentations(run: Any, parts: dict[str, Any]) -> list[Any]:
    """Find the segmentations of ``run`` selected by ``parts`` (type rules included)."""
    pattern_type = parts["pattern_type"]
    allowed = _allowed_segmentation_types(parts)
    literal: dict[str, Any] = _literal_kwargs(parts, ("name", "user_id", "session_id"))
    voxel_size = _as_float(parts["voxel_spacing"])
    if voxel_size is not None:
        literal["voxel_size"] = voxel_size
    if literal:
        candidates = run.get_segmentations(**literal, **_segmentation_lookup_flags(allowed))
    else:
        candidates = run.segmentations
    return [
        seg
        for seg in candidates
        if _segmentation_type_of(seg) in allowed
        and _matches(parts["name"], seg.name, pattern_type)
        and _matches(parts["user_id"], seg.user_id, pattern_type)
        and _matches(parts["session_id"], seg.session_id, pattern_type)
        and _matches_voxel_spacing(parts["voxel_spacing"], seg.voxel_size, pattern_type)
    ]


def _find_voxel_spacings(run: Any, parts: dict[str, Any]) -> list[Any]:
    """Find the voxel spacings of ``run`` selected by the ``voxel_spacing`` component."""
    voxel_size = _as_float(parts["voxel_spacing"])
    if voxel_size is not None:
        found = run.get_voxel_spacing(voxel_size)
        return [found] if found is not None else []
    return [
        vs
        for vs in run.voxel_spacings
        if _matches_voxel_spacing(parts["voxel_spacing"], vs.voxel_size, parts["pattern_type"])
    ]


def _find_tomograms(run: Any, parts: dict[str, Any]) -> list[Any]:
    """Find the tomograms of ``run`` selected by ``tomo_type`` and ``voxel_spacing``."""
    tomo_type, pattern_type = parts["tomo_type"], parts["pattern_type"]
    found: list[Any] = []
    for vs in _find_voxel_spacings(run, parts):
        candidates = vs.get_tomograms(tomo_type) if _is_literal(tomo_type, pattern_type) else vs.tomograms
        found.extend(tomo for tomo in candidates if _matches(tomo_type, tomo.tomo_type, pattern_type))
    return found


def _find_features(run: Any, parts: dict[str, Any]) -> list[Any]:
    """Find the features of ``run`` selected by tomogram type, voxel spacing and feature type."""
    feature_type, pattern_type = parts["feature_type"], parts["pattern_type"]
    found: list[Any] = []
    for tomogram in _find_tomograms(run, parts):
        if _is_literal(feature_type, pattern_type):
            feature = tomogram.get_features(feature_type)
            candidates = [feature] if feature is not None else []
        else:
            candidates = tomogram.features
        found.extend(
            feature
            for feature in candidates
            if _matches(feature_type, feature.feature_type, pattern_type)
            and _matches(parts["tomo_type"], feature.tomogram.tomo_type, pattern_type)
        )
    return found


_FINDERS = {
    "picks": _find_picks_like,
    "mesh": _find_picks_like,
    "filaments": _find_picks_like,
    "segmentation": _find_segmentations,
    "tomogram": _find_tomograms,
    "feature": _find_features,
}


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
    if object_type == "segmentation" and "name" not in normalized and "object_name" in normalized:
        normalized["name"] = normalized.pop("object_name")
    allowed = set(_FIELDS[object_type]) | (set(_SEG_TYPES) if object_type == "segmentation" else set())
    unknown = sorted(set(normalized) - allowed)
    if unknown:
        raise TypeError(
            f"Unknown filter(s) {unknown} for {object_type}; allowed: {sorted(allowed | {'pattern_type'})}."
        )
    parts: dict[str, Any] = {"object_type": object_type, "pattern_type": pattern_type}
    for key in _FIELDS[object_type]:
        value = normalized.get(key)
        parts[key] = "*" if _missing(value) else value
    if object_type == "segmentation":
        parts.update({key: normalized.get(key) for key in _SEG_TYPES})
    return parts


def get_copick_objects_by_type(
    root: Any, object_type: str, run_name: str | None = None, **filters: Any
) -> list[Any]:
    """Return the objects of ``object_type`` in one run (or all runs) matching component ``filters``.

    Filters are the keys of ``parse_copick_uri`` results (``object_name``, ``user_id``, ``voxel_spacing``,
    ``multilabel``, ..., plus ``pattern_type``); missing or None ones select everything.
    """
    _check_object_type(object_type)
    parts = _filters_to_parts(object_type, filters)
    finder = _FINDERS[object_type]
    return [obj for run in _select_runs(root, run_name) for obj in finder(run, parts)]


def resolve_copick_objects(uri: str, root: Any, object_type: str, run_name: str | None = None) -> list[Any]:
    """Return every object of ``object_type`` selected by ``uri`` in one run (or all runs)."""
    parts = parse_copick_uri(uri, object_type)
    filters = {key: value for key, value in parts.items() if key != "object_type"}
    return get_copick_objects_by_type(root, object_type, run_name, **filters)


# --------------------------------------------------------------------------------------------------------
# Output URI shorthands
# --------------------------------------------------------------------------------------------------------


def _parse_output_named(text: str, uri: str, object_type: str) -> dict[str, str | None]:
    """Parse an output shorthand ``name``, ``name:user[/session]``, ``name/session``, ``/session``."""
    main = text.strip()
    if main in _PLACEHOLDERS:
        return {"name": None, "user_id": None, "session_id": main}
    if main.count(":") > 1:
        raise _uri_error(uri, object_type, "more than one ':' in the main part")
    if ":" in main:
        name, _, rest = main.partition(":")
        user, _, session = rest.partition("/")
    else:
        name, _, session = main.partition("/")
        user = ""
    values = zip(("name", "user_id", "session_id"), (name, user, session))
    return {key: None if _missing(value) else value for key, value in values}


def _parse_output(output_uri: str, object_type: str) -> dict[str, Any]:
    """Parse an output URI shorthand of ``object_type`` (components absent or ``*`` become None)."""
    text = output_uri.strip()
    if text.startswith("re:"):
        raise _uri_error(output_uri, object_type, "an output URI cannot be a regular expression")
    body, query = _split_query(text)
    flags = _parse_query(query, output_uri, object_type)
    if object_type in ("tomogram", "feature"):
        parsed = _PARSERS[object_type](body, output_uri, object_type, True) if body.strip() else {}
        return {key: None if _missing(parsed.get(key)) else parsed[key] for key in _FIELDS[object_type]}
    vs_text = None
    if object_type == "segmentation":
        body, _, vs_text = body.partition("@")
    named = _parse_output_named(body, output_uri, object_type)
    parts: dict[str, Any] = {
        "name": named["name"],
        "user_id": named["user_id"],
        "session_id": named["session_id"],
    }
    if object_type == "segmentation":
        vs = _parse_voxel_spacing(vs_text or "", output_uri, object_type)
        parts.update(voxel_spacing=None if _missing(vs) else vs, **flags)
    return parts


def _input_name(parsed: dict[str, Any]) -> Any:
    """Return the name component of a parsed input URI, whatever its object type."""
    for key in ("object_name", "name", "tomo_type"):
        if key in parsed:
            return parsed[key]
    return None


def _input_segmentation_type(parsed: dict[str, Any]) -> str | None:
    """Return the explicitly typed segmentation kind of a parsed input URI, if any."""
    return next((key for key in _SEG_TYPES if parsed.get(key)), None)


def _default_session(input_uri: str, individual_outputs: bool) -> str:
    """Pick the output session: per-instance, per-input-session (pattern inputs), or ``converted-001``."""
    if individual_outputs:
        return "{instance_id}"
    if is_pattern_uri(input_uri):
        return "{input_session_id}"
    return "converted-001"


def _concrete_voxel_spacing(parsed: dict[str, Any]) -> float | None:
    """Return the input's voxel spacing when it names exactly one number."""
    return _as_float(parsed.get("voxel_spacing"))


def _expand_volume_output(
    output_uri: str, input_parts: dict[str, Any], object_type: str, command_name: str | None
) -> str:
    """Complete a tomogram/feature output URI from the input's type and voxel spacing."""
    parts = _parse_output(output_uri, object_type)
    if all(parts[key] is not None for key in _FIELDS[object_type]):
        return output_uri
    parts["tomo_type"] = parts["tomo_type"] or _input_name(input_parts)
    if parts["voxel_spacing"] is None:
        parts["voxel_spacing"] = _concrete_voxel_spacing(input_parts)
    if object_type == "feature" and parts["feature_type"] is None:
        input_feature = input_parts.get("feature_type")
        concrete = _is_literal(input_feature, input_parts["pattern_type"])
        parts["feature_type"] = input_feature if concrete else (command_name or "converter")
    return _format_uri(object_type, parts)


def expand_output_uri(
    output_uri: str,
    input_uri: str,
    input_type: str,
    output_type: str,
    command_name: str | None = None,
    individual_outputs: bool = False,
) -> str:
    """Complete a shorthand output URI from the input URI (name, user, session, voxel spacing, type).

    A complete output URI is returned unchanged. Missing parts: name from the input, user from
    ``command_name`` (or ``converter``), session ``{instance_id}`` / ``{input_session_id}`` /
    ``converted-001``, segmentation voxel spacing and type from the input when it states them.
    """
    _check_object_type(output_type)
    input_parts = parse_copick_uri(input_uri, input_type)
    if output_type in ("tomogram", "feature"):
        return _expand_volume_output(output_uri, input_parts, output_type, command_name)
    parts = _parse_output(output_uri, output_type)
    keys = ("name", "user_id", "session_id") + (("voxel_spacing",) if output_type == "segmentation" else ())
    if all(parts[key] is not None for key in keys):
        return output_uri
    name = parts["name"] or _input_name(input_parts)
    user = parts["user_id"] or command_name or "converter"
    session = parts["session_id"] or _default_session(input_uri, individual_outputs)
    if output_type != "segmentation":
        return _format_uri(output_type, {"object_name": name, "user_id": user, "session_id": session})
    voxel_spacing = parts["voxel_spacing"]
    if voxel_spacing is None:
        voxel_spacing = _concrete_voxel_spacing(input_parts)
    stated = [key for key in _SEG_TYPES if parts.get(key) is not None]
    seg_type = next((key for key in _SEG_TYPES if parts.get(key)), None)
    if not stated:
        seg_type = _input_segmentation_type(input_parts)
    flags = {key: key == seg_type or None for key in _SEG_TYPES}
    seg = {"name": name, "user_id": user, "session_id": session, "voxel_spacing": voxel_spacing, **flags}
    return _format_uri("segmentation", seg)
