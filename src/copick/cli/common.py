"""What every copick command shares: logging set-up, clean errors, exit status after per-item failures.

* Domain errors (bad names, existing entities, unreadable files ...) become one ``Error: ...`` line on
  stderr with exit status 1; ``--debug`` (or ``COPICK_DEBUG=1``) shows the traceback instead.
* Per-item failures (recorded by ``copick.ops.run.note_failures``/``report_results``) make the command
  exit 1 after its summary, unless ``--exit-zero`` (or ``COPICK_EXIT_ZERO=1``) asks for copick 1.31's
  exit status 0.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import click

from copick.cli.types import CopickName

F = Callable[..., Any]

FAILURES_KEY = "copick.failures"
EXIT_ZERO_KEY = "copick.exit_zero"
_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    """True when the environment variable ``name`` is set to 1/true/yes/on."""
    return os.environ.get(name, "").strip().lower() in _TRUE


# --------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------


class CommandFailed(click.ClickException):
    """A command finished, but some of its items failed: ``Error: <summary>``, exit status 1."""

    exit_code = 1


def _is_domain_error(err: BaseException) -> bool:
    """Errors whose message is meant for users (as opposed to programming errors)."""
    from copick.errors import CopickError

    return isinstance(err, CopickError | ValueError | OSError)


def error_message(err: BaseException) -> str:
    """The text of ``Error: ...`` for an exception raised by a command."""
    text = str(err).strip() or type(err).__name__
    if isinstance(err, FileNotFoundError) and err.filename and str(err.filename) not in text:
        text = f"{text}: {err.filename}"
    if _is_domain_error(err):
        return text
    return f"{type(err).__name__}: {text} (run with --debug for the traceback)"


def debug_requested(args: Any = None) -> bool:
    """True when tracebacks should be shown: ``--debug`` among ``args`` or ``COPICK_DEBUG`` set."""
    return env_flag("COPICK_DEBUG") or (args is not None and "--debug" in args)


def domain_errors(func: F) -> F:
    """Turn exceptions of a command body into ``Error: ...`` (exit 1) unless its ``debug`` flag is set."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:
            if kwargs.get("debug") or debug_requested():
                raise
            raise click.ClickException(error_message(err)) from err

    return wrapper


@contextlib.contextmanager
def clean_warnings(debug: bool) -> Iterator[None]:
    """While a command runs, show Python warnings as one ``Warning: <message>`` line on stderr, without
    Python's ``file:line`` and source line (``--debug`` keeps those). The command owns the process; the
    previous warning display is restored when it ends."""
    if debug:
        yield
        return
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    click.echo(f"Warning: {message}", err=True)


# --------------------------------------------------------------------------------------------------------
# Failures and exit status
# --------------------------------------------------------------------------------------------------------


def record_failures(errors: list[str], total: int) -> None:
    """Remember failed items of the running command (see ``copick.ops.run.note_failures``)."""
    from copick.ops.run import note_failures

    if errors:
        note_failures(len(errors), errors[0], total=total)


def finish(ctx: click.Context | None = None, option_hint: bool = True) -> None:
    """End a command: raise ``CommandFailed`` when items failed and exit status 0 was not asked for.

    ``option_hint`` mentions ``--exit-zero`` (our commands have it; plugin commands only honour the env var).
    """
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return
    record = ctx.meta.get(FAILURES_KEY)
    if not record or record.get("handled") or not record.get("count"):
        return
    record["handled"] = True
    fail_if_errors(record["count"], record.get("total") or 0, record.get("first"), ctx, option_hint)


def fail_if_errors(
    failed: int,
    total: int,
    first: str | None = None,
    ctx: click.Context | None = None,
    option_hint: bool = True,
) -> None:
    """Raise ``CommandFailed`` when ``failed`` of ``total`` items failed, unless exit 0 was asked for."""
    ctx = ctx or click.get_current_context(silent=True)
    exit_zero = ctx is not None and ctx.meta.get(EXIT_ZERO_KEY)
    if failed <= 0 or exit_zero or env_flag("COPICK_EXIT_ZERO"):
        return
    detail = f" (first: {str(first).rstrip('.')})" if first else ""
    raise CommandFailed(
        f"{failed} of {max(total, failed)} items failed{detail}. "
        + ("Use --exit-zero (or COPICK_EXIT_ZERO=1)" if option_hint else "Set COPICK_EXIT_ZERO=1")
        + " to exit 0 despite failures."
    )


def finish_report(report: Any) -> None:
    """End a command from an operation's report (``copick.ops.report.OpReport``): exit 1 on failures."""
    fail_if_errors(len(report.errors), report.total, report.errors[0] if report.errors else None)


# --------------------------------------------------------------------------------------------------------
# Options of our own commands
# --------------------------------------------------------------------------------------------------------


def _store_exit_zero(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[EXIT_ZERO_KEY] = True
    return value


def _store_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    from copick.util.log import set_quiet

    set_quiet(value)
    return value


def exit_zero_option(func: F) -> F:
    """``--exit-zero``: exit 0 even when some items failed (copick 1.31's behaviour)."""
    return click.option(
        "--exit-zero",
        is_flag=True,
        default=False,
        expose_value=False,
        envvar="COPICK_EXIT_ZERO",
        callback=_store_exit_zero,
        help="Exit with status 0 even when some items failed (the failures are still logged).",
    )(func)


def quiet_option(func: F) -> F:
    """``-q/--quiet``: log warnings and errors only."""
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_store_quiet,
        help="Only log warnings and errors.",
    )(func)


def option_group(*options: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying ``options`` so that they appear in the listed order in ``--help``."""

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


def _store_executor(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from copick.ops.run import use_executor

    ctx.meta[f"copick.option.{param.name}"] = value
    use_executor(ctx.meta.get("copick.option.executor"), ctx.meta.get("copick.option.scheduler"))
    return value


def workers_option(default: int, help: str = "Number of parallel worker threads.") -> Callable[[F], F]:
    """``-w/--workers`` with its other spelling ``--max-workers`` (one value, parameter ``workers``),
    followed by ``--executor {thread,process,dask}`` and ``--scheduler ADDRESS`` (recorded for the
    command's ``map_runs`` calls, see ``copick.ops.run.use_executor``; not passed to the command)."""
    workers = click.option(
        "-w",
        "--workers",
        "--max-workers",
        "workers",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help=help,
    )
    executor = click.option(
        "--executor",
        type=click.Choice(["thread", "process", "dask"]),
        default=None,
        expose_value=False,
        envvar="COPICK_EXECUTOR",
        callback=_store_executor,
        help="Where per-run work runs: threads (default), processes of this machine, or a Dask cluster "
        "(a LocalCluster of --workers tasks unless --scheduler is given). Needs copick[dask] for dask.",
    )
    scheduler = click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        expose_value=False,
        envvar="COPICK_SCHEDULER",
        callback=_store_executor,
        help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786); implies --executor dask.",
    )
    return option_group(workers, executor, scheduler)


def run_selection_option(help: str, dest: str = "run_names", metavar: str | None = None) -> Callable[[F], F]:
    """``-r/--run`` (also spelled ``--run-names``), repeatable: the runs a command works on (none: every
    run). The values reach the command as the tuple ``dest``."""
    return click.option(
        "-r", "--run", "--run-names", dest, multiple=True, type=CopickName("run"), metavar=metavar, help=help
    )


def choice_option(
    flag: str, choices: list[str], default: str | None = None, **kwargs: Any
) -> Callable[[F], F]:
    """``FLAG CHOICE``: one of ``choices`` in any case, with its default shown in ``--help`` when it has
    one; further ``click.option`` arguments (``help``, ``multiple`` ...) pass through."""
    if default is not None:  # no ``default=None`` for click: it would satisfy ``required=True``
        kwargs.update(default=default, show_default=True)
    return click.option(flag, type=click.Choice(choices, case_sensitive=False), **kwargs)


def output_choice_option(choices: list[str], default: str, help: str) -> Callable[[F], F]:
    """``--output CHOICE`` (case-insensitive, default shown): the format of what a command prints."""
    return choice_option("--output", choices, default, help=help)


# --------------------------------------------------------------------------------------------------------
# Start of a command
# --------------------------------------------------------------------------------------------------------


def start(name: str, debug: bool = False) -> Any:
    """Configure logging for a command run; the version banner is logged at DEBUG level."""
    from copick import __version__
    from copick.util.log import get_logger

    logger = get_logger(name, debug=debug)
    if debug:
        from copick.cli.ext import get_plugin_versions

        banner = " | ".join(
            [f"copick {__version__}"] + [f"{n} {v}" for n, v in get_plugin_versions().items()]
        )
        logger.debug(banner)
        logger.debug("-" * len(banner))
    return logger


def require_config(config: str | None) -> str:
    """The path of ``-c/--config`` (or ``COPICK_CONFIG``); a missing option is a usage error."""
    if not config:
        raise click.UsageError(
            "Missing option '-c' / '--config' (or set the COPICK_CONFIG environment variable)."
        )
    return config


def open_root(config: str | None) -> Any:
    """Open the project of ``-c/--config`` (or ``COPICK_CONFIG``); a missing option is a usage error."""
    from copick.ops.open import from_file

    return from_file(require_config(config))


def echo_data(text: str) -> None:
    """Write command output data to stdout (logs and progress go to stderr)."""
    click.echo(text)
