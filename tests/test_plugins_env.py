"""napari-copick 1.11.1 and copick-utils 1.10.2 installed beside ours by one ``pip install`` (issue 12).

The environment is ``cli_interop/utils_env.py``'s (cached in ``.cache/utilsenv-ours``); copick-utils'
conversions there are compared with copick 1.31.0's in ``test_cli_interop.py``. Here: every plugin
imports, the environment holds zarr 2 (copick-shared-ui pins ``zarr<3``), and copick-shared-ui's
thumbnail loader (the data path napari-copick's gallery uses, no display: Qt offscreen) reads a
tomogram of a project of ours. copick-torch 1.2.1 (torch, nnU-Net: too heavy here) must resolve
with ours in a ``pip install --dry-run``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import copick
from cli_interop import utils_env

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import refenv  # noqa: E402

PLUGIN_SCRIPT = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import copick, copick_utils, copick_shared_ui, napari_copick, zarr
from copick_shared_ui.workers.base import AbstractThumbnailWorker

class Loader(AbstractThumbnailWorker):
    def start(self): pass
    def cancel(self): pass
    def _array_to_pixmap(self, array): return array

root = copick.from_file(sys.argv[1])
tomo = root.get_run("TS_1").get_voxel_spacing(10.0).get_tomograms("wbp")[0]
thumb = Loader(tomo, "t", lambda *a: None)._generate_thumbnail_array(tomo)
print(json.dumps({"zarr": zarr.__version__, "copick": copick.__version__,
                  "shape": list(thumb.shape), "max": int(thumb.max())}))
"""


@pytest.fixture(scope="module")
def plugin_python() -> str:
    try:
        return str(utils_env.ours_with_utils())
    except refenv.RefEnvUnavailable as exc:
        pytest.skip(f"plugin environment unavailable: {exc}")


def test_napari_copick_loads_a_tomogram_of_ours_beside_copick_utils(plugin_python: str, tmp_path: Path):
    cfg = tmp_path / "config.json"
    copick.new_config(str(cfg), str(tmp_path / "project"), pickable_objects=[])
    vs = copick.from_file(str(cfg)).new_run("TS_1").new_voxel_spacing(10.0)
    data = np.random.default_rng(0).standard_normal((16, 24, 32)).astype(np.float32)
    vs.new_tomogram("wbp").from_numpy(data)
    proc = refenv.run_in_env(plugin_python, PLUGIN_SCRIPT, [str(cfg)], timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["copick"] == "1.32.0" and out["zarr"].startswith("2.18")
    assert out["shape"] and out["max"] > 0


def test_copick_torch_resolves_beside_ours(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--ignore-installed",
            "--report",
            str(tmp_path / "r.json"),
            str(REPO),
            "copick-torch==1.2.1",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if "ResolutionImpossible" not in proc.stderr and proc.returncode != 0:
        pytest.skip(f"no package registry: {proc.stderr[-500:]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {
        i["metadata"]["name"].lower(): i["metadata"]["version"]
        for i in json.loads((tmp_path / "r.json").read_text())["install"]
    }
    assert names["copick"] == "1.32.0" and names["copick-torch"] == "1.2.1"
