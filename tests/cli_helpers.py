"""What the CLI tests share: run ``copick`` in-process through click's test runner and check how it ended.

Imported by the ``tests/test_cli_*.py`` files (``tests/`` is on ``sys.path``; conftest fixtures are not
importable). The root logger that commands reconfigure is put back by the ``restore_logging`` fixture
of ``tests/conftest.py`` (``pytestmark = pytest.mark.usefixtures("restore_logging")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner, Result


def invoke(
    words: str | Sequence[str],
    *args: Any,
    config: str | None = None,
    command: click.Command | None = None,
    **env: str,
) -> Result:
    """Run ``copick <words> <args>`` in-process and return click's ``Result`` (stdout and stderr apart).

    ``words`` is split on spaces (a list is taken as it is), ``args`` (paths) are kept whole. ``config``
    is passed through ``COPICK_CONFIG`` (cleared when None, as are ``COPICK_EXIT_ZERO`` and
    ``COPICK_DEBUG``, so the caller's environment cannot change the outcome); ``env`` adds variables.
    ``command`` is the group to run (default: ``copick.cli.cli.cli``).
    """
    if command is None:
        from copick.cli.cli import cli as command
    argv = [*(words.split() if isinstance(words, str) else words), *map(str, args)]
    environment = {"COPICK_CONFIG": config or "", "COPICK_EXIT_ZERO": "", "COPICK_DEBUG": "", **env}
    return CliRunner().invoke(command, argv, env=environment)


def ok(result: Result) -> Result:
    """``result`` after asserting exit status 0 (the output is shown when it is not)."""
    assert result.exit_code == 0, result.output
    return result


def assert_one_error(result: Result, *needles: str) -> str:
    """Exit 1, exactly one ``Error:`` line (naming ``needles``), no traceback, nothing on stdout."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == "", result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def new_local_project(
    folder: Path,
    objects: list[dict[str, Any]],
    config: str = "config.json",
    overlay: str = "proj",
    **kwargs: Any,
) -> tuple[str, Any]:
    """A new project made by ``copick.new_config``: config ``folder/<config>``, overlay ``folder/<overlay>``,
    ``objects`` as its pickable objects (``kwargs`` go to ``new_config``). Returns the config path and the
    project's root."""
    import copick

    path = str(folder / config)
    return path, copick.new_config(path, str(folder / overlay), pickable_objects=objects, **kwargs)


def fresh(config: str) -> Any:
    """The project of ``config`` opened afresh (what a command left on disk, no cached listing)."""
    import copick

    return copick.from_file(config)


def run_names(config: str) -> list[str]:
    """The sorted run names of the project of ``config``, read afresh."""
    return sorted(r.name for r in fresh(config).runs)
