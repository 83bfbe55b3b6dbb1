"""Option blocks of the import commands, each declared once.

A block is a group of click options whose values reach the command as one dataclass argument, so a
command names a block once instead of repeating every option in its decorators, its signature and its
call to ``copick.ops``. ``expand_or_usage_error`` is the shared check of a PATH glob.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from copick.cli.common import exit_zero_option, finish, option_group, quiet_option, workers_option
from copick.cli.types import CopickName, VoxelSize
from copick.cli.util import (
    add_create_overwrite_options,
    add_debug_option,
    add_run_options,
    add_user_session_options,
    add_volume_transform_options,
)

F = Callable[..., Any]

VOLUME_TYPES = ["mrc", "zarr", "tiff", "em"]
PICKS_TYPES = ["em", "star", "dynamo", "csv"]
RELION_VERSIONS = ["auto", "relion4", "relion5"]


def option_block(argument: str, cls: type, options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """Add ``options`` to a command and pass their values (named as ``cls``'s fields) as one ``cls``
    instance in the keyword argument ``argument``."""
    names = [f.name for f in dataclasses.fields(cls)]

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            block = cls(**{name: kwargs.pop(name) for name in names})
            return func(*args, **{argument: block}, **kwargs)

        return option_group(*options)(command)

    return decorate


# --------------------------------------------------------------------------------------------------------
# the blocks
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """Where the files of PATH go: ``--run`` (one file), else the ``--run-regex`` match of each name."""

    run: str = ""
    run_regex: str = "(.*)"
    run_name_prefix: str = ""


@dataclass(frozen=True)
class WriteMode:
    """``--create/--no-create``, ``--overwrite/--no-overwrite`` and ``-w/--workers``."""

    create: bool = True
    overwrite: bool = False
    workers: int = 4

    def ops_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the ``*_from_paths`` operations."""
        return {"create": self.create, "overwrite": self.overwrite, "max_workers": self.workers}


@dataclass(frozen=True)
class PicksTarget:
    """The pick sets an import writes: ``--object-name``, ``--user-id``, ``--session-id``."""

    object_name: str
    user_id: str
    session_id: str


@dataclass(frozen=True)
class Transform:
    """``--flip`` / ``--transpose`` of an imported volume, checked for their syntax when parsed."""

    flip: str | None = None
    transpose: str | None = None

    def __post_init__(self) -> None:
        from copick.errors import InvalidDataError
        from copick.formats.common import parse_axes

        for value, hint in ((self.flip, "--flip"), (self.transpose, "--transpose")):
            try:
                parse_axes(value, hint)
            except InvalidDataError as err:
                raise click.BadParameter(str(err), param_hint=hint) from None


@dataclass(frozen=True)
class RelionInputs:
    """How RELION pixel coordinates become Angstrom: ``--tilt-series-pixel-size``, ``--tomograms-star``."""

    tilt_series_pixel_size: float | None = None
    tomograms_star: str | None = None


def _object_name(help: str) -> Callable[[F], F]:
    return click.option("--object-name", type=CopickName("object"), required=True, help=help)


run_plan = option_block("plan", RunPlan, [add_run_options])
write_mode = option_block("mode", WriteMode, [add_create_overwrite_options, workers_option(4)])
picks_target = option_block(
    "target", PicksTarget, [_object_name("Pickable object the picks belong to."), add_user_session_options]
)
transform = option_block("transform", Transform, [add_volume_transform_options])
relion_inputs = option_block(
    "relion",
    RelionInputs,
    [
        click.option(
            "--tilt-series-pixel-size",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="Tilt-series pixel size (Angstrom) of RELION pixel coordinates.",
        ),
        click.option(
            "--tomograms-star",
            type=click.Path(exists=True, dir_okay=False),
            default=None,
            help="RELION tomograms.star: tilt-series pixel sizes and tomogram sizes (centres).",
        ),
    ],
)


def voxel_size_option(help: str, required: bool = False) -> Callable[[F], F]:
    """``--voxel-size`` (Angstrom, > 0)."""
    return click.option("--voxel-size", type=VoxelSize(), required=required, default=None, help=help)


def file_type_option(choices: list[str], help: str) -> Callable[[F], F]:
    """``--file-type`` (case-insensitive), passed on in lower case."""
    return click.option(
        "--file-type",
        type=click.Choice(choices, case_sensitive=False),
        default=None,
        callback=lambda _ctx, _param, value: value.lower() if value else None,
        help=help,
    )


#: Exit status and logging options and the PATH argument, listed last in ``--help``.
closing_options = option_group(
    exit_zero_option, quiet_option, add_debug_option, click.argument("path", type=str)
)


def expand_or_usage_error(path: str) -> list[str]:
    """The files PATH (a file or a glob) names; none is a usage error with 1.31's wording."""
    from copick.util.path_util import expand_paths

    paths = expand_paths(path)
    if not paths:
        raise click.UsageError(f"No files found matching pattern: {path}")
    return paths


def finish_import(logger: Any, report: Any, what: str, path: str) -> None:
    """Log an import's summary (skips, drops, errors), warn when nothing was imported, set the exit status."""
    report.log_summary(logger)
    if report.processed == 0 and not report.errors:
        logger.warning(f"No {what} imported from {path}.")
    finish()
