"""Several processes at once: reads see other processes' writes, and create-only writes have exactly
one winner, on a local disk and on the loopback S3 server (real processes, real files)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

import copick
from copick.errors import EntityExistsError

pytestmark = pytest.mark.s3

WRITE_PICKS = textwrap.dedent(
    """
    import sys, numpy as np, copick
    run = copick.from_file(sys.argv[1]).get_run("TS_1")
    run.new_picks("ribosome", "2", user_id="bob").from_numpy(np.full((5, 3), 42.0))
    """
)

RACE_NEW_PICKS = textwrap.dedent(
    """
    import sys, copick
    from copick.errors import EntityExistsError
    run = copick.from_file(sys.argv[1]).get_run("TS_1")
    run.picks  # listed before the race: every racer believes the file is absent
    print("ready", flush=True)
    sys.stdin.readline()
    for session in sys.argv[2:]:
        try:
            run.new_picks("proteasome", session, user_id="alice")
            print("created", flush=True)
        except EntityExistsError:
            print("exists", flush=True)
    """
)


@pytest.fixture(params=["local", "s3"])
def config(request: pytest.FixtureRequest, tmp_path: Any, write_project_config: Any) -> str:
    if request.param == "local":
        location: tuple[str, dict] = (str(tmp_path / "project"), {})
    else:
        server = request.getfixturevalue("s3_server")
        location = (server.unique_url(), server.fs_args())
    path = write_project_config(location, user_id="alice")
    copick.from_file(path).new_run("TS_1")
    return path


@pytest.fixture
def shared_client_config(s3_server: Any, write_project_config: Any) -> str:
    """An S3 project whose roots in this process share one s3fs client (fsspec's instance cache), as
    users' configs do: a second ``from_file`` then sees the first one's cached listings."""
    fs_args = {k: v for k, v in s3_server.fs_args().items() if k != "skip_instance_cache"}
    path = write_project_config((s3_server.unique_url(), fs_args), user_id="alice")
    copick.from_file(path).new_run("TS_1")
    return path


def test_picks_written_by_another_process_read_after_refresh(shared_client_config: str) -> None:
    root = copick.from_file(shared_client_config)
    for name in ("TS_0", "TS_2"):
        root.new_run(name)
    root.get_run("TS_1").new_picks("proteasome", "1").from_numpy(np.ones((3, 3)))
    root = copick.from_file(shared_client_config)  # TS_1 is read ahead while TS_0 is listed
    assert {run.name: len(run.picks) for run in root.runs} == {"TS_0": 0, "TS_1": 1, "TS_2": 0}
    subprocess.run([sys.executable, "-c", WRITE_PICKS, shared_client_config], check=True)

    root.refresh()
    run = root.get_run("TS_1")
    run.refresh_picks()
    written = run.get_picks(object_name="ribosome")
    assert len(written) == 1
    np.testing.assert_array_equal(written[0].numpy()[0], np.full((5, 3), 42.0))
    fresh = copick.from_file(shared_client_config).get_run("TS_1").get_picks(object_name="ribosome")
    np.testing.assert_array_equal(fresh[0].numpy()[0], np.full((5, 3), 42.0))


def test_racing_new_picks_in_four_processes_create_exactly_once(config: str) -> None:
    sessions = ["10", "11", "12"]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_NEW_PICKS, config, *sessions],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for racer in racers:
        assert racer.stdout.readline().strip() == "ready"
    for racer in racers:  # released together
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outcomes = [racer.communicate(timeout=60)[0].split() for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    for i in range(len(sessions)):
        assert sorted(o[i] for o in outcomes) == ["created", "exists", "exists", "exists"]
    run = copick.from_file(config).get_run("TS_1")
    assert sorted(p.session_id for p in run.picks) == sessions


def test_new_picks_over_a_file_created_meanwhile_is_refused_or_reused(config: str) -> None:
    mine = copick.from_file(config).get_run("TS_1")
    assert mine.picks == []  # listed: the file below is created after this run looked
    other = copick.from_file(config).get_run("TS_1")
    other.new_picks("proteasome", "7").from_numpy(np.full((2, 3), 5.0))
    with pytest.raises(EntityExistsError, match="proteasome"):
        mine.new_picks("proteasome", "7")
    reused = mine.new_picks("proteasome", "7", exist_ok=True)
    np.testing.assert_array_equal(reused.numpy()[0], np.full((2, 3), 5.0))
