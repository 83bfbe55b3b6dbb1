"""``copick check``: is the project healthy? Findings with severity, path and what to do; ``--fix``."""

from __future__ import annotations

import click

from copick.cli.common import (
    CommandFailed,
    domain_errors,
    echo_data,
    output_choice_option,
    quiet_option,
    require_config,
    run_selection_option,
    start,
    workers_option,
)
from copick.cli.util import add_config_option, add_debug_option


@click.command(short_help="Check a project for damage (config, names, files, images); --fix repairs.")
@add_config_option
@run_selection_option("Only this run (repeatable; default: every run).")
@output_choice_option(["text", "json"], "text", "Report format (stdout).")
@click.option(
    "--fix",
    is_flag=True,
    default=False,
    help="Remove leftovers of killed writers and empty entity folders; move unreadable annotation files "
    "to a quarantine folder (named in the report). Never deletes data.",
)
@workers_option(8, "Runs checked in parallel.")
@quiet_option
@add_debug_option
@domain_errors
def check(
    config: str | None, run_names: tuple[str, ...], output: str, fix: bool, workers: int, debug: bool
) -> None:
    """Check the config, every run folder and entity name, picks, meshes, images (OME-NGFF metadata,
    levels, a sample of chunks), segmentation labels, leftovers of killed writers and overlay shadows.

    Exit status 0 when no error was found (warnings allowed), 1 otherwise.

    \b
      copick check -c config.json
      copick check -c config.json --run TS_001 --output json
      copick check -c config.json --fix
    """
    from copick.ops.check import check_project

    start(__name__, debug)
    report = check_project(require_config(config), runs=list(run_names) or None, fix=fix, workers=workers)
    if output.lower() == "json":
        import json

        echo_data(json.dumps(report.to_dict(), indent=2))
    else:
        echo_data(report.to_text())
    if not report.ok:
        n = len(report.errors)
        raise CommandFailed(f"{n} error{'s' if n != 1 else ''} found in the project (see the report above).")
