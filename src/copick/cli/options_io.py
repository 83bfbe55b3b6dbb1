"""Options of the import (``copick add``) and export (``copick export``) commands, each declared once.

A block is a group of click options whose values reach the command as one dataclass argument, so a
command names a block once instead of repeating every option in its decorators, its signature and its
call to ``copick.ops``. Single options that several commands share with their own help text
(``--voxel-size``, ``--tomo-type``, input files, ...) are factories taking that text.
``expand_or_usage_error`` is the shared check of a PATH glob; ``finish_import`` and ``finish_export``
log a command's summary and set its exit status.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from copick.cli.common import (
    choice_option,
    exit_zero_option,
    finish,
    option_group,
    quiet_option,
    record_failures,
    workers_option,
)
from copick.cli.types import CopickName, CopickURI, VoxelSize
from copick.cli.util import (
    add_create_overwrite_options,
    add_debug_option,
    add_pyramid_create_options,
    add_run_options,
    add_user_session_options,
    add_volume_transform_options,
    parse_chunk_size,
)

F = Callable[..., Any]

VOLUME_TYPES = ["mrc", "zarr", "tiff", "em"]
PICKS_TYPES = ["em", "star", "dynamo", "csv"]
RELION_VERSIONS = ["auto", "relion4", "relion5"]


def option_block(argument: str, cls: type, options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """Add ``options`` to a command and pass their values (named as ``cls``'s fields) as one ``cls``
    instance in the keyword argument ``argument``."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]

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
class Pyramid:
    """``--create-pyramid/--no-create-pyramid``, ``--pyramid-levels`` (at least 1) and ``--chunk-size``
    (``z,y,x``), checked when parsed; ``chunks`` is the parsed chunk size."""

    create_pyramid: bool = True
    pyramid_levels: int = 3
    chunk_size: str = "256,256,256"
    chunks: tuple[int, int, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chunks", parse_chunk_size(self.chunk_size))
        if self.pyramid_levels < 1:
            raise click.BadParameter(
                f"must be at least 1, got {self.pyramid_levels}.", param_hint="--pyramid-levels"
            )

    def ops_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the tomogram imports of ``copick.ops``."""
        return {
            "create_pyramid": self.create_pyramid,
            "pyramid_levels": self.pyramid_levels,
            "chunks": self.chunks,
        }


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


def _no_default_if_required(required: bool) -> dict[str, Any]:
    """``default=None`` for an optional option only: click >= 8.3 treats an explicit ``default=None`` as a
    given value and skips the required check."""
    return {} if required else {"default": None}


def voxel_size_option(help: str, required: bool = False) -> Callable[[F], F]:
    """``--voxel-size`` (Angstrom, > 0)."""
    return click.option("--voxel-size", type=VoxelSize(), required=required, default=None, help=help)


def tomo_type_option(
    help: str = "Tomogram type (reconstruction method).", default: str | None = "wbp"
) -> Callable[[F], F]:
    """``--tomo-type NAME``: a tomogram type (its default shown when there is one)."""
    return click.option(
        "--tomo-type",
        type=CopickName("tomo_type"),
        default=default,
        show_default=True if default is not None else None,
        help=help,
    )


def input_file_option(flag: str, help: str, required: bool = False) -> Callable[[F], F]:
    """``FLAG PATH``: a file the command reads (``--index-map``, ``--tomograms-star``, ``--tomolist``, ...);
    it must exist and not be a folder."""
    return click.option(
        flag,
        type=click.Path(exists=True, dir_okay=False),
        required=required,
        help=help,
        **_no_default_if_required(required),
    )


def tilt_series_pixel_size_option(help: str) -> Callable[[F], F]:
    """``--tilt-series-pixel-size`` (Angstrom, > 0) of RELION pixel coordinates."""
    return click.option(
        "--tilt-series-pixel-size", type=click.FloatRange(min=0, min_open=True), default=None, help=help
    )


transform = option_block("transform", Transform, [add_volume_transform_options])
pyramid = option_block("pyramid", Pyramid, [add_pyramid_create_options])
relion_inputs = option_block(
    "relion",
    RelionInputs,
    [
        tilt_series_pixel_size_option("Tilt-series pixel size (Angstrom) of RELION pixel coordinates."),
        input_file_option(
            "--tomograms-star", "RELION tomograms.star: tilt-series pixel sizes and tomogram sizes (centres)."
        ),
    ],
)


def file_type_option(choices: list[str], help: str) -> Callable[[F], F]:
    """``--file-type`` (case-insensitive), passed on in lower case."""
    return choice_option(
        "--file-type",
        choices,
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


# --------------------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------------------


def export_uri_option(kind: str, help: str) -> Callable[[F], F]:
    """``--<kind>-uri URI`` (required): the objects of one kind an export selects (patterns allowed)."""
    return click.option(f"--{kind}-uri", type=CopickURI(kind, "input"), required=True, help=help)


def output_dir_option(help: str, required: bool = True) -> Callable[[F], F]:
    """``--output-dir DIR``: the folder an export writes its files to."""
    return click.option(
        "--output-dir",
        type=click.Path(file_okay=False),
        required=required,
        help=help,
        **_no_default_if_required(required),
    )


def output_format_option(choices: list[str], help: str) -> Callable[[F], F]:
    """``--output-format`` (required, case-insensitive): the file format of an export."""
    return choice_option("--output-format", choices, required=True, help=help)


#: Workers, exit status and logging options of the export commands (listed last in ``--help``).
export_closing_options = option_group(workers_option(4), exit_zero_option, quiet_option, add_debug_option)


def finish_export(
    logger: Any, results: list[dict[str, Any]], key: str, what: str, uri: str, out: str
) -> None:
    """Log the outcome of a per-run export (skips, failures, what was written), set the exit status.

    ``results`` are ``copick.ops.export.export_runs``'s per-run dicts, ``key`` their count of written
    items; nothing matched is a warning, not a failure.
    """
    written = sum(r.get(key, 0) for r in results)
    errors = [e for r in results for e in r.get("errors", [])]
    skipped = [s for r in results for s in r.get("skipped", [])]
    for item in skipped:
        logger.warning(f"Skipped {item}")
    for error in errors:
        logger.error(f"Failed: {error}")
    runs_with = sum(1 for r in results if r.get(key, 0))
    if written == 0 and not errors and not skipped:
        logger.warning(f"No {what} matched {uri!r} in {len(results)} run(s); nothing was exported.")
    else:
        logger.info(f"Exported {written} {what} from {runs_with} of {len(results)} runs to {out}")
    record_failures(errors, written + len(errors))
    finish()
    if written and not errors:
        logger.info("Export completed successfully.")
