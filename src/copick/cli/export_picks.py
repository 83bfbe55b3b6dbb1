"""``copick export picks``: picks to CSV, RELION STAR, EM or Dynamo files, one per pick set or combined
(registered on the ``export`` group by ``copick.cli.export``)."""

from __future__ import annotations

import click

from copick.cli.common import choice_option, domain_errors, open_root, start
from copick.cli.options_io import (
    PICKS_TYPES,
    export_closing_options,
    export_uri_option,
    finish_export,
    input_file_option,
    output_dir_option,
    output_format_option,
    tilt_series_pixel_size_option,
    tomo_type_option,
    voxel_size_option,
)
from copick.cli.types import CopickURI
from copick.cli.util import add_config_option, add_run_names_option, resolve_run_names


@click.command("picks", short_help="Export picks to CSV, RELION STAR, EM or Dynamo files.")
@add_config_option
@add_run_names_option
@export_uri_option(
    "picks", "Picks to export: object_name[:user_id[/session_id]] (globs and re: patterns allowed)."
)
@output_dir_option(
    "Write one file per pick set: <dir>/<run>_<object>_<user>_<session>.<ext>.", required=False
)
@click.option(
    "--output-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every selected run into this one file (EM/Dynamo need --index-map).",
)
@output_format_option(PICKS_TYPES, "File format.")
@voxel_size_option(
    "Tomogram voxel size in Angstrom (required for EM and Dynamo: their coordinates are pixels)."
)
@input_file_option(
    "--index-map",
    "'index,run_name' CSV/TSV: tomogram index of each run (required for a combined EM/Dynamo file; "
    "default index 1 per run).",
)
@click.option(
    "--include-optics/--no-include-optics",
    default=True,
    show_default=True,
    help="STAR: write a data_optics block (when a tilt-series pixel size is known).",
)
@tilt_series_pixel_size_option(
    "STAR: tilt-series pixel size in Angstrom (pixel coordinates rlnCoordinateX/Y/Z)."
)
@input_file_option(
    "--tomograms-star", "STAR: RELION tomograms.star giving pixel sizes and tomogram sizes (centres)."
)
@choice_option(
    "--star-layout",
    ["particles", "import"],
    "particles",
    help="Combined STAR: one particles file, or a data_coordinate_files index plus one STAR per run.",
)
@tomo_type_option("STAR: tomogram type whose shape gives the centre.", default=None)
@choice_option(
    "--coordinates",
    ["auto", "centered"],
    "auto",
    help="STAR: 'centered' requires centred Angstrom coordinates (the tomogram centre must be known).",
)
@choice_option(
    "--filament-columns",
    ["auto", "on", "off"],
    "auto",
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
@choice_option(
    "--filament-angles",
    ["frame", "pose"],
    "frame",
    help="STAR: filament angles as subtomogram frame + (0,90,0), or as the particle pose.",
)
@choice_option(
    "--half-sets", ["none", "filament"], "none", help="STAR: rlnRandomSubset 1/2 balanced by whole filament."
)
@export_closing_options
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
    finish_export(logger, results, "picks", "pick sets", picks_uri, str(output_dir))
