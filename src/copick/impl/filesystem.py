"""The fsspec backend: a project on any fsspec filesystem (local, S3, SFTP, SMB, zip, memory).

The behaviour is in the entity classes; these subclasses keep the upstream names and add the path
attributes that existing tools read (``static_path``, ``overlay_path``, ``fs_static`` ...).
"""

from __future__ import annotations

import posixpath
from typing import Any

from copick.entities.root import CopickRoot
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
from copick.metadata import CopickConfig
from copick.storage import Layer, ProjectStorage


class CopickConfigFSSpec(CopickConfig):
    """Config of a filesystem project: an overlay root URL and an optional static root URL."""

    config_type: str = "filesystem"
    overlay_root: str
    static_root: str | None = None
    overlay_fs_args: dict[str, Any] | None = {}
    static_fs_args: dict[str, Any] | None = {}


class LayerPaths:
    """``static_path`` / ``overlay_path`` / ``fs_*`` of a folder-like entity."""

    static_path = property(lambda self: self._storage.static.path(self._relpath))
    overlay_path = property(lambda self: self._storage.overlay.path(self._relpath))
    fs_static = property(lambda self: self._storage.static.fs)
    fs_overlay = property(lambda self: self._storage.overlay.fs)
    static_is_overlay = property(lambda self: self._storage.static_is_overlay)


class FilePaths:
    """``path`` / ``directory`` / ``fs`` of a file entity."""

    directory = property(lambda self: posixpath.dirname(self.path))
    fs = property(lambda self: self._layer.fs)


class CopickPicksFSSpec(FilePaths, CopickPicksOverlay):
    """Picks stored as JSON on an fsspec filesystem."""


class CopickFilamentsFSSpec(FilePaths, CopickFilamentsOverlay):
    """Filaments stored as JSON on an fsspec filesystem."""


class CopickMeshFSSpec(FilePaths, CopickMeshOverlay):
    """A mesh stored as GLB on an fsspec filesystem."""


class CopickSegmentationFSSpec(CopickSegmentationOverlay):
    """A segmentation stored as OME-Zarr on an fsspec filesystem."""


class CopickObjectFSSpec(CopickObjectOverlay):
    """A pickable object whose map is an OME-Zarr store under ``Objects/``."""


class CopickFeaturesFSSpec(CopickFeaturesOverlay):
    """A feature map stored as OME-Zarr on an fsspec filesystem."""


class CopickTomogramFSSpec(LayerPaths, CopickTomogramOverlay):
    """A tomogram stored as OME-Zarr on an fsspec filesystem."""

    features_class = CopickFeaturesFSSpec
    static_stem = property(lambda self: self.static_path[: -len(".zarr")])
    overlay_stem = property(lambda self: self.overlay_path[: -len(".zarr")])


class CopickVoxelSpacingFSSpec(LayerPaths, CopickVoxelSpacingOverlay):
    """A voxel-spacing folder on an fsspec filesystem."""

    tomogram_class = CopickTomogramFSSpec


class CopickRunFSSpec(LayerPaths, CopickRunOverlay):
    """A run folder on an fsspec filesystem."""

    voxel_spacing_class = CopickVoxelSpacingFSSpec
    picks_class = CopickPicksFSSpec
    mesh_class = CopickMeshFSSpec
    filaments_class = CopickFilamentsFSSpec
    segmentation_class = CopickSegmentationFSSpec


class CopickRootFSSpec(CopickRoot):
    """A project whose overlay (and optional static) layer live on fsspec filesystems."""

    run_class = CopickRunFSSpec
    object_class = CopickObjectFSSpec

    def __init__(self, config: CopickConfigFSSpec):
        super().__init__(config)
        self._storage = _open_storage(config)

    @classmethod
    def from_file(cls, path: str) -> CopickRootFSSpec:
        from copick.ops.open import read_config

        return cls(read_config(path, CopickConfigFSSpec))

    fs_overlay = property(lambda self: self._storage.overlay.fs)
    fs_static = property(lambda self: self._storage.static.fs)
    root_overlay = property(lambda self: self._storage.overlay.root)
    root_static = property(lambda self: self._storage.static.root)
    static_is_overlay = property(lambda self: self._storage.static_is_overlay)

    def reconnect(self) -> None:
        """Drop every cache and open new filesystem instances (new connections for remote roots)."""
        super().reconnect()
        self._storage = _open_storage(self.config, fresh=True)


def _open_storage(config: CopickConfigFSSpec, fresh: bool = False) -> ProjectStorage:
    """The layers of a config; a ``static_root`` naming the same place as ``overlay_root`` (however
    spelled) is the same layer."""
    extra = {"skip_instance_cache": True} if fresh else {}
    overlay = _open_layer(config.overlay_root, config.overlay_fs_args, extra, "overlay_root")
    static = None
    if config.static_root is not None:
        static = _open_layer(config.static_root, config.static_fs_args, extra, "static_root")
        if static.place == overlay.place:
            static = None
    return ProjectStorage(overlay, static)


def _open_layer(url: str, fs_args: dict | None, extra: dict, key: str) -> Layer:
    """Open one root. A static root that is not an existing local folder is an error (nothing to
    read: surely a typo); a relative overlay root that does not exist yet is created on the first
    write as in copick 1.31, with a warning that says where (it depends on the working directory)."""
    import os
    import warnings

    from copick.errors import ConfigError

    if not url or not url.strip():
        raise ConfigError(f"The config's {key} is empty; set it to the project folder (or URL).")
    layer = Layer.from_url(url, {**(fs_args or {}), **extra})
    if not layer.is_local or os.path.isdir(layer.root):
        return layer
    relative = not os.path.isabs(url.split("://", 1)[-1])
    how = " (a relative path, resolved from the working directory)" if relative else ""
    if key == "static_root":
        raise ConfigError(
            f"The config's {key} {url!r} names {layer.root!r}{how}, which is not an existing folder. "
            "Give the absolute path of the project folder."
        )
    if relative:
        warnings.warn(
            f"The config's {key} {url!r} names {layer.root!r}{how}, which does not exist yet; it will be "
            "created there on the first write. Use an absolute path to make the project independent "
            "of the working directory.",
            UserWarning,
            stacklevel=4,
        )
    return layer
