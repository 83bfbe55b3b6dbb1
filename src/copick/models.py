"""Upstream module path of copick's models: metadata (pydantic) and entity classes."""

from copick.entities.filaments import CopickFilaments
from copick.entities.mesh import CopickMesh
from copick.entities.object import CopickObject
from copick.entities.picks import CopickPicks
from copick.entities.root import CopickRoot
from copick.entities.run import CopickRun
from copick.entities.segmentation import CopickSegmentation
from copick.entities.tomogram import CopickFeatures, CopickTomogram
from copick.entities.voxel_spacing import CopickVoxelSpacing
from copick.filament_models import CopickFilament, CopickFilamentCurve, CopickFilamentsFile
from copick.metadata import (
    CopickConfig,
    CopickFeaturesMeta,
    CopickLocation,
    CopickMeshMeta,
    CopickPicksFile,
    CopickPoint,
    CopickRunMeta,
    CopickSegmentationMeta,
    CopickTomogramMeta,
    CopickVoxelSpacingMeta,
    FilamentSpec,
    PickableObject,
)

#: Every entity class, as copick 1.31 lists them (plugins check ``isinstance(x, COPICK_TYPES)``).
COPICK_TYPES = (
    CopickRoot,
    CopickRun,
    CopickVoxelSpacing,
    CopickTomogram,
    CopickFeatures,
    CopickPicks,
    CopickMesh,
    CopickSegmentation,
    CopickObject,
    CopickFilaments,
)

__all__ = [
    "COPICK_TYPES",
    "CopickConfig",
    "CopickFeatures",
    "CopickFeaturesMeta",
    "CopickFilament",
    "CopickFilamentCurve",
    "CopickFilaments",
    "CopickFilamentsFile",
    "CopickLocation",
    "CopickMesh",
    "CopickMeshMeta",
    "CopickObject",
    "CopickPicks",
    "CopickPicksFile",
    "CopickPoint",
    "CopickRoot",
    "CopickRun",
    "CopickRunMeta",
    "CopickSegmentation",
    "CopickSegmentationMeta",
    "CopickTomogram",
    "CopickTomogramMeta",
    "CopickVoxelSpacing",
    "CopickVoxelSpacingMeta",
    "FilamentSpec",
    "PickableObject",
]
