"""``copick.util.formats`` / ``copick.util.handlers`` as plugins call them: signatures (positional order,
defaults), return shapes and values of the CSV, EM, Dynamo, TIFF, rotation and RELION table helpers.

python util_formats.py WORK_DIR
"""

import inspect
import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from copick.util import formats as f
from copick.util import handlers as h

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)  # warnings are logged, not printed: not compared here
work = Path(sys.argv[1])

#: Public names of copick 1.31's modules that plugins import (API.md section 8). Left out, with their
#: README item: RelionTomogram's fields, read_relion_tomograms_star, write_star_particles_grouped.
NAMES = {
    f: [
        "build_relion_particles_df",
        "build_relion_star_tables",
        "check_relion_filament_options",
        "copick_csv_df_to_arrays",
        "copick_to_dynamo_transform",
        "copick_to_em_transform",
        "csv_to_copick_arrays",
        "detect_relion_version",
        "dynamo_to_copick_transform",
        "em_to_copick_transform",
        "euler_to_matrix",
        "get_picks_format_from_extension",
        "get_tomogram_centers_from_copick",
        "get_volume_format_from_extension",
        "group_star_particles_by_tomogram",
        "matrix_to_euler",
        "points_and_rotations_to_transforms",
        "read_copick_csv",
        "read_copick_csv_grouped",
        "read_dynamo_table",
        "read_dynamo_table_grouped",
        "read_dynamo_tomolist",
        "read_em_motivelist",
        "read_em_motivelist_grouped",
        "read_em_volume",
        "read_index_map",
        "read_index_map_inverse",
        "read_picks_csv",
        "read_relion5_tomogram_centers",
        "read_relion_tomograms",
        "read_star_particles",
        "read_star_particles_grouped",
        "read_star_particles_with_optics",
        "read_tiff_volume",
        "relion_coordinates_to_angstrom",
        "relion_tilt_series_pixel_sizes",
        "transforms_to_points_and_rotations",
        "write_copick_csv",
        "write_dynamo_table",
        "write_dynamo_table_grouped",
        "write_em_motivelist",
        "write_em_motivelist_grouped",
        "write_em_volume",
        "write_picks_csv",
        "write_picks_csv_grouped",
        "write_relion_import_bundle",
        "write_star_particles",
        "write_tiff_volume",
    ],
    h: [
        "FormatCapabilities",
        "get_picks_format_from_path",
        "get_volume_format_from_path",
        "unpack_picks_data",
    ],
}
for module, names in NAMES.items():
    for name in names:
        params = inspect.signature(getattr(module, name)).parameters.values()
        print(name, [(p.name, p.kind.name, p.default is p.empty or repr(p.default)) for p in params])


def conv(x):
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.kind, (np.round(x, 4) if x.dtype.kind in "fiu" else x).tolist())
    if isinstance(x, tuple | list):
        return type(x).__name__, [conv(y) for y in x]
    if isinstance(x, dict):
        return {str(k): conv(y) for k, y in x.items()}
    if isinstance(x, pd.DataFrame):
        return ("DataFrame", list(x.columns), conv(x.round(4).to_numpy()))
    return x


def show(label, call):
    try:
        value = call()
    except Exception as err:
        print(label, "raises", type(err).__name__ if type(err).__module__ == "builtins" else "", err)
        return None
    print(label, conv(value))
    return value


rng = np.random.default_rng(0)
eulers = np.array([[10.0, 20.0, 30.0], [45.0, 60.0, 75.0]])
transforms = np.tile(np.eye(4), (2, 1, 1))
transforms[:, :3, :3] = f.em_to_copick_transform(np.zeros((2, 3)), eulers, 1.0)[1][:, :3, :3]
transforms[:, :3, 3] = [[1, 2, 3], [4, 5, 6]]
pos = np.array([[10.0, 20, 30], [40, 50, 60]])
scores, ids = np.array([0.5, 0.25]), np.array([7, 9])

# copick CSV
f.write_picks_csv(str(work / "a.csv"), "TS_1", pos, transforms, scores, ids)
f.write_picks_csv(str(work / "b.csv"), "TS_1", pos, transforms)
f.write_picks_csv_grouped(
    str(work / "g.csv"), {"A": (pos, transforms, scores), "B": (pos[:1], transforms[:1], None)}
)
f.write_copick_csv(str(work / "c.csv"), pos, transforms, "R")
for name in ("a.csv", "b.csv", "g.csv", "c.csv"):
    print(name, conv(pd.read_csv(work / name)))
show("read_copick_csv", lambda: f.read_copick_csv(str(work / "a.csv")))
show("read_picks_csv", lambda: f.read_picks_csv(str(work / "a.csv")))
show("read_copick_csv_grouped", lambda: f.read_copick_csv_grouped(str(work / "g.csv")))
df = pd.read_csv(work / "a.csv")
show("csv_to_copick_arrays", lambda: f.csv_to_copick_arrays(df))
show("csv_to_copick_arrays ids", lambda: f.csv_to_copick_arrays(df, True))
show("copick_csv_df_to_arrays", lambda: f.copick_csv_df_to_arrays(df))

# volumes
vol = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
f.write_tiff_volume(str(work / "v.tif"), vol)
show("read_tiff_volume", lambda: f.read_tiff_volume(str(work / "v.tif")))
f.write_em_volume(str(work / "v.em"), vol.astype(np.int16))
show("read_em_volume", lambda: f.read_em_volume(str(work / "v.em")))

# rotations
show("transforms_to_points_and_rotations", lambda: f.transforms_to_points_and_rotations(transforms))
show(
    "points_and_rotations_to_transforms",
    lambda: f.points_and_rotations_to_transforms(pos, transforms[:, :3, :3]),
)
show("euler_to_matrix", lambda: f.euler_to_matrix(eulers))
show("matrix_to_euler", lambda: f.matrix_to_euler(transforms[:, :3, :3]))
show("matrix_to_euler zxz", lambda: f.matrix_to_euler(transforms[:, :3, :3], "zxz"))

# EM motive lists and Dynamo tables
show("copick_to_em_transform", lambda: f.copick_to_em_transform(pos, transforms, 10.0))
px, eul, sh = show(
    "copick_to_em_transform shifts", lambda: f.copick_to_em_transform(pos, transforms, 10.0, True)
)
show("em_to_copick_transform", lambda: f.em_to_copick_transform(px, eul, 10.0, sh))
f.write_em_motivelist(str(work / "m.em"), px, eul, scores, 3, sh)
for args in [(), (True,), (False, 4, True), (True, 4, True)]:
    show(f"read_em_motivelist {args}", lambda: f.read_em_motivelist(str(work / "m.em"), *args))  # noqa: B023
show(
    "read_em_motivelist_grouped",
    lambda: f.read_em_motivelist_grouped(str(work / "m.em"), 10.0, {3: "A", 4: "B"}),
)
grouped = {"A": (pos, transforms, None), "B": (pos, transforms, scores)}
f.write_em_motivelist_grouped(str(work / "mg.em"), grouped, 10.0, {"A": 1, "B": 2})
show("em grouped", lambda: f.read_em_motivelist_grouped(str(work / "mg.em"), 10.0, {1: "A", 2: "B"}))
show(
    "em grouped unmapped run",
    lambda: f.write_em_motivelist_grouped(str(work / "x.em"), grouped, 10.0, {"A": 1}),
)
px, eul, sh = show("copick_to_dynamo_transform", lambda: f.copick_to_dynamo_transform(pos, transforms, 10.0))
show("dynamo_to_copick_transform", lambda: f.dynamo_to_copick_transform(px, eul, sh, 10.0))
f.write_dynamo_table(str(work / "d.tbl"), px, eul, sh, scores, 2)
show("read_dynamo_table", lambda: f.read_dynamo_table(str(work / "d.tbl")))
show("read_dynamo_table idx", lambda: f.read_dynamo_table(str(work / "d.tbl"), True))
show("read_dynamo_table_grouped", lambda: f.read_dynamo_table_grouped(str(work / "d.tbl"), 10.0, {2: "TS_2"}))
f.write_dynamo_table_grouped(str(work / "dg.tbl"), grouped, 10.0, {"A": 1, "B": 2})
show("dynamo grouped", lambda: f.read_dynamo_table_grouped(str(work / "dg.tbl"), 10.0, {1: "A", 2: "B"}))
for p in ["a.mrc", "a.tif", "a.tiff", "a.em", "a.zarr", "x.csv", "x.star", "x.tbl", "x.xyz"]:
    print(p, f.get_volume_format_from_extension(p), f.get_picks_format_from_extension(p))
    print(p, h.get_volume_format_from_path(p), h.get_picks_format_from_path(p))

# handlers
for data in [(pos, transforms), (pos, transforms, scores), (pos, transforms, scores, ids)]:
    show(f"unpack_picks_data {len(data)}", lambda: h.unpack_picks_data(data))  # noqa: B023
print(h.FormatCapabilities(), h.FormatCapabilities(True, True, True))

# RELION tables
for kw in [
    dict(tomo_name="TS_1", tilt_series_pixel_size=2.0),
    dict(tomo_name="TS_1", legacy_voxel_spacing=10.0),
    dict(tomo_name="TS_1", tomogram_center=(100.0, 100, 50), tilt_series_pixel_size=2.0),
    dict(tomo_name="TS_1", tomogram_center=(100.0, 100, 50)),
]:
    show(f"build_relion_particles_df {kw}", lambda: f.build_relion_particles_df(pos, transforms, **kw))  # noqa: B023
runs = {"A": (pos, transforms), "B": (pos[:1], transforms[:1])}
both = {"A": (100.0, 100, 50), "B": (1.0, 2, 3)}
for kw in [
    dict(voxel_spacing=10.0),
    dict(tilt_series_pixel_size=2.0),
    dict(tilt_series_pixel_size=2.0, tomogram_centers={"A": (100.0, 100, 50)}),
    dict(tilt_series_pixel_size=2.0, tomogram_centers=both),
    dict(tilt_series_pixel_size=2.0, include_optics=False),
]:
    show(f"build_relion_star_tables {kw}", lambda: f.build_relion_star_tables(runs, **kw))  # noqa: B023
particles, optics = f.build_relion_star_tables(runs, tilt_series_pixel_size=2.0, tomogram_centers=both)
index, files = f.write_relion_import_bundle(str(work / "relion" / "index.star"), particles)
print(os.path.relpath(index, work), {k: os.path.relpath(v, work) for k, v in files.items()})
for name in ["index.star", "coordinates/A.star", "coordinates/B.star"]:
    text = (work / "relion" / name).read_text().replace(str(work), "<WORK>")
    print(name, [line for line in text.splitlines() if line and not line.startswith("#")])
for args in [("frame", None), ("pose", "filament"), ("x", None), ("frame", "y")]:
    show(f"check_relion_filament_options {args}", lambda: f.check_relion_filament_options(*args))  # noqa: B023
optics_df = pd.DataFrame({"rlnOpticsGroup": [1, 2], "rlnTomoTiltSeriesPixelSize": [1.5, 2.5]})
parts = pd.DataFrame({"rlnOpticsGroup": [2, 1, 2]})
show("relion_tilt_series_pixel_sizes", lambda: f.relion_tilt_series_pixel_sizes(parts, optics_df))
show("relion_tilt_series_pixel_sizes no optics", lambda: f.relion_tilt_series_pixel_sizes(parts, None))
