"""Listing a remote project costs the fewest requests the protocol allows, counted at the server.

SFTP, SMB and HTTP index pages know no recursive listing: the minimum is one directory read per
folder, with each entry's type and size in the answer (no ``stat`` per entry). copick's recursive
listing reads every folder exactly once, and all folders of one depth at once (round trips = depth).
On SMB one folder read is an open of the folder (``CREATE_DIR``), ``QUERY_DIRECTORY`` until the
server says there is no more, and a ``CLOSE`` (``smb_counter``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import servers

import copick
from copick.remote.opening import make_filesystem


def _tree(
    remotes: Any, write_project_config: Callable[..., str], runs: int = 6, kind: str = "sftp"
) -> tuple[Path, Any]:
    folder, location = remotes[kind].new("listing")
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


def test_smb_recursive_listing_reads_each_folder_once_and_opens_no_file(
    smb_server: servers.SMBServer, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, (url, fs_args) = _tree(remotes, write_project_config, kind="smb")
    fs, path = make_filesystem(url, fs_args)
    fs.ls(path)  # log in first: the session set-up is not part of a listing
    mark = smb_server.log.mark()
    found = fs.find(path, withdirs=True, detail=True)
    requests = smb_server.log.since(mark)
    counts = Counter(op for op, _ in requests)
    assert len(found) == sum(1 for _ in folder.rglob("*")) + 1
    print(f"SMB requests of a recursive listing of {_folders(folder)} folders: {dict(counts)}")
    assert counts["CREATE_DIR"] == _folders(folder)  # each folder opened once, to be listed
    assert set(counts) <= {"CREATE_DIR", "QUERY_DIRECTORY", "CLOSE"}  # no file opened, no stat
    assert counts["QUERY_DIRECTORY"] <= 2 * _folders(folder)  # entries, then "no more files"


def test_smb_listing_every_runs_picks_opens_no_file(
    smb_server: servers.SMBServer, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    folder, location = _tree(remotes, write_project_config, kind="smb")
    root = copick.from_file(write_project_config(location))
    mark = smb_server.log.mark()
    listed = {run.name: sorted(p.pickable_object_name for p in run.picks) for run in root.runs}
    counts = Counter(op for op, _ in smb_server.log.since(mark))
    assert listed == {f"TS_{i:02d}": ["proteasome", "ribosome"] for i in range(6)}
    print(f"SMB requests to list runs and their picks: {dict(counts)}; folders {_folders(folder)}")
    assert counts.get("READ", 0) == 0 and counts.get("CREATE", 0) <= 2  # no file read
    assert counts["CREATE_DIR"] <= _folders(folder)
