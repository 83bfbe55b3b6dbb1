"""Run a callback over many runs of a project, in threads, processes or on a Dask cluster, with one
progress bar.

``map_runs`` is the work-horse of the commands and of plugins; ``report_results`` logs a summary of
``{"processed": n, "errors": [...]}`` results. When a ``copick`` command is running, the failures it
reports are also remembered on the click context, so the command can exit non-zero (see
``copick.cli.common``) while ``report_results`` itself never raises.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["PARALLELISMS", "map_runs", "note_failures", "progress", "report_results", "use_executor"]

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


class _RootHandle:
    """Carries a root to worker processes: pickled as is when possible, else rebuilt from its config."""

    def __init__(self, root: Any):
        self.root = root

    def __getstate__(self) -> dict[str, Any]:
        try:
            return {"root": pickle.dumps(self.root)}
        except (TypeError, AttributeError, pickle.PicklingError) as err:
            config = getattr(self.root, "config", None)
            if config is None:
                raise TypeError(f"The project root cannot be sent to worker processes: {err}") from err
            return {"cls": type(self.root), "config": config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "root" in state:
            self.root = pickle.loads(state["root"])
        else:
            self.root = state["cls"](state["config"])


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


def _call_in_process(callback: Callable, handle: _RootHandle, run: Any, kwargs: dict[str, Any]) -> Any:
    """Worker-process entry point: names are materialised with the worker's own root."""
    return _call(callback, handle.root, run, kwargs)


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


def _command_executor(callback: Callable) -> tuple[str, Any]:
    """``(parallelism, scheduler)`` chosen by the running copick command, for ``callback``: threads
    unless the command asked for processes or dask and ``callback`` pickles (a module-level function,
    or a ``functools.partial`` of one); closures and lambdas hold state of this process and stay here."""
    if "click" not in sys.modules:
        return "thread", None
    import click

    ctx = click.get_current_context(silent=True)
    record = ctx.meta.get(_EXECUTOR_KEY) if ctx is not None else None
    if not record or record["executor"] == "thread":
        return "thread", None
    try:
        pickle.dumps(callback)
    except Exception:
        _log.debug(f"{callback!r} cannot be sent to other processes: it runs in threads")
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
    - ``"process"``: ``workers`` processes of this machine (root and callback must pickle);
    - ``"dask"``: one task per run on a ``dask.distributed`` cluster (``pip install "copick[dask]"``):
      ``client`` is a ``Client``, a scheduler address, or ``None`` for the current client or else a
      ``LocalCluster`` of up to ``workers`` tasks at once made for this call (see
      ``copick.ops.run_dask``). Workers reopen the project from its config; results must pickle.
    - ``None`` (default): ``"dask"`` when a ``client`` is given, else what the running ``copick``
      command's ``--executor`` says (for a callback that pickles), else ``"thread"``.

    An exception in one run is logged (``Error processing run NAME: ...``) and gives that run the
    result ``None``; the others carry on. A progress bar is drawn on stderr when it is a terminal.
    """
    if parallelism is None:
        if client is not None:
            parallelism = "dask"
        else:
            parallelism, client = _command_executor(callback)
    if parallelism not in PARALLELISMS:
        raise ValueError(f"parallelism must be 'thread', 'process' or 'dask', got {parallelism!r}.")
    if client is not None and parallelism != "dask":
        raise ValueError(f"client= is for parallelism='dask', not {parallelism!r}.")
    runs = list(runs)
    if run_args is not None:
        run_args = list(run_args)
        if len(run_args) != len(runs):
            raise ValueError(f"run_args has {len(run_args)} entries but there are {len(runs)} runs.")
    per_run = [{**(run_args[i] if run_args is not None else {}), **kwargs} for i in range(len(runs))]
    names = [_run_name(run) for run in runs]
    results: dict[str, Any] = dict.fromkeys(names)
    description = task_desc or "Processing runs"
    workers = max(1, int(workers or 1))

    with progress(len(runs), description, show_progress) as advance:
        if not runs:
            return results
        if parallelism == "dask":
            from copick.ops.run_dask import map_runs_dask

            items = [_shipped(run) for run in runs]
            return map_runs_dask(
                callback, root, names, items, per_run, results, advance, _log_run_error, workers, client
            )
        if parallelism == "thread" and (workers == 1 or len(runs) <= 1):
            for name, run, kw in zip(names, runs, per_run):
                try:
                    results[name] = _call(callback, root, run, kw)
                except Exception as err:
                    _log_run_error(name, err)
                advance(1)
            return results

        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

        if parallelism == "thread":
            pool: Any = ThreadPoolExecutor(max_workers=workers)
            submit = lambda run, kw: pool.submit(_call, callback, root, run, kw)  # noqa: E731
        else:
            handle = _RootHandle(root)
            pool = ProcessPoolExecutor(max_workers=workers)
            submit = lambda run, kw: pool.submit(_call_in_process, callback, handle, _shipped(run), kw)  # noqa: E731
        with pool:
            futures = {submit(run, kw): name for name, run, kw in zip(names, runs, per_run)}
            try:
                for future in as_completed(futures):
                    name = futures[future]
                    try:
                        results[name] = future.result()
                    except Exception as err:
                        _log_run_error(name, err)
                    advance(1)
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                raise
    return results


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
