"""Dropped connections heal, dead servers and refused logins give one clear error.

* An SFTP server stopped and started again in the middle of a session (every connection dropped, as
  a restart or a tunnel reset does): the next read and the next write each succeed after one
  reconnect, announced by one warning line. The same for the SMB server (smbd restarted).
* ``root.reconnect()`` opens new connections at once; ``copick.util.reconnecting_fs`` offers the
  wrapper as copick 1.31's users import it.
* A server that stays down: ``StorageUnreachableError`` naming the URL, after a bounded retry.
* Wrong password, unreachable port: one error with the URL, the password never shown.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import servers

import copick
from copick.errors import StorageAuthError, StorageUnreachableError

RECONNECT_LOGGER = "copick.util.reconnecting_fs"


@pytest.fixture(scope="module")
def own_sftp(tmp_path_factory: pytest.TempPathFactory, sftp_server: Any) -> Iterator[servers.SFTPServer]:
    """An SFTP server of this module's own (these tests stop and restart it)."""
    base = tmp_path_factory.mktemp("sftp-faults")
    server = servers.SFTPServer(base / "root", base / "keys")
    server.start()
    try:
        yield server
    finally:
        server.shutdown()


def _project(url: str, fs_args: dict, write_project_config: Callable[..., str]) -> str:
    config = write_project_config((url, fs_args), user_id="alice")
    root = copick.from_file(config)
    for i in range(3):
        root.new_run(f"TS_{i}").new_picks("ribosome", "1").from_numpy(np.full((2, 3), float(i)))
    return config


def _eventually(check: Callable[[], bool], timeout: float = 2.0) -> bool:
    """``check()`` turned true within ``timeout`` (the server counts a login just after the client
    has it)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _reconnect_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == RECONNECT_LOGGER and r.levelno == logging.WARNING and "reconnecting" in r.getMessage()
    ]


def test_sftp_server_restarted_mid_session_reads_and_writes_resume(
    own_sftp: servers.SFTPServer, write_project_config: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    config = _project(own_sftp.url("restart"), own_sftp.fs_args(), write_project_config)
    root = copick.from_file(config)
    runs = root.runs
    assert [r.name for r in runs] == ["TS_0", "TS_1", "TS_2"]
    logins = sum(own_sftp.logins.values())

    own_sftp.restart()  # every open connection dropped, the port listening again
    caplog.set_level(logging.WARNING, logger=RECONNECT_LOGGER)
    (picks,) = runs[1].picks  # a listing and a read on the new connection
    assert picks.numpy()[0].tolist() == [[1.0, 1.0, 1.0]] * 2
    warnings = _reconnect_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert f"127.0.0.1:{own_sftp.port}" in warnings[0] and servers.PASSWORD not in warnings[0]
    assert _eventually(lambda: sum(own_sftp.logins.values()) == logins + 1)

    own_sftp.drop_connections()  # a tunnel reset: this time the next operation is a write
    runs[2].new_picks("proteasome", "1").from_numpy(np.ones((4, 3)))
    assert len(_reconnect_warnings(caplog)) == 2
    again = copick.from_file(config).get_run("TS_2")
    assert sorted(p.pickable_object_name for p in again.picks) == ["proteasome", "ribosome"]


def test_smb_server_restarted_mid_session_reads_and_writes_resume(
    smb_server: servers.SMBServer,
    remotes: Any,
    write_project_config: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, (url, fs_args) = remotes["smb"].new("restart")
    config = _project(url, fs_args, write_project_config)
    runs = copick.from_file(config).runs
    smb_server.restart()
    caplog.set_level(logging.WARNING, logger=RECONNECT_LOGGER)
    (picks,) = runs[0].picks
    assert picks.numpy()[0].tolist() == [[0.0, 0.0, 0.0]] * 2
    runs[0].new_picks("proteasome", "1").from_numpy(np.ones((4, 3)))
    assert len(_reconnect_warnings(caplog)) == 1
    assert sorted(p.pickable_object_name for p in copick.from_file(config).get_run("TS_0").picks) == [
        "proteasome",
        "ribosome",
    ]


def test_root_reconnect_opens_a_new_connection(
    own_sftp: servers.SFTPServer, write_project_config: Callable[..., str]
) -> None:
    config = _project(own_sftp.url("forced"), own_sftp.fs_args("key"), write_project_config)
    root = copick.from_file(config)
    assert len(root.runs) == 3
    before = own_sftp.logins["key"]
    root.reconnect()
    assert _eventually(lambda: own_sftp.logins["key"] == before + 1)
    assert [p.user_id for p in root.get_run("TS_0").picks] == ["alice"]


def test_reconnecting_filesystem_as_copick_131_users_import_it(own_sftp: servers.SFTPServer) -> None:
    from copick.util.reconnecting_fs import ReconnectingFileSystem

    fs = ReconnectingFileSystem(own_sftp.url("wrapped"), own_sftp.fs_args())
    fs.pipe_file("/wrapped/a.txt", b"one")
    own_sftp.drop_connections()
    assert fs.cat_file("/wrapped/a.txt") == b"one"  # healed transparently
    fs._reconnect()
    assert fs.ls("/wrapped", detail=False) == ["/wrapped/a.txt"]
    assert fs.protocol in ("ssh", ("ssh", "sftp"))


def test_server_down_gives_one_clear_error_with_the_url(
    own_sftp: servers.SFTPServer, write_project_config: Callable[..., str]
) -> None:
    config = _project(own_sftp.url("down"), own_sftp.fs_args(), write_project_config)
    root = copick.from_file(config)
    runs = root.runs
    own_sftp.stop()
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnreachableError) as err:
            runs[0].picks  # noqa: B018
        elapsed = time.monotonic() - started
    finally:
        own_sftp.start()
    message = str(err.value)
    assert f"ssh://copick@127.0.0.1:{own_sftp.port}" in message
    assert servers.PASSWORD not in message
    assert elapsed < 10.0  # retried with backoff, bounded
    assert [p.user_id for p in runs[0].picks] == ["alice"]  # and back once the server is


@pytest.mark.parametrize("kind", ["sftp", "smb"])
def test_wrong_password_is_one_clear_error_without_the_password(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = request.getfixturevalue(f"{kind}_server")
    wrong = "not-the-" + servers.PASSWORD
    fs_args = {**server.fs_args(), "password": wrong}
    config = tmp_path / "config.json"
    cfg = {"config_type": "filesystem", "name": "t", "pickable_objects": [], "overlay_fs_args": fs_args}
    config.write_text(json.dumps({**cfg, "overlay_root": server.url("anything")}))
    with pytest.raises(StorageAuthError) as err:
        copick.from_file(str(config))
    message = str(err.value)
    assert server.url("anything") in message and "copick" in message
    assert wrong not in message and servers.PASSWORD not in message
    assert isinstance(err.value, PermissionError)


@pytest.mark.parametrize("scheme", ["ssh", "smb"])
def test_unreachable_server_is_one_clear_error(scheme: str, tmp_path: Path) -> None:
    port = servers.free_port()  # nothing listens there
    url = f"{scheme}://copick@127.0.0.1:{port}/project"
    fs_args = {"password": servers.PASSWORD, "known_hosts": None} if scheme == "ssh" else {}
    if scheme == "smb":
        url, fs_args = (
            f"smb://127.0.0.1:{port}/copick/project",
            {"username": "copick", "password": "x-secret"},
        )
    config = tmp_path / "config.json"
    cfg = {"config_type": "filesystem", "name": "t", "pickable_objects": []}
    config.write_text(json.dumps({**cfg, "overlay_root": url, "overlay_fs_args": fs_args}))
    with pytest.raises(StorageUnreachableError) as err:
        copick.from_file(str(config))
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message
    assert servers.PASSWORD not in message and "x-secret" not in message


def test_unreachable_http_layer_names_its_url_once(tmp_path: Path) -> None:
    port = servers.free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}/project"
    config = tmp_path / "config.json"
    cfg = {"config_type": "filesystem", "name": "t", "pickable_objects": []}
    config.write_text(json.dumps({**cfg, "static_root": url, "overlay_root": str(tmp_path / "overlay")}))
    with pytest.raises(StorageUnreachableError) as err:
        copick.from_file(str(config)).runs  # noqa: B018
    message = str(err.value)
    assert url in message and "://http" not in message
