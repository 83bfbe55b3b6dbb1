"""Option decorators and resolvers shared by copick's commands and by plugin packages.

Every ``add_*`` decorator can be used bare (``@add_config_option``) or called (``@add_config_option()``).
Resolvers turn old option spellings into the current ones, logging a deprecation warning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click

from copick.cli.types import CopickName

if TYPE_CHECKING:
    import logging

__all__ = [
    "add_config_option",
    "add_create_overwrite_options",
    "add_debug_option",
    "add_deprecated_run_alias",
    "add_export_common_options",
    "add_max_workers_option",
    "add_pyramid_create_options",
    "add_pyramid_export_options",
    "add_run_names_option",
    "add_run_options",
    "add_user_session_options",
    "add_volume_transform_options",
    "parse_chunk_size",
    "resolve_deprecated_option",
    "resolve_run_names",
    "resolve_tomogram_uri",
]

F = Callable[..., Any]


def _decorator(build: Callable[..., list[Callable[[F], F]]]) -> Callable[..., Any]:
    """Let an option-list factory be used as ``@name`` or ``@name(...)``."""

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return _apply(build(), args[0])
        options = build(*args, **kwargs)
        return lambda func: _apply(options, func)

    return wrapper


def _apply(options: list[Callable[[F], F]], func: F) -> F:
    """Apply ``options`` so that they appear in the listed order in ``--help``."""
    for option in reversed(options):
        func = option(func)
    return func


# --------------------------------------------------------------------------------------------------------
# Project, debug, runs
# --------------------------------------------------------------------------------------------------------


@_decorator
def add_config_option(required: bool = False) -> list[Callable[[F], F]]:
    """``-c/--config PATH``: the project config file, falling back to the ``COPICK_CONFIG`` env var."""
    # click >= 8.3 treats an explicit ``default=None`` as a given value and skips the required check.
    default = {} if required else {"default": None}
    return [
        click.option(
            "-c",
            "--config",
            type=click.Path(exists=True, dir_okay=False),
            envvar="COPICK_CONFIG",
            show_envvar=True,
            required=required,
            help="Path to the copick project config file.",
            **default,
        )
    ]


@_decorator
def add_debug_option() -> list[Callable[[F], F]]:
    """``--debug/--no-debug``: verbose logging (time, level, source line) and full tracebacks."""
    return [
        click.option(
            "--debug/--no-debug",
            is_flag=True,
            default=False,
            show_default=True,
            help="Enable debug output (DEBUG logs with time, level and source line; full tracebacks).",
        )
    ]


@_decorator
def add_run_names_option(help: str | None = None) -> list[Callable[[F], F]]:
    """``-r/--run-names NAME`` (repeatable); empty means every run."""
    return [
        click.option(
            "-r",
            "--run-names",
            "run_names",
            multiple=True,
            default=(),
            type=CopickName("run", commas=True),
            metavar="NAME",
            help=help or "Run to process; repeat for several runs (default: all runs).",
        )
    ]


def add_deprecated_run_alias(*flags: Any) -> Any:
    """Add hidden, deprecated run-selection flags (default ``--runs``) collected as ``legacy_run_names``."""
    if len(flags) == 1 and callable(flags[0]):
        return add_deprecated_run_alias()(flags[0])
    option = click.option(
        *(flags or ("--runs",)),
        "legacy_run_names",
        multiple=True,
        default=(),
        type=CopickName("run", commas=True),
        hidden=True,
        help="Deprecated alias of -r/--run-names.",
    )
    return option


def _split_names(values: Iterable[str], logger: logging.Logger | None, flag: str) -> list[str]:
    """Split comma-separated values (deprecated form) and drop empty items."""
    result: list[str] = []
    for value in values:
        if value is None:
            continue
        if "," in value:
            if logger is not None:
                logger.warning(
                    f"Comma-separated run names in {flag} are deprecated; repeat the option instead "
                    f"(e.g. -r {' -r '.join(v.strip() for v in value.split(',') if v.strip())})."
                )
            result.extend(v.strip() for v in value.split(",") if v.strip())
        elif value.strip():
            result.append(value.strip())
    return result


def resolve_run_names(
    run_names: Iterable[str] | None,
    legacy_run_names: Iterable[str] | None = (),
    *,
    legacy_flag: str | None = None,
    logger: logging.Logger | None = None,
) -> list[str] | None:
    """Merge ``-r/--run-names`` values with a deprecated alias; ``None`` when no run was named (all runs)."""
    names = _split_names(run_names or (), logger, "-r/--run-names")
    legacy = list(legacy_run_names or ())
    if legacy:
        flag = legacy_flag or "--runs"
        if logger is not None:
            logger.warning(f"{flag} is deprecated; use -r/--run-names instead.")
        names.extend(_split_names(legacy, logger, flag))
    unique = list(dict.fromkeys(names))
    return unique or None


def resolve_deprecated_option(
    primary: Any,
    legacy: Any,
    *,
    old_flag: str,
    new_flag: str,
    logger: logging.Logger | None = None,
) -> Any:
    """The value of ``new_flag``, or of its deprecated spelling ``old_flag`` (warned about), as 1.31.

    When both are given the deprecated spelling's value wins, as in copick 1.31.
    """
    if legacy is None or legacy == () or legacy == "":
        return primary
    if logger is not None:
        logger.warning(f"{old_flag} is deprecated; use {new_flag} instead.")
    return legacy


def resolve_tomogram_uri(
    uri: str | None,
    tomo_alg: str | None,
    voxel_size: float | None,
    *,
    default_vs: float = 10.0,
    logger: logging.Logger | None = None,
) -> str:
    """A tomogram URI: ``uri`` itself, or ``"<tomo_alg>@<vs>"`` built from the legacy options (deprecated)."""
    if uri:
        return uri
    if tomo_alg:
        if logger is not None:
            logger.warning(
                "--tomo-alg/--voxel-size are deprecated; use -i/--input <tomo_type>@<voxel_spacing> instead."
            )
        vs = float(voxel_size) if voxel_size is not None else float(default_vs)
        return f"{tomo_alg}@{vs}"
    raise click.UsageError("Provide the input tomogram via -i/--input <tomo_type>@<voxel_spacing>.")


@_decorator
def add_run_options() -> list[Callable[[F], F]]:
    """The import run block: ``--run``, ``--run-regex``, ``--run-name-prefix``."""
    return [
        click.option(
            "--run",
            type=CopickName("run", allow_empty=True),
            default="",
            show_default=True,
            help="Run name for the imported data (ignored when PATH matches several files).",
        ),
        click.option(
            "--run-regex",
            type=str,
            default="(.*)",
            show_default=True,
            help="Regex searched in each file's name (without extension); group 1 is the run name.",
        ),
        click.option(
            "--run-name-prefix",
            type=CopickName("run", allow_empty=True),
            default="",
            show_default=True,
            help="Prefix prepended to the extracted run names.",
        ),
    ]


@_decorator
def add_create_overwrite_options() -> list[Callable[[F], F]]:
    """``--create/--no-create`` (default create) and ``--overwrite/--no-overwrite`` (default no)."""
    return [
        click.option(
            "--create/--no-create",
            is_flag=True,
            default=True,
            show_default=True,
            help="Create the run (and voxel spacing) when it does not exist.",
        ),
        click.option(
            "--overwrite/--no-overwrite",
            is_flag=True,
            default=False,
            show_default=True,
            help="Replace an existing target instead of failing.",
        ),
    ]


@_decorator
def add_volume_transform_options() -> list[Callable[[F], F]]:
    """``--flip`` and ``--transpose`` applied to a loaded ZYX volume."""
    return [
        click.option(
            "--flip",
            type=str,
            default=None,
            help="Comma-separated axes to flip, in ZYX array order (e.g. '0' flips Z).",
        ),
        click.option(
            "--transpose",
            type=str,
            default=None,
            help="Comma-separated new axis order (np.transpose), e.g. '2,1,0'.",
        ),
    ]


@_decorator
def add_user_session_options(
    default_user: str = "copick", default_session: str = "1"
) -> list[Callable[[F], F]]:
    """``--user-id`` (default ``copick``) and ``--session-id`` (default ``1``)."""
    return [
        click.option(
            "--user-id", type=CopickName("user"), default=default_user, show_default=True, help="User ID."
        ),
        click.option(
            "--session-id",
            type=CopickName("session"),
            default=default_session,
            show_default=True,
            help="Session ID.",
        ),
    ]


@_decorator
def add_max_workers_option(default: int = 4) -> list[Callable[[F], F]]:
    """``--max-workers INT`` (default 4): threads working in parallel."""
    return [
        click.option(
            "--max-workers",
            type=int,
            default=default,
            show_default=True,
            help="Maximum number of parallel workers.",
        )
    ]


@_decorator
def add_pyramid_create_options() -> list[Callable[[F], F]]:
    """Pyramid creation: ``--create-pyramid/--no-create-pyramid``, ``--pyramid-levels``, ``--chunk-size``."""
    return [
        click.option(
            "--create-pyramid/--no-create-pyramid",
            is_flag=True,
            default=True,
            show_default=True,
            help="Write a multiscale pyramid (each level halves the size).",
        ),
        click.option(
            "--pyramid-levels", type=int, default=3, show_default=True, help="Number of pyramid levels."
        ),
        click.option(
            "--chunk-size",
            type=str,
            default="256,256,256",
            show_default=True,
            help="Zarr chunk size, comma-separated Z,Y,X.",
        ),
    ]


def parse_chunk_size(value: str) -> tuple[int, int, int]:
    """The value of ``--chunk-size`` (``add_pyramid_create_options``) as three positive ints ``(z, y, x)``.

    Anything else (not three comma-separated integers, or one below 1) is a ``click.BadParameter``
    naming ``--chunk-size``, so a command reports it as a usage error before it writes anything.
    """
    parts = [p.strip() for p in str(value).split(",")]
    try:
        chunks = tuple(int(p) for p in parts)
    except ValueError:
        chunks = ()
    if len(chunks) != 3 or any(c < 1 for c in chunks):
        raise click.BadParameter(
            f"expected three positive integers 'z,y,x' (e.g. 256,256,256), got {value!r}.",
            param_hint="--chunk-size",
        )
    return chunks  # type: ignore[return-value]


@_decorator
def add_export_common_options() -> list[Callable[[F], F]]:
    """``--output-dir DIR``: where exported files are written."""
    return [
        click.option(
            "--output-dir",
            type=click.Path(file_okay=False),
            default=None,
            help="Directory the exported files are written to.",
        )
    ]


@_decorator
def add_pyramid_export_options() -> list[Callable[[F], F]]:
    """Exporting from a pyramid: ``--level``, ``--compression``, ``--copy-all-levels/--level-only``."""
    return [
        click.option("--level", type=int, default=0, show_default=True, help="Pyramid level to export."),
        click.option(
            "--compression",
            type=click.Choice(["lzw", "zlib", "jpeg", "none"], case_sensitive=False),
            default=None,
            help="Compression of TIFF output.",
        ),
        click.option(
            "--copy-all-levels/--level-only",
            is_flag=True,
            default=True,
            show_default=True,
            help="Zarr output: copy every pyramid level, or only --level.",
        ),
    ]
