"""``copick config mlcroissant``, ``export-croissant``, ``set-splits`` and ``append-croissant``:
configs that read an ML-Croissant manifest, and the manifest of a filesystem project or of CryoET
Data Portal datasets (``copick.ops.croissant_export``, ``croissant_edit``, ``croissant_reshape``)."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from copick.cli.common import domain_errors, quiet_option, start
from copick.cli.croissant_options import (
    filter_options,
    parse_splits,
    reshape_of,
    selection_of,
    source_of,
    split_options,
)
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


def _url_or_abspath(location: str) -> str:
    """A URL as given, a local path made absolute (what the manifest readers and editors take)."""
    return location if "://" in location else os.path.abspath(location)


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
    url = _url_or_abspath(croissant_url)
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


@click.command("export-croissant", short_help="Export a copick project to an mlcroissant manifest.")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Config of the project to export (filesystem, portal or mlcroissant); or --source-dataset-ids.",
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
@filter_options
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
    selection = selection_of(options)
    info = {
        "name": options["dataset_name"],
        "description": options["description"],
        "license": options["license_"],
        "citeAs": options["cite_as"],
        "datePublished": options["date_published"],
    }
    with source_of(config_path, source_dataset_ids, "--config", project_root) as source:
        reshape = reshape_of(options, source.is_portal)
        if not source.is_portal and not base_url:
            raise click.UsageError(
                "--base-url is required unless the source is the portal "
                "(the URL readers find --project-root at)."
            )
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
@split_options
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
    from copick.ops.names import split_names

    logger = start(__name__, debug)
    url = _url_or_abspath(manifest)
    found = apply(url, parse_splits(split_flags, splits_file), split_names(unassign), clear_all)
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
    help="Config of the project whose rows are appended (filesystem, portal or mlcroissant); "
    "or --source-dataset-ids.",
)
@click.option(
    "--source-dataset-ids",
    default=None,
    help="Comma-separated CryoET Data Portal dataset ids whose rows are appended.",
)
@filter_options
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
    url = _url_or_abspath(manifest)
    with source_of(source_config, source_dataset_ids, "--source-config") as source:
        reshape = reshape_of(options, source.is_portal)
        counts = append(url, source, selection_of(options), not options["no_file_sha256"], reshape=reshape)
    summary = ", ".join(f"{n} {name}" for name, n in counts.items()) or "no rows"
    logger.info(f"Appended rows into {url} ({summary})")
