"""Plugin commands: click commands that other packages register through entry points.

Groups: ``copick.commands`` (top level) and ``copick.<group>.commands`` for the groups in
``PLUGIN_GROUPS``. Each entry point must load to a ``click.Command`` (a group is fine); anything else, or
an entry point that fails to import, is reported at CRITICAL level and skipped.

Discovery reads the ``entry_points.txt`` of the distributions on ``sys.path`` directly instead of going
through ``importlib.metadata``, whose import alone would cost ~90 ms of every ``copick --help``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any, NamedTuple

import click

__all__ = [
    "PLUGIN_GROUPS",
    "PluginEntryPoint",
    "clear_plugin_cache",
    "discover_entry_points",
    "entry_point_group",
    "get_plugin_command_sources",
    "get_plugin_versions",
    "load_plugin_commands",
]


def _log_critical(message: str) -> None:
    """Report a plugin that cannot be used (``logging`` is imported only when this happens)."""
    import logging

    logging.getLogger(__name__).critical(message)


PLUGIN_GROUPS = [
    "main",
    "inference",
    "training",
    "evaluation",
    "process",
    "convert",
    "logical",
    "setup",
    "download",
]

_METADATA_SUFFIXES = (".dist-info", ".egg-info")
_NORMALIZE = re.compile(r"[-_.]+")


class PluginEntryPoint(NamedTuple):
    """One entry point of a copick command group, with the distribution that provides it."""

    group: str  # entry-point group, e.g. "copick.convert.commands"
    name: str
    value: str  # "module:attribute"
    dist_name: str
    dist_version: str


def entry_point_group(group: str) -> str:
    """The entry-point group of a command group: ``copick.commands`` for ``main``."""
    return "copick.commands" if group == "main" else f"copick.{group}.commands"


# --------------------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------------------

_cache: list[PluginEntryPoint] | None = None
_loaded: dict[str, list[tuple[click.Command, str]]] = {}


def clear_plugin_cache() -> None:
    """Forget discovered entry points and loaded commands (after changing ``sys.path`` or installing)."""
    global _cache
    _cache = None
    _loaded.clear()


def _parse_entry_points(text: str) -> list[tuple[str, str, str]]:
    """``(group, name, value)`` of the copick groups in an ``entry_points.txt``."""
    found = []
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        if group and group.startswith("copick.") and "=" in line:
            name, _, value = line.partition("=")
            found.append((group, name.strip(), value.strip()))
    return found


def _read_metadata(folder: str) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` headers of a ``*.dist-info`` / ``*.egg-info`` folder."""
    name = version = None
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, filename), encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    if key == "Name":
                        name = value.strip()
                    elif key == "Version":
                        version = value.strip()
        except OSError:
            continue
        break
    return name, version


def _name_from_folder(entry: str) -> tuple[str, str]:
    """Distribution name and version as spelled in a metadata folder name (``name-1.0.dist-info``)."""
    stem = entry.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    return name, rest.split("-")[0]


def _scan_directory(path: str) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """``(folder, folder name, copick entry points)`` for each distribution found in one directory."""
    found = []
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if not entry.name.endswith(_METADATA_SUFFIXES):
            continue
        try:
            with open(os.path.join(entry.path, "entry_points.txt"), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
        found.append((entry.path, entry.name, _parse_entry_points(text) if "copick." in text else []))
    return found


def _scan_archive(path: str) -> list[PluginEntryPoint]:
    """Entry points of distributions inside a zip/egg on ``sys.path`` (rare; uses importlib.metadata)."""
    from importlib import metadata

    found = []
    for dist in metadata.distributions(path=[path]):
        for ep in dist.entry_points:
            if ep.group.startswith("copick."):
                found.append(PluginEntryPoint(ep.group, ep.name, ep.value, dist.name, dist.version or ""))
    return found


def discover_entry_points() -> list[PluginEntryPoint]:
    """Every ``copick.*`` entry point on ``sys.path`` (first distribution of each name wins, as pip's)."""
    global _cache
    if _cache is not None:
        return _cache
    seen: set[str] = set()
    found: list[PluginEntryPoint] = []
    for path in sys.path:
        path = path or "."
        if os.path.isdir(path):
            for folder, folder_name, entries in _scan_directory(path):
                raw_name, raw_version = _name_from_folder(folder_name)
                key = _NORMALIZE.sub("-", raw_name).lower()
                if key in seen:
                    continue
                seen.add(key)
                if entries:
                    name, version = _read_metadata(folder)
                    for group, ep_name, value in entries:
                        found.append(
                            PluginEntryPoint(group, ep_name, value, name or raw_name, version or raw_version)
                        )
        elif os.path.isfile(path) and path.endswith((".zip", ".egg", ".whl")):
            for ep in _scan_archive(path):
                key = _NORMALIZE.sub("-", ep.dist_name).lower()
                if key not in seen:
                    found.append(ep)
            seen.update(_NORMALIZE.sub("-", ep.dist_name).lower() for ep in found)
    _cache = found
    return found


# --------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------


def _load(value: str) -> Any:
    """Import ``module:attr.sub`` (extras in ``[...]`` ignored)."""
    value = value.split("[", 1)[0].strip()
    module_name, _, attrs = value.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def load_plugin_commands(group: str = "main") -> list[tuple[click.Command, str]]:
    """Load the plugin commands of ``group`` (``main`` = top level): ``[(command, distribution name)]``.

    Each group is loaded once per process (``clear_plugin_cache`` forgets them).
    """
    if group in _loaded:
        return list(_loaded[group])
    wanted = entry_point_group(group)
    commands: list[tuple[click.Command, str]] = []
    for ep in discover_entry_points():
        if ep.group != wanted:
            continue
        try:
            obj = _load(ep.value)
        except Exception as err:
            _log_critical(
                f"Failed to load plugin command '{ep.name}' ({ep.value}) from {ep.dist_name}: "
                f"{type(err).__name__}: {err}"
            )
            continue
        if not isinstance(obj, click.Command):
            _log_critical(
                f"Plugin entry point '{ep.name}' ({ep.value}) of {ep.dist_name} in group {wanted} is not a "
                f"click.Command (got {type(obj).__name__}); skipped."
            )
            continue
        commands.append((obj, ep.dist_name))
    _loaded[group] = commands
    return list(commands)


def get_plugin_command_sources() -> dict[str, list[tuple[str, str]]]:
    """For each plugin group with commands: ``[(command name, distribution name)]``."""
    sources: dict[str, list[tuple[str, str]]] = {}
    for group in PLUGIN_GROUPS:
        loaded = load_plugin_commands(group)
        if loaded:
            sources[group] = [(cmd.name or "", dist) for cmd, dist in loaded]
    return sources


def get_plugin_versions() -> dict[str, str]:
    """Name and version of every installed distribution that provides copick commands."""
    versions: dict[str, str] = {}
    known = {entry_point_group(g) for g in PLUGIN_GROUPS}
    for ep in discover_entry_points():
        if ep.group in known:
            versions.setdefault(ep.dist_name, ep.dist_version)
    return versions
