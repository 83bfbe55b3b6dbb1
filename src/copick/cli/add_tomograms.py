"""``copick add tomograms-dynamo | tomograms-relion``: the tomograms a Dynamo tomolist or a RELION
``tomograms.star`` lists, one run each (registered on the ``add`` group by ``copick.cli.add``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from copick.cli.common import domain_errors, exit_zero_option, open_root, option_group, quiet_option, start
from copick.cli.options_io import (
    VOLUME_TYPES,
    Transform,
    WriteMode,
    file_type_option,
    transform,
    voxel_size_option,
    write_mode,
)
from copick.cli.types import CopickName
from copick.cli.util import add_config_option, add_debug_option, add_pyramid_create_options

F = Callable[..., Any]

#: Options both commands share after their list options, in ``--help`` order.
_volume_options = option_group(
    click.option(
        "--tomo-type",
        type=CopickName("tomo_type"),
        default="wbp",
        show_default=True,
        help="Tomogram type (reconstruction method).",
    ),
    file_type_option(VOLUME_TYPES, "File format (default: from each file's extension)."),
)
_closing = option_group(add_pyramid_create_options, transform, write_mode, exit_zero_option, quiet_option)


def _import(op: F, debug: bool, config: str | None, pyramid: dict[str, Any], **options: Any) -> None:
    """Run the import ``op`` of ``copick.ops.import_tomogram_lists``; log its summary, set the exit status."""
    from copick.cli.add import _parse_chunks
    from copick.cli.options_io import finish_import
    from copick.ops.import_tomogram_lists import NoTomogramsError

    logger = start(__name__, debug)
    if pyramid["pyramid_levels"] < 1:
        raise click.BadParameter(
            f"must be at least 1, got {pyramid['pyramid_levels']}.", param_hint="--pyramid-levels"
        )
    chunks = _parse_chunks(pyramid.pop("chunk_size"))
    transform_: Transform = options.pop("transform")
    mode: WriteMode = options.pop("mode")
    try:
        report = op(
            open_root(config), chunks=chunks, **pyramid, **vars(transform_), **mode.ops_kwargs(), **options
        )
    except NoTomogramsError as err:  # a usage error (exit 2), as in copick 1.31
        raise click.UsageError(str(err)) from None
    finish_import(logger, report, "tomograms", options.get("tomolist") or options["tomograms_star"])


@click.command("tomograms-dynamo", short_help="Import the tomograms a Dynamo tomolist lists.")
@add_config_option
@click.option(
    "--tomolist",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="Dynamo tomolist: lines 'index path' (tab or space separated; relative paths from the working "
    "directory).",
)
@click.option(
    "--index-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Two-column CSV/TSV 'index,run_name' naming the runs (default: each file's name without extension).",
)
@_volume_options
@voxel_size_option("Voxel size in Angstrom (overrides the file headers; required for TIFF and EM).")
@_closing
@add_debug_option
@domain_errors
def tomograms_dynamo(
    config: str | None,
    debug: bool,
    create_pyramid: bool,
    pyramid_levels: int,
    chunk_size: str,
    **options: Any,
) -> None:
    """Import each tomogram of a Dynamo tomolist into its own run (an OME-Zarr pyramid per tomogram).

    \b
    Examples:
      copick add tomograms-dynamo -c config.json --tomolist tomograms.doc
      copick add tomograms-dynamo -c config.json --tomolist tomograms.doc --index-map runs.csv
    """
    pyramid = dict(create_pyramid=create_pyramid, pyramid_levels=pyramid_levels, chunk_size=chunk_size)
    from copick.ops.import_tomogram_lists import add_tomograms_dynamo

    _import(add_tomograms_dynamo, debug, config, pyramid, **options)


@click.command("tomograms-relion", short_help="Import the tomograms a RELION tomograms.star lists.")
@add_config_option
@click.option(
    "--tomograms-star",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="RELION 5 tomograms.star (one row per rlnTomoName).",
)
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
@add_debug_option
@domain_errors
def tomograms_relion(
    config: str | None,
    debug: bool,
    create_pyramid: bool,
    pyramid_levels: int,
    chunk_size: str,
    **options: Any,
) -> None:
    """Import each reconstruction of a RELION tomograms.star into the run named by its rlnTomoName.

    \b
    Examples:
      copick add tomograms-relion -c config.json --tomograms-star tomograms.star --base-dir relion/
      copick add tomograms-relion -c config.json --tomograms-star tomograms.star --base-dir . --half half2
    """
    pyramid = dict(create_pyramid=create_pyramid, pyramid_levels=pyramid_levels, chunk_size=chunk_size)
    from copick.ops.import_tomogram_lists import add_tomograms_relion

    _import(add_tomograms_relion, debug, config, pyramid, **options)
