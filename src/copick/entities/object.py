"""Pickable objects: config entries, with an optional density map under ``Objects/``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copick import layout
from copick.entities.base import storage_of
from copick.entities.volume import VolumeEntity, as_volume, zyx
from copick.metadata import PickableObject

if TYPE_CHECKING:
    from copick.entities.root import CopickRoot
    from copick.storage import ProjectStorage


class CopickObject(VolumeEntity):
    """A protein, membrane... of the project. Particles may carry a density map (``Objects/<name>.zarr``)."""

    _kind = "object"
    _blob_is_folder = True

    def __init__(self, root: CopickRoot, meta: PickableObject, read_only: bool | None = None):
        self.root = root
        self.meta = meta
        self._read_only = read_only

    # --- config fields -------------------------------------------------------------------------

    name = property(lambda self: self.meta.name)
    is_particle = property(lambda self: self.meta.is_particle)
    label = property(lambda self: self.meta.label)
    color = property(lambda self: self.meta.color)
    emdb_id = property(lambda self: self.meta.emdb_id)
    pdb_id = property(lambda self: self.meta.pdb_id)
    identifier = property(lambda self: self.meta.identifier)
    map_threshold = property(lambda self: self.meta.map_threshold)
    radius = property(lambda self: self.meta.radius)
    metadata = property(lambda self: self.meta.metadata)
    filament = property(lambda self: self.meta.filament)
    is_filament = property(lambda self: self.meta.is_filament)

    # --- storage -------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """True when the map exists in the static layer only (it may then not be changed)."""
        if self._read_only is None:
            storage = self._storage
            path = self._layout_path()
            self._read_only = (
                not storage.static_is_overlay
                and storage.static.exists(path)
                and not storage.overlay.exists(path)
            )
        return self._read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._read_only, self._loc = value, None  # the map is then looked for in the other layer

    @property
    def _storage(self) -> ProjectStorage:
        return storage_of(self.root)

    def _layout_path(self) -> str:
        return layout.object_store_path(self.name)

    @property
    def static_path(self) -> str:
        return self._storage.static.path(self._layout_path())

    @property
    def overlay_path(self) -> str:
        return self._storage.overlay.path(self._layout_path())

    def zarr(self) -> Any:
        """The map's store, or ``None`` for objects that are not particles."""
        return super().zarr() if self.is_particle else None

    def numpy(
        self,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
    ) -> np.ndarray | None:
        return self._read(zarr_group, zyx(x, y, z)) if self.is_particle else None

    def from_numpy(self, data: Any, voxel_size: float, dtype: Any = np.float32) -> None:
        """Write a single-level density map at ``voxel_size`` Angstrom (a Dask array block by block,
        through ``from_dask``)."""
        from copick.formats import ome
        from copick.formats.dask_volumes import is_chunked

        if is_chunked(data):
            self.from_dask(data, dtype=dtype, voxel_size=voxel_size)
            return

        if not self.is_particle:
            raise ValueError(f"Object {self.name} is not a particle; only particles have density maps.")
        self._require_writable("write")
        self._write_pyramid(ome.iter_volume_pyramid(as_volume(data, self._location), 1, dtype), voxel_size)

    def set_region(
        self,
        data: Any,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
    ) -> None:
        self._write_region(data, zarr_group, zyx(x, y, z))

    def delete(self) -> None:
        """Delete the density map and drop the object from the root's list (not from the config)."""
        self._require_writable("delete")
        self._storage.overlay.discard(self._relpath)
        self.root._forget_object(self)

    def __repr__(self) -> str:
        return (
            f"CopickObject(name={self.name}, is_particle={self.is_particle}, label={self.label}, "
            f"color={self.color}, emdb_id={self.emdb_id}, pdb_id={self.pdb_id}, identifier={self.identifier} "
            f"threshold={self.map_threshold}, metadata={self.metadata}) at {hex(id(self))}"
        )
