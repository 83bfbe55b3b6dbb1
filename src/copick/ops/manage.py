"""Copy, move and delete copick objects selected by URIs (the back-end of ``copick cp``/``mv``/``rm``).

A source URI may be a pattern (glob, or ``re:`` regex); the target URI may then use the placeholders
``{object_name}``/``{name}``, ``{user_id}``, ``{session_id}`` and ``{voxel_spacing}``, filled from each
matched source. Target parts left out (or ``*``) are taken from the source. Two sources that would be
written to the same target are both refused (no silent overwrite), as is a copy onto itself. Every
kind of ``copick.kinds`` is handled by the same code: its declaration says how to create and copy.

Every function returns a dict: ``matched`` (objects selected), ``processed`` (done without error),
``copied``/``moved``/``deleted`` (``{"run", "source", "target"}`` or ``{"run", "uri"}`` entries) and
``errors`` (one line each). ``*_per_run`` work on one run; ``*_batch`` spread runs over threads (or
processes, or a Dask cluster: the command's ``--executor``; the per-run functions are what is sent).
"""

from __future__ import annotations

import logging
import string
from collections.abc import Callable
from typing import Any

from copick.errors import CopickError, ReadOnlyError
from copick.kinds import KINDS, Kind, kind_for, transfer
from copick.util.uri import (
    InvalidURIError,
    UnknownRunError,
    get_copick_objects_by_type,
    is_pattern_uri,
    parse_copick_uri,
    serialize_copick_uri,
    serialize_identity,
)

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

COPYABLE_TYPES = tuple(kind.object_type for kind in KINDS if kind.copyable)
REMOVABLE_TYPES = tuple(kind.object_type for kind in KINDS)
_PLACEHOLDERS = ("object_name", "name", "user_id", "session_id", "voxel_spacing")


class UnsupportedObjectTypeError(CopickError, ValueError):
    """An object type that this operation (or this copick) cannot handle."""


# --------------------------------------------------------------------------------------------------------
# Validation and target URIs
# --------------------------------------------------------------------------------------------------------


def _kind(object_type: str, allowed: tuple[str, ...], action: str) -> Kind:
    """The kind of ``object_type`` when ``action`` accepts it, else an error naming the accepted ones."""
    kind = kind_for(object_type)
    if kind is None or object_type not in allowed:
        raise UnsupportedObjectTypeError(
            f"Cannot {action} objects of type {object_type!r}; expected one of {', '.join(allowed)}."
        )
    return kind


def _placeholders(template: str) -> list[str]:
    """Names of the ``{...}`` fields of ``template`` (a malformed brace is an error)."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as err:
        raise InvalidURIError(f"Target URI {template!r} has unbalanced braces: {err}") from None


def validate_transfer(object_type: str, source_uri: str, target_uri: str | None = None) -> None:
    """Check an object type, a source URI and (for cp/mv) a target URI before any work is done."""
    allowed = COPYABLE_TYPES if target_uri is not None else REMOVABLE_TYPES
    _kind(object_type, allowed, "copy or move" if target_uri is not None else "remove")
    parse_copick_uri(source_uri, object_type)
    if target_uri is not None:
        _check_target(target_uri, object_type)


def _check_target(target_uri: str, object_type: str) -> None:
    """Reject a target URI that is a pattern, uses unknown placeholders or does not parse."""
    from copick.ops.names import check_name_of

    unknown = [f for f in _placeholders(target_uri) if f not in _PLACEHOLDERS]
    if unknown:
        raise InvalidURIError(
            f"Unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)} in target URI "
            f"{target_uri!r}; allowed: {', '.join('{' + p + '}' for p in _PLACEHOLDERS)}."
        )
    sample = target_uri.format(**{p: "x" if p != "voxel_spacing" else "10.0" for p in _PLACEHOLDERS})
    if is_pattern_uri(sample):
        raise InvalidURIError(f"Target URI {target_uri!r} must not be a pattern (no '*', '?', '[' or 're:').")
    parts = parse_copick_uri(sample, object_type)
    checked = {"object_name": "object", "name": "segmentation", "user_id": "user", "session_id": "session"}
    for key, name_kind in checked.items():
        if parts.get(key, "*") != "*":  # a name no placeholder filling can make valid fails now, not per run
            try:
                check_name_of(name_kind, parts[key])
            except ValueError as err:
                raise InvalidURIError(f"Target URI {target_uri!r}: {err}") from None


def _placeholder_values(kind: Kind, source: dict[str, Any]) -> dict[str, Any]:
    """Values of the target URI placeholders for one source identity."""
    name = source.get("object_name", source.get("name"))
    values = {"object_name": name, "name": name, "user_id": source.get("user_id")}
    values["session_id"] = source.get("session_id")
    if "voxel_spacing" in source:
        values["voxel_spacing"] = str(float(source["voxel_spacing"]))
    return {key: value for key, value in values.items() if value is not None}


def _target_identity(kind: Kind, target_uri: str, source: dict[str, Any]) -> dict[str, Any]:
    """The identity of the target of one source: placeholders filled, missing parts from the source."""
    filled = target_uri.format(**_placeholder_values(kind, source))
    return kind.target_identity(parse_copick_uri(filled, kind.object_type), source)


def _describe(kind: Kind, identity: dict[str, Any]) -> str:
    """The URI of an identity."""
    return serialize_identity(kind.object_type, identity)


# --------------------------------------------------------------------------------------------------------
# Per run
# --------------------------------------------------------------------------------------------------------


def _resolve(run: Any, object_type: str, uri: str) -> list[Any]:
    """Objects of ``run`` selected by ``uri``."""
    parts = parse_copick_uri(uri, object_type)
    filters = {key: value for key, value in parts.items() if key != "object_type"}
    return get_copick_objects_by_type(run.root, object_type, run.name, **filters)


def _empty_result(run: Any, key: str) -> dict[str, Any]:
    return {"run": run.name, "matched": 0, "processed": 0, key: [], "errors": []}


def _transfer_per_run(
    run: Any, kind: Kind, source_uri: str, target_uri: str, overwrite: bool, move: bool, log: bool
) -> dict[str, Any]:
    """Copy (or move) every object of ``run`` matched by ``source_uri`` to its target."""
    key = "moved" if move else "copied"
    result = _empty_result(run, key)
    sources = _resolve(run, kind.object_type, source_uri)
    result["matched"] = len(sources)
    plans = []
    for src in sources:
        identity = kind.identity(src)
        target = _target_identity(kind, target_uri, identity)
        plans.append((src, serialize_copick_uri(src), target, _describe(kind, target)))
    by_target: dict[str, list[str]] = {}
    for _, src_uri, _, target_text in plans:
        by_target.setdefault(target_text, []).append(src_uri)

    for src, src_uri, target, target_text in plans:
        prefix = f"{run.name}: {src_uri} -> {target_text}"
        clashing = by_target[target_text]
        try:
            if len(clashing) > 1:
                raise ValueError(
                    f"{len(clashing)} sources ({', '.join(clashing)}) would all be written to this target; "
                    "use placeholders such as {session_id} in the target URI."
                )
            if target_text == _describe(kind, kind.identity(src)):
                raise ValueError("source and target are the same object.")
            if move and src.read_only:
                raise ReadOnlyError(
                    "the source is in the read-only static layer and cannot be moved (use cp)."
                )
            transfer(kind, run, src, target, overwrite)
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
    kind = _kind(object_type, COPYABLE_TYPES, "copy")
    _check_target(target_uri, object_type)
    return _transfer_per_run(run, kind, source_uri, target_uri, overwrite, False, log)


def move_copick_objects_per_run(
    run: Any, object_type: str, source_uri: str, target_uri: str, overwrite: bool = False, log: bool = False
) -> dict[str, Any]:
    """Move the objects of one run: copy each, then delete its source once the copy succeeded."""
    kind = _kind(object_type, COPYABLE_TYPES, "move")
    _check_target(target_uri, object_type)
    return _transfer_per_run(run, kind, source_uri, target_uri, overwrite, True, log)


def remove_copick_objects_per_run(
    run: Any, object_type: str, uri: str, dry_run: bool = False, log: bool = False
) -> dict[str, Any]:
    """Delete the objects of one run matched by ``uri`` (``dry_run``: only list them)."""
    _kind(object_type, REMOVABLE_TYPES, "remove")
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
    per_run: Callable[..., dict[str, Any]],
    key: str,
    workers: int,
    desc: str,
    show_progress: bool,
    **options: Any,
) -> dict[str, Any]:
    """``per_run(run, **options)`` (a module-level function: it may run in other processes) over the
    selected runs, aggregated."""
    from copick.ops.run import map_runs

    runs = _select_runs(root, run_names)
    results = map_runs(
        per_run, root, runs, workers=workers, show_progress=show_progress, task_desc=desc, **options
    )
    return _aggregate(results, key, len(runs))


def _transfer_batch(
    move: bool,
    root: Any,
    object_type: str,
    source_uri: str,
    target_uri: str,
    run_names: Any,
    overwrite: bool,
    workers: int,
    log: bool,
    show_progress: bool,
) -> dict[str, Any]:
    """Copy (or move) matched objects in every selected run, runs spread over ``workers`` threads."""
    validate_transfer(object_type, source_uri, target_uri)
    per_run = move_copick_objects_per_run if move else copy_copick_objects_per_run
    key, desc = ("moved", "Moving objects") if move else ("copied", "Copying objects")
    options = dict(object_type=object_type, source_uri=source_uri, target_uri=target_uri)
    options.update(overwrite=overwrite, log=log)
    return _over_runs(root, run_names, per_run, key, workers, desc, show_progress, **options)


def _transfer_api(move: bool) -> tuple[Callable[..., dict[str, Any]], Callable[..., dict[str, Any]]]:
    """The drop-in batch and sequential functions of cp (``move`` False) or mv."""
    verb = "Move" if move else "Copy"

    def batch(
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
        args = (root, object_type, source_uri, target_uri, run_names, overwrite, workers, log, show_progress)
        return _transfer_batch(move, *args)

    def sequential(
        root: Any,
        object_type: str,
        source_uri: str,
        target_uri: str,
        run_name: str | None = None,
        overwrite: bool = False,
        log: bool = False,
    ) -> dict[str, Any]:
        args = (root, object_type, source_uri, target_uri, run_name, overwrite)
        return _transfer_batch(move, *args, workers=1, log=log, show_progress=False)

    name = "move_copick_objects" if move else "copy_copick_objects"
    batch.__name__ = batch.__qualname__ = f"{name}_batch"
    batch.__doc__ = f"{verb} matched objects in every selected run, runs spread over ``workers`` threads."
    sequential.__name__ = sequential.__qualname__ = name
    sequential.__doc__ = (
        f"{verb} matched objects in one run (``run_name``) or all runs, one run after the other."
    )
    return batch, sequential


copy_copick_objects_batch, copy_copick_objects = _transfer_api(False)
move_copick_objects_batch, move_copick_objects = _transfer_api(True)


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
    validate_transfer(object_type, uri)
    desc = "Listing objects" if dry_run else "Deleting objects"
    options = dict(object_type=object_type, uri=uri, dry_run=dry_run, log=log)
    result = _over_runs(
        root, run_names, remove_copick_objects_per_run, "deleted", workers, desc, show_progress, **options
    )
    result["dry_run"] = dry_run
    return result


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
