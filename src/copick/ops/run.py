"""Run a callback over many runs of a project, in threads, processes or on a Dask cluster, with one
progress bar.

``map_runs`` is the work-horse of the commands and of plugins; ``report_results`` logs a summary of
``{"processed": n, "errors": [...]}`` results. When a ``copick`` command is running, the failures it
reports are also remembered on the click context, so the command can exit non-zero (see
``copick.cli.common``) while ``report_results`` itself never raises.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from copick.ops.project_handle import ProjectHandle

__all__ = [
    "PARALLELISMS",
    "choose_executor",
    "map_runs",
    "note_failures",
    "progress",
    "report_results",
    "run_all",
    "run_tasks",
    "use_executor",
]

_log = logging.getLogger(__name__)

_FAILURES_KEY = "copick.failures"


# --------------------------------------------------------------------------------------------------------
# Progress bar and failure bookkeeping
# --------------------------------------------------------------------------------------------------------


def _progress_enabled(show: bool) -> bool:
    """Progress bars are drawn only when asked for and stderr is an interactive terminal."""
    if not show:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress(total: int, description: str, show: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)`` for a rich progress bar on stderr; a no-op when not a terminal."""
    if not _progress_enabled(show) or total <= 0:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def note_failures(count: int, first_error: str | None = None, total: int | None = None) -> None:
    """Remember ``count`` failed items on the running click command (if any) for its exit status."""
    if count <= 0 or "click" not in sys.modules:
        return
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    record = ctx.meta.setdefault(_FAILURES_KEY, {"count": 0, "total": 0, "first": None, "handled": False})
    record["count"] += count
    record["total"] += total if total is not None else count
    if record["first"] is None and first_error:
        record["first"] = first_error
    record["handled"] = False


# --------------------------------------------------------------------------------------------------------
# map_runs
# --------------------------------------------------------------------------------------------------------


def _run_name(run: Any) -> str:
    return run if isinstance(run, str) else run.name


def _shipped(run: Any) -> Any:
    """What another process receives for ``run``: a name stays a name, a run object becomes its name
    (looked up there with that process's root), anything else (such as a target run named before it
    exists) is sent as is, for the callback."""
    if isinstance(run, str):
        return run
    from copick.entities.run import CopickRun

    return run.name if isinstance(run, CopickRun) else run


def _call(callback: Callable, root: Any, run: Any, kwargs: dict[str, Any]) -> Any:
    """Resolve ``run`` (a name or a run) and call ``callback(run, **kwargs)``."""
    if isinstance(run, str):
        name = run
        run = root.get_run(name)
        if run is None:
            raise ValueError(f"Run {name!r} not found in the project.")
    return callback(run, **kwargs)


def _call_in_process(task: Callable, handle: ProjectHandle, item: Any, kwargs: dict[str, Any]) -> Any:
    """Worker-process entry point: ``task(root, item, kwargs)`` with the worker's own root."""
    return task(handle.root, item, kwargs)


def _log_run_error(name: str, err: BaseException) -> None:
    _log.error(f"Error processing run {name}: {type(err).__name__}: {err}")
    _log.debug(f"Traceback of the error in run {name}:", exc_info=(type(err), err, err.__traceback__))


# --------------------------------------------------------------------------------------------------------
# The executor of a copick command (--executor / --scheduler)
# --------------------------------------------------------------------------------------------------------

PARALLELISMS = ("thread", "process", "dask")
_EXECUTOR_KEY = "copick.executor"


def use_executor(executor: str | None, scheduler: str | None = None) -> None:
    """Record a command's ``--executor``/``--scheduler`` on its click context: the ``map_runs`` calls of
    that command that leave ``parallelism`` unset run there. A scheduler address implies ``dask``.
    At the end of the command, a choice that no ``map_runs`` call could honour is logged as a warning."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    if scheduler:
        if executor not in (None, "dask"):
            raise click.UsageError(
                f"--scheduler is a Dask scheduler: it does not go with --executor {executor}."
            )
        executor = "dask"
    if executor is None:
        return
    if executor not in PARALLELISMS:
        raise click.BadParameter(f"must be one of {', '.join(PARALLELISMS)}", param_hint="--executor")
    record = ctx.meta.setdefault(_EXECUTOR_KEY, {"executor": "thread", "scheduler": None, "used": False})
    record["executor"], record["scheduler"] = executor, scheduler or record["scheduler"]
    if executor != "thread" and not record.get("watching"):
        record["watching"] = True
        ctx.call_on_close(lambda: _warn_if_unused(record))


def _warn_if_unused(record: dict[str, Any]) -> None:
    if not record["used"] and record["executor"] != "thread":
        _log.warning(
            f"--executor {record['executor']} was not used: this command's work ran in threads "
            "(only work that can be sent to other processes runs there)."
        )


def choose_executor(*work: Any) -> tuple[str, Any]:
    """``(parallelism, scheduler)`` chosen by the running copick command for ``work`` (the callable
    and what goes with it): threads unless the command asked for processes or dask and ``work``
    pickles (module-level functions, ``functools.partial`` of them, plain data); closures and lambdas
    hold state of this process and stay here. Outside a command: threads."""
    if "click" not in sys.modules:
        return "thread", None
    import click

    ctx = click.get_current_context(silent=True)
    record = ctx.meta.get(_EXECUTOR_KEY) if ctx is not None else None
    if not record or record["executor"] == "thread":
        return "thread", None
    try:
        pickle.dumps(work)
    except Exception:
        _log.debug(f"{work[0]!r} cannot be sent to other processes: it runs in threads")
        return "thread", None
    record["used"] = True
    return record["executor"], record["scheduler"]


# --------------------------------------------------------------------------------------------------------
# map_runs
# --------------------------------------------------------------------------------------------------------


def map_runs(
    callback: Callable[..., Any],
    root: Any,
    runs: Iterable[Any],
    workers: int = 8,
    parallelism: str | None = None,
    run_args: Sequence[dict[str, Any]] | None = None,
    show_progress: bool = True,
    task_desc: str | None = None,
    client: Any = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Call ``callback(run, **run_args[i], **kwargs)`` for every run; return ``{run_name: result}``
    in the order of ``runs``.

    ``runs`` holds run objects or names (names are looked up with ``root.get_run`` where the callback
    runs). ``parallelism``:

    - ``"thread"``: ``workers`` threads of this process;
    - ``"process"``: ``workers`` processes of this machine (callback and arguments must pickle; each
      process reopens the project once, from its config: ``copick.ops.project_handle``);
    - ``"dask"``: one task per run on a ``dask.distributed`` cluster (``pip install "copick[dask]"``):
      ``client`` is a ``Client``, a scheduler address, or ``None`` for the current client or else a
      ``LocalCluster`` of up to ``workers`` tasks at once made for this call (see
      ``copick.ops.run_dask``). Workers reopen the project from its config; results must pickle.
    - ``None`` (default): ``"dask"`` when a ``client`` is given, else what the running ``copick``
      command's ``--executor`` says (for a callback and arguments that pickle), else ``"thread"``.

    An exception in one run is logged (``Error processing run NAME: ...``) and gives that run the
    result ``None``; the others carry on. A progress bar is drawn on stderr when it is a terminal.
    """
    runs = list(runs)
    if run_args is not None:
        run_args = list(run_args)
        if len(run_args) != len(runs):
            raise ValueError(f"run_args has {len(run_args)} entries but there are {len(runs)} runs.")
    per_run = [{**(run_args[i] if run_args is not None else {}), **kwargs} for i in range(len(runs))]
    if parallelism is None:
        if client is not None:
            parallelism = "dask"
        else:
            parallelism, client = choose_executor(callback, per_run)
    names = [_run_name(run) for run in runs]
    results: dict[str, Any] = dict.fromkeys(names)
    task = functools.partial(_call, callback)
    with progress(len(runs), task_desc or "Processing runs", show_progress) as advance:
        values = run_tasks(
            task,
            root,
            runs,
            per_run,
            parallelism,
            workers,
            client,
            advance,
            lambda i, err: _log_run_error(names[i], err),
        )
    for name, (ok, value) in zip(names, values):
        if ok:
            results[name] = value
    return results


def run_tasks(
    task: Callable[[Any, Any, dict[str, Any]], Any],
    root: Any,
    items: Sequence[Any],
    per_item: Sequence[dict[str, Any]],
    parallelism: str = "thread",
    workers: int = 1,
    client: Any = None,
    advance: Callable[[int], None] = lambda n=1: None,
    on_error: Callable[[int, BaseException], None] = lambda i, err: None,
) -> list[tuple[bool, Any]]:
    """Call ``task(root, items[i], per_item[i])`` for every item, in ``workers`` threads or processes
    or as Dask tasks (``parallelism``, see ``map_runs``); return ``(True, result)`` or ``(False,
    None)`` per item, in the order of ``items``. ``on_error(i, exception)`` and ``advance(1)`` are
    called in this thread as items finish.

    In the process and Dask modes ``task`` and the items must pickle (run objects are sent as their
    names) and the project is reopened there (``map_runs`` explains how); the results come back
    pickled. This is the engine of ``map_runs`` and of work that is not one call per run (imports).
    Ctrl-C cancels the items not yet started and does not wait for the running ones: worker processes
    (and a Dask cluster made for the call) are stopped at once; running threads finish their item.
    """
    if parallelism not in PARALLELISMS:
        raise ValueError(f"parallelism must be 'thread', 'process' or 'dask', got {parallelism!r}.")
    if client is not None and parallelism != "dask":
        raise ValueError(f"client= is for parallelism='dask', not {parallelism!r}.")
    out: list[tuple[bool, Any]] = [(False, None)] * len(items)
    if not items:
        return out
    workers = max(1, int(workers or 1))

    if parallelism == "dask":
        from copick.ops.run_dask import map_tasks_dask

        shipped = [_shipped(item) for item in items]
        return map_tasks_dask(task, root, shipped, per_item, out, advance, on_error, workers, client)
    if parallelism == "thread" and (workers == 1 or len(items) <= 1):
        for i, (item, kw) in enumerate(zip(items, per_item)):
            try:
                out[i] = (True, task(root, item, kw))
            except Exception as err:
                on_error(i, err)
            advance(1)
        return out

    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

    if parallelism == "thread":
        pool: Any = ThreadPoolExecutor(max_workers=workers)
        submit = lambda item, kw: pool.submit(task, root, item, kw)  # noqa: E731
    else:
        handle = ProjectHandle(root)  # the project opened once per worker process
        handle.payload  # noqa: B018 - a project that cannot travel is refused before anything is sent
        pool = ProcessPoolExecutor(max_workers=workers)
        submit = lambda item, kw: pool.submit(_call_in_process, task, handle, _shipped(item), kw)  # noqa: E731
    futures: dict[Any, int] = {}
    try:
        for i, (item, kw) in enumerate(zip(items, per_item)):
            futures[submit(item, kw)] = i
        for future in as_completed(futures):
            i = futures[future]
            try:
                out[i] = (True, future.result())
            except Exception as err:
                on_error(i, err)
            advance(1)
    except BaseException:  # Ctrl-C (or a failure here): what has not finished is not waited for
        _stop_now(pool)
        raise
    pool.shutdown(wait=True)
    return out


def run_all(
    task: Callable[[Any, Any, dict[str, Any]], Any],
    root: Any,
    items: Sequence[Any],
    per_item: Sequence[dict[str, Any]],
    workers: int = 1,
) -> list[Any]:
    """``task(root, items[i], per_item[i])`` of every item, in order, where the running command's
    ``--executor`` sends work that pickles (``choose_executor``; else threads). For work whose every
    result counts (a check, a report): once all items have finished, the first failure (by position)
    is raised, where ``map_runs`` logs it and goes on."""
    parallelism, client = choose_executor(task, per_item)
    failures: dict[int, BaseException] = {}
    values = run_tasks(
        task, root, items, per_item, parallelism, workers, client, on_error=failures.__setitem__
    )
    if failures:
        raise failures[min(failures)]
    return [value for _, value in values]


def _stop_now(pool: Any) -> None:
    """Shut ``pool`` down without waiting: pending items are cancelled and, for a process pool, its
    worker processes are terminated, so the items running there stop too (threads cannot be stopped:
    their running items finish, no further item starts)."""
    from concurrent.futures import ProcessPoolExecutor

    processes = []
    if isinstance(pool, ProcessPoolExecutor):
        # concurrent.futures names its worker processes only in this attribute (before Python 3.14's
        # terminate_workers); it is read before shutdown() forgets it
        processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


# --------------------------------------------------------------------------------------------------------
# report_results
# --------------------------------------------------------------------------------------------------------


def report_results(results: dict[str, Any], total_files: int, logger: logging.Logger | None = None) -> None:
    """Log what a ``map_runs`` pass did: every error, then a processed/total summary. Never raises.

    Each result is ``{"processed": int, "errors": [str, ...]}``; ``None`` means the whole run failed.
    """
    log = logger or _log
    processed = 0
    errors: list[str] = []
    for name, result in results.items():
        if result is None:
            errors.append(f"Run {name} failed completely")
            continue
        if not isinstance(result, dict):
            continue
        processed += int(result.get("processed", 0) or 0)
        errors.extend(str(e) for e in result.get("errors", []) or [])
    if errors:
        log.error(f"Failed to process {len(errors)} items:")
        for error in errors:
            log.error(f"  - {error}")
        if processed > 0:
            log.info(f"Successfully processed {processed} out of {total_files} items")
        note_failures(len(errors), errors[0], total=max(total_files, len(errors)))
    else:
        log.info(f"Successfully processed all {processed} items")
