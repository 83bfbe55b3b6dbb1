"""Pickable objects a sync needs: added to the target project (and its config file) from the source,
through ``copick.util.sync.ensure_pickable_objects`` (the one implementation)."""

from __future__ import annotations

from typing import Any

from copick.ops.report import SyncReport
from copick.util.sync import ensure_pickable_objects

__all__ = ["ensure_objects"]


def ensure_objects(
    source: Any, target: Any, needed: dict[str, str], config_path: str | None, report: SyncReport
) -> None:
    """Add every target object name in ``needed`` ({target name: source name}) missing from the target,
    and record the added names in ``report``."""
    missing = {t: s for t, s in needed.items() if target.get_object(t) is None}
    if not missing:
        return
    renames = {s: t for t, s in missing.items()}
    ensure_pickable_objects(source, target, config_path, list(renames), renames, log=True)
    report.added_objects.extend(t for t in missing if target.get_object(t) is not None)
