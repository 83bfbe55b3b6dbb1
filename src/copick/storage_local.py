"""Local-disk side of ``copick.storage``: whole-file writes (temporary file renamed or linked into
place) and the atomic folder exchange used to swap in a rewritten image."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
from typing import Any

# Temporary names are ``.<start of the name>.<random>.tmp``: short enough for any valid name.
TEMP_STEM = 96


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()


def exchange(a: str, b: str) -> bool:
    """Atomically swap two paths with Linux ``renameat2(RENAME_EXCHANGE)``; False if unavailable."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, a.encode(), at_fdcwd, b.encode(), rename_exchange) == 0


@functools.cache
def _renameat2() -> Any:
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def write_atomic(path: str, data: bytes) -> None:
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name[:TEMP_STEM]}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def create_new(path: str, data: bytes) -> None:
    """Create ``path`` whole and only if absent: write a temporary file, then hard-link it into place
    (``link`` fails on an existing name, as ``O_EXCL`` does). Where links are not supported, an
    ``O_EXCL`` create is written in place instead (exclusive, but visible while being written)."""
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name[:TEMP_STEM]}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        try:
            os.link(tmp, path)
        except OSError as err:
            if isinstance(err, FileExistsError) or err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                raise
            with open(path, "xb") as f:
                f.write(data)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
