"""``map_runs(parallelism="dask")`` on a real ``dask.distributed`` cluster (issue 18): a ``LocalCluster``
of two single-threaded worker processes, one per test module, over projects on local disk and on the
loopback S3 server. Results equal the thread mode's; a failing run is reported by name; a worker killed
mid-task is retried by the scheduler with nothing lost or doubled; images are read (``to_dask``) and
written (``from_dask``) through the cluster; the CLI's ``--executor``/``--scheduler``. Ctrl-C:
``test_run_interrupt.py``."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import copick
from copick.ops.run import map_runs
from dask_cluster import local_cluster

distributed = pytest.importorskip("distributed")

RUNS = [f"TS_{i:03d}" for i in range(8)]
OBJECTS = [
    {"name": "proteasome", "is_particle": True, "label": 1},
    {"name": "ribosome", "is_particle": True, "label": 2},
]


def write_config(path: Path, overlay: tuple[str, dict[str, Any]]) -> str:
    config = {"config_type": "filesystem", "name": "dask tests", "pickable_objects": OBJECTS}
    config.update(overlay_root=overlay[0], overlay_fs_args=overlay[1])
    path.write_text(json.dumps(config))
    return str(path)


def in_thread(call: Any, *args: Any) -> None:
    """``call`` from another thread: numcodecs' Blosc then compresses single-threaded, keeping its
    blocks in order, as ``from_dask`` does (see ``test_dask_volumes.in_thread``)."""
    thread = threading.Thread(target=call, args=args)
    thread.start()
    thread.join()


# --------------------------------------------------------------------------------------------
# callbacks (module level: the workers import this module, as they would a plugin's)
# --------------------------------------------------------------------------------------------


def point_sum(run: Any, scale: float = 1.0) -> tuple[str, int, float]:
    (picks,) = run.get_picks("proteasome", user_id="setup")
    positions, _ = picks.numpy()
    return run.name, len(positions), float(positions.sum()) * scale


def worker_pid(run: Any) -> int:
    return os.getpid()


def fail_in_three(run: Any) -> str:
    if run.name == "TS_003":
        raise RuntimeError("boom in TS_003")
    return run.name


def write_then_die_once(run: Any, marker_dir: str, victim: str) -> tuple[str, int, int]:
    """Write this run's pick set; in ``victim``, the first time only, kill the worker process right
    after the write (mid-task: the scheduler never hears of a result)."""
    n = RUNS.index(run.name) + 1
    picks = run.new_picks("ribosome", "retried", user_id="dask", exist_ok=True)
    picks.from_numpy(np.full((n, 3), 10.0 * n))
    marker = Path(marker_dir) / "killed"
    if run.name == victim and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return run.name, n, os.getpid()


# --------------------------------------------------------------------------------------------
# fixtures: one cluster per module, a project on each backend
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(s3_server: Any) -> Any:
    """Two worker processes, one thread each (started after the S3 server: they inherit its
    credentials environment)."""
    with local_cluster() as (_, dask_client):
        yield dask_client


def _make_project(config: str) -> str:
    root = copick.from_file(config)
    for i, name in enumerate(RUNS):
        run = root.new_run(name)
        picks = run.new_picks("proteasome", "1", user_id="setup")
        picks.from_numpy(np.arange(3 * (i + 2), dtype=float).reshape(-1, 3) * (i + 1))
    return config


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory, s3_server: Any) -> dict[str, str]:
    """Config paths of the same 8-run project on local disk and on the loopback S3 server."""
    folder = tmp_path_factory.mktemp("dask-projects")
    local = ("local://" + str(folder / "local-project"), {"auto_mkdir": True})
    s3 = (s3_server.unique_url("dask"), s3_server.fs_args())
    return {
        "local": _make_project(write_config(folder / "local.json", local)),
        "s3": _make_project(write_config(folder / "s3.json", s3)),
    }


@pytest.fixture(params=["local", "s3"])
def config(request: pytest.FixtureRequest, projects: dict[str, str]) -> str:
    return projects[request.param]


# --------------------------------------------------------------------------------------------
# map_runs
# --------------------------------------------------------------------------------------------


def test_results_equal_the_thread_mode_in_order(client: Any, config: str) -> None:
    root = copick.from_file(config)
    order = [RUNS[5], RUNS[0], *RUNS[6:], *RUNS[1:5]]
    runs = [root.get_run(order[0]), *order[1:]]  # run objects and names alike
    expected = map_runs(point_sum, root, runs, workers=4, parallelism="thread", scale=2.0)
    got = map_runs(point_sum, root, runs, parallelism="dask", client=client, scale=2.0)
    assert list(got) == order and got == expected
    assert all(value[1] > 0 for value in got.values())
    pids = map_runs(worker_pid, root, order, client=client)  # a client alone means dask
    workers = set(client.run(os.getpid).values())
    assert set(pids.values()) <= workers and os.getpid() not in workers


def test_a_failing_run_is_reported_by_name_and_the_others_complete(
    client: Any, config: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = copick.from_file(config)
    with caplog.at_level(logging.ERROR, logger="copick.ops.run"):
        results = map_runs(fail_in_three, root, [*RUNS, "TS_404"], parallelism="dask", client=client)
    assert results == {**{name: name for name in RUNS}, "TS_003": None, "TS_404": None}
    messages = [r.getMessage() for r in caplog.records if r.name == "copick.ops.run"]
    assert "Error processing run TS_003: RuntimeError: boom in TS_003" in messages
    assert any(
        m.startswith("Error processing run TS_404: ValueError: Run 'TS_404' not found") for m in messages
    )


def test_a_worker_killed_mid_task_is_retried_without_lost_or_doubled_picks(
    client: Any, config: str, tmp_path: Path
) -> None:
    root = copick.from_file(config)
    victim = RUNS[2]
    results = map_runs(
        write_then_die_once, root, RUNS, client=client, marker_dir=str(tmp_path), victim=victim
    )
    killed = int((tmp_path / "killed").read_text())
    assert [r[:2] for r in results.values()] == [(name, i + 1) for i, name in enumerate(RUNS)]
    assert results[victim][2] != killed  # the second attempt ran in another (or a restarted) process
    fresh = copick.from_file(config)  # what is stored, as another process sees it
    for i, name in enumerate(RUNS):
        sets = fresh.get_run(name).get_picks("ribosome", user_id="dask")
        assert len(sets) == 1
        positions, _ = sets[0].numpy()
        np.testing.assert_array_equal(positions, np.full((i + 1, 3), 10.0 * (i + 1)))
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


# --------------------------------------------------------------------------------------------
# images through the cluster
# --------------------------------------------------------------------------------------------


def test_images_are_read_and_written_through_the_cluster(client: Any, projects: dict[str, str]) -> None:
    import dask

    root = copick.from_file(projects["s3"])
    vs = root.get_run(RUNS[0]).new_voxel_spacing(10.0)
    data = np.random.default_rng(3).normal(size=(9, 20, 270)).astype(np.float32)
    source = vs.new_tomogram("source")
    in_thread(source.from_numpy, data)
    for level in "012":  # each block read by a worker, from S3
        np.testing.assert_array_equal(client.compute(source.to_dask(level)).result(), source.numpy(level))
    copy = vs.new_tomogram("copy")
    with dask.config.set(scheduler=client):  # blocks computed on the workers, written here
        copy.from_dask(source.to_dask() * 1)
    fs = root._storage.overlay.fs

    def files(tomo: Any) -> dict[str, bytes]:
        base = tomo._location
        return {p[len(base) :]: fs.cat_file(p) for p in fs.find(base)}

    assert files(copy) == files(source)


# --------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------


def test_cli_runs_per_run_work_on_the_scheduler_given(client: Any, projects: dict[str, str]) -> None:
    from click.testing import CliRunner
    from distributed import get_task_stream

    from copick.cli.cli import cli as main

    config = projects["local"]
    new_picks = ["new", "picks", "-c", config, "--particle-name", "proteasome", "--out-session", "1"]
    with get_task_stream(client) as stream:
        result = CliRunner().invoke(
            main, [*new_picks, "--out-user", "cli", "--scheduler", client.scheduler.address]
        )
    assert result.exit_code == 0, result.output
    assert len([t for t in stream.data if t["key"].startswith("run_task")]) == len(RUNS)
    root = copick.from_file(config)
    assert all(len(root.get_run(n).get_picks("proteasome", user_id="cli")) == 1 for n in RUNS)

    result = CliRunner().invoke(main, [*new_picks, "--out-user", "proc", "--executor", "process", "-w", "2"])
    assert result.exit_code == 0, result.output
    assert all(len(root.get_run(n).get_picks("proteasome", user_id="proc")) == 1 for n in RUNS)

    result = CliRunner().invoke(main, [*new_picks, "--executor", "process", "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2 and "--scheduler" in result.output

    # check sends its runs too: the findings of threads, one task per run
    check = ["check", "-c", config, "--output", "json"]
    by_threads = CliRunner().invoke(main, check)
    with get_task_stream(client) as stream:
        result = CliRunner().invoke(main, [*check, "--scheduler", client.scheduler.address])
    assert (result.exit_code, result.stdout) == (by_threads.exit_code, by_threads.stdout)
    assert "was not used" not in result.output
    assert len([t for t in stream.data if t["key"].startswith("run_task")]) == len(RUNS)


def test_unpicklable_work_is_refused_before_anything_is_sent(client: Any, projects: dict[str, str]) -> None:
    root = copick.from_file(projects["local"])
    lock = threading.Lock()
    with pytest.raises(Exception, match="pickle|lock"):
        map_runs(fail_in_three, root, RUNS[:2], client=client, lock=lock)
