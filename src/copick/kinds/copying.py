"""How an entity's content is copied: annotation files through their models, images as file trees."""

from __future__ import annotations

import os
import posixpath
import shutil
import uuid
from typing import Any

__all__ = ["copy_annotation_model", "copy_file", "copy_image_tree", "copy_json_document", "copy_tree"]


def copy_annotation_model(source: Any, target: Any, identity: dict[str, Any]) -> None:
    """Copy a JSON annotation file (picks, filaments): the source file model with the target's
    identity (and run) written into it, so every header field and point travels."""
    model = source.load()
    update = {
        "pickable_object_name": identity["object_name"],
        "user_id": identity["user_id"],
        "session_id": identity["session_id"],
    }
    if "run_name" in type(model).model_fields:
        update["run_name"] = target.run.name
    target.meta = model.model_copy(update=update)
    target.store()


def copy_json_document(source: Any, target: Any, identity: dict[str, Any]) -> None:
    """Copy a JSON annotation file (filaments) as its document, with the target's identity written into
    it: every other key (curves, radii, metadata ...) travels unchanged."""
    import json

    document = json.loads(source._layer.read_bytes(source._blob_path))
    document.update(
        pickable_object_name=identity["object_name"],
        user_id=identity["user_id"],
        session_id=identity["session_id"],
    )
    if "run_name" in document:
        document["run_name"] = target.run.name
    target._storage.overlay.write_bytes(target._relpath, json.dumps(document, indent=2).encode())
    target.refresh()


def copy_file(source: Any, target: Any, identity: dict[str, Any]) -> None:
    """Copy an annotation file whose content holds no identity (meshes): the bytes, unchanged."""
    target._storage.overlay.write_bytes(target._relpath, source._layer.read_bytes(source._blob_path))
    target.refresh()


def copy_image_tree(source: Any, target: Any, identity: dict[str, Any]) -> None:
    """Copy an OME-Zarr image (every level, attribute and hidden file) onto a new image entity."""
    copy_tree(source._layer, source._blob_path, target._storage.overlay, target._relpath)


def copy_tree(src_layer: Any, src_rel: str, dst_layer: Any, dst_rel: str) -> None:
    """Replace the folder ``dst_rel`` with a copy of every file under ``src_rel`` (hidden ones included).

    On local disks the copy is made beside the target and swapped in with renames, so a crash never
    leaves a half-copied store under the target name.
    """
    if src_layer.is_local and dst_layer.is_local:
        src_path, dst_path = src_layer.path(src_rel), dst_layer.path(dst_rel)
        parent, name = os.path.split(dst_path.rstrip("/"))
        tmp = os.path.join(parent, f".{name}.copy-{uuid.uuid4().hex[:8]}")
        shutil.copytree(src_path, tmp)
        if os.path.lexists(dst_path):
            old = os.path.join(parent, f".{name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(dst_path, old)
            os.rename(tmp, dst_path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, dst_path)
        if hasattr(dst_layer, "forget_prefetch"):
            dst_layer.forget_prefetch(dst_rel)
        return
    base = src_layer.path(src_rel).rstrip("/")
    files = sorted(src_layer.fs.find(base))
    if dst_layer.exists(dst_rel):
        dst_layer.delete(dst_rel)
    for path in files:
        rel = posixpath.relpath(path.rstrip("/"), base)
        dst_layer.write_bytes(
            posixpath.join(dst_rel, rel), src_layer.read_bytes(posixpath.join(src_rel, rel))
        )
