"""Real servers on 127.0.0.1 for the remote-storage tests, started from the project's own files.

``SFTPServer``  asyncssh's SSH server with its SFTP subsystem, in this process (a thread running its
                own event loop), serving a temporary folder; a generated host key, a password user
                and an authorized client key. Every SFTP request is counted (``.requests``), and the
                server can be stopped and started again on the same port (dropping its connections).
``SMBServer``   Debian's Samba ``smbd`` in a child process with its own ``smb.conf``, private passdb
                (``smbpasswd -c``), state folders and port, sharing a temporary folder as ``copick``.
                Needs root (smbd switches users); ``SMBUnavailable`` says why it cannot start.
                Clients reach it through ``smb_counter.SMBRequestCounter``, which counts every SMB2
                request (``.log``).
``HTTPServer``  the standard library's static file server over a folder (folder index pages), in a
                thread; every request is counted.
``zip_folder``  a zip archive of a folder (read-only layers ``zip://<prefix>::<url of the zip>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import io
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

USER = "copick"
PASSWORD = "tomograms-are-secret"  # a test password: messages must never show it


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: have the kernel stop a server child when the test process dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError("the server process exited during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class RequestLog:
    """Requests answered by a server: ``(operation, path)`` pairs, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[tuple[str, str]] = []

    def add(self, op: str, path: str) -> None:
        with self._lock:
            self.entries.append((op, path))

    def mark(self) -> int:
        """A position in the log, to count what happens after it."""
        with self._lock:
            return len(self.entries)

    def since(self, mark: int = 0) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.entries[mark:])

    def count(self, mark: int = 0, ops: tuple[str, ...] | None = None, under: str = "") -> Counter:
        """Operations since ``mark`` (only ``ops`` if given, only paths containing ``under``)."""
        return Counter(op for op, path in self.since(mark) if (ops is None or op in ops) and under in path)


# --------------------------------------------------------------------------------------------
# SFTP
# --------------------------------------------------------------------------------------------

# The SFTP operations counted (asyncssh.SFTPServer methods, one call per client request; a folder
# read is one ``scandir`` however many READDIR packets carry it).
SFTP_OPERATIONS = (
    "open", "read", "write", "close", "stat", "lstat", "fstat", "scandir", "remove", "mkdir", "rmdir",
    "rename", "posix_rename", "realpath", "setstat", "fsetstat",
)  # fmt: skip


class SFTPServer:
    """An SSH/SFTP server on 127.0.0.1 over ``root`` (a chroot: clients see it as ``/``)."""

    def __init__(self, root: Path, keys_dir: Path):
        import asyncssh

        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = RequestLog()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        keys_dir.mkdir(parents=True, exist_ok=True)
        self.client_key_path = str(keys_dir / "id_ed25519")
        client_key.write_private_key(self.client_key_path)
        os.chmod(self.client_key_path, 0o600)
        self._authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
        self._connections: set[Any] = set()
        self._listener: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-server", daemon=True)
        self._thread.start()
        self.logins: Counter = Counter()  # successful logins (connections) by method

    # --- asyncssh plumbing ---------------------------------------------------------------------

    def _server_class(self) -> type:
        import asyncssh

        outer = self

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn: Any) -> None:
                outer._connections.add(conn)

            def connection_lost(self, exc: Any) -> None:
                pass

            def begin_auth(self, username: str) -> bool:
                return True  # every user must authenticate

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                ok = username == USER and password == PASSWORD
                self._method = "password" if ok else None
                return ok

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: Any) -> bool:
                known = outer._authorized.validate(key, "127.0.0.1", "127.0.0.1") is not None
                ok = username == USER and known
                self._method = "key" if ok else None
                return ok

            def auth_completed(self) -> None:
                outer.logins[getattr(self, "_method", None) or "other"] += 1

        return Server

    def _sftp_class(self) -> type:
        import asyncssh

        log, root = self.log, str(self.root).encode()

        class CountingSFTPServer(asyncssh.SFTPServer):
            def __init__(self, chan: Any):
                super().__init__(chan, chroot=root)

        def counted(name: str) -> Any:
            original = getattr(asyncssh.SFTPServer, name)

            @functools.wraps(original)
            def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                path = args[0] if args and isinstance(args[0], bytes) else b""
                if not path.endswith((b"/.", b"/..")) and path not in (b".", b".."):
                    log.add(name, path.decode(errors="replace"))  # (not asyncssh's own lstat of . and ..)
                return original(self, *args, **kwargs)

            return method

        for name in SFTP_OPERATIONS:
            setattr(CountingSFTPServer, name, counted(name))
        return CountingSFTPServer

    def _run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # --- control -------------------------------------------------------------------------------

    def start(self) -> None:
        import asyncssh

        async def listen() -> Any:
            return await asyncssh.listen(
                "127.0.0.1",
                self.port,
                server_host_keys=[self.host_key],
                server_factory=self._server_class(),
                sftp_factory=self._sftp_class(),
                reuse_address=True,
                allow_scp=False,
            )

        self._listener = self._run(listen())

    def stop(self) -> None:
        """Stop listening and drop every connection (what a server restart or a tunnel reset does)."""

        async def close() -> None:
            if self._listener is not None:
                self._listener.close()
                await self._listener.wait_closed()
            for conn in list(self._connections):
                conn.abort()
            self._connections.clear()

        self._run(close())
        self._listener = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def drop_connections(self) -> None:
        """Cut every open connection but keep listening (a tunnel reset)."""

        async def cut() -> None:
            for conn in list(self._connections):
                conn.abort()
            self._connections.clear()

        self._run(cut())

    # --- for clients ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"ssh://{USER}@127.0.0.1:{self.port}/{path.strip('/')}"

    def fs_args(self, auth: str = "password") -> dict[str, Any]:
        """Config ``fs_args`` for this server, logging in with the password or the client key."""
        if auth == "key":
            return {"client_keys": [self.client_key_path], "known_hosts": None}
        return {"password": PASSWORD, "known_hosts": None}


# --------------------------------------------------------------------------------------------
# SMB
# --------------------------------------------------------------------------------------------


class SMBUnavailable(RuntimeError):
    """smbd cannot be started here (not installed, not root); the message says why."""


SMB_CONF = """\
[global]
  server role = standalone server
  smb ports = {port}
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  server services = -nbt
  private dir = {state}/private
  lock directory = {state}/lock
  state directory = {state}/state
  cache directory = {state}/cache
  pid directory = {state}/pid
  ncalrpc dir = {state}/ncalrpc
  log file = {state}/log/smbd.log
  log level = {log_level}
  max log size = 0
  passdb backend = tdbsam:{state}/private/passdb.tdb
  username map = {state}/users.map
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2_10
  map to guest = never
  unix extensions = no

[copick]
  path = {share}
  read only = no
  valid users = {unix_user}
  force user = {unix_user}
  create mask = 0644
  directory mask = 0755
"""


class SMBServer:
    """Samba's smbd on 127.0.0.1 sharing ``share`` as ``copick``, user ``copick`` (mapped to the
    Unix user running the tests, whose password lives only in this server's private passdb)."""

    def __init__(self, share: Path, state: Path, log_level: int = 1):
        self.share = Path(share)
        self.state = Path(state)
        self.port = free_port()
        self.log_level = log_level
        self._proc: subprocess.Popen[bytes] | None = None
        self.log = RequestLog()
        self._counter: Any = None
        self.smbd = shutil.which("smbd") or ("/usr/sbin/smbd" if os.path.exists("/usr/sbin/smbd") else None)
        self.smbpasswd = shutil.which("smbpasswd")
        if self.smbd is None or self.smbpasswd is None:
            raise SMBUnavailable("Samba's smbd/smbpasswd are not installed (Debian package samba)")
        if os.geteuid() != 0:
            raise SMBUnavailable("smbd must run as root to serve a share (CI runs as root)")
        import pwd

        self.unix_user = pwd.getpwuid(os.geteuid()).pw_name
        self.share.mkdir(parents=True, exist_ok=True)
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        (self.state / "users.map").write_text(f"{self.unix_user} = {USER}\n")
        self.conf = self.state / "smb.conf"
        self.conf.write_text(
            SMB_CONF.format(
                port=self.port,
                state=self.state,
                share=self.share,
                unix_user=self.unix_user,
                log_level=log_level,
            )
        )
        subprocess.run(
            [self.smbpasswd, "-c", str(self.conf), "-s", "-a", self.unix_user],
            input=f"{PASSWORD}\n{PASSWORD}\n".encode(),
            capture_output=True,
            check=True,
        )

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [self.smbd, "-s", str(self.conf), "--foreground", "--no-process-group", "--debug-stdout"],
            stdout=open(self.state / "log" / "stdout.log", "ab"),  # noqa: SIM115 - the child owns it
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE,  # smbd in the foreground stops at the end of its input: keep it open
            preexec_fn=die_with_parent,
            # smbd signals its whole process group when it stops: give it a group of its own, or it
            # would stop the test run too.
            start_new_session=True,
        )
        try:
            _wait_for_port(self.port, 30, alive=lambda: self._proc is not None and self._proc.poll() is None)
        except RuntimeError as err:
            log = (self.state / "log" / "stdout.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise SMBUnavailable(f"smbd did not start: {err}\n{log}") from err
        if self._counter is None:
            from smb_counter import SMBRequestCounter

            self._counter = SMBRequestCounter(self.port, self.log)

    def stop(self) -> None:
        """Stop smbd and every child serving a connection (the clients see their connections drop)."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)  # connection children that outlived the parent
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def shutdown(self) -> None:
        """Stop smbd and the request counter in front of it (end of the test session)."""
        self.stop()
        if self._counter is not None:
            self._counter.shutdown()

    def url(self, path: str) -> str:
        """The ``smb://`` URL of ``path`` in the share, through the request counter."""
        return f"smb://127.0.0.1:{self._counter.port}/copick/{path.strip('/')}"

    def fs_args(self, password: str = PASSWORD) -> dict[str, Any]:
        return {"username": USER, "password": password}

    def log_text(self) -> str:
        path = self.state / "log" / "smbd.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


def _byte_range(header: str | None) -> tuple[int | None, int | None] | None:
    """``bytes=a-b`` -> ``(a, b)``; ``bytes=a-`` -> ``(a, None)``; ``bytes=-n`` -> ``(None, n)``."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].partition("-")
    if not first:
        return (None, int(last)) if last else None
    return int(first), int(last) if last else None


class _Listener(http.server.ThreadingHTTPServer):
    """The standard threading server with a listen backlog a concurrent client fits in: with
    socketserver's default of 5, a burst of more simultaneous connections (zarr fetching a level's
    chunks at once) has its extra SYNs dropped, and each of them waits the kernel's 1 s retransmit."""

    request_queue_size = 128


class HTTPServer:
    """A static file server over ``root`` (folder index pages), counting every request."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = RequestLog()
        log = self.log

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any):
                super().__init__(*args, directory=str(root), **kwargs)

            def send_head(self) -> Any:
                log.add(self.command, self.path)
                wanted = _byte_range(self.headers.get("Range"))
                path = self.translate_path(self.path)
                if wanted is None or not os.path.isfile(path):
                    return super().send_head()
                size = os.path.getsize(path)  # a range request (as nginx answers it)
                start, end = wanted
                if start is None:
                    start, end = size - (end or 0), size - 1
                else:
                    end = size - 1 if end is None else min(end, size - 1)
                with open(path, "rb") as f:
                    f.seek(start)
                    body = f.read(max(0, end - start + 1))
                self.send_response(206)
                self.send_header("Content-Type", self.guess_type(path))
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return io.BytesIO(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Listener(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-server", daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.strip('/')}"

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------------------------
# zip archives
# --------------------------------------------------------------------------------------------


def zip_folder(folder: Path, archive: Path, prefix: str = "project") -> Path:
    """Write ``archive`` holding every file (and folder) under ``folder`` below ``prefix/``."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.{uuid.uuid4().hex[:6]}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(Path(folder).rglob("*")):
            rel = path.relative_to(folder).as_posix()
            name = f"{prefix}/{rel}" if prefix else rel
            if path.is_dir():
                zf.writestr(name + "/", b"")
            else:
                zf.write(path, name)
    os.replace(tmp, archive)
    return archive
