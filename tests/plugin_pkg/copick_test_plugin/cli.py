"""Commands of the test plugin: one top-level, one under ``convert``, one under ``setup``."""

from __future__ import annotations

import click

from copick.cli.util import add_config_option, add_debug_option
from copick.util.log import get_logger


@click.command(short_help="Say hello to a copick project.")
@add_config_option
@add_debug_option
def hello(config: str | None, debug: bool) -> None:
    """Print the number of runs of the project (a top-level plugin command)."""
    import copick

    logger = get_logger(__name__, debug=debug)
    root = copick.from_file(config)
    logger.info("hello is running")
    click.echo(f"hello from the plugin: {len(root.runs)} runs")


@click.command(name="count-picks", short_help="Count pick sets per run.")
@add_config_option
@click.option("--fail-run", multiple=True, help="Pretend this run fails.")
@add_debug_option
def count_picks(config: str | None, fail_run: tuple[str, ...], debug: bool) -> None:
    """Count pick sets per run with map_runs and report with report_results (a convert command)."""
    import copick
    from copick.ops.run import map_runs, report_results

    logger = get_logger(__name__, debug=debug)
    root = copick.from_file(config)

    def count(run):
        if run.name in fail_run:
            return {"processed": 0, "errors": [f"{run.name}: pretended failure"]}
        return {"processed": len(run.picks), "errors": []}

    results = map_runs(count, root, [r.name for r in root.runs], workers=2, task_desc="Counting")
    report_results(results, sum(len(r.picks) for r in root.runs), logger)
    for name, result in sorted(results.items()):
        click.echo(f"{name}: {result['processed']}")


@click.command(name="prepare", short_help="A set-up command.")
def prepare() -> None:
    """Do nothing, loudly (a setup command)."""
    click.echo("prepared")


def not_a_command() -> None:
    """An entry point that is not a click command (must be skipped with a CRITICAL log)."""
