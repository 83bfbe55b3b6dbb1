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

from typing import Any

from copick.kinds import kind_of
from copick.util.uri_grammar import (
    OBJECT_TYPES,
    SEG_TYPES,
    InvalidURIError,
    UnknownRunError,
    check_component,
    format_uri,
    parse_copick_uri,
    uri_kind,
)
from copick.util.uri_output import expand_output_uri
from copick.util.uri_select import get_copick_objects_by_type, is_pattern_uri, resolve_copick_objects

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
    "serialize_identity",
]


def serialize_copick_uri(obj: Any) -> str:
    """Return the complete (literal) URI of a picks, mesh, filaments, segmentation, tomogram or features."""
    kind = kind_of(obj)
    if kind is None:
        raise InvalidURIError(
            f"Cannot serialize a {type(obj).__name__} to a copick URI; "
            "expected picks, mesh, filaments, segmentation, tomogram or features."
        )
    return serialize_identity(kind.object_type, kind.identity(obj))


def serialize_identity(object_type: str, identity: dict[str, Any]) -> str:
    """The complete URI of an entity identity of ``object_type`` (as ``copick.kinds`` give them)."""
    parts = {key: identity[key] for key in uri_kind(object_type).fields}
    seg_type = identity.get("segmentation_type")
    parts.update({flag: flag == seg_type for flag in SEG_TYPES})
    return format_uri(object_type, parts)


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
    fields = uri_kind(object_type).fields
    if "name" in fields and name is None:
        name = object_name
    if "object_name" in fields and object_name is None:
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
    parts = {key: given[key] for key in fields}
    for key, value in parts.items():
        check_component(object_type, key, value)
    if "name" in fields:
        parts.update(multilabel=multilabel, instance=instance, panoptic=panoptic)
    return format_uri(object_type, parts)
