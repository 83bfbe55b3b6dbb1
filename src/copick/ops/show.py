"""Pictures of a tomogram: a slice (or a slab's mean/max projection) with picks and a segmentation.

``render(tomogram, picks=..., segmentation=..., axis="z", position=None, slab=1)`` returns an RGB
``uint8`` array (rows, columns, 3): a title band naming run, tomogram type and voxel size, then the
plane, contrast set from percentiles, a segmentation overlaid in its objects' colours, each pick drawn
as a circle in its object's config colour (only particles that reach into the slab; the circle is
the particle's cross-section at the slab), and a scale bar in nm. Pillow draws (imported here only).
Small planes are enlarged by an integer factor to at least ``min_size`` pixels; planes larger than
``max_size`` are read from the pyramid level that fits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from copick.entities.base import locator_of

__all__ = ["AXES", "render", "save_png"]

# axis -> (index of the axis in [z, y, x], the plane's row axis, the plane's column axis)
AXES = {"z": (0, 1, 2), "y": (1, 0, 2), "x": (2, 0, 1)}
_XYZ = {0: 2, 1: 1, 2: 0}  # [z, y, x] axis -> column of an (x, y, z) position
TITLE_HEIGHT = 26
_GREY = (160, 160, 160)


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one bitmap size
        return ImageFont.load_default()


def level_shapes(tomogram: Any) -> list[tuple[int, ...]]:
    """Shapes of every level of the image, from its ``.zarray`` files (nothing else read)."""
    import json

    layer, rel = locator_of(tomogram)[:2]
    attrs = json.loads(layer.read_bytes(f"{rel}/.zattrs"))
    paths = [d["path"] for d in attrs["multiscales"][0]["datasets"]]
    return [tuple(json.loads(layer.read_bytes(f"{rel}/{p}/.zarray"))["shape"]) for p in paths]


def _plane(tomogram: Any, axis: str, position: int | None, slab: int, projection: str, max_size: int):
    """``(plane, level, position at level 0, slab at level 0)``: the reduced 2-D array to show."""
    shapes = level_shapes(tomogram)
    a, r, c = AXES[axis]
    level = next((i for i, s in enumerate(shapes) if max(s[r], s[c]) <= max_size), len(shapes) - 1)
    factor = 2**level
    shape0 = shapes[0]
    position = shape0[a] // 2 if position is None else int(position)
    if not 0 <= position < shape0[a]:
        raise ValueError(f"position {position} is outside the tomogram ({axis} runs 0..{shape0[a] - 1})")
    slab = max(1, int(slab))
    start0 = max(0, position - slab // 2)
    stop0 = min(shape0[a], start0 + slab)
    start = start0 // factor
    stop = max(start + 1, -(-stop0 // factor))
    region = {"xyz"[2 - a]: slice(start, stop)}
    data = np.asarray(tomogram.numpy(str(level), **region), dtype=np.float32)
    reduce = np.max if projection == "max" else np.mean
    plane = reduce(data, axis=a) if stop - start > 1 else np.take(data, 0, axis=a)
    return plane, level, (start0, stop0)


def _contrast(plane: np.ndarray, percentiles: tuple[float, float]) -> np.ndarray:
    finite = plane[np.isfinite(plane)]
    if finite.size == 0:
        return np.zeros(plane.shape, np.uint8)
    sample = finite if finite.size <= 1_000_000 else finite[:: finite.size // 1_000_000]
    lo, hi = np.percentile(sample, percentiles)
    if hi <= lo:
        hi = lo + 1.0
    scaled = (np.nan_to_num(plane, nan=lo) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _colour(objects: dict[str, Any], name: str) -> tuple[int, int, int]:
    obj = objects.get(name)
    color = getattr(obj, "color", None)
    return tuple(int(v) for v in color[:3]) if color is not None else _GREY


def _label_colours(seg: Any, objects: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """An RGB colour per segmentation value (row ``i`` for ``values[i]``)."""
    colours = np.zeros((len(values), 3), np.uint8)
    by_label = {o.label: _colour(objects, o.name) for o in objects.values() if o.label is not None}
    for i, v in enumerate(values.tolist()):
        if seg.segmentation_type == "binary":
            colours[i] = _colour(objects, seg.name)
        elif seg.segmentation_type == "instance":
            hue = (v * 0.618033988749895) % 1.0  # distinct colours for neighbouring ids
            colours[i] = [int(255 * (0.5 + 0.5 * math.cos(2 * math.pi * (hue + k / 3)))) for k in range(3)]
        else:
            colours[i] = by_label.get(v, _GREY)
    return colours


def _segmentation_overlay(
    seg: Any, objects: dict[str, Any], shape: tuple[int, int], axis: str, centre_a: float, plane_vs: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(rgb, mask)`` of the segmentation plane through ``centre_a`` (Angstrom along ``axis``),
    resampled (nearest) onto a plane of ``shape`` pixels of ``plane_vs`` Angstrom."""
    a = AXES[axis][0]
    seg_vs = float(seg.voxel_size)
    index = max(0, round(centre_a / seg_vs))
    probe = {"xyz"[2 - a]: slice(index, index + 1)}
    data = np.asarray(seg.numpy("0", channel=0, **probe) if seg.is_panoptic else seg.numpy("0", **probe))
    if data.shape[a] == 0:
        return np.zeros((*shape, 3), np.uint8), np.zeros(shape, bool)
    plane = np.take(data, 0, axis=a)
    rows = np.clip(np.round(np.arange(shape[0]) * plane_vs / seg_vs).astype(int), 0, plane.shape[0] - 1)
    cols = np.clip(np.round(np.arange(shape[1]) * plane_vs / seg_vs).astype(int), 0, plane.shape[1] - 1)
    labels = plane[np.ix_(rows, cols)]
    values, inverse = np.unique(labels, return_inverse=True)
    rgb = _label_colours(seg, objects, values)[inverse.reshape(labels.shape)]
    return rgb, labels != 0


def _nice_length(target_nm: float) -> float:
    """1, 2 or 5 times a power of ten, at most ``target_nm``."""
    power = 10 ** math.floor(math.log10(target_nm))
    return max(m * power for m in (1, 2, 5) if m * power <= target_nm)


def render(
    tomogram: Any,
    picks: list[Any] | None = None,
    segmentation: Any = None,
    axis: str = "z",
    position: int | None = None,
    slab: int = 1,
    projection: str = "mean",
    percentiles: tuple[float, float] = (1.0, 99.0),
    min_size: int = 512,
    max_size: int = 2048,
    title: str | None = None,
    alpha: float = 0.45,
) -> np.ndarray:
    """An RGB picture (rows, columns, 3; ``uint8``) of ``tomogram`` with ``picks`` and ``segmentation``.

    ``axis`` is ``z``, ``y`` or ``x``; ``position`` the level-0 voxel index along it (default: the
    centre) and ``slab`` the number of level-0 slices projected (``projection`` ``mean`` or ``max``).
    Picks are drawn in their object's colour when their particle (radius from the config, else 2
    voxels) reaches into the slab. ``title`` replaces the default title (``""``: no title band).
    """
    from PIL import Image, ImageDraw

    if axis not in AXES:
        raise ValueError(f"axis must be one of z, y, x, not {axis!r}")
    vs = tomogram.voxel_spacing
    run = vs.run
    objects = {o.name: o for o in run.root.config.pickable_objects}
    plane, level, window = _plane(tomogram, axis, position, slab, projection, max_size)
    vs0 = float(vs.voxel_size)
    plane_vs = vs0 * 2**level
    centre_a = (window[0] + window[1] - 1) / 2 * vs0  # Angstrom along the axis
    half_slab = (window[1] - window[0]) / 2 * vs0
    rgb = np.repeat(_contrast(plane, percentiles)[..., None], 3, axis=2)
    if segmentation is not None:
        seg_rgb, mask = _segmentation_overlay(segmentation, objects, plane.shape, axis, centre_a, plane_vs)
        rgb[mask] = (rgb[mask] * (1 - alpha) + seg_rgb[mask] * alpha).astype(np.uint8)
    zoom = max(1, math.ceil(min_size / max(plane.shape))) if min_size else 1
    if zoom > 1:
        rgb = np.repeat(np.repeat(rgb, zoom, axis=0), zoom, axis=1)
    plane_image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(plane_image)
    a, r, c = AXES[axis]
    _scale_bar(draw, plane_image.size, plane_vs / zoom)
    for pick_set in picks or []:  # markers over everything, clipped to the plane
        _draw_picks(draw, pick_set, objects, a, r, c, centre_a, half_slab, plane_vs, zoom)
    band = 0 if title == "" else TITLE_HEIGHT
    image = Image.new("RGB", (rgb.shape[1], rgb.shape[0] + band), (0, 0, 0))
    image.paste(plane_image, (0, band))
    draw = ImageDraw.Draw(image)
    if band:
        text = title
        if text is None:
            where = f"{axis} {window[0]}" + (
                f"-{window[1] - 1} {projection}" if window[1] - window[0] > 1 else ""
            )
            text = f"{run.name} · {tomogram.tomo_type} · voxel {vs0 / 10:g} nm · {where}" + (
                f" · level {level}" if level else ""
            )
        draw.text((6, 5), text, fill=(255, 255, 255), font=_font(14))
    return np.asarray(image)


def _draw_picks(
    draw: Any,
    pick_set: Any,
    objects: dict[str, Any],
    a: int,
    r: int,
    c: int,
    centre_a: float,
    half_slab: float,
    plane_vs: float,
    zoom: int,
) -> None:
    positions, transforms = pick_set.numpy()
    if len(positions) == 0:
        return
    centres = positions + transforms[:, :3, 3]  # the particle centre (FORMAT.md section 5)
    obj = objects.get(pick_set.pickable_object_name)
    radius = float(obj.radius) if obj is not None and obj.radius else 2 * plane_vs
    colour = _colour(objects, pick_set.pickable_object_name)
    depth = np.abs(centres[:, _XYZ[a]] - centre_a)
    reach = np.maximum(depth - half_slab, 0.0)
    for (row_a, col_a), dz in zip(centres[:, [_XYZ[r], _XYZ[c]]], reach):
        if dz > radius:
            continue
        cross = math.sqrt(radius**2 - dz**2) / plane_vs * zoom  # pixels
        x = col_a / plane_vs * zoom + (zoom - 1) / 2
        y = row_a / plane_vs * zoom + (zoom - 1) / 2
        size = max(cross, 3.0)
        draw.ellipse((x - size, y - size, x + size, y + size), outline=colour, width=2)


def _scale_bar(draw: Any, size: tuple[int, int], angstrom_per_pixel: float) -> None:
    width, height = size
    if height < 40 or width < 60:
        return
    length_nm = _nice_length(width * 0.2 * angstrom_per_pixel / 10)
    pixels = length_nm * 10 / angstrom_per_pixel
    x0, y0 = 10, height - 14
    draw.rectangle((x0 - 1, y0 - 1, x0 + pixels + 1, y0 + 5), fill=(0, 0, 0))
    draw.rectangle((x0, y0, x0 + pixels, y0 + 4), fill=(255, 255, 255))
    label = f"{length_nm:g} nm"
    draw.text(
        (x0, y0 - 18), label, fill=(255, 255, 255), font=_font(13), stroke_width=2, stroke_fill=(0, 0, 0)
    )


def save_png(image: np.ndarray, path: str) -> None:
    """Write an RGB array as a PNG file."""
    from PIL import Image

    Image.fromarray(image).save(path, format="PNG", compress_level=1)  # fast; noise barely compresses
