"""Read-only layers inside zip archives: ``zip://<folder in the archive>::<URL of the archive>``.

The archive is opened through copick's own filesystems (``copick.remote.opening``), so an archive
on SFTP or SMB reconnects like any other layer there, and it is read in byte ranges on demand
(the zip directory at the end, then each member it needs), never downloaded whole. fsspec's own
chaining opens the archive with the target filesystem's file object, which for SFTP holds a server
handle that its finaliser cannot close from fsspec's event loop.
"""

from __future__ import annotations

import io
from typing import Any

# Read-ahead of the buffered reader over the archive (zip members are read whole, so a member
# smaller than this costs one request).
BUFFER_BYTES = 2**20


class RangeFile(io.RawIOBase):
    """A seekable, read-only file whose reads are ``fs.cat_file(path, start, end)`` requests."""

    def __init__(self, fs: Any, path: str, size: int):
        super().__init__()
        self.fs, self.path, self.size, self.pos = fs, path, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self.pos)
        if want <= 0:
            return 0
        data = self.fs.cat_file(self.path, start=self.pos, end=self.pos + want)
        if len(data) > want:  # a server that ignores ranges answers with the whole file
            data = data[self.pos : self.pos + want] if len(data) == self.size else data[:want]
        n = len(data)
        buffer[:n] = data
        self.pos += n
        return n


def _absolute(info: Any) -> Any:
    if isinstance(info, dict):
        return {**info, "name": "/" + info["name"].lstrip("/")}
    return "/" + str(info).lstrip("/")


def _zip_class() -> type:
    from fsspec.implementations.zip import ZipFileSystem

    class ZipArchive(ZipFileSystem):
        """fsspec's zip filesystem with absolute paths (``/folder/file``), as every other layer
        has: its own names are relative, and it reads ``/folder`` as the archive's root."""

        def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
            return [_absolute(i) for i in super().ls(path.lstrip("/"), detail=detail, **kwargs)]

        def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, **kwargs: Any) -> Any:
            found = super().find(path.lstrip("/"), maxdepth=maxdepth, withdirs=withdirs, **kwargs)
            if isinstance(found, dict):
                return {"/" + k.lstrip("/"): _absolute(v) for k, v in found.items()}
            return [_absolute(name) for name in found]

        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            return _absolute(super().info(path.lstrip("/"), **kwargs))

    return ZipArchive


def open_zip(url: str, fs_args: dict[str, Any]) -> tuple[Any, str]:
    """A ``ZipFileSystem`` over the archive named after ``::`` in ``url``, and the folder of the
    project in it (before ``::``; empty for the archive's root). ``fs_args`` of the archive's own
    protocol go under its name (``{"ssh": {"password": ...}}``), as in fsspec's chained URLs."""
    from copick.remote.opening import open_filesystem, protocol_of

    head, inner = url.split("::", 1)
    prefix = head[len("zip://") :].strip("/")
    inner_protocol = protocol_of(inner)
    inner_args = fs_args.get(inner_protocol) or {}
    if inner_protocol in ("file", "local"):
        fo: Any = open(inner.split("://", 1)[-1], "rb")  # noqa: SIM115 - the zip filesystem owns it
    else:
        fs, path, _ = open_filesystem(inner, inner_args)
        fo = io.BufferedReader(RangeFile(fs, path, fs.size(path)), BUFFER_BYTES)
    return _zip_class()(fo=fo, mode="r", skip_instance_cache=True), "/" + prefix
