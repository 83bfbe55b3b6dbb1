"""Pieces every entity shares: filter arguments, the read-only guard, and the layer an entity lives in."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from copick.errors import ReadOnlyError

if TYPE_CHECKING:
    from copick.catalog import Record
    from copick.storage import Layer, ProjectStorage


def as_filter(value: Any, arg: str) -> frozenset | None:
    """A ``get_*`` filter argument as a set of accepted strings (``None`` accepts everything).

    A str or any iterable of str is accepted; anything else is a ``TypeError`` naming the argument.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, Iterable):
        return frozenset(value)
    raise TypeError(f"{arg} must be a str or an iterable of str, got {type(value).__name__} ({value!r}).")


def as_voxel_filter(value: Any) -> frozenset | None:
    """A voxel-size filter: one number or an iterable of numbers, compared as floats."""
    if value is None:
        return None
    if isinstance(value, numbers.Real):
        return frozenset((float(value),))
    if isinstance(value, Iterable) and not isinstance(value, str):
        return frozenset(float(v) for v in value)
    raise TypeError(
        f"voxel_size must be a float or an iterable of floats, got {type(value).__name__} ({value!r})."
    )


def accepts(allowed: frozenset | None, value: Any) -> bool:
    return allowed is None or value in allowed


def require_str(value: Any, arg: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{arg} must be a str, got {type(value).__name__} ({value!r}).")


class SessionMixin:
    """``from_tool`` / ``from_user``: session ``"0"`` marks output of a tool, anything else a person's."""

    session_id: str

    @property
    def from_tool(self) -> bool:
        return self.session_id == "0"

    @property
    def from_user(self) -> bool:
        return not self.from_tool


class StoredEntity:
    """An entity stored at one path of one layer (static or overlay), or listed by a catalog
    (``_record``: its bytes are wherever the record's locator says; always read-only)."""

    read_only: bool = False
    _record: Record | None = None
    _kind = "entity"

    @property
    def _storage(self) -> ProjectStorage:
        raise NotImplementedError

    @property
    def _relpath(self) -> str:
        raise NotImplementedError

    @property
    def _layer(self) -> Layer:
        if self._record is not None and self._record.locator is not None:
            return self._record.locator.layer
        storage = self._storage
        return storage.static if self.read_only else storage.overlay

    @property
    def _blob_path(self) -> str:
        """Where the bytes are in ``_layer``: the record's locator, else the entity's folder path."""
        if self._record is not None and self._record.locator is not None:
            return self._record.locator.path
        return self._relpath

    @property
    def _location(self) -> str:
        return self._layer.path(self._blob_path)

    def _require_writable(self, action: str) -> None:
        if self._record is not None:
            raise ReadOnlyError(
                f"Cannot {action} {self._kind} of {self._record.source}: it is read-only. "
                f"Write your own {self._kind} instead; it is stored in the project's overlay."
            )
        if self.read_only:
            raise ReadOnlyError(f"Cannot {action} {self._kind} in a read-only source ({self._location}).")


def from_record(entity: Any, record: Record) -> Any:
    """``entity`` bound to the catalog record it was listed from."""
    entity._record = record
    return entity


def storage_of(root: Any) -> ProjectStorage:
    """The storage of a root, or a clear error for a root class without one."""
    storage = getattr(root, "_storage", None)
    if storage is None:
        raise NotImplementedError(
            f"{type(root).__name__} has no storage; "
            "open a project with copick.from_file() or CopickRootFSSpec."
        )
    return storage
