"""``--executor process|dask`` on the commands that send their per-item work to other processes (issue
18): imports (``add``), ``cp``/``mv``/``rm``, ``sync``, ``stats``, ``check`` and ``report``. Each
command runs in a fresh ``copick`` process twice, with threads and with ``--executor process``, on two
copies of the same project: the stored results (or the printed statistics, findings, report page and
thumbnails) are equal, no "was not used" warning is given, and the project's files were opened,
listed or deleted by other processes than the command's own (an audit hook in the command's process,
inherited by its forked workers, writes the process id of each of these accesses to the project's
folder). One import and one manage command also run on a ``LocalCluster`` of two worker processes
(``--scheduler``): their tasks are seen at the scheduler."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.models import PickableObject
from dask_cluster import local_cluster

RUNS = [f"TS_{i}" for i in range(4)]
OBJECTS = [
    PickableObject(name="ribosome", is_particle=True, label=1),
    PickableObject(name="membrane", is_particle=False, label=2),
]

# The command, run with an audit hook that logs the process id of every access to the project folder.
_HARNESS = textwrap.dedent(
    """
    import os, sys

    LOG, WATCHED = os.environ["PID_LOG"], os.environ["WATCHED"]
    EVENTS = {"open", "os.scandir", "os.listdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree"}
    busy = False

    def hook(event, args):
        global busy
        if event not in EVENTS or busy or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        if not os.fsdecode(args[0]).startswith(WATCHED):
            return
        busy = True  # the log's own open is an audit event too
        try:
            fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, f"{os.getpid()}\\n".encode())
            os.close(fd)
        finally:
            busy = False

    with open(LOG, "w") as f:
        f.write(f"main {os.getpid()}\\n")
    sys.addaudithook(hook)
    from copick.cli.cli import cli

    cli(prog_name="copick")
    """
)


# --------------------------------------------------------------------------------------------
# projects and inputs
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files to import, one per run: copick CSV picks, MRC tomograms and MRC label volumes."""
    from copick.formats.mrc import write_mrc_volume

    folder = tmp_path_factory.mktemp("executor-inputs")
    rng = np.random.default_rng(18)
    for kind in ("picks", "tomos", "segs"):
        (folder / kind).mkdir()
    for i, run in enumerate(RUNS):
        points = rng.uniform(0, 500, size=(i + 3, 3))
        lines = ["run_name,x,y,z"] + [f"{run},{x},{y},{z}" for x, y, z in points]
        (folder / "picks" / f"{run}.csv").write_text("\n".join(lines) + "\n")
        write_mrc_volume(
            str(folder / "tomos" / f"{run}.mrc"), rng.normal(size=(12, 20, 18)).astype(np.float32), 10.0
        )
        labels = rng.integers(0, 3, size=(12, 20, 18)).astype(np.int8)
        write_mrc_volume(str(folder / "segs" / f"{run}.mrc"), labels, 10.0)
    return folder


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-run project with a pick set and a segmentation per run (copied for every command)."""
    folder = tmp_path_factory.mktemp("executor-template")
    copick.new_config(str(folder / "config.json"), str(folder / "project"), pickable_objects=OBJECTS)
    root = copick.from_file(str(folder / "config.json"))
    rng = np.random.default_rng(7)
    for i, name in enumerate(RUNS):
        run = root.new_run(name)
        run.new_picks("ribosome", "1", user_id="setup").from_numpy(rng.uniform(0, 100, size=(i + 2, 3)))
        seg = run.new_segmentation(10.0, "membrane", "1", is_multilabel=True, user_id="setup")
        seg.from_numpy(rng.integers(0, 3, size=(6, 7, 8)))
    return folder


def project_copy(template: Path, where: Path) -> Path:
    """A copy of the template project at ``where`` (its config rewritten to point there)."""
    shutil.copytree(template / "project", where / "project")
    config = json.loads((template / "config.json").read_text())
    config["overlay_root"] = "local://" + str(where / "project")
    (where / "config.json").write_text(json.dumps(config))
    return where / "config.json"


def run_command(
    args: list[str], config: Path, executor: list[str]
) -> tuple[subprocess.CompletedProcess, set[int]]:
    """``copick ARGS -c CONFIG EXECUTOR...`` in a fresh process; the process ids that opened project
    files, other than the command's own."""
    harness = config.parent / "harness.py"
    harness.write_text(_HARNESS)
    log = config.parent / "pids.log"
    env = {**os.environ, "PID_LOG": str(log), "WATCHED": str(config.parent / "project")}
    done = subprocess.run(
        [sys.executable, str(harness), *args, "-c", str(config), *executor],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lines = log.read_text().split()
    main = int(lines[1])
    return done, {int(pid) for pid in lines[2:]} - {main}


def stored(config: Path) -> dict[str, Any]:
    """What a user reads back: every run's pick sets, tomograms and segmentations, as plain values."""
    root = copick.from_file(str(config))
    out: dict[str, Any] = {}
    for run in root.runs:
        for p in run.picks:
            positions, _ = p.numpy()
            out[f"{run.name} picks {p.pickable_object_name}:{p.user_id}/{p.session_id}"] = positions.tolist()
        for vs in run.voxel_spacings:
            for tomo in vs.tomograms:
                out[f"{run.name} tomogram {tomo.tomo_type}@{vs.voxel_size}"] = tomo.numpy().tolist()
        for seg in run.segmentations:
            key = f"{run.name} segmentation {seg.name}:{seg.user_id}/{seg.session_id}@{seg.voxel_size}"
            out[key] = seg.numpy().tolist()
    return out


# --------------------------------------------------------------------------------------------
# threads vs processes, command by command
# --------------------------------------------------------------------------------------------

COMMANDS = {
    "add picks": lambda src: ["add", "picks", str(src / "picks" / "*.csv"), "--object-name", "ribosome"],
    "add tomogram": lambda src: ["add", "tomogram", str(src / "tomos" / "*.mrc"), "--tomo-type", "imp"],
    "add segmentation": lambda src: [
        "add", "segmentation", str(src / "segs" / "*.mrc"), "--name", "imported",
    ],
    "cp": lambda src: ["cp", "picks", "ribosome:setup/1", "ribosome:copy/{session_id}"],
    "mv": lambda src: ["mv", "segmentation", "membrane:setup/1@10.0", "membrane:moved/1"],
    "rm": lambda src: ["rm", "picks", "ribosome:setup/1"],
    "stats picks": lambda src: ["stats", "picks", "--output", "json"],
    "stats segmentations": lambda src: ["stats", "segmentations", "--output", "json"],
}  # fmt: skip


@pytest.mark.parametrize("command", list(COMMANDS))
def test_process_executor_gives_the_thread_results_from_other_processes(
    command: str, inputs: Path, template: Path, tmp_path: Path
) -> None:
    results = {}
    for executor in ("thread", "process"):
        (tmp_path / executor).mkdir()
        config = project_copy(template, tmp_path / executor)
        args = COMMANDS[command](inputs)
        done, others = run_command(args, config, ["--executor", executor, "-w", "2"])
        assert done.returncode == 0, done.stderr
        assert "was not used" not in done.stderr
        assert bool(others) == (executor == "process"), (executor, others)
        results[executor] = (done.stdout, stored(config))
    assert results["process"] == results["thread"]
    assert results["thread"][1] != stored(template / "config.json") or command.startswith("stats")


def test_sync_in_processes_copies_what_threads_copy(template: Path, tmp_path: Path) -> None:
    results = {}
    for executor in ("thread", "process"):
        (tmp_path / executor).mkdir()
        source = project_copy(template, tmp_path / executor)
        target_dir = tmp_path / executor / "target"
        target_dir.mkdir()
        target = target_dir / "config.json"
        copick.new_config(str(target), str(target_dir / "project"), pickable_objects=[])
        args = ["sync", "picks", "--target-config", str(target), "--target-users", "setup:synced"]
        done, others = run_command(args, source, ["--executor", executor, "-w", "2"])
        assert done.returncode == 0, done.stderr
        assert bool(others) == (executor == "process") and "was not used" not in done.stderr
        results[executor] = stored(target)
    assert results["process"] == results["thread"]
    assert sorted(results["thread"]) == [f"{run} picks ribosome:synced/1" for run in RUNS]


@pytest.fixture(scope="module")
def damaged(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template with a tomogram per run (for the report's thumbnails) and damage for check: an
    unreadable pick file (an error) and a stray file (a warning). Copies keep the files' times, so
    both copies' thumbnails are named alike."""
    folder = tmp_path_factory.mktemp("executor-damaged")
    config = project_copy(template, folder)
    root = copick.from_file(str(config))
    rng = np.random.default_rng(3)
    for run in root.runs:
        volume = rng.normal(size=(16, 24, 20)).astype(np.float32)
        run.new_voxel_spacing(10.0, exist_ok=True).new_tomogram("wbp").from_numpy(volume, levels=1)
    (folder / "project" / "ExperimentRuns" / "TS_1" / "notes.txt").write_text("not copick's")
    (folder / "project" / "ExperimentRuns" / "TS_2" / "Picks" / "bad_1_ribosome.json").write_text("{oops")
    return folder


def _here(text: str, where: Path) -> str:
    """``text`` with the project's folder and the times of day replaced (they differ between copies)."""
    import re

    text = text.replace(str(where), "<here>")
    return re.sub(r"\d{8}T\d{6}Z|\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<time>", text)


def test_check_and_report_in_processes_find_and_show_what_threads_do(damaged: Path, tmp_path: Path) -> None:
    results = {}
    for executor in ("thread", "process"):
        where = tmp_path / executor
        where.mkdir()
        config = project_copy(damaged, where)
        outputs: list[Any] = []
        for args in (["check"], ["check", "--fix"], ["report", "-o", str(where / "report")]):
            done, others = run_command(args, config, ["--executor", executor, "-w", "2"])
            assert "was not used" not in done.stderr
            assert bool(others) == (executor == "process"), (args, executor, others)
            outputs.append((done.returncode, _here(done.stdout, where)))
        thumbs = sorted((where / "report" / "thumbs").iterdir())
        outputs.append(_here((where / "report" / "index.html").read_text(), where))
        outputs.append({p.name: p.read_bytes() for p in thumbs})
        results[executor] = outputs
    assert results["process"] == results["thread"]
    (check, _), (fix, fixed), _, page, thumbs = results["thread"]
    assert check == fix == 1 and "picks-unreadable" in fixed and "moved to <here>" in fixed
    assert len(thumbs) == len(RUNS) and page.count('<img src="thumbs/') == len(RUNS)


# --------------------------------------------------------------------------------------------
# a Dask cluster
# --------------------------------------------------------------------------------------------


def test_an_import_and_a_copy_run_as_tasks_of_a_dask_cluster(
    inputs: Path, template: Path, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from distributed import get_task_stream

    commands = [COMMANDS["add picks"](inputs), COMMANDS["cp"](inputs)]
    expected = []
    (tmp_path / "thread").mkdir()
    config = project_copy(template, tmp_path / "thread")
    for args in commands:
        done, _ = run_command(args, config, [])
        assert done.returncode == 0, done.stderr
        expected.append(stored(config))
    (tmp_path / "dask").mkdir()
    config = project_copy(template, tmp_path / "dask")
    with local_cluster() as (cluster, client):
        for args, want in zip(commands, expected):
            with get_task_stream(client) as stream:
                done, _ = run_command(args, config, ["--scheduler", cluster.scheduler_address])
            assert done.returncode == 0, done.stderr
            assert "was not used" not in done.stderr
            tasks = [t for t in stream.data if t["key"].startswith("run_task")]
            assert len(tasks) == len(RUNS)  # one per file imported, one per run copied
            assert {t["worker"] for t in tasks} <= set(client.scheduler_info()["workers"])
            assert stored(config) == want
