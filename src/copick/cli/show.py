"""``copick show``: a PNG of a tomogram slice (or slab projection) with picks and a segmentation."""

from __future__ import annotations

from typing import Any

import click

from copick.cli.common import domain_errors, open_root, quiet_option, start
from copick.cli.types import CopickName, CopickURI
from copick.cli.util import add_config_option, add_debug_option


def _one(root: Any, uri: str, object_type: str, run: str) -> Any:
    from copick.util.uri import resolve_copick_objects

    found = resolve_copick_objects(uri, root, object_type, run)
    if not found:
        raise click.UsageError(f"No {object_type} matches {uri!r} in run {run!r}.")
    if len(found) > 1:
        from copick.util.uri import serialize_copick_uri

        names = ", ".join(serialize_copick_uri(o) for o in found[:5])
        raise click.UsageError(
            f"{uri!r} matches {len(found)} {object_type}s in run {run!r} ({names}); name one."
        )
    return found[0]


@click.command(short_help="Draw a tomogram slice with picks and a segmentation into a PNG.")
@click.argument("tomogram_uri", type=CopickURI("tomogram", "input"))
@add_config_option
@click.option("-r", "--run", "run_name", type=CopickName("run"), required=True, help="The run.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="PNG file to write.")
@click.option(
    "--picks",
    "picks_uris",
    multiple=True,
    type=CopickURI("picks", "input"),
    help="Picks to draw (repeatable; e.g. 'ribosome:*/*'); default: every pick set of the run.",
)
@click.option("--no-picks", is_flag=True, default=False, help="Draw no picks.")
@click.option(
    "--segmentation",
    "segmentation_uri",
    type=CopickURI("segmentation", "input"),
    default=None,
    help="Segmentation to overlay in its objects' colours (e.g. 'membrane:*/*@10.0').",
)
@click.option(
    "--axis",
    type=click.Choice(["z", "y", "x"]),
    default="z",
    show_default=True,
    help="Axis across the slice.",
)
@click.option(
    "--position",
    type=click.IntRange(min=0),
    default=None,
    help="Slice index along the axis, in voxels of the tomogram [default: the centre].",
)
@click.option(
    "--slab",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Number of slices projected into the picture.",
)
@click.option(
    "--projection",
    type=click.Choice(["mean", "max"]),
    default="mean",
    show_default=True,
    help="How a slab is projected.",
)
@quiet_option
@add_debug_option
@domain_errors
def show(
    tomogram_uri: str,
    config: str | None,
    run_name: str,
    output: str,
    picks_uris: tuple[str, ...],
    no_picks: bool,
    segmentation_uri: str | None,
    axis: str,
    position: int | None,
    slab: int,
    projection: str,
    debug: bool,
) -> None:
    """Draw TOMOGRAM_URI (tomo_type@voxel_spacing, e.g. wbp@10.0) of one run into a PNG: a slice or a
    slab's projection with contrast from percentiles, picks in their config colours, a segmentation
    overlay, a scale bar in nm and a title.

    \b
      copick show wbp@10.0 -c config.json -r TS_001 -o TS_001.png
      copick show wbp@10.0 -c config.json -r TS_001 -o slab.png --slab 20 --picks 'ribosome:*/*'
    """
    from copick.ops.show import render, save_png

    logger = start(__name__, debug)
    root = open_root(config)
    if root.get_run(run_name) is None:
        raise click.UsageError(f"Run {run_name!r} not found in the project.")
    tomogram = _one(root, tomogram_uri, "tomogram", run_name)
    if no_picks:
        picks: list[Any] = []
    elif picks_uris:
        from copick.util.uri import resolve_copick_objects

        picks = [p for uri in picks_uris for p in resolve_copick_objects(uri, root, "picks", run_name)]
    else:
        picks = list(root.get_run(run_name).picks)
    segmentation = _one(root, segmentation_uri, "segmentation", run_name) if segmentation_uri else None
    image = render(
        tomogram, picks, segmentation, axis=axis, position=position, slab=slab, projection=projection
    )
    save_png(image, output)
    logger.info(f"Wrote {output} ({image.shape[1]}x{image.shape[0]}, {len(picks)} pick sets).")
