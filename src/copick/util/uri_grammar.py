"""The text side of copick URIs: parsing a URI of a kind into components, and formatting components.

Each kind (``copick.kinds``) names its URI ``grammar`` (the body shape) and ``fields``; this module holds
the four body shapes (``named``, ``named@vs``, ``type@vs``, ``type@vs:feature``) and the rules every
component follows (glob or ``re:`` patterns, ``*`` for missing parts, numeric voxel spacings).
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from copick.errors import CopickError
from copick.kinds import KINDS, SEGMENTATION_TYPES, Kind, kind_for


class InvalidURIError(CopickError, ValueError):
    """A copick URI (or URI component) that does not follow the grammar of its object type."""


class UnknownRunError(CopickError, ValueError):
    """A run name that the project does not contain."""


OBJECT_TYPES = tuple(kind.object_type for kind in KINDS)

SEG_TYPES = SEGMENTATION_TYPES
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
GLOB_CHARS = frozenset("*?[")
OUTPUT_PLACEHOLDERS = ("{input_session_id}", "{instance_id}")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUERY_ITEM = re.compile(r"[A-Za-z_]\w*=[^&=]*")


def uri_kind(object_type: str) -> Kind:
    """The kind of URI object type ``object_type``, else an error naming the valid ones."""
    kind = kind_for(object_type)
    if kind is None or kind.object_type != object_type:
        raise InvalidURIError(
            f"Unknown copick object type {object_type!r}; expected one of {', '.join(OBJECT_TYPES)}."
        )
    return kind


def uri_error(uri: str, object_type: str, rule: str) -> InvalidURIError:
    """Build the error for ``uri`` breaking ``rule``, showing the expected form of ``object_type``."""
    kind = uri_kind(object_type)
    return InvalidURIError(
        f"Invalid {object_type} URI format: {uri!r}: {rule}. Expected [re:]{kind.form} "
        f"(for example {kind.example!r})."
    )


def as_float(value: Any) -> float | None:
    """Interpret ``value`` as a finite number (real or decimal text), or return None if it is not one."""
    if isinstance(value, bool):
        return None
    is_text_number = isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None
    if not (isinstance(value, numbers.Real) or is_text_number):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def format_voxel_spacing(value: Any) -> str:
    """Format a voxel spacing for a URI: numbers via ``str(float)`` (``10.0``), text unchanged."""
    if isinstance(value, str):
        return value
    number = as_float(value)
    if number is None:
        raise InvalidURIError(f"Voxel spacing {value!r} is neither a number nor a text pattern.")
    return str(number)


def is_missing(value: Any) -> bool:
    """True when a component is absent (None, empty or ``*``) and so selects everything."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "*"))


def or_star(text: str) -> str:
    """Return ``text``, or ``*`` when it is empty (a missing URI component)."""
    return text if text else "*"


# --------------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------------


def _looks_like_query(text: str) -> bool:
    """True when ``text`` reads as a query string (``key=value`` or a bare type flag, ``&``-joined)."""
    if text == "":
        return True
    return all(_QUERY_ITEM.fullmatch(item) or item.lower() in SEG_TYPES for item in text.split("&"))


def split_query(text: str) -> tuple[str, str | None]:
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
    raise uri_error(uri, object_type, f"query value {key}={value!r} is not true/1/yes or false/0/no")


def parse_query(query: str | None, uri: str, object_type: str) -> dict[str, bool | None]:
    """Parse the segmentation type query into ``multilabel``/``instance``/``panoptic`` flags."""
    flags: dict[str, bool | None] = dict.fromkeys(SEG_TYPES)
    if not query:
        return flags
    if object_type != "segmentation":
        raise uri_error(uri, object_type, f"query {'?' + query!r} is only allowed in segmentation URIs")
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if key not in SEG_TYPES:
            raise uri_error(uri, object_type, f"unknown query parameter {key!r}")
        flags[key] = _parse_flag_value(value, uri, object_type, key) if sep else True
    if sum(bool(flag) for flag in flags.values()) > 1:
        raise uri_error(uri, object_type, "at most one of multilabel, instance, panoptic may be true")
    return flags


def separator_positions(text: str, sep: str, glob: bool) -> list[int]:
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


def partition(text: str, sep: str, glob: bool) -> tuple[str, bool, str]:
    """Split ``text`` at its first (top-level, for regexes) ``sep``: (head, found, tail)."""
    positions = separator_positions(text, sep, glob)
    if not positions:
        return text, False, ""
    return text[: positions[0]], True, text[positions[0] + 1 :]


def _parse_named(body: str, uri: str, object_type: str, glob: bool) -> tuple[str, str, str]:
    """Parse ``name[:user_id[/session_id]]`` into (name, user_id, session_id)."""
    if len(separator_positions(body, ":", glob)) > 1:
        raise uri_error(uri, object_type, "more than one ':' in the main part")
    name, _, rest = partition(body, ":", glob)
    if glob and "/" in name:
        raise uri_error(uri, object_type, f"name {name!r} contains '/'; user and session follow a ':'")
    user, _, session = partition(rest, "/", glob)
    return or_star(name), or_star(user), or_star(session)


def parse_voxel_spacing(text: str, uri: str, object_type: str, glob: bool = True) -> float | str:
    """Parse the part after ``@``: a number becomes a float, a pattern stays text. A number must be a
    voxel size layout accepts, and a glob without wildcards must be a number (``nan``, ``inf`` and
    ``0`` name no voxel spacing that could be listed or written)."""
    from copick.layout import check_voxel_size

    if any(separator_positions(text, sep, glob) for sep in ":/@"):
        raise uri_error(uri, object_type, f"voxel spacing {text!r} contains ':', '/' or '@' (wrong order?)")
    text = text.strip()
    number = as_float(text)
    if number is None and (not glob or is_missing(text) or any(char in GLOB_CHARS for char in text)):
        return or_star(text)
    try:
        return check_voxel_size(text if number is None else number)
    except ValueError as err:
        raise uri_error(uri, object_type, str(err).rstrip(".")) from None


def _parse_picks_like(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a picks, mesh or filaments URI."""
    name, user, session = _parse_named(body, uri, object_type, glob)
    return {"object_name": name, "user_id": user, "session_id": session}


def _parse_segmentation(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a segmentation URI (split at the first ``@``, then at ``:``)."""
    main, _, vs_text = partition(body, "@", glob)
    name, user, session = _parse_named(main, uri, object_type, glob)
    voxel_spacing = parse_voxel_spacing(vs_text, uri, object_type, glob)
    return {"name": name, "user_id": user, "session_id": session, "voxel_spacing": voxel_spacing}


def _parse_tomogram(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a tomogram URI."""
    tomo_type, _, vs_text = partition(body, "@", glob)
    if separator_positions(tomo_type, ":", glob):
        raise uri_error(uri, object_type, "tomogram URIs have no ':' part (is this a feature URI?)")
    voxel_spacing = parse_voxel_spacing(vs_text, uri, object_type, glob)
    return {"tomo_type": or_star(tomo_type), "voxel_spacing": voxel_spacing}


def _parse_feature(body: str, uri: str, object_type: str, glob: bool) -> dict[str, Any]:
    """Parse the body of a feature URI (the feature type needs a voxel spacing before it)."""
    tomo_type, at, rest = partition(body, "@", glob)
    if not at and separator_positions(tomo_type, ":", glob):
        raise uri_error(uri, object_type, "the feature type must follow a voxel spacing ('@vs:feature')")
    if len(separator_positions(rest, ":", glob)) > 1:
        raise uri_error(uri, object_type, "more than one ':' after the voxel spacing")
    vs_text, _, feature_type = partition(rest, ":", glob)
    return {
        "tomo_type": or_star(tomo_type),
        "voxel_spacing": parse_voxel_spacing(vs_text, uri, object_type, glob),
        "feature_type": or_star(feature_type),
    }


# URI body parsers by kind grammar.
PARSERS = {
    "named": _parse_picks_like,
    "named@vs": _parse_segmentation,
    "type@vs": _parse_tomogram,
    "type@vs:feature": _parse_feature,
}


def _check_regexes(parts: dict[str, Any], uri: str, object_type: str) -> None:
    """Compile every regex component now so a bad pattern fails with the URI in the message."""
    for key in uri_kind(object_type).fields:
        value = parts[key]
        if isinstance(value, str) and value != "*":
            try:
                re.compile(value)
            except re.error as err:
                rule = f"{key} {value!r} is not a valid regular expression ({err})"
                raise uri_error(uri, object_type, rule) from None


def parse_copick_uri(uri: str, object_type: str) -> dict[str, Any]:
    """Parse a copick URI of ``object_type`` into its components (missing ones are ``*``).

    Keys: ``object_type``, ``pattern_type`` (``glob``/``regex``) and the component names of the type;
    segmentations also get ``multilabel``/``instance``/``panoptic`` (None unless the query states them).
    Numeric voxel spacings are returned as floats, patterns as text.
    """
    kind = uri_kind(object_type)
    if not isinstance(uri, str):
        raise InvalidURIError(f"A copick URI must be a str, got {type(uri).__name__} ({uri!r}).")
    text = uri.strip()
    pattern_type = "glob"
    if text.startswith("re:"):
        pattern_type, text = "regex", text[3:]
    body, query = split_query(text)
    if not body.strip():
        raise uri_error(uri, object_type, "the URI is empty (use '*' to select everything)")
    parts = PARSERS[kind.grammar](body, uri, object_type, pattern_type == "glob")
    flags = parse_query(query, uri, object_type)
    if pattern_type == "regex":
        _check_regexes(parts, uri, object_type)
    result: dict[str, Any] = {"object_type": object_type, "pattern_type": pattern_type, **parts}
    if kind.grammar == "named@vs":
        result.update(flags)
    return result


# --------------------------------------------------------------------------------------------------------
# Serialization
# --------------------------------------------------------------------------------------------------------


def _seg_query(multilabel: Any, instance: Any, panoptic: Any) -> str:
    """Return the ``?<type>=true`` suffix of a segmentation URI ('' for binary)."""
    stated = [key for key, flag in zip(SEG_TYPES, (multilabel, instance, panoptic)) if flag]
    if len(stated) > 1:
        raise InvalidURIError(f"At most one of multilabel, instance, panoptic may be true, got {stated}.")
    return f"?{stated[0]}=true" if stated else ""


def _join_named(name: str, user_id: str | None, session_id: str | None) -> str:
    """Format ``name[:user[/session]]``, writing ``*`` for a user that is missing before a session."""
    if is_missing(user_id) and is_missing(session_id):
        return name
    if is_missing(session_id):
        return f"{name}:{user_id}"
    return f"{name}:{'*' if is_missing(user_id) else user_id}/{session_id}"


def format_uri(object_type: str, parts: dict[str, Any]) -> str:
    """Format URI components of ``object_type``; missing trailing parts are left out."""
    grammar = uri_kind(object_type).grammar
    vs = parts.get("voxel_spacing")
    at_vs = "" if is_missing(vs) else f"@{format_voxel_spacing(vs)}"
    if grammar == "named":
        return _join_named(parts["object_name"], parts.get("user_id"), parts.get("session_id"))
    if grammar == "named@vs":
        head = _join_named(parts["name"], parts.get("user_id"), parts.get("session_id"))
        query = _seg_query(parts.get("multilabel"), parts.get("instance"), parts.get("panoptic"))
        return f"{head}{at_vs}{query}"
    feature_type = parts.get("feature_type")
    if grammar == "type@vs" or is_missing(feature_type):
        return f"{parts['tomo_type']}{at_vs}"
    return f"{parts['tomo_type']}{at_vs or '@*'}:{feature_type}"


def check_component(object_type: str, key: str, value: Any) -> None:
    """Reject a missing or separator-containing component that would not parse back to itself."""
    if value is None or (isinstance(value, str) and not value.strip()):
        form = uri_kind(object_type).form
        raise InvalidURIError(f"Cannot build a {object_type} URI without {key}; expected form {form}.")
    if key != "voxel_spacing" and isinstance(value, str) and any(sep in value for sep in ":/@"):
        raise InvalidURIError(
            f"Cannot build a {object_type} URI: {key} {value!r} contains a URI separator (':', '/' or '@')."
        )
