"""Upstream names of the static/overlay layer classes.

Layering lives in ``copick.catalog``: a project's catalogs (other sources, then the static layer's, then
the overlay's) list every entity, and each entity reads and writes through the locator of its record
(``read_only`` when the record is). These classes exist so that code importing or subclassing them
keeps working.
"""

from __future__ import annotations

from copick.entities.filaments import CopickFilaments
from copick.entities.mesh import CopickMesh
from copick.entities.object import CopickObject
from copick.entities.picks import CopickPicks
from copick.entities.run import CopickRun
from copick.entities.segmentation import CopickSegmentation
from copick.entities.tomogram import CopickFeatures, CopickTomogram
from copick.entities.voxel_spacing import CopickVoxelSpacing


class CopickPicksOverlay(CopickPicks):
    """Picks from either layer; ``read_only`` marks static ones."""


class CopickMeshOverlay(CopickMesh):
    """A mesh from either layer; ``read_only`` marks static ones."""


class CopickFilamentsOverlay(CopickFilaments):
    """Filaments from either layer; ``read_only`` marks static ones."""


class CopickSegmentationOverlay(CopickSegmentation):
    """A segmentation from either layer; ``read_only`` marks static ones."""


class CopickObjectOverlay(CopickObject):
    """An object whose map is read-only when it exists in the static layer only."""


class CopickFeaturesOverlay(CopickFeatures):
    """A feature map from either layer."""


class CopickTomogramOverlay(CopickTomogram):
    """A tomogram from either layer."""

    features_class = CopickFeaturesOverlay


class CopickVoxelSpacingOverlay(CopickVoxelSpacing):
    """A voxel spacing merging both layers' tomograms."""

    tomogram_class = CopickTomogramOverlay


class CopickRunOverlay(CopickRun):
    """A run merging both layers."""

    voxel_spacing_class = CopickVoxelSpacingOverlay
    picks_class = CopickPicksOverlay
    mesh_class = CopickMeshOverlay
    filaments_class = CopickFilamentsOverlay
    segmentation_class = CopickSegmentationOverlay
