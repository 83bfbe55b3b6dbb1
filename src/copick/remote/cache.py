"""An opt-in on-disk cache of the files of remote layers (volume chunks, image metadata, picks,
meshes), shared by every process of the user, bounded in size: its settings and its entry files.

Turn it on per layer with ``"copick_cache": {"dir": ..., "max_size": "20GB", "ttl": 0}`` (or
``true`` for the defaults) in the config's ``overlay_fs_args`` / ``static_fs_args``, or for every
remote layer with ``COPICK_REMOTE_CACHE=<dir>`` (``1``: the default folder),
``COPICK_REMOTE_CACHE_SIZE`` and ``COPICK_REMOTE_CACHE_TTL``.

Entries are whole files written to a temporary name and renamed into place, so processes sharing
the folder never read a partial entry; a hit refreshes the entry's time, and the least recently
used entries are deleted when the folder outgrows ``max_size``. When an entry is served, kept or
dropped is the job of the filesystem wrapper in ``copick.remote.cached_fs``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

ENV_DIR = "COPICK_REMOTE_CACHE"
ENV_SIZE = "COPICK_REMOTE_CACHE_SIZE"
ENV_TTL = "COPICK_REMOTE_CACHE_TTL"
FS_ARGS_KEY = "copick_cache"

DEFAULT_MAX_BYTES = 10 * 2**30
_HEADER = 8  # bytes of the header length that starts every entry file
_UNITS = {
    "": 1,
    "B": 1,
    "K": 2**10,
    "KB": 2**10,
    "M": 2**20,
    "MB": 2**20,
    "G": 2**30,
    "GB": 2**30,
    "T": 2**40,
}


@dataclass(frozen=True)
class CacheSettings:
    dir: str
    max_bytes: int = DEFAULT_MAX_BYTES
    ttl: float = 0.0


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "copick", "remote")


def parse_size(value: Any) -> int:
    """``20GB``, ``512 MiB``, ``1e9`` or an int -> bytes."""
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(value))
    unit = m[2].upper().replace("IB", "B") if m else ""
    if m is None or unit not in _UNITS:
        raise ValueError(f"not a size: {value!r} (examples: 500MB, 20GB)")
    return int(float(m[1]) * _UNITS[unit])


def settings_from(fs_args: dict[str, Any]) -> CacheSettings | None:
    """The cache settings of a layer: its ``copick_cache`` fs arg, else the environment; ``None``
    when the cache is off (the default)."""
    option = fs_args.get(FS_ARGS_KEY)
    env_dir = os.environ.get(ENV_DIR, "").strip()
    if option is False or (option is None and env_dir in ("", "0", "false", "no")):
        return None
    option = option if isinstance(option, dict) else {}
    folder = option.get("dir") or (env_dir if env_dir not in ("1", "true", "yes") else "") or default_dir()
    size = option.get("max_size", os.environ.get(ENV_SIZE) or DEFAULT_MAX_BYTES)
    ttl = float(option.get("ttl", os.environ.get(ENV_TTL) or 0.0))
    return CacheSettings(os.path.abspath(os.path.expanduser(folder)), parse_size(size), ttl)


class CacheStore:
    """The entry files of one cache folder (shared by processes; every write atomic)."""

    def __init__(self, settings: CacheSettings):
        self.settings = settings
        self.dir = settings.dir
        self._added = 0
        self._lock = threading.Lock()

    def _file(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return os.path.join(self.dir, digest[:2], digest)

    def get(self, key: str) -> tuple[dict[str, Any], bytes] | None:
        try:
            with open(self._file(key), "rb") as f:
                blob = f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            length = int.from_bytes(blob[:_HEADER], "big")
            header = json.loads(blob[_HEADER : _HEADER + length])
        except ValueError:
            return None
        if header.get("key") != key:
            return None
        return header, blob[_HEADER + length :]

    def touch(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self._file(key))

    def put(self, key: str, check: tuple[Any, ...], data: bytes) -> None:
        if len(data) > self.settings.max_bytes // 4:
            return
        path = self._file(key)
        header = json.dumps({"key": key, "check": list(check), "fetched": time.time()}).encode()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(len(header).to_bytes(_HEADER, "big") + header + data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        with self._lock:
            self._added += len(data)
            due = self._added > self.settings.max_bytes // 20
            if due:
                self._added = 0
        if due:
            self.evict()

    def drop(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.remove(self._file(key))

    def evict(self) -> int:
        """Delete the least recently used entries until the folder holds at most ``max_bytes``
        (90 % of it, so eviction does not run on every write); the bytes deleted."""
        entries = list(entry_files(self.dir))
        total = sum(size for _, size, _ in entries)
        limit = self.settings.max_bytes
        if total <= limit:
            return 0
        freed = 0
        for path, size, _ in sorted(entries, key=lambda e: e[2]):
            if total - freed <= 0.9 * limit:
                break
            with contextlib.suppress(OSError):
                os.remove(path)
                freed += size
        return freed


def entry_files(folder: str) -> Any:
    """``(path, size, last use)`` of every entry of a cache folder."""
    try:
        subdirs = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for sub in subdirs:
        if not sub.is_dir():
            continue
        with contextlib.suppress(OSError), os.scandir(sub.path) as it:
            for entry in it:
                if not entry.name.startswith("."):
                    with contextlib.suppress(OSError):
                        st = entry.stat()
                        yield entry.path, st.st_size, st.st_mtime


def summary(folder: str) -> dict[str, Any]:
    files = list(entry_files(folder))
    return {"dir": folder, "entries": len(files), "bytes": sum(size for _, size, _ in files)}


def clear(folder: str) -> int:
    """Delete every entry of a cache folder; how many."""
    n = 0
    for path, _, _ in list(entry_files(folder)):
        with contextlib.suppress(OSError):
            os.remove(path)
            n += 1
    return n
