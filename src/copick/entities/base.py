"""Pieces every entity shares: filter arguments, the read-only guard, and the locator of its bytes."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from copick.errors import ReadOnlyError
from copick.listed_meta import ListedMeta

if TYPE_CHECKING:
    from copick.catalog import Locator, Record
    from copick.storage import Layer, ProjectStorage


def as_filter(value: Any, arg: str | None = None) -> frozenset | None:
    """A filter argument as a set of accepted values (``None`` accepts everything).

    One value (a str) or any iterable of values is accepted. Anything else is, for the entity API's
    ``get_*`` arguments (``arg`` named), a ``TypeError`` naming the argument; for the whole-project
    getters of ``copick.ops.get`` (no ``arg``), one value.
    """
    if value is None:
        return None
    if isinstance(value, str | bytes):
        return frozenset((value,))
    if isinstance(value, Iterable):
        return frozenset(value)
    if arg is None:
        return frozenset((value,))
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
    """An entity whose bytes are at one ``Locator``: a file or folder of a project layer (static or
    overlay), or wherever a catalog of another source says (``_record``, e.g. the data portal's).

    Listed entities get the locator of their record; entities made here (``new_*``, or constructed by
    hand) get copick's layout path in the overlay (in the static layer when built ``read_only``).
    ``read_only`` entities refuse writes and deletes with a ``PermissionError``.
    """

    read_only: bool = False
    _record: Record | None = None  # the record of a catalog of another source (portal)
    _loc: Locator | None = None
    _kind = "entity"
    _blob_is_folder = False  # images are folders (OME-Zarr), copied whole

    @property
    def _storage(self) -> ProjectStorage:
        raise NotImplementedError

    def _layout_path(self) -> str:
        """Where copick's layout puts this entity in a layer, from its identity."""
        raise NotImplementedError

    @property
    def _locator(self) -> Locator:
        loc = self._loc
        if loc is None:
            from copick.catalog import Locator

            storage = self._storage
            loc = self._loc = Locator(
                storage.static if self.read_only else storage.overlay, self._layout_path()
            )
        return loc

    @property
    def _layer(self) -> Layer:
        return self._locator.layer

    @property
    def _blob_path(self) -> str:
        """Where the bytes are in ``_layer`` (``_relpath``: the same, its older name)."""
        return self._locator.path

    _relpath = _blob_path

    @property
    def _location(self) -> str:
        """The full path of the bytes (named in errors; computed once per locator)."""
        loc = self._locator
        where = self.__dict__.get("_where")
        if where is None or where[0] is not loc:
            where = self.__dict__["_where"] = (loc, loc.layer.path(loc.path))
        return where[1]

    def _require_writable(self, action: str) -> None:
        record = self._record
        if record is not None and record.read_only:
            raise ReadOnlyError(
                f"Cannot {action} {self._kind} of {record.source}: it is read-only. "
                f"Write your own {self._kind} instead; it is stored in the project's overlay."
            )
        if self.read_only:
            raise ReadOnlyError(f"Cannot {action} {self._kind} in a read-only source ({self._location}).")

    # --- bytes -----------------------------------------------------------------------------------

    def _read_bytes(self) -> bytes:
        loc = self._locator
        return loc.layer.read_bytes(loc.path)

    def _write_bytes(self, data: bytes, create: bool = False) -> None:
        """Replace the file atomically; with ``create``, ``FileExistsError`` if it exists (create-only)."""
        self._require_writable("store")
        loc = self._locator
        (loc.layer.create_bytes if create else loc.layer.write_bytes)(loc.path, data)

    def _delete_file(self) -> None:
        """Delete the file (``FileNotFoundError`` if it is already gone)."""
        self._require_writable("delete")
        loc = self._locator
        loc.layer.delete(loc.path)

    def copy_from(self, source: StoredEntity) -> None:
        """Replace what this entity stores with a copy of what ``source`` (an entity of the same kind,
        of any project or backend) stores. Files are copied byte for byte, images as whole folders;
        picks and filaments files, whose content names their identity, are rewritten with this
        entity's identity."""
        from copick import staging

        self._require_writable("write")
        src, dst = source._locator, self._locator
        if self._blob_is_folder:
            staging.copy_image(src.layer, src.path, dst.layer, dst.path, self._location)
            return
        dst.layer.write_bytes(dst.path, src.layer.read_bytes(src.path))
        self.refresh()  # type: ignore[attr-defined]  (every file entity re-reads its file)


def own_meta(entity: Any) -> Any:
    """The meta model of an entity (held in ``_meta``): the entity's own model, made on first use
    from the ``ListedMeta`` its folder listing gave (identity properties read either, without it)."""
    meta = entity._meta
    if type(meta) is ListedMeta:
        meta = entity._meta = meta.model()
    return meta


def _set_meta(entity: Any, meta: Any) -> None:
    entity._meta = meta


#: ``entity.meta`` of the entities folder catalogs list by the thousand (``own_meta``).
lazy_meta = property(own_meta, _set_meta, doc="The entity's meta model.")


def from_record(entity: Any, record: Record) -> Any:
    """``entity``, listed as ``record``: its bytes are where the record's locator says; a record of a
    catalog of another source than the project's folders is kept (metadata queries, its source in
    messages)."""
    entity._loc = record.locator
    if record.source:
        entity._record = record
    return entity


def locator_of(entity: StoredEntity) -> Locator:
    """Where the bytes of ``entity`` are (layer and path in it): for ops that work on the stored files
    themselves (deposit links them, show and report read their levels)."""
    return entity._locator


def shown_location(entity: StoredEntity) -> str:
    """Where the bytes of ``entity`` are, as a user pastes it: a local path, or a URL (``s3://bucket/key``)."""
    return entity._locator.layer.shown(entity._location)


def stored_bytes(entity: StoredEntity) -> bytes:
    """The bytes of the file of ``entity`` as stored (picks JSON, mesh GLB), read afresh."""
    return entity._read_bytes()


def record_of(entity: StoredEntity) -> Record | None:
    """The record of ``entity`` when a catalog of another source (the portal ...) listed it, else None."""
    return entity._record


def layout_path_of(entity: StoredEntity) -> str:
    """Where copick's layout puts ``entity`` below a project root, from its identity."""
    return entity._layout_path()


def storage_of(root: Any) -> ProjectStorage:
    """The storage of a root, or a clear error for a root class without one."""
    storage = getattr(root, "_storage", None)
    if storage is None:
        raise NotImplementedError(
            f"{type(root).__name__} has no storage; "
            "open a project with copick.from_file() or CopickRootFSSpec."
        )
    return storage
