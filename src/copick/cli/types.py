"""Click parameter types of copick: ``CopickURI`` marks a parameter as a copick URI for GUI generators."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["CopickURI"]


class CopickURI(click.ParamType):
    """A copick URI parameter: passes the text through unchanged (metavar ``URI``).

    ``object_type`` (``picks``, ``mesh``, ``segmentation``, ``tomogram``, ``feature``, ``filaments`` or
    ``any``) and ``role`` (``input`` or ``output``) are carried for tools that build forms from commands.
    """

    name = "uri"

    def __init__(self, object_type: str = "any", role: str = "input"):
        self.object_type = object_type
        self.role = role

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "URI"

    def to_info_dict(self) -> dict[str, Any]:
        info = super().to_info_dict()
        info.update(object_type=self.object_type, role=self.role)
        return info

    def __repr__(self) -> str:
        return f"CopickURI({self.object_type!r}, {self.role!r})"
