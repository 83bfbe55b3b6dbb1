"""Copy, move and delete copick objects selected by URIs (the back-end of ``copick cp``/``mv``/``rm``).

A source URI may be a pattern (glob, or ``re:`` regex); the target URI may then use the placeholders
``{object_name}``/``{name}``, ``{user_id}``, ``{session_id}`` and ``{voxel_spacing}``, filled from each
matched source. Target parts left out (or ``*``) are taken from the source. Two sources that would be
written to the same target are both refused (no silent overwrite), as is a copy onto itself.

Every function returns a dict: ``matched`` (objects selected), ``processed`` (done without error),
``copied``/``moved``/``deleted`` (``{"run", "source", "target"}`` or ``{"run", "uri"}`` entries) and
``errors`` (one line each). ``*_per_run`` work on one run; ``*_batch`` spread runs over threads.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import string
import uuid
from typing import Any

from copick.errors import CopickError, EntityExistsError, ReadOnlyError

__all__ = [
    "COPYABLE_TYPES",
    "REMOVABLE_TYPES",
    "copy_copick_objects",
    "copy_copick_objects_batch",
    "copy_copick_objects_per_run",
    "move_copick_objects",
    "move_copick_objects_batch",
    "move_copick_objects_per_run",
    "remove_copick_objects",
    "remove_copick_objects_batch",
    "remove_copick_objects_per_run",
    "validate_transfer",
]

_log = logging.getLogger(__name__)

COPYABLE_TYPES = ("picks", "filaments", "mesh", "segmentation")
REMOVABLE_TYPES = ("picks", "filaments", "mesh", "segmentation", "tomogram", "feature")
_PLACEHOLDERS = ("object_name", "name", "user_id", "session_id", "voxel_spacing")
_SEG_FLAGS = ("multilabel", "instance", "panoptic")


class UnsupportedObjectTypeError(CopickError, ValueError):
    """An object type that this operation (or this copick) cannot handle."""


# --------------------------------------------------------------------------------------------------------
# Validation and target URIs
# --------------------------------------------------------------------------------------------------------


def _check_type(object_type: str, allowed: tuple[str, ...], action: str) -> None:
    if object_type not in allowed:
        raise UnsupportedObjectTypeError(
            f"Cannot {action} objects of type {object_type!r}; expected one of {', '.join(allowed)}."
        )


def _check_supported(root: Any, object_type: str) -> None:
    """Filaments are part of the URI grammar but not yet of this copick's entities."""
    if object_type == "filaments":
        runs = root.runs
        if runs and not hasattr(runs[0], "filaments"):
            raise UnsupportedObjectTypeError("Filaments are not supported by this copick yet.")


def _placeholders(template: str) -> list[str]:
    """Names of the ``{...}`` fields of ``template`` (a malformed brace is an error)."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as err:
        raise _invalid(f"Target URI {template!r} has unbalanced braces: {err}") from None


def _invalid(message: str) -> Exception:
    from copick.util.uri import InvalidURIError

    return InvalidURIError(message)


def validate_transfer(object_type: str, source_uri: str, target_uri: str | None = None) -> None:
    """Check an object type, a source URI and (for cp/mv) a target URI before any work is done."""
    allowed = COPYABLE_TYPES if target_uri is not None else REMOVABLE_TYPES
    _check_type(object_type, allowed, "copy or move" if target_uri is not None else "remove")
    _check_source(source_uri, object_type)
    if target_uri is not None:
        _check_target(target_uri, object_type)


def _check_source(uri: str, object_type: str) -> None:
    """Parse a source URI now, so a malformed one fails once instead of once per run."""
    from copick.util.uri import parse_copick_uri

    parse_copick_uri(uri, object_type)


def _check_target(target_uri: str, object_type: str) -> None:
    """Reject a target URI that is a pattern, uses unknown placeholders or does not parse."""
    from copick.ops.names import check_name_of
    from copick.util.uri import is_pattern_uri, parse_copick_uri

    unknown = [f for f in _placeholders(target_uri) if f not in _PLACEHOLDERS]
    if unknown:
        raise _invalid(
            f"Unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)} in target URI "
            f"{target_uri!r}; allowed: {', '.join('{' + p + '}' for p in _PLACEHOLDERS)}."
        )
    sample = target_uri.format(**{p: "x" if p != "voxel_spacing" else "10.0" for p in _PLACEHOLDERS})
    if is_pattern_uri(sample):
        raise _invalid(f"Target URI {target_uri!r} must not be a pattern (no '*', '?', '[' or 're:').")
    parts = parse_copick_uri(sample, object_type)
    name = ("name", "segmentation") if object_type == "segmentation" else ("object_name", "object")
    for key, kind in (name, ("user_id", "user"), ("session_id", "session")):
        if parts[key] != "*":  # a name that no placeholder filling can make valid fails now, not per run
            try:
                check_name_of(kind, parts[key])
            except ValueError as err:
                raise _invalid(f"Target URI {target_uri!r}: {err}") from None


def _source_fields(obj: Any, object_type: str) -> dict[str, Any]:
    """Identity fields of a matched source object (placeholder values and defaults of the target)."""
    if object_type == "segmentation":
        name = obj.name
        fields = {"voxel_spacing": str(float(obj.voxel_size)), "segmentation_type": obj.segmentation_type}
    else:
        name = obj.pickable_object_name
        fields = {}
    return {"object_name": name, "name": name, "user_id": obj.user_id, "session_id": obj.session_id, **fields}


def _target_identity(target_uri: str, source: dict[str, Any], object_type: str) -> dict[str, Any]:
    """The identity of the target of one source: placeholders filled, missing parts from the source."""
    from copick.util.uri import parse_copick_uri

    filled = target_uri.format(**{key: source[key] for key in _PLACEHOLDERS if key in source})
    parts = parse_copick_uri(filled, object_type)
    name_key = "name" if object_type == "segmentation" else "object_name"

    def pick(key: str, source_key: str) -> Any:
        value = parts.get(key)
        return source[source_key] if value in (None, "*") else value

    target = {
        "name": pick(name_key, "name"),
        "user_id": pick("user_id", "user_id"),
        "session_id": pick("session_id", "session_id"),
    }
    if object_type == "segmentation":
        vs = parts.get("voxel_spacing")
        target["voxel_spacing"] = float(source["voxel_spacing"] if vs in (None, "*") else vs)
        stated = [flag for flag in _SEG_FLAGS if parts.get(flag)]
        if stated:
            target["segmentation_type"] = stated[0]
        elif parts.get("multilabel") is False:
            target["segmentation_type"] = "binary"
        else:
            target["segmentation_type"] = source["segmentation_type"]
    return target


def _describe(identity: dict[str, Any], object_type: str) -> str:
    """The URI of a target identity."""
    uri = f"{identity['name']}:{identity['user_id']}/{identity['session_id']}"
    if object_type == "segmentation":
        uri += f"@{float(identity['voxel_spacing'])}"
        if identity["segmentation_type"] != "binary":
            uri += f"?{identity['segmentation_type']}=true"
    return uri


# --------------------------------------------------------------------------------------------------------
# Copying one object
# --------------------------------------------------------------------------------------------------------


def _copy_picks(run: Any, src: Any, target: dict[str, Any], overwrite: bool) -> None:
    """Write the points (and header fields) of ``src`` as the target pick set of ``run``."""
    ids = {"object_name": target["name"], "user_id": target["user_id"], "session_id": target["session_id"]}
    if run.get_picks(**ids) and not overwrite:
        raise EntityExistsError(
            f"Picks for {target['name']} by user/tool {target['user_id']} already exist in session "
            f"{target['session_id']} (use overwrite)."
        )
    positions, transforms = src.numpy()
    instance_ids, scores = src.instance_ids(), src.scores()
    header = {key: getattr(src._meta, key, None) for key in ("unit", "voxel_spacing", "trust_orientation")}
    dst = run.new_picks(target["name"], target["session_id"], target["user_id"], exist_ok=True)
    if dst.read_only:
        raise ReadOnlyError(f"Target picks {_describe(target, 'picks')} are in the read-only static layer.")
    for key, value in header.items():
        if value is not None:
            setattr(dst._meta, key, value)
    dst.from_numpy(positions, transforms, instance_ids, scores)


def _copy_mesh(run: Any, src: Any, target: dict[str, Any], overwrite: bool) -> None:
    """Copy the GLB bytes of ``src`` to the target mesh of ``run``."""
    ids = {"object_name": target["name"], "user_id": target["user_id"], "session_id": target["session_id"]}
    if run.get_meshes(**ids) and not overwrite:
        raise EntityExistsError(
            f"Mesh for {target['name']} by user/tool {target['user_id']} already exist in session "
            f"{target['session_id']} (use overwrite)."
        )
    data = src._layer.read_bytes(src._relpath)
    dst = run.new_mesh(target["name"], target["session_id"], target["user_id"], exist_ok=True)
    if dst.read_only:
        raise ReadOnlyError(f"Target mesh {_describe(target, 'mesh')} is in the read-only static layer.")
    dst._storage.overlay.write_bytes(dst._relpath, data)
    dst._mesh = None


def _copy_segmentation(run: Any, src: Any, target: dict[str, Any], overwrite: bool) -> None:
    """Copy the zarr store of ``src`` (every file, unchanged) to the target segmentation of ``run``."""
    src_type, dst_type = src.segmentation_type, target["segmentation_type"]
    if (src_type == "panoptic") != (dst_type == "panoptic"):
        raise ValueError(
            f"Cannot copy a {src_type} segmentation as a {dst_type} one (different data layout)."
        )
    if abs(float(src.voxel_size) - target["voxel_spacing"]) > 1e-9:
        raise ValueError(
            f"Cannot copy a segmentation from voxel spacing {float(src.voxel_size)} to "
            f"{target['voxel_spacing']}: copying does not resample."
        )
    flags = {
        "is_multilabel": dst_type == "multilabel",
        "is_instance": dst_type == "instance",
        "is_panoptic": dst_type == "panoptic",
    }
    existing = run.get_segmentations(
        user_id=target["user_id"],
        session_id=target["session_id"],
        name=target["name"],
        voxel_size=target["voxel_spacing"],
        **flags,
    )
    if existing and not overwrite:
        raise EntityExistsError(
            f"A {dst_type} segmentation by user/tool {target['user_id']} already exists in session "
            f"{target['session_id']} with name {target['name']} and voxel size of "
            f"{target['voxel_spacing']} (use overwrite)."
        )
    dst = run.new_segmentation(
        target["voxel_spacing"],
        target["name"],
        target["session_id"],
        user_id=target["user_id"],
        exist_ok=True,
        **flags,
    )
    if dst.read_only:
        raise ReadOnlyError(f"Target {_describe(target, 'segmentation')} is in the read-only static layer.")
    _copy_tree(src._layer, src._relpath, dst._storage.overlay, dst._relpath)


def _copy_tree(src_layer: Any, src_rel: str, dst_layer: Any, dst_rel: str) -> None:
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


_COPIERS = {"picks": _copy_picks, "mesh": _copy_mesh, "segmentation": _copy_segmentation}


# --------------------------------------------------------------------------------------------------------
# Per run
# --------------------------------------------------------------------------------------------------------


def _resolve(run: Any, object_type: str, uri: str) -> list[Any]:
    """Objects of ``run`` selected by ``uri``."""
    from copick.util.uri import get_copick_objects_by_type, parse_copick_uri

    parts = parse_copick_uri(uri, object_type)
    filters = {key: value for key, value in parts.items() if key != "object_type"}
    return get_copick_objects_by_type(run.root, object_type, run.name, **filters)


def _empty_result(run: Any, key: str) -> dict[str, Any]:
    return {"run": run.name, "matched": 0, "processed": 0, key: [], "errors": []}


def _transfer_per_run(
    run: Any, object_type: str, source_uri: str, target_uri: str, overwrite: bool, move: bool, log: bool
) -> dict[str, Any]:
    """Copy (or move) every object of ``run`` matched by ``source_uri`` to its target."""
    from copick.util.uri import serialize_copick_uri

    key = "moved" if move else "copied"
    result = _empty_result(run, key)
    sources = _resolve(run, object_type, source_uri)
    result["matched"] = len(sources)
    plans = []
    for src in sources:
        fields = _source_fields(src, object_type)
        plans.append(
            (src, serialize_copick_uri(src), _target_identity(target_uri, fields, object_type), fields)
        )
    by_target: dict[str, list[str]] = {}
    for _, src_uri, target, _ in plans:
        by_target.setdefault(_describe(target, object_type), []).append(src_uri)

    for src, src_uri, target, fields in plans:
        target_text = _describe(target, object_type)
        prefix = f"{run.name}: {src_uri} -> {target_text}"
        clashing = by_target[target_text]
        same = target_text == _describe(fields, object_type)
        try:
            if len(clashing) > 1:
                raise ValueError(
                    f"{len(clashing)} sources ({', '.join(clashing)}) would all be written to this target; "
                    "use placeholders such as {session_id} in the target URI."
                )
            if same:
                raise ValueError("source and target are the same object.")
            if move and src.read_only:
                raise ReadOnlyError(
                    "the source is in the read-only static layer and cannot be moved (use cp)."
                )
            _COPIERS[object_type](run, src, target, overwrite)
            if move:
                src.delete()
        except Exception as err:
            _log.debug(f"Failed: {prefix}", exc_info=True)
            result["errors"].append(f"{prefix}: {err}")
            continue
        result["processed"] += 1
        result[key].append({"run": run.name, "source": src_uri, "target": target_text})
        if log:
            _log.info(f"{'Moved' if move else 'Copied'} {prefix}")
    return result


def copy_copick_objects_per_run(
    run: Any, object_type: str, source_uri: str, target_uri: str, overwrite: bool = False, log: bool = False
) -> dict[str, Any]:
    """Copy the objects of one run matched by ``source_uri`` to ``target_uri`` (the source is untouched)."""
    _check_type(object_type, COPYABLE_TYPES, "copy")
    _check_target(target_uri, object_type)
    return _transfer_per_run(run, object_type, source_uri, target_uri, overwrite, False, log)


def move_copick_objects_per_run(
    run: Any, object_type: str, source_uri: str, target_uri: str, overwrite: bool = False, log: bool = False
) -> dict[str, Any]:
    """Move the objects of one run: copy each, then delete its source once the copy succeeded."""
    _check_type(object_type, COPYABLE_TYPES, "move")
    _check_target(target_uri, object_type)
    return _transfer_per_run(run, object_type, source_uri, target_uri, overwrite, True, log)


def remove_copick_objects_per_run(
    run: Any, object_type: str, uri: str, dry_run: bool = False, log: bool = False
) -> dict[str, Any]:
    """Delete the objects of one run matched by ``uri`` (``dry_run``: only list them)."""
    from copick.util.uri import serialize_copick_uri

    _check_type(object_type, REMOVABLE_TYPES, "remove")
    result = _empty_result(run, "deleted")
    result["dry_run"] = dry_run
    objects = _resolve(run, object_type, uri)
    result["matched"] = len(objects)
    for obj in objects:
        obj_uri = serialize_copick_uri(obj)
        entry = {"run": run.name, "uri": obj_uri, "read_only": bool(getattr(obj, "read_only", False))}
        try:
            if entry["read_only"]:
                raise ReadOnlyError("it is in the read-only static layer.")
            if not dry_run:
                obj.delete()
        except Exception as err:
            result["errors"].append(f"{run.name}: {obj_uri}: {err}")
            continue
        result["processed"] += 1
        result["deleted"].append(entry)
        if log:
            _log.info(f"{'Would delete' if dry_run else 'Deleted'} {run.name}: {obj_uri}")
    return result


# --------------------------------------------------------------------------------------------------------
# Whole project (sequential) and batches (threads)
# --------------------------------------------------------------------------------------------------------


def _aggregate(results: dict[str, Any], key: str, total_runs: int) -> dict[str, Any]:
    """Merge per-run results (``None`` = the run failed as a whole) into one summary dict."""
    summary: dict[str, Any] = {
        "total_runs": total_runs,
        "runs_with_matches": 0,
        "matched": 0,
        "processed": 0,
        key: [],
        "errors": [],
        "runs": results,
    }
    for name, result in results.items():
        if result is None:
            summary["errors"].append(f"{name}: the run could not be processed (see the log).")
            continue
        summary["matched"] += result["matched"]
        summary["processed"] += result["processed"]
        summary["runs_with_matches"] += result["matched"] > 0
        summary[key].extend(result[key])
        summary["errors"].extend(result["errors"])
    return summary


def _select_runs(root: Any, run_names: Any) -> list[Any]:
    """Run objects for ``run_names`` (a name or a list; unknown names are an error), or all runs."""
    from copick.util.uri import UnknownRunError

    if run_names is None:
        return list(root.runs)
    names = [run_names] if isinstance(run_names, str) else list(run_names)
    runs = []
    for name in names:
        run = root.get_run(name)
        if run is None:
            raise UnknownRunError(f"Run {name!r} not found in the project.")
        runs.append(run)
    return runs


def _over_runs(
    root: Any,
    run_names: Any,
    worker: Any,
    key: str,
    workers: int,
    desc: str,
    show_progress: bool,
) -> dict[str, Any]:
    from copick.ops.run import map_runs

    runs = _select_runs(root, run_names)
    results = map_runs(worker, root, runs, workers=workers, show_progress=show_progress, task_desc=desc)
    return _aggregate(results, key, len(runs))


def copy_copick_objects_batch(
    root: Any,
    object_type: str,
    source_uri: str,
    target_uri: str,
    run_names: Any = None,
    overwrite: bool = False,
    workers: int = 8,
    log: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Copy matched objects in every selected run, runs spread over ``workers`` threads."""
    _check_type(object_type, COPYABLE_TYPES, "copy")
    _check_source(source_uri, object_type)
    _check_supported(root, object_type)
    _check_target(target_uri, object_type)

    def worker(run: Any) -> dict[str, Any]:
        return _transfer_per_run(run, object_type, source_uri, target_uri, overwrite, False, log)

    return _over_runs(root, run_names, worker, "copied", workers, "Copying objects", show_progress)


def move_copick_objects_batch(
    root: Any,
    object_type: str,
    source_uri: str,
    target_uri: str,
    run_names: Any = None,
    overwrite: bool = False,
    workers: int = 8,
    log: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Move matched objects in every selected run, runs spread over ``workers`` threads."""
    _check_type(object_type, COPYABLE_TYPES, "move")
    _check_source(source_uri, object_type)
    _check_supported(root, object_type)
    _check_target(target_uri, object_type)

    def worker(run: Any) -> dict[str, Any]:
        return _transfer_per_run(run, object_type, source_uri, target_uri, overwrite, True, log)

    return _over_runs(root, run_names, worker, "moved", workers, "Moving objects", show_progress)


def remove_copick_objects_batch(
    root: Any,
    object_type: str,
    uri: str,
    run_names: Any = None,
    dry_run: bool = False,
    workers: int = 8,
    log: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Delete matched objects in every selected run, runs spread over ``workers`` threads."""
    _check_type(object_type, REMOVABLE_TYPES, "remove")
    _check_source(uri, object_type)
    _check_supported(root, object_type)

    def worker(run: Any) -> dict[str, Any]:
        return remove_copick_objects_per_run(run, object_type, uri, dry_run, log)

    desc = "Listing objects" if dry_run else "Deleting objects"
    result = _over_runs(root, run_names, worker, "deleted", workers, desc, show_progress)
    result["dry_run"] = dry_run
    return result


def copy_copick_objects(
    root: Any,
    object_type: str,
    source_uri: str,
    target_uri: str,
    run_name: str | None = None,
    overwrite: bool = False,
    log: bool = False,
) -> dict[str, Any]:
    """Copy matched objects in one run (``run_name``) or all runs, one run after the other."""
    return copy_copick_objects_batch(
        root,
        object_type,
        source_uri,
        target_uri,
        run_name,
        overwrite,
        workers=1,
        log=log,
        show_progress=False,
    )


def move_copick_objects(
    root: Any,
    object_type: str,
    source_uri: str,
    target_uri: str,
    run_name: str | None = None,
    overwrite: bool = False,
    log: bool = False,
) -> dict[str, Any]:
    """Move matched objects in one run (``run_name``) or all runs, one run after the other."""
    return move_copick_objects_batch(
        root,
        object_type,
        source_uri,
        target_uri,
        run_name,
        overwrite,
        workers=1,
        log=log,
        show_progress=False,
    )


def remove_copick_objects(
    root: Any,
    object_type: str,
    uri: str,
    run_name: str | None = None,
    dry_run: bool = False,
    log: bool = False,
) -> dict[str, Any]:
    """Delete (or with ``dry_run`` list) matched objects in one run or all runs, one run after the other."""
    return remove_copick_objects_batch(
        root, object_type, uri, run_name, dry_run, workers=1, log=log, show_progress=False
    )
