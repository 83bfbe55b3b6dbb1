"""``copick export picks|tomogram|segmentation``: picks to CSV/STAR/EM/Dynamo, volumes to MRC/TIFF/Zarr/EM.

Failed items are listed and make the command exit 1 (``--exit-zero`` keeps copick 1.31's exit 0); an
empty selection is a warning, not a failure.
"""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import (
    domain_errors,
    exit_zero_option,
    finish,
    open_root,
    option_group,
    quiet_option,
    record_failures,
    start,
    workers_option,
)
from copick.cli.types import CopickName, CopickURI, VoxelSize
from copick.cli.util import (
    add_config_option,
    add_debug_option,
    add_pyramid_export_options,
    add_run_names_option,
    resolve_run_names,
)


@click.group(short_help="Export picks, tomograms and segmentations to files.")
def export() -> None:
    """Export picks (CSV, RELION STAR, EM, Dynamo), tomograms and segmentations (MRC, TIFF, Zarr, EM)."""


#: Workers, exit status and logging options (listed last in --help).
_tail_options = option_group(workers_option(4), exit_zero_option, quiet_option, add_debug_option)


def _report(logger: Any, results: list[dict[str, Any]], key: str, what: str, uri: str, out: str) -> None:
    """Log the outcome of a per-run export, record failures for the exit status, and finish."""
    written = sum(r.get(key, 0) for r in results)
    errors = [e for r in results for e in r.get("errors", [])]
    skipped = [s for r in results for s in r.get("skipped", [])]
    for item in skipped:
        logger.warning(f"Skipped {item}")
    for error in errors:
        logger.error(f"Failed: {error}")
    runs_with = sum(1 for r in results if r.get(key, 0))
    if written == 0 and not errors and not skipped:
        logger.warning(f"No {what} matched {uri!r} in {len(results)} run(s); nothing was exported.")
    else:
        logger.info(f"Exported {written} {what} from {runs_with} of {len(results)} runs to {out}")
    record_failures(errors, written + len(errors))
    finish()
    if written and not errors:
        logger.info("Export completed successfully.")


# --------------------------------------------------------------------------------------------------------
# export picks
# --------------------------------------------------------------------------------------------------------


@export.command(short_help="Export picks to CSV, RELION STAR, EM or Dynamo files.")
@add_config_option
@add_run_names_option
@click.option(
    "--picks-uri",
    type=CopickURI("picks", "input"),
    required=True,
    help="Picks to export: object_name[:user_id[/session_id]] (globs and re: patterns allowed).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one file per pick set: <dir>/<run>_<object>_<user>_<session>.<ext>.",
)
@click.option(
    "--output-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every selected run into this one file (EM/Dynamo need --index-map).",
)
@click.option(
    "--output-format",
    type=click.Choice(["em", "star", "dynamo", "csv"], case_sensitive=False),
    required=True,
    help="File format.",
)
@click.option(
    "--voxel-size",
    type=VoxelSize(),
    default=None,
    help="Tomogram voxel size in Angstrom (required for EM and Dynamo: their coordinates are pixels).",
)
@click.option(
    "--index-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="'index,run_name' CSV/TSV: tomogram index of each run (required for a combined EM/Dynamo file; "
    "default index 1 per run).",
)
@click.option(
    "--include-optics/--no-include-optics",
    default=True,
    show_default=True,
    help="STAR: write a data_optics block (when a tilt-series pixel size is known).",
)
@click.option(
    "--tilt-series-pixel-size",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="STAR: tilt-series pixel size in Angstrom (pixel coordinates rlnCoordinateX/Y/Z).",
)
@click.option(
    "--tomograms-star",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="STAR: RELION tomograms.star giving pixel sizes and tomogram sizes (centres).",
)
@click.option(
    "--star-layout",
    type=click.Choice(["particles", "import"], case_sensitive=False),
    default="particles",
    show_default=True,
    help="Combined STAR: one particles file, or a data_coordinate_files index plus one STAR per run.",
)
@click.option(
    "--tomo-type",
    type=CopickName("tomo_type"),
    default=None,
    help="STAR: tomogram type whose shape gives the centre.",
)
@click.option(
    "--coordinates",
    type=click.Choice(["auto", "centered"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="STAR: 'centered' requires centred Angstrom coordinates (the tomogram centre must be known).",
)
@click.option(
    "--filament-columns",
    type=click.Choice(["auto", "on", "off"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="STAR: helical columns (auto: for filament objects).",
)
@click.option(
    "--polarity-from-filaments/--no-polarity-from-filaments",
    default=True,
    show_default=True,
    help="STAR: take the filament polarity from the object's description.",
)
@click.option(
    "--filaments-uri", type=CopickURI("filaments", "input"), default=None, help="STAR: filaments to use."
)
@click.option(
    "--filament-angles",
    type=click.Choice(["frame", "pose"], case_sensitive=False),
    default="frame",
    show_default=True,
    help="STAR: filament angles as subtomogram frame + (0,90,0), or as the particle pose.",
)
@click.option(
    "--half-sets",
    type=click.Choice(["none", "filament"], case_sensitive=False),
    default="none",
    show_default=True,
    help="STAR: rlnRandomSubset 1/2 balanced by whole filament.",
)
@_tail_options
@domain_errors
def picks(
    config: str | None,
    run_names: tuple[str, ...],
    picks_uri: str,
    output_dir: str | None,
    output_file: str | None,
    output_format: str,
    voxel_size: float | None,
    index_map: str | None,
    include_optics: bool,
    tilt_series_pixel_size: float | None,
    tomograms_star: str | None,
    star_layout: str,
    tomo_type: str | None,
    coordinates: str,
    filament_columns: str,
    polarity_from_filaments: bool,
    filaments_uri: str | None,
    filament_angles: str,
    half_sets: str,
    workers: int,
    debug: bool,
) -> None:
    """Export the picks --picks-uri selects, one file per pick set (--output-dir) or one file (--output-file).

    Coordinates: CSV in Angstrom; EM (1-based) and Dynamo in pixels of --voxel-size; STAR in tilt-series
    pixels and/or Angstrom relative to the tomogram centre, whichever can be computed.

    \b
    Examples:
      copick export picks --picks-uri 'ribosome:alice/1' --output-format csv --output-dir out -c config.json
      copick export picks --picks-uri ribosome --output-format star --output-file particles.star \\
          --tilt-series-pixel-size 1.35 -c config.json
      copick export picks --picks-uri ribosome --output-format em --output-file all.em \\
          --voxel-size 10 --index-map map.csv -c config.json
    """
    logger = start(__name__, debug)
    fmt = output_format.lower()
    if bool(output_dir) == bool(output_file):
        raise click.UsageError("Give exactly one of --output-dir (one file per pick set) and --output-file.")
    if fmt in ("em", "dynamo") and voxel_size is None:
        raise click.UsageError(f"--voxel-size is required for {fmt} output (its coordinates are pixels).")
    if output_file and fmt in ("em", "dynamo") and not index_map:
        raise click.UsageError(
            f"--index-map is required for a combined {fmt} file (run name -> tomogram index)."
        )
    names = resolve_run_names(run_names, logger=logger)
    root = open_root(config)
    star = dict(
        include_optics=include_optics,
        tilt_series_pixel_size=tilt_series_pixel_size,
        tomograms_star=tomograms_star,
        tomo_type=tomo_type,
        coordinates=coordinates.lower(),
        filament_columns=filament_columns.lower(),
        polarity_from_filaments=polarity_from_filaments,
        filaments_uri=filaments_uri,
        filament_angles=filament_angles.lower(),
        half_sets=None if half_sets.lower() == "none" else half_sets.lower(),
    )
    if output_file:
        from copick.ops.export import export_picks_combined

        export_picks_combined(
            root,
            output_file,
            picks_uri,
            fmt,
            voxel_spacing=voxel_size,
            run_names=names,
            run_to_index=index_map,
            star_layout=star_layout.lower(),
            log=True,
            **star,
        )
        logger.info("Export completed successfully.")
        return
    from copick.ops.export import export_runs

    run_to_index = None
    if index_map:
        from copick.formats.index_maps import read_index_map_inverse

        run_to_index = read_index_map_inverse(index_map)
    results = export_runs(
        root,
        output_dir,
        run_names=names,
        picks_uri=picks_uri,
        output_format=fmt,
        n_workers=workers,
        voxel_spacing=voxel_size,
        run_to_index=run_to_index,
        **star,
    )
    _report(logger, results, "picks", "pick sets", picks_uri, str(output_dir))


# --------------------------------------------------------------------------------------------------------
# export tomogram / segmentation
# --------------------------------------------------------------------------------------------------------


def _compression(value: str | None) -> str | None:
    return None if value is None or value.lower() == "none" else value.lower()


@export.command(short_help="Export tomograms to MRC, TIFF or Zarr.")
@add_config_option
@add_run_names_option
@click.option(
    "--tomogram-uri",
    type=CopickURI("tomogram", "input"),
    required=True,
    help="Tomograms to export: tomo_type@voxel_spacing (globs and re: patterns allowed).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output folder: <dir>/<run>/VoxelSpacing<vs>/<type>.<ext>.",
)
@click.option(
    "--output-format",
    type=click.Choice(["mrc", "tiff", "zarr"], case_sensitive=False),
    required=True,
    help="File format (MRC/TIFF: float32, voxel size vs*2^level).",
)
@add_pyramid_export_options
@_tail_options
@domain_errors
def tomogram(
    config: str | None,
    run_names: tuple[str, ...],
    tomogram_uri: str,
    output_dir: str,
    output_format: str,
    level: int,
    compression: str | None,
    copy_all_levels: bool,
    workers: int,
    debug: bool,
) -> None:
    """Export the tomograms --tomogram-uri selects, in every run (or the -r runs).

    \b
    Example:
      copick export tomogram --tomogram-uri wbp@10.0 --output-format mrc --output-dir out -c config.json
    """
    from copick.ops.export import export_runs

    logger = start(__name__, debug)
    if level < 0:
        raise click.BadParameter(f"must be 0 or more, got {level}.", param_hint="--level")
    names = resolve_run_names(run_names, logger=logger)
    root = open_root(config)
    results = export_runs(
        root,
        output_dir,
        run_names=names,
        tomogram_uri=tomogram_uri,
        output_format=output_format.lower(),
        n_workers=workers,
        level=level,
        compression=_compression(compression),
        copy_all_levels=copy_all_levels,
    )
    _report(logger, results, "tomograms", "tomograms", tomogram_uri, output_dir)


@export.command(short_help="Export segmentations to MRC, TIFF, Zarr or EM.")
@add_config_option
@add_run_names_option
@click.option(
    "--segmentation-uri",
    type=CopickURI("segmentation", "input"),
    required=True,
    help="Segmentations to export: name[:user_id[/session_id]][@voxel_spacing] (patterns allowed).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output folder: <dir>/<run>/Segmentations/<name>_<user>_<session>[_channel].<ext>.",
)
@click.option(
    "--output-format",
    type=click.Choice(["mrc", "tiff", "zarr", "em"], case_sensitive=False),
    required=True,
    help="File format (MRC: int16/uint16/float32 as the labels need).",
)
@click.option(
    "--channel",
    type=click.Choice(["label", "instance"], case_sensitive=False),
    default=None,
    help="Panoptic segmentations: the channel to export (required for MRC and EM).",
)
@add_pyramid_export_options
@_tail_options
@domain_errors
def segmentation(
    config: str | None,
    run_names: tuple[str, ...],
    segmentation_uri: str,
    output_dir: str,
    output_format: str,
    channel: str | None,
    level: int,
    compression: str | None,
    copy_all_levels: bool,
    workers: int,
    debug: bool,
) -> None:
    """Export the segmentations --segmentation-uri selects, in every run (or the -r runs).

    When one segmentation exists at several voxel spacings, the voxel size is prepended to the file
    names so that they do not collide.

    \b
    Example:
      copick export segmentation --segmentation-uri 'membrane:alice/1@10.0' --output-format tiff \\
          --output-dir out -c config.json
    """
    from copick.ops.export import export_runs

    logger = start(__name__, debug)
    if level < 0:
        raise click.BadParameter(f"must be 0 or more, got {level}.", param_hint="--level")
    names = resolve_run_names(run_names, logger=logger)
    root = open_root(config)
    results = export_runs(
        root,
        output_dir,
        run_names=names,
        segmentation_uri=segmentation_uri,
        output_format=output_format.lower(),
        n_workers=workers,
        level=level,
        compression=_compression(compression),
        copy_all_levels=copy_all_levels,
        channel=channel.lower() if channel else None,
    )
    _report(logger, results, "segmentations", "segmentations", segmentation_uri, output_dir)
