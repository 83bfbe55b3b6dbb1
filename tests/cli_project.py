"""The small local project the command tests (``test_cli_commands.py``, ``test_cli_manage.py``) work on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import copick
from cli_helpers import new_local_project

OBJECTS = [
    {"name": "ribosome", "is_particle": True, "label": 1, "radius": 120.0},
    {"name": "proteasome", "is_particle": True, "label": 2},
    {"name": "membrane", "is_particle": False, "label": 3},
]
RUNS = ("TS_001", "TS_002", "TS_003")


def make_project(tmp_path: Path) -> str:
    """A local project: 3 runs, picks (alice/1 everywhere, alice/2 and bob/1 in some), a mesh."""
    cfg, root = new_local_project(tmp_path, OBJECTS)
    rng = np.random.default_rng(0)
    for name in RUNS:
        run = root.new_run(name)
        run.new_picks("ribosome", "1", "alice").from_numpy(rng.random((5, 3)) * 100)
    root.get_run("TS_001").new_picks("ribosome", "2", "alice").from_numpy(rng.random((3, 3)) * 100)
    root.get_run("TS_002").new_picks("proteasome", "1", "bob").from_numpy(rng.random((2, 3)) * 100)
    root.get_run("TS_001").new_mesh("membrane", "1", "alice")
    return cfg


def picks_ids(config: str, run: str) -> set[tuple[str, str, str]]:
    """``(object, user, session)`` of every pick set of ``run``, read afresh from the project."""
    root = copick.from_file(config)
    return {(p.pickable_object_name, p.user_id, p.session_id) for p in root.get_run(run).picks}
