"""A run: one sample location, holding voxel spacings, picks, meshes and segmentations."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from copick import layout
from copick.catalog import SEGMENTATION, VOXEL_SPACING, filter_by_query
from copick.entities.annotations import FILAMENTS, MESHES, PICKS, AnnotationsMixin, select
from copick.entities.base import (
    accepts,
    as_filter,
    as_voxel_filter,
    from_record,
    lazy_meta,
    require_str,
    storage_of,
)
from copick.entities.filaments import CopickFilaments
from copick.entities.mesh import CopickMesh
from copick.entities.picks import CopickPicks
from copick.entities.segmentation import CopickSegmentation
from copick.entities.voxel_spacing import CopickVoxelSpacing
from copick.errors import EntityExistsError, UnknownObjectError
from copick.metadata import (
    CopickRunMeta,
    CopickSegmentationMeta,
    CopickVoxelSpacingMeta,
)
from copick.util.escape import sanitize_name

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from copick.catalog import Locator, Record
    from copick.entities.root import CopickRoot
    from copick.storage import ProjectStorage


class CopickRun(AnnotationsMixin):
    """One run (tomographic sample location) of a project. Children are listed lazily and cached."""

    voxel_spacing_class = CopickVoxelSpacing
    picks_class = CopickPicks
    mesh_class = CopickMesh
    filaments_class = CopickFilaments
    segmentation_class = CopickSegmentation
    meta = lazy_meta
    _loc: Locator | None = None  # the folder it was listed from (a layer's), if any
    _record: Record | None = None  # the record of a catalog of another source (portal)

    def __init__(self, root: CopickRoot, meta: CopickRunMeta, config: Any = None):
        self.root = root
        self.meta = meta
        self._voxel_spacings: list[CopickVoxelSpacing] | None = None
        self._picks: list[CopickPicks] | None = None
        self._meshes: list[CopickMesh] | None = None
        self._filaments: list[CopickFilaments] | None = None
        self._segmentations: list[CopickSegmentation] | None = None

    # --- identity and storage ------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._meta.name

    @name.setter
    def name(self, value: str) -> None:
        self.meta.name = value

    @property
    def split(self) -> str | None:
        return None

    @property
    def _storage(self) -> ProjectStorage:
        return storage_of(self.root)

    @property
    def _relpath(self) -> str:
        return layout.run_path(self.name)

    def ensure(self, create: bool = False) -> bool:
        """Does the run exist in either layer? With ``create``, make it in the overlay."""
        return self._storage.ensure_dir(self._relpath, create)

    def _forget(self, cache: str, entity: Any) -> None:
        """Drop a deleted child from its cache."""
        items = getattr(self, cache)
        if items is not None and entity in items:
            items.remove(entity)

    # --- voxel spacings ------------------------------------------------------------------------

    @property
    def voxel_spacings(self) -> list[CopickVoxelSpacing]:
        if self._voxel_spacings is None:
            self._voxel_spacings = self._query_voxel_spacings()
        return self._voxel_spacings

    def _query_voxel_spacings(self) -> list[CopickVoxelSpacing]:
        found: dict[float, CopickVoxelSpacing] = {}
        for record in self._storage.records(VOXEL_SPACING, self.name):
            size = record.meta.voxel_size
            if size not in found:  # catalogs first, then static: the first copy wins
                found[size] = from_record(self.voxel_spacing_class(self, record.meta), record)
        return list(found.values())

    def get_voxel_spacing(self, voxel_size: float, **kwargs: Any) -> CopickVoxelSpacing | None:
        """The spacing of exactly ``voxel_size`` (float equality once listed), or ``None``."""
        layout.check_voxel_size(voxel_size)
        if self._voxel_spacings is None and not self._storage.catalogs:
            vs = self.voxel_spacing_class(self, CopickVoxelSpacingMeta(voxel_size=voxel_size))
            return vs if vs.ensure(create=False) else None
        return next((vs for vs in self.voxel_spacings if vs.voxel_size == voxel_size), None)

    def new_voxel_spacing(
        self, voxel_size: float, exist_ok: bool = False, **kwargs: Any
    ) -> CopickVoxelSpacing:
        """Create ``VoxelSpacing<size %.3f>/`` in the overlay; a duplicate raises ``ValueError``.

        Folder names hold three decimals: a size that rounds to an existing spacing's folder is that
        spacing (``exist_ok``) or an ``EntityExistsError`` that names the folder."""
        dirname = layout.voxel_spacing_dirname(voxel_size)
        existing = next((vs for vs in self.voxel_spacings if vs._dirname == dirname), None)
        if existing is None and self._storage.exists(layout.join(self._relpath, dirname)):
            self.refresh_voxel_spacings()
            existing = next((vs for vs in self.voxel_spacings if vs._dirname == dirname), None)
        if existing is not None:
            if exist_ok:
                return existing
            same = "" if existing.voxel_size == voxel_size else f" (as {dirname}: {existing.voxel_size})"
            raise EntityExistsError(f"VoxelSpacing {voxel_size} already exists for this run{same}.")
        vs = self.voxel_spacing_class(self, CopickVoxelSpacingMeta(voxel_size=voxel_size, **kwargs))
        vs.ensure(create=True)
        self.voxel_spacings.append(vs)
        return vs

    def refresh_voxel_spacings(self) -> None:
        self._storage.forget_prefetch(self._relpath)
        self._voxel_spacings = self._query_voxel_spacings()

    def delete_voxel_spacings(self, voxel_size: float | None = None) -> None:
        if voxel_size is not None:
            layout.check_voxel_size(voxel_size)
        for vs in list(self.voxel_spacings):
            if voxel_size is None or vs.voxel_size == voxel_size:
                vs.delete()

    # --- picks, meshes and filaments (one piece of code: entities/annotations.py) --------------

    @property
    def picks(self) -> list[CopickPicks]:
        return self._annotations(PICKS)

    def get_picks(
        self, object_name: Any = None, user_id: Any = None, session_id: Any = None, **kwargs: Any
    ) -> list:
        """Picks matching every given filter (each a str or an iterable of str); catalog picks also
        by ``portal_meta_query`` (field equality) and ``portal_author_query`` (every author named)."""
        return filter_by_query(select(self.picks, object_name, user_id, session_id), kwargs)

    def user_picks(self) -> list[CopickPicks]:
        return self._user_items(self.picks)

    def tool_picks(self) -> list[CopickPicks]:
        return [p for p in self.picks if p.from_tool]

    def new_picks(
        self, object_name: str, session_id: str, user_id: str | None = None, exist_ok: bool = False
    ) -> CopickPicks:
        """Create and store an empty pick set (``Picks/<user>_<session>_<object>.json``)."""
        return self._new_annotation(PICKS, object_name, session_id, user_id, exist_ok)

    def delete_picks(self, object_name: Any = None, user_id: Any = None, session_id: Any = None) -> None:
        self._delete_annotations(PICKS, object_name, user_id, session_id)

    def refresh_picks(self) -> None:
        self._refresh_annotations(PICKS)

    @property
    def meshes(self) -> list[CopickMesh]:
        return self._annotations(MESHES)

    def get_meshes(
        self, object_name: Any = None, user_id: Any = None, session_id: Any = None, **kwargs: Any
    ) -> list:
        return filter_by_query(select(self.meshes, object_name, user_id, session_id), kwargs)

    def user_meshes(self) -> list[CopickMesh]:
        return self._user_items(self.meshes)

    def tool_meshes(self) -> list[CopickMesh]:
        return [m for m in self.meshes if m.from_tool]

    def new_mesh(
        self,
        object_name: str,
        session_id: str,
        user_id: str | None = None,
        exist_ok: bool = False,
        **kwargs: Any,
    ) -> CopickMesh:
        """Create a mesh and store its placeholder GLB (``Meshes/<user>_<session>_<object>.glb``)."""
        return self._new_annotation(MESHES, object_name, session_id, user_id, exist_ok)

    def delete_meshes(self, object_name: Any = None, user_id: Any = None, session_id: Any = None) -> None:
        self._delete_annotations(MESHES, object_name, user_id, session_id)

    def refresh_meshes(self) -> None:
        self._refresh_annotations(MESHES)

    @property
    def filaments(self) -> list[CopickFilaments]:
        return self._annotations(FILAMENTS)

    def query_filaments(self) -> list[CopickFilaments]:
        """List the filament files now (without touching the cached list)."""
        return self._query_annotations(FILAMENTS)

    def get_filaments(self, object_name: Any = None, user_id: Any = None, session_id: Any = None) -> list:
        return select(self.filaments, object_name, user_id, session_id)

    def new_filaments(
        self, object_name: str, session_id: str, user_id: str | None = None, exist_ok: bool = False
    ) -> CopickFilaments:
        """Create and store an empty filament set (``Filaments/<user>_<session>_<object>.json``)."""
        obj = self.root.get_object(object_name)
        if obj is not None and not obj.meta.is_filament:
            _log.warning(
                f"Object {object_name} is not declared a filament (see PickableObject.set_filament)."
            )
        return self._new_annotation(FILAMENTS, object_name, session_id, user_id, exist_ok)

    def delete_filaments(self, object_name: Any = None, user_id: Any = None, session_id: Any = None) -> None:
        self._delete_annotations(FILAMENTS, object_name, user_id, session_id)

    def refresh_filaments(self) -> None:
        self._refresh_annotations(FILAMENTS)

    # --- segmentations -------------------------------------------------------------------------

    @property
    def segmentations(self) -> list[CopickSegmentation]:
        if self._segmentations is None:
            self._segmentations = self._query_segmentations()
        return self._segmentations

    def _query_segmentations(self) -> list[CopickSegmentation]:
        return [
            from_record(self.segmentation_class(self, r.meta, read_only=r.read_only), r)
            for r in self._storage.records(SEGMENTATION, self.name)
        ]

    def get_segmentations(
        self,
        user_id: Any = None,
        session_id: Any = None,
        is_multilabel: bool | None = None,
        name: Any = None,
        voxel_size: Any = None,
        *,
        is_instance: bool | None = False,
        is_panoptic: bool | None = False,
        **kwargs: Any,
    ) -> list[CopickSegmentation]:
        """Segmentations matching every filter; by default binary and multilabel ones only."""
        users = as_filter(user_id, "user_id")
        sessions = as_filter(session_id, "session_id")
        names = as_filter(name, "name")
        sizes = as_voxel_filter(voxel_size)
        return filter_by_query([
            s
            for s in self.segmentations
            if accepts(users, s.user_id)
            and accepts(sessions, s.session_id)
            and accepts(names, s.name)
            and accepts(sizes, s.voxel_size)
            and (is_multilabel is None or s.is_multilabel == is_multilabel)
            and (is_instance is None or s.is_instance == is_instance)
            and (is_panoptic is None or s.is_panoptic == is_panoptic)
        ], kwargs)  # fmt: skip

    def user_segmentations(self) -> list[CopickSegmentation]:
        if self.root.config.user_id is not None:
            return self.get_segmentations(
                user_id=self.root.config.user_id, is_instance=None, is_panoptic=None
            )
        return [s for s in self.segmentations if s.from_user]

    def tool_segmentations(self) -> list[CopickSegmentation]:
        return [s for s in self.segmentations if s.from_tool]

    def new_segmentation(
        self,
        voxel_size: float,
        name: str,
        session_id: str,
        is_multilabel: bool = False,
        user_id: str | None = None,
        exist_ok: bool = False,
        *,
        is_instance: bool = False,
        is_panoptic: bool = False,
        **kwargs: Any,
    ) -> CopickSegmentation:
        """Create an empty segmentation store; binary and instance ones are named after an object."""
        require_str(name, "name")
        require_str(session_id, "session_id")
        layout.check_voxel_size(voxel_size)
        if user_id is None:
            user_id = self.root.config.user_id
        if user_id is None:
            raise ValueError("User ID must be set in the root config or supplied to new_segmentation.")
        require_str(user_id, "user_id")
        meta = CopickSegmentationMeta(
            user_id=sanitize_name(user_id),
            session_id=sanitize_name(session_id),
            name=sanitize_name(name),
            is_multilabel=is_multilabel,
            is_instance=is_instance,
            is_panoptic=is_panoptic,
            voxel_size=voxel_size,
        )
        seg = self.segmentation_class(self, meta)
        kind = seg.segmentation_type
        if kind in ("binary", "instance") and self.root.get_object(meta.name) is None:
            raise UnknownObjectError(
                f"Object name {meta.name} not found in pickable objects "
                f"({kind} segmentations are named after one)."
            )
        flags = {"is_multilabel": is_multilabel, "is_instance": is_instance, "is_panoptic": is_panoptic}
        select = dict(user_id=meta.user_id, session_id=meta.session_id, name=meta.name, voxel_size=voxel_size)
        existing = self.get_segmentations(**select, **flags)
        if not existing and any(layer.exists(seg._relpath) for layer, _ in self._storage.layers()):
            self.refresh_segmentations()
            existing = self.get_segmentations(**select, **flags)
        if existing:
            if exist_ok:
                return existing[0]
            raise EntityExistsError(
                f"A {kind} segmentation by user/tool {meta.user_id} already exists in session "
                f"{meta.session_id} with name {meta.name} and voxel size of {voxel_size}."
            )
        seg.create_store()
        self.segmentations.append(seg)
        return seg

    def delete_segmentations(
        self,
        user_id: Any = None,
        session_id: Any = None,
        is_multilabel: bool | None = None,
        name: Any = None,
        voxel_size: Any = None,
        *,
        is_instance: bool | None = False,
        is_panoptic: bool | None = False,
    ) -> None:
        for seg in self.get_segmentations(
            user_id,
            session_id,
            is_multilabel,
            name,
            voxel_size,
            is_instance=is_instance,
            is_panoptic=is_panoptic,
        ):
            seg.delete()

    def refresh_segmentations(self) -> None:
        self._storage.forget_prefetch(self._relpath)
        self._segmentations = self._query_segmentations()

    # --- whole run -----------------------------------------------------------------------------

    def refresh(self) -> None:
        self.refresh_voxel_spacings()
        self.refresh_picks()
        self.refresh_meshes()
        self.refresh_filaments()
        self.refresh_segmentations()

    def delete(self) -> None:
        """Delete the run's overlay folder (static data is never touched) and forget it."""
        self._storage.overlay.discard(self._relpath)
        self._voxel_spacings = self._picks = self._meshes = self._filaments = self._segmentations = None
        self.root._forget_run(self)

    def __repr__(self) -> str:
        def count(items: list | None) -> int | None:
            return None if items is None else len(items)

        return (
            f"CopickRun(name={self.name}, len(voxel_spacings)={count(self._voxel_spacings)}, "
            f"len(picks)={count(self._picks)}, len(meshes)={count(self._meshes)}, "
            f"len(segmentations)={count(self._segmentations)}) at {hex(id(self))}"
        )


def run_folder(run: CopickRun) -> str:
    """The run's folder in the project's writable layer, as a user pastes it (a path or a URL)."""
    return run._storage.overlay.located(run._relpath)
