"""``copick add ...``: import tomograms, segmentations, picks and pickable objects into a project.

Every import reads and checks its file before it writes anything, so a bad file creates no run; failed
files are listed and make the command exit 1 (``--exit-zero`` keeps copick 1.31's exit status 0). The
option blocks the commands share are declared once in ``copick.cli.options_io``; the multi-tomogram
picks imports live in ``copick.cli.add_grouped``, the object commands in ``copick.cli.add_object``.
"""

from __future__ import annotations

import click

from copick.cli.add_grouped import picks_dynamo, picks_em, picks_relion
from copick.cli.add_object import object_, object_volume
from copick.cli.add_tomograms import tomograms_dynamo, tomograms_relion
from copick.cli.common import choice_option, domain_errors, open_root, start
from copick.cli.options_io import (
    PICKS_TYPES,
    VOLUME_TYPES,
    PicksTarget,
    Pyramid,
    RelionInputs,
    RunPlan,
    Transform,
    WriteMode,
    closing_options,
    expand_or_usage_error,
    file_type_option,
    finish_import,
    picks_target,
    pyramid,
    relion_inputs,
    run_plan,
    tomo_type_option,
    transform,
    voxel_size_option,
    write_mode,
)
from copick.cli.types import CopickName
from copick.cli.util import add_config_option, add_user_session_options

_SEGMENTATION_TYPES = ["multilabel", "binary", "instance", "panoptic"]


@click.group(short_help="Import tomograms, segmentations, picks and objects.")
def add() -> None:
    """Import tomograms, segmentations, picks and pickable objects into a copick project."""


for _command in (
    picks_em,
    picks_dynamo,
    picks_relion,
    object_,
    object_volume,
    tomograms_dynamo,
    tomograms_relion,
):
    add.add_command(_command)


@add.command(short_help="Import tomograms from MRC, TIFF, EM or Zarr files.")
@add_config_option
@tomo_type_option()
@file_type_option(VOLUME_TYPES, "File format (default: from the extension; .rec needs --file-type mrc).")
@voxel_size_option("Voxel size in Angstrom (overrides the MRC/Zarr header; required for TIFF and EM).")
@pyramid
@transform
@run_plan
@write_mode
@closing_options
@domain_errors
def tomogram(
    config: str | None,
    tomo_type: str,
    file_type: str | None,
    voxel_size: float | None,
    pyramid: Pyramid,
    transform: Transform,
    plan: RunPlan,
    mode: WriteMode,
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
    expand_or_usage_error(path)
    report = add_tomograms_from_paths(
        open_root(config),
        path,
        tomo_type=tomo_type,
        file_type=file_type,
        voxel_size=voxel_size,
        **pyramid.ops_kwargs(),
        **vars(transform),
        **vars(plan),
        **mode.ops_kwargs(),
    )
    finish_import(logger, report, "tomograms", path)


@add.command(short_help="Import segmentations from MRC, TIFF, EM or Zarr files.")
@add_config_option
@voxel_size_option("Voxel size in Angstrom (overrides the MRC/Zarr header; required for TIFF and EM).")
@click.option(
    "--name",
    type=CopickName("segmentation"),
    default=None,
    help="Segmentation name (an object name for binary/instance).",
)
@add_user_session_options
@file_type_option(VOLUME_TYPES, "File format (default: from the extension).")
@choice_option(
    "--segmentation-type",
    _SEGMENTATION_TYPES,
    "multilabel",
    help="multilabel: voxel = object label; binary: 0/1 mask of object --name; instance: voxel = "
    "instance id of --name; panoptic: (2,Z,Y,X) TIFF/Zarr of labels and instance ids.",
)
@transform
@run_plan
@write_mode
@closing_options
@domain_errors
def segmentation(
    config: str | None,
    voxel_size: float | None,
    name: str | None,
    user_id: str,
    session_id: str,
    file_type: str | None,
    segmentation_type: str,
    transform: Transform,
    plan: RunPlan,
    mode: WriteMode,
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
    expand_or_usage_error(path)
    report = add_segmentations_from_paths(
        open_root(config),
        path,
        name=name,
        user_id=user_id,
        session_id=session_id,
        segmentation_type=segmentation_type.lower(),
        voxel_size=voxel_size,
        file_type=file_type,
        **vars(transform),
        **vars(plan),
        **mode.ops_kwargs(),
    )
    finish_import(logger, report, "segmentations", path)


@add.command(short_help="Import picks from CSV, RELION STAR, EM or Dynamo files.")
@add_config_option
@picks_target
@voxel_size_option("Tomogram voxel size in Angstrom (EM/Dynamo pixel coordinates; legacy STAR).")
@relion_inputs
@file_type_option(PICKS_TYPES, "File format (default: from the extension .em .star .tbl .csv).")
@run_plan
@write_mode
@closing_options
@domain_errors
def picks(
    config: str | None,
    target: PicksTarget,
    voxel_size: float | None,
    relion: RelionInputs,
    file_type: str | None,
    plan: RunPlan,
    mode: WriteMode,
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
    expand_or_usage_error(path)
    report = add_picks_from_paths(
        open_root(config),
        path,
        **vars(target),
        voxel_size=voxel_size,
        file_type=file_type,
        **vars(relion),
        **vars(plan),
        **mode.ops_kwargs(),
    )
    finish_import(logger, report, "picks", path)
