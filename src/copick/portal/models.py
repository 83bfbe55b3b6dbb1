"""Config and meta models of portal projects, with copick 1.31's names and fields.

The nested portal metadata (``_PortalTomogram``, ``_PortalAnnotation`` ...) keeps whatever fields the
portal returned, in snake case, as attributes (pydantic ``extra="allow"``), so new portal fields
reach users without a change here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from copick.metadata import (
    CopickConfig,
    CopickPicksFile,
    CopickRunMeta,
    CopickSegmentationMeta,
    CopickTomogramMeta,
    CopickVoxelSpacingMeta,
)


class CopickConfigCDP(CopickConfig):
    """Config of a project over CryoET Data Portal datasets, with its writable overlay."""

    config_type: str = "cryoet_data_portal"
    overlay_root: str
    dataset_ids: list[int]
    overlay_fs_args: dict[str, Any] | None = {}
    portal_cache: bool = True
    portal_cache_ttl_seconds: int = 86400
    portal_cache_dir: str | None = None
    portal_cache_lock_timeout_seconds: int = 60
    portal_url: str | None = None  # ours: a mirror or test portal (COPICK_PORTAL_URL overrides it)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """As copick 1.31 writes it: our ``portal_url`` only when set, so 1.31 opens our configs."""
        data = super().model_dump(**kwargs)
        if data.get("portal_url") is None:
            data.pop("portal_url", None)
        return data


class _Portal(BaseModel):
    model_config = ConfigDict(extra="allow")


class _PortalTomogram(_Portal):
    """A portal tomogram's scalar fields."""


class _PortalAnnotation(_Portal):
    """A portal annotation's scalar fields."""


class _PortalAnnotationShape(_Portal):
    """A portal annotation shape's fields (``shape_type``)."""


class _PortalAnnotationFile(_Portal):
    """A portal annotation file's fields (``format``, ``s3_path`` ...)."""


class PortalTomogramMeta(BaseModel):
    portal_metadata: _PortalTomogram | None = None
    portal_authors: list[str] | None = None


class PortalAnnotationMeta(BaseModel):
    portal_annotation: _PortalAnnotation | None = None
    portal_annotation_shape: _PortalAnnotationShape | None = None
    portal_annotation_file: _PortalAnnotationFile | None = None
    voxel_spacing: float | None = None
    portal_author_names: list[str] | None = None


class CopickRunMetaCDP(CopickRunMeta):
    portal_run_id: int | None = None
    portal_run_name: str | None = None
    portal_dataset_id: int | None = None


class CopickVoxelSpacingMetaCDP(CopickVoxelSpacingMeta):
    portal_vs_id: int | None = None


class CopickTomogramMetaCDP(CopickTomogramMeta):
    portal_tomo_id: int | None = None
    portal_tomo_path: str | None = None
    portal_metadata: PortalTomogramMeta | None = None


class _AnnotationIds:
    """The portal ids of an annotation file's entity, as 1.31's properties (plugins build portal links
    from ``meta.portal_annotation_id``); ``None`` without portal metadata."""

    def _portal(self, part: str, field: str) -> Any:
        record = getattr(getattr(self, "portal_metadata", None), part, None)
        return getattr(record, field, None)

    @property
    def portal_annotation_id(self) -> int | None:
        return self._portal("portal_annotation", "id")

    @property
    def portal_annotation_file_id(self) -> int | None:
        return self._portal("portal_annotation_file", "id")

    @property
    def portal_annotation_file_path(self) -> str | None:
        return self._portal("portal_annotation_file", "s3_path")


class CopickPicksFileCDP(_AnnotationIds, CopickPicksFile):
    portal_metadata: PortalAnnotationMeta | None = None


class CopickSegmentationMetaCDP(_AnnotationIds, CopickSegmentationMeta):
    portal_metadata: PortalAnnotationMeta | None = None
