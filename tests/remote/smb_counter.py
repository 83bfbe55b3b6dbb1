"""SMB requests counted at the server: a TCP proxy on 127.0.0.1 in front of smbd that reads the
client's NetBIOS session frames and logs every SMB2 command in them (compounded ones too).

Each frame is a 4-byte NetBIOS session header (type 0, 24-bit length) and one SMB2 message or a
chain of them (``NextCommand``). The log gets ``(command, path)`` pairs: ``CREATE`` with the opened
path for an open that may read or write a file's data, ``CREATE_ATTR`` for an open that asks for
attributes only (a ``stat``, a delete), ``CREATE_DIR`` for an open of a folder to list it
(``FILE_DIRECTORY_FILE``), and every other command (``READ``, ``WRITE``, ``QUERY_DIRECTORY``,
``QUERY_INFO``, ``CLOSE``, ...) with an empty path. Encrypted or compressed messages, which cannot
be read here, are logged as ``ENCRYPTED``/``COMPRESSED`` (the test server does not ask for either).
Paths are share-relative with ``/`` separators.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

COMMANDS = (
    "NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE", "CLOSE",
    "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY",
    "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
)  # fmt: skip
_HEADER = 64  # bytes of an SMB2 header
_FILE_DIRECTORY_FILE = 0x1
# DesiredAccess bits that reach a file's data: read, write, append, GENERIC_ALL/WRITE/READ, MAXIMUM_ALLOWED.
_DATA_ACCESS = 0x1 | 0x2 | 0x4 | 0x10000000 | 0x40000000 | 0x80000000 | 0x02000000


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def smb2_requests(message: bytes) -> list[tuple[str, str]]:
    """``(command, path)`` of each SMB2 request in one NetBIOS frame's message."""
    found: list[tuple[str, str]] = []
    offset = 0
    while offset + _HEADER <= len(message):
        magic = message[offset : offset + 4]
        if magic != b"\xfeSMB":
            kinds = {b"\xfdSMB": "ENCRYPTED", b"\xfcSMB": "COMPRESSED", b"\xffSMB": "SMB1"}
            found.append((kinds.get(magic, "UNKNOWN"), ""))
            break
        code = _u16(message, offset + 12)
        command = COMMANDS[code] if code < len(COMMANDS) else f"0x{code:04x}"
        path = ""
        if command == "CREATE":
            body = offset + _HEADER
            if _u32(message, body + 40) & _FILE_DIRECTORY_FILE:
                command = "CREATE_DIR"
            elif not _u32(message, body + 24) & _DATA_ACCESS:
                command = "CREATE_ATTR"
            start, length = offset + _u16(message, body + 44), _u16(message, body + 46)
            path = message[start : start + length].decode("utf-16-le", errors="replace").replace("\\", "/")
        found.append((command, path))
        chained = _u32(message, offset + 20)
        if not chained:
            break
        offset += chained
    return found


class SMBRequestCounter:
    """A proxy on ``127.0.0.1:<port>`` forwarding every connection to smbd on ``target_port`` and
    logging the SMB2 requests it carries into ``log`` (a ``servers.RequestLog``). It outlives
    smbd restarts: a connection made while smbd is down is closed at once, as smbd would refuse it."""

    def __init__(self, target_port: int, log: Any):
        self.target_port = target_port
        self.log = log
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="smb-counter", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # shut down
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        pending = bytearray()
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
                if requests:
                    pending += data
                    self._count(pending)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
                with self._lock:
                    self._sockets.discard(s)

    def _count(self, pending: bytearray) -> None:
        """Log every whole frame at the start of ``pending`` and drop it from there."""
        while len(pending) >= 4:
            length = int.from_bytes(pending[1:4], "big")
            if len(pending) < 4 + length:
                return
            for command, path in smb2_requests(bytes(pending[4 : 4 + length])):
                self.log.add(command, path)
            del pending[: 4 + length]

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
