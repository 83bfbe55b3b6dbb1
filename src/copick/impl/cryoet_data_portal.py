"""The CryoET Data Portal backend: portal datasets as a read-only catalog under a writable overlay.

The behaviour is in the entity classes and ``copick.portal`` (a catalog of portal records, see
``copick.catalog``); these classes keep copick 1.31's names and add the portal attributes plugins
read (``run.portal_run_id``, ``root.datasets``).
"""

from __future__ import annotations

from typing import Any

from copick.entities.root import CopickRoot
from copick.impl.overlay import (
    CopickFeaturesOverlay,
    CopickMeshOverlay,
    CopickObjectOverlay,
    CopickPicksOverlay,
    CopickRunOverlay,
    CopickSegmentationOverlay,
    CopickTomogramOverlay,
    CopickVoxelSpacingOverlay,
)
from copick.portal.models import (
    CopickConfigCDP,
    CopickPicksFileCDP,
    CopickRunMetaCDP,
    CopickSegmentationMetaCDP,
    CopickTomogramMetaCDP,
    CopickVoxelSpacingMetaCDP,
    PortalAnnotationMeta,
    PortalTomogramMeta,
)
from copick.storage import Layer, ProjectStorage

__all__ = [
    "CopickConfigCDP", "CopickFeaturesCDP", "CopickMeshCDP", "CopickObjectCDP", "CopickPicksCDP",
    "CopickPicksFileCDP", "CopickRootCDP", "CopickRunCDP", "CopickRunMetaCDP", "CopickSegmentationCDP",
    "CopickSegmentationMetaCDP", "CopickTomogramCDP", "CopickTomogramMetaCDP", "CopickVoxelSpacingCDP",
    "CopickVoxelSpacingMetaCDP", "PortalAnnotationMeta", "PortalTomogramMeta",
]  # fmt: skip


class CopickPicksCDP(CopickPicksOverlay):
    """Picks: a portal point annotation file (read-only) or the overlay's JSON."""


class CopickMeshCDP(CopickMeshOverlay):
    """A mesh (overlay only)."""


class CopickSegmentationCDP(CopickSegmentationOverlay):
    """A segmentation: a portal mask (read-only) or the overlay's OME-Zarr."""


class CopickObjectCDP(CopickObjectOverlay):
    """A pickable object (its map, if any, in the overlay)."""


class CopickFeaturesCDP(CopickFeaturesOverlay):
    """A feature map (overlay only)."""


class CopickTomogramCDP(CopickTomogramOverlay):
    """A tomogram: a portal OME-Zarr (read-only) or the overlay's."""

    features_class = CopickFeaturesCDP


class CopickVoxelSpacingCDP(CopickVoxelSpacingOverlay):
    """A voxel spacing of a portal run, or an overlay-only one."""

    tomogram_class = CopickTomogramCDP


class CopickRunCDP(CopickRunOverlay):
    """A run: a portal run (named by its portal id) or an overlay-only run."""

    voxel_spacing_class = CopickVoxelSpacingCDP
    picks_class = CopickPicksCDP
    mesh_class = CopickMeshCDP
    segmentation_class = CopickSegmentationCDP

    @property
    def portal_run_id(self) -> int | None:
        return getattr(self.meta, "portal_run_id", None)

    @property
    def portal_run_name(self) -> str | None:
        return getattr(self.meta, "portal_run_name", None)

    @property
    def portal_dataset_id(self) -> int | None:
        return getattr(self.meta, "portal_dataset_id", None)


class _Dataset:
    """A portal dataset as ``root.datasets`` lists it (deprecated upstream; ``.id`` and ``.title``)."""

    def __init__(self, row: dict[str, Any]):
        self.id, self.title = row["id"], row.get("title")

    def __repr__(self) -> str:
        return f"Dataset(id={self.id}, title={self.title!r})"


class CopickRootCDP(CopickRoot):
    """A project over portal datasets. Opening makes no request; the first listing fetches (or reads
    from the cache) the metadata of all the datasets' runs at once."""

    run_class = CopickRunCDP
    object_class = CopickObjectCDP

    def __init__(self, config: CopickConfigCDP, tables: dict[str, Any] | None = None):
        from copick.portal.catalog import PortalCatalog

        super().__init__(config)
        overlay = Layer.from_url(config.overlay_root, config.overlay_fs_args)
        self.catalog = PortalCatalog(config, overlay.root if overlay.is_local else None, tables)
        self._storage = ProjectStorage(overlay, catalogs=(self.catalog,))

    @classmethod
    def from_file(cls, path: str) -> CopickRootCDP:
        from copick.ops.open import read_config

        return cls(read_config(path, CopickConfigCDP))

    @property
    def datasets(self) -> list[_Dataset]:
        return [_Dataset(row) for row in self.catalog.tables()["datasets"]]

    fs_overlay = property(lambda self: self._storage.overlay.fs)
    root_overlay = property(lambda self: self._storage.overlay.root)
