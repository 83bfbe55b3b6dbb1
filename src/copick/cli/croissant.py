"""``copick config mlcroissant``, ``export-croissant``, ``set-splits`` and ``append-croissant``:
configs that read an ML-Croissant manifest, and the manifest of a filesystem project or of CryoET
Data Portal datasets (``copick.ops.croissant_export``, ``croissant_edit``, ``croissant_reshape``)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import click

from copick.cli.common import domain_errors, quiet_option, start
from copick.cli.util import add_debug_option


def _json_object(value: str | None, param: str) -> dict[str, Any]:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as err:
        raise click.BadParameter(f"not valid JSON ({err}).", param_hint=param) from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("expected a JSON object, e.g. '{\"anon\": true}'.", param_hint=param)
    return parsed


def _write_json(path: str, document: dict[str, Any]) -> str:
    from copick.storage import Layer

    path = os.path.abspath(path)
    folder, name = os.path.split(path)
    Layer.from_url(folder).write_bytes(name, json.dumps(document, indent=4).encode())
    return path


@click.command(short_help="Set up a configuration file from an mlcroissant manifest.")
@click.option("--croissant-url", required=True, help="URL or path of the Croissant metadata.json.")
@click.option(
    "--overlay", default=None, help="Writable overlay (URL or folder); omit to write beside the data."
)
@click.option("--overlay-fs-args", default=None, help="JSON object of fsspec arguments for the overlay.")
@click.option(
    "--static-fs-args", default=None, help="JSON object of fsspec arguments for the data (base URL)."
)
@click.option("--croissant-fs-args", default=None, help="JSON object of fsspec arguments for the manifest.")
@click.option(
    "--base-url", default=None, help="Where the data are, overriding the manifest's copick:baseUrl."
)
@click.option(
    "--output",
    default="config.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Path of the config file to write.",
)
@quiet_option
@add_debug_option
@domain_errors
def mlcroissant(
    croissant_url: str,
    overlay: str | None,
    overlay_fs_args: str | None,
    static_fs_args: str | None,
    croissant_fs_args: str | None,
    base_url: str | None,
    output: str,
    debug: bool,
) -> None:
    """Write a config reading the project an ML-Croissant manifest describes (the manifest is
    opened: its project name and pickable objects go into the config).

    \b
    Example:
      copick config mlcroissant --croissant-url /data/proj/Croissant/metadata.json --overlay ./overlay
    """
    from copick.ops.croissant_export import overlay_settings
    from copick.ops.open import from_croissant

    logger = start(__name__, debug)
    url = croissant_url if "://" in croissant_url else os.path.abspath(croissant_url)
    overlay_root, overlay_args = overlay_settings(overlay, _json_object(overlay_fs_args, "--overlay-fs-args"))
    root = from_croissant(
        url,
        overlay_root,
        base_url,
        overlay_args,
        _json_object(croissant_fs_args, "--croissant-fs-args"),
        _json_object(static_fs_args, "--static-fs-args"),
        output_path=os.path.abspath(output),
    )
    logger.info(
        f"Wrote mlcroissant config {os.path.abspath(output)} ({len(root.runs)} runs, mode {root.mode})"
    )


def _splits(flags: tuple[str, ...], splits_file: str | None) -> dict[str, list[str]]:
    """Run names per split from ``--splits-file`` (CSV ``split,run``) then ``--split name=a,b`` flags
    (a flag replaces the file's runs of the same split)."""
    import csv

    found: dict[str, list[str]] = {}
    if splits_file:
        with open(splits_file, newline="") as f:
            for row in csv.DictReader(f):
                found.setdefault(row["split"].strip(), []).append(row["run"].strip())
    for flag in flags:
        name, sep, runs = flag.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{flag!r}: expected 'name=RUN,RUN'.", param_hint="--split")
        names = [r.strip() for r in runs.split(",") if r.strip()]
        if not names:
            raise click.BadParameter(f"no runs listed for split {name!r} in {flag!r}.", param_hint="--split")
        found[name.strip()] = names
    return found


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


_URI_HELP = "Copick URI selecting {} (repeatable; omit to include all)."
_SPLIT_HELP = "Assign runs to a split: 'train=TS_001,TS_002' (repeatable)."
_META_HELP = "CDP-only: keep {} whose portal metadata has these values: 'k=v,k2=v2'."
_AUTHOR_HELP = "CDP-only: keep {} by all these authors: 'Alice,Bob'."
#: The groups of the CDP-only filters (--<group>-portal-meta, --<group>-author).
_CDP_GROUPS = ("picks", "segmentations", "tomograms")
#: URI object type of each filter flag.
_URI_FLAGS = (
    ("tomogram", "tomograms"), ("feature", "features"), ("picks", "picks"), ("mesh", "meshes"),
    ("segmentation", "segmentations"),
)  # fmt: skip


def _selection(options: dict[str, Any]) -> Any:
    """The ``CroissantSelection`` of the filter options (--runs, URIs, --objects, splits)."""
    from copick.ops.croissant_export import CroissantSelection

    return CroissantSelection(
        runs=_names(options["runs"]),
        uris={kind: options[flag] for kind, flag in _URI_FLAGS},
        objects=_names(options["objects"]),
        splits=_splits(options["split_flags"], options["splits_file"]),
    )


def _apply(func: Any, options: list[Any]) -> Any:
    for option in reversed(options):
        func = option(func)
    return func


def _split_options(func: Any) -> Any:
    """``--split`` / ``--splits-file``: run names per ML split."""
    splits_file = click.option(
        "--splits-file",
        default=None,
        type=click.Path(exists=True, dir_okay=False),
        help="CSV with columns 'split' and 'run'; --split flags override its splits of the same name.",
    )
    return _apply(
        func, [click.option("--split", "split_flags", multiple=True, help=_SPLIT_HELP), splits_file]
    )


def _filter_options(func: Any) -> Any:
    """The selection options export-croissant and append-croissant share."""
    uri_options = [
        click.option(f"--{flag}", multiple=True, help=_URI_HELP.format(flag)) for _, flag in _URI_FLAGS
    ]
    return _apply(
        _split_options(func),
        [
            click.option("--runs", default=None, help="Comma-separated run names to include (omit: all)."),
            *uri_options,
            click.option(
                "--objects", default=None, help="Comma-separated names of objects whose maps are listed."
            ),
            click.option("--no-file-sha256", is_flag=True, help="Skip the sha256 of picks and mesh files."),
            click.option("--tomo-type-map", default=None, help="Rename tomo types: 'wbp-raw:wbp,a:b'."),
            click.option(
                "--object-name-map",
                default=None,
                help="Rename objects (rows and the embedded config): 'cytosolic-ribosome:ribosome'.",
            ),
            click.option(
                "--session-id-template",
                default=None,
                help="CDP-only: picks/segmentation session ids from annotation fields, e.g. '{method_type}' "
                "(any scalar annotation field, {author}, {authors}, {annotation_file_id}).",
            ),
            *[
                option
                for group in _CDP_GROUPS
                for option in (
                    click.option(f"--{group}-portal-meta", default=None, help=_META_HELP.format(group)),
                    click.option(f"--{group}-author", default=None, help=_AUTHOR_HELP.format(group)),
                )
            ],
        ],
    )


def _reshape(options: dict[str, Any], portal: bool) -> Any:
    """The ``Reshape`` of the rename and CDP-only options; CDP-only options need a portal source."""
    from copick.ops.croissant_reshape import Reshape, parse_map, parse_pairs

    reshape = Reshape(
        tomo_types=parse_map(options["tomo_type_map"], "--tomo-type-map"),
        object_names=parse_map(options["object_name_map"], "--object-name-map"),
        session_template=options["session_id_template"],
        meta={g: parse_pairs(options[f"{g}_portal_meta"], f"--{g}-portal-meta") for g in _CDP_GROUPS},
        authors={g: _names(options[f"{g}_author"]) or [] for g in _CDP_GROUPS},
    )
    unsupported = reshape.portal_only_options()
    if unsupported and not portal:
        names = ", ".join("--" + n.replace("_", "-") for n in unsupported)
        raise click.UsageError(f"{names}: only for CryoET Data Portal sources (--source-dataset-ids).")
    return reshape


def _dataset_ids(value: str) -> list[int]:
    try:
        return [int(i) for i in value.split(",") if i.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected comma-separated integers.", param_hint="--source-dataset-ids"
        ) from None


@contextlib.contextmanager
def _source(
    config_path: str | None, dataset_ids: str | None, option: str, folder: str | None = None
) -> Iterator[Any]:
    """The project rows are made from: a config (``option``) or portal datasets, exactly one."""
    import copick
    from copick.ops.croissant_source import filesystem_source, portal_source

    if bool(config_path) == bool(dataset_ids):
        raise click.UsageError(f"Give exactly one of {option} and --source-dataset-ids.")
    if dataset_ids:
        with portal_source(_dataset_ids(dataset_ids)) as source:
            yield source
    else:
        yield filesystem_source(copick.from_file(config_path), folder)


@click.command("export-croissant", short_help="Export a copick project to an mlcroissant manifest.")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Config of the (filesystem) project to export; or --source-dataset-ids.",
)
@click.option(
    "--source-dataset-ids",
    default=None,
    help="Comma-separated CryoET Data Portal dataset ids to export (instead of --config).",
)
@click.option(
    "--project-root",
    required=True,
    type=click.Path(file_okay=False),
    help="The project's folder; Croissant/ is written under it.",
)
@click.option(
    "--base-url",
    default=None,
    help="Absolute URL that resolves to --project-root for readers (required for --config; "
    "portal sources use the portal's s3:// prefix).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing Croissant/metadata.json.")
@click.option("--dataset-name", default=None, help="Dataset title (default: the project's name).")
@click.option("--description", default=None, help="Dataset description (default: the project's).")
@click.option("--license", "license_", default="CC-BY-4.0", show_default=True, help="Dataset license.")
@click.option("--cite-as", default="", help="Citation string.")
@click.option("--date-published", default=None, help="ISO date (default: today).")
@click.option(
    "--emit-config",
    default=None,
    type=click.Path(dir_okay=False),
    help="Also write an mlcroissant config reading the manifest at this path.",
)
@click.option("--config-overlay", default=None, help="Overlay of the emitted config (mode B).")
@click.option("--config-overlay-fs-args", default=None, help="JSON fsspec arguments of --config-overlay.")
@click.option(
    "--config-static-fs-args", default=None, help="JSON fsspec arguments for the data in the emitted config."
)
@click.option(
    "--config-croissant-fs-args",
    default=None,
    help="JSON fsspec arguments for the manifest in the emitted config.",
)
@_filter_options
@quiet_option
@add_debug_option
@domain_errors
def export_croissant(
    config_path: str | None,
    source_dataset_ids: str | None,
    project_root: str,
    base_url: str | None,
    **options: Any,
) -> None:
    """Write Croissant/metadata.json and its CSV tables describing a project (or CryoET Data Portal
    datasets), for ML loaders and for `copick config mlcroissant` / `copick.from_croissant`.

    \b
    Examples:
      copick config export-croissant --config proj/config.json --project-root proj \\
          --base-url https://data.example.org/proj/ --split train=TS_001,TS_002 --split val=TS_003
      copick config export-croissant --source-dataset-ids 10000 --project-root curated \\
          --picks "cytosolic-ribosome:*/*" --object-name-map cytosolic-ribosome:ribosome \\
          --session-id-template "{method_type}" --picks-author Alice
    """
    from copick.ops.croissant_export import export_croissant, mlcroissant_config

    logger = start(__name__, options.pop("debug"))
    selection = _selection(options)
    info = {
        "name": options["dataset_name"],
        "description": options["description"],
        "license": options["license_"],
        "citeAs": options["cite_as"],
        "datePublished": options["date_published"],
    }
    reshape = _reshape(options, bool(source_dataset_ids))
    if config_path and not base_url:
        raise click.UsageError(
            "--base-url is required with --config (the URL readers find --project-root at)."
        )
    with _source(config_path, source_dataset_ids, "--config", project_root) as source:
        root = source.root
        done = export_croissant(
            source, project_root, base_url or "", selection, info, not options["no_file_sha256"],
            options["force"], reshape,
        )  # fmt: skip
    counts = ", ".join(f"{n} {name}" for name, n in done.rows.items() if n)
    logger.info(f"Wrote Croissant manifest {done.manifest} ({counts})")
    if options["emit_config"]:
        static_args = options["config_static_fs_args"]
        document = mlcroissant_config(
            done.manifest,
            options["config_overlay"],
            _json_object(options["config_overlay_fs_args"], "--config-overlay-fs-args"),
            _json_object(static_args, "--config-static-fs-args")
            if static_args
            else getattr(root.config, "overlay_fs_args", None),
            _json_object(options["config_croissant_fs_args"], "--config-croissant-fs-args"),
        )
        logger.info(f"Wrote mlcroissant config {_write_json(options['emit_config'], document)}")


@click.command("set-splits", short_help="Edit train/val/test split assignments on an existing Croissant.")
@click.option(
    "--croissant", "manifest", required=True, help="Path / URL of the Croissant metadata.json (writable)."
)
@_split_options
@click.option("--clear-all", is_flag=True, help="Clear every run's split before applying the new mapping.")
@click.option(
    "--unassign", default=None, help="Comma-separated run names whose split is cleared (after the mapping)."
)
@quiet_option
@add_debug_option
@domain_errors
def set_splits(
    manifest: str,
    split_flags: tuple[str, ...],
    splits_file: str | None,
    clear_all: bool,
    unassign: str | None,
    debug: bool,
) -> None:
    """Assign runs of an exported manifest to ML splits (the runs table's split column).

    \b
    Example:
      copick config set-splits --croissant proj/Croissant/metadata.json \\
          --split train=TS_001,TS_002 --split val=TS_003 --unassign TS_004
    """
    from copick.ops.croissant_edit import set_splits as apply

    logger = start(__name__, debug)
    url = manifest if "://" in manifest else os.path.abspath(manifest)
    found = apply(url, _splits(split_flags, splits_file), _names(unassign) or [], clear_all)
    summary = "; ".join(f"{name}: {len(runs)} runs" for name, runs in found.items()) or "no splits"
    logger.info(f"Updated splits in {url} ({summary})")


@click.command(
    "append-croissant", short_help="Append filtered rows from a copick project into an existing Croissant."
)
@click.option(
    "--croissant", "manifest", required=True, help="Path / URL of the Croissant metadata.json (writable)."
)
@click.option(
    "--source-config",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Config of the (filesystem) project whose rows are appended; or --source-dataset-ids.",
)
@click.option(
    "--source-dataset-ids",
    default=None,
    help="Comma-separated CryoET Data Portal dataset ids whose rows are appended.",
)
@_filter_options
@quiet_option
@add_debug_option
@domain_errors
def append_croissant(
    manifest: str, source_config: str | None, source_dataset_ids: str | None, **options: Any
) -> None:
    """Union rows of another project into an exported manifest: rows with the key of an existing row
    replace it, URLs are absolute, runs keep their split unless --split names them.

    \b
    Example:
      copick config append-croissant --croissant proj/Croissant/metadata.json \\
          --source-config other/config.json --picks "ribosome:*/*" --split train=TS_005
    """
    from copick.ops.croissant_edit import append_croissant as append

    logger = start(__name__, options.pop("debug"))
    url = manifest if "://" in manifest else os.path.abspath(manifest)
    reshape = _reshape(options, bool(source_dataset_ids))
    with _source(source_config, source_dataset_ids, "--source-config") as source:
        counts = append(url, source, _selection(options), not options["no_file_sha256"], reshape=reshape)
    summary = ", ".join(f"{n} {name}" for name, n in counts.items()) or "no rows"
    logger.info(f"Appended rows into {url} ({summary})")
