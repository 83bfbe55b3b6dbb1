"""Segmentations: label volumes stored as OME-Zarr in a run's segmentation folders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copick import layout
from copick.entities.base import SessionMixin, lazy_meta, storage_of
from copick.entities.volume import VolumeEntity, as_volume, zyx
from copick.errors import InvalidDataError, UnknownObjectError
from copick.metadata import CopickSegmentationMeta
from copick.util.segmentation import check_panoptic_values, panoptic_channel_index

if TYPE_CHECKING:
    from copick.entities.run import CopickRun
    from copick.storage import ProjectStorage

_NO_COLOR = (128, 128, 128, 0)
PANOPTIC_METADATA = {"copick": {"channels": ["label", "instance"], "segmentation_type": "panoptic"}}


class CopickSegmentation(SessionMixin, VolumeEntity):
    """A binary, multilabel, instance or panoptic segmentation at one voxel size."""

    _kind = "segmentation"
    _blob_is_folder = True
    meta = lazy_meta

    def __init__(self, run: CopickRun, meta: CopickSegmentationMeta, read_only: bool = False):
        self.run = run
        self.meta = meta
        self.read_only = read_only

    # --- identity ------------------------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return self._meta.user_id

    @property
    def session_id(self) -> str:
        return self._meta.session_id

    @property
    def name(self) -> str:
        return self._meta.name

    @property
    def voxel_size(self) -> float:
        return self._meta.voxel_size

    @property
    def is_multilabel(self) -> bool:
        return self._meta.is_multilabel

    @property
    def is_instance(self) -> bool:
        return self._meta.is_instance

    @property
    def is_panoptic(self) -> bool:
        return self._meta.is_panoptic

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
        """The store's folder name: as listed (``10.0_...`` written elsewhere stays so), else copick's."""
        if self._loc is not None and self._record is None:
            return self._loc.path.rsplit("/", 1)[-1]
        return layout.segmentation_store_name(
            self.voxel_size, self.user_id, self.session_id, self.name, self.segmentation_type
        )

    def _layout_path(self) -> str:
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
        index = panoptic_channel_index(channel)
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
        uint16 for instance and panoptic segmentations); a lossy ``dtype`` is a ``ValueError``. A Dask
        array is checked and written block by block (``from_dask``), never computed whole.
        """
        from copick.formats import ome
        from copick.formats.dask_volumes import is_chunked

        if is_chunked(data):
            self.from_dask(data, levels=levels, dtype=dtype)
            return
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
            options = {"channel_axis": True, "metadata": PANOPTIC_METADATA, "chunks": (1, 256, 256, 256)}
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
                merged[panoptic_channel_index(channel)] = labels[0]
            self._check_panoptic(merged[0], merged[1])
        self._write_region(labels.astype(level.dtype, copy=False), zarr_group, self._index(x, y, z, channel))

    def _check_panoptic(self, label: np.ndarray, instance: np.ndarray) -> None:
        """copick 1.31's rules for panoptic data: known object labels; no instance on background."""
        known = [o.label for o in self.run.root.pickable_objects if o.label is not None]
        try:
            check_panoptic_values(label, instance, known)
        except InvalidDataError as err:
            raise InvalidDataError(f"{self._location}: {err}") from None

    # --- instance and panoptic helpers ---------------------------------------------------------

    def _require_type(self, what: str, *types: str) -> None:
        if self.segmentation_type not in types:
            raise ValueError(f"{self!r} is a {self.segmentation_type} segmentation; {what}.")

    def _object_label(self, object_name: str) -> int:
        obj = self.run.root.get_object(object_name)
        if obj is None:
            raise UnknownObjectError(f"Object name {object_name} not found in pickable objects.")
        return obj.label

    def label_volume(self, zarr_group: str = "0") -> np.ndarray:
        """The label channel of a panoptic segmentation, ``[z, y, x]``."""
        self._require_type("only panoptic ones have channels", "panoptic")
        return self.numpy(zarr_group, channel="label")

    def segments(self, zarr_group: str = "0") -> list[tuple[str, int]]:
        """Every (object name, instance id) pair present in a panoptic segmentation, sorted."""
        self._require_type("segments() needs a panoptic one", "panoptic")
        both = self.numpy(zarr_group).reshape(2, -1)
        names = {o.label: o.name for o in self.run.root.pickable_objects}
        pairs = np.unique(both[:, both[0] != 0], axis=1)
        return sorted((names.get(int(label), str(int(label))), int(inst)) for label, inst in pairs.T)

    def instance_ids(self, zarr_group: str = "0", object_name: str | None = None) -> np.ndarray:
        """Instance ids (> 0) present; a panoptic segmentation needs the object they belong to."""
        self._require_type("instance_ids() needs an instance or panoptic one", "instance", "panoptic")
        if self.is_instance:
            if object_name is not None and object_name != self.name:
                raise ValueError(f"{self!r} holds instances of {self.name}, not {object_name}.")
            values = self.numpy(zarr_group)
        else:
            if object_name is None:
                raise ValueError("Instance IDs of a panoptic segmentation are per object; pass object_name.")
            label = self._object_label(object_name)
            both = self.numpy(zarr_group)
            values = both[1][both[0] == label]
        ids = np.unique(values).astype(np.int64)
        return ids[ids != 0]

    def instance_volume(self, object_name: str, zarr_group: str = "0") -> np.ndarray:
        """The instance channel of a panoptic segmentation where the label is ``object_name``'s, else 0."""
        self._require_type("instance_volume() needs a panoptic one", "panoptic")
        label = self._object_label(object_name)
        both = self.numpy(zarr_group)
        return np.where(both[0] == label, both[1], 0).astype(both.dtype, copy=False)

    def delete(self) -> None:
        self._delete_store()
        self.run._forget("_segmentations", self)

    def __repr__(self) -> str:
        return (
            f"CopickSegmentation(user_id={self.user_id}, session_id={self.session_id}, name={self.name}, "
            f"segmentation_type={self.segmentation_type}, voxel_size={self.voxel_size}) at {hex(id(self))}"
        )
