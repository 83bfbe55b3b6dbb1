"""Workloads of single pick sets: write, read ``numpy()`` and ``.points`` (100k and 1M points)."""

from __future__ import annotations

import itertools
import os
from typing import Any

from bench_files import PICKS_JSON_OPTIONS, arrays_checksum, picks_document, picks_file_checksum
from bench_harness import COPICK, LIMIT, Timer, copick_impl, fresh_project, limit_impl, open_root

# --- picks: write, read numpy(), read .points ------------------------------


@copick_impl("picks_write")
def _picks_write_copick(p: dict, timer: Timer) -> Any:
    import numpy as np

    positions, transforms = np.load(p["positions"]), np.load(p["transforms"])
    config = fresh_project(p)
    import copick

    run = copick.from_file(config).new_run("TS_001")
    picks = run.new_picks("ribosome", "1", user_id="bench")
    with timer():
        picks.from_numpy(positions, transforms)
    path = os.path.join(p["out"], "project", "ExperimentRuns", "TS_001", "Picks", "bench_1_ribosome.json")
    return picks_file_checksum(path)


@limit_impl("picks_write")
def _picks_write_limit(p: dict, timer: Timer) -> Any:
    import numpy as np
    import orjson

    positions, transforms = np.load(p["positions"]), np.load(p["transforms"])
    path = os.path.join(p["out"], "bench_1_ribosome.json")
    with timer():
        doc = picks_document("ribosome", "bench", "1", "TS_001", positions, transforms)
        with open(path, "wb") as fh:
            fh.write(orjson.dumps(doc, option=PICKS_JSON_OPTIONS))
    return picks_file_checksum(path)


def _get_big_picks(root):
    return root.get_run("TS_001").get_picks("ribosome", "bench", "1")[0]


COPICK["picks_write_big"] = _picks_write_copick
LIMIT["picks_write_big"] = _picks_write_limit


@copick_impl("picks_read_numpy")
def _picks_numpy_copick(p: dict, timer: Timer) -> Any:
    root = open_root(p)
    with timer():
        positions, transforms = _get_big_picks(root).numpy()
    return arrays_checksum(positions, transforms)


def _load_points_plain(path: str):
    import orjson

    with open(path, "rb") as fh:
        return orjson.loads(fh.read())["points"]


@limit_impl("picks_read_numpy")
def _picks_numpy_limit(p: dict, timer: Timer) -> Any:
    import numpy as np

    chain = itertools.chain.from_iterable
    with timer():
        pts = _load_points_plain(p["picks_file"])
        n = len(pts)
        xyz = chain((q["location"]["x"], q["location"]["y"], q["location"]["z"]) for q in pts)
        positions = np.fromiter(xyz, np.float64, count=3 * n).reshape(n, 3)
        mats = chain(chain(q["transformation_"] for q in pts))
        transforms = np.fromiter(mats, np.float64, count=16 * n).reshape(n, 4, 4)
    return arrays_checksum(positions, transforms)


COPICK["picks_read_big"] = _picks_numpy_copick
LIMIT["picks_read_big"] = _picks_numpy_limit


@copick_impl("picks_read_points")
def _picks_points_copick(p: dict, timer: Timer) -> Any:
    root = open_root(p)
    with timer():
        points = _get_big_picks(root).points
    total = sum(pt.location.x + pt.location.y + pt.location.z for pt in points)
    return {"n": len(points), "locations": total}


@limit_impl("picks_read_points")
def _picks_points_limit(p: dict, timer: Timer) -> Any:
    with timer():
        points = _load_points_plain(p["picks_file"])
    total = sum(q["location"]["x"] + q["location"]["y"] + q["location"]["z"] for q in points)
    return {"n": len(points), "locations": total}
