"""What the benchmark runs produced and how it is judged and shown: a row of outcomes per workload,
the checksum checks between implementations and repeats, the table, the notes and the JSON summary.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from specs import Spec

#: The implementations, in the table's order: our copick, copick 1.31.0, the plain libraries.
IMPLS = ("ours", "ref", "limit")


def implementations(ours_python: str, no_limit: bool, no_ref: bool) -> tuple[list[str], dict[str, str], str]:
    """``(implementations, their interpreters, note)`` of a run: the note says why the reference is
    left out (``--no-ref``, or its environment could not be built: also warned on stderr), else ""."""
    import sys

    import refenv

    impls, pythons, note = list(IMPLS), {"ours": ours_python, "limit": ours_python}, ""
    if no_limit:
        impls.remove("limit")
    if no_ref:
        impls.remove("ref")
        note = "reference skipped (--no-ref)"
    else:
        try:
            pythons["ref"] = refenv.reference_python()
        except refenv.RefEnvUnavailable as exc:
            impls.remove("ref")
            note = f"reference unavailable: {str(exc).splitlines()[0]}"
            print(f"WARNING: {note}", file=sys.stderr)
    return impls, pythons, note


@dataclass
class Outcome:
    """One workload's result in one process: timed seconds, peak RSS, checksum, library versions, or
    the error; ``wall`` is the process's wall time shared among its workloads."""

    seconds: float | None = None
    peak_mb: float | None = None
    checksum: Any = None
    versions: dict = field(default_factory=dict)
    error: str | None = None
    wall: float = 0.0


def checksums_agree(a: Any, b: Any, rel: float = 1e-6) -> bool:
    """Equal as data; floats within a relative tolerance (pyramids may round differently)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(checksums_agree(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(checksums_agree(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)
    return a == b


@dataclass
class Row:
    """A workload's line of the table: its sizes and every outcome per implementation (or why it was
    skipped), with the notes of the checksum checks."""

    spec: Spec
    sizes: dict
    runs: dict[str, list[Outcome]] = field(default_factory=lambda: {k: [] for k in IMPLS})
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    def error(self, impl: str) -> str | None:
        """The first error of ``impl`` in any repeat."""
        return next((o.error for o in self.runs[impl] if o.error), None)

    def median(self, impl: str) -> float | None:
        """The median seconds of ``impl``, None when it has no time or failed in a repeat."""
        vals = [o.seconds for o in self.runs[impl] if o.error is None and o.seconds is not None]
        return statistics.median(vals) if vals and self.error(impl) is None else None

    def peak(self, impl: str) -> float | None:
        """The largest peak RSS (MB) of ``impl`` over its successful repeats."""
        vals = [o.peak_mb for o in self.runs[impl] if o.error is None and o.peak_mb is not None]
        return max(vals) if vals else None

    def checksum(self, impl: str) -> Any:
        """The checksum of ``impl``'s first successful repeat."""
        return next((o.checksum for o in self.runs[impl] if o.error is None), None)

    def status(self, impls: Sequence[str]) -> str:
        """``ok``, ``SKIPPED``, ``ERROR(impl,...)`` or ``MISMATCH`` (the table's last column)."""
        if self.skipped:
            return "SKIPPED"
        errs = [i for i in impls if self.error(i)]
        if errs:
            return "ERROR(" + ",".join(errs) + ")"
        if any("mismatch" in n for n in self.notes):
            return "MISMATCH"
        return "ok"


def check_row(row: Row, impls: Sequence[str]) -> None:
    """Record checksum disagreements between implementations and between repeats."""
    for impl in impls:
        good = [o.checksum for o in row.runs[impl] if o.error is None]
        if any(not checksums_agree(good[0], c) for c in good[1:]):
            row.notes.append(f"{impl}: checksum mismatch between repeats")
    pairs = [("ours", "ref"), ("ours", "limit"), ("ref", "limit")]
    for a, b in pairs:
        if a not in impls or b not in impls or row.error(a) or row.error(b):
            continue
        ca, cb = row.checksum(a), row.checksum(b)
        if ca is None or cb is None:  # e.g. the import limit has nothing to compare
            continue
        if not checksums_agree(ca, cb):
            row.notes.append(
                f"checksum mismatch {a} vs {b}: {json.dumps(ca)[:200]} != {json.dumps(cb)[:200]}"
            )


def _fmt_s(v: float | None, err: str | None) -> str:
    """Seconds for the table: 3 decimals below 10 s, 1 above; ERROR or - when there is none."""
    if err:
        return "ERROR"
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def fmt_ratio(num: float | None, den: float | None) -> str:
    """``num / den`` as ``1.23x`` (``12.3x`` from 10 on), - when either is missing."""
    if num is None or den is None or den <= 0:
        return "-"
    r = num / den
    return f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def _fmt_mb(v: float | None) -> str:
    """Megabytes without decimals, - when missing."""
    return "-" if v is None else f"{v:.0f}"


def render_table(rows: Sequence[Row], impls: Sequence[str]) -> str:
    """The Markdown table of medians, ratios, peak memory and status, one line per workload."""
    header = [
        "workload",
        "ours s",
        "ref s",
        "ref/ours",
        "limit s",
        "ours/limit",
        "peak MB ours/ref",
        "status",
    ]
    lines = [header]
    for r in rows:
        if r.skipped:
            lines.append([r.spec.name, "-", "-", "-", "-", "-", "-", "SKIPPED"])
            continue
        m = {i: r.median(i) for i in IMPLS}
        lines.append(
            [
                r.spec.name,
                _fmt_s(m["ours"], r.error("ours")),
                _fmt_s(m["ref"], r.error("ref")) if "ref" in impls else "n/a",
                fmt_ratio(m["ref"], m["ours"]),
                _fmt_s(m["limit"], r.error("limit")),
                fmt_ratio(m["ours"], m["limit"]),
                f"{_fmt_mb(r.peak('ours'))}/{_fmt_mb(r.peak('ref'))}",
                r.status(impls),
            ]
        )
    return markdown_table(lines)


def markdown_table(lines: list[list[str]]) -> str:
    """A Markdown table of ``lines`` (the first is the header): the first and last columns (names,
    status) left-aligned, the figures between right-aligned."""
    widths = [max(len(str(line[c])) for line in lines) for c in range(len(lines[0]))]
    last = len(widths) - 1

    def fmt(line: list[str]) -> str:
        cells = [
            str(v).ljust(w) if c in (0, last) else str(v).rjust(w)
            for c, (v, w) in enumerate(zip(line, widths))
        ]
        return "| " + " | ".join(cells) + " |"

    rules = ["-" * (w + 2) if c in (0, last) else "-" * (w + 1) + ":" for c, w in enumerate(widths)]
    sep = "|" + "|".join(rules) + "|"
    return "\n".join([fmt(lines[0]), sep, *map(fmt, lines[1:])])


def render_notes(rows: Sequence[Row], impls: Sequence[str]) -> str:
    """The lines under the table: skipped workloads, each implementation's first error, mismatches."""
    out = []
    for r in rows:
        if r.skipped:
            out.append(f"- {r.spec.name}: skipped: {r.skipped}")
        for impl in impls:
            if r.error(impl):
                out.append(f"- {r.spec.name} [{impl}]: {r.error(impl)}")
        out.extend(f"- {r.spec.name}: {n}" for n in r.notes)
    return "\n".join(out)


def workloads_summary(rows: Sequence[Row], impls: Sequence[str]) -> dict[str, Any]:
    """The ``workloads`` part of the results JSON: per workload its sizes, status and notes, and per
    implementation the median, peak, first error, every repeat's seconds and wall time, the checksum."""
    return {
        r.spec.name: {
            "title": r.spec.title,
            "sizes": r.sizes,
            "status": r.status(impls),
            "skipped": r.skipped,
            "notes": r.notes,
            **{
                impl: {
                    "median_s": r.median(impl),
                    "peak_mb": r.peak(impl),
                    "error": r.error(impl),
                    "seconds": [o.seconds for o in r.runs[impl]],
                    "wall_s": [round(o.wall, 3) for o in r.runs[impl]],
                    "checksum": r.checksum(impl),
                }
                for impl in impls
            },
        }
        for r in rows
    }
