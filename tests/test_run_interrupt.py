"""Ctrl-C during ``map_runs`` (issue 18): the command does not wait for the runs already running.

A script maps a slow callback over 8 runs on 2 worker processes, or on a Dask ``LocalCluster`` made for
the call; once both workers are busy it gets SIGINT (as a terminal's Ctrl-C reaches the foreground
process): it exits with the interrupt status, the worker processes are gone (the cluster made for the
call is closed) and no run finished or started after the interrupt (``tests/interrupts.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import copick
from interrupts import interrupt_slow_map, wait_until_gone


@pytest.mark.parametrize("parallelism", ["process", "dask"])
def test_ctrl_c_stops_the_workers_and_starts_no_further_run(tmp_path: Path, parallelism: str) -> None:
    pytest.importorskip("psutil")
    if parallelism == "dask":
        pytest.importorskip("distributed")
    config = str(tmp_path / "config.json")
    root = copick.new_config(config, str(tmp_path / "project"))
    for i in range(8):
        root.new_run(f"TS_{i}")

    ended = interrupt_slow_map(config, tmp_path, parallelism)

    assert ended.returncode == 130 and "interrupted" in ended.stdout
    assert wait_until_gone(
        ended.worker_pids
    )  # worker processes stopped, the cluster made for the call closed
    assert ended.markers_now("started") == ended.started  # no run started after Ctrl-C
    assert not ended.markers_now("finished")  # and none ran to its end
