"""A cached virtual environment holding the reference copick 1.31.0, used as a black box.

The benchmark runner (``bench/run.py``) and the interop tests run small scripts in this
environment as subprocesses and compare what they print; nothing from it is ever imported
into our own interpreter.

    python bench/refenv.py            # build if needed, print the interpreter path
    python bench/refenv.py --rebuild  # throw the environment away and build it again

The environment lives in ``<repo>/.cache/refenv``. A stamp file records the requirement
list it was built from; when the stamp matches, nothing is run (a warm call costs a stat
and a file read). When no package registry is reachable, :class:`RefEnvUnavailable` is
raised with pip's last lines, so tests can skip with a clear message.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV_DIR = REPO / ".cache" / "refenv"
STAMP_NAME = "copick-refenv.json"

#: The reference and what the workloads need beside it. Changing this list rebuilds the env.
REQUIREMENTS: tuple[str, ...] = (
    "copick==1.31.0",
    "orjson",
    "s3fs",
)

_STAMP_VERSION = 1


class RefEnvUnavailable(RuntimeError):
    """The reference environment cannot be built here (typically: no package registry)."""


def _python_in(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _stamp_data(requirements: Sequence[str]) -> dict:
    return {
        "stamp_version": _STAMP_VERSION,
        "requirements": list(requirements),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def _read_stamp(env_dir: Path) -> dict | None:
    try:
        return json.loads((env_dir / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def _is_warm(env_dir: Path, requirements: Sequence[str]) -> bool:
    return _python_in(env_dir).exists() and _read_stamp(env_dir) == _stamp_data(requirements)


def _base_python() -> str:
    """The interpreter to create venvs from: the base of the current venv, if any."""
    base = getattr(sys, "_base_executable", None)
    return base if base and os.path.exists(base) else sys.executable


@contextmanager
def _lock(env_dir: Path) -> Iterator[None]:
    """Serialise builders (parallel test workers) with an advisory file lock."""
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(env_dir.parent / (env_dir.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_refenv(
    env_dir: Path | str = ENV_DIR,
    requirements: Sequence[str] = REQUIREMENTS,
    *,
    rebuild: bool = False,
    quiet: bool = True,
) -> Path:
    """Build (once) the reference environment and return its python interpreter path."""
    env_dir = Path(env_dir)
    if not rebuild and _is_warm(env_dir, requirements):
        return _python_in(env_dir)
    with _lock(env_dir):
        if not rebuild and _is_warm(env_dir, requirements):  # built by someone else meanwhile
            return _python_in(env_dir)
        if env_dir.exists():
            shutil.rmtree(env_dir)
        proc = subprocess.run([_base_python(), "-m", "venv", str(env_dir)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RefEnvUnavailable(f"cannot create a venv at {env_dir}:\n{_tail(proc.stderr)}")
        cmd = [str(_python_in(env_dir)), "-m", "pip", "install", "--disable-pip-version-check"]
        cmd += ["-q"] if quiet else []
        proc = subprocess.run([*cmd, *requirements], capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise RefEnvUnavailable(
                "cannot install the reference copick environment "
                f"({' '.join(requirements)}); is a package registry reachable?\n"
                + _tail(proc.stdout + "\n" + proc.stderr)
            )
        (env_dir / STAMP_NAME).write_text(json.dumps(_stamp_data(requirements), indent=2))
    return _python_in(env_dir)


def ensure_venv(
    env_dir: Path | str,
    install_steps: Sequence[Sequence[str]],
    *,
    stamp_extra: Mapping[str, str] | None = None,
    rebuild: bool = False,
    quiet: bool = True,
) -> Path:
    """Build (once) a named cached venv by running ``pip install`` once per step, in order.

    The generic sibling of :func:`ensure_refenv` for other black-box environments (e.g. a
    plugin installed beside our package): each step is one list of ``pip install`` arguments,
    so a later step sees what an earlier one installed. The stamp records the steps and
    ``stamp_extra`` (e.g. a hash of a local project's ``pyproject.toml``); when it matches,
    nothing is run. Raises :class:`RefEnvUnavailable` with pip's last lines on failure.
    """
    env_dir = Path(env_dir)
    stamp = {**_stamp_data([" ".join(step) for step in install_steps]), **(stamp_extra or {})}
    python = _python_in(env_dir)

    def warm() -> bool:
        return python.exists() and _read_stamp(env_dir) == stamp

    if not rebuild and warm():
        return python
    with _lock(env_dir):
        if not rebuild and warm():
            return python
        if env_dir.exists():
            shutil.rmtree(env_dir)
        proc = subprocess.run([_base_python(), "-m", "venv", str(env_dir)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RefEnvUnavailable(f"cannot create a venv at {env_dir}:\n{_tail(proc.stderr)}")
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *(["-q"] if quiet else [])]
        for step in install_steps:
            proc = subprocess.run([*cmd, *step], capture_output=True, text=True, env=clean_env())
            if proc.returncode != 0:
                shutil.rmtree(env_dir, ignore_errors=True)
                raise RefEnvUnavailable(
                    f"cannot build {env_dir.name} (pip install {' '.join(step)}); "
                    "is a package registry reachable?\n" + _tail(proc.stdout + "\n" + proc.stderr)
                )
        (env_dir / STAMP_NAME).write_text(json.dumps(stamp, indent=2))
    return python


def reference_python(skip_if_unavailable: bool = False) -> str:
    """Path of the reference interpreter, building the env on first use.

    With ``skip_if_unavailable=True`` (inside pytest), a build failure skips the calling
    test with the reason instead of raising :class:`RefEnvUnavailable`.
    """
    try:
        return str(ensure_refenv())
    except RefEnvUnavailable as exc:
        if skip_if_unavailable:
            import pytest

            pytest.skip(f"reference copick 1.31.0 environment unavailable: {exc}")
        raise


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child interpreter: no inherited venv/PYTHONPATH leaking our package in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


def run_in_env(
    python: str | os.PathLike,
    script_text: str,
    args: Sequence[str] = (),
    *,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 600,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``script_text`` as ``python -c`` in a fresh interpreter and capture its output.

    ``-I``-like isolation is done by hand (cleaned environment, a neutral working
    directory by default) so that neither our source tree nor our venv is importable from
    the reference interpreter, and vice versa.
    """
    if cwd is None:
        cwd = REPO / ".cache"
        cwd.mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(python), "-c", script_text, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=str(cwd),
        env=clean_env(env),
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="recreate the environment")
    parser.add_argument("--verbose", action="store_true", help="show pip output")
    ns = parser.parse_args(argv)
    try:
        python = ensure_refenv(rebuild=ns.rebuild, quiet=not ns.verbose)
    except RefEnvUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
