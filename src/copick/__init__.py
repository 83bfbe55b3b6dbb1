"""copick: storage-agnostic, server-less access to cryo-ET datasets.

``import copick`` is light: submodules (models, backends, zarr, trimesh...) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "1.32.0"

__all__ = ["COPICK_TYPES", "from_croissant", "from_czcdp_datasets", "from_file", "from_string", "new_config"]

_SUBMODULES = {
    "cli",
    "entities",
    "errors",
    "formats",
    "impl",
    "layout",
    "metadata",
    "models",
    "ops",
    "storage",
    "util",
}


def from_file(path: str) -> Any:
    """Open the project whose config JSON is at ``path``."""
    from copick.ops.open import from_file as _from_file

    return _from_file(path)


def from_string(data: str) -> Any:
    """Open the project described by a config JSON string."""
    from copick.ops.open import from_string as _from_string

    return _from_string(data)


def new_config(
    config: str,
    overlay_root: str,
    proj_name: str = "copick project",
    proj_description: str = "",
    pickable_objects: list | None = None,
) -> Any:
    """Write a new filesystem project config at ``config`` and open it."""
    from copick.ops.open import new_config as _new_config

    return _new_config(config, overlay_root, proj_name, proj_description, pickable_objects)


def from_czcdp_datasets(
    dataset_ids: list[int],
    overlay_root: str,
    overlay_fs_args: dict[str, Any] | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    output_path: str | None = None,
) -> Any:
    """Open CZ cryoET Data Portal datasets (read-only) under the writable ``overlay_root``, one pickable
    object per annotated portal object; write the config to ``output_path`` when given."""
    from copick.ops.open import from_czcdp_datasets as _impl

    return _impl(dataset_ids, overlay_root, overlay_fs_args, user_id, session_id, output_path)


def from_croissant(
    croissant_url: str,
    overlay_root: str | None = None,
    croissant_base_url: str | None = None,
    overlay_fs_args: dict[str, Any] | None = None,
    croissant_fs_args: dict[str, Any] | None = None,
    static_fs_args: dict[str, Any] | None = None,
    output_path: str | None = None,
) -> Any:
    """Open the project an ML-Croissant manifest describes (``copick config export-croissant``), its
    data read-only under the writable ``overlay_root`` (or, without one, written beside the data);
    write the config to ``output_path`` when given."""
    from copick.ops.open import from_croissant as _impl

    return _impl(
        croissant_url,
        overlay_root,
        croissant_base_url,
        overlay_fs_args,
        croissant_fs_args,
        static_fs_args,
        output_path,
    )


def __getattr__(name: str) -> Any:
    if name == "COPICK_TYPES":
        from copick import models as m

        return (
            m.CopickRoot, m.CopickRun, m.CopickVoxelSpacing, m.CopickTomogram, m.CopickFeatures,
            m.CopickPicks, m.CopickMesh, m.CopickSegmentation, m.CopickObject,
        )  # fmt: skip
    if name in _SUBMODULES:
        return importlib.import_module(f"copick.{name}")
    raise AttributeError(f"module 'copick' has no attribute {name!r}")
