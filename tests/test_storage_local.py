"""Whole-file writes on local disks: a new file appears whole under its name, an existing one is
replaced whole, and a writer killed at any point leaves either nothing or a whole file."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from copick.storage_local import create_new, write_atomic


def test_a_new_file_appears_whole_with_the_usual_mode_and_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b" / "picks.json"  # parents are made
    write_atomic(str(target), b"first")
    assert target.read_bytes() == b"first"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert os.listdir(target.parent) == ["picks.json"]
    assert target.stat().st_nlink == 1  # the temporary name is gone, not left as a second link


def test_an_existing_file_is_replaced_and_create_new_refuses_it(tmp_path):
    target = tmp_path / "picks.json"
    create_new(str(target), b"old")
    with pytest.raises(FileExistsError):
        create_new(str(target), b"other")
    write_atomic(str(target), b"new content")
    assert target.read_bytes() == b"new content"
    assert os.listdir(tmp_path) == ["picks.json"]


def test_a_folder_is_never_replaced_by_a_file(tmp_path):
    (tmp_path / "store.zarr").mkdir()
    with pytest.raises(OSError):
        write_atomic(str(tmp_path / "store.zarr"), b"x")
    assert (tmp_path / "store.zarr").is_dir()
    assert os.listdir(tmp_path) == ["store.zarr"]


WRITER = textwrap.dedent(
    """
    import sys
    from copick.storage_local import write_atomic
    folder, payload = sys.argv[1], b"x" * 3_000_000
    print("ready", flush=True)
    i = 0
    while True:  # 50 new files, then each replaced again and again
        write_atomic(f"{folder}/new{i % 50}.bin", payload)
        i += 1
    """
)


def test_a_writer_killed_while_creating_and_replacing_files_leaves_only_whole_ones(tmp_path):
    for delay in (0.05, 0.2, 0.4):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        for name in os.listdir(tmp_path):
            if not name.startswith("."):  # temporary files are hidden; named files are whole
                assert (tmp_path / name).stat().st_size == 3_000_000, name


def test_read_file_returns_every_byte_and_the_usual_errors(tmp_path):
    from copick.storage_local import read_file

    for size in (0, 1, 4096, 5 * 2**20 + 3):
        (tmp_path / "f").write_bytes(os.urandom(size))
        assert read_file(str(tmp_path / "f")) == (tmp_path / "f").read_bytes()
    with pytest.raises(FileNotFoundError):
        read_file(str(tmp_path / "missing"))
    with pytest.raises(IsADirectoryError):
        read_file(str(tmp_path))
