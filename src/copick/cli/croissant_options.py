"""The options ``export-croissant``, ``append-croissant`` and ``set-splits`` share: run and URI
filters, ML splits, the rename maps and CDP-only filters (``copick.ops.croissant_reshape``), and the
source of the rows (a config, or CryoET Data Portal datasets: ``copick.ops.croissant_source``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from copick.cli.common import option_group


def parse_splits(flags: tuple[str, ...], splits_file: str | None) -> dict[str, list[str]]:
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


def run_names(value: str | None) -> list[str] | None:
    """Comma-separated names as a list; ``None`` (the option not given: no filter) stays ``None``."""
    from copick.ops.names import split_names

    return None if value is None else split_names(value)


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


def selection_of(options: dict[str, Any]) -> Any:
    """The ``CroissantSelection`` of the filter options (--runs, URIs, --objects, splits)."""
    from copick.ops.croissant_export import CroissantSelection

    return CroissantSelection(
        runs=run_names(options["runs"]),
        uris={kind: options[flag] for kind, flag in _URI_FLAGS},
        objects=run_names(options["objects"]),
        splits=parse_splits(options["split_flags"], options["splits_file"]),
    )


def split_options(func: Any) -> Any:
    """``--split`` / ``--splits-file``: run names per ML split."""
    splits_file = click.option(
        "--splits-file",
        default=None,
        type=click.Path(exists=True, dir_okay=False),
        help="CSV with columns 'split' and 'run'; --split flags override its splits of the same name.",
    )
    return option_group(click.option("--split", "split_flags", multiple=True, help=_SPLIT_HELP), splits_file)(
        func
    )


def filter_options(func: Any) -> Any:
    """The selection options export-croissant and append-croissant share."""
    uri_options = [
        click.option(f"--{flag}", multiple=True, help=_URI_HELP.format(flag)) for _, flag in _URI_FLAGS
    ]
    return option_group(
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
    )(split_options(func))


def reshape_of(options: dict[str, Any], portal: bool) -> Any:
    """The ``Reshape`` of the rename and CDP-only options; CDP-only options need a portal source."""
    from copick.ops.croissant_reshape import Reshape, parse_map, parse_pairs
    from copick.ops.names import split_names

    reshape = Reshape(
        tomo_types=parse_map(options["tomo_type_map"], "--tomo-type-map"),
        object_names=parse_map(options["object_name_map"], "--object-name-map"),
        session_template=options["session_id_template"],
        meta={g: parse_pairs(options[f"{g}_portal_meta"], f"--{g}-portal-meta") for g in _CDP_GROUPS},
        authors={g: split_names(options[f"{g}_author"]) for g in _CDP_GROUPS},
    )
    unsupported = reshape.portal_only_options()
    if unsupported and not portal:
        names = ", ".join("--" + n.replace("_", "-") for n in unsupported)
        raise click.UsageError(
            f"{names}: only for CryoET Data Portal sources (--source-dataset-ids or a portal config)."
        )
    return reshape


def _dataset_ids(value: str) -> list[int]:
    try:
        return [int(i) for i in value.split(",") if i.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected comma-separated integers.", param_hint="--source-dataset-ids"
        ) from None


@contextlib.contextmanager
def source_of(
    config_path: str | None, dataset_ids: str | None, option: str, folder: str | None = None
) -> Iterator[Any]:
    """The project rows are made from: a config (``option``: filesystem or portal project) or portal
    datasets, exactly one."""
    import copick
    from copick.ops.croissant_source import config_source, portal_source

    if bool(config_path) == bool(dataset_ids):
        raise click.UsageError(f"Give exactly one of {option} and --source-dataset-ids.")
    if dataset_ids:
        with portal_source(_dataset_ids(dataset_ids)) as source:
            yield source
    else:
        yield config_source(copick.from_file(config_path), folder)
