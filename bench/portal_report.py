"""The portal benchmark's report: per case (cold, warm) the medians, request counts and agreement of
the implementations' results, and the Markdown table printed and saved by ``bench/bench_portal.py``."""

from __future__ import annotations

import statistics
from typing import Any

from report import IMPLS, checksums_agree, fmt_ratio, markdown_table

CASES = ("cold", "warm")
#: The checksum entries the implementations must agree on (not the copick version).
AGREED = ("runs", "names_crc", "shape", "sum")


def agree(a: dict | None, b: dict | None) -> bool:
    """Both jobs succeeded and read the same run names (in order) and the same level (sum to 1e-6)."""
    if not a or not b:
        return False
    return checksums_agree({k: a[k] for k in AGREED}, {k: b[k] for k in AGREED})


def median(results: list[dict], key: str) -> float | None:
    """The median of ``key`` over the jobs that succeeded, None when there is none."""
    values = [r[key] for r in results if r.get(key) is not None and "error" not in r]
    return statistics.median(values) if values else None


def fmt_s(v: float | None) -> str:
    """Seconds with 3 decimals, - when missing."""
    return "-" if v is None else f"{v:.3f}"


def fmt_count(results: list[dict], key: str) -> str:
    """The request count of ``key``: one number, or every distinct one (``9/10``) when repeats differ."""
    values = sorted({r[key] for r in results if key in r})
    return "-" if not values else "/".join(map(str, values)) if len(values) > 1 else str(values[0])


def summarize(results: dict[str, dict[str, list[dict]]], impls: list[str]) -> list[dict[str, Any]]:
    """One row per case from every implementation's job results: medians, counts, status, errors."""
    rows = []
    for case in CASES:
        per = {i: results[i][case] for i in impls}
        med = {i: median(per[i], "seconds") for i in impls}
        with_import = {i: median(per[i], "with_import") for i in impls}
        portal_cpu = {i: median(per[i], "portal_cpu") for i in impls}
        errors = [f"{i}: {r['error']}" for i in impls for r in per[i] if "error" in r]
        checks = {i: [r.get("checksum") for r in per[i]] for i in impls}
        base = checks["ours"][0] if checks["ours"] else None
        mismatched = [i for i in impls for c in checks[i] if not agree(base, c)]
        status = (
            "ERROR"
            if errors
            else ("MISMATCH(" + ",".join(sorted(set(mismatched))) + ")" if mismatched else "ok")
        )
        rows.append({
            "case": case, "seconds": med, "with_import": with_import, "portal_cpu": portal_cpu,
            "status": status, "errors": errors,
            "graphql": {i: fmt_count(per[i], "graphql") for i in impls},
            "s3": {i: fmt_count(per[i], "s3") for i in impls},
            "peak_mb": {i: median(per[i], "peak_mb") for i in impls},
            "checksums": {i: checks[i][:1] for i in impls},
        })  # fmt: skip
    return rows


def render(rows: list[dict[str, Any]], impls: list[str], n_runs: int) -> str:
    """The Markdown table of ``summarize``'s rows, the errors listed under it."""

    def col(row: dict, key: str) -> str:
        return "/".join(row[key].get(i, "-") if i in impls else "n/a" for i in IMPLS)

    header = ["case", "ours s", "ref s", "ref/ours", "limit s", "ours/limit", "+import ours/ref s",
              "GraphQL POSTs ours/ref/limit", "fake-portal CPU s ours/ref/limit",
              "S3 requests ours/ref/limit", "peak MB ours/ref", "status"]  # fmt: skip
    lines = [header]
    for r in rows:
        s = r["seconds"]
        peak = "/".join(
            "-" if r["peak_mb"].get(i) is None else f"{r['peak_mb'][i]:.0f}" for i in ("ours", "ref")
        )
        lines.append([
            f"{n_runs} runs, {r['case']} cache", fmt_s(s.get("ours")), fmt_s(s.get("ref")),
            fmt_ratio(s.get("ref"), s.get("ours")), fmt_s(s.get("limit")),
            fmt_ratio(s.get("ours"), s.get("limit")),
            "/".join(fmt_s(r["with_import"].get(i)) for i in ("ours", "ref")),
            col(r, "graphql"),
            "/".join(fmt_s(r["portal_cpu"].get(i)) if i in impls else "n/a" for i in IMPLS),
            col(r, "s3"), peak, r["status"],
        ])  # fmt: skip
    notes = [f"- {e}" for r in rows for e in r["errors"]]
    return "\n".join([markdown_table(lines), *notes])
