"""The ``copick`` command: the root click group, its help sections, core commands and plugin commands.

``cli`` is the assembled group (core commands plus the installed plugins' commands, assembled when first
used); ``main`` is the console-script entry point. Command modules import their heavy dependencies only
when they run, so ``copick --help`` stays fast, and ``copick --version`` loads no command at all.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from copick import __version__

__all__ = [
    "COMMAND_CATEGORIES",
    "CopickCLI",
    "add_core_commands",
    "add_plugin_commands",
    "build_cli",
    "cli",  # noqa: F822 (assembled on first access, see __getattr__)
    "main",
]

COMMAND_CATEGORIES: dict[str, list[str]] = {
    "Data Management": ["add", "cp", "export", "mv", "new", "rm", "sync"],
    "Data Processing": ["convert", "inference", "logical", "process", "training", "evaluation"],
    "Utilities": ["browse", "cache", "config", "deposit", "info", "stats", "setup", "download"],
}
COMMAND_CATEGORIES["Utilities"] += ["check", "report", "show"]  # issue 19: look at and check a project
OTHER_CATEGORY = "Other"

_PLUGIN_GROUP_HELP = {
    "inference": "Inference commands provided by plugins.",
    "training": "Training commands provided by plugins.",
    "evaluation": "Evaluation commands provided by plugins.",
    "process": "Processing commands provided by plugins.",
    "convert": "Conversion commands provided by plugins.",
    "logical": "Logical (set) operations provided by plugins.",
    "setup": "Set-up commands provided by plugins.",
    "download": "Download commands provided by plugins.",
}


class CopickCLI(click.Group):
    """The root group: commands in category sections; clean errors and exit status for every command."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands under "Data Management", "Data Processing", "Utilities", then "Other"."""
        visible = {}
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                visible[name] = cmd
        if not visible:
            return
        width = formatter.width - 6 - max(len(name) for name in visible)
        placed: set[str] = set()
        sections: list[tuple[str, list[str]]] = []
        for category, names in COMMAND_CATEGORIES.items():
            present = sorted(name for name in names if name in visible)
            placed.update(present)
            sections.append((category, present))
        sections.append((OTHER_CATEGORY, sorted(name for name in visible if name not in placed)))
        for title, names in sections:
            if names:
                with formatter.section(title):
                    formatter.write_dl([(name, visible[name].get_short_help_str(width)) for name in names])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["copick.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the sub-command; turn its uncaught errors and recorded item failures into exit status 1."""
        from copick.cli.common import clean_warnings, debug_requested, error_message, finish
        from copick.util.log import set_quiet

        set_quiet(False)
        debug = debug_requested(ctx.meta.get("copick.argv"))
        try:
            with clean_warnings(debug):
                result = super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:
            if debug:
                raise
            raise click.ClickException(error_message(err)) from err
        finish(ctx, option_hint=False)
        return result


def add_core_commands(group: click.Group) -> click.Group:
    """Add copick's own commands to ``group`` and return it."""
    from copick.cli.add import add
    from copick.cli.browse import browse
    from copick.cli.cache import cache
    from copick.cli.check import check
    from copick.cli.config import config
    from copick.cli.croissant import append_croissant, export_croissant, mlcroissant, set_splits
    from copick.cli.dataportal import dataportal
    from copick.cli.deposit import deposit
    from copick.cli.export import export
    from copick.cli.info import info
    from copick.cli.manage import cp, mv, rm
    from copick.cli.new import new
    from copick.cli.report import report
    from copick.cli.show import show
    from copick.cli.stats import stats
    from copick.cli.sync import sync

    config.add_command(dataportal)
    config.add_command(mlcroissant)
    config.add_command(export_croissant)
    config.add_command(append_croissant)
    config.add_command(set_splits)
    for command in (add, browse, cache, config, cp, deposit, export, info, mv, new, rm, stats, sync):
        group.add_command(command)
    for command in (check, report, show):
        group.add_command(command)
    return group


def add_plugin_commands(group: click.Group) -> click.Group:
    """Add the installed plugins' commands: top-level ones directly, others under their plugin group."""
    from copick.cli.ext import PLUGIN_GROUPS, load_plugin_commands

    for name in PLUGIN_GROUPS:
        loaded = load_plugin_commands(name)
        if not loaded:
            continue
        if name == "main":
            for command, _dist in loaded:
                group.add_command(command)
            continue
        sub = group.commands.get(name)
        if not isinstance(sub, click.Group):
            sub = click.Group(name=name, help=_PLUGIN_GROUP_HELP.get(name), no_args_is_help=True)
            group.add_command(sub)
        for command, _dist in loaded:
            sub.add_command(command)
    return group


@click.group(name="copick", cls=CopickCLI)
@click.version_option(__version__, "--version", prog_name="copick", message="%(prog)s %(version)s")
def _root() -> None:
    """copick: storage-agnostic, server-less access to cryo-ET projects."""


def build_cli() -> click.Group:
    """A freshly assembled root group (core and plugin commands), e.g. after installing a plugin."""

    @click.group(name="copick", cls=CopickCLI, help=_root.help)
    @click.version_option(__version__, "--version", prog_name="copick", message="%(prog)s %(version)s")
    def copick_cli() -> None:
        pass

    return add_plugin_commands(add_core_commands(copick_cli))


_assembled: click.Group | None = None


def _get_cli() -> click.Group:
    """The root group with core and plugin commands, assembled on first use."""
    global _assembled
    if _assembled is None:
        _assembled = add_plugin_commands(add_core_commands(_root))
    return _assembled


def __getattr__(name: str) -> Any:
    # ``cli`` is assembled lazily so that ``copick --version`` never imports command or plugin modules.
    if name == "cli":
        return _get_cli()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point of ``copick``."""
    if sys.argv[1:] == ["--version"]:
        click.echo(f"copick {__version__}")
        return
    _get_cli()(prog_name="copick")


if __name__ == "__main__":
    main()
