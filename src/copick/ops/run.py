"""Run a callback over many runs of a project, in threads or processes, with one progress bar.

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

__all__ = ["map_runs", "note_failures", "progress", "report_results"]

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


def _call(callback: Callable, root: Any, run: Any, kwargs: dict[str, Any]) -> Any:
    """Resolve ``run`` (a name or a run) and call ``callback(run, **kwargs)``."""
    if isinstance(run, str):
        name = run
        run = root.get_run(name)
        if run is None:
            raise ValueError(f"Run {name!r} not found in the project.")
    return callback(run, **kwargs)


def _call_in_process(callback: Callable, handle: _RootHandle, run_name: str, kwargs: dict[str, Any]) -> Any:
    """Worker-process entry point: names are materialised with the worker's own root."""
    return _call(callback, handle.root, run_name, kwargs)


def _log_run_error(name: str, err: BaseException) -> None:
    _log.error(f"Error processing run {name}: {type(err).__name__}: {err}")
    _log.debug(f"Traceback of the error in run {name}:", exc_info=(type(err), err, err.__traceback__))


def map_runs(
    callback: Callable[..., Any],
    root: Any,
    runs: Iterable[Any],
    workers: int = 8,
    parallelism: str = "thread",
    run_args: Sequence[dict[str, Any]] | None = None,
    show_progress: bool = True,
    task_desc: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Call ``callback(run, **run_args[i], **kwargs)`` for every run; return ``{run_name: result}``.

    ``runs`` holds run objects or names (names are looked up with ``root.get_run`` inside the worker).
    ``parallelism`` is ``"thread"`` or ``"process"`` (root and callback must then pickle). An exception
    in one run is logged and gives that run the result ``None``; the others carry on.
    """
    if parallelism not in ("thread", "process"):
        raise ValueError(f"parallelism must be 'thread' or 'process', got {parallelism!r}.")
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
            submit = lambda run, kw: pool.submit(_call_in_process, callback, handle, _run_name(run), kw)  # noqa: E731
        with pool:
            futures = {submit(run, kw): name for name, run, kw in zip(names, runs, per_run)}
            for future in as_completed(futures):
                name = futures[future]
                try:
                    results[name] = future.result()
                except Exception as err:
                    _log_run_error(name, err)
                advance(1)
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
