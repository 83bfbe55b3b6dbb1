"""Places for project folders on the remote servers of ``servers.py`` (and on a local disk), and the
``backend`` of ``tests/test_backends.py`` built from them.

A ``Place`` hands out fresh folders on one kind of layer (``new``) and publishes a local folder's
content there (``publish``: how a read-only layer, HTTP or a zip archive, gets its content).
``Remotes`` makes the places by name; ``LayeredBackend`` routes a test's ``static`` folders to one
place and every other folder to another.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import servers


class Place:
    """Where project folders go for one kind of remote layer.

    ``new(label)`` -> ``(local_dir, (url, fs_args))``: a fresh empty folder and how copick reaches
    it (for read-only kinds the URL serves it but cannot write it). ``publish(local_dir)`` -> ``(url,
    fs_args)``: the current content of a local folder, served by this kind (a zip archive is made
    now; later changes to the folder do not show).
    """

    read_only = False

    def __init__(self, name: str, scratch: Path):
        self.name = name
        self.scratch = scratch

    def new(self, label: str) -> tuple[Path, tuple[str, dict[str, Any]]]:
        raise NotImplementedError

    def publish(self, local_dir: Path) -> tuple[str, dict[str, Any]]:
        target, location = self.new("published")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(local_dir, target)
        return location


def _unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


class LocalPlace(Place):
    def new(self, label: str) -> tuple[Path, tuple[str, dict[str, Any]]]:
        path = self.scratch / _unique(label)
        return path, ("local://" + str(path), {"auto_mkdir": True})

    def publish(self, local_dir: Path) -> tuple[str, dict[str, Any]]:
        return "local://" + str(local_dir), {"auto_mkdir": True}


class SFTPPlace(Place):
    def __init__(self, name: str, scratch: Path, server: servers.SFTPServer, auth: str = "password"):
        super().__init__(name, scratch)
        self.server, self.auth = server, auth

    def new(self, label: str) -> tuple[Path, tuple[str, dict[str, Any]]]:
        name = _unique(label)
        return self.server.root / name, (self.server.url(name), self.server.fs_args(self.auth))


class SMBPlace(Place):
    def __init__(self, name: str, scratch: Path, server: servers.SMBServer):
        super().__init__(name, scratch)
        self.server = server

    def new(self, label: str) -> tuple[Path, tuple[str, dict[str, Any]]]:
        name = _unique(label)
        return self.server.share / name, (self.server.url(name), self.server.fs_args())


class HTTPPlace(Place):
    read_only = True

    def __init__(self, name: str, scratch: Path, server: servers.HTTPServer):
        super().__init__(name, scratch)
        self.server = server

    def new(self, label: str) -> tuple[Path, tuple[str, dict[str, Any]]]:
        name = _unique(label)
        return self.server.root / name, (self.server.url(name), {})

    def publish(self, local_dir: Path) -> tuple[str, dict[str, Any]]:
        if self.server.root in Path(local_dir).parents:
            return self.server.url(Path(local_dir).relative_to(self.server.root).as_posix()), {}
        return super().publish(local_dir)


class ZipPlace(Place):
    """Projects inside zip archives; the archive itself on a local disk, HTTP, SFTP or SMB."""

    read_only = True

    def __init__(self, name: str, scratch: Path, carrier: Place, prefix: str = "project"):
        super().__init__(name, scratch)
        self.carrier, self.prefix = carrier, prefix

    def new(self, label: str) -> tuple[Path, tuple[str, dict[str, Any]]]:
        path = self.scratch / _unique(label)  # filled locally, zipped when published
        return path, self.publish(path)

    def publish(self, local_dir: Path) -> tuple[str, dict[str, Any]]:
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        archive_dir, (url, fs_args) = self.carrier.new("archive")
        archive_dir.mkdir(parents=True, exist_ok=True)
        servers.zip_folder(Path(local_dir), archive_dir / "project.zip", self.prefix)
        inner = f"{url.rstrip('/')}/project.zip"
        if isinstance(self.carrier, LocalPlace):
            inner, fs_args = "file://" + str(archive_dir / "project.zip"), {}
        protocol = inner.split("://", 1)[0]
        args = {protocol: fs_args} if fs_args else {}
        return f"zip://{self.prefix}::{inner}", args


class Remotes:
    """The kinds of places, by name, created on first use (servers start only when needed)."""

    KINDS = ("local", "sftp", "sftp-key", "smb", "http", "zip", "zip-root", "zip+http", "zip+sftp", "zip+smb")

    def __init__(self, fixture: Callable[[str], Any], scratch: Path):
        self._fixture = fixture
        self.scratch = scratch
        self._made: dict[str, Place] = {}

    def __getitem__(self, name: str) -> Place:
        if name not in self._made:
            self._made[name] = self._make(name)
        return self._made[name]

    def _make(self, name: str) -> Place:
        get = self._fixture
        if name == "local":
            return LocalPlace(name, self.scratch)
        if name in ("sftp", "sftp-key"):
            auth = "key" if name == "sftp-key" else "password"
            return SFTPPlace(name, self.scratch, get("sftp_server"), auth)
        if name == "smb":
            return SMBPlace(name, self.scratch, get("smb_server"))
        if name == "http":
            return HTTPPlace(name, self.scratch, get("http_server"))
        if name == "zip":
            return ZipPlace(name, self.scratch, self["local"])
        if name == "zip-root":
            return ZipPlace(name, self.scratch, self["local"], prefix="")
        if name == "zip+http":
            return ZipPlace(name, self.scratch, self["http"])
        if name == "zip+sftp":
            return ZipPlace(name, self.scratch, self["sftp"])
        if name == "zip+smb":
            return ZipPlace(name, self.scratch, self["smb"])
        raise KeyError(name)


class LayeredBackend:
    """The ``backend`` of ``tests/test_backends.py`` over remote places: folders labelled ``static``
    go to ``static_place``, every other folder to ``overlay_place``. A read-only static place gets
    its folder written locally and published when a config names it as ``static`` (see the
    ``write_project_config`` fixture of the modules using this)."""

    def __init__(self, name: str, static_place: Place, overlay_place: Place, scratch: Path):
        self.name = name
        self.static_place, self.overlay_place = static_place, overlay_place
        self.scratch = scratch
        self.fs_args: dict[str, Any] = {}
        self._local: dict[str, Path] = {}  # url -> the folder on disk (server side) holding it

    def new_location(self, label: str = "project") -> tuple[str, dict[str, Any]]:
        place = self.static_place if label == "static" else self.overlay_place
        if place.read_only:  # written locally first, published later
            path = self.scratch / _unique(label)
            location = ("local://" + str(path), {"auto_mkdir": True})
        else:
            path, location = place.new(label)
        self._local[location[0]] = path
        return location[0], dict(location[1])

    def published(self, location: tuple[str, dict[str, Any]] | None) -> Any:
        """``location`` as a config should name it: read-only static places publish it now."""
        if location is None or not self.static_place.read_only or location[0] not in self._local:
            return location
        return self.static_place.publish(self._local[location[0]])

    def filesystem(self) -> Any:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()

    def path(self, url: str) -> str:
        return str(self._local[url])

    def close(self) -> None:
        for path in self._local.values():
            with contextlib.suppress(OSError):
                shutil.rmtree(path)


def layered_backend(remotes: Remotes, name: str) -> LayeredBackend:
    """``sftp`` (all on SFTP), ``sftp/local`` (static on SFTP, overlay local), ``http/sftp`` ..."""
    static, _, overlay = name.partition("/")
    return LayeredBackend(name, remotes[static], remotes[overlay or static], remotes.scratch / "layers")
