"""``copick new run|voxelspacing|picks``: create empty entities in a project."""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import (
    domain_errors,
    exit_zero_option,
    finish,
    open_root,
    quiet_option,
    record_failures,
    start,
    workers_option,
)
from copick.cli.types import CopickName, VoxelSize
from copick.cli.util import (
    add_config_option,
    add_create_overwrite_options,
    add_debug_option,
    add_run_names_option,
    resolve_run_names,
)


@click.group(short_help="Create empty runs, voxel spacings or pick sets.")
def new() -> None:
    """Create empty entities (runs, voxel spacings, pick sets) in a copick project."""


@new.command(short_help="Create a run.")
@add_config_option
@add_create_overwrite_options
@quiet_option
@add_debug_option
@click.argument("name", type=CopickName("run"))
@domain_errors
def run(config: str | None, create: bool, overwrite: bool, debug: bool, name: str) -> None:
    """Create the run NAME (ExperimentRuns/NAME).

    An existing run is an error unless --overwrite is given, in which case it is kept as it is (its
    content is never deleted). --create is accepted for symmetry with the other commands.
    """
    from copick.ops.add import add_run

    logger = start(__name__, debug)
    root = open_root(config)
    existed = root.get_run(name) is not None
    add_run(root, name, exist_ok=overwrite)
    logger.info(f"Run {name} already exists; kept." if existed else f"Created run: {name}")


@new.command(short_help="Create a voxel spacing in a run.")
@add_config_option
@click.option("--run", "run_name", type=CopickName("run"), required=True, help="Name of the run.")
@add_create_overwrite_options
@quiet_option
@add_debug_option
@click.argument("voxel_spacing", type=VoxelSize())
@domain_errors
def voxelspacing(
    config: str | None, run_name: str, create: bool, overwrite: bool, debug: bool, voxel_spacing: float
) -> None:
    """Create the voxel spacing VOXEL_SPACING (Angstrom) in run --run.

    --create (default) also creates the run when it is missing; an existing voxel spacing is an error
    unless --overwrite is given (then it is kept as it is).
    """
    from copick.ops.add import add_voxelspacing, get_or_create_run

    logger = start(__name__, debug)
    root = open_root(config)
    run_obj = get_or_create_run(root, run_name, create=create, log=True)
    existed = run_obj.get_voxel_spacing(voxel_spacing) is not None
    add_voxelspacing(root, run_obj, voxel_spacing, create=create, exist_ok=overwrite)
    if existed:
        logger.info(f"Voxel spacing {voxel_spacing} already exists in run {run_name}; kept.")
    else:
        logger.info(f"Created voxel spacing {voxel_spacing} in run {run_name}")


def _new_picks_in_run(run: Any, object_name: str, user_id: str, session_id: str, overwrite: bool) -> dict:
    """Write an empty pick set in one run (replacing an existing one only with ``overwrite``)."""
    existing = run.get_picks(object_name=object_name, user_id=user_id, session_id=session_id)
    if existing and not overwrite:
        return {"processed": 0, "skipped": 1, "errors": []}
    try:
        picks = run.new_picks(object_name, session_id, user_id, exist_ok=True)
        if existing:
            picks.points = []
            picks.store()
    except Exception as err:
        return {"processed": 0, "skipped": 0, "errors": [f"{run.name}: {err}"]}
    return {"processed": 1, "skipped": 0, "errors": []}


@new.command(short_help="Create empty pick sets in every run.")
@add_config_option
@click.option(
    "--particle-name", type=CopickName("object"), required=True, help="Pickable object of the new pick sets."
)
@click.option(
    "--out-user",
    type=CopickName("user"),
    default="copick",
    show_default=True,
    help="User ID of the pick sets.",
)
@click.option(
    "--out-session",
    type=CopickName("session"),
    default="0",
    show_default=True,
    help="Session ID of the pick sets.",
)
@add_run_names_option(help="Run to create the pick set in; repeat for several runs (default: all runs).")
@click.option(
    "--overwrite/--no-overwrite",
    default=False,
    show_default=True,
    help="Replace existing pick sets with empty ones (otherwise they are skipped).",
)
@workers_option(8)
@exit_zero_option
@quiet_option
@add_debug_option
@domain_errors
def picks(
    config: str | None,
    particle_name: str,
    out_user: str,
    out_session: str,
    run_names: tuple[str, ...],
    overwrite: bool,
    workers: int,
    debug: bool,
) -> None:
    """Create an empty pick set (no points) of --particle-name in every run (or the runs given with -r).

    Existing pick sets are skipped unless --overwrite is given.
    """
    from copick.ops.run import map_runs

    logger = start(__name__, debug)
    root = open_root(config)
    if root.get_object(particle_name) is None:
        known = ", ".join(o.name for o in root.pickable_objects) or "none"
        raise click.BadParameter(
            f"Object name {particle_name} not found in pickable objects (known: {known}).",
            param_hint="--particle-name",
        )
    names = resolve_run_names(run_names, logger=logger)
    if names is None:
        runs: list[Any] = list(root.runs)
    else:
        runs = []
        for name in names:
            run_obj = root.get_run(name)
            if run_obj is None:
                raise click.BadParameter(
                    f"Run {name!r} not found in the project.", param_hint="-r/--run-names"
                )
            runs.append(run_obj)
    if not runs:
        logger.warning("The project has no runs; nothing to do.")
        return
    results = map_runs(
        _new_picks_in_run,
        root,
        runs,
        workers=workers,
        task_desc="Creating pick sets",
        object_name=particle_name,
        user_id=out_user,
        session_id=out_session,
        overwrite=overwrite,
    )
    created = sum(r["processed"] for r in results.values() if r)
    skipped = sum(r["skipped"] for r in results.values() if r)
    errors = [e for r in results.values() if r for e in r["errors"]]
    errors += [f"{name}: the run could not be processed" for name, r in results.items() if r is None]
    for error in errors:
        logger.error(f"Failed: {error}")
    summary = (
        f"Created empty {particle_name} pick sets ({out_user}/{out_session}) in {created} of {len(runs)} runs"
    )
    if skipped:
        summary += f"; {skipped} skipped because they exist (use --overwrite to replace them)"
    logger.info(summary + ".")
    record_failures(errors, len(runs))
    finish()
