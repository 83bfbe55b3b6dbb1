"""Leftovers of killed writers, for ``copick check``: which hidden names a writer makes, and whether
the writer that made one is gone.

Writers make (see ``copick.storage_local``, ``copick.storage`` and ``copick.staging``):

* temporary files ``.<name>.<random>.tmp`` beside the file being written (also the old style
  ``.<name>.<uuid8>.tmp``), renamed or linked into place when complete; on remote layers
  ``.<name>.<owner>.tmp``;
* staging folders ``.<name>.<owner>.tmp`` (and ``.tmp.old``) of image rewrites and copies
  (``copick.staging``), ``owner`` being ``<host hash>-<pid>-<unix time>-<random>``;
* on object stores, lock objects ``.<name>.lock`` holding the owner.

A staging folder, lock or temporary file named with an owner id is dead when
``copick.writers.writer_alive`` says so (this host: its process is gone). Another temporary file is
dead on a local disk when no process has it open (``/proc``); where that cannot be told for every
process, or on other filesystems, when it was last modified long ago. Live ones are reported as
writes in progress and never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from typing import Any

from copick import layout, staging
from copick.writers import OWNER, writer_alive

# A temporary file whose writer cannot be identified counts as dead after this long.
GRACE_SECONDS = 600
REMOTE_STALE_SECONDS = 3600

_TEMP = re.compile(r"\.(?P<stem>.+)\.(?P<token>[A-Za-z0-9_-]+)\.tmp(?:\.old)?")
_LOCK = re.compile(r"\.(?P<stem>.+)\.lock")


def _age(layer: Any, rel: str) -> float | None:
    """Seconds since ``rel`` was last modified, None when unknown."""
    try:
        if layer.is_local:
            return time.time() - os.stat(layer.path(rel)).st_mtime
        info = layer.fs.info(layer.path(rel))
    except OSError:
        return None
    stamp = info.get("LastModified") or info.get("mtime") or info.get("created")
    if stamp is None:
        return None
    seconds = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)
    return time.time() - seconds


class Leftovers:
    """Tells leftovers of dead writers from live writes (the ``/proc`` scan is made once, lazily)."""

    def __init__(self) -> None:
        self._open: set[str] | None = None
        self._complete = False
        self._lock = threading.Lock()

    def _open_files(self) -> tuple[set[str], bool]:
        """Paths every process on this host has open, and whether every process could be seen."""
        with self._lock:
            if self._open is None:
                found: set[str] = set()
                complete = os.path.isdir("/proc/self/fd")
                for pid in os.listdir("/proc") if complete else ():
                    if not pid.isdigit():
                        continue
                    try:
                        fds = os.listdir(f"/proc/{pid}/fd")
                    except PermissionError:
                        complete = False
                        continue
                    except OSError:
                        continue  # ended meanwhile
                    for fd in fds:
                        with contextlib.suppress(OSError):
                            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
                self._open, self._complete = found, complete
            return self._open, self._complete

    def temp_file_alive(self, layer: Any, rel: str) -> bool:
        age = _age(layer, rel)
        if not layer.is_local:
            return age is None or age < REMOTE_STALE_SECONDS
        open_files, complete = self._open_files()
        if os.path.realpath(layer.path(rel)) in open_files:
            return True
        return not complete and (age is None or age < GRACE_SECONDS)

    def check(self, ctx: Any, layer: Any, rel: str, is_dir: bool, read_only: bool, run: str | None) -> list:
        """A finding for hidden entry ``rel`` if it is a writer's leftover (``[]`` for other names)."""
        parent, _, name = rel.rpartition("/")
        temp, lock = _TEMP.fullmatch(name), _LOCK.fullmatch(name)
        if temp is not None and is_dir:
            owner = temp["token"]
            alive = writer_alive(owner) if OWNER.fullmatch(owner) else self._young(layer, rel)
            what = f"staging folder of an image rewrite (writer {owner})"
            image = layout.join(parent, temp["stem"])
            can_tidy = len(temp["stem"]) < layout.TEMP_STEM  # a cut stem names no image for sure
            repair = ("tidy", layer, (image, rel)) if can_tidy else ("delete", layer, rel)
        elif temp is not None:
            owner = temp["token"]
            alive = writer_alive(owner) if OWNER.fullmatch(owner) else self.temp_file_alive(layer, rel)
            what = "temporary file of a write"
            repair = ("delete", layer, rel)
        elif lock is not None and not is_dir and not layer.is_local:
            try:
                holder = staging.lock_holder(layer, rel)
            except OSError:
                return []
            if holder is None:
                return []  # released meanwhile
            alive = bool(holder) and writer_alive(holder)
            what = f"write lock of an image (writer {holder})"
            repair = ("delete", layer, rel)
        else:
            return []
        if alive:
            return [
                ctx.finding(
                    "info",
                    "write-in-progress",
                    layer,
                    rel,
                    f"{what} still being written",
                    "nothing to do: run copick check again when the write has finished",
                    run=run,
                )
            ]
        action = (
            "the static layer is read-only here: remove it where the static data is written"
            if read_only
            else "copick check --fix removes it (the data it belonged to is unaffected)"
        )
        return [
            ctx.finding(
                "warning",
                "leftover",
                layer,
                rel,
                f"{what} left behind by a writer that was killed",
                action,
                run=run,
                repair=None if read_only else repair,
            )
        ]

    @staticmethod
    def _young(layer: Any, rel: str) -> bool:
        age = _age(layer, rel)
        return age is None or age < GRACE_SECONDS
