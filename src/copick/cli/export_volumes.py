"""``copick export tomogram | segmentation``: volumes to MRC, TIFF, Zarr (or EM for segmentations), one
file per run and match (registered on the ``export`` group by ``copick.cli.export``)."""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import choice_option, domain_errors, open_root, option_group, start
from copick.cli.options_io import (
    export_closing_options,
    export_uri_option,
    finish_export,
    output_dir_option,
    output_format_option,
)
from copick.cli.util import (
    add_config_option,
    add_pyramid_export_options,
    add_run_names_option,
    resolve_run_names,
)

#: Pyramid level, TIFF compression, workers, exit status and logging (listed last in --help).
_closing = option_group(add_pyramid_export_options, export_closing_options)


def _export_volumes(
    what: str,
    uri_option: str,
    uri: str,
    config: str | None,
    run_names: tuple[str, ...],
    output_dir: str,
    output_format: str,
    level: int,
    compression: str | None,
    copy_all_levels: bool,
    workers: int,
    debug: bool,
    **extra: Any,
) -> None:
    """Export the ``what`` (``tomograms``/``segmentations``) that ``uri`` (the ``export_runs`` argument
    ``uri_option``) selects in every run or the -r runs; log the summary and set the exit status."""
    from copick.ops.export import export_runs

    logger = start(__name__, debug)
    if level < 0:
        raise click.BadParameter(f"must be 0 or more, got {level}.", param_hint="--level")
    names = resolve_run_names(run_names, logger=logger)
    results = export_runs(
        open_root(config),
        output_dir,
        run_names=names,
        **{uri_option: uri},
        output_format=output_format.lower(),
        n_workers=workers,
        level=level,
        compression=None if compression is None or compression.lower() == "none" else compression.lower(),
        copy_all_levels=copy_all_levels,
        **extra,
    )
    finish_export(logger, results, what, what, uri, output_dir)


@click.command("tomogram", short_help="Export tomograms to MRC, TIFF or Zarr.")
@add_config_option
@add_run_names_option
@export_uri_option(
    "tomogram", "Tomograms to export: tomo_type@voxel_spacing (globs and re: patterns allowed)."
)
@output_dir_option("Output folder: <dir>/<run>/VoxelSpacing<vs>/<type>.<ext>.")
@output_format_option(["mrc", "tiff", "zarr"], "File format (MRC/TIFF: float32, voxel size vs*2^level).")
@_closing
@domain_errors
def tomogram(tomogram_uri: str, **options: Any) -> None:
    """Export the tomograms --tomogram-uri selects, in every run (or the -r runs).

    \b
    Example:
      copick export tomogram --tomogram-uri wbp@10.0 --output-format mrc --output-dir out -c config.json
    """
    _export_volumes("tomograms", "tomogram_uri", tomogram_uri, **options)


@click.command("segmentation", short_help="Export segmentations to MRC, TIFF, Zarr or EM.")
@add_config_option
@add_run_names_option
@export_uri_option(
    "segmentation", "Segmentations to export: name[:user_id[/session_id]][@voxel_spacing] (patterns allowed)."
)
@output_dir_option("Output folder: <dir>/<run>/Segmentations/<name>_<user>_<session>[_channel].<ext>.")
@output_format_option(
    ["mrc", "tiff", "zarr", "em"], "File format (MRC: int16/uint16/float32 as the labels need)."
)
@choice_option(
    "--channel",
    ["label", "instance"],
    help="Panoptic segmentations: the channel to export (required for MRC and EM).",
)
@_closing
@domain_errors
def segmentation(segmentation_uri: str, channel: str | None, **options: Any) -> None:
    """Export the segmentations --segmentation-uri selects, in every run (or the -r runs).

    When one segmentation exists at several voxel spacings, the voxel size is prepended to the file
    names so that they do not collide.

    \b
    Example:
      copick export segmentation --segmentation-uri 'membrane:alice/1@10.0' --output-format tiff \\
          --output-dir out -c config.json
    """
    channel = channel.lower() if channel else None
    _export_volumes("segmentations", "segmentation_uri", segmentation_uri, channel=channel, **options)
