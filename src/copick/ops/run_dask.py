"""``map_runs(..., parallelism="dask")``: one task per run on a ``dask.distributed`` cluster.

Imported only when that mode is asked for; needs ``dask[distributed]`` (``pip install "copick[dask]"``).

The cluster is, in this order: the ``Client`` passed in (left open), a scheduler address (a client is
connected for the call and closed), the current default ``Client`` of the process, the scheduler named
by dask's ``scheduler-address`` setting (``DASK_SCHEDULER_ADDRESS``), or else a ``LocalCluster`` made for
the call on this machine (processes, closed at the end; on Ctrl-C its worker processes are killed at
once, see ``stop_now``).

What a task carries is small and picklable: the run's name (or the item) and keyword arguments, and a
reference to one shared task holding the work (by reference, or by value through cloudpickle) and a
``copick.ops.project_handle.ProjectHandle`` (the root's class and config, never its caches or
connections), which reaches each worker once. Each worker process reopens the project once per call,
from the config (``type(root)(config)``), so remote layers (S3, SFTP ...) connect from the worker with
the config's own options. A task re-run by the scheduler (its worker died) looks the run up again; the
callback should write its results whole (copick's writes replace whole files), so a re-run leaves no
duplicate.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from copick.ops.project_handle import ProjectHandle

__all__ = ["connect", "map_tasks_dask", "run_task", "share", "stop_now"]

_log = logging.getLogger("copick.ops.run")

_INSTALL_HINT = 'map_runs(parallelism="dask") needs dask.distributed: pip install "copick[dask]"'


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - the extra is installed in the test environments
        raise ImportError(_INSTALL_HINT) from err
    return distributed


def share(task: Callable, handle: ProjectHandle) -> tuple[Callable, ProjectHandle]:
    """The Dask task whose result every item's task takes: the work and the project, sent to each
    worker once (not once per item), and recomputed by the scheduler if the worker holding it dies."""
    return task, handle


def run_task(item: Any, kwargs: dict[str, Any], *, shared: tuple[Callable, ProjectHandle]) -> Any:
    """The Dask task of one item (a run, an import ...), on a worker: ``task(root, item, kwargs)``
    with the worker's root (``copick.ops.run.run_tasks``)."""
    task, handle = shared
    return task(handle.root, item, kwargs)


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
    with _quiet_cluster_logs():
        cluster = distributed.LocalCluster(
            n_workers=processes,
            threads_per_worker=threads,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # loopback, a free port
            silence_logs=logging.CRITICAL,  # the workers' "Compute Failed": copick reports the run's error
        )
        local = None
        try:
            local = distributed.Client(cluster, set_as_default=False)
            yield local
        except BaseException:  # Ctrl-C, or the call failed: its tasks are of no use any more
            stop_now(cluster, local)
            raise
        local.close()
        cluster.close()


def stop_now(cluster: Any, client: Any = None) -> None:
    """Stop a ``LocalCluster`` made for a call without waiting for the tasks its workers are running
    (a graceful close waits for them, for minutes on a loaded machine): each nanny is told not to
    restart its worker, the worker processes are killed, then client and cluster are closed with
    short timeouts. Never raises."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        with contextlib.suppress(Exception):
            pid = nanny.pid
            nanny.close_gracefully(reason="copick: the call was interrupted")
            if pid:
                os.kill(pid, signal.SIGKILL)
    if client is not None:
        with contextlib.suppress(BaseException):
            client.close(timeout=2)
    with contextlib.suppress(BaseException):
        cluster.close(timeout=5)


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


def map_tasks_dask(
    task: Callable[[Any, Any, dict[str, Any]], Any],
    root: Any,
    items: Sequence[Any],
    per_item: Sequence[dict[str, Any]],
    out: list[tuple[bool, Any]],
    advance: Callable[[int], None],
    on_error: Callable[[int, BaseException], None],
    workers: int = 1,
    client: Any = None,
) -> list[tuple[bool, Any]]:
    """Submit one Dask task per item (``task(root, item, kwargs)`` on a worker), fill ``out`` (by
    position) with ``(True, result)`` as they complete; a failed item (the task raised, or its worker
    died more often than the scheduler allows) is reported through ``on_error(i, exception)`` and
    keeps ``(False, None)``. Ctrl-C cancels the tasks and stops a cluster made for the call at once."""
    distributed = _distributed()
    handle = ProjectHandle(root)
    handle.payload  # noqa: B018 - a project that cannot travel is refused before anything is sent
    with connect(client, workers, len(items)) as dask_client:
        shared = dask_client.submit(share, task, handle, pure=False)
        futures = dask_client.map(run_task, list(items), list(per_item), shared=shared, pure=False)
        position = {future.key: i for i, future in enumerate(futures)}
        try:
            for future, value in distributed.as_completed(
                futures, loop=dask_client.loop, with_results=True, raise_errors=False
            ):
                i = position[future.key]
                if future.status in ("error", "cancelled"):
                    on_error(i, _task_error(future, value))
                else:
                    out[i] = (True, value)
                future.release()
                advance(1)
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or anything else: stop the cluster's work
            with contextlib.suppress(Exception):
                dask_client.cancel([*futures, shared], force=True)
            raise
        shared.release()
    return out
