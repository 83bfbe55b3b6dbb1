"""``copick.ops.run``: ``map_runs`` over threads and processes, ``run_all`` where a command's ``--executor``
says, ``report_results`` and failure bookkeeping."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import click
import pytest

import copick
from copick.ops.run import map_runs, note_failures, report_results, run_all, use_executor

RUNS = ("TS_001", "TS_002", "TS_003", "TS_004")


pytestmark = pytest.mark.usefixtures("restore_logging")  # commands reconfigure the root logger


@pytest.fixture
def root(tmp_path: Path):
    root = copick.new_config(str(tmp_path / "c.json"), str(tmp_path / "p"))
    for name in RUNS:
        root.new_run(name)
    return copick.from_file(str(tmp_path / "c.json"))


def name_and_pid(run, suffix: str = "", extra: int = 0) -> tuple[str, int, str, int]:
    """Module-level callback (picklable) for the process pool."""
    if run.name == "TS_003" and suffix == "fail":
        raise RuntimeError("boom")
    return run.name, os.getpid(), suffix, extra


def test_threads_with_names_and_objects(root) -> None:
    seen: set[str] = set()

    def callback(run, tag: str) -> str:
        seen.add(threading.current_thread().name)
        return f"{run.name}-{tag}"

    runs = [RUNS[0], root.get_run(RUNS[1]), *RUNS[2:]]
    results = map_runs(callback, root, runs, workers=3, tag="x", show_progress=False)
    assert list(results) == list(RUNS)
    assert results == {name: f"{name}-x" for name in RUNS}
    assert seen and threading.main_thread().name not in seen


def test_run_args(root) -> None:
    results = map_runs(
        name_and_pid, root, RUNS, workers=2, run_args=[{"extra": i} for i in range(4)], suffix="s"
    )
    assert [results[name][2:] for name in RUNS] == [("s", 0), ("s", 1), ("s", 2), ("s", 3)]
    with pytest.raises(ValueError, match="run_args"):
        map_runs(name_and_pid, root, RUNS, run_args=[{}])


def test_invalid_parallelism(root) -> None:
    with pytest.raises(ValueError, match="parallelism"):
        map_runs(name_and_pid, root, RUNS, parallelism="fibers")


def test_errors_give_none_and_are_logged(root, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="copick.ops.run"):
        results = map_runs(name_and_pid, root, [*RUNS, "TS_404"], workers=1, suffix="fail")
    assert results["TS_003"] is None and results["TS_404"] is None
    assert results["TS_001"][0] == "TS_001"
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Error processing run TS_003") and "boom" in m for m in messages)
    assert any(m.startswith("Error processing run TS_404") for m in messages)


def test_processes(root) -> None:
    results = map_runs(name_and_pid, root, list(RUNS), workers=2, parallelism="process", suffix="fail")
    assert results["TS_003"] is None
    ok = [results[name] for name in ("TS_001", "TS_002", "TS_004")]
    assert [r[0] for r in ok] == ["TS_001", "TS_002", "TS_004"]
    assert all(r[1] != os.getpid() for r in ok)


def test_report_results_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("copick.test.report")
    with caplog.at_level(logging.INFO, logger="copick.test.report"):
        report_results({"a": {"processed": 2, "errors": []}, "b": {"processed": 3, "errors": []}}, 5, logger)
    assert caplog.messages == ["Successfully processed all 5 items"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="copick.test.report"):
        report_results({"a": {"processed": 2, "errors": ["a: bad"]}, "b": None}, 6, logger)
    assert caplog.messages == [
        "Failed to process 2 items:",
        "  - a: bad",
        "  - Run b failed completely",
        "Successfully processed 2 out of 6 items",
    ]


def test_failures_are_recorded_on_the_click_context() -> None:
    @click.command()
    def command() -> None:
        report_results({"a": {"processed": 1, "errors": ["a: bad"]}}, 2)
        note_failures(1, "b: worse")
        ctx = click.get_current_context()
        click.echo(repr(ctx.meta["copick.failures"]))

    from click.testing import CliRunner

    out = CliRunner().invoke(command, []).stdout
    assert "'count': 2" in out and "'first': 'a: bad'" in out
    note_failures(3, "outside a command")  # no click context: ignored


def name_and_pid_task(root, name: str, kwargs: dict) -> tuple[str, int]:
    """Module-level task for ``run_all``: the run's name and this process's id; the runs named in
    ``kwargs["fail"]`` raise."""
    if name in kwargs["fail"]:
        raise RuntimeError(f"boom in {name}")
    return root.get_run(name).name, os.getpid()


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_run_all_follows_the_command_executor_and_raises_the_first_failure(
    root, executor: str, caplog: pytest.LogCaptureFixture
) -> None:
    from click.testing import CliRunner

    seen: dict[str, list] = {}

    @click.command()
    @click.argument("fail", nargs=-1)
    def command(fail: tuple[str, ...]) -> None:
        use_executor(executor)
        seen["values"] = run_all(name_and_pid_task, root, list(RUNS), [{"fail": fail}] * len(RUNS), workers=2)

    with caplog.at_level(logging.WARNING, logger="copick.ops.run"):
        result = CliRunner().invoke(command, [])
    assert result.exit_code == 0, result.output
    assert [name for name, _ in seen["values"]] == list(RUNS)
    assert {pid != os.getpid() for _, pid in seen["values"]} == {executor == "process"}
    assert "was not used" not in caplog.text
    result = CliRunner().invoke(command, ["TS_004", "TS_002"])
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "boom in TS_002"


def test_work_that_cannot_travel_stays_in_threads_and_the_command_says_so(
    root, caplog: pytest.LogCaptureFixture
) -> None:
    from click.testing import CliRunner

    pids: set[int] = set()

    @click.command()
    def command() -> None:
        use_executor("process")
        run_all(lambda _root, name, kw: pids.add(os.getpid()), root, list(RUNS), [{}] * len(RUNS), workers=2)

    with caplog.at_level(logging.WARNING, logger="copick.ops.run"):
        assert CliRunner().invoke(command, []).exit_code == 0
    assert pids == {os.getpid()}
    assert "--executor process was not used" in caplog.text
