"""Nothing escapes the project: a name that would leave its folder (``..``, ``a/../..``, a relative path
to the static layer, hidden, empty, NUL, too long) or a voxel size layout refuses is rejected at every
entry point, API and command line, with our ``ValueError`` subclass or one ``Error:`` line; the static
layer, the folders around the project and the overlay's other runs stay byte-for-byte unchanged.
Property tests: any name is either rejected or lists back under the identity it was written as."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import copick
from copick.cli.cli import cli
from copick.errors import CopickError, InvalidNameError

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1},
    {"name": "membrane", "is_particle": False, "label": 2},
]
WORK_RUN = "TS1"  # the overlay run entry points act on; everything outside it is hashed
TO_STATIC = "../../static/ExperimentRuns/TS0"  # from the overlay's ExperimentRuns to the static run
DOTTED = ["..", "../..", "./..", TO_STATIC, ".hidden", "."]  # refused as any kind of name
TRAVERSAL = [*DOTTED, "a/../..", "TS0/.."]
RUN_BAD = [*TRAVERSAL, "", "a\x00b", "r" * 300]
SIZES_BAD = ["0", "-1", "nan", "inf", "-inf", "1e-9", "abc"]


# --------------------------------------------------------------------------------------------------------
# the project: static layer + overlay inside a folder with neighbours
# --------------------------------------------------------------------------------------------------------


def _build(base: Path) -> None:
    """``base/`` holds neighbours and ``proj/`` (static TS0; overlay TS0, TS1, TS2); volumes are 8³."""
    (base / "neighbour").mkdir(parents=True)
    (base / "neighbour" / "data.txt").write_text("next to the project")
    (base / "outside.txt").write_text("beside the project")
    proj = base / "proj"
    static = copick.new_config(str(proj / "static.json"), str(proj / "static"), pickable_objects=OBJECTS)
    volume = np.arange(512, dtype=np.float32).reshape(8, 8, 8)
    run = static.new_run("TS0")
    run.new_picks("ribosome", "1", "alice").from_numpy(np.ones((2, 3)))
    run.new_mesh("membrane", "1", "alice")
    vs = run.new_voxel_spacing(10.0)
    vs.new_tomogram("wbp").from_numpy(volume)
    run.new_segmentation(10.0, "seg", "1", True, "u").from_numpy(np.zeros((8, 8, 8), np.uint8))
    (proj / "overlay").mkdir()
    (proj / "overlay-sibling.txt").write_text("beside the overlay")
    import mrcfile

    with mrcfile.new(str(base / "neighbour" / "tomo.mrc")) as mrc:
        mrc.set_data(volume)
        mrc.voxel_size = 10.0


def _write_config(base: Path, **extra: Any) -> str:
    proj = base / "proj"
    cfg = json.loads((proj / "static.json").read_text())
    cfg.update(static_root=f"local://{proj / 'static'}", overlay_root=f"local://{proj / 'overlay'}", **extra)
    path = proj / "config.json"
    path.write_text(json.dumps(cfg))
    return str(path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("template") / "base"
    _build(base)
    return base


class Project:
    """A copy of the template project; ``digest()`` hashes every file outside the overlay's work run."""

    def __init__(self, base: Path):
        self.base = base
        self.config = _write_config(base)
        root = copick.from_file(self.config)
        for name in ("TS0", WORK_RUN, "TS2"):
            run = root.new_run(name, exist_ok=True)
            run.new_picks("ribosome", "1", "bob", exist_ok=True).from_numpy(np.full((2, 3), 5.0))
        work = root.get_run(WORK_RUN).new_voxel_spacing(10.0)
        work.new_tomogram("wbp").from_numpy(np.zeros((8, 8, 8), np.float32))
        self.mrc = str(base / "neighbour" / "tomo.mrc")
        self.before = self.digest()

    def digest(self) -> dict[str, tuple[str, bytes]]:
        work = self.base / "proj" / "overlay" / "ExperimentRuns" / WORK_RUN
        found = {}
        for dirpath, _dirs, filenames in os.walk(self.base):
            if Path(dirpath) == work or work in Path(dirpath).parents:
                continue
            found[dirpath] = ("dir", b"")
            for name in filenames:
                path = os.path.join(dirpath, name)
                found[path] = ("file", Path(path).read_bytes())
        return found

    def assert_unchanged(self) -> None:
        after = self.digest()
        changed = sorted(set(after) ^ set(self.before) | {k for k in after if after[k] != self.before.get(k)})
        assert not changed, f"changed outside the work run: {changed}"

    def root(self) -> Any:
        return copick.from_file(self.config)


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Project:
    base = tmp_path / "base"
    shutil.copytree(template, base)
    return Project(base)


# --------------------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------------------


def _refused(call: Callable[..., Any], label: str, *args: Any) -> str | None:
    """``None`` if ``call(*args)`` raised our ValueError subclass, else what happened instead."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call(*args)
    except Exception as err:
        if isinstance(err, CopickError) and isinstance(err, ValueError):
            return None
        return f"{label}: {type(err).__name__}: {err}"
    return f"{label}: accepted, returned {result!r}"


def _work(root: Any) -> tuple[Any, Any, Any]:
    run = root.get_run(WORK_RUN)
    vs = run.get_voxel_spacing(10.0)
    return run, vs, vs.get_tomograms("wbp")[0]


RUN_ENTRIES: dict[str, Callable[[Any, str], Any]] = {
    "root.get_run": lambda root, n: root.get_run(n),
    "root.new_run": lambda root, n: root.new_run(n),
    "root.delete_run": lambda root, n: root.delete_run(n),
}

NAME_ENTRIES: dict[str, Callable[[Any, str], Any]] = {
    "run.new_picks(user_id)": lambda root, n: _work(root)[0].new_picks("ribosome", "1", n),
    "run.new_picks(session_id)": lambda root, n: _work(root)[0].new_picks("ribosome", n, "u"),
    "run.new_picks(object_name)": lambda root, n: _work(root)[0].new_picks(n, "1", "u"),
    "run.new_mesh(user_id)": lambda root, n: _work(root)[0].new_mesh("membrane", "1", n),
    "run.new_segmentation(name)": lambda root, n: _work(root)[0].new_segmentation(10.0, n, "1", True, "u"),
    "run.new_segmentation(user_id)": lambda root, n: _work(root)[0].new_segmentation(10.0, "s", "1", True, n),
    "vs.new_tomogram": lambda root, n: _work(root)[1].new_tomogram(n),
    "vs.get_tomograms": lambda root, n: _work(root)[1].get_tomograms(n),
    "vs.delete_tomograms": lambda root, n: _work(root)[1].delete_tomograms(n),
    "tomogram.new_features": lambda root, n: _work(root)[2].new_features(n),
    "root.new_object": lambda root, n: root.new_object(n, True),
}

SIZE_ENTRIES: dict[str, Callable[[Any, float], Any]] = {
    "run.new_voxel_spacing": lambda root, v: _work(root)[0].new_voxel_spacing(v),
    "run.get_voxel_spacing": lambda root, v: _work(root)[0].get_voxel_spacing(v),
    "run.delete_voxel_spacings": lambda root, v: _work(root)[0].delete_voxel_spacings(v),
    "run.new_segmentation": lambda root, v: _work(root)[0].new_segmentation(v, "s", "1", True, "u"),
}


def test_run_names_that_leave_the_folder_are_refused_by_the_api(project: Project) -> None:
    failures = [
        _refused(entry, f"{label}({name!r})", project.root(), name)
        for label, entry in RUN_ENTRIES.items()
        for name in RUN_BAD
    ]
    failures += [
        _refused(lambda n: copick.from_file(_write_config(project.base, runs=[n])).runs, f"runs [{n!r}]", n)
        for n in RUN_BAD
    ]
    _write_config(project.base)
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)
    project.assert_unchanged()


@pytest.mark.parametrize("label", NAME_ENTRIES)
def test_names_that_leave_the_folder_are_refused_or_kept_inside(project: Project, label: str) -> None:
    """Dotted names are refused; ``a/../..`` may be sanitized (``a-..-..``) but stays in its run."""
    entry = NAME_ENTRIES[label]
    failures = [_refused(entry, f"{label}({name!r})", project.root(), name) for name in DOTTED]
    for name in ["a/../..", "TS0/..", "", "a\x00b", "n" * 300]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                entry(project.root(), name)
            except (InvalidNameError, CopickError) as err:
                assert isinstance(err, ValueError), err
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)
    project.assert_unchanged()


def test_voxel_sizes_layout_refuses_are_refused_by_the_api(project: Project) -> None:
    sizes = [0, -1.0, math.nan, math.inf, -math.inf, 1e-9]
    failures = [
        _refused(entry, f"{label}({size!r})", project.root(), size)
        for label, entry in SIZE_ENTRIES.items()
        for size in sizes
    ]
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)
    project.assert_unchanged()


def test_static_entities_are_never_deleted_or_written(project: Project) -> None:
    static = project.base / "proj" / "static"
    before = {p: p.read_bytes() for p in static.rglob("*") if p.is_file()}
    root = project.root()
    static_run = root.get_run("TS0")
    attempts: list[Callable[[], Any]] = [
        lambda: [p.delete() for p in static_run.picks if p.read_only],
        lambda: [m.delete() for m in static_run.meshes if m.read_only],
        lambda: static_run.get_voxel_spacing(10.0).delete_tomograms("wbp"),
        lambda: [s.delete() for s in static_run.segmentations],
        lambda: static_run.get_voxel_spacing(10.0).get_tomograms("wbp")[0].from_numpy(np.ones((8, 8, 8))),
        lambda: static_run.delete_voxel_spacings(),
        lambda: root.delete_run("TS0"),  # deletes the overlay's part of TS0 only
    ]
    for attempt in attempts:
        with contextlib.suppress(PermissionError, ValueError):
            attempt()
    assert {p: p.read_bytes() for p in static.rglob("*") if p.is_file()} == before
    fresh = project.root().get_run("TS0")
    assert [(p.user_id, p.read_only) for p in fresh.picks] == [("alice", True)]


# --------------------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------------------


def _invoke(project: Project, args: list[str]) -> Any:
    env = {"COPICK_CONFIG": project.config, "COPICK_EXIT_ZERO": "", "COPICK_DEBUG": ""}
    return CliRunner().invoke(cli, args, env=env)


def _cli_failures(project: Project, argvs: list[list[str]]) -> list[str]:
    failures = []
    for args in argvs:
        result = _invoke(project, args)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        if result.exit_code == 0 or len(errors) != 1 or result.exit_code not in (1, 2):
            failures.append(f"{args}: exit {result.exit_code}\n{result.output}")
    return failures


def _cli_run_cases(project: Project, n: str) -> list[list[str]]:
    cases = [
        ["new", "run", n],
        ["new", "voxelspacing", "10", "--run", n, "--create"],
        ["new", "picks", "--particle-name", "ribosome", "-r", n],
        ["rm", "picks", "*", "--force", "-r", n],
        ["rm", "tomogram", "*", "--force", "-r", n],
        ["cp", "picks", "ribosome:bob/1", "ribosome:bob/9", "-r", n],
        ["mv", "picks", "ribosome:bob/1", "ribosome:bob/9", "-r", n],
        ["sync", "picks", "--target-config", project.config, "--target-runs", f"TS1:{n}"],
        ["export", "picks", "-r", n, "--output-format", "csv", "--output-dir", str(project.base / "out")],
    ]
    if n:  # an empty --run means "from the file name"
        cases.append(["add", "tomogram", project.mrc, "--run", n])
    return cases


def _cli_name_cases(project: Project, n: str) -> list[list[str]]:
    return [
        ["new", "picks", "--particle-name", "ribosome", "--out-user", n, "-r", WORK_RUN],
        ["new", "picks", "--particle-name", "ribosome", "--out-session", n, "-r", WORK_RUN],
        ["cp", "picks", "ribosome:bob/1", f"ribosome:bob/{n}", "-r", WORK_RUN],
        ["cp", "picks", "ribosome:bob/1", f"ribosome:{n}/9", "-r", WORK_RUN],
        ["sync", "picks", "--target-config", project.config, "--target-users", f"bob:{n}"],
        ["sync", "tomograms", "--target-config", project.config, "--target-tomo-types", f"wbp:{n}"],
        ["add", "tomogram", project.mrc, "--run", WORK_RUN, "--tomo-type", n],
        ["add", "segmentation", project.mrc, "--run", WORK_RUN, "--name", n],
        ["add", "segmentation", project.mrc, "--run", WORK_RUN, "--name", "s", "--user-id", n],
        ["add", "object", "--name", n],
    ]


def _cli_size_cases(project: Project, s: str) -> list[list[str]]:
    return [
        ["new", "voxelspacing", "--run", WORK_RUN, "--", s],
        ["rm", "tomogram", f"wbp@{s}", "--force"],
        ["cp", "segmentation", "seg:u/1", f"seg:u/2@{s}"],
        ["sync", "tomograms", "--target-config", project.config, "--voxel-spacings", s],
        ["add", "tomogram", project.mrc, "--run", WORK_RUN, "--voxel-size", s],
    ]


@pytest.mark.parametrize(
    ("cases", "values"),
    [(_cli_run_cases, RUN_BAD), (_cli_name_cases, DOTTED), (_cli_size_cases, SIZES_BAD)],
    ids=["run-names", "other-names", "voxel-sizes"],
)
def test_cli_refuses_names_and_sizes_with_one_error_line(project: Project, cases: Any, values: list) -> None:
    argvs = [args for value in values for args in cases(project, value)]
    failures = _cli_failures(project, argvs)
    assert not failures, "\n\n".join(failures)
    project.assert_unchanged()


def test_cli_with_a_config_runs_list_that_leaves_the_folder_fails(project: Project) -> None:
    project.config = _write_config(project.base, runs=["TS1", "../.."])
    project.before = project.digest()
    assert not _cli_failures(project, [["new", "picks", "--particle-name", "ribosome"]])
    project.assert_unchanged()


def _copick(project: Project, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COPICK_CONFIG": project.config, "COPICK_EXIT_ZERO": "", "COPICK_DEBUG": ""}
    command = [sys.executable, "-c", "from copick.cli.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


SUBPROCESS_CASES = [
    ["new", "picks", "--particle-name", "ribosome", "-r", "../.."],
    ["new", "voxelspacing", "10", "--run", "../..", "--create"],
    ["rm", "picks", "*", "--force", "-r", TO_STATIC],
    ["sync", "picks", "--target-config", "{config}", "--target-runs", "TS1:.."],
    ["new", "voxelspacing", "--run", WORK_RUN, "--", "nan"],
    ["new", "run", "r" * 300],
]


@pytest.mark.parametrize("args", SUBPROCESS_CASES, ids=lambda a: " ".join(a)[:40])
def test_copick_command_refuses_with_one_error_line(project: Project, args: list[str]) -> None:
    done = _copick(project, *[a.format(config=project.config) for a in args])
    lines = done.stderr.splitlines()
    assert done.returncode in (1, 2), done.stderr
    assert len([line for line in lines if line.startswith("Error:")]) == 1, done.stderr
    assert "Traceback" not in done.stderr and ".py:" not in done.stderr, done.stderr
    project.assert_unchanged()


def test_warnings_print_as_one_clean_line_unless_debug(project: Project) -> None:
    args = ["new", "picks", "--particle-name", "ribosome", "--out-session", "a/b", "-r", WORK_RUN]
    done = _copick(project, *args)
    assert done.returncode == 0, done.stderr
    assert (
        "Warning: Input 'a/b' contains invalid characters. It has been sanitized to 'a-b'."
        in done.stderr.splitlines()
    )
    assert ".py:" not in done.stderr, done.stderr
    debug = _copick(project, *args, "--overwrite", "--debug")
    assert "UserWarning: Input 'a/b' contains invalid characters" in debug.stderr and ".py:" in debug.stderr
    project.assert_unchanged()


# --------------------------------------------------------------------------------------------------------
# properties: any name is refused or lists back under the identity it was written as
# --------------------------------------------------------------------------------------------------------

NAMES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["..", ".", "a/b", "a\\b", "a\x00", " ", "a_b", "?x#%", "é", "a" * 300, "x-multilabel"]),
)
PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _write(root: Any, kind: str, name: str, config: str) -> Callable[[Any], bool]:
    """Write an entity of ``kind`` under ``name``; return a check that a fresh root lists it back."""
    run = root.get_run("R") or root.new_run("R")
    if kind == "run":
        made = root.new_run(name, exist_ok=True).name
        return lambda fresh: made == name and made in {r.name for r in fresh.runs}
    if kind == "tomo_type":
        vs = run.get_voxel_spacing(10.0) or run.new_voxel_spacing(10.0)
        made = vs.new_tomogram(name, exist_ok=True).tomo_type
        return lambda fresh: (
            made in {t.tomo_type for t in fresh.get_run("R").get_voxel_spacing(10.0).tomograms}
        )
    if kind == "object":
        obj = root.new_object(name, True, exist_ok=True)
        root.save_config(config)
        picks = run.new_picks(obj.name, "1", "u", exist_ok=True)
    else:
        ids = {"user": ("ribosome", "1", name), "session": ("ribosome", name, "u")}[kind]
        picks = run.new_picks(*ids, exist_ok=True)
    picks.from_numpy(np.ones((1, 3)))
    made = (picks.pickable_object_name, picks.user_id, picks.session_id)
    wanted = {"object": 0, "user": 1, "session": 2}[kind]
    return lambda fresh: (
        made[wanted] == name
        and made in {(p.pickable_object_name, p.user_id, p.session_id) for p in fresh.get_run("R").picks}
    )


@pytest.mark.parametrize("backend", ["local", "s3"], indirect=True)
@pytest.mark.parametrize("kind", ["run", "user", "session", "object", "tomo_type"])
def test_any_name_is_refused_or_lists_back_as_written(
    backend: Any, write_project_config: Callable[..., str], kind: str
) -> None:
    config = write_project_config(backend.new_location(), objects=OBJECTS)

    @PROPERTY
    @given(name=NAMES)
    def check(name: str) -> None:
        from copick.util.escape import sanitize_name

        root = copick.from_file(config)
        if (
            kind != "run"
        ):  # user, session, object and type names are sanitized as in copick 1.31: use clean ones
            try:
                name = sanitize_name(name, suppress_warnings=True)
            except InvalidNameError:
                return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. object names ending in -multilabel
                lists_back = _write(root, kind, name, config)
        except InvalidNameError:
            return
        assert lists_back(copick.from_file(config)), f"{kind} {name!r} does not list back"

    check()
