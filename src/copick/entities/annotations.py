"""Annotation files of a run — picks, meshes, filaments — handled by one piece of code.

Each kind is one ``AnnotationKind`` (folder, extension, entity class attribute); the run's
``picks``/``meshes``/``filaments`` members are thin names over ``AnnotationsMixin``. Entities are
listed from the project's catalogs (``copick.catalog``); entity classes provide
``created(run, object, session, user)`` for new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copick import layout
from copick.entities.base import SessionMixin, accepts, as_filter, from_record, require_str, storage_of
from copick.errors import EntityExistsError, UnknownObjectError
from copick.util.escape import sanitize_name

if TYPE_CHECKING:
    from copick.storage import ProjectStorage


@dataclass(frozen=True)
class AnnotationKind:
    """One kind of per-(user, session, object) file of a run."""

    attr: str  # the run's list property (and cache ``_<attr>``): "picks"
    folder: str  # run sub-folder: "Picks"
    ext: str  # file extension: ".json"
    class_attr: str  # the run's class attribute naming the entity class: "picks_class"
    creator: str  # the run method creating one, named in errors: "new_picks"
    noun: str  # for messages: "Picks"


PICKS = AnnotationKind("picks", layout.PICKS_DIR, ".json", "picks_class", "new_picks", "Picks")
MESHES = AnnotationKind("meshes", layout.MESHES_DIR, ".glb", "mesh_class", "new_mesh", "Mesh")
FILAMENTS = AnnotationKind(
    "filaments", layout.FILAMENTS_DIR, ".json", "filaments_class", "new_filaments", "Filaments"
)
ANNOTATION_KINDS = (PICKS, MESHES, FILAMENTS)


class AnnotationEntity(SessionMixin):
    """Identity and file location of one annotation file (``KIND`` names its kind)."""

    KIND: AnnotationKind
    run: Any

    @property
    def _id_meta(self) -> Any:
        raise NotImplementedError

    @property
    def pickable_object_name(self) -> str:
        return self._id_meta.pickable_object_name

    @property
    def user_id(self) -> str:
        return self._id_meta.user_id

    @property
    def session_id(self) -> str:
        return self._id_meta.session_id

    @property
    def _storage(self) -> ProjectStorage:
        return storage_of(self.run.root)

    def _layout_path(self) -> str:
        kind = self.KIND
        name = layout.annotation_file_name(self.user_id, self.session_id, self.pickable_object_name, kind.ext)
        return f"{self.run._relpath}/{kind.folder}/{name}"

    @property
    def path(self) -> str:
        return self._location

    def _forget_in_run(self) -> None:
        self.run._forget(f"_{self.KIND.attr}", self)


def select(items: list, object_name: Any, user_id: Any, session_id: Any) -> list:
    """Items matching every filter (each ``None``, a str or an iterable of str)."""
    objects = as_filter(object_name, "object_name")
    users = as_filter(user_id, "user_id")
    sessions = as_filter(session_id, "session_id")
    return [
        item
        for item in items
        if accepts(objects, item.pickable_object_name)
        and accepts(users, item.user_id)
        and accepts(sessions, item.session_id)
    ]


class AnnotationsMixin:
    """List, find, create, delete and refresh a run's annotation files of every kind."""

    root: Any
    _relpath: str
    _storage: ProjectStorage

    def _annotations(self, kind: AnnotationKind) -> list:
        cache = f"_{kind.attr}"
        if getattr(self, cache, None) is None:
            setattr(self, cache, self._query_annotations(kind))
        return getattr(self, cache)

    def _query_annotations(self, kind: AnnotationKind) -> list:
        cls = getattr(self, kind.class_attr)
        return [
            from_record(cls(self, r.meta, read_only=r.read_only), r)
            for r in self._storage.records(kind.attr, self.name)
        ]

    def _refresh_annotations(self, kind: AnnotationKind) -> None:
        self._storage.forget_prefetch(self._relpath)
        setattr(self, f"_{kind.attr}", self._query_annotations(kind))

    def _user_items(self, items: list) -> list:
        """Items of the config's user, or every user's (non-tool) items when no user is set."""
        user = self.root.config.user_id
        return [i for i in items if (i.user_id == user if user is not None else i.from_user)]

    def _new_annotation_ids(self, object_name: str, session_id: str, user_id: str | None, what: str) -> tuple:
        require_str(object_name, "object_name")
        require_str(session_id, "session_id")
        if user_id is None:
            user_id = self.root.config.user_id
        if user_id is None:
            raise ValueError(f"User ID must be set in the root config or supplied to {what}.")
        require_str(user_id, "user_id")
        object_name = sanitize_name(object_name)
        if self.root.get_object(object_name) is None:
            raise UnknownObjectError(
                f"Object name {object_name} not found in pickable objects "
                f"(known: {', '.join(o.name for o in self.root.pickable_objects) or 'none'})."
            )
        return object_name, sanitize_name(session_id), sanitize_name(user_id)

    def _new_annotation(
        self, kind: AnnotationKind, object_name: str, session_id: str, user_id: str | None, exist_ok: bool
    ) -> Any:
        """Create and store an entity of ``kind``, or return the existing one with ``exist_ok``.

        An entity another process wrote since this run listed counts as existing (nothing clobbered),
        and of racing creators exactly one creates the file.
        """
        object_name, session_id, user_id = self._new_annotation_ids(
            object_name, session_id, user_id, kind.creator
        )
        match = select(self._annotations(kind), object_name, user_id, session_id)
        name = layout.annotation_file_name(user_id, session_id, object_name, kind.ext)
        if not match and self._storage.exists(layout.join(self._relpath, kind.folder, name)):
            self._refresh_annotations(kind)
            match = select(self._annotations(kind), object_name, user_id, session_id)
        if not match:
            entity = getattr(self, kind.class_attr).created(self, object_name, session_id, user_id)
            try:
                entity._store_new()  # create-only: of racing creators exactly one gets here
            except FileExistsError:
                self._refresh_annotations(kind)
                match = select(self._annotations(kind), object_name, user_id, session_id)
            else:
                self._annotations(kind).append(entity)
                return entity
        if match and exist_ok:
            return match[0]
        raise EntityExistsError(
            f"{kind.noun} for {object_name} by user/tool {user_id} already exist in session {session_id}."
        )

    def _delete_annotations(
        self, kind: AnnotationKind, object_name: Any, user_id: Any, session_id: Any
    ) -> None:
        for entity in select(self._annotations(kind), object_name, user_id, session_id):
            entity.delete()
