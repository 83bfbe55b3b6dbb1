"""A real S3-protocol server on the loopback interface, for tests.

moto runs in *server mode*: s3fs talks plain HTTP to it exactly as it would to AWS or MinIO, so
nothing in s3fs, aiobotocore or copick is mocked; only the server side is fake.

Two ways to run it (``COPICK_TEST_S3_MODE``):

- ``process`` (default): ``python -m moto.server`` in a child process. Server and client then do
  not share one GIL, which halves the per-request latency on a 2-core machine (measured: ``ls``
  24 ms vs 70 ms, ``exists`` 13 ms vs 25 ms) and cuts the start-up from ~3 s to ~1 s.
- ``thread``: ``moto.server.ThreadedMotoServer`` inside the test process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Dummy credentials: moto accepts anything, but botocore refuses to sign without some. The region
# comes from the environment too (not from ``client_kwargs``: s3fs would turn it into a
# LocationConstraint on bucket creation, which S3 rejects for us-east-1).
CREDENTIALS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

START_TIMEOUT_S = 30.0

# A werkzeug access-log line: '... "GET /bucket/key HTTP/1.1" 200 -' (the method may be coloured).
_ACCESS_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)?(?:GET|PUT|HEAD|POST|DELETE) \S+ HTTP/')


@dataclass(frozen=True)
class LoopbackS3:
    """Where the server listens and how to reach it with s3fs."""

    endpoint_url: str
    bucket: str
    key: str = "testing"
    secret: str = "testing"
    extra_fs_args: dict[str, Any] = field(default_factory=dict)

    def fs_args(self) -> dict[str, Any]:
        """JSON-serialisable keyword arguments for ``s3fs.S3FileSystem`` (a config's ``*_fs_args``).

        ``skip_instance_cache``: fsspec would otherwise hand every root opened with the same
        arguments the *same* ``S3FileSystem`` object, sharing one listings cache, so a "second
        root" would not be a second client at all. With it, each root gets its own client and its
        own listings cache, like a second process; the library must then invalidate stale
        listings itself on ``refresh()``, which is exactly what the two-root tests check. The
        listings cache itself is left at s3fs's default (on), as users have it.
        """
        return {
            "endpoint_url": self.endpoint_url,
            "key": self.key,
            "secret": self.secret,
            "skip_instance_cache": True,
            **self.extra_fs_args,
        }

    def url(self, prefix: str) -> str:
        """``s3://bucket/prefix`` for a path inside the test bucket."""
        return f"s3://{self.bucket}/{prefix.strip('/')}"

    def unique_url(self, label: str = "project") -> str:
        return self.url(f"{label}-{uuid.uuid4().hex[:12]}")

    def filesystem(self) -> Any:
        """A fresh s3fs filesystem on this server (own client, no listings cache)."""
        import s3fs

        return s3fs.S3FileSystem(**{**self.fs_args(), "use_listings_cache": False})


@contextlib.contextmanager
def _credentials_env() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in CREDENTIALS_ENV}
    os.environ.update(CREDENTIALS_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: have the kernel SIGTERM the server when the test process dies, even by SIGKILL."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(endpoint: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1.0):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"moto server did not answer at {endpoint} within {START_TIMEOUT_S} s")


@contextlib.contextmanager
def _process_server() -> Iterator[str]:
    """``python -m moto.server`` on a free loopback port; yields the endpoint URL."""
    for attempt in range(3):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        try:
            _wait_until_up(endpoint, proc)
        except RuntimeError:
            proc.kill()
            proc.wait()
            if attempt == 2:
                raise
            continue  # the port was taken between probing and binding: try another
        try:
            yield endpoint
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return


class ServerProcess:
    """A moto server process that a test can stop and start again on the same port (the bucket is
    created anew: moto keeps its data in memory), with every request logged to count them."""

    def __init__(self, log_path: str, bucket: str = "copick-test"):
        self.port = _free_port()
        self.log_path = log_path
        self.s3 = LoopbackS3(endpoint_url=f"http://127.0.0.1:{self.port}", bucket=bucket)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        _wait_until_up(self.s3.endpoint_url, self._proc)
        with _credentials_env():
            self.s3.filesystem().mkdir(self.s3.bucket)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def requests(self) -> int:
        """S3 requests answered so far (werkzeug's access log lines; the health probe excluded)."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return sum(1 for line in log if _ACCESS_LINE.search(line) and "/moto-api/" not in line)


@contextlib.contextmanager
def logged_s3(log_path: str) -> Iterator[ServerProcess]:
    """A ``ServerProcess`` started (dummy AWS credentials in the environment), stopped on exit."""
    server = ServerProcess(log_path)
    with _credentials_env():
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def _thread_server() -> Iterator[str]:
    """``moto.server.ThreadedMotoServer`` in this process; yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request to stderr even with verbose=False.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def loopback_s3(bucket: str = "copick-test", mode: str | None = None) -> Iterator[LoopbackS3]:
    """Start moto's S3 server on 127.0.0.1 (a free port), create ``bucket``, stop on exit."""
    mode = mode or os.environ.get("COPICK_TEST_S3_MODE", "process")
    if mode not in ("process", "thread"):
        raise ValueError(f"COPICK_TEST_S3_MODE must be 'process' or 'thread', not {mode!r}")
    server = _process_server() if mode == "process" else _thread_server()
    with _credentials_env(), server as endpoint:
        s3 = LoopbackS3(endpoint_url=endpoint, bucket=bucket)
        s3.filesystem().mkdir(bucket)
        yield s3


if __name__ == "__main__":  # manual smoke test: python tests/s3server.py [process|thread]
    with loopback_s3(mode=sys.argv[1] if len(sys.argv) > 1 else None) as srv:
        fs = srv.filesystem()
        fs.pipe_file(f"{srv.bucket}/a/b.txt", b"hello")
        print(srv.endpoint_url, fs.ls(f"{srv.bucket}/a"), fs.cat_file(f"{srv.bucket}/a/b.txt"))
