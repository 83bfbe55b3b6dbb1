"""``copick cp``, ``copick mv`` and ``copick rm``: copy, move and delete objects selected by copick URIs."""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import (
    domain_errors,
    echo_data,
    exit_zero_option,
    fail_if_errors,
    open_root,
    quiet_option,
    run_selection_option,
    start,
    workers_option,
)
from copick.cli.types import CopickURI
from copick.cli.util import add_config_option, add_debug_option
from copick.kinds import KINDS

_COPY_TYPES = [kind.object_type for kind in KINDS if kind.copyable]
_REMOVE_TYPES = [kind.object_type for kind in KINDS]

_URI_HELP = """
    URI forms (parts left out select everything; a leading re: makes every part a regular expression):

    \b
      picks, mesh, filaments:  object_name[:user_id[/session_id]]
      segmentation:            name[:user_id[/session_id]][@voxel_spacing][?multilabel=true]
      tomogram:                tomo_type[@voxel_spacing]
      feature:                 tomo_type[@voxel_spacing[:feature_type]]
"""

_TEMPLATE_HELP = """
    A pattern SOURCE_URI (glob or re:) may match many objects; TARGET_URI then uses the placeholders
    {object_name} (or {name}), {user_id}, {session_id} and {voxel_spacing}, filled from each match.
    Target parts left out are taken from the source. Two sources written to one target are refused.
"""


#: ``-r/--run`` (repeatable; also spelled ``--run-names``): the runs to work on, as ``runs``.
_run_option = run_selection_option(
    "Run to work on; repeat for several runs (default: all runs).", dest="runs", metavar="NAME"
)


def _object_type_argument(types: list[str]) -> Any:
    choice = click.Choice(types, case_sensitive=False)
    return click.argument("object_type", metavar="OBJECT_TYPE", type=choice)


def _report(logger: Any, result: dict[str, Any], key: str, verb: str, object_type: str, uri: str) -> None:
    """Log the errors and the summary of a cp/mv/rm pass and record failures for the exit status."""
    for error in result["errors"]:
        logger.error(f"Failed: {error}")
    if result["matched"] == 0:
        logger.warning(
            f"No {object_type} objects matched {uri!r} in {result['total_runs']} run(s); nothing was {verb}."
        )
    else:
        failed_runs = sum(1 for r in result["runs"].values() if r is None or r["errors"])
        with_matches = result["runs_with_matches"]
        logger.info(
            f"Completed: {with_matches - failed_runs}/{with_matches} runs with matches processed "
            f"successfully ({result['total_runs']} runs searched)"
        )
        logger.info(f"Successfully {verb} {result['processed']} of {result['matched']} objects")
    errors = result["errors"]
    fail_if_errors(len(errors), max(result["matched"], len(errors)), errors[0] if errors else None)


def _transfer(
    move: bool,
    config: str | None,
    runs: tuple[str, ...],
    overwrite: bool,
    workers: int,
    object_type: str,
    source_uri: str,
    target_uri: str,
    debug: bool,
) -> None:
    from copick.ops.manage import copy_copick_objects_batch, move_copick_objects_batch, validate_transfer

    logger = start(__name__, debug)
    object_type = object_type.lower()
    validate_transfer(object_type, source_uri, target_uri)
    root = open_root(config)
    logger.info(f"{'Moving' if move else 'Copying'} {object_type} objects")
    logger.info(f"Source: {source_uri}")
    logger.info(f"Target: {target_uri}")
    logger.info(f"Run: {', '.join(runs) if runs else 'all runs'}")
    batch = move_copick_objects_batch if move else copy_copick_objects_batch
    result = batch(
        root,
        object_type,
        source_uri,
        target_uri,
        run_names=list(runs) or None,
        overwrite=overwrite,
        workers=workers,
    )
    key = "moved" if move else "copied"
    for item in result[key]:
        logger.debug(f"{key.capitalize()} {item['run']}: {item['source']} -> {item['target']}")
    _report(logger, result, key, key, object_type, source_uri)


def _transfer_command(move: bool, short_help: str, doc: str) -> click.Command:
    """``copick cp`` (``move`` False) or ``copick mv``: the same options, one body."""

    def command(
        config: str | None,
        runs: tuple[str, ...],
        overwrite: bool,
        workers: int,
        debug: bool,
        object_type: str,
        source_uri: str,
        target_uri: str,
    ) -> None:
        _transfer(move, config, runs, overwrite, workers, object_type, source_uri, target_uri, debug)

    command.__doc__ = doc + _TEMPLATE_HELP + _URI_HELP
    options = [
        add_config_option,
        _run_option,
        click.option(
            "--overwrite/--no-overwrite",
            default=False,
            show_default=True,
            help="Replace existing target objects.",
        ),
        workers_option(8),
        exit_zero_option,
        quiet_option,
        add_debug_option,
        _object_type_argument(_COPY_TYPES),
        click.argument("source_uri", metavar="SOURCE_URI", type=CopickURI("any", "input")),
        click.argument("target_uri", metavar="TARGET_URI", type=CopickURI("any", "output")),
    ]
    decorated = domain_errors(command)
    for option in reversed(options):
        decorated = option(decorated)
    return click.command(name="mv" if move else "cp", short_help=short_help)(decorated)


cp = _transfer_command(
    False,
    "Copy picks, meshes, filaments or segmentations selected by URIs.",
    """Copy the OBJECT_TYPE objects selected by SOURCE_URI to TARGET_URI, in every run (or -r runs).

    OBJECT_TYPE: picks, filaments, mesh or segmentation. The sources are never modified.

    \b
    Examples:
      copick cp picks "ribosome:alice/1" "ribosome:bob/1" -c config.json
      copick cp picks "ribosome:*/*" "ribosome:{user_id}/backup-{session_id}" -c config.json
      copick cp segmentation "membrane:alice/1@10.0" "membrane:alice/2" -c config.json
    """,
)

mv = _transfer_command(
    True,
    "Move or rename picks, meshes, filaments or segmentations selected by URIs.",
    """Move the OBJECT_TYPE objects selected by SOURCE_URI to TARGET_URI, in every run (or -r runs).

    OBJECT_TYPE: picks, filaments, mesh or segmentation. Each source is deleted only after its copy
    succeeded; read-only (static) sources are refused.

    \b
    Examples:
      copick mv picks "ribosome:alice/1" "ribosome:alice/2" -c config.json
      copick mv mesh "re:.*:alice/.*" "{object_name}:bob/{session_id}" -c config.json
    """,
)


@click.command(short_help="Delete copick objects selected by a URI.")
@add_config_option
@_run_option
@click.option(
    "--dry-run", is_flag=True, default=False, help="List what would be deleted (stdout); delete nothing."
)
@click.option("--force", is_flag=True, default=False, help="Required to delete with a pattern URI.")
@workers_option(8)
@exit_zero_option
@quiet_option
@add_debug_option
@_object_type_argument(_REMOVE_TYPES)
@click.argument("uri", metavar="URI", type=CopickURI("any", "input"))
@domain_errors
def rm(
    config: str | None,
    runs: tuple[str, ...],
    dry_run: bool,
    force: bool,
    workers: int,
    debug: bool,
    object_type: str,
    uri: str,
) -> None:
    """Delete the OBJECT_TYPE objects selected by URI, in every run (or -r runs).

    OBJECT_TYPE: picks, filaments, mesh, segmentation, tomogram or feature.

    A pattern URI (with *, ?, [ or re:) needs --force, unless --dry-run only lists the matches.
    Objects of the read-only static layer are never deleted (reported as failures).

    \b
    Examples:
      copick rm picks "ribosome:alice/1" -c config.json
      copick rm segmentation "*:alice/*" --dry-run -c config.json
    """
    from copick.ops.manage import remove_copick_objects_batch, validate_transfer
    from copick.util.uri import is_pattern_uri

    logger = start(__name__, debug)
    object_type = object_type.lower()
    validate_transfer(object_type, uri)
    if is_pattern_uri(uri) and not (force or dry_run):
        raise click.UsageError(
            f"{uri!r} is a pattern and may delete many objects: add --force (or --dry-run to list them)."
        )
    root = open_root(config)
    logger.info(f"{'Listing' if dry_run else 'Deleting'} {object_type} objects matching {uri}")
    logger.info(f"Run: {', '.join(runs) if runs else 'all runs'}")
    result = remove_copick_objects_batch(
        root, object_type, uri, run_names=list(runs) or None, dry_run=dry_run, workers=workers
    )
    if dry_run:
        for item in sorted(result["deleted"], key=lambda i: (i["run"], i["uri"])):
            echo_data(f"  - [{item['run']}] {item['uri']}")
        for error in result["errors"]:
            logger.warning(f"Would fail: {error}")
        if result["matched"] == 0:
            logger.warning(f"No {object_type} objects matched {uri!r}.")
        else:
            logger.info(
                f"Dry run: {result['processed']} of {result['matched']} matched objects would be deleted"
            )
        return
    for item in result["deleted"]:
        logger.debug(f"Deleted {item['run']}: {item['uri']}")
    _report(logger, result, "deleted", "deleted", object_type, uri)


rm.help = (rm.help or "") + _URI_HELP
