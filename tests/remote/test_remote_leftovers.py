"""A picks writer killed (SIGKILL) mid-write on SFTP or SMB leaves its hidden temporary file
``.<name>.<owner>.tmp`` beside the picks file; ``copick check`` reports it as a killed writer's
leftover (its owner id names a process of this host that is gone), ``--fix`` removes it, and a live
writer's temporary file in the same folder is reported as a write in progress and kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_remote_safety import kill_a_picks_writer

import copick
from copick.ops.check import check_project
from copick.writers import owner_id

N = 10_000  # ~1.5 MB of JSON: most of a write's time is spent sending the temporary file


def _temp_files(picks_dir: Path) -> list[str]:
    return sorted(p.name for p in picks_dir.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("kind", ["sftp", "smb"])
def test_a_killed_remote_writers_temporary_file_is_reported_and_removed_by_check_fix(
    kind: str, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, location = remotes[kind].new("project")
    config = write_project_config(location, user_id="alice")
    copick.from_file(config).new_run("TS_1").new_picks("ribosome", "1").from_numpy(np.zeros((N, 3)))
    picks_dir = Path(folder) / "ExperimentRuns" / "TS_1" / "Picks"
    rng = np.random.default_rng(11)

    def writing(pid: int) -> bool:  # the writer's temporary file is there: kill it now
        return any(f"-{pid}-" in name for name in _temp_files(picks_dir))

    for _attempt in range(6):
        pid = kill_a_picks_writer(config, N, rng, when=writing)
        killed = [n for n in _temp_files(picks_dir) if f"-{pid}-" in n]
        if killed:
            break
    else:
        pytest.fail("the writer was never killed while its temporary file was there, in 6 attempts")
    live = f".alice_1_ribosome.json.{owner_id()}.tmp"  # this process: a write in progress
    (picks_dir / live).write_bytes(b"{")

    report = check_project(config)
    found = {Path(f.path).name: (f.code, f.severity) for f in report.findings}
    assert found[killed[0]] == ("leftover", "warning"), report.to_text()
    assert found[live] == ("write-in-progress", "info"), report.to_text()

    check_project(config, fix=True)
    assert _temp_files(picks_dir) == [live]  # the killed writer's file is gone, the live one kept
    (picks,) = copick.from_file(config).get_run("TS_1").get_picks("ribosome")
    positions = picks.numpy()[0]
    assert positions.shape == (N, 3) and np.unique(positions).size == 1  # one whole version
