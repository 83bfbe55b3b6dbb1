"""Pickable objects a sync needs: added to the target project (and its config file) from the source."""

from __future__ import annotations

import logging
from typing import Any

from copick.ops.report import SyncReport

__all__ = ["ensure_objects"]

_log = logging.getLogger(__name__)


def ensure_objects(
    source: Any, target: Any, needed: dict[str, str], config_path: str | None, report: SyncReport
) -> None:
    """Add every target object name in ``needed`` ({target name: source name}) missing from the target."""
    missing = {t: s for t, s in needed.items() if target.get_object(t) is None}
    if not missing:
        return
    used = {o.label for o in target.pickable_objects if o.label is not None}
    for target_name, source_name in missing.items():
        src = source.get_object(source_name)
        fields: dict[str, Any] = {}
        label = None
        is_particle = True
        if src is not None:
            meta = src.meta.model_dump()
            is_particle = bool(meta.pop("is_particle", True))
            label = meta.pop("label", None)
            meta.pop("name", None)
            filament = meta.pop("filament", None) if "filament" in meta else None
            fields = {
                k: meta.get(k)
                for k in ("color", "emdb_id", "pdb_id", "identifier", "map_threshold", "radius", "metadata")
            }
            if filament is not None:
                fields["filament"] = filament
        if label in used:
            label = None
        obj = target.new_object(target_name, is_particle, label=label, **fields)
        used.add(obj.label)
        report.added_objects.append(target_name)
        _log.info(f"Added pickable object {target_name} (label {obj.label}) to the target project.")
    if config_path:
        target.save_config(config_path)
    else:
        _log.warning("The target config path is unknown: added objects are not saved to its config file.")
