"""Names and voxel sizes handed to operations (and typed on the command line), checked by ``layout``
before any work starts: a bad one fails once, naming the rule, instead of once per run or never.

A name is checked as the entity API will use it: user, session, object and type names are sanitized
first (copick 1.31 replaces forbidden characters with ``-`` and warns), run names are used as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from copick import layout
from copick.errors import InvalidNameError

__all__ = [
    "NAME_KINDS",
    "check_name_of",
    "check_voxel_size",
    "parse_name_map",
    "parse_voxel_sizes",
    "split_names",
]

# kind -> what the name is called in messages
NAME_KINDS: dict[str, str] = {
    "run": "Run name",
    "user": "User ID",
    "session": "Session ID",
    "object": "Object name",
    "tomo_type": "Tomogram type",
    "feature": "Feature type",
    "segmentation": "Segmentation name",
}


def check_name_of(kind: str, value: Any) -> str:
    """Return ``value`` if it can name an entity of ``kind`` (see ``NAME_KINDS``), else raise
    ``InvalidNameError`` naming the rule."""
    from copick.util.escape import sanitize_name

    if kind == "run":
        return layout.check_run_name(value)
    what = NAME_KINDS[kind]
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__} ({value!r}).")
    clean = sanitize_name(value, suppress_warnings=True)
    if kind == "tomo_type":
        layout.tomogram_store_name(clean)
    elif kind == "feature":
        layout.features_store_name("tomogram", clean)
    else:
        layout.check_name(clean, what, no_underscore=kind in ("user", "session"))
    return value


def check_voxel_size(value: Any) -> float:
    """A voxel size as a float if it is a finite number > 0 that survives the folder name's three
    decimals, else ``InvalidNameError``."""
    return layout.check_voxel_size(value)


def split_names(value: str | Iterable[str] | None) -> list[str]:
    """Comma-separated text (or a list) as a list of stripped, non-empty names."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [item.strip() for item in items if item.strip()]


def parse_name_map(value: str | Iterable[str] | dict | None, kind: str | None = None) -> dict[str, str]:
    """``'a:b,c:d'`` (or a list of pairs, or a dict) as ``{'a': 'b', 'c': 'd'}``; with ``kind`` every
    target name is checked (``check_name_of``), since targets become paths."""
    if not value:
        return {}
    if isinstance(value, dict):
        pairs = {str(src): str(dst) for src, dst in value.items()}
    else:
        pairs = {}
        for pair in split_names(value):
            if ":" not in pair:
                raise InvalidNameError(f"Name mapping {pair!r} must look like 'source:target'.")
            src, dst = pair.split(":", 1)
            pairs[src.strip()] = dst.strip()
    if kind is not None:
        for src, dst in pairs.items():
            try:
                check_name_of(kind, dst)
            except InvalidNameError as err:
                raise InvalidNameError(f"In the mapping '{src}:{dst}': {err}") from None
    return pairs


def parse_voxel_sizes(value: str | float | Iterable[Any] | None) -> list[float] | None:
    """Comma-separated voxel sizes (or numbers) as checked floats; ``None`` when none are given."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        items: list[Any] = split_names(value)
    elif isinstance(value, int | float):
        items = [value]
    else:
        items = list(value)
    return [check_voxel_size(item) for item in items] or None
