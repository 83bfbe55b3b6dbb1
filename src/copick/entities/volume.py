"""Image data shared by tomograms, feature maps, segmentations and object maps: a multiscale
OME-Zarr store in one layer, read region by region and written as a whole pyramid."""

from __future__ import annotations

from typing import Any

import numpy as np

from copick.entities.base import StoredEntity


def zyx(x: slice, y: slice, z: slice) -> tuple[slice, slice, slice]:
    """Array index of an x/y/z region (arrays are indexed z, y, x)."""
    return (z, y, x)


class VolumeEntity(StoredEntity):
    """An entity whose data is a multiscale OME-Zarr image."""

    def zarr(self) -> Any:
        """The zarr store of the image (read-only for static entities)."""
        return self._layer.zarr_store(self._relpath, read_only=self.read_only)

    def _create_empty_group(self) -> None:
        """Create the store as an empty zarr v2 group, so it lists before data is written."""
        from copick.formats import ome

        ome.create_empty_group(self._storage.overlay.zarr_store(self._relpath, read_only=False))

    def _read(self, zarr_group: str | int, index: tuple) -> np.ndarray:
        from copick.formats import ome

        return ome.read_region(self.zarr(), str(zarr_group), index, source=self._location)

    def _write_pyramid(self, levels: Any, voxel_size: float, **attrs: Any) -> None:
        from copick.formats import ome

        self._require_writable("write")
        ome.write_multiscale(self.zarr(), levels, voxel_size, **attrs)

    def _write_region(self, data: Any, zarr_group: str | int, index: tuple, cast: Any = None) -> None:
        from copick.formats import ome

        self._require_writable("write")
        ome.write_region(self.zarr(), str(zarr_group), index, data, source=self._location, cast=cast)

    def _delete_store(self) -> None:
        self._require_writable("delete")
        self._storage.overlay.delete(self._relpath)
