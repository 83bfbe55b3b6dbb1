"""``check_project``: is a copick project healthy? Findings with a severity, the path and what to do.

What is checked (each in its own module):

* the config (``check_config``): schema, duplicate object names (error) and labels (warning), names;
* the folder tree (``check_tree``): run folder names, entity file names (strays are warnings, never
  fatal), leftovers of killed writers, empty folders, overlay entities shadowing static ones;
* annotations (``check_tree``): picks and filaments JSON (schema, finite numbers, object known in the
  config), meshes (loadable GLB);
* images (``check_volumes``): OME-NGFF 0.4 metadata (ome-zarr-models where installed), every level
  present with consistent shapes and scales, a sample of chunks decoded, segmentation dtypes and labels.

One listing pass per run and layer, sampled chunk reads, runs checked in parallel threads (or in the
processes or on the Dask cluster of the command's ``--executor``: ``check_run_task``). With
``fix=True`` (``check_fix``) writer leftovers and empty entity folders are removed and unreadable
annotation files are moved to a quarantine folder of the overlay; nothing else is touched.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["SEVERITIES", "CheckReport", "Finding", "check_project", "check_run_task"]

SEVERITIES = ("error", "warning", "info")


@dataclass
class Finding:
    """One problem: how bad (``error``, ``warning``, ``info``), a stable ``code``, where, what is
    wrong and what to do; ``fixed`` says what ``--fix`` did about it."""

    severity: str
    code: str
    path: str
    message: str
    action: str
    run: str | None = None
    fixed: str | None = None
    repair: Any = field(default=None, repr=False, compare=False)  # (how, layer position, rel): check_fix

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("repair")
        return data


@dataclass
class CheckReport:
    """What ``check_project`` found: findings (errors first), counts of what was checked, notes."""

    project: str
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    layers: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    quarantine: str | None = None

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list[Finding]:
        return self.of("error")

    @property
    def warnings(self) -> list[Finding]:
        return self.of("warning")

    @property
    def ok(self) -> bool:
        """No errors (what the exit status says)."""
        return not self.errors

    @property
    def clean(self) -> bool:
        """No errors and no warnings."""
        return not self.errors and not self.warnings

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "ok": self.ok,
            "clean": self.clean,
            "summary": {s: len(self.of(s)) for s in SEVERITIES},
            "checked": self.checked,
            "layers": self.layers,
            "quarantine": self.quarantine,
            "notes": self.notes,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_text(self) -> str:
        """The report as plain text: one block per finding, then a summary line."""
        checked = ", ".join(f"{n} {what}" for what, n in self.checked.items())
        lines = [f"copick check: {self.project}" + (f" ({checked})" if checked else "")]
        for f in self.findings:
            lines.append(f"{f.severity.upper():<8}{f.code}: {f.path}")
            lines.append(f"        {f.message}")
            lines.append(f"        -> {f.fixed}" if f.fixed else f"        -> {f.action}")
        lines += [f"note: {n}" for n in self.notes]
        if self.quarantine:
            lines.append(f"quarantine: unreadable files were moved to {self.quarantine}")
        if self.clean:
            lines.append("clean: no problems found.")
        else:
            words = {"error": "error", "warning": "warning", "info": "note"}
            parts = [f"{len(self.of(s))} {words[s]}{'s' if len(self.of(s)) != 1 else ''}" for s in SEVERITIES]
            fixed = sum(1 for f in self.findings if f.fixed)
            fixable = sum(1 for f in self.findings if f.repair is not None and not f.fixed)
            tail = f"; {fixed} fixed" if fixed else (f"; {fixable} fixable with --fix" if fixable else "")
            lines.append(", ".join(parts) + tail)
        return "\n".join(lines)


def _open(root: Any) -> tuple[Any, list[Finding], str]:
    """``(root or None, config findings, project label)`` for a root object or a config path."""
    from copick.ops.check_config import check_config_file, check_config_model

    if isinstance(root, str | os.PathLike):
        opened, findings = check_config_file(str(root))
        return opened, findings, str(root)
    name = getattr(getattr(root, "config", None), "name", None) or "project"
    return root, check_config_model(root), str(name)


def check_project(
    root: Any, runs: list[str] | None = None, fix: bool = False, workers: int = 8
) -> CheckReport:
    """Check a project (a root object, or the path of its config file) and return a ``CheckReport``.

    ``runs`` restricts the run checks to these names; ``fix`` removes writer leftovers and empty entity
    folders and quarantines unreadable annotation files (see the module docstring).
    """
    from copick.ops import check_tree
    from copick.ops.check_context import shared_context
    from copick.ops.run import run_all

    opened, findings, label = _open(root)
    report = CheckReport(project=label, findings=findings)
    if opened is None:
        return _finish(report, fix)
    storage = getattr(opened, "_storage", None)
    if storage is None or (storage.catalogs and not storage.overlay.exists("")):
        report.notes.append("no project folders to check (portal data is checked by the portal itself).")
        return _finish(report, fix)
    if storage.catalogs:
        report.notes.append("portal (catalog) entities are not checked; only the overlay folders are.")
    with shared_context(opened) as (context, token):
        top, names = check_tree.check_top(context, runs)
        report.findings += top
        results = run_all(check_run_task, opened, names, [{"call": token}] * len(names), workers)
    totals: dict[str, int] = {"runs": len(names)}
    for found, counts in results:
        report.findings += found
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    report.checked = {k: totals.get(k, 0) for k in ("runs", "annotations", "images", "chunks")}
    report.layers = {k: totals.get(k, 0) for k in ("static_only", "overlay_only", "shadowed")}
    if not storage.static_is_overlay:
        report.notes.append(
            f"{report.layers['static_only']} entities only in the read-only static layer, "
            f"{report.layers['overlay_only']} only in the overlay, {report.layers['shadowed']} in both."
        )
    if context.ome_validator is None:
        report.notes.append(
            "ome-zarr-models is not installed: OME-NGFF metadata was checked by copick's own rules "
            "(pip install 'copick[check]' for the full validation)."
        )
    return _finish(report, fix, opened)


def check_run_task(root: Any, run: str, kwargs: dict[str, Any]) -> tuple[list[Finding], dict[str, int]]:
    """Findings and counts of run ``run`` for check call ``kwargs["call"]``: the per-run work of
    ``check_project``, in its threads or in the processes or Dask workers of the command's
    ``--executor`` (module-level, plain data in and out)."""
    from copick.ops.check_context import context_for
    from copick.ops.check_tree import check_run

    return check_run(context_for(root, kwargs["call"]), run)


def _finish(report: CheckReport, fix: bool, root: Any = None) -> CheckReport:
    order = {s: i for i, s in enumerate(SEVERITIES)}
    report.findings.sort(key=lambda f: (order[f.severity], f.path, f.code))
    if fix and root is not None:
        from copick.ops.check_fix import apply_fixes

        report.quarantine = apply_fixes(root, report.findings)
    return report
