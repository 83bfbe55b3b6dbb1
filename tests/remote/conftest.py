"""Fixtures of the remote-storage tests: real servers on 127.0.0.1, started once per test session.

``sftp_server`` (session)   asyncssh SSH/SFTP server in this process (``servers.SFTPServer``)
``smb_server`` (session)    Samba's smbd in a child process (``servers.SMBServer``)
``http_server`` (session)   a static HTTP file server in this process (``servers.HTTPServer``)
``remotes``                 ``Remotes``: the places above by name (``sftp``, ``smb``, ``http``, ``zip``,
                            ``zip+http``, ``zip+sftp``, ``local``), each handing out fresh folders and
                            publishing local folders (how a read-only layer gets its content)

When a program a server needs is missing, its tests are skipped with the reason; on CI
(``CI=true``) they fail instead, so a CI image without Samba cannot pass silently.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import places
import servers


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (on CI) a test whose server cannot run here."""
    if on_ci():
        pytest.fail(f"{reason} (CI=true: the CI image must provide it, see .ci/apt-packages.txt)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.SFTPServer]:
    try:
        import asyncssh  # noqa: F401
        import sshfs  # noqa: F401
    except ImportError as err:
        unavailable(f"asyncssh/sshfs are not installed: {err}")
    base = tmp_path_factory.mktemp("sftp")
    server = servers.SFTPServer(base / "root", base / "keys")
    server.start()
    try:
        yield server
    finally:
        server.shutdown()


_SMB_FAILURE: list[str] = []


@pytest.fixture(scope="session")
def smb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.SMBServer]:
    if _SMB_FAILURE:
        unavailable(_SMB_FAILURE[0])
    try:
        import smbclient  # noqa: F401
    except ImportError as err:
        unavailable(f"smbprotocol is not installed: {err}")
    base = tmp_path_factory.mktemp("smb")
    try:
        server = servers.SMBServer(base / "share", base / "state")
        server.start()
    except servers.SMBUnavailable as err:
        _SMB_FAILURE.append(str(err))
        unavailable(str(err))
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.HTTPServer]:
    server = servers.HTTPServer(tmp_path_factory.mktemp("http") / "root")
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def remotes(request: pytest.FixtureRequest, tmp_path: Path) -> places.Remotes:
    """The kinds of remote places (``places.Remotes``), their servers started on first use."""
    return places.Remotes(request.getfixturevalue, tmp_path / "places")
