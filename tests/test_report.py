"""``copick report``: the page is opened in headless Chromium (Debian's ``chromium``, installed by
``.ci/system-packages.sh``); it loads without console errors, shows every run with the right counts,
and every image it references exists. Thumbnails are cached by content."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import copick
from copick.cli.report import report as report_command

OBJECTS = [
    {
        "name": "proteasome",
        "is_particle": True,
        "label": 1,
        "color": [255, 0, 0, 255],
        "radius": 60.0,
        "identifier": "GO:0000502",
        "emdb_id": "1234",
    },
    {
        "name": "ribosome",
        "is_particle": True,
        "label": 2,
        "color": [0, 200, 0, 255],
        "radius": 100.0,
        "pdb_id": "pdb 4V6X",
    },
    {"name": "membrane", "is_particle": False, "label": 3, "color": [0, 0, 255, 255]},
]
# run -> {(object, user, session): points}
PICKS = {
    "TS_001": {("proteasome", "alice", "1"): 7, ("ribosome", "alice", "1"): 3},
    "TS_002": {("proteasome", "bob", "2"): 11},
    "TS_003": {},
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "chromium is not installed (.ci/apt-packages.txt lists it; run bash .ci/system-packages.sh)"
            )
        pytest.skip("chromium is not installed (bash .ci/system-packages.sh installs it as root)")
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("report")
    config = str(base / "config.json")
    root = copick.new_config(config, str(base / "p"), "report test", "three runs", OBJECTS)
    rng = np.random.default_rng(0)
    for name, sets in PICKS.items():
        run = root.new_run(name)
        if name != "TS_003":  # a run without a tomogram
            vs = run.new_voxel_spacing(10.0)
            vs.new_tomogram("wbp").from_numpy(rng.normal(size=(24, 40, 48)).astype(np.float32), levels=2)
        for (obj, user, session), n in sets.items():
            run.new_picks(obj, session, user).from_numpy(rng.uniform(0, 400, (n, 3)))
    labels = np.zeros((24, 40, 48), np.uint8)
    labels[5:10, 5:10, 5:10] = 3
    root.get_run("TS_001").new_segmentation(
        10.0, "cells", "1", is_multilabel=True, user_id="alice"
    ).from_numpy(labels)
    return config


class _Page(HTMLParser):
    """Run cards, images, links and element texts by id of a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, dict[str, str]] = {}
        self.images: list[str] = []
        self.links: list[str] = []
        self.ids: dict[str, str] = {}
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        a = dict(attrs)
        if tag == "article" and "data-run" in a:
            self.runs[a["data-run"]] = a
        if tag == "img":
            self.images.append(a["src"])
        if tag == "a":
            self.links.append(a["href"])
        self._id = a.get("id")

    def handle_endtag(self, tag: str) -> None:
        self._id = None

    def handle_data(self, data: str) -> None:
        if self._id:
            self.ids[self._id] = self.ids.get(self._id, "") + data


def _browse(chromium: str, page: Path, tmp_path: Path, mode: list[str]) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *mode, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_the_report_opens_in_chromium_with_every_run_and_the_right_counts(
    project: str, tmp_path: Path
) -> None:
    chromium = _chromium()
    out = tmp_path / "report"
    result = CliRunner().invoke(report_command, ["-c", project, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = Path(result.stdout.strip())
    assert page == out / "index.html"

    dom = _browse(chromium, page, tmp_path, ["--dump-dom"])
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "</html>" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []  # no script errors, no refused resources
    parsed = _Page()
    parsed.feed(dom.stdout)
    assert sorted(parsed.runs) == sorted(PICKS)
    for name, sets in PICKS.items():
        card = parsed.runs[name]
        assert int(card["data-points"]) == sum(sets.values())
        assert int(card["data-pick-sets"]) == len(sets)
    assert parsed.ids["total-points"] == f"{sum(n for s in PICKS.values() for n in s.values())} points"
    assert parsed.ids["total-runs"] == "3 runs" and parsed.ids["total-segmentations"] == "1 segmentations"
    assert parsed.ids["check-summary"] == "No problems found."
    assert len(parsed.images) == 2  # TS_003 has no tomogram
    for src in parsed.images:
        with Image.open(out / src) as image:
            assert image.format == "PNG" and max(image.size) <= 360
    assert "https://amigo.geneontology.org/amigo/term/GO:0000502" in parsed.links
    assert "https://www.ebi.ac.uk/emdb/EMD-1234" in parsed.links
    assert "https://www.rcsb.org/structure/4V6X" in parsed.links

    shot = tmp_path / "shot.png"
    taken = _browse(chromium, page, tmp_path, ["--window-size=1200,1400", f"--screenshot={shot}"])
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape == (1400, 1200, 3) and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50


def test_thumbnails_are_cached_by_content(project: str, tmp_path: Path) -> None:
    from copick.ops.html_report import write_report

    out = tmp_path / "report"
    write_report(copick.from_file(project), str(out), check=False)
    first = {p.name: p.stat().st_mtime_ns for p in (out / "thumbs").iterdir()}
    assert len(first) == 2
    write_report(copick.from_file(project), str(out), check=False)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "thumbs").iterdir()} == first  # nothing re-rendered
    copick.from_file(project).get_run("TS_002").get_picks(object_name="proteasome")[0].from_numpy(
        np.ones((2, 3))
    )
    write_report(copick.from_file(project), str(out), check=False)
    now = {p.name for p in (out / "thumbs").iterdir()}
    assert len(now - set(first)) == 1  # only TS_002's picture changed
