"""``copick config ...``: write project configuration files (``filesystem``: a local project)."""

from __future__ import annotations

import os
import warnings
from typing import Any

import click

from copick.cli.common import domain_errors, quiet_option, start
from copick.cli.util import add_debug_option

_DEFAULT_COLOR = (100, 100, 100, 255)


@click.group(short_help="Create copick configuration files.")
def config() -> None:
    """Create copick configuration files."""


def _parse_object(spec: str, label: int) -> dict[str, Any]:
    """Parse ``name,is_particle[,radius[,pdb_id]]`` into a pickable-object dict with ``label``."""
    parts = [p.strip() for p in spec.split(",")]
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise click.BadParameter(
            f"{spec!r}: expected 'name,is_particle[,radius[,pdb_id]]' (e.g. 'ribosome,true,120,4V9D').",
            param_hint="--objects",
        )
    name, is_particle = parts[0], parts[1].lower() == "true"
    radius = None
    if len(parts) > 2 and parts[2]:
        try:
            radius = int(parts[2])
        except ValueError:
            raise click.BadParameter(
                f"{spec!r}: the radius must be an integer, got {parts[2]!r}.", param_hint="--objects"
            ) from None
    pdb_id = parts[3] if len(parts) > 3 and parts[3] else None
    from pydantic import ValidationError

    from copick.metadata import PickableObject

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            obj = PickableObject(
                name=name,
                is_particle=is_particle,
                label=label,
                color=_DEFAULT_COLOR,
                radius=radius,
                pdb_id=pdb_id,
            )
    except ValidationError as err:
        reason = "; ".join(e["msg"] for e in err.errors())
        raise click.BadParameter(f"{spec!r}: {reason}", param_hint="--objects") from None
    return obj.model_dump(mode="json")


@config.command(short_help="Write the config of a project on the local filesystem.")
@click.option(
    "--overlay-root",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder of the project (the writable overlay); stored as local://<absolute path>.",
)
@click.option(
    "--objects",
    multiple=True,
    metavar="NAME,IS_PARTICLE[,RADIUS[,PDB_ID]]",
    help="A pickable object, e.g. 'ribosome,true,120,4V9D'; repeat for several (labels 1, 2, ... in order).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default="config.json",
    show_default=True,
    help="Path of the config file to write.",
)
@click.option("--proj-name", default="project", show_default=True, help="Project name.")
@click.option(
    "--proj-description",
    default="Config Project for SessionXXa",
    show_default=True,
    help="Project description.",
)
@quiet_option
@add_debug_option
@domain_errors
def filesystem(
    overlay_root: str,
    objects: tuple[str, ...],
    config_path: str,
    proj_name: str,
    proj_description: str,
    debug: bool,
) -> None:
    """Write a config for a project stored in a local folder (--overlay-root).

    \b
    Example:
      copick config filesystem --overlay-root ./project --objects ribosome,true,120 \\
          --objects membrane,false --config config.json
    """
    import json

    from copick import __version__
    from copick.storage_local import write_atomic

    logger = start(__name__, debug)
    pickable = [_parse_object(spec, label) for label, spec in enumerate(objects, start=1)]
    names = [o["name"] for o in pickable]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise click.BadParameter(
            f"object name(s) given twice: {', '.join(duplicates)}.", param_hint="--objects"
        )
    document = {
        "config_type": "filesystem",
        "name": proj_name,
        "description": proj_description,
        "version": __version__,
        "pickable_objects": pickable,
        "overlay_root": "local://" + os.path.abspath(overlay_root),
        "overlay_fs_args": {"auto_mkdir": True},
    }
    path = os.path.abspath(config_path)
    if os.path.exists(path):
        logger.warning(f"Overwriting the existing config file {path}")
    write_atomic(path, json.dumps(document, indent=4).encode())
    logger.info(f"Wrote config {path} ({len(pickable)} pickable objects, overlay {document['overlay_root']})")
