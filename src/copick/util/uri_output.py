"""Output URI shorthands: completing a partial output URI of a converter from its input URI."""

from __future__ import annotations

from typing import Any

from copick.util.uri_grammar import (
    OUTPUT_PLACEHOLDERS,
    PARSERS,
    SEG_TYPES,
    as_float,
    format_uri,
    is_missing,
    parse_copick_uri,
    parse_query,
    parse_voxel_spacing,
    split_query,
    uri_error,
    uri_kind,
)
from copick.util.uri_select import is_literal, is_pattern_uri

__all__ = ["expand_output_uri"]


def _parse_output_named(text: str, uri: str, object_type: str) -> dict[str, str | None]:
    """Parse an output shorthand ``name``, ``name:user[/session]``, ``name/session``, ``/session``."""
    main = text.strip()
    if main in OUTPUT_PLACEHOLDERS:
        return {"name": None, "user_id": None, "session_id": main}
    if main.count(":") > 1:
        raise uri_error(uri, object_type, "more than one ':' in the main part")
    if ":" in main:
        name, _, rest = main.partition(":")
        user, _, session = rest.partition("/")
    else:
        name, _, session = main.partition("/")
        user = ""
    values = zip(("name", "user_id", "session_id"), (name, user, session))
    return {key: None if is_missing(value) else value for key, value in values}


def _parse_output(output_uri: str, object_type: str) -> dict[str, Any]:
    """Parse an output URI shorthand of ``object_type`` (components absent or ``*`` become None)."""
    text = output_uri.strip()
    if text.startswith("re:"):
        raise uri_error(output_uri, object_type, "an output URI cannot be a regular expression")
    body, query = split_query(text)
    flags = parse_query(query, output_uri, object_type)
    kind = uri_kind(object_type)
    if kind.grammar.startswith("type"):
        parsed = PARSERS[kind.grammar](body, output_uri, object_type, True) if body.strip() else {}
        return {key: None if is_missing(parsed.get(key)) else parsed[key] for key in kind.fields}
    vs_text = None
    if kind.grammar == "named@vs":
        body, _, vs_text = body.partition("@")
    named = _parse_output_named(body, output_uri, object_type)
    parts: dict[str, Any] = {
        "name": named["name"],
        "user_id": named["user_id"],
        "session_id": named["session_id"],
    }
    if kind.grammar == "named@vs":
        vs = parse_voxel_spacing(vs_text or "", output_uri, object_type)
        parts.update(voxel_spacing=None if is_missing(vs) else vs, **flags)
    return parts


def _input_name(parsed: dict[str, Any]) -> Any:
    """Return the name component of a parsed input URI, whatever its object type."""
    for key in ("object_name", "name", "tomo_type"):
        if key in parsed:
            return parsed[key]
    return None


def _input_segmentation_type(parsed: dict[str, Any]) -> str | None:
    """Return the explicitly typed segmentation kind of a parsed input URI, if any."""
    return next((key for key in SEG_TYPES if parsed.get(key)), None)


def _default_session(input_uri: str, individual_outputs: bool) -> str:
    """Pick the output session: per-instance, per-input-session (pattern inputs), or ``converted-001``."""
    if individual_outputs:
        return "{instance_id}"
    if is_pattern_uri(input_uri):
        return "{input_session_id}"
    return "converted-001"


def _concrete_voxel_spacing(parsed: dict[str, Any]) -> float | None:
    """Return the input's voxel spacing when it names exactly one number."""
    return as_float(parsed.get("voxel_spacing"))


def _expand_volume_output(
    output_uri: str, input_parts: dict[str, Any], object_type: str, command_name: str | None
) -> str:
    """Complete a tomogram/feature output URI from the input's type and voxel spacing."""
    parts = _parse_output(output_uri, object_type)
    if all(parts[key] is not None for key in uri_kind(object_type).fields):
        return output_uri
    parts["tomo_type"] = parts["tomo_type"] or _input_name(input_parts)
    if parts["voxel_spacing"] is None:
        parts["voxel_spacing"] = _concrete_voxel_spacing(input_parts)
    if "feature_type" in parts and parts["feature_type"] is None:
        input_feature = input_parts.get("feature_type")
        concrete = is_literal(input_feature, input_parts["pattern_type"])
        parts["feature_type"] = input_feature if concrete else (command_name or "converter")
    return format_uri(object_type, parts)


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
    grammar = uri_kind(output_type).grammar
    input_parts = parse_copick_uri(input_uri, input_type)
    if grammar.startswith("type"):
        return _expand_volume_output(output_uri, input_parts, output_type, command_name)
    parts = _parse_output(output_uri, output_type)
    keys = ("name", "user_id", "session_id") + (("voxel_spacing",) if grammar == "named@vs" else ())
    if all(parts[key] is not None for key in keys):
        return output_uri
    name = parts["name"] or _input_name(input_parts)
    user = parts["user_id"] or command_name or "converter"
    session = parts["session_id"] or _default_session(input_uri, individual_outputs)
    if grammar != "named@vs":
        return format_uri(output_type, {"object_name": name, "user_id": user, "session_id": session})
    voxel_spacing = parts["voxel_spacing"]
    if voxel_spacing is None:
        voxel_spacing = _concrete_voxel_spacing(input_parts)
    stated = [key for key in SEG_TYPES if parts.get(key) is not None]
    seg_type = next((key for key in SEG_TYPES if parts.get(key)), None)
    if not stated:
        seg_type = _input_segmentation_type(input_parts)
    flags = {key: key == seg_type or None for key in SEG_TYPES}
    seg = {"name": name, "user_id": user, "session_id": session, "voxel_spacing": voxel_spacing, **flags}
    return format_uri(output_type, seg)
