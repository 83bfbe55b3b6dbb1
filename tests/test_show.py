"""``copick show`` / ``copick.ops.show.render``: a synthetic tomogram with a bright sphere at a known
place; the PNG read back has the pick marker on the sphere, in the object's config colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import copick
from copick.cli.show import show as show_command
from copick.ops.show import TITLE_HEIGHT, render

ORANGE, CYAN, PURPLE = (250, 120, 10), (20, 200, 240), (160, 40, 200)
OBJECTS = [
    {"name": "proteasome", "is_particle": True, "label": 1, "color": [*ORANGE, 255], "radius": 40.0},
    {"name": "ribosome", "is_particle": True, "label": 2, "color": [*CYAN, 255], "radius": 30.0},
    {"name": "membrane", "is_particle": False, "label": 3, "color": [*PURPLE, 255]},
]
SHAPE = (48, 40, 64)  # z, y, x
SPHERE = (44, 12, 30)  # x, y, z voxels
ZOOM = 8  # 512 / 64


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("show")
    config = str(base / "config.json")
    run = copick.new_config(config, str(base / "p"), pickable_objects=OBJECTS).new_run("TS_1")
    z, y, x = np.indices(SHAPE)
    sx, sy, sz = SPHERE
    volume = np.random.default_rng(0).normal(0, 0.1, SHAPE).astype(np.float32)
    volume[(x - sx) ** 2 + (y - sy) ** 2 + (z - sz) ** 2 <= 16] = 10.0
    run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(volume, levels=2)
    run.new_picks("proteasome", "1", "alice").from_numpy(np.array([SPHERE], float) * 10.0)
    # one ribosome in the slice, one far from it (not drawn)
    run.new_picks("ribosome", "1", "alice").from_numpy(np.array([[10, 30, 30], [50, 30, 5]], float) * 10.0)
    labels = np.zeros(SHAPE, np.uint8)
    labels[:, 30:38, 50:60] = 3
    run.new_segmentation(10.0, "cells", "1", is_multilabel=True, user_id="alice").from_numpy(labels)
    return config


def _centroid(image: np.ndarray, colour: tuple[int, int, int]) -> tuple[float, float] | None:
    rows, cols = np.nonzero(np.all(image == colour, axis=2))
    return (float(cols.mean()), float(rows.mean())) if len(rows) else None


def _pixel(x: float, y: float) -> tuple[float, float]:
    """Where voxel (x, y) of the z plane is drawn (columns, rows of the PNG)."""
    return x * ZOOM + (ZOOM - 1) / 2, y * ZOOM + (ZOOM - 1) / 2 + TITLE_HEIGHT


def test_the_pick_marker_is_drawn_on_the_sphere_in_its_config_colour(project: str, tmp_path: Path) -> None:
    out = tmp_path / "slice.png"
    result = CliRunner().invoke(
        show_command, ["wbp@10.0", "-c", project, "-r", "TS_1", "-o", str(out), "--position", "30"]
    )
    assert result.exit_code == 0, result.output
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (SHAPE[1] * ZOOM + TITLE_HEIGHT, SHAPE[2] * ZOOM, 3)
    expected = _pixel(SPHERE[0], SPHERE[1])
    marker = _centroid(image, ORANGE)
    assert marker is not None and np.allclose(marker, expected, atol=1.0), (marker, expected)
    # the sphere itself is where the marker is: the brightest grey pixels of the upper half
    top = image[TITLE_HEIGHT : TITLE_HEIGHT + 200]
    grey = (top.min(axis=2) == top.max(axis=2)) & (top[..., 0] > 230)
    rows, cols = np.nonzero(grey)
    assert np.allclose((cols.mean(), rows.mean() + TITLE_HEIGHT), expected, atol=2.0)
    # the ribosome in the slice is drawn in its colour; the one 25 voxels away is not
    assert np.allclose(_centroid(image, CYAN), _pixel(10, 30), atol=1.0)


def test_colours_follow_the_config_and_segmentations_are_overlaid(project: str) -> None:
    root = copick.from_file(project)
    root.get_object("proteasome").meta.color = (10, 250, 60, 255)
    run = root.get_run("TS_1")
    tomogram = run.get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    seg = run.get_segmentations(name="cells")[0]
    image = render(tomogram, run.get_picks(object_name="proteasome"), seg, position=30)
    assert _centroid(image, ORANGE) is None
    assert np.allclose(_centroid(image, (10, 250, 60)), _pixel(SPHERE[0], SPHERE[1]), atol=1.0)
    x, y = (int(v) for v in _pixel(55, 34))
    r, g, b = image[y, x].astype(int)
    assert b > g and r > g  # grey blended with the membrane's purple


def test_other_axes_slabs_and_projections(project: str) -> None:
    run = copick.from_file(project).get_run("TS_1")
    tomogram = run.get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    side = render(tomogram, run.get_picks(object_name="proteasome"), axis="y", position=SPHERE[1], min_size=0)
    assert side.shape == (SHAPE[0] + TITLE_HEIGHT, SHAPE[2], 3)  # rows z, columns x, no zoom
    marker = _centroid(side, ORANGE)
    assert np.allclose(marker, (SPHERE[0], SPHERE[2] + TITLE_HEIGHT), atol=1.0)
    slab = render(tomogram, run.picks, position=20, slab=40, projection="max", title="")
    assert slab.shape[0] == SHAPE[1] * ZOOM and _centroid(slab, CYAN) is not None
    with pytest.raises(ValueError, match="outside"):
        render(tomogram, position=99)
