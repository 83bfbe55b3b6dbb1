"""Pickable objects derived from portal annotations (``config dataportal``, ``from_czcdp_datasets``).

One object per distinct ``object_id``, ordered by it (copick 1.31 orders by a salted hash, so its
labels and colours change between processes; ours are stable): name from the annotation's
``object_name``, particle when any annotation of it is a point shape, EMDB / PDB ids from the
publication list, labels 1..N and distinct colours.
"""

from __future__ import annotations

import colorsys
from typing import Any

from copick.portal.catalog import POINT_SHAPES


def object_name(portal_name: str) -> str:
    """``cytosolic ribosome`` -> ``cytosolic-ribosome``: lower case, unsafe characters as ``-``."""
    from copick.util.escape import sanitize_name

    return sanitize_name(portal_name.lower(), suppress_warnings=True)


def _entry(publications: str | None, prefix: str) -> str | None:
    entries = [p.strip() for p in (publications or "").split(",")]
    return next((p for p in entries if p.upper().startswith(prefix)), None)


def colour(index: int) -> tuple[int, int, int, int]:
    """The ``index``-th of a sequence of well-separated colours (golden-ratio hue steps)."""
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75 if index % 2 else 0.55, 0.95)
    return (round(r * 255), round(g * 255), round(b * 255), 255)


def derive_objects(tables: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The pickable objects (as dicts) of the annotations in ``tables``."""
    shapes: dict[int, set[str]] = {}
    for s in tables["annotationShapes"]:
        shapes.setdefault(s["annotationId"], set()).add(s["shapeType"])
    by_object: dict[str, list[dict[str, Any]]] = {}
    for ann in sorted(tables["annotations"], key=lambda a: a["id"]):
        by_object.setdefault(ann["objectId"], []).append(ann)
    objects, used = [], set()
    for label, object_id in enumerate(sorted(by_object), 1):
        anns = by_object[object_id]
        name = object_name(anns[0]["objectName"])
        if name in used:  # two ids of one name: keep names distinct
            name = object_name(f"{name}-{object_id}")
        used.add(name)
        pubs = next((a["annotationPublication"] for a in anns if a.get("annotationPublication")), None)
        pdb = _entry(pubs, "PDB") or (object_id if object_id.upper().startswith("PDB") else None)
        objects.append({
            "name": name, "is_particle": any(shapes.get(a["id"], set()) & set(POINT_SHAPES) for a in anns),
            "label": label, "color": list(colour(label - 1)), "identifier": object_id,
            "emdb_id": _entry(pubs, "EMD"), "pdb_id": pdb, "radius": 50, "map_threshold": None,
        })  # fmt: skip
    return objects
