"""What every entity kind declares, and the helpers every operation over kinds shares.

A ``Kind`` names one sort of entity of a run (picks, meshes, segmentations, tomograms ...): its URI
object type and components, how to list, find, create and copy its entities through the entity API.
File naming stays in ``copick.layout``; the entity classes do the I/O.
"""

from __future__ import annotations

import os
from typing import Any

from copick.entities.base import as_filter as as_set  # one filter rule for entities and kinds
from copick.errors import ReadOnlyError

__all__ = ["Kind", "as_set", "open_project", "transfer"]


def open_project(root: Any) -> Any:
    """Open ``root`` when it is the path of a config file; a project passes through unchanged."""
    if isinstance(root, str | os.PathLike):
        from copick.ops.open import from_file

        return from_file(os.fspath(root))
    return root


class Kind:
    """One entity kind. Subclasses fill the class attributes and the run-level methods below.

    ``fields`` are the URI components in URI order; an entity's ``identity`` maps each of them (plus
    kind-specific extras such as a segmentation's type) to its value, voxel spacings as floats.
    """

    object_type: str  # URI object type: "picks", "mesh", "segmentation", ...
    plural: str  # the command/collection name: "picks", "meshes", "segmentations", ...
    fields: tuple[str, ...]  # URI components, in URI order
    grammar: str  # URI body shape, see copick.util.uri_grammar.GRAMMARS
    form: str  # the URI form shown in errors
    example: str  # an example URI shown in errors
    copyable: bool = True  # cp/mv accept it (rm and URIs accept every kind)
    object_field: str | None = None  # the component naming a pickable object, when there is one

    def entities(self, run: Any) -> list[Any]:
        """Every entity of this kind in ``run``."""
        raise NotImplementedError

    def lookup(self, run: Any, literal: dict[str, Any], parts: dict[str, Any]) -> list[Any]:
        """The entities of ``run`` that may match ``literal`` components (an indexed lookup).

        ``parts`` is the whole parsed URI (kinds with type flags read them there).
        """
        raise NotImplementedError

    def identity(self, entity: Any) -> dict[str, Any]:
        """The identity of ``entity``: its URI components (and kind-specific extras)."""
        raise NotImplementedError

    def new(self, run: Any, identity: dict[str, Any], exist_ok: bool) -> Any:
        """Create the entity ``identity`` in ``run`` (an existing one without ``exist_ok`` is an error)."""
        raise NotImplementedError

    def copy(self, source: Any, target: Any, identity: dict[str, Any]) -> None:
        """Copy the content of ``source`` into the new entity ``target`` of identity ``identity``
        (the entity's own ``copy_from``: files byte for byte or rewritten with the target's
        identity, images as whole folders)."""
        target.copy_from(source)

    def accepts(self, parts: dict[str, Any], entity: Any) -> bool:
        """Kind-specific selection by a parsed URI beyond its components (type flags); default: all."""
        return True

    def target_identity(self, parts: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        """The identity a target URI ``parts`` gives a copy of ``source``: stated parts win."""
        target = {}
        for key in self.fields:
            value = parts.get(key)
            target[key] = source[key] if value in (None, "*") else value
        if "voxel_spacing" in target:
            target["voxel_spacing"] = float(target["voxel_spacing"])
        return target

    def check_copy(self, source: Any, identity: dict[str, Any]) -> None:
        """Refuse a copy of ``source`` to ``identity`` that copying cannot do (default: none)."""

    def pickable_object(self, identity: dict[str, Any]) -> str | None:
        """The pickable object an entity of ``identity`` needs in the config, if any."""
        return identity[self.object_field] if self.object_field else None

    def __repr__(self) -> str:
        return f"<kind {self.object_type}>"


def transfer(kind: Kind, run: Any, source: Any, identity: dict[str, Any], overwrite: bool) -> Any:
    """Copy ``source`` to the entity ``identity`` of ``run`` (cp, mv and sync); return the new entity."""
    kind.check_copy(source, identity)
    target = kind.new(run, identity, exist_ok=overwrite)
    if getattr(target, "read_only", False):
        raise ReadOnlyError(f"The target {kind.object_type} is in the read-only static layer.")
    kind.copy(source, target, identity)
    return target
