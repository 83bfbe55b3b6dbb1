"""SFTP (``ssh://`` and ``sftp://`` URLs): sshfs's filesystem with four changes for copick.

* ``find`` lists a tree one depth level at a time, all folders of a level at once
  (``copick.remote.walk``): one directory read per folder, no ``stat`` per entry.
* ``cp_file`` copies over SFTP (the server copies with the ``copy-data`` extension where it offers
  it, else the bytes pass through the client), where sshfs runs ``cp`` in a remote shell, which
  SFTP-only accounts and Windows servers do not have.
* ``pipe_file`` writes first and creates the parent folders only when the write says they are
  missing (sshfs creates them before every write: two requests per path component).
* ``exists`` answers ``False`` only for a missing path; a dropped connection is an error, not
  "absent".

Renames use the ``posix-rename@openssh.com`` extension (as sshfs does): a rename replaces the target
in one step, which is what copick's temp-then-rename writes need.
"""

from __future__ import annotations

import posixpath
from typing import Any

from sshfs import SSHFileSystem
from sshfs.utils import wrap_exceptions

from copick.remote.walk import find_by_levels


class SFTPFileSystem(SSHFileSystem):
    """sshfs with level-by-level listings, SFTP copies and lazy parent creation."""

    protocol = ("ssh", "sftp")

    async def _sftp_copy(self, lpath: str, rpath: str) -> None:
        async with self._pool.get() as channel:
            await channel.copy(lpath, rpath)

    @wrap_exceptions
    async def _cp_file(self, lpath: str, rpath: str, **kwargs: Any) -> None:
        try:
            await self._sftp_copy(lpath, rpath)
        except Exception as err:
            if type(err).__name__ != "SFTPNoSuchFile" or not await self._exists(lpath):
                raise
            await self._makedirs(self._parent(rpath), exist_ok=True)
            await self._sftp_copy(lpath, rpath)

    @wrap_exceptions
    async def _cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kw: Any
    ) -> bytes:
        """The file, or bytes ``start:end`` of it (negative: from the end), in one open."""
        async with self._pool.get() as channel, channel.open(path, "rb") as f:
            if start is None and end is None:
                return await f.read()
            if (start or 0) < 0 or (end or 0) < 0:
                size = (await f.stat()).size or 0
                start = size + start if start and start < 0 else start
                end = size + end if end is not None and end < 0 else end
            start = start or 0
            if end is not None and end <= start:
                return b""
            return await f.read(-1 if end is None else end - start, start)

    async def _create_new(self, path: str, data: bytes) -> None:
        for attempt in range(2):
            try:
                async with self._pool.get() as channel, channel.open(path, "xb") as f:
                    await f.write(data)
                return
            except Exception as err:
                name = type(err).__name__
                if name == "SFTPFileAlreadyExists" or (name == "SFTPFailure" and "exist" in str(err).lower()):
                    raise FileExistsError(path) from err
                if name != "SFTPNoSuchFile" or attempt:
                    raise
                await self._makedirs(self._parent(path), exist_ok=True)

    async def _sftp_write(self, path: str, data: bytes, chunksize: int) -> None:
        async with self._pool.get() as channel, channel.open(path, "wb") as f:
            for i in range(0, len(data), chunksize):
                await f.write(data[i : i + chunksize])

    # ``pipe_file(..., mode="create")`` creates the file only if absent, in one server operation
    # (open with O_EXCL): copick's locks and new entities rely on it (``Layer.create_bytes``).
    exclusive_create = True

    @wrap_exceptions
    async def _pipe_file(
        self, path: str, data: bytes, chunksize: int = 50 * 2**20, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        if mode == "create":
            await self._create_new(path, data)
            return
        try:
            await self._sftp_write(path, data, chunksize)
        except Exception as err:
            if type(err).__name__ != "SFTPNoSuchFile":
                raise
            await self._makedirs(self._parent(path), exist_ok=True)
            await self._sftp_write(path, data, chunksize)
        self.invalidate_cache(path)

    async def _find(
        self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False, **kw: Any
    ) -> Any:
        path = _norm(self._strip_protocol(path))

        async def ls(folder: str) -> list[dict]:
            try:
                return await self._ls(folder, detail=True)
            except FileNotFoundError:
                if folder == path:
                    raise
                return []  # deleted meanwhile

        try:
            return await find_by_levels(ls, path, maxdepth, withdirs, detail, norm=_norm)
        except FileNotFoundError:
            pass
        # Missing, or a file (servers answer "no such file" to reading a file as a folder).
        try:
            info = await self._info(path)
        except FileNotFoundError:
            return {} if detail else []
        if info["type"] == "directory":
            return {} if detail else []
        info["name"] = path
        return {path: info} if detail else [path]

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        try:
            await self._info(path)
            return True
        except FileNotFoundError:
            return False


def _norm(name: str) -> str:
    return posixpath.normpath(name) if name not in ("", "/") else "/"
