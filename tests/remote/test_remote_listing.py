"""Listing a remote project costs the fewest requests the protocol allows, counted at the server.

SFTP and HTTP index pages know no recursive listing: the minimum is one directory read per folder,
with each entry's type and size in the answer (no ``stat`` per entry). copick's recursive listing
reads every folder exactly once, and all folders of one depth at once (round trips = depth).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import servers

import copick
from copick.remote.opening import make_filesystem


def _tree(remotes: Any, write_project_config: Callable[..., str], runs: int = 6) -> tuple[Path, Any]:
    folder, location = remotes["sftp"].new("listing")
    root = copick.from_file(write_project_config(location, user_id="alice"))
    for i in range(runs):
        run = root.new_run(f"TS_{i:02d}")
        run.new_voxel_spacing(10.0)
        run.new_picks("ribosome", "1").from_numpy(np.ones((2, 3)))
        run.new_picks("proteasome", "1").from_numpy(np.ones((2, 3)))
    return Path(folder), location


def _folders(folder: Path) -> int:
    return 1 + sum(1 for p in folder.rglob("*") if p.is_dir())


def test_sftp_recursive_listing_reads_each_folder_once_and_stats_nothing(
    sftp_server: servers.SFTPServer, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, (url, fs_args) = _tree(remotes, write_project_config)
    fs, path = make_filesystem(url, fs_args)
    mark = sftp_server.log.mark()
    found = fs.find(path, withdirs=True, detail=True)
    requests = sftp_server.log.count(mark)
    assert len(found) == sum(1 for _ in folder.rglob("*")) + 1
    assert requests == {"scandir": _folders(folder)}  # one read per folder, nothing else


def test_listing_every_runs_picks_costs_one_folder_read_per_folder(
    sftp_server: servers.SFTPServer, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, location = _tree(remotes, write_project_config)
    root = copick.from_file(write_project_config(location))
    mark = sftp_server.log.mark()
    listed = {run.name: sorted(p.pickable_object_name for p in run.picks) for run in root.runs}
    requests = sftp_server.log.count(mark)
    assert listed == {f"TS_{i:02d}": ["proteasome", "ribosome"] for i in range(6)}
    print(f"requests to list runs and their picks: {dict(requests)}; folders {_folders(folder)}")
    assert set(requests) <= {"scandir", "stat"}  # no file opened, no per-entry attributes
    assert requests["scandir"] <= _folders(folder)
    assert requests.get("stat", 0) <= 2


def test_http_recursive_listing_fetches_each_index_page_once(
    http_server: servers.HTTPServer, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, _ = _tree(remotes, write_project_config, runs=4)
    url, _ = remotes["http"].publish(folder)
    fs, path = make_filesystem(url, {})
    mark = http_server.log.mark()
    found = fs.find(path, detail=False)
    requests = http_server.log.since(mark)
    assert len(found) == sum(1 for p in folder.rglob("*") if p.is_file())
    assert len(requests) == _folders(folder) and {op for op, _ in requests} == {"GET"}
