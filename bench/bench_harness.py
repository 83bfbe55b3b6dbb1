"""The workload harness: the timer of a timed section, the registries of workloads and the setup
steps they share (opening a project, an empty project)."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench_files import write_config


class Timer:
    """Accumulates the wall time of the ``with timer():`` sections of one workload."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.peak_mb = 0.0  # peak RSS when the last timed section ended (the checksum comes after)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - t0
            self.peak_mb = peak_mb()


Workload = Callable[[dict, Timer], Any]
COPICK: dict[str, Workload] = {}
LIMIT: dict[str, Workload] = {}


def copick_impl(name: str) -> Callable[[Workload], Workload]:
    def deco(fn: Workload) -> Workload:
        COPICK[name] = fn
        return fn

    return deco


def limit_impl(name: str) -> Callable[[Workload], Workload]:
    def deco(fn: Workload) -> Workload:
        LIMIT[name] = fn
        return fn

    return deco


def open_root(p: dict):
    """Open the project of ``p`` (untimed setup everywhere it is used)."""
    import copick

    return copick.from_file(p["config"])


def fresh_project(p: dict) -> str:
    """Write a config for an empty project in ``p["out"]``; return the config path."""
    project = os.path.join(p["out"], "project")
    os.makedirs(project, exist_ok=True)
    return write_config(os.path.join(p["out"], "copick_config.json"), project)


def peak_mb() -> float:
    """Peak RSS of this process in MiB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` over ``execve``, so a
    child would report its parent's peak when the parent was bigger.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
