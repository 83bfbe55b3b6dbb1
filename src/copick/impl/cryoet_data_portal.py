"""The CryoET Data Portal backend: portal datasets as a read-only catalog under a writable overlay.

The behaviour is in the entity classes and ``copick.portal`` (a catalog of portal records, see
``copick.catalog``); these classes keep copick 1.31's names and add the portal attributes plugins
read (``run.portal_run_id``, ``root.datasets``).
"""

from __future__ import annotations

import posixpath
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


class _OverlayPaths:
    """1.31's ``overlay_path`` / ``fs_overlay`` of a folder-like entity (where its overlay data goes)."""

    overlay_path = property(lambda self: self._storage.overlay.path(self._relpath))
    fs_overlay = property(lambda self: self._storage.overlay.fs)


class CopickPicksCDP(CopickPicksOverlay):
    """Picks: a portal point annotation file (read-only) or the overlay's JSON."""

    @property
    def path(self) -> str:
        """The portal file's ``s3://`` URL (as 1.31), or the overlay file's path."""
        portal = getattr(self.meta, "portal_annotation_file_path", None)
        return portal if self._record is not None and portal else CopickPicksOverlay.path.fget(self)

    @property
    def directory(self) -> str | None:
        """The overlay file's folder; ``None`` for a portal file (as 1.31)."""
        return None if self._record is not None else posixpath.dirname(CopickPicksOverlay.path.fget(self))

    fs = property(lambda self: self._layer.fs)


class CopickMeshCDP(CopickMeshOverlay):
    """A mesh (overlay only)."""


class CopickSegmentationCDP(CopickSegmentationOverlay):
    """A segmentation: a portal mask (read-only) or the overlay's OME-Zarr."""

    @property
    def portal_segmentation_id(self) -> int | None:
        """The portal annotation file's id (``None`` for overlay segmentations)."""
        return getattr(self.meta, "portal_annotation_file_id", None)


class CopickObjectCDP(CopickObjectOverlay):
    """A pickable object (its map, if any, in the overlay)."""


class CopickFeaturesCDP(CopickFeaturesOverlay):
    """A feature map (overlay only)."""


class CopickTomogramCDP(CopickTomogramOverlay):
    """A tomogram: a portal OME-Zarr (read-only) or the overlay's."""

    features_class = CopickFeaturesCDP
    overlay_path = property(
        lambda self: posixpath.join(self.voxel_spacing.overlay_path, f"{self.tomo_type}.zarr")
    )
    fs_overlay = property(lambda self: self._storage.overlay.fs)
    fs_static = property(lambda self: self._layer.fs if self._record is not None else None)  # anonymous S3
    portal_tomo = property(lambda self: getattr(self.meta, "portal_tomo_id", None) is not None)
    static_path = property(lambda self: getattr(self.meta, "portal_tomo_path", None))  # s3:// on the portal
    overlay_stem = property(lambda self: self.overlay_path[: -len(".zarr")])


class CopickVoxelSpacingCDP(_OverlayPaths, CopickVoxelSpacingOverlay):
    """A voxel spacing of a portal run, or an overlay-only one."""

    tomogram_class = CopickTomogramCDP

    @property
    def portal_vs_id(self) -> int | None:
        return getattr(self.meta, "portal_vs_id", None)


class CopickRunCDP(_OverlayPaths, CopickRunOverlay):
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

    def query(self) -> list[CopickRunCDP]:
        """The portal's runs in catalog order (ascending portal run id, "101" before "1000": the order
        ours asks the portal for, and 1.31 keeps the portal's), then the overlay-only runs by name."""
        runs = super().query()
        if self.config.runs is not None:
            return runs
        from copick.catalog import RUN

        order = {record.meta.name: i for i, record in enumerate(self.catalog.records(RUN))}
        last = len(order)
        return sorted(runs, key=lambda run: (order.get(run.name, last), run.name))

    @classmethod
    def from_file(cls, path: str) -> CopickRootCDP:
        from copick.ops.open import read_config

        return cls(read_config(path, CopickConfigCDP))

    @property
    def dataset_ids(self) -> list[int]:
        """The portal dataset ids of the project (1.31's replacement of ``datasets``)."""
        return list(self.config.dataset_ids)

    @property
    def go_map(self) -> dict[str, str]:
        """Portal ``object_id`` -> name of the config object matched to it (objects with an identifier)."""
        return {o.identifier: o.name for o in self.config.pickable_objects if o.identifier}

    @property
    def datasets(self) -> list[_Dataset]:
        return [_Dataset(row) for row in self.catalog.tables()["datasets"]]

    fs_overlay = property(lambda self: self._storage.overlay.fs)
    root_overlay = property(lambda self: self._storage.overlay.root)
