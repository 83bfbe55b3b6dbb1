"""Importing files into a project: tomograms, feature maps, segmentations, object maps and picks.

Every import reads and checks its input completely (file readable, voxel size known, columns
present, target free) *before* it writes anything; runs and voxel spacings are created only then,
and are removed again if the write itself fails, so a failed import leaves the project unchanged.
The ``*_from_paths`` functions are the back-ends of ``copick add ...``: they expand globs, map files
to runs and return an ``ImportReport`` counting what was imported, skipped and failed.

Implemented in ``import_tomograms``, ``import_segmentations``, ``import_picks`` and ``import_batch``;
this module gathers their public names (``copick.ops.add`` re-exports them).
"""

from __future__ import annotations

from copick.ops.import_batch import (
    add_picks_from_paths,
    add_picks_grouped_from_paths,
    add_segmentations_from_paths,
    add_tomograms_from_paths,
)
from copick.ops.import_common import DEFAULT_CHUNKS, ImportReport, MissingTargetError, PicksImportResult
from copick.ops.import_picks import add_picks, add_picks_from_file, add_picks_grouped_from_file
from copick.ops.import_segmentations import (
    SEGMENTATION_TYPES,
    ReadOnlyObjectError,
    add_object_volume,
    add_segmentation,
    add_segmentation_from_file,
)
from copick.ops.import_tomograms import add_features, add_tomogram, add_tomogram_from_file

__all__ = [
    "DEFAULT_CHUNKS",
    "SEGMENTATION_TYPES",
    "ImportReport",
    "MissingTargetError",
    "PicksImportResult",
    "ReadOnlyObjectError",
    "add_features",
    "add_object_volume",
    "add_picks",
    "add_picks_from_file",
    "add_picks_from_paths",
    "add_picks_grouped_from_file",
    "add_picks_grouped_from_paths",
    "add_segmentation",
    "add_segmentation_from_file",
    "add_segmentations_from_paths",
    "add_tomogram",
    "add_tomogram_from_file",
    "add_tomograms_from_paths",
]
