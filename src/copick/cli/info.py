"""``copick info``: the installed copick version, plugin packages and plugin commands by group."""

from __future__ import annotations

import click

from copick.cli.common import domain_errors, echo_data, quiet_option, start
from copick.cli.util import add_debug_option


@click.command(short_help="Show copick's version and the installed plugins and their commands.")
@click.option("--json", "as_json", is_flag=True, default=False, help="Print the information as JSON.")
@quiet_option
@add_debug_option
@domain_errors
def info(as_json: bool, debug: bool) -> None:
    """Show copick's version, the installed plugin packages and the commands they add, by group.

    Groups: main (top-level commands), inference, training, evaluation, process, convert, logical, setup
    and download. The listing goes to stdout; ``--json`` prints it as one JSON document.
    """
    from copick import __version__
    from copick.cli.ext import PLUGIN_GROUPS, get_plugin_versions, load_plugin_commands

    start(__name__, debug)
    commands = {
        group: [
            {"name": cmd.name, "short_help": cmd.get_short_help_str(limit=80), "package": dist}
            for cmd, dist in load_plugin_commands(group)
        ]
        for group in PLUGIN_GROUPS
    }
    plugins = get_plugin_versions()
    if as_json:
        import json

        document = {
            "version": __version__,
            "plugins": [{"name": n, "version": v} for n, v in plugins.items()],
            "commands": commands,
        }
        echo_data(json.dumps(document, indent=2))
        return
    lines = [f"copick {__version__}"]
    if plugins:
        lines += ["", "Plugin packages:"] + [f"  {name} {version}" for name, version in plugins.items()]
    if not any(commands.values()):
        lines += ["", "No plugin commands available."]
    else:
        lines += ["", "Plugin commands:"]
        for group, entries in commands.items():
            if entries:
                lines.append(f"{group}:")
                lines += [f"  {e['name']:<20} {e['short_help']} [{e['package']}]" for e in entries]
    echo_data("\n".join(lines))
