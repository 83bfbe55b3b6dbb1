"""Segmentations: label volumes stored as OME-Zarr in a run's segmentation folders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copick import layout
from copick.entities.base import storage_of
from copick.entities.volume import VolumeEntity, zyx
from copick.metadata import CopickSegmentationMeta

if TYPE_CHECKING:
    from copick.entities.run import CopickRun
    from copick.storage import ProjectStorage

_NO_COLOR = (128, 128, 128, 0)
_CHANNELS = {"label": 0, "instance": 1, 0: 0, 1: 1}


class CopickSegmentation(VolumeEntity):
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
    def from_tool(self) -> bool:
        return self.session_id == "0"

    @property
    def from_user(self) -> bool:
        return not self.from_tool

    @property
    def segmentation_type(self) -> str:
        return layout.segmentation_type(self.is_multilabel, self.is_instance, self.is_panoptic)

    @property
    def directory(self) -> str:
        return layout.SEGMENTATION_DIRS[self.segmentation_type]

    @property
    def color(self) -> Any:
        if self.segmentation_type in ("multilabel", "panoptic"):
            return _NO_COLOR
        obj = self.run.root.get_object(self.name)
        return obj.color if obj is not None else _NO_COLOR

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
        return (_CHANNELS[channel], *zyx(x, y, z))

    def numpy(
        self,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
        channel: Any = None,
    ) -> np.ndarray:
        """A region of one level, ``[z, y, x]`` (panoptic without a channel: ``[c, z, y, x]``)."""
        return self._read(zarr_group, self._index(x, y, z, channel))

    def from_numpy(self, data: Any, levels: int = 1, dtype: Any = None) -> None:
        """Replace the store with ``data`` (and a nearest-neighbour pyramid if ``levels`` > 1)."""
        from copick.formats import ome

        self._require_writable("write")
        floor = np.uint16 if self.is_instance or self.is_panoptic else np.uint8
        labels = ome.as_segmentation(data, floor, dtype, panoptic=self.is_panoptic, source=self._location)
        pyramid = ome.segmentation_pyramid(labels, levels)
        self._write_pyramid(pyramid, self.voxel_size, panoptic=self.is_panoptic)

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
        self._write_region(data, zarr_group, self._index(x, y, z, channel), cast="lossless")

    def delete(self) -> None:
        self._delete_store()
        self.run._forget("_segmentations", self)

    def __repr__(self) -> str:
        return (
            f"CopickSegmentation(user_id={self.user_id}, session_id={self.session_id}, name={self.name}, "
            f"segmentation_type={self.segmentation_type}, voxel_size={self.voxel_size}) at {hex(id(self))}"
        )
