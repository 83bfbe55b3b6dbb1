"""Nothing lost: a killed writer leaves the previous version readable; concurrent writers lose nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import copick
from copick.models import PickableObject

OBJECTS = [PickableObject(name=f"obj{i}", is_particle=True, label=i + 1) for i in range(4)]

WRITER = textwrap.dedent(
    """
    import sys, numpy as np, copick
    root = copick.from_file(sys.argv[1])
    picks = root.get_run("TS_1").get_picks(object_name=sys.argv[2])[0]
    rng = np.random.default_rng(int(sys.argv[3]))
    print("ready", flush=True)
    while True:
        picks.from_numpy(rng.uniform(0, 1000, (20000, 3)))
    """
)


@pytest.fixture
def project(tmp_path):
    config = str(tmp_path / "c.json")
    root = copick.new_config(config, str(tmp_path / "p"), pickable_objects=OBJECTS)
    run = root.new_run("TS_1")
    for obj in OBJECTS:
        run.new_picks(obj.name, "1", user_id="alice").from_numpy(np.full((20000, 3), 7.0))
    return config


def test_a_picks_writer_killed_mid_write_leaves_a_readable_file(project):
    rng = np.random.default_rng(0)
    for trial in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, project, "obj0", str(trial)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait()
        picks = copick.from_file(project).get_run("TS_1").get_picks(object_name="obj0")[0]
        positions, _ = picks.numpy()
        assert positions.shape == (20000, 3)
    leftovers = [n for n in os.listdir(os.path.dirname(picks.path)) if not n.endswith(".json")]
    assert all(n.startswith(".") for n in leftovers)  # temp files are hidden from listings
    assert len(copick.from_file(project).get_run("TS_1").picks) == len(OBJECTS)


def test_concurrent_writers_of_different_picks_in_one_run_lose_nothing(project):
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, project, obj.name, str(i)], stdout=subprocess.PIPE, text=True
        )
        for i, obj in enumerate(OBJECTS)
    ]
    for child in writers:
        assert child.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    for child in writers:
        child.send_signal(signal.SIGKILL)
        child.wait()
    run = copick.from_file(project).get_run("TS_1")
    assert sorted(p.pickable_object_name for p in run.picks) == [o.name for o in OBJECTS]
    for picks in run.picks:
        assert picks.numpy()[0].shape == (20000, 3)


def test_a_config_saved_over_an_old_one_is_replaced_whole(project, tmp_path):
    root = copick.from_file(project)
    root.new_object("extra", True)
    root.save_config(project)
    with open(project) as f:
        assert [o["name"] for o in json.load(f)["pickable_objects"]][-1] == "extra"
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]
