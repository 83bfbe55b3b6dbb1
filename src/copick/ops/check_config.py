"""The config part of ``copick check``: schema, duplicate names and labels, names against the rules.

A config with damaged objects is still opened (the damaged objects and duplicate names left out) so
the rest of the project can be checked; only an unusable config stops the check.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from copick.ops.check import Finding

_FIX_CONFIG = "edit the config file"


def _finding(severity: str, code: str, path: str, message: str, action: str) -> Finding:
    return Finding(severity, code, path, message, action)


def _pydantic_summary(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if not callable(errors):
        return str(err)
    parts = []
    for e in errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc + ': ' if loc else ''}{e.get('msg', '')}")
    return "; ".join(parts)


def check_objects(objects: Any, path: str) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Findings about ``pickable_objects`` and the objects that can be used (first of a name wins)."""
    from copick.metadata import PickableObject

    findings: list[Finding] = []
    usable: list[dict[str, Any]] = []
    if not isinstance(objects, list):
        message = f"'pickable_objects' must be a list, found {type(objects).__name__}"
        return [_finding("error", "config-invalid", path, message, _FIX_CONFIG)], []
    names: dict[str, int] = {}
    labels: dict[int, str] = {}
    for index, data in enumerate(objects):
        name = data.get("name") if isinstance(data, dict) else None
        where = f"pickable_objects[{index}]" + (f" ({name!r})" if name else "")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = PickableObject.model_validate(data)
        except Exception as err:
            findings.append(
                _finding(
                    "error",
                    "config-object",
                    path,
                    f"{where} is not a valid pickable object: {_pydantic_summary(err)}",
                    f"{_FIX_CONFIG}: fix or remove this object (names may not hold '_', spaces or "
                    '/\\:*?"<>|, labels start at 1, colours are 4 numbers 0-255)',
                )
            )
            continue
        if obj.name in names:
            findings.append(
                _finding(
                    "error",
                    "config-duplicate-name",
                    path,
                    f"{where}: the name {obj.name!r} is already used by pickable_objects[{names[obj.name]}]; "
                    "copick refuses to open this config",
                    f"{_FIX_CONFIG}: give every object its own name",
                )
            )
            continue
        names[obj.name] = index
        if obj.label is not None and obj.label in labels:
            findings.append(
                _finding(
                    "warning",
                    "config-duplicate-label",
                    path,
                    f"{where}: label {obj.label} is also the label of {labels[obj.label]!r}; multilabel "
                    "segmentations cannot tell them apart",
                    f"{_FIX_CONFIG}: give every object its own label",
                )
            )
        elif obj.label is not None:
            labels[obj.label] = obj.name
        usable.append(data)
    return findings, usable


def check_ids(data: dict[str, Any], path: str) -> list[Finding]:
    """``user_id`` / ``session_id`` against the name rules (no ``_``, no forbidden characters)."""
    from copick.metadata import CopickConfig

    findings = []
    for key in ("user_id", "session_id"):
        if data.get(key) is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                CopickConfig.model_validate({"pickable_objects": [], key: data[key]})
        except Exception as err:
            findings.append(
                _finding(
                    "error",
                    "config-id",
                    path,
                    f"{key} {data[key]!r} cannot be used: {_pydantic_summary(err)}",
                    f"{_FIX_CONFIG}: use a {key} without '_', spaces or /\\:*?\"<>|",
                )
            )
    return findings


def check_config_file(path: str) -> tuple[Any, list[Finding]]:
    """``(root or None, findings)`` of the config file at ``path``."""
    from copick.ops.open import from_string

    try:
        with open(path, encoding="utf-8") as f:
            data = json.loads(f.read())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, [
            _finding("error", "config-invalid", path, f"cannot read the config: {err}", _FIX_CONFIG)
        ]
    if not isinstance(data, dict):
        message = f"a config must be a JSON object, found {type(data).__name__}"
        return None, [_finding("error", "config-invalid", path, message, _FIX_CONFIG)]
    findings, usable = check_objects(data.get("pickable_objects", []), path)
    id_findings = check_ids(data, path)
    findings += id_findings
    repaired = {**data, "pickable_objects": usable}
    for key in ("user_id", "session_id"):
        if any(f.message.startswith(key) for f in id_findings):
            repaired.pop(key, None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            root = from_string(json.dumps(repaired), source=path)
    except Exception as err:
        message = f"copick cannot open this project: {_pydantic_summary(err)}"
        findings.append(_finding("error", "config-invalid", path, message, _FIX_CONFIG))
        return None, findings
    return root, findings


def check_config_model(root: Any) -> list[Finding]:
    """Findings about the config of an opened root (only duplicate labels can remain after opening)."""
    config = getattr(root, "config", None)
    if config is None:
        return []
    objects = [o.model_dump(mode="json") for o in config.pickable_objects]
    findings, _ = check_objects(objects, "config")
    return findings
