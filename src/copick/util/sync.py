"""Helpers of ``copick sync`` that plugins import (copick 1.31's ``copick.util.sync``): option parsing
and adding the pickable objects a sync needs to the target project's config."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

_log = logging.getLogger(__name__)

#: Object fields copied from the source object (name, particle flag and label are set separately).
COPIED_FIELDS = ("color", "emdb_id", "pdb_id", "identifier", "map_threshold", "radius", "metadata")


def parse_list(list_str: str | None) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]`` (items stripped; empty or None -> ``[]``)."""
    return [item.strip() for item in list_str.split(",")] if list_str else []


def parse_mapping(mapping_str: str | None) -> dict[str, str]:
    """``"a:b,c:d"`` -> ``{"a": "b", "c": "d"}``; an item without ``:`` maps to itself."""
    out = {}
    for item in parse_list(mapping_str):
        source, _, target = item.partition(":")
        out[source.strip()] = target.strip() if _ else source.strip()
    return out


def parse_dataset_ids(dataset_ids_str: str | None) -> list[int]:
    """``"10001, 10002"`` -> ``[10001, 10002]`` (a non-integer raises ``ValueError``)."""
    return [int(item) for item in parse_list(dataset_ids_str) if item]


def create_dataportal_config(dataset_ids: list[int]) -> str:
    """Write the config of a project over CryoET Data Portal datasets to a temporary file; return its path.

    As copick 1.31: the config (objects derived from the datasets' annotations) goes to a new
    ``<tmp>/copick_sync_config_*.json`` and its overlay is a new empty folder ``<tmp>/copick_sync_*/overlay``
    (``auto_mkdir``); neither is removed (the caller owns them). Unlike 1.31, unknown dataset ids or
    an unreachable portal raise (``ConfigError`` / ``PortalError``) and leave no empty file behind.
    """
    import os
    import shutil
    import tempfile

    from copick.ops.open import from_czcdp_datasets

    overlay_parent = tempfile.mkdtemp(prefix="copick_sync_")
    overlay = os.path.join(overlay_parent, "overlay")
    os.makedirs(overlay)
    fd, path = tempfile.mkstemp(prefix="copick_sync_config_", suffix=".json")
    os.close(fd)
    try:
        from_czcdp_datasets(list(dataset_ids), overlay, {"auto_mkdir": True}, output_path=path)
    except BaseException:
        os.unlink(path)
        shutil.rmtree(overlay_parent, ignore_errors=True)
        raise
    return path


def ensure_pickable_objects(
    source_root: Any,
    target_root: Any,
    target_config_path: str | None,
    source_objects_list: Sequence[str],
    target_objects_dict: Mapping[str, str],
    log: bool = False,
) -> None:
    """Add each listed source object the target lacks (renamed by ``target_objects_dict``) with the
    source's colour, ids, radius and metadata, then save the target config to ``target_config_path``.

    A source label already used in the target is replaced by the next free one; objects missing
    from the source are skipped. Without a config path the objects are added in memory only (warned).
    """
    used = {o.label for o in target_root.pickable_objects if o.label is not None}
    for name in source_objects_list:
        target_name = target_objects_dict.get(name, name)
        source = source_root.get_object(name)
        if source is None or target_root.get_object(target_name) is not None:
            continue
        label = (
            source.label
            if source.label not in used and source.label is not None
            else max(used, default=0) + 1
        )
        fields = {field: getattr(source.meta, field) for field in COPIED_FIELDS}
        obj = target_root.new_object(target_name, source.is_particle, label=label, **fields)
        used.add(obj.label)
        if log:
            _log.info(f"Added pickable object {target_name} (label {obj.label}) to the target config.")
    if target_config_path:
        target_root.save_config(target_config_path)
    else:
        _log.warning("The target config path is unknown: added objects are not saved to its config file.")
