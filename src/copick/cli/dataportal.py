"""``copick config dataportal``: write the config of a project over CryoET Data Portal datasets."""

from __future__ import annotations

import os

import click

from copick.cli.common import domain_errors, quiet_option, start
from copick.cli.util import add_debug_option


@click.command(short_help="Set up a configuration file from CZDP dataset IDs.")
@click.option(
    "-ds", "--dataset-id", "dataset_ids", type=int, multiple=True, required=True,
    help="Dataset IDs from the CryoET Data Portal to include in the configuration (repeatable).",
)  # fmt: skip
@click.option(
    "--overlay", required=True, type=click.Path(file_okay=False),
    help="Local overlay directory where new or intermediate files are stored or read.",
)  # fmt: skip
@click.option(
    "--output", default="config.json", show_default=True, required=True, type=click.Path(dir_okay=False),
    help="Path to save the generated configuration file.",
)  # fmt: skip
@quiet_option
@add_debug_option
@domain_errors
def dataportal(dataset_ids: tuple[int, ...], overlay: str, output: str, debug: bool) -> None:
    """Write a config reading tomograms, picks and segmentations of portal datasets (read-only), with a
    local overlay for everything you write; one pickable object per annotated portal object.

    \b
    Example:
      copick config dataportal -ds 10440 -ds 10441 --overlay ./overlay --output config.json
    """
    from copick.ops.open import from_czcdp_datasets

    logger = start(__name__, debug)
    overlay_root = "local://" + os.path.abspath(overlay)
    root = from_czcdp_datasets(list(dataset_ids), overlay_root, {"auto_mkdir": True}, output_path=output)
    logger.info(
        f"Wrote config {os.path.abspath(output)} (datasets {', '.join(map(str, dataset_ids))}, "
        f"{len(root.pickable_objects)} pickable objects, overlay {overlay_root})"
    )
