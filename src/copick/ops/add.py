"""Adding entities to a project from Python: runs, voxel spacings, pickable objects, and (implemented in
``copick.ops.importers``) tomograms, features, segmentations and picks from arrays or files.

These are the building blocks of ``copick new`` and ``copick add``.
"""

from __future__ import annotations

import logging
from typing import Any

from copick.errors import MissingEntityError
from copick.ops.importers import (
    add_features,
    add_object_volume,
    add_picks,
    add_picks_from_file,
    add_picks_grouped_from_file,
    add_segmentation,
    add_segmentation_from_file,
    add_tomogram,
    add_tomogram_from_file,
)

__all__ = [
    "MissingEntityError",
    "add_features",
    "add_object",
    "add_object_volume",
    "add_picks",
    "add_picks_from_file",
    "add_picks_grouped_from_file",
    "add_run",
    "add_segmentation",
    "add_segmentation_from_file",
    "add_tomogram",
    "add_tomogram_from_file",
    "add_voxelspacing",
    "get_or_create_run",
    "get_or_create_voxelspacing",
]

_log = logging.getLogger(__name__)


def add_run(root: Any, name: str, exist_ok: bool = False, log: bool = False) -> Any:
    """Create run ``name`` (``exist_ok`` returns an existing one instead of raising)."""
    run = root.new_run(name, exist_ok=exist_ok)
    if log:
        _log.info(f"Created run: {name}")
    return run


def get_or_create_run(root: Any, name: str, create: bool = True, log: bool = False) -> Any:
    """The run called ``name``; created when missing and ``create`` is true, else an error."""
    run = root.get_run(name)
    if run is not None:
        return run
    if not create:
        raise MissingEntityError(f"Run {name!r} not found in the project (and create=False).")
    run = root.new_run(name, exist_ok=True)
    if log:
        _log.info(f"Created run: {name}")
    return run


def get_or_create_voxelspacing(run: Any, voxel_size: float, create: bool = True, log: bool = False) -> Any:
    """The voxel spacing ``voxel_size`` of ``run``; created when missing and ``create`` is true."""
    vs = run.get_voxel_spacing(float(voxel_size))
    if vs is not None:
        return vs
    if not create:
        raise MissingEntityError(
            f"Voxel spacing {float(voxel_size)} not found in run {run.name!r} (and create=False)."
        )
    vs = run.new_voxel_spacing(float(voxel_size), exist_ok=True)
    if log:
        _log.info(f"Created voxel spacing {float(voxel_size)} in run {run.name}")
    return vs


def add_voxelspacing(
    root: Any,
    run: Any,
    voxel_spacing: float,
    create: bool = True,
    exist_ok: bool = False,
    log: bool = False,
) -> Any:
    """Create voxel spacing ``voxel_spacing`` in ``run`` (a run or its name; made if ``create``)."""
    if isinstance(run, str):
        run = get_or_create_run(root, run, create=create, log=log)
    vs = run.new_voxel_spacing(float(voxel_spacing), exist_ok=exist_ok)
    if log:
        _log.info(f"Created voxel spacing {float(voxel_spacing)} in run {run.name}")
    return vs


def add_object(
    root: Any,
    name: str,
    is_particle: bool,
    label: int | None = None,
    color: Any = None,
    emdb_id: str | None = None,
    pdb_id: str | None = None,
    identifier: str | None = None,
    map_threshold: float | None = None,
    radius: float | None = None,
    volume: Any = None,
    voxel_size: float | None = None,
    metadata: dict | None = None,
    exist_ok: bool = False,
    save_config: bool = False,
    config_path: str | None = None,
    log: bool = False,
    filament: Any = None,
) -> Any:
    """Add a pickable object to the config (optionally with a density map) and optionally save the config.

    Everything is checked before anything is changed: a ``volume`` needs ``voxel_size`` and a particle,
    ``save_config`` needs ``config_path``.
    """
    if volume is not None:
        if voxel_size is None:
            raise ValueError(f"Object {name!r}: voxel_size must be provided if volume is provided.")
        if not is_particle:
            raise ValueError(f"Object {name} is not a particle object and cannot have volume data.")
    if save_config and not config_path:
        raise ValueError("config_path is required when save_config=True.")
    obj = root.new_object(
        name,
        is_particle,
        label=label,
        color=color,
        emdb_id=emdb_id,
        pdb_id=pdb_id,
        identifier=identifier,
        map_threshold=map_threshold,
        radius=radius,
        metadata=metadata,
        exist_ok=exist_ok,
        filament=filament,
    )
    if volume is not None:
        obj.from_numpy(volume, voxel_size)
    if save_config:
        root.save_config(config_path)
    if log:
        kind = "filament" if filament is not None else ("particle" if is_particle else "segmentation")
        _log.info(f"Successfully added {kind} object '{name}' with label {obj.label}")
    return obj
