"""Annotation files for ``copick check``: picks and filaments JSON, GLB meshes.

A file copick cannot read is an error that ``--fix`` moves to the quarantine folder; a readable file of
an object the config does not know, or whose JSON names another identity than its file name, is a
warning (copick reads it, but other tools may not).
"""

from __future__ import annotations

import json
import struct
from typing import Any

from copick import layout

_QUARANTINE_ACTION = (
    "copick check --fix moves it to the quarantine folder; restore it from a backup or re-create it"
)


def _unreadable(ctx: Any, layer: Any, rel: str, read_only: bool, run: str, code: str, message: str) -> Any:
    action = "fix or replace it in the read-only static layer" if read_only else _QUARANTINE_ACTION
    repair = None if read_only else ("quarantine", layer, rel)
    return ctx.finding("error", code, layer, rel, message, action, run=run, repair=repair)


def _unknown_object(ctx: Any, layer: Any, rel: str, run: str, object_name: str) -> list:
    if object_name in ctx.objects:
        return []
    return [
        ctx.finding(
            "warning",
            "unknown-object",
            layer,
            rel,
            f"object {object_name!r} is not a pickable object of the config",
            f"add {object_name!r} to the config's pickable_objects (copick add object), or delete the file",
            run=run,
        )
    ]


def check_annotation(ctx: Any, layer: Any, rel: str, read_only: bool, run: str) -> list:
    """Findings of one picks, filaments or mesh file."""
    folder, name = rel.rsplit("/", 2)[-2:]
    ext = ".glb" if folder == layout.MESHES_DIR else ".json"
    ident = layout.parse_annotation_file_name(name, ext)
    try:
        data = layer.read_bytes(rel)
    except OSError as err:
        return [_unreadable(ctx, layer, rel, read_only, run, "unreadable", f"cannot read the file: {err}")]
    if folder == layout.MESHES_DIR:
        problem = glb_problem(data)
        code = "mesh-unreadable"
    elif folder == layout.FILAMENTS_DIR:
        problem = _filaments_problem(data)
        code = "filaments-unreadable"
    else:
        problem, code = _picks_problem(data)
    if problem is not None:
        return [_unreadable(ctx, layer, rel, read_only, run, code, problem)]
    found = _unknown_object(ctx, layer, rel, run, ident.object_name)
    if folder != layout.MESHES_DIR:
        found += _identity_mismatch(ctx, layer, rel, run, data, ident)
    return found


def _picks_problem(data: bytes) -> tuple[str | None, str]:
    """``(what is wrong, code)`` of a picks file, ``(None, "")`` when copick reads it."""
    from copick.errors import CorruptFileError, InvalidDataError
    from copick.formats import picks_json

    try:
        _header, points = picks_json.decode(data, "file")
        arrays = picks_json.arrays_from_json(points, "file")
        picks_json._require_finite(arrays)
    except InvalidDataError as err:
        return f"non-finite numbers: {str(err).removeprefix('file: ')}", "picks-non-finite"
    except (CorruptFileError, ValueError) as err:
        text = str(err).removeprefix("file: ")
        try:  # Python's json reads NaN and Infinity, which JSON (and copick) does not
            json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return f"not a readable picks file: {text}", "picks-unreadable"
        if b"NaN" in data or b"Infinity" in data:
            return "non-finite numbers (NaN or Infinity), which JSON cannot hold", "picks-non-finite"
        return f"not a readable picks file: {text}", "picks-unreadable"
    return None, ""


def _filaments_problem(data: bytes) -> str | None:
    from copick.filament_models import CopickFilamentsFile

    try:
        CopickFilamentsFile.model_validate(json.loads(data))
    except (ValueError, UnicodeDecodeError) as err:
        return f"not a readable filaments file: {str(err).splitlines()[0]}"
    return None


def glb_problem(data: bytes) -> str | None:
    """What makes ``data`` not a loadable GLB (header, chunk lengths, JSON, then trimesh), or None."""
    if len(data) < 20 or data[:4] != b"glTF":
        return "not a GLB file (no 'glTF' header)"
    _magic, version, length = struct.unpack_from("<4sII", data)
    if version != 2:
        return f"GLB version {version}; copick reads glTF 2.0"
    if length != len(data):
        return f"truncated or padded GLB: the header says {length} bytes, the file has {len(data)}"
    chunk_length, chunk_type = struct.unpack_from("<I4s", data, 12)
    if chunk_type != b"JSON" or 20 + chunk_length > len(data):
        return "GLB without a readable JSON chunk"
    try:
        gltf = json.loads(data[20 : 20 + chunk_length])
    except ValueError as err:
        return f"GLB JSON chunk is not valid JSON ({err})"
    at = 20 + chunk_length
    binary = 0
    if at + 8 <= len(data):
        binary, bin_type = struct.unpack_from("<I4s", data, at)
        if bin_type != b"BIN\x00" or at + 8 + binary > len(data):
            return "GLB binary chunk is damaged"
    try:
        for i, view in enumerate(gltf.get("bufferViews", [])):
            if view.get("byteOffset", 0) + view["byteLength"] > binary:
                return f"GLB bufferView {i} reaches past the end of the binary chunk"
        for i, accessor in enumerate(gltf.get("accessors", [])):
            if accessor.get("bufferView", 0) >= len(gltf.get("bufferViews", [])) and accessor.get("count"):
                return f"GLB accessor {i} names a missing bufferView"
    except (AttributeError, KeyError, TypeError) as err:
        return f"GLB JSON chunk is not glTF ({err!r})"
    return None


def _identity_mismatch(ctx: Any, layer: Any, rel: str, run: str, data: bytes, ident: Any) -> list:
    """A JSON whose object/user/session fields differ from its file name (copick goes by the name)."""
    try:
        import orjson

        doc = orjson.loads(data)
    except ValueError:
        return []
    fields = {
        "pickable_object_name": ident.object_name,
        "user_id": ident.user_id,
        "session_id": ident.session_id,
    }
    differ = [f"{k} {doc.get(k)!r}" for k, v in fields.items() if isinstance(doc, dict) and doc.get(k) != v]
    if not differ:
        return []
    return [
        ctx.finding(
            "warning",
            "identity-mismatch",
            layer,
            rel,
            f"the file says {', '.join(differ)}, its name says "
            f"{ident.object_name}:{ident.user_id}/{ident.session_id}; copick goes by the name",
            "rename the file, or store it again through copick to rewrite its fields",
            run=run,
        )
    ]
