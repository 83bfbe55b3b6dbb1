"""Segmentations: label volumes stored as OME-Zarr in a run's segmentation folders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copick import layout
from copick.entities.base import SessionMixin, storage_of
from copick.entities.volume import VolumeEntity, as_volume, zyx
from copick.errors import InvalidDataError
from copick.metadata import CopickSegmentationMeta

if TYPE_CHECKING:
    from copick.entities.run import CopickRun
    from copick.storage import ProjectStorage

_NO_COLOR = (128, 128, 128, 0)
_CHANNELS = {"label": 0, "instance": 1, 0: 0, 1: 1}
_PANOPTIC_METADATA = {"copick": {"channels": ["label", "instance"], "segmentation_type": "panoptic"}}


class CopickSegmentation(SessionMixin, VolumeEntity):
    """A binary, multilabel, instance or panoptic segmentation at one voxel size."""

    _kind = "segmentation"

    def __init__(self, run: CopickRun, meta: CopickSegmentationMeta, read_only: bool = False):
        self.run = run
        self.meta = meta
        self.read_only = read_only
        self._store_name: str | None = None  # the listed folder name, when it differs from ours

    # --- identity ------------------------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return self.meta.user_id

    @property
    def session_id(self) -> str:
        return self.meta.session_id

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def voxel_size(self) -> float:
        return self.meta.voxel_size

    @property
    def is_multilabel(self) -> bool:
        return self.meta.is_multilabel

    @property
    def is_instance(self) -> bool:
        return self.meta.is_instance

    @property
    def is_panoptic(self) -> bool:
        return self.meta.is_panoptic

    @property
    def segmentation_type(self) -> str:
        return layout.segmentation_type(self.is_multilabel, self.is_instance, self.is_panoptic)

    @property
    def directory(self) -> str:
        return layout.SEGMENTATION_DIRS[self.segmentation_type]

    @property
    def color(self) -> Any:
        if self.segmentation_type in ("multilabel", "panoptic"):
            return list(_NO_COLOR)
        obj = self.run.root.get_object(self.name)
        return obj.color if obj is not None else list(_NO_COLOR)  # a list, as copick 1.31 returns

    @property
    def _storage(self) -> ProjectStorage:
        return storage_of(self.run.root)

    @property
    def filename(self) -> str:
        return self._store_name or layout.segmentation_store_name(
            self.voxel_size, self.user_id, self.session_id, self.name, self.segmentation_type
        )

    @property
    def _relpath(self) -> str:
        return layout.join(self.run._relpath, self.directory, self.filename)

    @property
    def path(self) -> str:
        return self._location

    @property
    def fs(self) -> Any:
        return self._layer.fs

    def create_store(self) -> None:
        """Create the (empty) store in the overlay."""
        self._create_empty_group()

    # --- data ----------------------------------------------------------------------------------

    def _index(self, x: slice, y: slice, z: slice, channel: Any) -> tuple:
        if channel is None:
            return ((slice(None),) if self.is_panoptic else ()) + zyx(x, y, z)
        if not self.is_panoptic:
            raise ValueError(
                f"channel is only valid for panoptic segmentations, not {self.segmentation_type} ones."
            )
        if channel not in _CHANNELS:
            raise ValueError(f"channel must be 'label'/0 or 'instance'/1, got {channel!r}.")
        index = _CHANNELS[channel]
        return (slice(index, index + 1), *zyx(x, y, z))

    def numpy(
        self,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
        channel: Any = None,
    ) -> np.ndarray:
        """A region of one level, ``[z, y, x]`` (panoptic without a channel: ``[c, z, y, x]``)."""
        data = self._read(zarr_group, self._index(x, y, z, channel))
        return data if channel is None else data[0]

    def from_numpy(self, data: Any, levels: int = 1, dtype: Any = None) -> None:
        """Replace the store with ``data`` (and a nearest-neighbour pyramid if ``levels`` > 1).

        ``dtype=None`` picks the smallest unsigned type holding every label (at least uint8, or
        uint16 for instance and panoptic segmentations); a lossy ``dtype`` is a ``ValueError``.
        """
        from copick.formats import ome

        self._require_writable("write")
        labels = np.asarray(data)
        if self.is_panoptic and (labels.ndim != 4 or labels.shape[0] != 2):
            raise InvalidDataError(
                f"{self._location}: a panoptic segmentation must have shape (2, Z, Y, X) "
                f"(label and instance channels), got {labels.shape}."
            )
        if not self.is_panoptic:
            labels = as_volume(labels, self._location)
        floor = np.uint16 if self.is_instance or self.is_panoptic else np.uint8
        target = ome.choose_segmentation_dtype(labels, floor, dtype)
        if self.is_panoptic:
            self._check_panoptic(labels[0], labels[1])
        options: dict[str, Any] = {}
        if self.is_panoptic:
            options = {"channel_axis": True, "metadata": _PANOPTIC_METADATA, "chunks": (1, 256, 256, 256)}
        pyramid = ome.iter_segmentation_pyramid(labels.astype(target, copy=False), levels, self.is_panoptic)
        self._write_pyramid(pyramid, self.voxel_size, **options)

    def set_region(
        self,
        data: Any,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
        channel: Any = None,
    ) -> None:
        """Write labels into a region of an existing level; a lossy cast raises ``ValueError``."""
        from copick.formats import ome

        level = ome.open_level(self.zarr(), str(zarr_group))
        labels = np.asarray(data)
        ome.choose_segmentation_dtype(labels, np.uint8, level.dtype)
        if channel is not None:
            labels = labels[np.newaxis]
        if self.is_panoptic:
            index = self._index(x, y, z, None)
            merged = np.array(level[index])  # both channels of the region, as they will be after the write
            if channel is None:
                merged[...] = labels
            else:
                merged[_CHANNELS[channel]] = labels[0]
            self._check_panoptic(merged[0], merged[1])
        self._write_region(labels.astype(level.dtype, copy=False), zarr_group, self._index(x, y, z, channel))

    def _check_panoptic(self, label: np.ndarray, instance: np.ndarray) -> None:
        """copick 1.31's rules for panoptic data: known object labels; no instance on background."""
        known = {o.label for o in self.run.root.pickable_objects if o.label is not None}
        unknown = sorted(int(v) for v in np.unique(label) if v != 0 and int(v) not in known)
        if unknown:
            raise InvalidDataError(
                f"{self._location}: panoptic label channel holds {unknown}, "
                "which no pickable object has as its label."
            )
        stray = int(np.count_nonzero((label == 0) & (instance != 0)))
        if stray:
            raise InvalidDataError(
                f"{self._location}: {stray} background voxels (label 0) carry an instance ID; "
                "instances belong to an object."
            )

    def delete(self) -> None:
        self._delete_store()
        self.run._forget("_segmentations", self)

    def __repr__(self) -> str:
        return (
            f"CopickSegmentation(user_id={self.user_id}, session_id={self.session_id}, name={self.name}, "
            f"segmentation_type={self.segmentation_type}, voxel_size={self.voxel_size}) at {hex(id(self))}"
        )
