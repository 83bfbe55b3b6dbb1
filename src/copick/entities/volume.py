"""Image data shared by tomograms, feature maps, segmentations and object maps: a multiscale
OME-Zarr store in one layer, read region by region and written as a whole pyramid.

A whole-image write never exposes a half-written image: the new pyramid is staged in a hidden
sibling folder and switched in (see ``copick.staging``: an atomic swap on local disks; on object
stores one writer at a time, with the completion marker ``.zgroup`` written last).

``to_dask`` and ``from_dask`` (``copick.formats.dask_volumes``, needs ``copick[dask]``) read a level as a
lazy Dask array and write a whole image from one, block by block, for images larger than memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from copick import layout, staging
from copick.entities.base import StoredEntity
from copick.errors import InvalidDataError, MissingLevelError

_KIND_DEFAULT: Any = object()  # "the default dtype of this kind of image" (None means "choose")


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
        try:
            return self._read_level(str(zarr_group), index or None)
        except MissingLevelError:
            if self._record is not None or not staging.tidy(self._layer, self._relpath):  # killed writer?
                raise
            return self._read_level(str(zarr_group), index or None)

    def _read_level(self, level: str, slices: tuple | None) -> np.ndarray:
        """A region of one level. Local disks read chunk files directly (``chunk_cache``); other
        layers keep the opened levels on this object (``ome_regions.OpenedLevels``), so a further
        region read costs only its chunk requests. Kept metadata is dropped when this process
        rewrites or deletes the image and after ``REOPEN_AFTER_SECONDS`` (another client's rewrite)."""
        from copick.formats import ome
        from copick.formats.ome_regions import OpenedLevels

        layer = self._layer
        if layer.is_local:
            return ome.read_region(self.zarr(), level, slices)
        opened = self.__dict__.get("_opened_levels")
        if opened is None:
            opened = self.__dict__["_opened_levels"] = OpenedLevels()
        return opened.read(self.zarr, level, slices, staging.generation(layer, self._relpath), self._location)

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

    # --- Dask arrays ----------------------------------------------------------------------------

    def _open_level(self, level: str | int) -> Any:
        from copick.formats import ome

        try:
            return ome.open_level(self.zarr(), str(level))
        except MissingLevelError:
            if self._record is not None or not staging.tidy(self._layer, self._relpath):  # killed writer?
                raise
            return ome.open_level(self.zarr(), str(level))

    def to_dask(self, level: str | int = "0", chunks: Any = None) -> Any:
        """Level ``level`` as a lazy ``dask.array``, chunked as stored (or as ``chunks`` says): each
        block reads only its own zarr chunks when computed, in this process or on Dask workers (the
        array pickles; remote layers are reached from the workers). ``None`` for an object without a
        density map. Needs ``copick[dask]``."""
        from copick.formats.dask_volumes import level_array

        if self.zarr() is None:  # a pickable object that is not a particle
            return None
        array = self._open_level(level)
        return level_array(self._layer, self._blob_path, str(level), chunks, array)

    def from_dask(
        self,
        data: Any,
        levels: int | None = None,
        dtype: Any = _KIND_DEFAULT,
        voxel_size: float | None = None,
        chunks: Any = None,
        batch_bytes: int | None = None,
    ) -> None:
        """Replace the image with ``data`` (a ``dask.array``, or any array-like) and its pyramid,
        computed block by block: the whole volume is never held in memory (about ``batch_bytes``,
        default 64 MiB, plus a few chunks). The files are those ``from_numpy`` writes for the same
        data and arguments (which hands Dask arrays over to this method). Level 0's blocks are
        computed by Dask's active scheduler (the default ``distributed.Client`` when there is one);
        this process writes them.

        Defaults follow ``from_numpy`` of each kind: tomograms 3 levels of float32 block means at the
        voxel spacing's size; feature maps 1 level of float32 ((C, Z, Y, X) or (Z, Y, X)) at their
        tomogram's voxel size, chunks of every channel and at most 256³ voxels; segmentations 1 level,
        nearest-neighbour pyramid, the smallest unsigned dtype holding the labels; object maps 1 level
        of float32 at ``voxel_size`` (required). ``chunks`` changes the stored chunk shape (default
        256³). Needs ``copick[dask]``.
        """
        from copick.formats import dask_pyramid, dask_volumes

        self._require_writable("write")
        data = dask_volumes.as_dask(data)
        options: dict[str, Any] = {"method": "mean"}
        if self._kind == "segmentation":
            data, size = self._segmentation_for_dask(data, dtype, options)
            levels = 1 if levels is None else levels
        else:
            size, default_levels = self._image_for_dask(data, voxel_size, chunks, options)
            levels = default_levels if levels is None else levels
            target = np.float32 if dtype is _KIND_DEFAULT else dtype
            if target is not None:
                data = data.astype(target)
        if chunks is not None and self._kind != "features":
            options["chunks"] = chunks
        if batch_bytes is not None:
            options["batch_bytes"] = batch_bytes
        staging.rewrite(
            self._storage.overlay,
            self._relpath,
            lambda store: dask_pyramid.write_pyramid(store, data, levels, size, **options),
            self._location,
        )

    def _image_for_dask(
        self, data: Any, voxel_size: float | None, chunks: Any, options: dict[str, Any]
    ) -> tuple[float, int]:
        """The checks of a tomogram, feature map or object map written from ``data``: its voxel size
        and default number of levels (feature maps: their chunks and channel axis in ``options``)."""
        if self._kind == "features":
            options["chunks"] = feature_chunks(data, chunks, self._location)
            options["channel_axis"] = data.ndim == 4
            return self.tomogram.voxel_spacing.voxel_size if voxel_size is None else voxel_size, 1
        if self._kind == "object":
            if not getattr(self, "is_particle", False):
                raise ValueError(f"Object {self.name} is not a particle; only particles have density maps.")
            if voxel_size is None:
                raise TypeError("from_dask of an object map needs its voxel_size (Angstrom).")
            _check_volume(data, self._location)
            return voxel_size, 1
        _check_volume(data, self._location)
        return self.voxel_spacing.voxel_size if voxel_size is None else voxel_size, 3

    def _segmentation_for_dask(self, data: Any, dtype: Any, options: dict[str, Any]) -> tuple[Any, float]:
        """Labels of a segmentation checked and typed as ``from_numpy`` does; its write options."""
        from copick.formats import dask_volumes, ome

        panoptic = bool(getattr(self, "is_panoptic", False))
        if panoptic and (data.ndim != 4 or data.shape[0] != 2):
            raise InvalidDataError(
                f"{self._location}: a panoptic segmentation must have shape (2, Z, Y, X) "
                f"(label and instance channels), got {tuple(data.shape)}."
            )
        if not panoptic:
            _check_volume(data, self._location)
        floor = np.uint16 if getattr(self, "is_instance", False) or panoptic else np.uint8
        requested = None if dtype is _KIND_DEFAULT else dtype
        target = ome.choose_segmentation_dtype(dask_volumes.range_probe(data), floor, requested)
        options["method"] = "nearest"
        if panoptic:
            from copick.entities.segmentation import PANOPTIC_METADATA

            self._check_panoptic_dask(data)
            options.update(channel_axis=True, metadata=PANOPTIC_METADATA, chunks=(1, 256, 256, 256))
        return data.astype(target), self.voxel_size

    def _check_panoptic_dask(self, data: Any) -> None:
        """``from_numpy``'s panoptic rules, computed blockwise: known labels, no instance on background."""
        import dask
        import dask.array as da

        labels, instances = data[0], data[1]
        present, stray = dask.compute(da.unique(labels), da.count_nonzero((labels == 0) & (instances != 0)))
        self._check_panoptic(present, np.zeros_like(present))
        if int(stray):
            raise InvalidDataError(
                f"{self._location}: {int(stray)} background voxels (label 0) carry an instance ID; "
                "instances belong to an object."
            )

    def _delete_store(self) -> None:
        self._require_writable("delete")
        self._storage.overlay.delete(self._relpath)
        staging.tidy(self._storage.overlay, self._relpath, roll_forward=False)


def _check_volume(data: Any, where: str) -> None:
    """The checks of ``as_volume`` for an array that stays lazy (shape and dtype only)."""
    if data.ndim != 3:
        raise InvalidDataError(
            f"{where}: a volume must be a 3-D array indexed [z, y, x], got shape {tuple(data.shape)}."
        )
    if np.dtype(data.dtype).kind not in "buif":
        raise InvalidDataError(f"{where}: a volume must hold numbers, got dtype {data.dtype}.")


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


def feature_chunks(data: Any, chunks: Any, where: str) -> tuple[int, ...]:
    """The stored chunks of a feature map ``data`` ((C, Z, Y, X) or one (Z, Y, X) channel, numbers):
    every channel in one chunk, at most ``chunks`` (default 256³) and at most the image per axis."""
    if data.ndim not in (3, 4) or np.dtype(data.dtype).kind not in "buif":
        raise InvalidDataError(
            f"{where}: expected a numeric (C, Z, Y, X) array, got {data.dtype} {tuple(data.shape)}."
        )
    wanted = tuple(int(c) for c in (chunks or (256, 256, 256)))[-3:]
    spatial = tuple(min(c, max(1, int(n))) for c, n in zip(wanted, data.shape[-3:]))
    return (int(data.shape[0]), *spatial) if data.ndim == 4 else spatial
