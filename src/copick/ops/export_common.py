"""What the export modules share: the error type, the format names, the argument checks, and the
pick sets a picks URI selects in a project's runs (as arrays)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from copick.errors import CopickError

if TYPE_CHECKING:
    from copick.formats.picks_json import PickArrays

PICKS_FORMATS = ("csv", "star", "em", "dynamo")
VOLUME_FORMATS = ("mrc", "tiff", "zarr", "em")


class ExportError(CopickError, ValueError):
    """An export that cannot be done as asked (missing voxel size, index map, centre...)."""


def open_root(config: Any) -> Any:
    """The project of ``config``: a config path is opened, a root is used as is."""
    if isinstance(config, (str, os.PathLike)):
        import copick

        return copick.from_file(str(config))
    return config


def check_format(output_format: str | None, allowed: tuple[str, ...], what: str) -> str:
    """The canonical name of ``output_format`` (``tif`` -> ``tiff``...); others are refused with 1.31's
    phrase "Unsupported output format"."""
    fmt = {"tif": "tiff", "tbl": "dynamo", "relion": "star"}.get(str(output_format).lower(), output_format)
    if fmt not in allowed:
        raise ExportError(
            f"Unsupported output format: {output_format} (the {what} formats are {', '.join(allowed)})."
        )
    return fmt


def is_dir_target(path: str) -> bool:
    """Whether ``path`` names a folder to write into (trailing separator, or an existing non-zarr folder)."""
    return str(path).endswith(("/", os.sep)) or (os.path.isdir(path) and not str(path).endswith(".zarr"))


def pick_arrays(picks: Any) -> PickArrays:
    """The ``PickArrays`` of a pick set (positions, transforms, instance ids, scores)."""
    from copick.formats.picks_json import PickArrays

    positions, transforms = picks.numpy()
    return PickArrays(positions, transforms, picks.instance_ids(), picks.scores())


def select_picks(root: Any, picks_uri: str, run_names: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    """(runs considered, {run name: matching pick sets}) for a picks URI."""
    from copick.util.uri import resolve_copick_objects

    if isinstance(run_names, str):
        run_names = [run_names]
    if run_names:
        runs = []
        for name in run_names:
            run = root.get_run(name)
            if run is None:
                raise ExportError(f"Run {name!r} not found in the project.")
            runs.append(run)
    else:
        runs = list(root.runs)
    selected = {}
    for run in runs:
        found = resolve_copick_objects(picks_uri, root, "picks", run_name=run.name)
        if found:
            selected[run.name] = found
    return runs, selected
