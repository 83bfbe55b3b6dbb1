"""Click parameter types of copick.

``CopickURI`` marks a parameter as a copick URI for GUI generators. ``CopickName``, ``CopickNameMap``,
``VoxelSize`` and ``VoxelSizes`` check names and numbers that reach paths while the command line is
parsed, through the same ``layout`` rules as the API: a bad value is a usage error naming the option,
the value and the rule, before anything is opened or written.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["CopickName", "CopickNameMap", "CopickURI", "VoxelSize", "VoxelSizes"]


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


class _Checked(click.ParamType):
    """A parameter whose text is checked by ``check``; a ``ValueError`` becomes a usage error."""

    def check(self, value: str) -> Any:
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.check(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


class CopickName(_Checked):
    """A run, user, session, object, tomogram type, feature type or segmentation name (``kind``, see
    ``copick.ops.names.NAME_KINDS``), passed on unchanged when layout accepts it. With ``commas``,
    each comma-separated part is checked (options that accept the deprecated ``a,b`` form); with
    ``allow_empty``, an empty value (an option's "not given") is passed on too."""

    name = "name"

    def __init__(self, kind: str, *, commas: bool = False, allow_empty: bool = False):
        self.kind = kind
        self.commas = commas
        self.allow_empty = allow_empty

    def check(self, value: Any) -> Any:
        from copick.ops.names import check_name_of, split_names

        if self.allow_empty and value == "":
            return value
        parts = split_names(value) if self.commas else [value]
        for part in parts or [""]:  # an empty -r must not mean "every run"
            check_name_of(self.kind, part)
        return value

    def __repr__(self) -> str:
        return f"CopickName({self.kind!r})"


class CopickNameMap(_Checked):
    """Comma-separated ``source:target`` renames; every target is checked as a ``kind`` name."""

    name = "mapping"

    def __init__(self, kind: str):
        self.kind = kind

    def check(self, value: Any) -> Any:
        from copick.ops.names import parse_name_map

        parse_name_map(value, self.kind)
        return value


class VoxelSize(_Checked):
    """A voxel size in Angstrom: a finite number > 0 that keeps a value at three decimals."""

    name = "float"

    def check(self, value: Any) -> float:
        from copick.ops.names import check_voxel_size

        return check_voxel_size(value)


class VoxelSizes(_Checked):
    """Comma-separated voxel sizes, each checked as ``VoxelSize``; the text is passed on unchanged."""

    name = "sizes"

    def check(self, value: Any) -> Any:
        from copick.ops.names import parse_voxel_sizes

        parse_voxel_sizes(value)
        return value
