"""Importing the tomograms a Dynamo tomolist or a RELION 5 ``tomograms.star`` lists, one run each.

The back-ends of ``copick add tomograms-dynamo`` / ``tomograms-relion``: the list is read and checked
completely (columns, run names, file formats, voxel sizes) before the first run is created; listed
files that do not exist are skipped with a warning, as copick 1.31 does. Each file is then imported
by ``add_tomogram_from_file``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copick.errors import CorruptFileError, InvalidDataError
from copick.ops.import_common import DEFAULT_CHUNKS, ImportReport, Job, run_jobs
from copick.ops.import_tomograms import add_tomogram_from_file, peek_voxel_size

_log = logging.getLogger("copick.ops.importers")

HALVES = ("half1", "half2")


class NoTomogramsError(InvalidDataError):
    """A tomogram list none of whose entries can be imported (1.31: "No valid tomograms found")."""


@dataclass(frozen=True)
class TomogramSource:
    """One listed tomogram: the run it goes to, its file and its voxel size (None: from the file)."""

    run: str
    path: str
    voxel_size: float | None = None


def dynamo_tomogram_sources(tomolist: str, index_map: str | None, skipped: list[str]) -> list[TomogramSource]:
    """The tomograms of a Dynamo tomolist (``index path`` lines; relative paths from the working directory).

    Run names come from ``index_map`` (``index,run_name``) when given, else from the file names;
    indices missing from the map and files that do not exist are noted in ``skipped``.
    """
    from copick.formats.index_maps import (
        read_dynamo_tomolist_paths,
        read_index_map,
        run_name_from_tomogram_path,
    )

    paths = read_dynamo_tomolist_paths(tomolist)
    names = read_index_map(index_map) if index_map else None
    sources = []
    for index, path in paths.items():
        if names is not None and index not in names:
            skipped.append(f"Index {index} not in mapping, skipping {path}")
        elif not os.path.exists(path):
            skipped.append(f"File not found: {path}, skipping")
        else:
            run = names[index] if names is not None else run_name_from_tomogram_path(path)
            sources.append(TomogramSource(run, path))
    return sources


def _star_voxel_sizes(table: Any, path: str) -> list[float]:
    """Voxel size of each row: tilt-series (else original micrograph) pixel size x tomogram binning."""
    import numpy as np

    pixel = next(
        (c for c in ("rlnTomoTiltSeriesPixelSize", "rlnMicrographOriginalPixelSize") if c in table), None
    )
    if pixel is None:
        raise CorruptFileError(
            f"{path}: Required column 'rlnTomoTiltSeriesPixelSize' (or 'rlnMicrographOriginalPixelSize') "
            "not found in tomograms.star file; give --voxel-size."
        )
    if "rlnTomoTomogramBinning" not in table:
        raise CorruptFileError(
            f"{path}: Required column 'rlnTomoTomogramBinning' not found in tomograms.star file; "
            "give --voxel-size."
        )
    sizes = table[pixel].astype(float).to_numpy() * table["rlnTomoTomogramBinning"].astype(float).to_numpy()
    bad = [str(n) for n, s in zip(table["rlnTomoName"], sizes) if not (np.isfinite(s) and s > 0)]
    if bad:
        raise CorruptFileError(f"{path}: no positive {pixel} x rlnTomoTomogramBinning for {', '.join(bad)}.")
    return [float(s) for s in sizes]


def relion_tomogram_sources(
    tomograms_star: str, base_dir: str, half: str, voxel_size: float | None, skipped: list[str]
) -> list[TomogramSource]:
    """The ``half`` reconstructions of a RELION ``tomograms.star``, one per ``rlnTomoName``.

    Relative paths are resolved against ``base_dir`` (the RELION project); the voxel size is
    ``voxel_size`` or the STAR file's pixel size x binning. Missing files are noted in ``skipped``.
    """
    from copick.formats.relion_star import read_tomograms_table

    if half not in HALVES:
        raise InvalidDataError(f"half must be one of {', '.join(HALVES)}, got {half!r}.")
    table = read_tomograms_table(tomograms_star)
    column = f"rlnTomoReconstructedTomogram{half.capitalize()}"
    if column not in table:
        raise CorruptFileError(f"{tomograms_star}: Column '{column}' not found in tomograms.star file.")
    sizes = [voxel_size] * len(table) if voxel_size is not None else _star_voxel_sizes(table, tomograms_star)
    sources = []
    for name, file, size in zip(table["rlnTomoName"], table[column], sizes):
        if not isinstance(file, str) or not file.strip():
            skipped.append(f"No {column} for tomogram {name}, skipping")
            continue
        path = os.path.abspath(os.path.join(base_dir, file.strip()))
        if not os.path.exists(path):
            skipped.append(f"File not found: {path}, skipping")
        else:
            sources.append(TomogramSource(str(name), path, size))
    return sources


def check_sources(sources: Sequence[TomogramSource], file_type: str | None, voxel_size: float | None) -> None:
    """Refuse a list before anything is written: two tomograms for one run, unknown formats, no voxel size."""
    from copick.formats.common import resolve_volume_format

    runs: dict[str, str] = {}
    for source in sources:
        if source.run in runs:
            raise InvalidDataError(
                f"{runs[source.run]} and {source.path} both go to run {source.run!r}; "
                "each run receives one tomogram (use --index-map to name the runs)."
            )
        runs[source.run] = source.path
        kind = resolve_volume_format(source.path, file_type)
        size = source.voxel_size if source.voxel_size is not None else voxel_size
        peek_voxel_size(source.path, kind, size)


def add_tomograms_from_sources(
    root: Any,
    sources: Sequence[TomogramSource],
    listing: str,
    tomo_type: str = "wbp",
    file_type: str | None = None,
    voxel_size: float | None = None,
    chunks: Sequence[int] = DEFAULT_CHUNKS,
    pyramid_levels: int = 3,
    create_pyramid: bool = True,
    flip: Any = None,
    transpose: Any = None,
    create: bool = True,
    overwrite: bool = False,
    max_workers: int = 4,
    log: bool = True,
    show_progress: bool = True,
    skipped: Sequence[str] = (),
) -> ImportReport:
    """Import checked ``sources`` (see ``check_sources``), one run each, as ``tomo_type`` tomograms."""
    if not sources:
        raise NoTomogramsError(f"No valid tomograms found in {listing}.")
    check_sources(sources, file_type, voxel_size)
    report = ImportReport(total=len(sources) + len(skipped), skipped=list(skipped))
    if log:
        _log.info(f"Found {len(sources)} tomograms to import from {listing}")
    options = dict(file_type=file_type, create_pyramid=create_pyramid, pyramid_levels=pyramid_levels)
    options.update(chunks=chunks, transpose=transpose, flip=flip, create=create, overwrite=overwrite, log=log)
    jobs = [
        Job(
            s.path,
            add_tomogram_from_file,
            (s.run, tomo_type, s.path),
            {**options, "voxel_spacing": s.voxel_size if s.voxel_size is not None else voxel_size},
        )
        for s in sources
    ]
    run_jobs(root, jobs, report, max_workers, show_progress, "Processing tomograms")
    return report


def add_tomograms_dynamo(
    root: Any, tomolist: str, index_map: str | None = None, **options: Any
) -> ImportReport:
    """``copick add tomograms-dynamo``: the tomograms of a Dynamo tomolist, one run each (options as
    ``add_tomograms_from_sources``)."""
    skipped: list[str] = []
    sources = dynamo_tomogram_sources(tomolist, index_map, skipped)
    return add_tomograms_from_sources(root, sources, "tomolist", skipped=skipped, **options)


def add_tomograms_relion(
    root: Any,
    tomograms_star: str,
    base_dir: str,
    half: str = "half1",
    voxel_size: float | None = None,
    **options: Any,
) -> ImportReport:
    """``copick add tomograms-relion``: the ``half`` reconstructions of a RELION 5 ``tomograms.star``,
    one run per ``rlnTomoName`` (options as ``add_tomograms_from_sources``)."""
    skipped: list[str] = []
    sources = relion_tomogram_sources(tomograms_star, base_dir, half, voxel_size, skipped)
    return add_tomograms_from_sources(root, sources, "tomograms.star", skipped=skipped, **options)
