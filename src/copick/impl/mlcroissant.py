"""The mlcroissant backend: a project described by an ML-Croissant manifest (``copick config
export-croissant``), read through a catalog of the manifest's tables (``copick.catalog.croissant``).

Two modes, as in copick 1.31: with an ``overlay_root`` (mode ``"B"``) the manifest's data are
read-only and everything new is written to the overlay; without one (mode ``"A"``) new entities are
written into the data folder itself, beside the listed ones, and listed from there. These classes
keep 1.31's names and add what it offers on top of the entity API (``run.split``, ``root.splits``).
"""

from __future__ import annotations

import posixpath
from functools import partial
from typing import Any

from pydantic import Field

from copick.entities.root import CopickRoot
from copick.impl.filesystem import FilePaths, LayerPaths
from copick.impl.overlay import (
    CopickFeaturesOverlay,
    CopickFilamentsOverlay,
    CopickMeshOverlay,
    CopickObjectOverlay,
    CopickPicksOverlay,
    CopickRunOverlay,
    CopickSegmentationOverlay,
    CopickTomogramOverlay,
    CopickVoxelSpacingOverlay,
)
from copick.metadata import CopickConfig, PickableObject
from copick.storage import Layer, ProjectStorage

__all__ = [
    "CopickConfigMLCroissant", "CopickFeaturesMLC", "CopickFilamentsMLC", "CopickMeshMLC", "CopickObjectMLC",
    "CopickPicksMLC", "CopickRootMLC", "CopickRunMLC", "CopickSegmentationMLC", "CopickTomogramMLC",
    "CopickVoxelSpacingMLC",
]  # fmt: skip

#: Fields of the project config a manifest carries (``copick:config``), used where the config has none.
_MANIFEST_CONFIG_FIELDS = ("name", "description", "version", "pickable_objects", "user_id", "session_id")


class CopickConfigMLCroissant(CopickConfig):
    """Config of a project read from the manifest at ``croissant_url``; its pickable objects, name and
    description come from the manifest unless the config gives them."""

    config_type: str = "mlcroissant"
    pickable_objects: list[PickableObject] = Field(default_factory=list)
    croissant_url: str
    croissant_base_url: str | None = None
    overlay_root: str | None = None
    overlay_fs_args: dict[str, Any] | None = {}
    croissant_fs_args: dict[str, Any] | None = {}
    static_fs_args: dict[str, Any] | None = {}


class CopickPicksMLC(FilePaths, CopickPicksOverlay):
    """Picks listed by the manifest (read-only in mode B) or written to the overlay."""


class CopickMeshMLC(FilePaths, CopickMeshOverlay):
    """A mesh listed by the manifest or written to the overlay."""


class CopickFilamentsMLC(FilePaths, CopickFilamentsOverlay):
    """Filaments (the manifest lists none: overlay only)."""


class CopickSegmentationMLC(CopickSegmentationOverlay):
    """A segmentation listed by the manifest or written to the overlay."""


class CopickObjectMLC(CopickObjectOverlay):
    """A pickable object of the manifest's config (its map under the data's ``Objects/``)."""


class CopickFeaturesMLC(CopickFeaturesOverlay):
    """A feature map listed by the manifest or written to the overlay."""


class CopickTomogramMLC(LayerPaths, CopickTomogramOverlay):
    """A tomogram listed by the manifest or written to the overlay."""

    features_class = CopickFeaturesMLC


class CopickVoxelSpacingMLC(LayerPaths, CopickVoxelSpacingOverlay):
    """A voxel spacing of a run."""

    tomogram_class = CopickTomogramMLC


class CopickRunMLC(LayerPaths, CopickRunOverlay):
    """A run of the manifest (with its ML ``split``) or one made in the overlay (no split)."""

    voxel_spacing_class = CopickVoxelSpacingMLC
    picks_class = CopickPicksMLC
    mesh_class = CopickMeshMLC
    filaments_class = CopickFilamentsMLC
    segmentation_class = CopickSegmentationMLC

    @property
    def split(self) -> str | None:
        """The ML split the manifest assigns the run to (``train``, ``val`` ...), or ``None``."""
        return getattr(self._meta, "split", None)


class CopickRootMLC(CopickRoot):
    """A project read from an ML-Croissant manifest. Opening reads the manifest and its tables once."""

    run_class = CopickRunMLC
    object_class = CopickObjectMLC

    def __init__(self, config: CopickConfigMLCroissant):
        from copick.catalog.croissant import ManifestCatalog

        manifest = _read_manifest(config)
        config = _with_manifest_config(config, manifest.config)
        super().__init__(config)
        base = Layer.from_url(manifest.base_url, config.static_fs_args)
        self.catalog = ManifestCatalog(
            manifest,
            base,
            partial(Layer.from_url, fs_args=config.static_fs_args),
            f"the Croissant manifest {config.croissant_url}",
            read_only=config.overlay_root is not None or base.read_only,
        )
        self._storage = _open_storage(config, base, self.catalog)

    @classmethod
    def from_file(cls, path: str) -> CopickRootMLC:
        from copick.ops.open import read_config

        return cls(read_config(path, CopickConfigMLCroissant))

    @property
    def mode(self) -> str:
        """``"B"`` with an overlay (the manifest's data read-only), ``"A"`` without."""
        return "A" if self.config.overlay_root is None else "B"

    @property
    def splits(self) -> dict[str, list[str]]:
        """Run names per ML split, as the manifest assigns them."""
        return self.catalog.splits

    def get_runs_in_split(self, split: str) -> list[CopickRunMLC]:
        """The runs the manifest assigns to ``split``."""
        return [run for run in self.runs if run.split == split]

    static_base_url = property(lambda self: self.catalog.manifest.base_url)
    overlay_base_url = property(lambda self: self._storage.overlay.url)
    fs_overlay = property(lambda self: self._storage.overlay.fs)
    fs_static = property(lambda self: self._storage.static.fs)
    static_is_overlay = property(lambda self: self._storage.static_is_overlay)


def _read_manifest(config: CopickConfigMLCroissant) -> Any:
    """The manifest at ``croissant_url`` and its tables (files read with ``croissant_fs_args``)."""
    from copick.formats.croissant import read_manifest

    layers: dict[str, Layer] = {}

    def read(url: str) -> bytes:
        folder, name = posixpath.split(url)
        if folder not in layers:
            layers[folder] = Layer.from_url(folder, config.croissant_fs_args)
        return layers[folder].read_bytes(name)

    return read_manifest(config.croissant_url, read, config.croissant_base_url)


def _with_manifest_config(
    config: CopickConfigMLCroissant, embedded: dict[str, Any]
) -> CopickConfigMLCroissant:
    """``config`` with the manifest's project fields where it has none (no objects, unset fields)."""
    update = {
        k: embedded[k]
        for k in _MANIFEST_CONFIG_FIELDS
        if k in embedded
        and (k not in config.model_fields_set or (k == "pickable_objects" and not config.pickable_objects))
    }
    if not update:
        return config
    return type(config).model_validate({**config.model_dump(exclude_unset=True), **update})


def _open_storage(config: CopickConfigMLCroissant, base: Layer, catalog: Any) -> ProjectStorage:
    """Mode B: the overlay's folders under the manifest; mode A: the data folder is the overlay,
    listed through the manifest plus what was written there since (not in the manifest)."""
    from copick.catalog.croissant import NoRecords, UnlistedCatalog
    from copick.catalog.folders import FolderCatalog

    if config.overlay_root is not None:
        overlay = Layer.from_url(config.overlay_root, config.overlay_fs_args)
        return ProjectStorage(
            overlay,
            base,
            (catalog,),
            lambda layer: NoRecords() if layer is base else FolderCatalog(layer),
        )
    return ProjectStorage(
        base,
        None,
        (catalog,),
        lambda layer: NoRecords() if layer.read_only else UnlistedCatalog(FolderCatalog(layer), catalog),
    )
