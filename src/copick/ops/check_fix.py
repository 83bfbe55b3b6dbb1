"""``copick check --fix``: what may be repaired without losing anything, and nothing else.

* leftovers of dead writers (temporary files, staging folders, locks) are removed; an image switch a
  killed writer left half done on an object store is finished (``staging.tidy``);
* empty entity folders (an empty ``Picks/``, an image store that was never written) are removed;
* unreadable annotation files are *moved* to ``.copick-quarantine/<UTC time>/<their path>`` in the
  overlay (hidden, so never listed), where they can be inspected or restored.

Only findings of the writable overlay carry a repair; the static layer is never touched.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from copick import layout, staging
from copick.entities.base import storage_of

QUARANTINE_DIR = ".copick-quarantine"


def apply_fixes(root: Any, findings: list) -> str | None:
    """Apply the repairs of ``findings`` (recording what was done in ``finding.fixed``) to the layers of
    ``root`` (a repair names its layer by position, ``check_context``); the quarantine folder used, or
    None."""
    storage = storage_of(root)
    layers, overlay = list(storage.layers()), storage.overlay
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    quarantine = layout.join(QUARANTINE_DIR, stamp)
    used = False
    # leftovers first: an empty folder may hold nothing but a leftover
    for finding in sorted(findings, key=lambda f: f.code == "empty-folder"):
        if finding.repair is None:
            continue
        how, at, rel = finding.repair
        layer = layers[at][0]
        if layer is not overlay or layer.read_only:
            continue
        try:
            if how == "delete":
                layer.discard(rel)
                finding.fixed = "removed"
            elif how == "tidy":
                image, staged = rel
                finished = staging.tidy(layer, image)
                layer.discard(staged)
                finding.fixed = "finished the interrupted image switch" if finished else "removed"
            elif how == "quarantine":
                target = layout.join(quarantine, rel)
                _move(layer, rel, target)
                used = True
                finding.fixed = f"moved to {layer.located(target)}"
        except OSError as err:
            finding.fixed = f"not fixed: {err}"
    return overlay.located(quarantine) if used else None


def _move(layer: Any, rel: str, target: str) -> None:
    """Move a file within a layer: a rename on local disks, copy then delete elsewhere."""
    if layer.is_local:
        destination = layer.path(target)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        os.replace(layer.path(rel), destination)
        with contextlib.suppress(OSError):  # the folder the move emptied (never a non-empty one)
            os.rmdir(os.path.dirname(layer.path(rel)))
        return
    layer.copy_files([(rel, target)])
    layer.delete(rel)
