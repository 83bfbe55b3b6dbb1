"""Annotation kinds: one file per (object, user, session) in a run — picks, meshes, filaments."""

from __future__ import annotations

from typing import Any

from copick.kinds.base import Kind

__all__ = ["FILAMENTS", "MESHES", "PICKS", "AnnotationKind"]

_FORM = "object_name[:user_id[/session_id]]"


class AnnotationKind(Kind):
    """A kind stored as one file per (object, user, session), reached through ``run.<listing>``,
    ``run.get_<...>(object_name, user_id, session_id)`` and ``run.new_<...>(object, session, user)``."""

    fields = ("object_name", "user_id", "session_id")
    grammar = "named"
    form = _FORM
    object_field = "object_name"

    def __init__(self, object_type: str, plural: str, example: str, creator: str):
        self.object_type = object_type
        self.plural = plural
        self.example = example
        self._creator = creator

    def entities(self, run: Any) -> list[Any]:
        return list(getattr(run, self.plural))

    def lookup(self, run: Any, literal: dict[str, Any], parts: dict[str, Any]) -> list[Any]:
        if not literal:
            return self.entities(run)
        return list(getattr(run, f"get_{self.plural}")(**literal))

    def identity(self, entity: Any) -> dict[str, Any]:
        return {
            "object_name": entity.pickable_object_name,
            "user_id": entity.user_id,
            "session_id": entity.session_id,
        }

    def new(self, run: Any, identity: dict[str, Any], exist_ok: bool) -> Any:
        create = getattr(run, self._creator)
        return create(identity["object_name"], identity["session_id"], identity["user_id"], exist_ok=exist_ok)


PICKS = AnnotationKind("picks", "picks", "ribosome:alice/1", "new_picks")
MESHES = AnnotationKind("mesh", "meshes", "membrane:alice/1", "new_mesh")
FILAMENTS = AnnotationKind("filaments", "filaments", "microtubule:alice/1", "new_filaments")
