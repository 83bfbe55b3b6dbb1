"""The benchmark's workloads as the runner knows them: name, one-line title, full and smoke sizes.

Kept apart from the runner so that the list of workloads and their sizes (what ``bench/README.md``
documents) is read in one place; the workloads themselves are in ``bench/workloads*.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spec:
    """A workload: its name, a one-line description, its sizes in full and smoke mode, and whether it
    needs the loopback S3 server."""

    name: str
    title: str
    full: dict[str, Any]
    smoke: dict[str, Any]
    s3: bool = False


#: Every workload, in the order of the runner's table.
SPECS: tuple[Spec, ...] = (
    Spec("import", "import copick (fresh interpreter)", {}, {}),
    Spec(
        "create_project",
        "config + N runs, each a voxel spacing, a tomogram (from_numpy) and picks",
        {"n_runs": 50, "tomo_shape": [64, 64, 64], "n_points": 20},
        {"n_runs": 3, "tomo_shape": [16, 16, 16], "n_points": 5},
    ),
    Spec(
        "enumerate_local",
        "list runs x 2 spacings x 2 tomograms x 5 picks + mesh + segmentation",
        {"n_runs": 200, "n_points": 20},
        {"n_runs": 5, "n_points": 3},
    ),
    Spec(
        "enumerate_s3",
        "same enumeration on a loopback S3 server (moto)",
        {"n_runs": 40, "n_points": 20},
        {"n_runs": 3, "n_points": 3},
        s3=True,
    ),
    Spec(
        "picks_read_many",
        "read every picks file of the enumeration tree (numpy())",
        {"n_runs": 200, "n_points": 20},
        {"n_runs": 5, "n_points": 3},
    ),
    Spec(
        "picks_write", "picks.from_numpy, N points with transforms", {"n_points": 100_000}, {"n_points": 1000}
    ),
    Spec("picks_read_numpy", "picks.numpy() of N points", {"n_points": 100_000}, {"n_points": 1000}),
    Spec("picks_read_points", "picks.points of N points", {"n_points": 100_000}, {"n_points": 1000}),
    Spec(
        "picks_write_big",
        "picks.from_numpy, 1M points with transforms",
        {"n_points": 1_000_000},
        {"n_points": 2000},
    ),
    Spec("picks_read_big", "picks.numpy() of 1M points", {"n_points": 1_000_000}, {"n_points": 2000}),
    Spec(
        "tomogram_write",
        "tomogram.from_numpy float32 + 3-level pyramid",
        {"shape": [256, 512, 512]},
        {"shape": [32, 64, 64]},
    ),
    Spec(
        "tomogram_read", "tomogram.numpy() level 0 whole", {"shape": [256, 512, 512]}, {"shape": [32, 64, 64]}
    ),
    Spec(
        "volumes_open_many",
        "a data loader: open N tomograms and read level 2 of each whole",
        {"n_runs": 200, "shape": [128, 128, 128]},
        {"n_runs": 3, "shape": [16, 16, 16]},
    ),
    Spec(
        "tomogram_regions",
        "random cubic regions via tomogram.numpy(x=, y=, z=)",
        {"shape": [256, 512, 512], "n_regions": 100, "region_size": 64},
        {"shape": [32, 64, 64], "n_regions": 5, "region_size": 16},
    ),
    Spec(
        "segmentation_io",
        "segmentation.from_numpy + numpy() uint8",
        {"shape": [256, 512, 512]},
        {"shape": [32, 64, 64]},
    ),
    Spec("cli_version", "`copick --version`, fresh subprocess (median of n)", {"n": 5}, {"n": 1}),
    Spec("cli_help", "`copick --help`, fresh subprocess (median of n)", {"n": 5}, {"n": 1}),
    Spec(
        "add_tomogram_mrc",
        "`copick add tomogram` float32 MRC -> 3-level OME-Zarr (limit: mrcfile + zarr)",
        {"shape": [256, 512, 512]},
        {"shape": [32, 64, 64]},
    ),
)
