"""``copick export picks|tomogram|segmentation``: picks to CSV/STAR/EM/Dynamo, volumes to MRC/TIFF/Zarr/EM.

Failed items are listed and make the command exit 1 (``--exit-zero`` keeps copick 1.31's exit 0); an
empty selection is a warning, not a failure. The picks command lives in ``copick.cli.export_picks``,
the volume commands in ``copick.cli.export_volumes``; the options and the summary they share in
``copick.cli.options_io``.
"""

from __future__ import annotations

import click

from copick.cli.export_picks import picks
from copick.cli.export_volumes import segmentation, tomogram


@click.group(short_help="Export picks, tomograms and segmentations to files.")
def export() -> None:
    """Export picks (CSV, RELION STAR, EM, Dynamo), tomograms and segmentations (MRC, TIFF, Zarr, EM)."""


for _command in (picks, tomogram, segmentation):
    export.add_command(_command)
