"""``copick add ...``: import tomograms, segmentations, picks and pickable objects into a project.

Every import reads and checks its file before it writes anything, so a bad file creates no run; failed
files are listed and make the command exit 1 (``--exit-zero`` keeps copick 1.31's exit status 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from copick.cli.common import (
    domain_errors,
    exit_zero_option,
    finish,
    open_root,
    quiet_option,
    start,
    workers_option,
)
from copick.cli.types import CopickName, VoxelSize
from copick.cli.util import (
    add_config_option,
    add_create_overwrite_options,
    add_debug_option,
    add_pyramid_create_options,
    add_run_options,
    add_user_session_options,
    add_volume_transform_options,
)

F = Callable[..., Any]

_VOLUME_TYPES = ["mrc", "zarr", "tiff", "em"]
_PICKS_TYPES = ["em", "star", "dynamo", "csv"]
_SEGMENTATION_TYPES = ["multilabel", "binary", "instance", "panoptic"]
_RELION_VERSIONS = ["auto", "relion4", "relion5"]
_OBJECT_TYPES = ["particle", "segmentation", "filament"]
# Ontology namespaces of --identifier, spelled as copick writes them.
_NAMESPACES = {ns.lower(): ns for ns in ("GO", "UniProtKB", "CHEBI", "PDB", "UBERON", "CL", "CDPO")}


@click.group(short_help="Import tomograms, segmentations, picks and objects.")
def add() -> None:
    """Import tomograms, segmentations, picks and pickable objects into a copick project."""


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    """Apply ``options`` so that they appear in the listed order in ``--help``."""
    for option in reversed(options):
        func = option(func)
    return func


def _tail_options(func: F) -> F:
    """Run block, create/overwrite, workers, exit status and logging options (listed last in --help)."""
    return _apply(
        func,
        [
            add_run_options,
            add_create_overwrite_options,
            workers_option(4),
            exit_zero_option,
            quiet_option,
            add_debug_option,
            click.argument("path", type=str),
        ],
    )


def _grouped_tail_options(func: F) -> F:
    """Options of the multi-tomogram picks imports after their own ones (no run block)."""
    return _apply(
        func,
        [
            add_create_overwrite_options,
            workers_option(4),
            exit_zero_option,
            quiet_option,
            add_debug_option,
            click.argument("path", type=str),
        ],
    )


def _voxel_size_option(help: str) -> Callable[[F], F]:
    return click.option("--voxel-size", type=VoxelSize(), default=None, help=help)


def _object_name_option(func: F) -> F:
    return click.option(
        "--object-name", type=CopickName("object"), required=True, help="Pickable object the picks belong to."
    )(func)


def _tomograms_star_option(func: F) -> F:
    return click.option(
        "--tomograms-star",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="RELION tomograms.star: tilt-series pixel sizes and tomogram sizes (centres).",
    )(func)


def _tilt_series_option(func: F) -> F:
    return click.option(
        "--tilt-series-pixel-size",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Tilt-series pixel size (Angstrom) of RELION pixel coordinates.",
    )(func)


# --------------------------------------------------------------------------------------------------------
# Option parsing
# --------------------------------------------------------------------------------------------------------


def _check_axes(flip: str | None, transpose: str | None) -> None:
    """Usage error for a malformed --flip/--transpose (ranges are checked against the volume)."""
    from copick.errors import InvalidDataError
    from copick.formats.common import parse_axes

    for value, hint in ((flip, "--flip"), (transpose, "--transpose")):
        try:
            parse_axes(value, hint)
        except InvalidDataError as err:
            raise click.BadParameter(str(err), param_hint=hint) from None


def _parse_chunks(value: str) -> tuple[int, int, int]:
    """``--chunk-size 'z,y,x'`` as three positive ints."""
    parts = [p.strip() for p in str(value).split(",")]
    try:
        chunks = tuple(int(p) for p in parts)
    except ValueError:
        chunks = ()
    if len(chunks) != 3 or any(c < 1 for c in chunks):
        raise click.BadParameter(
            f"expected three positive integers 'z,y,x' (e.g. 256,256,256), got {value!r}.",
            param_hint="--chunk-size",
        )
    return chunks  # type: ignore[return-value]


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _finish_import(logger: Any, report: Any, what: str, path: str) -> None:
    """Log an import's summary (skips, drops, errors), warn when nothing was imported, set the exit status."""
    report.log_summary(logger)
    if report.processed == 0 and not report.errors:
        logger.warning(f"No {what} imported from {path}.")
    finish()


# --------------------------------------------------------------------------------------------------------
# add tomogram / segmentation / picks
# --------------------------------------------------------------------------------------------------------


@add.command(short_help="Import tomograms from MRC, TIFF, EM or Zarr files.")
@add_config_option
@click.option(
    "--tomo-type",
    type=CopickName("tomo_type"),
    default="wbp",
    show_default=True,
    help="Tomogram type (reconstruction method).",
)
@click.option(
    "--file-type",
    type=click.Choice(_VOLUME_TYPES, case_sensitive=False),
    default=None,
    help="File format (default: from the extension; .rec needs --file-type mrc).",
)
@_voxel_size_option("Voxel size in Angstrom (overrides the MRC/Zarr header; required for TIFF and EM).")
@add_pyramid_create_options
@add_volume_transform_options
@_tail_options
@domain_errors
def tomogram(
    config: str | None,
    tomo_type: str,
    file_type: str | None,
    voxel_size: float | None,
    create_pyramid: bool,
    pyramid_levels: int,
    chunk_size: str,
    flip: str | None,
    transpose: str | None,
    run: str,
    run_regex: str,
    run_name_prefix: str,
    create: bool,
    overwrite: bool,
    workers: int,
    debug: bool,
    path: str,
) -> None:
    """Import the volume file(s) PATH as tomograms (<tomo-type>.zarr, an OME-Zarr pyramid).

    PATH is a file or a quoted glob pattern ('tomos/*.mrc'); each file goes to the run --run names or,
    for several files, the run --run-regex extracts from its name (group 1, after --run-name-prefix).

    \b
    Examples:
      copick add tomogram TS_001.mrc -c config.json
      copick add tomogram 'tomos/*.tif' --voxel-size 10 --tomo-type denoised -c config.json
    """
    from copick.ops.importers import add_tomograms_from_paths

    logger = start(__name__, debug)
    chunks = _parse_chunks(chunk_size)
    if pyramid_levels < 1:
        raise click.BadParameter(f"must be at least 1, got {pyramid_levels}.", param_hint="--pyramid-levels")
    _check_axes(flip, transpose)
    root = open_root(config)
    report = add_tomograms_from_paths(
        root,
        path,
        tomo_type=tomo_type,
        run=run,
        run_regex=run_regex,
        run_name_prefix=run_name_prefix,
        file_type=_lower(file_type),
        voxel_size=voxel_size,
        chunks=chunks,
        pyramid_levels=pyramid_levels,
        create_pyramid=create_pyramid,
        flip=flip,
        transpose=transpose,
        create=create,
        overwrite=overwrite,
        max_workers=workers,
    )
    _finish_import(logger, report, "tomograms", path)


@add.command(short_help="Import segmentations from MRC, TIFF, EM or Zarr files.")
@add_config_option
@_voxel_size_option("Voxel size in Angstrom (overrides the MRC/Zarr header; required for TIFF and EM).")
@click.option(
    "--name",
    type=CopickName("segmentation"),
    default=None,
    help="Segmentation name (an object name for binary/instance).",
)
@add_user_session_options
@click.option(
    "--file-type",
    type=click.Choice(_VOLUME_TYPES, case_sensitive=False),
    default=None,
    help="File format (default: from the extension).",
)
@click.option(
    "--segmentation-type",
    type=click.Choice(_SEGMENTATION_TYPES, case_sensitive=False),
    default="multilabel",
    show_default=True,
    help="multilabel: voxel = object label; binary: 0/1 mask of object --name; instance: voxel = "
    "instance id of --name; panoptic: (2,Z,Y,X) TIFF/Zarr of labels and instance ids.",
)
@add_volume_transform_options
@_tail_options
@domain_errors
def segmentation(
    config: str | None,
    voxel_size: float | None,
    name: str | None,
    user_id: str,
    session_id: str,
    file_type: str | None,
    segmentation_type: str,
    flip: str | None,
    transpose: str | None,
    run: str,
    run_regex: str,
    run_name_prefix: str,
    create: bool,
    overwrite: bool,
    workers: int,
    debug: bool,
    path: str,
) -> None:
    """Import the label volume file(s) PATH as segmentations (single-level OME-Zarr).

    PATH is a file or a quoted glob pattern ('tomos/*.mrc'); each file goes to the run --run names or,
    for several files, the run --run-regex extracts from its name (group 1, after --run-name-prefix).

    \b
    Examples:
      copick add segmentation labels.mrc --run TS_001 --name organelles -c config.json
      copick add segmentation 'masks/*.tif' --voxel-size 10 --name membrane \\
          --segmentation-type binary -c config.json
    """
    from copick.ops.importers import add_segmentations_from_paths

    logger = start(__name__, debug)
    if not name:
        raise click.UsageError("Missing option '--name': the segmentation needs a name.")
    _check_axes(flip, transpose)
    root = open_root(config)
    report = add_segmentations_from_paths(
        root,
        path,
        name=name,
        user_id=user_id,
        session_id=session_id,
        segmentation_type=segmentation_type.lower(),
        voxel_size=voxel_size,
        file_type=_lower(file_type),
        run=run,
        run_regex=run_regex,
        run_name_prefix=run_name_prefix,
        flip=flip,
        transpose=transpose,
        create=create,
        overwrite=overwrite,
        max_workers=workers,
    )
    _finish_import(logger, report, "segmentations", path)


@add.command(short_help="Import picks from CSV, RELION STAR, EM or Dynamo files.")
@add_config_option
@_object_name_option
@add_user_session_options
@_voxel_size_option("Tomogram voxel size in Angstrom (EM/Dynamo pixel coordinates; legacy STAR).")
@_tilt_series_option
@_tomograms_star_option
@click.option(
    "--file-type",
    type=click.Choice(_PICKS_TYPES, case_sensitive=False),
    default=None,
    help="File format (default: from the extension .em .star .tbl .csv).",
)
@_tail_options
@domain_errors
def picks(
    config: str | None,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_size: float | None,
    tilt_series_pixel_size: float | None,
    tomograms_star: str | None,
    file_type: str | None,
    run: str,
    run_regex: str,
    run_name_prefix: str,
    create: bool,
    overwrite: bool,
    workers: int,
    debug: bool,
    path: str,
) -> None:
    """Import the picks file(s) PATH (one run per file; a copick CSV is split by its run_name column).

    EM and Dynamo coordinates are pixels (--voxel-size); STAR coordinates are converted by the first
    rule that applies: centred Angstrom + tomogram centre, pixels x tilt-series pixel size, pixels x
    --voxel-size (the rule used is logged).

    PATH is a file or a quoted glob pattern ('tomos/*.mrc'); each file goes to the run --run names or,
    for several files, the run --run-regex extracts from its name (group 1, after --run-name-prefix).

    \b
    Examples:
      copick add picks particles.csv --object-name ribosome -c config.json
      copick add picks TS_001.star --object-name ribosome --tilt-series-pixel-size 1.35 -c config.json
    """
    from copick.ops.importers import add_picks_from_paths

    logger = start(__name__, debug)
    root = open_root(config)
    report = add_picks_from_paths(
        root,
        path,
        object_name,
        user_id=user_id,
        session_id=session_id,
        voxel_size=voxel_size,
        file_type=_lower(file_type),
        tilt_series_pixel_size=tilt_series_pixel_size,
        tomograms_star=tomograms_star,
        run=run,
        run_regex=run_regex,
        run_name_prefix=run_name_prefix,
        create=create,
        overwrite=overwrite,
        max_workers=workers,
    )
    _finish_import(logger, report, "picks", path)


# --------------------------------------------------------------------------------------------------------
# add picks-em / picks-dynamo / picks-relion (multi-tomogram files)
# --------------------------------------------------------------------------------------------------------


def _grouped_import(
    config: str | None,
    debug: bool,
    path: str,
    file_type: str,
    object_name: str,
    workers: int,
    **options: Any,
) -> None:
    """Import multi-tomogram picks files, one run per tomogram; report and set the exit status."""
    from copick.ops.importers import add_picks_grouped_from_paths

    logger = start(__name__, debug)
    root = open_root(config)
    report = add_picks_grouped_from_paths(root, path, object_name, file_type, max_workers=workers, **options)
    _finish_import(logger, report, "picks", path)


def _index_map_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--index-map",
        type=click.Path(exists=True, dir_okay=False),
        required=required,
        help="Two-column CSV/TSV 'index,run_name' (no header) mapping tomogram indices to runs.",
    )


@add.command("picks-em", short_help="Import an EM motive list of several tomograms.")
@add_config_option
@_object_name_option
@add_user_session_options
@click.option(
    "--voxel-size",
    type=VoxelSize(),
    required=True,
    help="Tomogram voxel size in Angstrom (coordinates are 1-based pixels).",
)
@_index_map_option(required=True)
@click.option(
    "--tomo-index-row",
    type=click.IntRange(min=0, max=19),
    default=4,
    show_default=True,
    help="0-based row of the motive list holding the tomogram index.",
)
@_grouped_tail_options
@domain_errors
def picks_em(
    config: str | None,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_size: float,
    index_map: str,
    tomo_index_row: int,
    create: bool,
    overwrite: bool,
    workers: int,
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
        object_name,
        workers,
        user_id=user_id,
        session_id=session_id,
        voxel_size=voxel_size,
        index_map=index_map,
        tomo_index_row=tomo_index_row,
        create=create,
        overwrite=overwrite,
    )


@add.command("picks-dynamo", short_help="Import a Dynamo table of several tomograms.")
@add_config_option
@_object_name_option
@add_user_session_options
@click.option(
    "--voxel-size",
    type=VoxelSize(),
    required=True,
    help="Tomogram voxel size in Angstrom (coordinates are pixels).",
)
@_index_map_option(required=False)
@click.option(
    "--tomolist",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Dynamo tomolist ('index path' lines; run = file name without .mrc/.rec).",
)
@_grouped_tail_options
@domain_errors
def picks_dynamo(
    config: str | None,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_size: float,
    index_map: str | None,
    tomolist: str | None,
    create: bool,
    overwrite: bool,
    workers: int,
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
        object_name,
        workers,
        user_id=user_id,
        session_id=session_id,
        voxel_size=voxel_size,
        index_map=index_map,
        tomolist=tomolist,
        create=create,
        overwrite=overwrite,
    )


@add.command("picks-relion", short_help="Import a RELION STAR file of several tomograms.")
@add_config_option
@_object_name_option
@add_user_session_options
@_voxel_size_option("Tomogram voxel size in Angstrom (legacy pixel coordinates; tomogram centre lookup).")
@_tomograms_star_option
@_tilt_series_option
@click.option(
    "--relion-version",
    type=click.Choice(_RELION_VERSIONS, case_sensitive=False),
    default="auto",
    show_default=True,
    help="relion5 forces centred Angstrom coordinates, relion4 pixel coordinates; auto decides by columns.",
)
@_grouped_tail_options
@domain_errors
def picks_relion(
    config: str | None,
    object_name: str,
    user_id: str,
    session_id: str,
    voxel_size: float | None,
    tomograms_star: str | None,
    tilt_series_pixel_size: float | None,
    relion_version: str,
    create: bool,
    overwrite: bool,
    workers: int,
    debug: bool,
    path: str,
) -> None:
    """Import the RELION particles STAR file(s) PATH, one run per rlnTomoName (created if missing)."""
    _grouped_import(
        config,
        debug,
        path,
        "star",
        object_name,
        workers,
        user_id=user_id,
        session_id=session_id,
        voxel_size=voxel_size,
        tomograms_star=tomograms_star,
        tilt_series_pixel_size=tilt_series_pixel_size,
        relion_version=relion_version.lower(),
        create=create,
        overwrite=overwrite,
    )


# --------------------------------------------------------------------------------------------------------
# add object / object-volume
# --------------------------------------------------------------------------------------------------------


def _parse_color(value: str | None) -> tuple[int, ...] | None:
    """``--color 'R,G,B[,A]'`` as four bytes (alpha 255 when left out)."""
    if value is None:
        return None
    try:
        parts = tuple(int(p.strip()) for p in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) == 3:
        parts = (*parts, 255)
    if len(parts) != 4 or any(not 0 <= p <= 255 for p in parts):
        raise click.BadParameter(
            f"expected 'R,G,B,A' with values 0-255 (e.g. 255,0,0,255), got {value!r}.", param_hint="--color"
        )
    return parts


def _parse_metadata(value: str | None) -> dict[str, Any] | None:
    """``--metadata`` as a JSON object."""
    if value is None:
        return None
    import json

    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise click.BadParameter(f"not valid JSON ({err}).", param_hint="--metadata") from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object ({...}).", param_hint="--metadata")
    return data


def _normalize_identifier(value: str | None, logger: Any) -> str | None:
    """An ontology id with its namespace spelled as copick writes it (``go:1`` -> ``GO:1``, ``PDB-1BXN``)."""
    if not value:
        return None
    value = value.strip()
    for sep in (":", "-"):
        namespace, found, local = value.partition(sep)
        known = _NAMESPACES.get(namespace.strip().lower())
        if found and known and local.strip():
            return f"PDB-{local.strip()}" if known == "PDB" else f"{known}:{local.strip()}"
    logger.warning(
        f"--identifier {value!r} is not in a known namespace ({', '.join(_NAMESPACES.values())}); "
        "stored as given."
    )
    return value


def _given(ctx: click.Context, name: str) -> bool:
    """True when option ``name`` was given on the command line or in the environment (not defaulted)."""
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP)


def _object_kind(obj: Any) -> str:
    """``filament``, ``particle`` or ``segmentation``: the --object-type of an existing object."""
    if getattr(obj, "is_filament", False):
        return "filament"
    return "particle" if obj.is_particle else "segmentation"


@add.command("object", short_help="Add a pickable object to the project config.")
@add_config_option
@click.option("--name", type=CopickName("object"), required=True, help="Name of the new object.")
@click.option(
    "--object-type",
    type=click.Choice(_OBJECT_TYPES, case_sensitive=False),
    default="particle",
    show_default=True,
    help="particle, segmentation (not a particle) or filament (a particle with a filament description).",
)
@click.option(
    "--label", type=click.IntRange(min=1), default=None, help="Label (default: the next free label)."
)
@click.option("--color", type=str, default=None, metavar="R,G,B,A", help="Display colour (0-255 each).")
@click.option("--emdb-id", type=str, default=None, help="EMDB entry, e.g. EMD-1234.")
@click.option("--pdb-id", type=str, default=None, help="PDB entry, e.g. 4V9D.")
@click.option(
    "--identifier",
    type=str,
    default=None,
    help="Ontology id: GO:..., UniProtKB:..., CHEBI:..., PDB-1BXN, UBERON:..., CL:..., CDPO:...",
)
@click.option("--map-threshold", type=float, default=None, help="Iso-surface threshold of the density map.")
@click.option(
    "--radius",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    help="Particle radius in Angstrom (tube radius for filaments).",
)
@click.option("--polar/--apolar", default=None, help="Filaments only: whether the filament has a polarity.")
@click.option("--helical-rise", type=float, default=None, help="Filaments only: helical rise in Angstrom.")
@click.option("--helical-twist", type=float, default=None, help="Filaments only: helical twist in degrees.")
@click.option("--metadata", type=str, default=None, metavar="JSON", help="Extra metadata (a JSON object).")
@click.option(
    "--volume", type=click.Path(exists=True), default=None, help="Density map of the object (MRC or Zarr)."
)
@click.option(
    "--volume-format",
    type=click.Choice(["mrc", "zarr", "map"], case_sensitive=False),
    default=None,
    help="Format of --volume (default: from the extension).",
)
@click.option(
    "--voxel-size",
    type=VoxelSize(),
    default=None,
    help="Voxel size of --volume in Angstrom (default: from the file's header).",
)
@click.option(
    "--exist-ok/--no-exist-ok",
    default=False,
    show_default=True,
    help="Update an existing object of that name instead of failing.",
)
@quiet_option
@add_debug_option
@click.pass_context
@domain_errors
def object_(
    ctx: click.Context,
    config: str | None,
    name: str,
    object_type: str,
    label: int | None,
    color: str | None,
    emdb_id: str | None,
    pdb_id: str | None,
    identifier: str | None,
    map_threshold: float | None,
    radius: float,
    polar: bool | None,
    helical_rise: float | None,
    helical_twist: float | None,
    metadata: str | None,
    volume: str | None,
    volume_format: str | None,
    voxel_size: float | None,
    exist_ok: bool,
    debug: bool,
) -> None:
    """Add a pickable object to the project config (the config file is rewritten).

    A density map (--volume) is stored as Objects/<name>.zarr in the project.

    \b
    Examples:
      copick add object --name ribosome --radius 120 --pdb-id 4V9D -c config.json
      copick add object --name membrane --object-type segmentation --color 0,0,255,128 -c config.json
      copick add object --name actin --object-type filament --radius 35 --polar -c config.json
    """
    from copick.ops.add import add_object

    logger = start(__name__, debug)
    if volume is None and (volume_format or voxel_size is not None):
        raise click.UsageError("--volume-format and --voxel-size describe --volume; give --volume too.")
    colour = _parse_color(color)
    extra = _parse_metadata(metadata)
    root = open_root(config)
    # --exist-ok updates an existing object with the options given explicitly; defaults change nothing.
    existing = root.get_object(name) if exist_ok else None
    kind = object_type.lower() if existing is None or _given(ctx, "object_type") else _object_kind(existing)
    filament_options = {"polar": polar, "helical_rise_a": helical_rise, "helical_twist_deg": helical_twist}
    filament_options = {k: v for k, v in filament_options.items() if v is not None}
    if kind != "filament" and filament_options:
        raise click.UsageError(
            "--polar/--apolar, --helical-rise and --helical-twist only apply to filaments."
        )
    if volume is not None and kind == "segmentation":
        raise click.UsageError("--volume: only particle (or filament) objects have a density map.")
    ident = _normalize_identifier(identifier, logger)
    if _given(ctx, "radius") or (existing is None and kind != "segmentation"):
        radius_value: float | None = radius
    else:
        radius_value = None
    filament = None
    if kind == "filament":
        current = existing.filament if existing is not None else None
        if current is None or filament_options:
            base = current.model_dump(exclude_none=True) if current is not None else {}
            filament = {**base, **filament_options}
    data, size = None, None
    if volume is not None:
        from copick.formats.volumes import read_volume

        read = read_volume(volume, _lower(volume_format), voxel_size)
        data, size = read.data, read.voxel_size
    assert config is not None  # open_root raised otherwise
    obj = add_object(
        root,
        name,
        kind != "segmentation",
        label=label,
        color=colour,
        emdb_id=emdb_id,
        pdb_id=pdb_id,
        identifier=ident,
        map_threshold=map_threshold,
        radius=radius_value,
        volume=data,
        voxel_size=size,
        metadata=extra,
        exist_ok=exist_ok,
        save_config=True,
        config_path=config,
        filament=filament,
    )
    verb = "updated" if existing is not None else "added"
    logger.info(f"Successfully {verb} {kind} object '{obj.name}' with label {obj.label}")
    if data is not None:
        logger.info(f"Stored its density map (voxel size {size}, shape {tuple(data.shape)})")


@add.command("object-volume", short_help="Store the density map of a pickable object.")
@add_config_option
@click.option(
    "--object-name", type=CopickName("object"), required=True, help="Pickable object (a particle) of the map."
)
@click.option(
    "--volume-path", type=click.Path(exists=True), required=True, help="Density map file (MRC or Zarr)."
)
@click.option(
    "--volume-format",
    type=click.Choice(["mrc", "zarr"], case_sensitive=False),
    default=None,
    help="Format of the map (default: from the extension).",
)
@click.option(
    "--voxel-size",
    type=VoxelSize(),
    default=None,
    help="Voxel size in Angstrom (default: from the file's header).",
)
@quiet_option
@add_debug_option
@domain_errors
def object_volume(
    config: str | None,
    object_name: str,
    volume_path: str,
    volume_format: str | None,
    voxel_size: float | None,
    debug: bool,
) -> None:
    """Store a density map for an existing particle object (Objects/<name>.zarr)."""
    from copick.ops.importers import add_object_volume

    logger = start(__name__, debug)
    root = open_root(config)
    obj = add_object_volume(root, object_name, volume_path, voxel_size, file_type=_lower(volume_format))
    logger.info(f"Stored the density map of object {obj.name} from {volume_path}")
