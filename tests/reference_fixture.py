"""The copick 1.31.0 reference fixture, written at test time by copick 1.31.0 itself.

``fixture131/make_copick131_fixture.py`` (its README beside it says what the project holds and what
``expected.json`` records) runs once in the cached reference environment (``bench/refenv.py``), into
``.cache/copick131-fixture/<script hash>/copick131-project``; later runs and xdist workers find it
there. The script is deterministic, so every machine gets the same tree. Empty folders are removed,
as in the copy kept in git before (git keeps none).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve().parent / "fixture131" / "make_copick131_fixture.py"
_HASH = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()[:12]
FIXTURE_DIR = REPO / ".cache" / "copick131-fixture" / _HASH / "copick131-project"


def ensure() -> Path:
    """Write the fixture with copick 1.31.0 unless it is there (``RefEnvUnavailable`` without a registry)."""
    if (FIXTURE_DIR / "expected.json").is_file():
        return FIXTURE_DIR
    if str(REPO / "bench") not in sys.path:
        sys.path.insert(0, str(REPO / "bench"))
    import refenv

    base = FIXTURE_DIR.parent
    base.mkdir(parents=True, exist_ok=True)
    with open(base / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (FIXTURE_DIR / "expected.json").is_file():  # another worker wrote it meanwhile
            return FIXTURE_DIR
        work = base / f"tmp-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        proc = refenv.run_in_env(
            refenv.reference_python(), SCRIPT.read_text(), ["copick131-project"], cwd=work, timeout=600
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{SCRIPT.name} failed under copick 1.31.0:\n{proc.stderr[-3000:]}")
        _remove_empty_dirs(work / "copick131-project")
        (work / "copick131-project").rename(FIXTURE_DIR)
        shutil.rmtree(work)
    return FIXTURE_DIR


def _remove_empty_dirs(root: Path) -> None:
    for folder in sorted(
        (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(folder.iterdir()):
            folder.rmdir()
