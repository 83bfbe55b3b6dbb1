"""Who made a hidden file: the owner id of one write, and whether that writer may still be running.

An owner id ``<host hash>-<pid>-<unix time>-<random>`` goes into the names of everything a writer
leaves beside the data while it works: staging folders of image rewrites and their lock objects
(``copick.staging``), temporary files of remote writes (``copick.storage``). A later writer or
``copick check`` tells a killed writer's leftovers from a live writer's work by it: a writer on this
host is dead when its process is gone; one on another host when its id is older than
``STALE_AFTER_SECONDS`` (no write takes that long).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
import time
import uuid

# A writer on another host whose owner id is older than this is taken for dead.
STALE_AFTER_SECONDS = 24 * 3600

OWNER = re.compile(r"(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-(?P<time>\d+)-[0-9a-f]+")


@functools.cache
def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def owner_id() -> str:
    """``<host hash>-<pid>-<unix time>-<random>`` of one write."""
    return f"{_host()}-{os.getpid()}-{int(time.time())}-{uuid.uuid4().hex[:6]}"


def writer_alive(owner: str) -> bool:
    """Is the writer named by ``owner`` possibly still running? (Unparseable: treated as alive.)"""
    m = OWNER.fullmatch(owner)
    if m is None:
        return True
    if time.time() - int(m["time"]) > STALE_AFTER_SECONDS:
        return False
    if m["host"] != _host():
        return True
    try:
        os.kill(int(m["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
