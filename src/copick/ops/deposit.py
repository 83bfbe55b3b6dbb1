"""A depositable view of a project (``copick deposit``): ``<target>/ExperimentRuns/<run>/...`` in the
standard copick layout, made of symbolic links to the project's files and image folders.

Every name below the target comes from ``copick.layout`` (run names made with a prefix or a regex are
checked there too), so the view reads back as a copick project whose static root is the target. Links
point at absolute paths. Re-running is idempotent and safe: a correct link is kept, a link pointing
elsewhere is replaced atomically, and a file or folder that is not a link is never touched (an error).
Nothing is created through a link: every folder on the way below the target must be a real folder.
Only local files can be linked; read-only data of the CryoET Data Portal cannot (an error per item).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

from copick import layout
from copick.entities.base import layout_path_of, locator_of, record_of
from copick.errors import (
    CopickError,
    InvalidNameError,
    MissingEntityError,
    ReadOnlyError,
)
from copick.kinds import (
    FEATURES,
    FILAMENTS,
    MESHES,
    PICKS,
    SEGMENTATIONS,
    TOMOGRAMS,
    Kind,
    kind_for,
    open_project,
)
from copick.ops.names import split_names
from copick.ops.report import OpReport
from copick.storage_local import place_link, real_folder

__all__ = ["DepositError", "DepositReport", "deposit", "deposit_run", "deposited_run_name"]

_log = logging.getLogger(__name__)

#: The kinds a deposit links, in the order of their options (``--picks`` ... ``--filaments``).
DEPOSIT_KINDS: tuple[Kind, ...] = (PICKS, MESHES, SEGMENTATIONS, TOMOGRAMS, FEATURES, FILAMENTS)


class DepositError(CopickError, ValueError):
    """A deposit that cannot be made as asked: a bad run-name regex, a source that is not a local file."""


@dataclass
class DepositReport(OpReport):
    """What a deposit did. ``items``: links made; ``kept``: correct links already there; ``replaced``:
    links that pointed elsewhere (``path (was -> old target)``); ``errors``: items and runs that failed;
    ``runs``: source run name -> its name in the target. Labels are paths relative to the target."""

    kind: str = "links"
    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Items attempted: links made, kept, replaced, and failures."""
        return len(self.items) + len(self.kept) + len(self.replaced) + len(self.errors)


# --------------------------------------------------------------------------------------------------------
# Run names
# --------------------------------------------------------------------------------------------------------


def compile_run_name_regex(pattern: str | None) -> re.Pattern | None:
    """``--run-name-regex`` compiled; it must be valid and have a group (the run name is group 1)."""
    if not pattern:
        return None
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise DepositError(f"Run name regex {pattern!r} is not a valid regular expression: {err}.") from None
    if regex.groups < 1:
        raise DepositError(
            f"Run name regex {pattern!r} has no group: the run name is taken from the first group in "
            "parentheses, e.g. '^(TS_\\d+)'."
        )
    return regex


def _portal_prefix(run: Any) -> str:
    """``<dataset id>_<portal run name>_`` for a run of the CryoET Data Portal, else ``""``."""
    meta = getattr(run, "meta", None)
    dataset = getattr(meta, "portal_dataset_id", None)
    name = getattr(meta, "portal_run_name", None)
    return f"{dataset}_{name}_" if dataset is not None and name is not None else ""


def deposited_run_name(run: Any, prefix: str = "", regex: str | re.Pattern | None = None) -> str:
    """The name of ``run`` in the deposit: group 1 of ``regex`` searched in its name (else the whole
    name), after ``prefix`` or, for a data-portal run when no prefix is given, after
    ``<dataset id>_<portal run name>_``. The result must be a run name layout accepts."""
    pattern = compile_run_name_regex(regex) if isinstance(regex, str) else regex
    name = run.name
    if pattern is not None:
        found = pattern.search(name)
        if found is None:
            raise DepositError(f"Run name {name} does not match regex {pattern.pattern}.")
        if found.group(1) is None:
            raise DepositError(f"Run name {name}: group 1 of regex {pattern.pattern} matched nothing.")
        name = found.group(1)
    name = (prefix or _portal_prefix(run)) + name
    try:
        return layout.check_run_name(name)
    except InvalidNameError as err:
        raise InvalidNameError(f"Run {run.name} would be deposited as {name!r}: {err}") from None


def _source_path(entity: Any) -> str:
    """The absolute local path of the file or image folder of ``entity``; read-only portal data and
    files on other file systems cannot be linked."""
    record = record_of(entity)
    if record is not None and record.read_only:
        raise ReadOnlyError(
            f"cannot be linked: it is read-only data of {record.source}, not a local file "
            "(deposit links local files only; leave it out of the URIs)."
        )
    layer, rel = locator_of(entity)[:2]
    if not layer.is_local:
        raise DepositError(
            f"cannot be linked: it is stored at {layer.url or layer.protocol}, not on a local disk "
            "(symbolic links need local files; copy the project to a local disk first)."
        )
    return os.path.abspath(layer.path(rel))


def _path_in_run(entity: Any, run: Any) -> list[str]:
    """The layout path of ``entity`` below its run folder, as checked names (``Picks``, file name)."""
    base = layout.run_path(run.name) + "/"
    path = layout_path_of(entity)
    if not path.startswith(base):
        raise DepositError(f"{path} is not in the folder of run {run.name} ({base}).")
    return path[len(base) :].split("/")


@dataclass
class _RunOutcome:
    """Links of one run: made, kept, replaced (labels relative to the target) and errors."""

    made: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _selected(run: Any, uris: dict[str, list[str]]) -> dict[tuple[str, ...], tuple[str, Any]]:
    """The entities of ``run`` the URIs select, by their path below the run (one link per path)."""
    from copick.util.uri import resolve_copick_objects, serialize_copick_uri

    chosen: dict[tuple[str, ...], tuple[str, Any]] = {}
    for plural, kind_uris in uris.items():
        kind = kind_for(plural)
        for uri in kind_uris:
            for entity in resolve_copick_objects(uri, run.root, kind.object_type, run_name=run.name):
                label = f"{kind.object_type} {serialize_copick_uri(entity)} of run {run.name}"
                chosen.setdefault(tuple(_path_in_run(entity, run)), (label, entity))
    return chosen


def _link_run(run: Any, target: str, name: str, uris: dict[str, list[str]]) -> _RunOutcome:
    """Link the entities of ``run`` the URIs select into ``<target>/ExperimentRuns/<name>``."""
    outcome = _RunOutcome()
    selected = _selected(run, uris)
    if not selected:
        return outcome
    os.makedirs(target, exist_ok=True)
    run_parts = layout.run_path(name).split("/")
    for parts, (label, entity) in sorted(selected.items()):
        rel = "/".join([*run_parts, *parts])
        try:
            source = _source_path(entity)
            folder = target
            for part in [*run_parts, *parts[:-1]]:
                folder = real_folder(folder, part)
            old = place_link(folder, parts[-1], source)
        except (OSError, ValueError) as err:
            outcome.errors.append(f"{label}: {err}")
            continue
        if old is None:
            outcome.made.append(rel)
        elif old:
            outcome.replaced.append(f"{rel} (was -> {old})")
        else:
            outcome.kept.append(rel)
    return outcome


# --------------------------------------------------------------------------------------------------------
# Runs and projects
# --------------------------------------------------------------------------------------------------------


def _kind_uris(**given: Any) -> dict[str, list[str]]:
    """``{plural: [uri, ...]}`` of the kinds given (``picks_uris=...``), each URI checked once here."""
    from copick.util.uri import parse_copick_uri

    uris: dict[str, list[str]] = {}
    for kind in DEPOSIT_KINDS:
        value = given.get(f"{kind.plural}_uris")
        items = [value] if isinstance(value, str) else list(value or ())
        for uri in items:
            parse_copick_uri(uri, kind.object_type)
        if items:
            uris[kind.plural] = items
    return uris


def _as_dict(outcome: _RunOutcome) -> dict[str, Any]:
    """A run's outcome as ``deposit_run`` returns it (1.31's ``processed`` and ``errors``, and ours)."""
    done = len(outcome.made) + len(outcome.kept) + len(outcome.replaced)
    return {"processed": done, "errors": outcome.errors, "made": outcome.made, "kept": outcome.kept,
            "replaced": outcome.replaced}  # fmt: skip


def deposit_run(
    run: Any,
    target_dir: str,
    run_name_prefix: str = "",
    run_name_regex: str | None = None,
    picks_uris: list[str] | None = None,
    meshes_uris: list[str] | None = None,
    segmentations_uris: list[str] | None = None,
    tomograms_uris: list[str] | None = None,
    features_uris: list[str] | None = None,
    filaments_uris: list[str] | None = None,
) -> dict[str, Any]:
    """Link what the URIs select in ``run`` into ``<target_dir>/ExperimentRuns/<name>`` (the name from
    ``deposited_run_name``); a kind whose URIs are ``None`` is skipped. Returns ``{"processed": links
    made, kept or replaced, "errors": [...], "made"/"kept"/"replaced": [paths below the target]}``."""
    uris = _kind_uris(
        picks_uris=picks_uris, meshes_uris=meshes_uris, segmentations_uris=segmentations_uris,
        tomograms_uris=tomograms_uris, features_uris=features_uris, filaments_uris=filaments_uris,
    )  # fmt: skip
    name = deposited_run_name(run, run_name_prefix, run_name_regex)
    return _as_dict(_link_run(run, os.path.abspath(target_dir), name, uris))


def deposit_run_task(root: Any, run_name: str, work: dict[str, Any]) -> dict[str, Any]:
    """The task of one run (``copick.ops.run.run_tasks``), wherever it runs: link it under its name."""
    run = root.get_run(run_name)
    if run is None:
        raise MissingEntityError(f"Run {run_name} is gone from the project.")
    return _as_dict(_link_run(run, work["target"], work["name"], work["uris"]))


def _target_names(runs: list[Any], prefix: str, regex: re.Pattern | None, report: DepositReport) -> None:
    """Fill ``report.runs`` with the deposited name of every run; runs whose name cannot be made, or
    that would share a name with another run, are reported as errors and left out."""
    by_name: dict[str, list[str]] = {}
    for run in runs:
        try:
            name = deposited_run_name(run, prefix, regex)
        except ValueError as err:
            report.errors.append(f"run {run.name}: {err}")
            continue
        report.runs[run.name] = name
        by_name.setdefault(name, []).append(run.name)
    for name, sources in by_name.items():
        if len(sources) > 1:
            for source in sources:
                del report.runs[source]
            report.errors.append(
                f"runs {', '.join(sources)} would all be deposited as {name}; none of them was deposited "
                "(change --run-name-regex or --run-name-prefix)."
            )


def _selected_runs(root: Any, run_names: Any) -> list[Any]:
    """The runs named (a list or comma-separated text), or every run; unknown names are an error."""
    values = [run_names] if isinstance(run_names, str) else list(run_names or ())
    names = [name for value in values for name in split_names(value)]
    runs = list(root.runs)
    if not names:
        return runs
    known = {run.name for run in runs}
    missing = [name for name in names if name not in known]
    if missing:
        raise MissingEntityError(f"Run names not found in project: {', '.join(missing)}.")
    wanted = set(names)
    return [run for run in runs if run.name in wanted]


def deposit(
    config: Any,
    target_dir: str,
    run_names: Any = None,
    run_name_prefix: str = "",
    run_name_regex: str | None = None,
    picks_uris: list[str] | None = None,
    meshes_uris: list[str] | None = None,
    segmentations_uris: list[str] | None = None,
    tomograms_uris: list[str] | None = None,
    features_uris: list[str] | None = None,
    n_workers: int = 8,
    filaments_uris: list[str] | None = None,
    show_progress: bool = True,
) -> DepositReport:
    """Build ``<target_dir>/ExperimentRuns/<run>/...`` of symbolic links to what the URIs select in
    the project ``config`` (a config path or an open project), run by run in ``n_workers`` threads (or
    where the running command's ``--executor`` says). A kind whose URIs are ``None`` is skipped.

    Runs are renamed by ``deposited_run_name`` (``run_name_prefix``, ``run_name_regex`` group 1,
    data-portal runs ``<dataset id>_<portal run name>_<run id>``). Re-running keeps correct links,
    replaces links that point elsewhere and never touches files or folders that are not links.
    Per-item and per-run failures are in the returned report, never raised; a bad regex, an unknown
    run name or a bad URI is raised before anything is written.
    """
    from copick.ops.run import choose_executor, progress, run_tasks

    uris = _kind_uris(
        picks_uris=picks_uris, meshes_uris=meshes_uris, segmentations_uris=segmentations_uris,
        tomograms_uris=tomograms_uris, features_uris=features_uris, filaments_uris=filaments_uris,
    )  # fmt: skip
    regex = compile_run_name_regex(run_name_regex)
    if run_name_prefix:
        layout.check_name(run_name_prefix, "Run name prefix")
    target = os.path.abspath(os.fspath(target_dir))
    if os.path.exists(target) and not os.path.isdir(target):
        raise DepositError(f"The deposit target {target} is a file, not a folder.")
    root = open_project(config)
    report = DepositReport()
    runs = _selected_runs(root, run_names)
    if not uris:
        return report
    _target_names(runs, run_name_prefix or "", regex, report)
    names = list(report.runs)
    work = [{"target": target, "name": report.runs[name], "uris": uris} for name in names]
    parallelism, client = choose_executor(deposit_run_task, work)

    def failed(i: int, err: BaseException) -> None:
        _log.debug(f"Traceback of the error in run {names[i]}:", exc_info=(type(err), err, err.__traceback__))
        report.errors.append(f"run {names[i]}: {type(err).__name__}: {err}")

    with progress(len(names), "Depositing runs", show_progress) as advance:
        outcomes = run_tasks(
            deposit_run_task, root, names, work, parallelism, n_workers, client, advance, failed
        )
    for ok, result in outcomes:
        if ok:
            report.items.extend(result["made"])
            report.kept.extend(result["kept"])
            report.replaced.extend(result["replaced"])
            report.errors.extend(result["errors"])
    return report
