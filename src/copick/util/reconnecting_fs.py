"""Reconnecting filesystem wrapper for automatic recovery from broken connections.

``ReconnectingFileSystem(url, fs_args)`` opens ``url`` with ``fs_args`` and hands every call to that
filesystem. When a call fails because the connection is gone (an SSH tunnel reset, a restarted
server: ``SFTPNoConnection: Connection not open``, ``ConnectionResetError``, a closed SMB
connection), it logs one warning, opens a new connection from the same URL and arguments, and
retries the call once. Copick opens every SFTP (``ssh://``, ``sftp://``) and SMB (``smb://``) layer
through it; code written for copick 1.31 imports it from here.

If the new connection cannot be made, or the retried call fails the same way, the call raises
``copick.errors.StorageUnreachableError`` naming the server (never the password).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Callable
from functools import wraps
from typing import Any

import fsspec
from fsspec.spec import AbstractFileSystem

logger = logging.getLogger(__name__)

# Exception classes (matched by name anywhere in the class hierarchy, so neither asyncssh nor
# smbprotocol is imported) that mean "the connection is gone", not "the operation failed".
_CONNECTION_ERROR_NAMES = frozenset(
    {
        "ConnectionError",  # the built-in ones: refused, reset, aborted, broken pipe
        "ConnectionLost",
        "DisconnectError",
        "SFTPNoConnection",
        "SFTPConnectionLost",
        "SMBConnectionClosed",
        "ClientConnectionError",
        "ServerDisconnectedError",
    }
)

# Methods handed to the wrapped filesystem, each retried once after a reconnect.
_RETRIED = (
    "ls", "info", "find", "glob", "du", "exists", "lexists", "isdir", "isfile", "size", "sizes",
    "modified", "created", "ukey", "checksum", "cat", "cat_file", "cat_ranges", "head", "tail",
    "pipe", "pipe_file", "open", "mkdir", "mkdirs", "makedirs", "rm", "rm_file", "rmdir", "touch",
    "cp_file", "copy", "mv", "get", "get_file", "put", "put_file",
)  # fmt: skip

# Operations whose retry may find the first attempt done (the answer, not the call, was lost).
_DONE_IF_MISSING = ("rm", "rm_file", "rmdir")


def _is_connection_error(exc: BaseException) -> bool:
    """Does ``exc`` (or the error it was raised from) say the connection is broken or stale?"""
    seen = 0
    err: BaseException | None = exc
    while err is not None and seen < 4:
        if any(cls.__name__ in _CONNECTION_ERROR_NAMES for cls in type(err).__mro__):
            return True
        err, seen = err.__cause__, seen + 1
    return False


def _make_retry_method(method_name: str) -> Callable[..., Any]:
    """Create a method that delegates to the wrapped filesystem with retry on connection error."""

    @wraps(getattr(AbstractFileSystem, method_name, None) or (lambda self, *a, **k: None))
    def method(self: ReconnectingFileSystem, *args: Any, **kwargs: Any) -> Any:
        fs, generation = self._current()
        try:
            return getattr(fs, method_name)(*args, **kwargs)
        except Exception as err:
            if not _is_connection_error(err):
                raise
            self._lost(method_name, err, generation)
        fs, _ = self._current()
        try:
            return getattr(fs, method_name)(*args, **kwargs)
        except FileNotFoundError:
            if method_name in _DONE_IF_MISSING:
                return None  # done by the first attempt, whose answer was lost with the connection
            if method_name == "mv" and _moved(fs, args, kwargs):
                return None
            raise
        except Exception as err:
            if _is_connection_error(err):
                raise self._unreachable(method_name, err) from err
            raise

    method.__name__ = method_name
    return method


def _moved(fs: Any, args: tuple, kwargs: dict) -> bool:
    """After a lost answer to ``mv(a, b)``: is ``a`` gone and ``b`` there (the move happened)?"""
    a = args[0] if args else kwargs.get("path1")
    b = args[1] if len(args) > 1 else kwargs.get("path2")
    return isinstance(a, str) and isinstance(b, str) and not fs.exists(a) and fs.exists(b)


class ReconnectingFileSystem(AbstractFileSystem):
    """A filesystem wrapper that automatically reconnects on connection errors.

    Subclasses ``AbstractFileSystem`` so that ``isinstance`` checks pass. Delegates all operations
    to a wrapped filesystem created from a URL and fs_args. When a connection error is detected
    (e.g. ``SFTPNoConnection``), the wrapped filesystem is recreated from the stored configuration
    and the operation is retried once.

    Attributes:
        _url: The URL used to create the wrapped filesystem.
        _fs_args: The arguments used to create the wrapped filesystem.
        _fs: The current wrapped filesystem instance.
        _root_ref: Weak reference to the CopickRoot for cache invalidation (optional): after a
            reconnect its ``_invalidate_all_caches()`` is called when it has one.
    """

    def __init__(self, url: str, fs_args: dict[str, Any] | None = None, **kwargs: Any):
        fs_args = {**(fs_args or {}), **kwargs}
        super().__init__(url, fs_args)
        self._url = url
        self._fs_args = fs_args
        self._root_ref: weakref.ref | None = None
        self._reconnect_lock = threading.Lock()
        self._generation = 0
        self._fs: Any = None
        self._fs = self._open()
        self.storage_options = dict(getattr(self._fs, "storage_options", {}) or {})

    # --- the wrapped filesystem ------------------------------------------------------------------

    def _open(self) -> Any:
        from copick.remote.opening import make_filesystem

        fs, _ = make_filesystem(self._url, self._fs_args)
        return fs

    @property
    def endpoint(self) -> str:
        """The server, as a URL without password or path (for messages)."""
        from copick.remote.opening import server_of

        return server_of(self._url, self._fs_args)

    @property
    def protocol(self) -> Any:  # type: ignore[override]
        fs = self.__dict__.get("_fs")
        return fs.protocol if fs is not None else self._url.split("://", 1)[0]

    def _current(self) -> tuple[Any, int]:
        """The wrapped filesystem (connecting if the last reconnect failed) and its generation."""
        with self._reconnect_lock:
            if self._fs is None:
                try:
                    self._fs = self._open()
                except Exception as err:
                    if _is_connection_error(err):
                        raise self._unreachable("connect", err) from err
                    raise
            return self._fs, self._generation

    def _lost(self, what: str, err: BaseException, generation: int) -> None:
        """The connection of ``generation`` failed during ``what``: reconnect (once for all threads
        that saw the same failure)."""
        with self._reconnect_lock:
            if generation != self._generation:
                return  # another thread reconnected meanwhile
            logger.warning(
                "Lost the connection to %s during %s (%s: %s); reconnecting and retrying once.",
                self.endpoint,
                what,
                type(err).__name__,
                err,
            )
            self._replace()

    def _replace(self) -> None:
        old, self._fs = self._fs, None
        self._generation += 1
        _close_quietly(old)
        try:
            self._fs = self._open()
        except Exception as err:
            if _is_connection_error(err):
                raise self._unreachable("reconnect", err) from err
            raise
        root = self._root_ref() if self._root_ref is not None else None
        invalidate = getattr(root, "_invalidate_all_caches", None)
        if callable(invalidate):
            invalidate()

    def _reconnect(self) -> None:
        """Drop the current connection and open a new one now."""
        with self._reconnect_lock:
            logger.info("Reconnecting to %s.", self.endpoint)
            self._replace()

    reconnect = _reconnect

    def _unreachable(self, what: str, err: BaseException) -> Exception:
        from copick.errors import StorageUnreachableError

        return StorageUnreachableError(
            f"Cannot {what} on {self.endpoint}: the connection is lost and a new one failed "
            f"({type(err).__name__}: {_safe_text(err, self._fs_args)})."
        )

    # --- fsspec plumbing -------------------------------------------------------------------------

    # Identity, not fsspec's token equality: two instances opened with the same arguments hold
    # different connections / listings, and caches keyed by filesystem must tell them apart.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __reduce__(self) -> Any:
        return type(self), (self._url, self._fs_args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "_fs" not in self.__dict__ or self.__dict__["_fs"] is None:
            raise AttributeError(name)
        return getattr(self.__dict__["_fs"], name)

    def _strip_protocol(self, path: Any) -> Any:  # type: ignore[override]
        fs = self.__dict__.get("_fs")
        return type(fs)._strip_protocol(path) if fs is not None else path

    def unstrip_protocol(self, name: str) -> str:
        return self._current()[0].unstrip_protocol(name)

    @staticmethod
    def _parent(path: str) -> str:
        return AbstractFileSystem._parent(path)

    def invalidate_cache(self, path: str | None = None) -> None:
        fs = self.__dict__.get("_fs")
        if fs is not None:
            fs.invalidate_cache(path)

    def get_mapper(self, root: str = "", check: bool = False, create: bool = False, **kwargs: Any) -> Any:
        return fsspec.mapping.FSMap(root, self, check=check, create=create, **kwargs)

    def __repr__(self) -> str:
        return f"ReconnectingFileSystem({self.endpoint})"


for _name in _RETRIED:
    setattr(ReconnectingFileSystem, _name, _make_retry_method(_name))


def _close_quietly(fs: Any) -> None:
    """Release a dead connection's resources without waiting on it."""
    close = getattr(fs, "close", None)
    if callable(close) and type(fs).__name__ == "SMBFileSystem":
        with contextlib.suppress(Exception):
            close()


def _safe_text(err: BaseException, fs_args: dict[str, Any]) -> str:
    """``str(err)`` with any secret of ``fs_args`` masked."""
    from copick.remote.opening import mask_secrets

    return mask_secrets(str(err), fs_args)
