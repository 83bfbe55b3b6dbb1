"""Images written through the public API open with ome-zarr-py's reader (issue 4).

Each store is opened by path, as a user of ome-zarr-py would (``parse_url`` + ``Reader``, format
auto-detected); the reader must find one multiscale image node whose levels, shapes, axes, scales
and voxels are what we wrote and what our own ``numpy()`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import copick
from copick.models import PickableObject
from copick.ops.add import add_features

# ome_zarr is imported inside the tests: importing it takes ~2 s (dask, scikit-image), which
# every pytest-xdist worker would otherwise pay while collecting.
pytestmark = pytest.mark.volumes

SPACE = [{"name": axis, "type": "space", "unit": "angstrom"} for axis in "zyx"]
CHANNEL = {"name": "c", "type": "channel"}


@dataclass
class Written:
    path: str  # the store, as a local folder path
    data: np.ndarray  # what was passed to the writer, cast to the stored dtype
    levels: list[np.ndarray]  # every level as our own numpy() reads it
    shapes: list[tuple[int, ...]]
    axes: list[dict[str, str]]
    scales: list[list[float]]
    entity: Any = None


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    tmp = tmp_path_factory.mktemp("ome-zarr-py")
    config = str(tmp / "config.json")
    copick.new_config(
        config, str(tmp / "project"), pickable_objects=[PickableObject(name="proteasome", is_particle=True)]
    )
    root = copick.from_file(config)
    run = root.new_run("TS_001")
    rng = np.random.default_rng(4)
    out: dict[str, Written] = {}

    volume = rng.standard_normal((40, 50, 60)).astype(np.float32)
    tomogram = run.new_voxel_spacing(10.0).new_tomogram("wbp")
    tomogram.from_numpy(volume)
    out["tomogram"] = Written(
        tomogram.overlay_path,
        volume,
        [tomogram.numpy(zarr_group=str(i)) for i in range(3)],
        [(40, 50, 60), (20, 25, 30), (10, 13, 15)],
        SPACE,
        [[10.0] * 3, [20.0] * 3, [40.0] * 3],
        tomogram,
    )

    labels = rng.integers(0, 3, size=(40, 50, 60)).astype(np.uint8)
    segmentation = run.new_segmentation(10.0, "proteasome", "1", user_id="alice")
    segmentation.from_numpy(labels, levels=2)
    out["segmentation"] = Written(
        segmentation.path,
        labels,
        [segmentation.numpy(zarr_group=str(i)) for i in range(2)],
        [(40, 50, 60), (20, 25, 30)],
        SPACE,
        [[10.0] * 3, [20.0] * 3],
    )

    # A channel-first (C, Z, Y, X) feature map, as copick-utils writes them, one level.
    channels = rng.standard_normal((2, 40, 50, 60)).astype(np.float32)
    features = add_features(root, run, 10.0, "wbp", "sobel", channels)
    out["features"] = Written(
        features.path,
        channels,
        [features.numpy(zarr_group="0")],
        [(2, 40, 50, 60)],
        [CHANNEL, *SPACE],
        [[1.0, 10.0, 10.0, 10.0]],
    )

    density = rng.standard_normal((16, 18, 20)).astype(np.float32)
    obj = root.get_object("proteasome")
    obj.from_numpy(density, 10.0)
    out["object"] = Written(obj.overlay_path, density, [obj.numpy()], [(16, 18, 20)], SPACE, [[10.0] * 3])
    return out


def read_with_ome_zarr(path: str) -> tuple[Any, list[Any]]:
    """The ``ZarrLocation`` of ``path`` and the nodes ome-zarr-py's ``Reader`` yields for it."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(path)  # mode "r", default (newest) format: the reader must detect 0.4
    assert location is not None, f"ome-zarr-py found no zarr group at {path}"
    return location, list(Reader(location)())


@pytest.mark.parametrize("kind", ["tomogram", "segmentation", "features", "object"])
def test_ome_zarr_py_reads_our_multiscale_image(written: dict[str, Written], kind: str) -> None:
    from ome_zarr.format import FormatV04
    from ome_zarr.reader import Multiscales

    image = written[kind]
    location, nodes = read_with_ome_zarr(image.path)
    # ome-zarr-py for zarr 2 has no ``location.version``; its format object says the same
    assert isinstance(location.fmt, FormatV04) and getattr(location, "version", location.fmt.version) == "0.4"

    assert len(nodes) == 1, f"expected one image node, got {nodes}"
    node = nodes[0]
    multiscales = node.load(Multiscales)
    assert multiscales is not None, "ome-zarr-py did not recognise the multiscales metadata"
    assert multiscales.datasets == [str(i) for i in range(len(image.shapes))]
    assert node.metadata["axes"] == image.axes
    assert node.metadata["name"] == "/"
    transforms = node.metadata["coordinateTransformations"]
    assert transforms == [[{"type": "scale", "scale": scale}] for scale in image.scales]

    assert [tuple(level.shape) for level in node.data] == image.shapes
    assert [level.dtype for level in node.data] == [image.data.dtype] * len(image.shapes)
    levels = [np.asarray(level.compute()) for level in node.data]
    np.testing.assert_array_equal(levels[0], image.data)
    for ours, theirs in zip(image.levels, levels, strict=True):
        np.testing.assert_array_equal(theirs, ours)


def test_ome_zarr_py_reads_a_region_of_a_level(written: dict[str, Written]) -> None:
    """ome-zarr-py's level arrays, indexed [z, y, x], hold what our ``numpy(x=, y=, z=)`` reads."""
    image = written["tomogram"]
    _, (node,) = read_with_ome_zarr(image.path)
    region = node.data[1][3:17, 5:6, 10:30].compute()
    ours = image.entity.numpy(zarr_group="1", x=slice(10, 30), y=slice(5, 6), z=slice(3, 17))
    assert region.shape == ours.shape == (14, 1, 20)
    np.testing.assert_array_equal(region, ours)
