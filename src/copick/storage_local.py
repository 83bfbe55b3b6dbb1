"""Local-disk side of ``copick.storage``: whole-file writes (temporary file renamed or linked into
place), folder replacement (an atomic exchange where the kernel offers one) used to swap in a
rewritten or copied image, and the symbolic links of ``copick deposit``."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
import tempfile
from typing import Any

from copick import layout
from copick.errors import EntityExistsError, UnsafePathError
from copick.writers import owner_id


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


def replace_folder(new: str, dest: str) -> None:
    """Move the folder ``new`` to ``dest``, replacing what was there.

    Uses an atomic exchange where the kernel offers one, so readers see the old or the new folder,
    never neither; the old content is deleted afterwards.
    """
    import shutil

    if not os.path.exists(dest):
        os.rename(new, dest)
        return
    if not exchange(new, dest):
        old = f"{new}.old"
        os.rename(dest, old)
        os.rename(new, dest)
        new = old
    shutil.rmtree(new)


@functools.cache
def _renameat2() -> Any:
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def read_file(path: str) -> bytes:
    """The whole file at ``path``: one ``open``, ``fstat`` and ``read`` (a Python file object costs
    ~3 µs more per small file, which a listing of 1,000 picks files feels)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)  # one byte more: a file that grew since is read to its end
        if len(data) == size:
            return data
        parts = [data]
        while True:  # grown, shrunk, or bigger than one read returns
            more = os.read(fd, 1 << 24)
            if not more:
                return b"".join(parts)
            parts.append(more)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole: readers and a crash of the process see the old file or
    the new one, never part of one.

    The data go to a temporary file in the same folder, which then takes the name. A new name is
    taken with ``link`` (it fails if the name exists) and nothing is synced: nothing was there to
    lose. An existing file is replaced by ``rename`` after the new data are synced to disk
    (``fsync``), so that a power cut too leaves the previous version or the new one, whole, never an
    empty file where data were (filesystems may commit the rename before unsynced data).
    """
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.chmod(tmp, _FILE_MODE)
            if _link_new(tmp, path):
                os.remove(tmp)
                return
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _temp_beside(path: str) -> tuple[int, str]:
    """A new hidden temporary file in ``path``'s folder (made, with its parents, if missing)."""
    parent, name = os.path.split(path)
    prefix = layout.temp_prefix(name)
    try:
        return tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=parent)
    except FileNotFoundError:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=parent)


def _link_new(tmp: str, path: str) -> bool:
    """Give ``tmp``'s file the name ``path`` too, if no file has it: True if linked, False if
    ``path`` exists or the filesystem has no hard links."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as err:
        if err.errno in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            return False
        raise
    return True


def create_new(path: str, data: bytes) -> None:
    """Create ``path`` whole and only if absent (``FileExistsError`` otherwise): write a temporary
    file, then hard-link it into place (``link`` fails on an existing name, as ``O_EXCL`` does).
    Nothing is synced: nothing was there to lose (see ``write_atomic``). Where links are not
    supported, an ``O_EXCL`` create is written in place instead (exclusive, but visible while being
    written)."""
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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


# --- symbolic links (copick deposit) ---------------------------------------------------------


def real_folder(parent: str, name: str) -> str:
    """``parent/name`` as a real folder (made when missing); a link or a file there is an error, so
    that nothing is ever written outside the target through a link."""
    path = os.path.join(parent, name)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path)
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        what = "a symbolic link" if os.path.islink(path) else "a file"
        raise UnsafePathError(
            f"{path} is {what}, not a folder: deposit only writes inside real folders of the target."
        )
    return path


def place_link(folder: str, name: str, source: str) -> str | None:
    """Make the link ``folder/name`` -> ``source``. Returns ``None`` when it was made, ``""`` when a
    correct link was there, else the target of the wrong link it replaced (atomically). A file or
    folder that is not a link is never touched: ``EntityExistsError``."""
    path = os.path.join(folder, name)
    try:
        os.symlink(source, path)
        return None
    except FileExistsError:
        pass
    if not os.path.islink(path):
        what = "folder" if os.path.isdir(path) else "file"
        raise EntityExistsError(
            f"{path} is a {what}, not a link: deposit never replaces data. "
            f"Move it away to link {source} there."
        )
    current = os.readlink(path)
    if current == source or os.path.realpath(path) == os.path.realpath(source):
        return ""
    temp = os.path.join(folder, layout.temp_name(name, owner_id()))
    os.symlink(source, temp)
    try:
        os.replace(temp, path)  # renames over the link itself, never what it points to
    except BaseException:
        os.unlink(temp)
        raise
    return current
