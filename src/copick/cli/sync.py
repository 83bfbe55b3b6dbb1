"""``copick sync picks|meshes|filaments|segmentations|tomograms``: copy data between projects.

Filters are comma-separated names (empty = all); ``--target-*`` options rename with ``src:dst`` pairs.
Failed items are listed and make the command exit 1 (``--exit-zero`` keeps copick 1.31's exit 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from copick.cli.common import (
    choice_option,
    domain_errors,
    exit_zero_option,
    finish_report,
    open_root,
    option_group,
    quiet_option,
    start,
    workers_option,
)
from copick.cli.options_io import input_file_option
from copick.cli.types import CopickNameMap, VoxelSizes
from copick.cli.util import add_config_option, add_debug_option
from copick.kinds import ANNOTATION_KINDS, AnnotationKind

F = Callable[..., Any]

# --segmentation-type -> (is_multilabel, is_instance, is_panoptic) filters of the source segmentations.
_SEGMENTATION_FILTERS: dict[str | None, tuple[bool | None, bool | None, bool | None]] = {
    None: (None, False, False),
    "binary": (False, False, False),
    "multilabel": (True, False, False),
    "instance": (None, True, False),
    "panoptic": (None, False, True),
    "all": (None, None, None),
}


@click.group(short_help="Synchronize data between Copick projects.")
def sync() -> None:
    """Synchronize data between Copick projects: copy picks, meshes, filaments, segmentations or
    tomograms from one project into another."""


def _names(flag: str, help: str, type: click.ParamType | None = None) -> Callable[[F], F]:
    """A comma-separated option; ``type`` checks the names that become paths (rename targets)."""
    return click.option(flag, type=type or click.STRING, default="", help=help)


_head_options = option_group(
    add_config_option,
    click.option(
        "--source-dataset-ids",
        type=str,
        default=None,
        help="Comma-separated CryoET Data Portal dataset ids to use as the source (instead of -c).",
    ),
    input_file_option(
        "--target-config",
        "Config file of the target project (rewritten when objects are added to it).",
        required=True,
    ),
    _names("--source-runs", "Comma-separated source runs to copy (default: all)."),
    _names(
        "--target-runs",
        "Comma-separated 'source:target' run renames (default: same names).",
        CopickNameMap("run"),
    ),
)


_tail_options = option_group(
    click.option(
        "--exist-ok/--no-exist-ok",
        default=False,
        show_default=True,
        help="Replace existing target items instead of failing.",
    ),
    workers_option(4),
    click.option("--log/--no-log", default=False, show_default=True, help="Log every item that is copied."),
    exit_zero_option,
    quiet_option,
    add_debug_option,
)


_annotation_filters = option_group(
    _names("--source-objects", "Comma-separated pickable objects to copy (default: all)."),
    _names(
        "--target-objects",
        "Comma-separated 'source:target' object renames.",
        CopickNameMap("object"),
    ),
    _names("--source-users", "Comma-separated user ids to copy (default: all)."),
    _names(
        "--target-users",
        "Comma-separated 'source:target' user id renames.",
        CopickNameMap("user"),
    ),
)


def _voxel_spacings_option(func: F) -> F:
    help = "Comma-separated voxel spacings to copy (default: all)."
    return _names("--voxel-spacings", help, VoxelSizes())(func)


def _source_root(config: str | None, source_dataset_ids: str | None) -> Any:
    """The source project: data-portal datasets when given, else the -c/--config project."""
    if source_dataset_ids:
        from copick.ops.open import open_portal_for_reading

        try:
            ids = [int(i) for i in source_dataset_ids.split(",") if i.strip()]
        except ValueError:
            raise click.BadParameter(
                f"expected comma-separated integers (e.g. 10000,10001), got {source_dataset_ids!r}.",
                param_hint="--source-dataset-ids",
            ) from None
        return open_portal_for_reading(ids, "sync")
    return open_root(config)


def _finish_sync(logger: Any, report: Any, what: str) -> None:
    """Log what the sync did, then derive the exit status from the failures ``report`` holds."""
    if report.total == 0:
        logger.warning(f"No {what} matched the filters; nothing was copied.")
    else:
        logger.info(f"Copied {report.copied} of {report.total} {what}.")
    if report.added_objects:
        logger.info(
            f"Added {len(report.added_objects)} pickable object(s) to the target config: "
            f"{', '.join(report.added_objects)}"
        )
    finish_report(report)


def _run_sync(
    operation: str, what: str, config: str | None, source_dataset_ids: str | None, debug: bool, **options: Any
) -> None:
    """Run ``copick.ops.sync.<operation>`` from the command's options and report its outcome."""
    from copick.ops import sync as ops_sync

    logger = start(__name__, debug)
    source = _source_root(config, source_dataset_ids)
    options["max_workers"] = options.pop("workers")
    report = getattr(ops_sync, operation)(source, options.pop("target_config"), **options)
    _finish_sync(logger, report, what)


_ITEM_NAMES = {"picks": "pick sets"}


def _annotation_command(kind: AnnotationKind) -> click.Command:
    """``copick sync <plural>`` for an annotation kind (objects and users filtered and renamed)."""
    what = _ITEM_NAMES.get(kind.plural, kind.plural)

    def command(**options: Any) -> None:
        options["target_config_path"] = options["target_config"]
        _run_sync(f"sync_{kind.plural}", what, **options)

    command.__doc__ = f"""Copy {what} from the -c project into the --target-config project.

    Missing target runs are created; pickable objects the copies need are added to the target config.

    \b
    Example:
      copick sync {kind.plural} -c source.json --target-config target.json --source-objects ribosome \\
          --target-users "alice:alice-imported"
    """
    decorated = _head_options(_annotation_filters(_tail_options(domain_errors(command))))
    return sync.command(name=kind.plural, short_help=f"Copy {kind.plural} into another project.")(decorated)


for _kind in ANNOTATION_KINDS:
    _annotation_command(_kind)


@sync.command(short_help="Copy segmentations into another project.")
@_head_options
@_voxel_spacings_option
@_names("--source-names", "Comma-separated segmentation names to copy (default: all).")
@_names(
    "--target-names",
    "Comma-separated 'source:target' segmentation name renames.",
    CopickNameMap("segmentation"),
)
@_names("--source-users", "Comma-separated user ids to copy (default: all).")
@_names(
    "--target-users",
    "Comma-separated 'source:target' user id renames.",
    CopickNameMap("user"),
)
@choice_option(
    "--segmentation-type",
    ["binary", "multilabel", "instance", "panoptic", "all"],
    help="Only this kind of segmentation (default: binary and multilabel).",
)
@_tail_options
@domain_errors
def segmentations(segmentation_type: str | None, **options: Any) -> None:
    """Copy segmentations (every pyramid level) from the -c project into the --target-config project.

    Missing target runs and voxel spacings are created; objects of binary segmentations are added to
    the target config.
    """
    flags = _SEGMENTATION_FILTERS[segmentation_type.lower() if segmentation_type else None]
    options.update(zip(("is_multilabel", "is_instance", "is_panoptic"), flags))
    options["target_config_path"] = options["target_config"]
    _run_sync("sync_segmentations", "segmentations", **options)


@sync.command(short_help="Copy tomograms into another project.")
@_head_options
@_voxel_spacings_option
@_names("--source-tomo-types", "Comma-separated tomogram types to copy (default: all).")
@_names(
    "--target-tomo-types",
    "Comma-separated 'source:target' tomogram type renames.",
    CopickNameMap("tomo_type"),
)
@_tail_options
@domain_errors
def tomograms(**options: Any) -> None:
    """Copy tomograms (every pyramid level) from the -c project into the --target-config project.

    Missing target runs and voxel spacings are created.
    """
    _run_sync("sync_tomograms", "tomograms", **options)
