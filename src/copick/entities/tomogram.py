"""Tomograms and their feature maps: OME-Zarr stores in a voxel-spacing folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from copick import layout
from copick.catalog import FEATURES
from copick.entities.base import from_record, lazy_meta, require_str, storage_of
from copick.entities.volume import VolumeEntity, as_volume, feature_chunks, zyx
from copick.errors import EntityExistsError
from copick.metadata import CopickFeaturesMeta, CopickTomogramMeta
from copick.util.escape import sanitize_name

if TYPE_CHECKING:
    from copick.entities.voxel_spacing import CopickVoxelSpacing
    from copick.storage import ProjectStorage


class CopickFeatures(VolumeEntity):
    """A feature map computed from a tomogram (``<tomo>_<feature>_features.zarr``, channel-first)."""

    _kind = "features"
    _blob_is_folder = True

    def __init__(self, tomogram: CopickTomogram, meta: CopickFeaturesMeta, read_only: bool = False):
        self.tomogram = tomogram
        self.meta = meta
        self.read_only = read_only

    @property
    def tomo_type(self) -> str:
        return self.meta.tomo_type

    @property
    def feature_type(self) -> str:
        return self.meta.feature_type

    @property
    def _storage(self) -> ProjectStorage:
        return self.tomogram._storage

    def _layout_path(self) -> str:
        name = layout.features_store_name(self.tomo_type, self.feature_type)
        return layout.join(self.tomogram.voxel_spacing._relpath, name)

    @property
    def path(self) -> str:
        return self._location

    @property
    def fs(self) -> Any:
        return self._layer.fs

    def numpy(self, zarr_group: str | int = "0", slices: tuple[slice, ...] | None = None) -> np.ndarray:
        """The level as an array; ``slices`` index every axis (the channel axis first)."""
        return self._read(zarr_group, tuple(slices) if slices is not None else ())

    def from_numpy(self, data: Any, dtype: Any = np.float32, chunks: Any = (256, 256, 256)) -> None:
        """Replace the feature map with ``data``, (C, Z, Y, X) channels first or one (Z, Y, X) channel,
        stored as one level at the tomogram's voxel size in chunks of every channel and at most
        ``chunks`` voxels (``copick.ops.importers.add_features`` checks the target and calls this).
        A Dask array is written block by block (``from_dask``), never computed whole."""
        from copick.formats.dask_volumes import is_chunked

        if is_chunked(data):
            self.from_dask(data, dtype=dtype, chunks=chunks)
            return
        self._require_writable("write")
        array = np.asarray(data)
        stored = feature_chunks(array, chunks, self._location)
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        voxel_size = self.tomogram.voxel_spacing.voxel_size
        self._write_pyramid([array], voxel_size, chunks=stored, channel_axis=array.ndim == 4)

    def set_region(
        self, data: Any, zarr_group: str | int = "0", slices: tuple[slice, ...] | None = None
    ) -> None:
        self._write_region(data, zarr_group, tuple(slices) if slices is not None else ())

    def delete(self) -> None:
        self._delete_store()
        self.tomogram._forget_features(self)

    def __repr__(self) -> str:
        return (
            f"CopickFeatures(tomo_type={self.tomo_type}, feature_type={self.feature_type}) at {hex(id(self))}"
        )


class CopickTomogram(VolumeEntity):
    """A reconstructed volume at one voxel spacing, usually a 3-level pyramid."""

    _kind = "tomogram"
    _blob_is_folder = True
    features_class = CopickFeatures
    meta = lazy_meta

    def __init__(
        self,
        voxel_spacing: CopickVoxelSpacing,
        meta: CopickTomogramMeta,
        config: Any = None,
        read_only: bool = False,
    ):
        self.voxel_spacing = voxel_spacing
        self.meta = meta
        self.read_only = read_only
        self._features: list[CopickFeatures] | None = None

    @property
    def tomo_type(self) -> str:
        return self._meta.tomo_type

    @property
    def _storage(self) -> ProjectStorage:
        return storage_of(self.voxel_spacing.run.root)

    def _layout_path(self) -> str:
        return layout.join(self.voxel_spacing._relpath, layout.tomogram_store_name(self.tomo_type))

    # --- feature maps ----------------------------------------------------------------------------

    @property
    def features(self) -> list[CopickFeatures]:
        if self._features is None:
            self._features = self._query_features()
        return self._features

    @features.setter
    def features(self, value: list[CopickFeatures]) -> None:
        self._features = value

    def _query_features(self) -> list[CopickFeatures]:
        vs = self.voxel_spacing
        return [
            from_record(self.features_class(self, r.meta, read_only=r.read_only), r)
            for r in self._storage.records(FEATURES, vs.run.name, vs.voxel_size)
            if r.meta.tomo_type == self.tomo_type
        ]

    def get_features(self, feature_type: str) -> CopickFeatures | None:
        return next((f for f in self.features if f.feature_type == feature_type), None)

    def new_features(self, feature_type: str, exist_ok: bool = False, **kwargs: Any) -> CopickFeatures:
        """Create an empty feature-map store next to this tomogram (always in the overlay)."""
        require_str(feature_type, "feature_type")
        feature_type = sanitize_name(feature_type)
        meta = CopickFeaturesMeta(tomo_type=self.tomo_type, feature_type=feature_type)
        existing = self.get_features(feature_type)
        if existing is None and self._storage.exists(self.features_class(self, meta)._relpath):
            self.refresh_features()
            existing = self.get_features(feature_type)
        if existing is not None:
            if exist_ok:
                return existing
            raise EntityExistsError(
                f"Features of type {feature_type} already exist for tomogram {self.tomo_type}."
            )
        features = self.features_class(self, meta)
        features._create_empty_group()
        self.features.append(features)
        return features

    def refresh_features(self) -> None:
        self._storage.forget_prefetch(self.voxel_spacing.run._relpath)
        self._features = self._query_features()

    def refresh(self) -> None:
        self.refresh_features()

    def _forget_features(self, features: CopickFeatures) -> None:
        if self._features is not None and features in self._features:
            self._features.remove(features)

    def delete_features(self) -> None:
        for features in list(self.features):
            if not features.read_only:
                features.delete()

    # --- data --------------------------------------------------------------------------------

    def numpy(
        self,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
    ) -> np.ndarray:
        """A region of one level, indexed ``[z, y, x]``; only the chunks it touches are read."""
        return self._read(zarr_group, zyx(x, y, z))

    def from_numpy(self, data: Any, levels: int = 3, dtype: Any = np.float32) -> None:
        """Replace the store with ``data`` (z, y, x) and its 2x-mean pyramid of ``levels`` levels; a Dask
        array is written block by block (``from_dask``), never computed whole."""
        from copick.formats import ome
        from copick.formats.dask_volumes import is_chunked

        if is_chunked(data):
            self.from_dask(data, levels=levels, dtype=dtype)
            return
        self._require_writable("write")
        volume = as_volume(data, self._location)
        self._write_pyramid(ome.iter_volume_pyramid(volume, levels, dtype), self.voxel_spacing.voxel_size)

    def set_region(
        self,
        data: Any,
        zarr_group: str | int = "0",
        x: slice = slice(None),
        y: slice = slice(None),
        z: slice = slice(None),
    ) -> None:
        """Write ``data`` into a region of an existing level."""
        self._write_region(data, zarr_group, zyx(x, y, z))

    def delete(self) -> None:
        self._delete_store()
        self.voxel_spacing._forget_tomogram(self)

    def __repr__(self) -> str:
        n = None if self._features is None else len(self._features)
        return f"CopickTomogram(tomo_type={self.tomo_type}, len(features)={n}) at {hex(id(self))}"
