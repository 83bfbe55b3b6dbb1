"""Run a script of this folder under copick 1.31.0, redirected to the loopback portal (PORTAL.md §7)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("describe_portal_project.py")


def run_reference(portal_url: str, s3: Any, home: Path, *args: str, script: Path = SCRIPT) -> Any:
    """The JSON last line printed by ``describe_portal_project.py PORTAL_URL *args`` (or another
    ``script`` of this folder) under copick 1.31.0 (skipped when its environment cannot be built)."""
    return json.loads(run_reference_script(script, portal_url, s3, home, *args).strip().splitlines()[-1])


def run_reference_script(script: Path, portal_url: str, s3: Any, home: Path, *args: str) -> str:
    """What ``script PORTAL_URL *args`` prints under copick 1.31.0, redirected to the loopback portal."""
    if str(REPO / "bench") not in sys.path:
        sys.path.insert(0, str(REPO / "bench"))
    import refenv

    python = refenv.reference_python(skip_if_unavailable=True)
    redirect = {"FSSPEC_S3_ENDPOINT_URL": s3.endpoint_url, "XDG_CACHE_HOME": str(home / "xdg-ref")}
    env = refenv.clean_env({**redirect, "HOME": str(home)})
    env.pop("COPICK_PORTAL_URL", None)
    proc = subprocess.run(
        [python, str(script), portal_url, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
