"""``copick deposit``: a view of a project made of symbolic links, in the standard copick layout, for
upload to the CryoET Data Portal (the work is ``copick.ops.deposit.deposit``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from copick.cli.common import (
    domain_errors,
    exit_zero_option,
    finish_report,
    open_root,
    quiet_option,
    start,
    workers_option,
)
from copick.cli.types import CopickName, CopickURI
from copick.cli.util import add_config_option, add_debug_option

F = Callable[..., Any]


def _uris_option(flag: str, object_type: str, example: str) -> Callable[[F], F]:
    """``--<kind> URI`` (repeatable): what to link of one kind; a kind without it is skipped."""
    return click.option(
        flag,
        f"{flag[2:]}_uris",
        multiple=True,
        type=CopickURI(object_type, "input"),
        help=f"{flag[2:].capitalize()} to link (e.g. '{example}'); repeatable. Without it, no {flag[2:]}.",
    )


@click.command(short_help="Build a depositable view of a project made of symbolic links.")
@add_config_option
@click.option(
    "--target-dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder of the view: <target>/ExperimentRuns/<run>/... (made when missing; reused when re-run).",
)
@click.option(
    "-r",
    "--run-names",
    "run_names",
    multiple=True,
    type=CopickName("run", commas=True, allow_empty=True),
    metavar="NAMES",
    help="Runs to deposit, comma-separated or repeated (default: all runs).",
)
@click.option(
    "--run-name-prefix",
    default="",
    help="Prefix of every run name in the view. Data-portal runs get '<dataset id>_<portal run name>_' "
    "when none is given.",
)
@click.option(
    "--run-name-regex",
    default=None,
    help="Regular expression searched in each run name: the name in the view is its first group "
    "(after the prefix).",
)
@_uris_option("--picks", "picks", "ribosome:alice/*")
@_uris_option("--meshes", "mesh", "membrane:*/*")
@_uris_option("--segmentations", "segmentation", "membrane:*/*@10.0")
@_uris_option("--tomograms", "tomogram", "wbp@10.0")
@_uris_option("--features", "feature", "wbp@10.0:cellcanvas")
@_uris_option("--filaments", "filaments", "microtubule:*/*")
@workers_option(8, "Runs linked in parallel.")
@exit_zero_option
@quiet_option
@add_debug_option
@domain_errors
def deposit(config: str | None, target_dir: str, run_names: tuple[str, ...], workers: int, debug: bool,
            **options: Any) -> None:  # fmt: skip
    """Build <target>/ExperimentRuns/<run>/... in the standard copick layout, made of symbolic links
    (absolute) to the files and image folders that the URIs select; kinds without URIs are skipped.

    Re-running is safe: correct links are kept, links pointing elsewhere are replaced, and a file or
    folder that is not a link is never touched (that item fails). Several projects can be deposited
    into one target, e.g. with distinct --run-name-prefix values. Read-only data of the CryoET Data
    Portal cannot be linked (that item fails). Exit status 1 when an item failed.

    \b
    Examples:
      copick deposit -c config.json --target-dir deposit --picks '*:*/*' --tomograms 'wbp@10.0'
      copick deposit -c config.json --target-dir deposit --run-names TS_001,TS_002 \\
          --run-name-prefix proj1_ --segmentations 'membrane:*/*@10.0'
      copick deposit -c config.json --target-dir deposit --run-name-regex '^(TS_\\d+)' --meshes '*'
    """
    from copick.ops.deposit import deposit as deposit_project

    logger = start(__name__, debug)
    report = deposit_project(
        open_root(config),
        target_dir,
        run_names=list(run_names),
        n_workers=workers,
        **{key: list(value) if key.endswith("_uris") else value for key, value in options.items()},
    )
    _log_report(logger, report, target_dir)
    finish_report(report)


def _log_report(logger: Any, report: Any, target_dir: str) -> None:
    """Log replaced links, failures and the counts; nothing selected is a warning."""
    for line in report.replaced:
        logger.warning(f"Replaced link {line}")
    for error in report.errors:
        logger.error(f"Failed: {error}")
    if report.total == 0:
        logger.warning("Nothing matched the given URIs (--picks, --tomograms ...); no link was made.")
        return
    runs = {label.split("/")[1] for label in [*report.items, *report.kept, *report.replaced]}
    logger.info(
        f"Deposited {len(runs)} run(s) into {target_dir}: {report.done} link(s) made, "
        f"{len(report.kept)} kept, {len(report.replaced)} replaced."
    )
