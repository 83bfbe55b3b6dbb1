"""``copick add tomograms-dynamo | tomograms-relion``: the tomograms a Dynamo tomolist or a RELION
``tomograms.star`` lists, one run each (registered on the ``add`` group by ``copick.cli.add``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from copick.cli.common import domain_errors, exit_zero_option, open_root, option_group, quiet_option, start
from copick.cli.options_io import (
    VOLUME_TYPES,
    Pyramid,
    Transform,
    WriteMode,
    file_type_option,
    finish_import,
    input_file_option,
    pyramid,
    tomo_type_option,
    transform,
    voxel_size_option,
    write_mode,
)
from copick.cli.util import add_config_option, add_debug_option

F = Callable[..., Any]

#: Options both commands share after their list options, in ``--help`` order.
_volume_options = option_group(
    tomo_type_option(), file_type_option(VOLUME_TYPES, "File format (default: from each file's extension).")
)
_closing = option_group(pyramid, transform, write_mode, exit_zero_option, quiet_option, add_debug_option)


def _import(op: F, config: str | None, debug: bool, listing: str, **options: Any) -> None:
    """Run the import ``op`` of ``copick.ops.import_tomogram_lists`` with the command's ``options``; log
    its summary naming the ``listing`` file, set the exit status."""
    from copick.ops.import_tomogram_lists import NoTomogramsError

    logger = start(__name__, debug)
    pyramid_: Pyramid = options.pop("pyramid")
    transform_: Transform = options.pop("transform")
    mode: WriteMode = options.pop("mode")
    try:
        report = op(
            open_root(config), **pyramid_.ops_kwargs(), **vars(transform_), **mode.ops_kwargs(), **options
        )
    except NoTomogramsError as err:  # a usage error (exit 2), as in copick 1.31
        raise click.UsageError(str(err)) from None
    finish_import(logger, report, "tomograms", listing)


@click.command("tomograms-dynamo", short_help="Import the tomograms a Dynamo tomolist lists.")
@add_config_option
@input_file_option(
    "--tomolist",
    "Dynamo tomolist: lines 'index path' (tab or space separated; relative paths from the working "
    "directory).",
    required=True,
)
@input_file_option(
    "--index-map",
    "Two-column CSV/TSV 'index,run_name' naming the runs (default: each file's name without extension).",
)
@_volume_options
@voxel_size_option("Voxel size in Angstrom (overrides the file headers; required for TIFF and EM).")
@_closing
@domain_errors
def tomograms_dynamo(config: str | None, debug: bool, **options: Any) -> None:
    """Import each tomogram of a Dynamo tomolist into its own run (an OME-Zarr pyramid per tomogram).

    \b
    Examples:
      copick add tomograms-dynamo -c config.json --tomolist tomograms.doc
      copick add tomograms-dynamo -c config.json --tomolist tomograms.doc --index-map runs.csv
    """
    from copick.ops.import_tomogram_lists import add_tomograms_dynamo

    _import(add_tomograms_dynamo, config, debug, options["tomolist"], **options)


@click.command("tomograms-relion", short_help="Import the tomograms a RELION tomograms.star lists.")
@add_config_option
@input_file_option("--tomograms-star", "RELION 5 tomograms.star (one row per rlnTomoName).", required=True)
@click.option(
    "--base-dir",
    type=click.Path(exists=True, file_okay=False),
    required=True,
    help="RELION project directory; relative paths of the STAR file are resolved from it.",
)
@click.option(
    "--half",
    type=click.Choice(["half1", "half2"]),
    default="half1",
    show_default=True,
    help="Which reconstruction half to import (rlnTomoReconstructedTomogramHalf1/Half2).",
)
@_volume_options
@voxel_size_option(
    "Voxel size in Angstrom (default: rlnTomoTiltSeriesPixelSize x rlnTomoTomogramBinning of each row)."
)
@_closing
@domain_errors
def tomograms_relion(config: str | None, debug: bool, **options: Any) -> None:
    """Import each reconstruction of a RELION tomograms.star into the run named by its rlnTomoName.

    \b
    Examples:
      copick add tomograms-relion -c config.json --tomograms-star tomograms.star --base-dir relion/
      copick add tomograms-relion -c config.json --tomograms-star tomograms.star --base-dir . --half half2
    """
    from copick.ops.import_tomogram_lists import add_tomograms_relion

    _import(add_tomograms_relion, config, debug, options["tomograms_star"], **options)
