"""A project as it travels to other processes (process pools, Dask workers): its class and config,
reopened there once per process and call, never its caches or connections.

``ProjectHandle(root)`` pickles to a few kB (``("config", cls, config)`` when ``cls(config)`` opens the
project, else the root itself without its listings); on the machine that made it, ``handle.root`` is
the original object. Where it is unpickled, the first ``handle.root`` opens the project and the
process keeps it (the last few handles' projects) for the tasks that follow, so remote layers (S3,
SFTP ...) connect from the worker with the config's own options, once.
"""

from __future__ import annotations

import inspect
import pickle
import threading
import uuid
from collections import OrderedDict
from typing import Any

__all__ = ["ProjectHandle"]

# Roots reopened in this (worker) process, by the token of the handle (one per call) that brought them.
_ROOTS: OrderedDict[str, Any] = OrderedDict()
_ROOTS_LOCK = threading.Lock()
_ROOTS_KEPT = 4


def _opens_from_config(cls: type) -> bool:
    """Whether ``cls(config)`` is a complete way to open a root of this class (one required argument)."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(required) == 1


def _root_payload(root: Any) -> bytes:
    """Pickled ``("config", cls, config)`` when the root reopens from its config, else the root itself
    without its listings (``("root", root)``); a clear ``TypeError`` when neither pickles."""
    config = getattr(root, "config", None)
    cls = type(root)
    if config is not None and _opens_from_config(cls):
        try:
            return pickle.dumps(("config", cls, config))
        except (TypeError, AttributeError, pickle.PicklingError) as err:
            raise TypeError(f"The project's config cannot be sent to other processes: {err}") from err
    import copy

    lean = copy.copy(root)
    for cache in ("_runs", "_objects"):
        if cache in vars(lean):
            setattr(lean, cache, None)
    try:
        return pickle.dumps(("root", lean))
    except (TypeError, AttributeError, pickle.PicklingError) as err:
        raise TypeError(
            f"The project root ({cls.__name__}) cannot be sent to other processes: it neither opens from "
            f"its config alone nor pickles ({err})."
        ) from err


def _reopen(token: str, payload: bytes) -> Any:
    """The root of ``payload``, opened once per process and handle (``token``)."""
    with _ROOTS_LOCK:
        root = _ROOTS.get(token)
        if root is not None:
            _ROOTS.move_to_end(token)
            return root
        kind, *rest = pickle.loads(payload)
        root = rest[0](rest[1]) if kind == "config" else rest[0]
        _ROOTS[token] = root
        while len(_ROOTS) > _ROOTS_KEPT:
            _ROOTS.popitem(last=False)
        return root


class ProjectHandle:
    """A project root as tasks carry it to other processes: its class and config (pickled the first
    time it is sent, a few kB), reopened once per receiving process. On the machine that made it,
    ``root`` is the original object (nothing is pickled while it stays there)."""

    def __init__(self, root: Any):
        self.token = uuid.uuid4().hex
        self._payload: bytes | None = None
        self._root = root

    @property
    def payload(self) -> bytes:
        """The pickled project (a ``TypeError`` when it cannot travel)."""
        if self._payload is None:
            self._payload = _root_payload(self._root)
        return self._payload

    def __getstate__(self) -> dict[str, Any]:
        return {"token": self.token, "payload": self.payload}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.token = state["token"]
        self._payload = state["payload"]
        self._root = None

    @property
    def root(self) -> Any:
        if self._root is None:
            self._root = _reopen(self.token, self.payload)
        return self._root
