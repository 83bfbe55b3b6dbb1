"""Region reads of a remote tomogram cost only their chunk requests after the first, counted at the
loopback SFTP server: the tomogram object keeps its opened levels (``ome_regions.OpenedLevels``).

* the second and later ``numpy(x=, y=, z=)`` calls open chunk files only: no image metadata read,
  no ``stat``;
* this object's own rewrite (another shape and dtype) and delete are seen by its next read at once;
* another client's rewrite is seen once the kept metadata is older than ``REOPEN_AFTER_SECONDS``;
* a level of many large chunks reads whole over SMB (the server's credits are never exhausted).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import servers

import copick
from copick.errors import MissingLevelError
from copick.formats import ome_regions

DATA = np.arange(64 * 64 * 64, dtype=np.float32).reshape(64, 64, 64)
CHUNK_FILE = re.compile(r"wbp\.zarr/\d+(/\d+){3}$")


@pytest.fixture
def project(sftp_server: servers.SFTPServer, remotes: Any, write_project_config: Callable[..., str]) -> str:
    _, location = remotes["sftp"].new("regions")
    config = write_project_config(location, user_id="alice")
    vs = copick.from_file(config).new_run("TS_1").new_voxel_spacing(10.0)
    vs.new_tomogram("wbp").from_numpy(DATA, levels=2)
    return config


def _tomogram(config: str) -> Any:
    return copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]


def _region(tomo: Any, start: int, size: int = 16) -> np.ndarray:
    s = slice(start, start + size)
    return tomo.numpy(x=s, y=s, z=s)


def test_repeated_region_reads_open_only_chunk_files(sftp_server: servers.SFTPServer, project: str) -> None:
    tomo = _tomogram(project)
    mark = sftp_server.log.mark()
    np.testing.assert_array_equal(_region(tomo, 0), DATA[:16, :16, :16])
    first = sftp_server.log.since(mark)
    for start in (8, 24, 40):
        mark = sftp_server.log.mark()
        s = slice(start, start + 16)
        np.testing.assert_array_equal(_region(tomo, start), DATA[s, s, s])
        later = [(op, path) for op, path in sftp_server.log.since(mark) if "wbp.zarr" in path]
        opened = [path for op, path in later if op == "open"]
        print(
            f"region at {start}: {len(later)} requests, {len(opened)} files opened (first read: {len(first)})"
        )
        assert opened and all(CHUNK_FILE.search(path) for path in opened), opened
        assert {op for op, _ in later} <= {"open", "read", "fstat", "close"}


def test_this_objects_own_rewrite_and_delete_are_seen_at_once(project: str) -> None:
    tomo = _tomogram(project)
    np.testing.assert_array_equal(_region(tomo, 0), DATA[:16, :16, :16])
    other = (DATA[:48, :40, :32] * 2).astype(np.float64)
    tomo.from_numpy(other, levels=1, dtype=np.float64)
    region = tomo.numpy(x=slice(0, 40), y=slice(0, 40), z=slice(0, 60))
    assert region.dtype == np.float64 and region.shape == (48, 40, 32)
    np.testing.assert_array_equal(region, other)
    tomo.delete()
    with pytest.raises(MissingLevelError):
        _region(tomo, 0)


def test_another_clients_rewrite_is_seen_after_the_reopen_time(project: str) -> None:
    reader = _tomogram(project)
    np.testing.assert_array_equal(_region(reader, 0), DATA[:16, :16, :16])
    _tomogram(project).from_numpy(DATA + 1, levels=2)  # same geometry
    np.testing.assert_array_equal(_region(reader, 0), DATA[:16, :16, :16] + 1)  # chunks: read now
    smaller = np.full((32, 32, 32), 7, dtype=np.int16)
    _tomogram(project).from_numpy(smaller, levels=1, dtype=np.int16)
    time.sleep(ome_regions.REOPEN_AFTER_SECONDS + 0.2)
    region = _region(reader, 0, 64)
    assert region.dtype == np.int16 and region.shape == (32, 32, 32)
    np.testing.assert_array_equal(region, smaller)


def test_a_level_of_many_chunks_reads_whole_over_smb(
    smb_server: servers.SMBServer, remotes: Any, write_project_config: Callable[..., str]
) -> None:
    """zarr fetches a level's 64 chunks of 1 MiB several at once; SMB spends the server's credits per
    request (a 1 MiB read in one request costs 16 of the 64 smbd grants): every chunk arrives, no
    request fails for want of credits (it did: "Request requires 1 credits but only 0 credits are
    available", then the read hung)."""
    from copick.formats import ome

    _, location = remotes["smb"].new("many-chunks")
    config = write_project_config(location, user_id="alice")
    tomo = copick.from_file(config).new_run("TS_1").new_voxel_spacing(10.0).new_tomogram("wbp")
    data = np.random.default_rng(2).normal(size=(256, 256, 256)).astype(np.float32)  # incompressible
    ome.write_multiscale(tomo.zarr(), [data], 10.0, chunks=(64, 64, 64))
    mark = smb_server.log.mark()
    np.testing.assert_array_equal(_tomogram(config).numpy(), data)
    reads = sum(op == "READ" for op, _ in smb_server.log.since(mark))
    assert reads >= 64  # every chunk read from the server
