"""``copick report``: a static HTML page of a project (index.html and thumbnails, no server)."""

from __future__ import annotations

import click

from copick.cli.common import domain_errors, echo_data, open_root, quiet_option, start, workers_option
from copick.cli.util import add_config_option, add_debug_option, add_run_names_option


@click.command(short_help="Write a static HTML report of a project (thumbnails, counts, check findings).")
@add_config_option
@click.option(
    "-o", "--output", "output_dir", type=click.Path(file_okay=False), required=True, help="Folder to write."
)
@add_run_names_option(help="Only this run (repeatable; default: every run).")
@click.option(
    "--check/--no-check", default=True, show_default=True, help="Include the findings of copick check."
)
@workers_option(8, "Runs read and thumbnails rendered in parallel.")
@quiet_option
@add_debug_option
@domain_errors
def report(
    config: str | None, output_dir: str, run_names: tuple[str, ...], check: bool, workers: int, debug: bool
) -> None:
    """Write OUTPUT/index.html: objects with colours, labels and identifier links, per-run thumbnails
    (central slice with picks), annotation counts per object/user/session, tomogram shapes and voxel
    sizes, and the findings of copick check. Thumbnails are cached by content in OUTPUT/thumbs, so
    writing the report again renders only what changed. Prints the page's path.

    \b
      copick report -c config.json -o report/
    """
    from copick.ops.html_report import write_report
    from copick.ops.names import split_names

    logger = start(__name__, debug)
    root = open_root(config)
    runs = [n for value in run_names for n in split_names(value)] or None
    index = write_report(root, output_dir, workers=workers, check=check, runs=runs)
    logger.info(f"Wrote the report of {len(root.runs) if runs is None else len(runs)} runs.")
    echo_data(index)
