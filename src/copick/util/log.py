"""Logging set-up shared by copick's commands and its plugins: messages go to stderr, never stdout.

``get_logger(name, debug)`` (re)configures the root logger each time a command starts: a *rich* handler
when stderr is a terminal, a plain ``message``-only handler otherwise (pipes, CI logs, test runners), so
stdout stays free for data such as ``copick stats --output json``. With ``debug`` the level is DEBUG and
records show time, level and ``file:line``; without it, chatty third-party loggers are kept at WARNING.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["get_logger", "set_quiet"]

# Third-party loggers that are noisy at INFO/DEBUG; silenced unless --debug.
_NOISY_LOGGERS = (
    "gql",
    "sshfs",
    "asyncssh",
    "absl",
    "numexpr",
    "fsspec",
    "s3fs",
    "botocore",
    "aiobotocore",
    "urllib3",
    "asyncio",
    "PIL",
    "matplotlib",
    "numcodecs",
    "zarr",
    "trimesh",
)

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Make the next ``get_logger`` calls log warnings and errors only (the ``--quiet`` option)."""
    global _quiet
    _quiet = bool(quiet)


class _StderrHandler(logging.StreamHandler):
    """A plain handler that always writes to the *current* ``sys.stderr`` (click's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _stderr_is_terminal() -> bool:
    """True when stderr is an interactive terminal (rich formatting and progress bars make sense)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _make_handler(debug: bool) -> logging.Handler:
    """A rich handler for terminals, a plain one otherwise; ``file:line`` and time only with ``debug``."""
    if _stderr_is_terminal():
        from rich.console import Console
        from rich.highlighter import NullHighlighter
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=Console(stderr=True),
            highlighter=NullHighlighter(),
            show_time=debug,
            show_level=debug,
            show_path=debug,
            markup=False,
            rich_tracebacks=debug,
        )
        handler.setFormatter(logging.Formatter("%(message)s", datefmt="[%X]"))
    else:
        handler = _StderrHandler()
        fmt = "%(asctime)s %(levelname)-8s %(message)s (%(filename)s:%(lineno)d)" if debug else "%(message)s"
        handler.setFormatter(logging.Formatter(fmt, datefmt="%H:%M:%S"))
    handler._copick_handler = True  # type: ignore[attr-defined]
    return handler


def get_logger(name: str, debug: bool = False) -> logging.Logger:
    """Configure the root logger for a command run (stderr, INFO or DEBUG) and return logger ``name``."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_copick_handler", False):
            root.removeHandler(handler)
    root.addHandler(_make_handler(debug))
    if debug:
        level = logging.DEBUG
    elif _quiet:
        level = logging.WARNING
    else:
        level = logging.INFO
    root.setLevel(level)
    for noisy in _NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.NOTSET if debug else logging.WARNING)
    logger = logging.getLogger(name)
    logger.setLevel(logging.NOTSET)
    return logger
