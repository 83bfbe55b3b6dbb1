"""Filament centreline curves: evaluation, anchors, staleness and simplification.

A curve (Catmull-Rom, linear or clamped B-spline) is cut into pieces at its anchors (control
points, or the B-spline's values at its distinct knots). Each piece is sampled densely, then
resampled at equal arc-length spacing of at most ``step``; pieces are joined at their shared
anchors. These rules give the same points as copick 1.31.0 (checked numerically in the tests).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

CURVE_KINDS = ("catmull-rom", "linear", "bspline")
#: Dense samples per ``step`` of chord (Catmull-Rom) or control polygon (B-spline) length.
SAMPLES_PER_STEP = 16
#: Fewest dense sample intervals per piece.
MIN_SAMPLES = 16
#: Points are current when the anchors lie within this fraction of ``step`` of them.
CURRENT_FRACTION = 0.01
#: Consecutive control points closer than this (Angstrom) coincide.
MIN_POINT_DISTANCE = 1e-6
MAX_DEGREE = 5
#: Slack on ``length / step`` so that a length of exactly k steps gives k intervals.
_STEP_SLACK = 1e-9


def as_points(points: object, what: str = "Points") -> np.ndarray:
    """``points`` as a float ``(N, 3)`` array; a clear error for anything else."""
    arr = np.asarray(points, dtype=float)
    if arr.size == 0:
        return arr.reshape(0, 3)
    if arr.ndim > 2 or arr.size % 3 or (arr.ndim == 2 and arr.shape[1] != 3):
        raise ValueError(f"{what} must be (x, y, z) triples, got an array of shape {arr.shape}.")
    return arr.reshape(-1, 3)


def median_spacing(points: object) -> float:
    """Median distance between consecutive points (0.0 for fewer than two)."""
    pts = as_points(points)
    if len(pts) < 2:
        return 0.0
    return float(np.median(np.linalg.norm(np.diff(pts, axis=0), axis=1)))


def reverse_knots(knots: Sequence[float]) -> np.ndarray:
    """Knots of the same B-spline traversed backwards: ``t -> t[0] + t[-1] - t``, reversed."""
    t = np.asarray(knots, dtype=float)
    if t.size == 0:
        return t
    return (t[0] + t[-1] - t)[::-1]


def _check_bspline(n: int, degree: int | None, knots: Sequence[float] | None) -> None:
    if degree is None or knots is None:
        raise ValueError("A bspline curve needs a degree and knots.")
    if isinstance(degree, bool) or int(degree) != degree or not 1 <= degree <= MAX_DEGREE:
        raise ValueError(f"B-spline degree must be an integer from 1 to {MAX_DEGREE}, not {degree}.")
    p = int(degree)
    if n < p + 1:
        raise ValueError(f"A degree {p} B-spline needs at least {p + 1} control points, got {n}.")
    t = np.asarray(knots, dtype=float)
    if t.ndim != 1 or len(t) != n + p + 1:
        raise ValueError(
            f"A degree {p} B-spline with {n} control points needs {n + p + 1} knots, got {t.size}."
        )
    if not np.isfinite(t).all():
        raise ValueError("B-spline knots must be finite.")
    if (np.diff(t) < 0).any():
        raise ValueError("B-spline knots must be non-decreasing.")
    if (t[: p + 1] != t[0]).any() or (t[-p - 1 :] != t[-1]).any():
        raise ValueError(f"B-spline knots must be clamped: the first and the last {p + 1} knots equal.")
    if t[p + 1] == t[0] or t[-p - 2] == t[-1]:
        raise ValueError(f"B-spline end knots must repeat exactly {p + 1} times.")
    _, repeats = np.unique(t[p + 1 : -p - 1], return_counts=True)
    if repeats.size and repeats.max() > p:
        raise ValueError(f"Interior B-spline knots may repeat at most {p} times.")


def check_curve(
    kind: str,
    control_points: object,
    step: float,
    alpha: float | None = None,
    degree: int | None = None,
    knots: Sequence[float] | None = None,
) -> None:
    """Raise ``ValueError`` naming the rule when the curve cannot be evaluated."""
    if not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise ValueError(f"Curve step must be a positive number of Angstrom, not {step}.")
    if kind not in CURVE_KINDS:
        raise ValueError(f"Unknown curve kind {kind!r}; this copick evaluates {', '.join(CURVE_KINDS)}.")
    pts = as_points(control_points, "Curve control points")
    if not np.isfinite(pts).all():
        raise ValueError("Curve control points must be finite.")
    if kind == "bspline":
        _check_bspline(len(pts), degree, knots)
        return
    if len(pts) < 2:
        raise ValueError(f"A {kind} curve needs at least two control points.")
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    close = np.flatnonzero(gaps < MIN_POINT_DISTANCE)
    if close.size:
        i = int(close[0])
        raise ValueError(
            f"Control points {i} and {i + 1} coincide; consecutive control points must be distinct."
        )
    if kind == "catmull-rom" and alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"Catmull-Rom alpha must be between 0 and 1, not {alpha}.")


def _catmull_rom_segment(q: np.ndarray, alpha: float, m: int) -> np.ndarray:
    """``m + 1`` points of the Catmull-Rom segment from ``q[1]`` to ``q[2]`` (Barry-Goldman form)."""
    p0, p1, p2, p3 = q
    t1 = np.linalg.norm(p1 - p0) ** alpha
    t2 = t1 + np.linalg.norm(p2 - p1) ** alpha
    t3 = t2 + np.linalg.norm(p3 - p2) ** alpha
    t = np.linspace(t1, t2, m + 1)[:, None]
    a1 = (t1 - t) / t1 * p0 + t / t1 * p1
    a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
    a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
    b1 = (t2 - t) / t2 * a1 + t / t2 * a2
    b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
    return (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2


def _de_boor(c: np.ndarray, t: np.ndarray, p: int, span: int, u: np.ndarray) -> np.ndarray:
    """B-spline values at parameters ``u`` that all lie in knot span ``span``."""
    d = [np.broadcast_to(c[span - p + j], (len(u), 3)).astype(float) for j in range(p + 1)]
    u = u[:, None]
    for r in range(1, p + 1):
        for j in range(p, r - 1, -1):
            lo, hi = t[span - p + j], t[span + 1 + j - r]
            a = (u - lo) / (hi - lo)
            d[j] = (1 - a) * d[j - 1] + a * d[j]
    return d[p]


def _spans(n: int, degree: int, knots: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The knot array and the distinct knots bounding the B-spline's pieces."""
    t = np.asarray(knots, dtype=float)
    if degree < 1 or n < degree + 1 or len(t) < n + degree:
        raise ValueError(f"A degree {degree} B-spline with {n} control points cannot use {len(t)} knots.")
    return t, np.unique(t[degree : n + 1])


def _bspline_at(c: np.ndarray, t: np.ndarray, p: int, u: np.ndarray) -> np.ndarray:
    spans = np.clip(np.searchsorted(t, u, side="right") - 1, p, len(c) - 1)
    return np.vstack([_de_boor(c, t, p, int(s), np.array([x])) for s, x in zip(spans, u)])


def _dense_count(length: float, step: float) -> int:
    return max(MIN_SAMPLES, math.ceil(SAMPLES_PER_STEP * length / step))


def _dense_pieces(
    pts: np.ndarray, step: float, kind: str, alpha: float, degree: int | None, knots: Sequence[float] | None
) -> list[np.ndarray]:
    """One densely sampled polyline per piece, from anchor to anchor."""
    if kind == "linear":
        return [pts[i : i + 2] for i in range(len(pts) - 1)]
    if kind == "catmull-rom":
        ext = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
        chords = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        return [
            _catmull_rom_segment(ext[i : i + 4], alpha, _dense_count(chords[i], step))
            for i in range(len(pts) - 1)
        ]
    p = int(degree)  # type: ignore[arg-type]
    t, breaks = _spans(len(pts), p, knots)  # type: ignore[arg-type]
    pieces = []
    for lo, hi in itertools.pairwise(breaks):
        span = int(np.searchsorted(t, lo, side="right")) - 1
        polygon = float(np.linalg.norm(np.diff(pts[span - p : span + 1], axis=0), axis=1).sum())
        pieces.append(_de_boor(pts, t, p, span, np.linspace(lo, hi, _dense_count(polygon, step) + 1)))
    return pieces


def _resample(dense: np.ndarray, step: float) -> np.ndarray:
    """Equal arc-length samples of a polyline, both ends kept, spacing at most ``step``."""
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
    count = max(1, math.ceil(s[-1] / step - _STEP_SLACK))
    targets = np.linspace(0.0, s[-1], count + 1)
    return np.column_stack([np.interp(targets, s, dense[:, k]) for k in range(3)])


def evaluate_curve(
    control_points: object,
    step: float,
    kind: str = "catmull-rom",
    alpha: float | None = 0.5,
    degree: int | None = None,
    knots: Sequence[float] | None = None,
) -> np.ndarray:
    """The ``(N, 3)`` points of a curve, spaced evenly by arc length (at most ``step``) between anchors."""
    check_curve(kind, control_points, step, alpha, degree, knots)
    pts = as_points(control_points)
    pieces = [
        _resample(d, step)
        for d in _dense_pieces(pts, step, kind, 0.5 if alpha is None else alpha, degree, knots)
    ]
    out = np.vstack([pieces[0], *(piece[1:] for piece in pieces[1:])])
    if not np.linalg.norm(np.diff(out, axis=0), axis=1).any():
        raise ValueError("The curve has zero length.")
    return out


def curve_anchors(
    control_points: object,
    kind: str = "catmull-rom",
    degree: int | None = None,
    knots: Sequence[float] | None = None,
) -> np.ndarray:
    """Points every evaluation passes through: the control points, or a B-spline's values at its knots."""
    pts = as_points(control_points)
    if kind != "bspline":
        return pts
    if degree is None or knots is None:
        raise ValueError("A bspline curve needs a degree and knots.")
    t, breaks = _spans(len(pts), int(degree), knots)
    return _bspline_at(pts, t, int(degree), breaks)


def distances_to_polyline(queries: object, polyline: object) -> np.ndarray:
    """Distance from each query point to the nearest point of the polyline (its segments)."""
    q = as_points(queries)
    line = as_points(polyline)
    if len(line) == 0:
        raise ValueError("Cannot measure distances to an empty polyline.")
    a, b = (line[:-1], line[1:]) if len(line) > 1 else (line, line)
    ab = b - a
    ab2 = (ab * ab).sum(axis=1)
    out = np.empty(len(q))
    for start in range(0, len(q), 1024):  # bounded memory for long filaments
        d = q[start : start + 1024, None, :] - a[None]
        f = np.clip((d * ab).sum(axis=2) / np.where(ab2 > 0, ab2, 1.0), 0.0, 1.0)
        out[start : start + 1024] = np.linalg.norm(d - f[..., None] * ab, axis=2).min(axis=1)
    return out


def curve_is_current(
    points: object,
    control_points: object,
    step: float,
    kind: str = "catmull-rom",
    degree: int | None = None,
    knots: Sequence[float] | None = None,
) -> bool:
    """Whether ``points`` still follow the curve: same ends, every anchor on them (1% of ``step``)."""
    if kind not in CURVE_KINDS or not step > 0:
        return False
    pts = as_points(points)
    try:
        anchors = curve_anchors(control_points, kind, degree, knots)
    except ValueError:
        return False
    if len(pts) == 0 or len(anchors) == 0:
        return False
    tol = CURRENT_FRACTION * step
    ends = max(np.linalg.norm(pts[0] - anchors[0]), np.linalg.norm(pts[-1] - anchors[-1]))
    return bool(ends <= tol and (distances_to_polyline(anchors, pts) <= tol).all())


def control_points_from_polyline(points: object, tolerance: float) -> np.ndarray:
    """A few of ``points`` whose Catmull-Rom curve stays within ``tolerance`` of them all.

    Starts from the two ends and adds the worst-fitting point until every point is close enough.
    """
    if not tolerance > 0:
        raise ValueError(f"Tolerance must be positive, not {tolerance}.")
    pts = as_points(points)
    if len(pts) > 1:
        gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        pts = pts[np.concatenate([[True], gaps >= MIN_POINT_DISTANCE])]
    if len(pts) < 2:
        raise ValueError("A filament needs at least two distinct points.")
    if np.linalg.norm(pts[-1] - pts[0]) < MIN_POINT_DISTANCE:
        raise ValueError("The polyline ends where it starts; closed filaments are not supported.")
    keep = [0, len(pts) - 1]
    while True:
        curve = evaluate_curve(pts[keep], tolerance, "catmull-rom")
        errors = distances_to_polyline(pts, curve)
        worst = int(np.argmax(errors))
        if errors[worst] <= tolerance:
            return pts[keep]
        keep = sorted([*keep, worst])
