"""``copick add object | object-volume``: pickable objects of the project config and their density maps
(registered on the ``add`` group by ``copick.cli.add``)."""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import choice_option, domain_errors, open_root, quiet_option, start
from copick.cli.types import CopickName, VoxelSize
from copick.cli.util import add_config_option, add_debug_option

_OBJECT_TYPES = ["particle", "segmentation", "filament"]
# Ontology namespaces of --identifier, spelled as copick writes them.
_NAMESPACES = {ns.lower(): ns for ns in ("GO", "UniProtKB", "CHEBI", "PDB", "UBERON", "CL", "CDPO")}


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _parse_color(value: str | None) -> tuple[int, ...] | None:
    """``--color 'R,G,B,A'`` as four bytes (copick 1.31's wording when it is not)."""
    if value is None:
        return None
    try:
        parts = tuple(int(p.strip()) for p in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or any(not 0 <= p <= 255 for p in parts):
        raise click.BadParameter(
            f"Color must be provided as four comma-separated values (R,G,B,A), each 0-255 "
            f"(e.g. 255,0,0,255); got {value!r}.",
            param_hint="--color",
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
        raise click.BadParameter(
            f"Metadata must be valid JSON format ({err}).", param_hint="--metadata"
        ) from None
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


@click.command("object", short_help="Add a pickable object to the project config.")
@add_config_option
@click.option("--name", type=CopickName("object"), required=True, help="Name of the new object.")
@choice_option(
    "--object-type",
    _OBJECT_TYPES,
    "particle",
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
@choice_option(
    "--volume-format", ["mrc", "zarr", "map"], help="Format of --volume (default: from the extension)."
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


@click.command("object-volume", short_help="Store the density map of a pickable object.")
@add_config_option
@click.option(
    "--object-name", type=CopickName("object"), required=True, help="Pickable object (a particle) of the map."
)
@click.option(
    "--volume-path", type=click.Path(exists=True), required=True, help="Density map file (MRC or Zarr)."
)
@choice_option("--volume-format", ["mrc", "zarr"], help="Format of the map (default: from the extension).")
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
