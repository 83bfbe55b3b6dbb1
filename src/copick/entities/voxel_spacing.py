"""A voxel spacing of a run: the ``VoxelSpacing<size>`` folder holding its tomograms."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from copick import layout
from copick.catalog import TOMOGRAM, filter_by_query
from copick.entities.base import from_record, lazy_meta, require_str, storage_of
from copick.entities.tomogram import CopickTomogram
from copick.errors import EntityExistsError
from copick.metadata import CopickTomogramMeta, CopickVoxelSpacingMeta
from copick.util.escape import sanitize_name

if TYPE_CHECKING:
    from copick.catalog import Locator, Record
    from copick.entities.run import CopickRun
    from copick.storage import ProjectStorage


class CopickVoxelSpacing:
    """All data of a run at one voxel size (Angstrom). Its tomograms merge both layers."""

    tomogram_class = CopickTomogram
    meta = lazy_meta
    _loc: Locator | None = None  # the folder it was listed from (a layer's), if any
    _record: Record | None = None  # the record of a catalog of another source (portal)

    def __init__(self, run: CopickRun, meta: CopickVoxelSpacingMeta, config: Any = None):
        self.run = run
        self.meta = meta
        self._tomograms: list[CopickTomogram] | None = None

    @property
    def voxel_size(self) -> float:
        return self._meta.voxel_size

    @property
    def _storage(self) -> ProjectStorage:
        return storage_of(self.run.root)

    @property
    def _dirname(self) -> str:
        """Its folder name: as listed (``VoxelSpacing10.0`` written by hand stays so), else copick's."""
        loc = self._loc
        return (
            loc.path.rsplit("/", 1)[-1] if loc is not None else layout.voxel_spacing_dirname(self.voxel_size)
        )

    @property
    def _relpath(self) -> str:
        return layout.join(self.run._relpath, self._dirname)

    def ensure(self, create: bool = False) -> bool:
        """Does the folder exist in either layer? With ``create``, make it (and ``.meta``) in the overlay."""
        return self._storage.ensure_dir(self._relpath, create)

    # --- tomograms -----------------------------------------------------------------------------

    @property
    def tomograms(self) -> list[CopickTomogram]:
        if self._tomograms is None:
            self._tomograms = self._query_tomograms()
        return self._tomograms

    def _query_tomograms(self) -> list[CopickTomogram]:
        return [
            from_record(self.tomogram_class(self, r.meta, read_only=r.read_only), r)
            for r in self._storage.records(TOMOGRAM, self.run.name, self.voxel_size)
        ]

    def get_tomogram(self, tomo_type: str) -> CopickTomogram | None:
        """Deprecated: the first tomogram of ``tomo_type``, or ``None``. Use ``get_tomograms``."""
        warnings.warn(
            "get_tomogram is deprecated, use get_tomograms instead.", DeprecationWarning, stacklevel=2
        )
        return next(iter(self.get_tomograms(tomo_type)), None)

    def get_tomograms(self, tomo_type: str | None = None, **kwargs: Any) -> list[CopickTomogram]:
        """Tomograms of exactly ``tomo_type`` (static and overlay copies); ``[]`` without a type. Catalog
        tomograms also by ``portal_meta_query`` / ``portal_author_query`` (then any type matches
        when ``tomo_type`` is None)."""
        if tomo_type is not None:
            layout.check_name(tomo_type, "Tomogram type")
        queried = bool(kwargs.get("portal_meta_query") or kwargs.get("portal_author_query"))
        found = [t for t in self.tomograms if t.tomo_type == tomo_type or (queried and tomo_type is None)]
        return filter_by_query(found, kwargs)

    def new_tomogram(self, tomo_type: str, exist_ok: bool = False, **kwargs: Any) -> CopickTomogram:
        """Create an empty tomogram store ``<tomo_type>.zarr`` in the overlay."""
        require_str(tomo_type, "tomo_type")
        tomo_type = sanitize_name(tomo_type)
        tomogram = self.tomogram_class(self, CopickTomogramMeta(tomo_type=tomo_type))
        existing = self.get_tomograms(tomo_type)
        if not existing and self._storage.exists(tomogram._relpath):
            self.refresh_tomograms()
            existing = self.get_tomograms(tomo_type)
        if existing:
            if exist_ok:
                return existing[0]
            raise EntityExistsError(f"Tomogram type {tomo_type} already exists for this voxel spacing.")
        tomogram._create_empty_group()
        self.tomograms.append(tomogram)
        return tomogram

    def refresh_tomograms(self) -> None:
        self._storage.forget_prefetch(self.run._relpath)
        self._tomograms = self._query_tomograms()

    def refresh(self) -> None:
        self.refresh_tomograms()

    def _forget_tomogram(self, tomogram: CopickTomogram) -> None:
        if self._tomograms is not None and tomogram in self._tomograms:
            self._tomograms.remove(tomogram)

    def delete_tomograms(self, tomo_type: str | None = None) -> None:
        """Delete the overlay tomograms of ``tomo_type`` (every type with ``None``)."""
        if tomo_type is not None:
            layout.check_name(tomo_type, "Tomogram type")
        for tomogram in list(self.tomograms):
            if (tomo_type is None or tomogram.tomo_type == tomo_type) and not tomogram.read_only:
                tomogram.delete()

    def delete(self) -> None:
        """Delete the overlay folder of this spacing (static data is never touched)."""
        self._storage.overlay.discard(self._relpath)
        self._tomograms = None
        self.run._forget("_voxel_spacings", self)

    def __repr__(self) -> str:
        n = None if self._tomograms is None else len(self._tomograms)
        return f"CopickVoxelSpacing(voxel_size={self.voxel_size}, len(tomograms)={n}) at {hex(id(self))}"
