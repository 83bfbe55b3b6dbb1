"""``copick stats picks|meshes|filaments|segmentations``: counts of annotations, as a table or JSON."""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import (
    choice_option,
    domain_errors,
    echo_data,
    exit_zero_option,
    fail_if_errors,
    open_root,
    option_group,
    output_choice_option,
    quiet_option,
    start,
    workers_option,
)
from copick.cli.util import (
    add_config_option,
    add_debug_option,
    add_deprecated_run_alias,
    add_run_names_option,
    resolve_run_names,
)

_TOP_COMBINATIONS = 10


@click.group(short_help="Statistics of picks, meshes, filaments and segmentations.")
def stats() -> None:
    """Counts of a project's picks, meshes and segmentations, as a table or JSON (stdout)."""


# Project and run selection, shared by the stats commands (listed first in --help).
_selection_options = option_group(add_config_option, add_run_names_option, add_deprecated_run_alias("--runs"))


_output_options = option_group(
    click.option(
        "--parallel/--no-parallel",
        default=True,
        show_default=True,
        help="Read the runs in parallel threads.",
    ),
    workers_option(8, "Number of worker threads with --parallel."),
    output_choice_option(["table", "json"], "table", "Output format; the data alone is written to stdout."),
    exit_zero_option,
    quiet_option,
    add_debug_option,
)


_user_session_options = option_group(
    click.option("--user-id", multiple=True, help="Only this user (repeatable)."),
    click.option("--session-id", multiple=True, help="Only this session (repeatable)."),
)
_user_session_object_options = option_group(
    _user_session_options,
    click.option("--object-name", multiple=True, help="Only this pickable object (repeatable)."),
)


def _or_none(values: tuple[Any, ...]) -> list[Any] | None:
    return list(values) if values else None


def _emit(data: dict[str, Any], output: str, title: str, totals: list[tuple[str, str]]) -> None:
    """Write the statistics to stdout, as JSON or as a plain-text table."""
    if output.lower() == "json":
        import json

        echo_data(json.dumps(data, indent=2, default=str))
        return
    lines = [f"=== {title} Statistics ==="]
    lines += [f"{label}: {data[key]}" for label, key in totals]
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        if key.startswith("distribution_by_"):
            heading = f"Distribution by {key[len('distribution_by_') :].replace('_', ' ')}:"
            items = list(value.items())
        else:
            heading = f"Frequent {key.removesuffix('_combinations')} combinations:"
            items = list(value.items())[:_TOP_COMBINATIONS]
        lines += ["", heading]
        lines += [f"  {k}: {v}" for k, v in items] if items else ["  (none)"]
    echo_data("\n".join(lines))


def _runs(logger: Any, run_names: tuple[str, ...], legacy_run_names: tuple[str, ...]) -> list[str] | None:
    return resolve_run_names(run_names, legacy_run_names, legacy_flag="--runs", logger=logger)


def _report_stats(logger: Any, data: dict[str, Any], output: str, what: str, title: str, totals: Any) -> None:
    """Write the statistics; warn when nothing matched; exit 1 when files could not be read."""
    errors = data.pop("errors", [])
    if data[totals[-1][1]] == 0:
        logger.warning(f"No {what} matched the filters.")
    _emit(data, output, title, totals)
    fail_if_errors(len(errors), len(errors), errors[0] if errors else None)


# Annotation kinds with a stats command: plural -> (table title, [(total label, key)]).
_ANNOTATION_TABLES = {
    "picks": ("Picks", [("Total individual picks", "total_picks"), ("Total pick files", "total_pick_files")]),
    "meshes": ("Meshes", [("Total meshes", "total_meshes")]),
    "filaments": ("Filaments", [("Total filaments", "total_filaments")]),
}


def _annotation_command(plural: str) -> click.Command:
    """``copick stats <plural>`` for an annotation kind (filters: runs, users, sessions, objects)."""
    title, totals = _ANNOTATION_TABLES[plural]

    def command(
        config: str | None,
        run_names: tuple[str, ...],
        legacy_run_names: tuple[str, ...],
        parallel: bool,
        workers: int,
        output: str,
        debug: bool,
        user_id: tuple[str, ...],
        session_id: tuple[str, ...],
        object_name: tuple[str, ...],
    ) -> None:
        from copick.ops import stats as ops_stats

        logger = start(__name__, debug)
        root = open_root(config)
        data = getattr(ops_stats, f"{plural}_stats")(
            root,
            _runs(logger, run_names, legacy_run_names),
            _or_none(user_id),
            _or_none(session_id),
            _or_none(object_name),
            parallel=parallel,
            workers=workers,
        )
        _report_stats(logger, data, output, plural, title, totals)

    command.__doc__ = (
        "Count pick files and points by run, user, session and object."
        if plural == "picks"
        else f"Count {plural} by user, session and object."
    )
    decorated = _selection_options(_user_session_object_options(_output_options(domain_errors(command))))
    return stats.command(name=plural, short_help=f"Statistics of {plural}.")(decorated)


for _plural in _ANNOTATION_TABLES:
    _annotation_command(_plural)


@stats.command(short_help="Statistics of segmentations.")
@_selection_options
@_user_session_options
@click.option("--name", multiple=True, help="Only this segmentation name (repeatable).")
@click.option("--voxel-size", type=float, multiple=True, help="Only this voxel size (repeatable).")
@click.option(
    "--multilabel/--no-multilabel",
    default=None,
    help="Only multilabel (or only non-multilabel) segmentations (default: both).",
)
@choice_option(
    "--segmentation-type",
    ["binary", "multilabel", "instance", "panoptic"],
    multiple=True,
    help="Only this segmentation type (repeatable; default: all types).",
)
@_output_options
@domain_errors
def segmentations(
    config: str | None,
    run_names: tuple[str, ...],
    legacy_run_names: tuple[str, ...],
    parallel: bool,
    workers: int,
    output: str,
    debug: bool,
    user_id: tuple[str, ...],
    session_id: tuple[str, ...],
    name: tuple[str, ...],
    voxel_size: tuple[float, ...],
    multilabel: bool | None,
    segmentation_type: tuple[str, ...],
) -> None:
    """Count segmentations by user, session, name, voxel size, multilabel flag and type."""
    from copick.ops.stats import segmentations_stats

    logger = start(__name__, debug)
    root = open_root(config)
    data = segmentations_stats(
        root,
        _runs(logger, run_names, legacy_run_names),
        _or_none(user_id),
        _or_none(session_id),
        multilabel,
        _or_none(name),
        _or_none(voxel_size),
        parallel=parallel,
        workers=workers,
        is_instance=None,
        is_panoptic=None,
        segmentation_type=[t.lower() for t in segmentation_type] or None,
    )
    totals = [("Total segmentations", "total_segmentations")]
    _report_stats(logger, data, output, "segmentations", "Segmentations", totals)
