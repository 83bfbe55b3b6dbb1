"""``copick report``: a static HTML page of a project (one ``index.html`` plus PNG thumbnails).

Objects with colours, labels and identifier links (``copick.util.ontology``), per-run thumbnails (the
central slice of a tomogram with the run's picks, ``copick.ops.show``), annotation counts per
object/user/session, tomogram shapes and voxel sizes, and the findings of ``copick check``. Runs are
read and thumbnails rendered in parallel threads (or in the processes or on the Dask cluster of the
command's ``--executor``: ``collect_run_task``); a thumbnail is named by a hash of what it shows
(image metadata, chunk listing, picks file contents, colours), so an unchanged run is not rendered
again. Jinja2 fills the template (``copick/templates/report.html.j2``); the page has no JavaScript.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from typing import Any

from copick.entities.base import locator_of, stored_bytes

__all__ = ["collect_run", "collect_run_task", "write_report"]

THUMB_SIZE = 320
_RENDER_VERSION = "1"


def _tomogram_info(tomogram: Any) -> dict[str, Any]:
    from copick.ops.show import level_shapes

    try:
        shapes = level_shapes(tomogram)
    except (OSError, ValueError, KeyError) as err:
        return {"type": tomogram.tomo_type, "shape": None, "levels": 0, "error": str(err)}
    return {"type": tomogram.tomo_type, "shape": list(shapes[0]), "levels": len(shapes), "error": None}


def _thumbnail_tomogram(run: Any) -> Any:
    """The tomogram a run's thumbnail shows: of the largest voxel size (least to read), first type."""
    for vs in sorted(run.voxel_spacings, key=lambda v: -float(v.voxel_size)):
        tomograms = sorted(vs.tomograms, key=lambda t: t.tomo_type)
        if tomograms:
            return tomograms[0]
    return None


def _content_key(tomogram: Any, picks_bytes: list[bytes], objects: list[dict[str, Any]]) -> str:
    """A hash of everything a thumbnail shows: image metadata and chunk listing, picks, colours."""
    digest = hashlib.sha1(_RENDER_VERSION.encode())
    layer, rel = locator_of(tomogram)[:2]
    digest.update(layer.read_bytes(f"{rel}/.zattrs"))
    path = layer.path(rel)
    for name, info in sorted(layer.fs.find(path, detail=True).items()):
        stamp = info.get("mtime") or info.get("LastModified") or info.get("ETag") or ""
        digest.update(f"{name[len(path) :]}|{info.get('size')}|{stamp}".encode())
    for data in picks_bytes:
        digest.update(hashlib.sha1(data).digest())
    digest.update(json.dumps(objects, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def _thumbnail(
    run: Any, tomogram: Any, out_dir: str, objects: list[dict[str, Any]]
) -> tuple[str | None, str | None]:
    """``(relative PNG path, error)`` of the run's thumbnail, rendered unless cached."""
    from copick.ops.show import render

    picks = list(run.picks)
    try:
        picks_bytes = [stored_bytes(p) for p in picks]
        key = _content_key(tomogram, picks_bytes, objects)
        rel = f"thumbs/{key}.png"
        path = os.path.join(out_dir, rel)
        if not os.path.exists(path):
            image = render(tomogram, picks, min_size=THUMB_SIZE, max_size=THUMB_SIZE * 2)
            from PIL import Image

            picture = Image.fromarray(image)
            picture.thumbnail((THUMB_SIZE, THUMB_SIZE + 40))
            tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
            picture.save(tmp, format="PNG")
            os.replace(tmp, path)
        return rel, None
    except Exception as err:  # a broken tomogram gets a note instead of a picture
        return None, f"{type(err).__name__}: {err}"


def collect_run(run: Any, out_dir: str | None, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the page shows about one run (and its thumbnail, when ``out_dir`` is given)."""
    picks_rows, errors = [], []
    for p in run.picks:
        try:
            n = len(p.numpy()[0])
        except (OSError, ValueError) as err:
            n = 0
            errors.append(f"picks {p.pickable_object_name}:{p.user_id}/{p.session_id}: {err}")
        picks_rows.append(
            {"object": p.pickable_object_name, "user": p.user_id, "session": p.session_id, "points": n}
        )
    spacings = []
    for vs in sorted(run.voxel_spacings, key=lambda v: float(v.voxel_size)):
        tomograms = [_tomogram_info(t) for t in sorted(vs.tomograms, key=lambda t: t.tomo_type)]
        spacings.append({"voxel_size": float(vs.voxel_size), "tomograms": tomograms})
    segmentations = [
        {
            "name": s.name,
            "type": s.segmentation_type,
            "user": s.user_id,
            "session": s.session_id,
            "voxel_size": float(s.voxel_size),
        }
        for s in run.segmentations
    ]
    meshes = [
        {"object": m.pickable_object_name, "user": m.user_id, "session": m.session_id} for m in run.meshes
    ]
    thumb, thumb_error = None, None
    tomogram = _thumbnail_tomogram(run)
    if out_dir is not None and tomogram is not None:
        thumb, thumb_error = _thumbnail(run, tomogram, out_dir, objects)
    by_object = Counter()
    for row in picks_rows:
        by_object[row["object"]] += row["points"]
    return {
        "name": run.name,
        "picks": sorted(picks_rows, key=lambda r: (r["object"], r["user"], r["session"])),
        "points": sum(r["points"] for r in picks_rows),
        "points_by_object": dict(sorted(by_object.items())),
        "spacings": spacings,
        "segmentations": sorted(segmentations, key=lambda s: (s["name"], s["user"], s["session"])),
        "meshes": meshes,
        "thumbnail": thumb,
        "thumbnail_tomogram": f"{tomogram.tomo_type}@{float(tomogram.voxel_spacing.voxel_size):g}"
        if tomogram
        else None,
        "errors": errors + ([f"thumbnail: {thumb_error}"] if thumb_error else []),
    }


def collect_run_task(root: Any, run: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``collect_run`` of the run named ``run`` (``kwargs``: ``out_dir``, ``objects``): the per-run work
    of ``write_report``, in its threads or in the processes or Dask workers of the command's
    ``--executor`` (module-level, plain data in and out)."""
    return collect_run(root.get_run(run), kwargs["out_dir"], kwargs["objects"])


def _objects(root: Any) -> list[dict[str, Any]]:
    from copick.util.ontology import identifier_links

    rows = []
    for o in root.config.pickable_objects:
        color = list(o.color) if o.color is not None else [100, 100, 100, 255]
        rows.append(
            {
                "name": o.name,
                "label": o.label,
                "is_particle": o.is_particle,
                "radius": o.radius,
                "color": color,
                "css": f"rgba({color[0]}, {color[1]}, {color[2]}, {color[3] / 255:.3g})",
                "links": [
                    {"text": i.accession, "namespace": i.namespace, "url": i.url} for i in identifier_links(o)
                ],
                "identifiers": [v for v in (o.identifier, o.emdb_id, o.pdb_id) if v],
            }
        )
    return rows


def _annotation_table(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points and pick sets per (object, user, session) over all runs."""
    table: dict[tuple, dict[str, Any]] = {}
    for run in runs:
        for row in run["picks"]:
            key = (row["object"], row["user"], row["session"])
            entry = table.setdefault(
                key, {"object": key[0], "user": key[1], "session": key[2], "sets": 0, "points": 0}
            )
            entry["sets"] += 1
            entry["points"] += row["points"]
    return [table[k] for k in sorted(table)]


def write_report(
    root: Any, out_dir: str, workers: int = 8, check: bool = True, runs: list[str] | None = None
) -> str:
    """Write ``out_dir/index.html`` (and ``out_dir/thumbs/*.png``) for ``root``; returns the page's path.

    ``check`` adds the findings of ``copick check`` (config path taken from ``root`` when it is a path).
    """
    import jinja2

    import copick
    from copick.ops.run import run_all

    os.makedirs(os.path.join(out_dir, "thumbs"), exist_ok=True)
    objects = _objects(root)
    selected = [r for r in root.runs if runs is None or r.name in runs]
    shared = {"out_dir": os.path.abspath(out_dir), "objects": objects}
    run_rows = run_all(collect_run_task, root, [r.name for r in selected], [shared] * len(selected), workers)
    findings = None
    if check:
        from copick.ops.check import check_project

        findings = check_project(root, runs=[r.name for r in selected] if runs else None, workers=workers)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("copick", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    page = env.get_template("report.html.j2").render(
        project={"name": root.config.name, "description": root.config.description},
        version=copick.__version__,
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        objects=objects,
        runs=run_rows,
        annotations=_annotation_table(run_rows),
        totals={
            "runs": len(run_rows),
            "pick_sets": sum(len(r["picks"]) for r in run_rows),
            "points": sum(r["points"] for r in run_rows),
            "segmentations": sum(len(r["segmentations"]) for r in run_rows),
            "meshes": sum(len(r["meshes"]) for r in run_rows),
            "tomograms": sum(len(s["tomograms"]) for r in run_rows for s in r["spacings"]),
        },
        check=findings,
    )
    index = os.path.join(out_dir, "index.html")
    tmp = f"{index}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, index)
    return index
