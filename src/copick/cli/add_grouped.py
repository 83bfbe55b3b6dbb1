"""``copick add picks-em | picks-dynamo | picks-relion``: picks files of several tomograms, one run per
tomogram (registered on the ``add`` group by ``copick.cli.add``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from copick.cli.common import choice_option, domain_errors, open_root, start
from copick.cli.options_io import (
    RELION_VERSIONS,
    PicksTarget,
    RelionInputs,
    WriteMode,
    closing_options,
    expand_or_usage_error,
    finish_import,
    input_file_option,
    picks_target,
    relion_inputs,
    voxel_size_option,
    write_mode,
)
from copick.cli.util import add_config_option

F = Callable[..., Any]


def _grouped_import(
    config: str | None,
    debug: bool,
    path: str,
    file_type: str,
    target: PicksTarget,
    mode: WriteMode,
    **options: Any,
) -> None:
    """Import multi-tomogram picks files, one run per tomogram; report and set the exit status."""
    from copick.ops.importers import add_picks_grouped_from_paths

    logger = start(__name__, debug)
    expand_or_usage_error(path)
    report = add_picks_grouped_from_paths(
        open_root(config),
        path,
        target.object_name,
        file_type,
        user_id=target.user_id,
        session_id=target.session_id,
        **mode.ops_kwargs(),
        **options,
    )
    finish_import(logger, report, "picks", path)


_INDEX_MAP_HELP = "Two-column CSV/TSV 'index,run_name' (no header) mapping tomogram indices to runs."


@click.command("picks-em", short_help="Import an EM motive list of several tomograms.")
@add_config_option
@picks_target
@voxel_size_option("Tomogram voxel size in Angstrom (coordinates are 1-based pixels).", required=True)
@input_file_option("--index-map", _INDEX_MAP_HELP, required=True)
@click.option(
    "--tomo-index-row",
    type=click.IntRange(min=0, max=19),
    default=4,
    show_default=True,
    help="0-based row of the motive list holding the tomogram index.",
)
@write_mode
@closing_options
@domain_errors
def picks_em(
    config: str | None,
    target: PicksTarget,
    voxel_size: float,
    index_map: str,
    tomo_index_row: int,
    mode: WriteMode,
    debug: bool,
    path: str,
) -> None:
    """Import the TOM/Artiatomi EM motive list(s) PATH, splitting particles into runs by tomogram index.

    Particles whose index is not in --index-map are not imported (counted and reported).
    """
    _grouped_import(
        config,
        debug,
        path,
        "em",
        target,
        mode,
        voxel_size=voxel_size,
        index_map=index_map,
        tomo_index_row=tomo_index_row,
    )


@click.command("picks-dynamo", short_help="Import a Dynamo table of several tomograms.")
@add_config_option
@picks_target
@voxel_size_option("Tomogram voxel size in Angstrom (coordinates are pixels).", required=True)
@input_file_option("--index-map", _INDEX_MAP_HELP)
@input_file_option("--tomolist", "Dynamo tomolist ('index path' lines; run = file name without .mrc/.rec).")
@write_mode
@closing_options
@domain_errors
def picks_dynamo(
    config: str | None,
    target: PicksTarget,
    voxel_size: float,
    index_map: str | None,
    tomolist: str | None,
    mode: WriteMode,
    debug: bool,
    path: str,
) -> None:
    """Import the Dynamo table(s) PATH, splitting particles into runs by their tomo column (20).

    Give exactly one of --index-map and --tomolist. Particles of unmapped tomograms are not imported
    (counted and reported).
    """
    if bool(index_map) == bool(tomolist):
        raise click.UsageError("Give exactly one of --index-map and --tomolist.")
    _grouped_import(
        config,
        debug,
        path,
        "dynamo",
        target,
        mode,
        voxel_size=voxel_size,
        index_map=index_map,
        tomolist=tomolist,
    )


@click.command("picks-relion", short_help="Import a RELION STAR file of several tomograms.")
@add_config_option
@picks_target
@voxel_size_option("Tomogram voxel size in Angstrom (legacy pixel coordinates; tomogram centre lookup).")
@relion_inputs
@choice_option(
    "--relion-version",
    RELION_VERSIONS,
    "auto",
    help="relion5 forces centred Angstrom coordinates, relion4 pixel coordinates; auto decides by columns.",
)
@write_mode
@closing_options
@domain_errors
def picks_relion(
    config: str | None,
    target: PicksTarget,
    voxel_size: float | None,
    relion: RelionInputs,
    relion_version: str,
    mode: WriteMode,
    debug: bool,
    path: str,
) -> None:
    """Import the RELION particles STAR file(s) PATH, one run per rlnTomoName (created if missing)."""
    _grouped_import(
        config,
        debug,
        path,
        "star",
        target,
        mode,
        voxel_size=voxel_size,
        **vars(relion),
        relion_version=relion_version.lower(),
    )
