"""``map_runs(..., parallelism="dask")``: one task per run on a ``dask.distributed`` cluster.

Imported only when that mode is asked for; needs ``dask[distributed]`` (``pip install "copick[dask]"``).

The cluster is, in this order: the ``Client`` passed in (left open), a scheduler address (a client is
connected for the call and closed), the current default ``Client`` of the process, the scheduler named
by dask's ``scheduler-address`` setting (``DASK_SCHEDULER_ADDRESS``), or else a ``LocalCluster`` made for
the call on this machine (processes, closed at the end).

What a task carries is small and picklable: the run's name and keyword arguments, and a reference
to one shared task holding the callback (by reference, or by value through cloudpickle) and a
``ProjectHandle`` (the root's class and config, never its caches or connections), which reaches each
worker once. Each worker process reopens the project once per
``map_runs`` call, from the config (``type(root)(config)``), so remote layers (S3, SFTP ...) connect from
the worker with the config's own options. A task re-run by the scheduler (its worker died) looks the
run up again; the callback should write its results whole (copick's writes replace whole files), so a
re-run leaves no duplicate.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import pickle
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["ProjectHandle", "connect", "map_runs_dask", "run_task", "share"]

_log = logging.getLogger("copick.ops.run")

_INSTALL_HINT = 'map_runs(parallelism="dask") needs dask.distributed: pip install "copick[dask]"'

# Roots reopened in this (worker) process, by the token of the map_runs call that shipped them.
_ROOTS: OrderedDict[str, Any] = OrderedDict()
_ROOTS_LOCK = threading.Lock()
_ROOTS_KEPT = 4


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - the extra is installed in the test environments
        raise ImportError(_INSTALL_HINT) from err
    return distributed


# --------------------------------------------------------------------------------------------------------
# The project as shipped to workers
# --------------------------------------------------------------------------------------------------------


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
            raise TypeError(f"The project's config cannot be sent to dask workers: {err}") from err
    import copy

    lean = copy.copy(root)
    for cache in ("_runs", "_objects"):
        if cache in vars(lean):
            setattr(lean, cache, None)
    try:
        return pickle.dumps(("root", lean))
    except (TypeError, AttributeError, pickle.PicklingError) as err:
        raise TypeError(
            f"The project root ({cls.__name__}) cannot be sent to dask workers: it neither opens from "
            f"its config alone nor pickles ({err})."
        ) from err


def _reopen(token: str, payload: bytes) -> Any:
    """The root of ``payload``, opened once per process and ``map_runs`` call (``token``)."""
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
    """A project root as dask tasks carry it: its class and config (pickled once, a few kB), reopened
    once per worker process. On the machine that made it, ``root`` is the original object."""

    def __init__(self, root: Any):
        self.token = uuid.uuid4().hex
        self.payload = _root_payload(root)
        self._root = root

    def __getstate__(self) -> dict[str, Any]:
        return {"token": self.token, "payload": self.payload}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.token = state["token"]
        self.payload = state["payload"]
        self._root = None

    @property
    def root(self) -> Any:
        if self._root is None:
            self._root = _reopen(self.token, self.payload)
        return self._root


def share(callback: Callable, handle: ProjectHandle) -> tuple[Callable, ProjectHandle]:
    """The task whose result every run's task takes: the callback and the project, sent to each worker
    once (not once per run), and recomputed by the scheduler if the worker holding it dies."""
    return callback, handle


def run_task(item: Any, kwargs: dict[str, Any], *, shared: tuple[Callable, ProjectHandle]) -> Any:
    """The task of one run, on a worker: resolve the run with the worker's root and call back."""
    from copick.ops.run import _call

    callback, handle = shared
    return _call(callback, handle.root, item, kwargs)


# --------------------------------------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------------------------------------


def _local_cluster_shape(workers: int, n_tasks: int) -> tuple[int, int]:
    """``(processes, threads per process)`` of an on-demand LocalCluster: ``workers`` tasks at once
    (at most one per run), in at most one process per CPU."""
    concurrency = max(1, min(workers, n_tasks))
    processes = max(1, min(concurrency, os.cpu_count() or 1))
    threads = -(-concurrency // processes)
    return processes, threads


@contextlib.contextmanager
def _quiet_cluster_logs() -> Iterator[None]:
    """The scheduler of a LocalCluster runs in this process and logs every start and stop of its
    workers at INFO level: keep warnings and errors only (unless copick logs at DEBUG level)."""
    logger = logging.getLogger("distributed")
    saved = logger.level
    if not _log.isEnabledFor(logging.DEBUG):
        logger.setLevel(max(saved, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(saved)


@contextlib.contextmanager
def connect(client: Any = None, workers: int = 1, n_tasks: int = 1) -> Iterator[Any]:
    """Yield a ``distributed.Client`` for ``client`` (a Client, an address, or ``None``), closing
    whatever was opened here on exit."""
    distributed = _distributed()
    if isinstance(client, distributed.Client):
        yield client
        return
    if client is None:
        try:
            current = distributed.client.default_client()
        except ValueError:  # no client in this process
            current = None
        if current is not None:
            yield current
            return
        import dask.config

        client = dask.config.get("scheduler-address", None) or None
    if client is not None:
        if not isinstance(client, str):
            raise TypeError(
                f"client must be a Client, a scheduler address or None, not {type(client).__name__}"
            )
        with distributed.Client(client, set_as_default=False) as connected:
            yield connected
        return
    processes, threads = _local_cluster_shape(workers, n_tasks)
    _log.debug(f"Starting a dask LocalCluster: {processes} processes x {threads} threads")
    with (
        _quiet_cluster_logs(),
        distributed.LocalCluster(
            n_workers=processes,
            threads_per_worker=threads,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # loopback, a free port
            silence_logs=logging.CRITICAL,  # the workers' "Compute Failed": copick reports the run's error
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as local,
    ):
        yield local


# --------------------------------------------------------------------------------------------------------
# map_runs on the cluster
# --------------------------------------------------------------------------------------------------------


def _task_error(future: Any, value: Any) -> BaseException:
    """The exception of a failed task (the callback's own, or ``KilledWorker``/``CancelledError``)."""
    if isinstance(value, BaseException):
        return value
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value[1].with_traceback(value[2])  # (type, exception, traceback)
    try:
        err = future.exception()
    except BaseException as exc:  # a cancelled future raises its CancelledError here
        return exc
    return err if err is not None else RuntimeError(f"task {future.key} failed: {value!r}")


def map_runs_dask(
    callback: Callable[..., Any],
    root: Any,
    names: Sequence[str],
    items: Sequence[Any],
    per_run: Sequence[dict[str, Any]],
    results: dict[str, Any],
    advance: Callable[[int], None],
    on_error: Callable[[str, BaseException], None],
    workers: int = 1,
    client: Any = None,
) -> dict[str, Any]:
    """Submit one task per run, fill ``results`` (keyed by run name, pre-ordered by the caller) as they
    complete; a failed run (the callback raised, or its worker died more often than the scheduler
    allows) is reported through ``on_error`` and keeps ``None``. Ctrl-C cancels the tasks."""
    distributed = _distributed()
    handle = ProjectHandle(root)
    with connect(client, workers, len(names)) as dask_client:
        shared = dask_client.submit(share, callback, handle, pure=False)
        futures = dask_client.map(run_task, list(items), list(per_run), shared=shared, pure=False)
        owner = {future.key: name for future, name in zip(futures, names)}
        try:
            for future, value in distributed.as_completed(
                futures, loop=dask_client.loop, with_results=True, raise_errors=False
            ):
                name = owner[future.key]
                if future.status in ("error", "cancelled"):
                    on_error(name, _task_error(future, value))
                else:
                    results[name] = value
                future.release()
                advance(1)
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or anything else: stop the cluster's work
            with contextlib.suppress(Exception):
                dask_client.cancel([*futures, shared], force=True)
            raise
        shared.release()
    return results
