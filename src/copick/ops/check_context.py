"""What every run check of ``copick check`` shares (``Context``), in the checking process and in the
worker processes or Dask workers that check runs for it.

A check call registers its context under a token (``shared_context``); the per-run work
(``copick.ops.check.check_run_task``) gets the token and, in the caller's process, finds that context,
elsewhere makes one from its own root, once per process and call (``context_for``). Findings are plain
data: a repair names its layer by position (``Context.layers``), not by the layer object, so findings
come back from other processes whole and ``check_fix`` applies them to the caller's layers.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from copick.entities.base import storage_of
from copick.ops.check import Finding
from copick.ops.check_leftovers import Leftovers

__all__ = ["Context", "context_for", "shared_context"]

# Contexts of the check calls of this process, by token (the caller's while it runs; a worker's few last).
_CONTEXTS: OrderedDict[str, Context] = OrderedDict()
_CONTEXTS_LOCK = threading.Lock()
_CONTEXTS_KEPT = 4


@dataclass
class Context:
    """What every run check needs: the layers, the config's objects and the shared helpers."""

    root: Any
    layers: list[tuple[Any, bool]]
    objects: dict[str, Any]
    labels: set[int]
    ome_validator: Any
    leftovers: Leftovers = field(default_factory=Leftovers)

    @classmethod
    def of(cls, root: Any) -> Context:
        from copick.ops.check_volumes import ome_validator

        storage = storage_of(root)
        objects = {o.name: o for o in root.config.pickable_objects}
        labels = {o.label for o in objects.values() if o.label is not None}
        return cls(root, list(storage.layers()), objects, labels, ome_validator())

    def finding(
        self,
        severity: str,
        code: str,
        layer: Any,
        rel: str,
        message: str,
        action: str,
        repair: tuple[str, Any, Any] | None = None,
        **kw: Any,
    ) -> Finding:
        """A finding at ``rel`` of ``layer``; its ``repair`` ``(how, layer, what)`` is kept as ``(how,
        position of the layer in layers, what)``."""
        if repair is not None:
            how, at, what = repair
            repair = (how, next(i for i, (known, _) in enumerate(self.layers) if known is at), what)
        return Finding(severity, code, layer.located(rel), message, action, repair=repair, **kw)


@contextlib.contextmanager
def shared_context(root: Any) -> Iterator[tuple[Context, str]]:
    """``(context, token)`` of a check call of ``root``: the context is what ``context_for(root,
    token)`` returns in this process until the call ends."""
    context, token = Context.of(root), uuid.uuid4().hex
    with _CONTEXTS_LOCK:
        _CONTEXTS[token] = context
    try:
        yield context, token
    finally:
        with _CONTEXTS_LOCK:
            _CONTEXTS.pop(token, None)


def context_for(root: Any, token: str) -> Context:
    """The context of check call ``token``: the caller's, or one made from ``root`` (this process's
    copy of the project) once per process and call."""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(token)
        if context is None or context.root is not root:  # a forked worker inherits the caller's
            context = _CONTEXTS[token] = Context.of(root)
            while len(_CONTEXTS) > _CONTEXTS_KEPT:
                _CONTEXTS.popitem(last=False)
        return context
