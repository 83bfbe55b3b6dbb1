"""Meshes: one GLB file per (user, session, object) in a run's ``Meshes/`` folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copick.entities.annotations import MESHES, AnnotationEntity
from copick.entities.base import StoredEntity, lazy_meta
from copick.formats import glb
from copick.metadata import CopickMeshMeta

if TYPE_CHECKING:
    from copick.entities.run import CopickRun


class CopickMesh(AnnotationEntity, StoredEntity):
    """A triangle mesh of one object by one user in one session, loaded lazily as a ``trimesh.Scene``."""

    _kind = "mesh"
    KIND = MESHES
    meta = lazy_meta

    def __init__(self, run: CopickRun, meta: CopickMeshMeta, mesh: Any = None, read_only: bool = False):
        self.run = run
        self.meta = meta
        self._mesh = mesh
        self.read_only = read_only

    @property
    def _id_meta(self) -> CopickMeshMeta:
        return self._meta

    @classmethod
    def created(cls, run: CopickRun, object_name: str, session_id: str, user_id: str) -> CopickMesh:
        """A new mesh holding a placeholder scene (not yet stored)."""
        meta = CopickMeshMeta(pickable_object_name=object_name, user_id=user_id, session_id=session_id)
        return cls(run, meta, mesh=glb.placeholder_scene())

    @property
    def color(self) -> Any:
        return self.run.root.get_object(self.pickable_object_name).color

    @property
    def mesh(self) -> Any:
        if self._mesh is None:
            self.load()
        return self._mesh

    @mesh.setter
    def mesh(self, value: Any) -> None:
        self._mesh = value

    def load(self) -> Any:
        """Read the GLB file into a ``trimesh.Scene``."""
        self._mesh = glb.load_scene(self._read_bytes(), self._location)
        return self._mesh

    def refresh(self) -> None:
        self.load()

    def store(self) -> None:
        """Write the mesh as GLB atomically; read-only meshes raise ``PermissionError``."""
        self._write_bytes(glb.dump_scene(self.mesh))

    def _store_new(self) -> None:
        """``store()`` for a new mesh: ``FileExistsError`` if the file exists (create-only)."""
        self._write_bytes(glb.dump_scene(self.mesh), create=True)

    def delete(self) -> None:
        self._delete_file()
        self._forget_in_run()

    def __repr__(self) -> str:
        return (
            f"CopickMesh(pickable_object_name={self.pickable_object_name}, user_id={self.user_id}, "
            f"session_id={self.session_id}) at {hex(id(self))}"
        )
