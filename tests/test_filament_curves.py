"""Filament curves compute what copick 1.31.0 computes, and the filament models read and write its files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from copick.filament_models import CopickFilament, CopickFilamentCurve, CopickFilamentsFile
from copick.util.filaments import (
    control_points_from_polyline,
    curve_anchors,
    curve_is_current,
    distances_to_polyline,
    evaluate_curve,
    reverse_knots,
)

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

import refenv  # noqa: E402  (bench/refenv.py: the cached copick 1.31.0 environment)

#: Run in the reference env: evaluates every case of the JSON file argv[1], writes results to argv[2].
REFERENCE_SCRIPT = """
import json, sys
import numpy as np
from copick.models import CopickFilament, CopickFilamentCurve, CopickFilamentsFile
from copick.util import filaments as f

data = json.load(open(sys.argv[1]))
out = {"curves": [], "polylines": []}
for c in data["curves"]:
    kw = dict(degree=c["degree"], knots=c["knots"])
    out["curves"].append({
        "points": f.evaluate_curve(c["cp"], c["step"], c["kind"], alpha=c["alpha"], **kw).tolist(),
        "anchors": f.curve_anchors(c["cp"], c["kind"], **kw).tolist(),
        "current": [f.curve_is_current(p, c["cp"], c["step"], c["kind"], **kw) for p in c["probes"]],
    })
for p, tol in data["polylines"]:
    out["polylines"].append(f.control_points_from_polyline(p, tol).tolist())
curves = [CopickFilamentCurve(**c) for c in data["models"]]
filaments = [CopickFilament.from_curve(i + 1, c, score=0.5, metadata={"k": i}) for i, c in enumerate(curves)]
filaments.append(CopickFilament(instance_id=99, points=[[0, 0, 0], [1, 2, 3]], curve={"kind": "spiral",
    "control_points": [[0, 0, 0]], "step": 2, "extra": [1, 2]}, radius=30, polarity_known=True))
file = CopickFilamentsFile(pickable_object_name="actin", user_id="u", session_id="0", run_name="TS_1",
    voxel_spacing=10, filaments=filaments)
out["file"] = file.model_dump_json()
out["editable"] = [f.reversed().editable_control_points().tolist() for f in filaments[:-1]]
json.dump(out, open(sys.argv[2], "w"))
"""


def _random_curve(rng: np.random.Generator, kind: str) -> dict:
    """A random valid curve of ``kind`` with its step, as keyword data."""
    scale = 10 ** rng.uniform(-1, 3)
    degree = knots = alpha = None
    if kind == "bspline":
        degree = int(rng.integers(1, 6))
        n = int(rng.integers(degree + 1, degree + 8))
        inner = np.sort(rng.uniform(0, 1, n - degree - 1))
        if degree > 1 and len(inner) > 1 and rng.uniform() < 0.3:
            inner[1] = inner[0]  # a repeated interior knot
        lo = rng.uniform(-5, 5)
        hi = lo + rng.uniform(0.1, 10)
        knots = [lo] * (degree + 1) + (lo + (hi - lo) * inner).tolist() + [hi] * (degree + 1)
        cp = rng.normal(size=(n, 3)) * scale
    else:
        cp = np.cumsum(rng.normal(size=(int(rng.integers(2, 9)), 3)), axis=0) * scale
        if kind == "catmull-rom":
            alpha = [0.0, 0.5, 1.0, None, float(rng.uniform())][int(rng.integers(5))]
    step = float(scale * 10 ** rng.uniform(-1.5, 0.5))
    return {"kind": kind, "cp": cp.tolist(), "step": step, "alpha": alpha, "degree": degree, "knots": knots}


def _staleness_probes(case: dict, rng: np.random.Generator) -> list[list]:
    """Points to ask ``curve_is_current`` about: fresh, reversed, one point moved a little or a lot."""
    pts = evaluate_curve(case["cp"], case["step"], case["kind"], case["alpha"], case["degree"], case["knots"])
    probes = [pts, pts[::-1]]
    for shift in (0.005, 0.02, 0.5):
        moved = pts.copy()
        moved[int(rng.integers(len(pts)))] += rng.normal(size=3) * shift * case["step"]
        probes.append(moved)
    return [p.tolist() for p in probes]


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The cases and what copick 1.31.0 computed for them (one subprocess for all)."""
    python = refenv.reference_python(skip_if_unavailable=True)
    rng = np.random.default_rng(20261125)
    curves = [_random_curve(rng, kind) for _ in range(70) for kind in ("catmull-rom", "linear", "bspline")]
    for case in curves:
        case["probes"] = _staleness_probes(case, rng)
    polylines = []
    for _ in range(12):
        pts = np.cumsum(rng.normal(size=(int(rng.integers(3, 40)), 3)) + np.array([2.0, 0, 0]), axis=0)
        polylines.append((pts.tolist(), float(10 ** rng.uniform(-1, 0.7))))
    models = [
        {"kind": "catmull-rom", "control_points": [[0, 0, 0], [30, 5, 0], [60, 0, 10]], "step": 4},
        {"kind": "linear", "control_points": [[0, 0, 0], [20, 0, 0], [20, 20, 5]], "step": 3, "note": "x"},
        {"kind": "bspline", "step": 5, "degree": 3, "knots": [0, 0, 0, 0, 0.4, 1, 1, 1, 1], "smoothing": 2,
         "control_points": [[0, 0, 0], [30, 0, 0], [60, 10, 0], [60, 50, 20], [20, 70, 10]]},
    ]  # fmt: skip
    data = {"curves": curves, "polylines": polylines, "models": models}
    folder = tmp_path_factory.mktemp("filament-reference")
    (folder / "in.json").write_text(json.dumps(data))
    proc = refenv.run_in_env(python, REFERENCE_SCRIPT, [folder / "in.json", folder / "out.json"], timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return data, json.loads((folder / "out.json").read_text())


def test_curves_of_every_kind_evaluate_as_in_reference(reference_results: tuple[dict, dict]) -> None:
    data, ref = reference_results
    worst = 0.0
    for case, theirs in zip(data["curves"], ref["curves"], strict=True):
        ours = evaluate_curve(
            case["cp"], case["step"], case["kind"], case["alpha"], case["degree"], case["knots"]
        )
        assert ours.shape == np.shape(theirs["points"]), case
        worst = max(worst, float(np.abs(ours - theirs["points"]).max()))
        anchors = curve_anchors(case["cp"], case["kind"], case["degree"], case["knots"])
        np.testing.assert_allclose(anchors, theirs["anchors"], rtol=0, atol=1e-6)
        current = [curve_is_current(p, case["cp"], case["step"], case["kind"], case["degree"], case["knots"])
                   for p in case["probes"]]  # fmt: skip
        assert current == theirs["current"], case
    assert worst < 1e-6


def test_control_points_from_polyline_pick_the_reference_points(reference_results: tuple[dict, dict]) -> None:
    data, ref = reference_results
    for (points, tolerance), theirs in zip(data["polylines"], ref["polylines"], strict=True):
        np.testing.assert_allclose(control_points_from_polyline(points, tolerance), theirs, atol=1e-9)


def test_filaments_file_written_by_reference_reads_and_dumps_the_same(
    reference_results: tuple[dict, dict],
) -> None:
    _, ref = reference_results
    theirs = json.loads(ref["file"])
    ours = CopickFilamentsFile.model_validate_json(ref["file"])
    assert json.loads(ours.model_dump_json()) == theirs
    assert ours.model_dump(mode="json") == theirs
    assert [f.curve_is_current() for f in ours.filaments] == [True, True, True, False]
    assert ours.filaments[1].curve.note == "x" and "alpha" not in theirs["filaments"][1]["curve"]
    editable = [f.reversed().editable_control_points() for f in ours.filaments[:-1]]
    for mine, expected in zip(editable, ref["editable"], strict=True):
        np.testing.assert_allclose(mine, expected, atol=1e-9)


coordinates = st.floats(-1000, 1000, allow_nan=False)
polylines = st.lists(st.tuples(coordinates, coordinates, coordinates), min_size=2, max_size=8).filter(
    lambda pts: bool(np.linalg.norm(np.diff(np.asarray(pts), axis=0), axis=1).min() > 1e-3)
)


@settings(max_examples=60, deadline=None)
@given(polylines, st.sampled_from(["catmull-rom", "linear"]), st.floats(0.05, 1.0), st.floats(0, 1))
def test_traced_curves_pass_through_anchors_reverse_and_go_stale(
    control_points: list, kind: str, step_fraction: float, alpha: float
) -> None:
    cps = np.asarray(control_points)
    step = float(np.linalg.norm(np.diff(cps, axis=0), axis=1).max() * step_fraction)
    curve = CopickFilamentCurve(kind=kind, control_points=control_points, step=step, alpha=alpha)
    points = curve.evaluate()
    scale = 1 + np.abs(cps).max()
    # the ends are the ends and every anchor is on the points
    np.testing.assert_allclose(points[[0, -1]], cps[[0, -1]], atol=1e-9 * scale)
    assert distances_to_polyline(curve.anchors(), points).max() < 1e-9 * scale
    # reversal: twice is the original; the reversed curve evaluates to the reversed points
    assert curve.reversed().reversed() == curve
    np.testing.assert_allclose(curve.reversed().evaluate(), points[::-1], atol=1e-7 * scale)
    # staleness: fresh points are current; moving an end by 2% of the step makes them stale
    assert curve.is_current_for(points)
    moved = points.copy()
    moved[-1] += np.array([0.6, 0.0, 0.8]) * 0.02 * step
    assert not curve.is_current_for(moved)
    if np.linalg.norm(points[0] - points[-1]) > 0.02 * step:
        assert not curve.is_current_for(points[::-1])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.data())
def test_bspline_reversal_and_anchors(degree: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(degree + 1, degree + 6))
    size = n - degree - 1
    inner = sorted(data.draw(st.lists(st.floats(0.01, 0.99), min_size=size, max_size=size, unique=True)))
    knots = [0.0] * (degree + 1) + inner + [3.0] * (degree + 1)
    cps = data.draw(st.lists(st.tuples(coordinates, coordinates, coordinates), min_size=n, max_size=n))
    curve = CopickFilamentCurve(kind="bspline", control_points=cps, step=25.0, degree=degree, knots=knots)
    np.testing.assert_allclose(reverse_knots(reverse_knots(knots)), knots, atol=1e-12)
    assert curve.reversed().reversed().knots == pytest.approx(knots)
    try:
        points = curve.evaluate()
    except ValueError as exc:  # all control points equal
        assert "zero length" in str(exc)
        return
    np.testing.assert_allclose(curve.reversed().evaluate(), points[::-1], atol=1e-6)
    assert distances_to_polyline(curve.anchors(), points).max() < 1e-6
    moved = points.copy()
    moved[0] += [0.0, 0.0, 0.6]
    assert curve.is_current_for(points) and not curve.is_current_for(moved)


def test_filament_editing_keeps_curve_kind_and_fields() -> None:
    f = CopickFilament.from_control_points(
        7, [[0, 0, 0], [10, 0, 0], [10, 10, 0]], 3, kind="linear", score=0.5
    )
    assert f.points[:2] == [(0.0, 0.0, 0.0), (2.5, 0.0, 0.0)] and f.curve_is_current()
    moved = f.with_control_points([[0, 0, 0], [5, 5, 0]])
    assert (moved.curve.kind, moved.curve.step, moved.score, moved.instance_id) == ("linear", 3.0, 0.5, 7)
    assert moved.curve_is_current() and not f.model_copy(update={"points": moved.points}).curve_is_current()
    assert f.editable_curve() is f.curve
    converted = f.editable_curve(kinds=("catmull-rom",))
    assert converted.kind == "catmull-rom" and converted.control_points == f.curve.control_points
    plain = CopickFilament(instance_id=1, points=[[0, 0, 0], [1, 0, 0], [3, 1, 0]])
    assert plain.with_control_points([[0, 0, 0], [5, 5, 0]]).curve.step == pytest.approx((1 + 5**0.5) / 2)
    assert plain.reversed().points == plain.points[::-1] and plain.reversed().curve is None


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        ({"kind": ""}, "at least 1 character"),
        ({"step": 0}, "greater than 0"),
        ({"step": float("inf")}, "Curve step must be a positive number"),
        ({"control_points": [[0, 0, 0], [0, 0, 0]]}, "Control points 0 and 1 coincide"),
        ({"control_points": [[0, 0, 0], [1, 0, float("nan")]]}, "must be finite"),
        ({"alpha": 2}, "alpha must be between 0 and 1"),
        ({"kind": "bspline"}, "needs a degree and knots"),
        ({"kind": "bspline", "degree": 1, "knots": [0, 0, 1]}, "needs 4 knots, got 3"),
        ({"kind": "bspline", "degree": 1, "knots": [0, 1, 0, 1]}, "non-decreasing"),
        ({"kind": "bspline", "degree": 6, "knots": [0, 0, 1, 1]}, "integer from 1 to 5"),
        ({"smoothing": -1}, "greater than or equal to 0"),
    ],
)
def test_invalid_curves_are_refused_with_the_rule(fields: dict, phrase: str) -> None:
    base = {"kind": "catmull-rom", "control_points": [[0, 0, 0], [1, 0, 0]], "step": 1.0}
    with pytest.raises(ValidationError, match=phrase):
        CopickFilamentCurve(**{**base, **fields})


def test_curve_serialises_without_none_and_keeps_unknown_kinds() -> None:
    curve = CopickFilamentCurve(kind="catmull-rom", control_points=[[0, 0, 0], [1, 0, 0]], step=1)
    dumped = {"kind": "catmull-rom", "control_points": [(0, 0, 0), (1, 0, 0)], "step": 1.0, "alpha": 0.5}
    assert curve.model_dump() == dumped
    odd = CopickFilamentCurve(kind="spiral", control_points=[], step=1, pitch=3)
    assert not odd.is_known and odd.model_dump()["pitch"] == 3
    with pytest.raises(ValueError, match="unknown kind 'spiral'"):
        CopickFilament.from_curve(1, odd)


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        ({"instance_id": 0}, "greater than or equal to 1"),
        ({"points": [[0, 0, 0]]}, "at least two points"),
        ({"points": [[0, 0, 0], [float("inf"), 0, 0]]}, "must be finite"),
        ({"radius": 0}, "greater than 0"),
    ],
)
def test_invalid_filaments_are_refused(fields: dict, phrase: str) -> None:
    with pytest.raises(ValidationError, match=phrase):
        CopickFilament(**{"instance_id": 1, "points": [[0, 0, 0], [1, 0, 0]], **fields})


def test_filament_file_refuses_repeated_instance_ids() -> None:
    f = CopickFilament(instance_id=3, points=[[0, 0, 0], [1, 0, 0]], metadata=None)
    assert f.metadata == {}
    with pytest.raises(ValidationError, match=r"unique within a file \(repeated: \[3\]\)"):
        CopickFilamentsFile(pickable_object_name="a", user_id="u", session_id="s", filaments=[f, f])
