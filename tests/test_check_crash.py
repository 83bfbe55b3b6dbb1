"""Writers killed mid-write (as in the crash tests) leave leftovers that ``copick check`` reports and
``copick check --fix`` removes, after which the project is clean and every entity reads."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import copick
from copick.ops.check import check_project

# The writer stops (as if killed) just before it would put its work in place: after the temporary
# file is written (picks) or the new pyramid is staged (tomogram); the test then kills it.
WRITER = textwrap.dedent(
    """
    import os, sys, time, numpy as np, copick
    from copick.storage import Layer
    run = copick.from_file(sys.argv[1]).get_run("TS_1")

    def stop(*args):
        print("writing", flush=True)
        time.sleep(600)

    if sys.argv[2] == "picks":
        os.replace = stop
        run.get_picks(object_name="ribosome")[0].from_numpy(np.ones((40000, 3)))
    else:
        Layer.replace_dir = stop
        tomogram = run.get_voxel_spacing(10.0).get_tomograms("wbp")[0]
        tomogram.from_numpy(np.ones((64, 64, 64), np.float32), levels=2)
    """
)


def _project(tmp_path: Path) -> str:
    config = str(tmp_path / "config.json")
    objects = [{"name": "ribosome", "is_particle": True, "label": 1}]
    run = copick.new_config(config, str(tmp_path / "p"), pickable_objects=objects).new_run("TS_1")
    run.new_picks("ribosome", "1", "alice").from_numpy(np.full((10, 3), 5.0))
    run.new_voxel_spacing(10.0).new_tomogram("wbp").from_numpy(np.zeros((64, 64, 64), np.float32), levels=2)
    return config


def test_leftovers_of_killed_writers_are_reported_and_removed_by_fix(tmp_path: Path) -> None:
    config = _project(tmp_path)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, config, what], stdout=subprocess.PIPE, text=True)
        for what in ("picks", "tomogram")
    ]
    for child in writers:
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
        child.wait()
    report = check_project(config)
    assert report.ok, report.to_text()  # leftovers are warnings: the data is intact
    assert sorted((f.code, f.message.split(" (")[0].split(" of ")[0]) for f in report.findings) == [
        ("leftover", "staging folder"),
        ("leftover", "temporary file"),
    ], report.to_text()
    fixed = check_project(config, fix=True)
    assert all(f.fixed == "removed" for f in fixed.findings)
    again = check_project(config)
    assert again.clean and again.findings == [], again.to_text()
    run = copick.from_file(config).get_run("TS_1")
    assert run.get_picks(object_name="ribosome")[0].numpy()[0].shape[1] == 3
    assert run.get_voxel_spacing(10.0).get_tomograms("wbp")[0].numpy().shape == (64, 64, 64)


# A kernel without renameat2 (or a filesystem refusing the exchange): the image is switched by two
# renames, old image to the trash, then staging onto the image; the writer is killed between them.
KILLED_BETWEEN_RENAMES = textwrap.dedent(
    """
    import os, signal, sys, numpy as np, copick
    from copick import storage_local
    storage_local.exchange = lambda a, b: False
    rename = os.rename

    def rename_then_die(a, b):
        rename(a, b)
        if b.endswith(".tmp.old"):
            os.kill(os.getpid(), signal.SIGKILL)

    os.rename = rename_then_die
    tomogram = copick.from_file(sys.argv[1]).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    tomogram.from_numpy(np.full((64, 64, 64), 7.0, np.float32), levels=2)
    """
)


def test_a_two_rename_switch_killed_half_way_is_finished_by_fix(tmp_path: Path) -> None:
    config = _project(tmp_path)
    child = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_RENAMES, config], timeout=120)
    assert child.returncode == -signal.SIGKILL  # killed with the old image in the trash, the new staged
    fixed = check_project(config, fix=True)
    assert "finished the interrupted image switch" in [f.fixed for f in fixed.findings], fixed.to_text()
    again = check_project(config)
    assert again.clean and again.findings == [], again.to_text()
    tomogram = copick.from_file(config).get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
    assert np.unique(tomogram.numpy()).tolist() == [7.0] and tomogram.numpy(1).shape == (32, 32, 32)
