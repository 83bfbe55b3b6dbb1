"""Image data shared by tomograms, feature maps, segmentations and object maps: a multiscale
OME-Zarr store in one layer, read region by region and written as a whole pyramid.

A whole-image write never exposes a half-written image: the new pyramid is staged in a hidden
sibling folder and switched in (see ``copick.staging``: an atomic swap on local disks; on object
stores one writer at a time, with the completion marker ``.zgroup`` written last).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from copick import layout, staging
from copick.entities.base import StoredEntity
from copick.errors import InvalidDataError, MissingLevelError


def zyx(x: slice, y: slice, z: slice) -> tuple[slice, slice, slice]:
    """Array index of an x/y/z region (arrays are indexed z, y, x)."""
    return (z, y, x)


class VolumeEntity(StoredEntity):
    """An entity whose data is a multiscale OME-Zarr image."""

    def zarr(self) -> Any:
        """The zarr store of the image (read-only for static entities)."""
        return self._layer.zarr_store(self._blob_path, read_only=self.read_only)

    def _create_empty_group(self) -> None:
        """Create the image's folder and leave the store empty, as copick 1.31 did, so plugins can
        ``zarr.create(shape, store=entity.zarr())`` into it. Object stores hold no empty folders: there
        a zero-byte ``.copick-new`` (not zarr metadata) makes the new entity list in other processes."""
        overlay = self._storage.overlay
        if overlay.is_local:
            overlay.makedirs(self._relpath)
        else:
            overlay.write_bytes(layout.join(self._relpath, ".copick-new"), b"")

    def _read(self, zarr_group: str | int, index: tuple) -> np.ndarray:
        from copick.formats import ome

        try:
            return ome.read_region(self.zarr(), str(zarr_group), index or None)
        except MissingLevelError:
            if self._record is not None or not staging.tidy(self._layer, self._relpath):  # killed writer?
                raise
            return ome.read_region(self.zarr(), str(zarr_group), index or None)

    def _write_pyramid(self, levels: Any, voxel_size: float, **options: Any) -> None:
        """Replace the whole image with ``levels`` (a list or an iterator of arrays)."""
        from copick.formats import ome

        self._require_writable("write")
        staging.rewrite(
            self._storage.overlay,
            self._relpath,
            lambda store: ome.write_multiscale(store, levels, voxel_size, **options),
            self._location,
        )

    def _write_region(self, data: Any, zarr_group: str | int, index: tuple) -> None:
        from copick.formats import ome

        self._require_writable("write")
        ome.write_region(self.zarr(), str(zarr_group), data, index or None)

    def _delete_store(self) -> None:
        self._require_writable("delete")
        self._storage.overlay.delete(self._relpath)
        staging.tidy(self._storage.overlay, self._relpath, roll_forward=False)


def as_volume(data: Any, where: str) -> np.ndarray:
    """``data`` as a 3-D array (z, y, x); anything else is an ``InvalidDataError`` naming ``where``."""
    arr = np.asarray(data)
    if arr.ndim != 3:
        raise InvalidDataError(
            f"{where}: a volume must be a 3-D array indexed [z, y, x], got shape {arr.shape}."
        )
    if arr.dtype.kind not in "buif":
        raise InvalidDataError(f"{where}: a volume must hold numbers, got dtype {arr.dtype}.")
    return arr
