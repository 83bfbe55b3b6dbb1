"""``copick browse``: explore a project in a terminal user interface (textual)."""

from __future__ import annotations

import click

from copick.cli.common import domain_errors, open_root, start
from copick.cli.util import add_config_option, add_debug_option


@click.command(short_help="Browse a copick project in a terminal user interface.")
@add_config_option
@click.option(
    "-ds",
    "--dataset-ids",
    type=int,
    multiple=True,
    help="CZ cryoET Data Portal dataset ID to browse (repeatable; instead of --config).",
)
@add_debug_option
@domain_errors
def browse(config: str | None, dataset_ids: tuple[int, ...], debug: bool) -> None:
    """Browse runs, voxel spacings, tomograms, feature maps, picks, meshes and segmentations.

    Arrows move, Enter/Space expand a node, q quits, r re-lists the project.
    """
    start(__name__, debug)
    source = click.get_current_context().get_parameter_source("config")
    if dataset_ids and config and source is not None and source.name == "COMMANDLINE":
        raise click.UsageError("Give either --config or --dataset-ids, not both.")
    try:
        from copick.cli.browser import CopickBrowser
    except ImportError as err:
        raise click.ClickException(
            f"copick browse needs the 'textual' package ({err}); install it with: pip install textual"
        ) from err
    if dataset_ids:
        from copick.cli.browser import portal_root

        root = portal_root(dataset_ids)
    else:
        root = open_root(config)
    CopickBrowser(root).run()
