"""The one naming rule of copick: what may appear in object, user, session and type names."""

from __future__ import annotations

import re
import warnings

# Forbidden: Windows-reserved punctuation, ASCII control characters, any whitespace and the
# underscore, which separates the fields of every copick file name.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\s_]')


def sanitize_name(name: str, suppress_warnings: bool = False) -> str:
    """Replace every forbidden character of ``name`` by ``-`` and strip leading/trailing ``-``.

    Raises ``ValueError`` when nothing usable is left; warns (``UserWarning``) when the name changed.
    """
    from copick.errors import InvalidNameError

    if not isinstance(name, str):
        raise TypeError(f"A copick name must be a str, got {type(name).__name__} ({name!r}).")
    clean = _FORBIDDEN.sub("-", name).strip("-")
    if not clean:
        raise InvalidNameError(
            f"Name {name!r} is empty after replacing forbidden characters "
            '(< > : " / \\ | ? *, control characters, whitespace and "_").'
        )
    if clean != name and not suppress_warnings:
        warnings.warn(
            f"Input {name!r} contains invalid characters. It has been sanitized to {clean!r}.",
            UserWarning,
            stacklevel=2,
        )
    return clean
