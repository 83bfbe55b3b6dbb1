"""The CLI invocations of the interop test, and running them with one ``copick`` script.

Every invocation runs as a user runs it: the installed console script as a fresh subprocess, with the
written folder (``project.py``) as working directory, so the argument lists are the same text for both
implementations. The stages run in order, each seeing what the previous ones did; the invocations of
one stage touch different runs or files (or only read) and run side by side, to use both cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

import refenv  # noqa: E402

C = ("-c", "config.json")

#: Stages of (id, arguments after ``copick``), run in order; the invocations of one stage are independent
#: of each other (different runs or files, or read-only) and run side by side. Users and sessions name
#: the command that wrote them.
STAGES: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = (
    (
        ("new-run", ("new", "run", *C, "TS_100")),
        (
            "add-tomogram",
            ("add", "tomogram", "inputs/tomo.mrc", *C, "--run", "TS_001", "--tomo-type", "imported"),
        ),
        (
            "add-segmentation-binary",
            ("add", "segmentation", "inputs/mask.mrc", *C, "--run", "TS_002", "--name", "membrane",
             "--segmentation-type", "binary", "--user-id", "seguser", "--session-id", "4"),
        ),
        (
            "add-picks-csv",
            ("add", "picks", "inputs/picks.csv", *C, "--object-name", "proteasome", "--user-id", "csvuser",
             "--session-id", "5"),
        ),
    ),
    (
        ("new-voxelspacing", ("new", "voxelspacing", *C, "--run", "TS_100", "7.5")),
        (
            "add-segmentation-multilabel",
            ("add", "segmentation", "inputs/labels.mrc", *C, "--run", "TS_001", "--name", "organelles"),
        ),
        (
            "add-picks-star-tilt-series-pixels",
            ("add", "picks", "inputs/ts.star", *C, "--object-name", "ribosome", "--run", "TS_001",
             "--user-id", "starts"),
        ),
        (
            "add-picks-star-centered",
            ("add", "picks", "inputs/centered.star", *C, "--object-name", "ribosome", "--run", "TS_001",
             "--voxel-size", "10", "--user-id", "starcen"),
        ),
        ("cp-picks", ("cp", "picks", *C, "ribosome:alice/1", "ribosome:backup/1")),
        (
            "add-tomograms-dynamo",
            ("add", "tomograms-dynamo", *C, "--tomolist", "inputs/tomolist.doc", "--index-map",
             "inputs/index_map.csv", "--tomo-type", "dynamo", "--pyramid-levels", "2"),
        ),
        (
            "add-tomograms-relion",
            ("add", "tomograms-relion", *C, "--tomograms-star", "inputs/tomograms.star", "--base-dir", ".",
             "--half", "half2"),
        ),
        ("cp-picks-pattern", ("cp", "picks", *C, "*:csvuser/*", "{object_name}:copied/{session_id}")),
    ),
    (
        ("mv-picks", ("mv", "picks", *C, "ribosome:backup/1", "ribosome:moved/7")),
        ("rm-picks-regex", ("rm", "picks", *C, "--force", "-r", "TS_002", r"re:proteasome:cop\w+/\d")),
    ),
    (
        (
            "export-picks-csv-per-run",
            ("export", "picks", *C, "--picks-uri", "ribosome:alice/1", "--output-dir", "exp/csv",
             "--output-format", "csv"),
        ),
        (
            "export-picks-csv-combined",
            ("export", "picks", *C, "--picks-uri", "*:*/*", "--output-file", "exp/all.csv",
             "--output-format", "csv"),
        ),
        (
            "export-picks-star-per-run",
            ("export", "picks", *C, "--picks-uri", "ribosome:alice/1", "--output-dir", "exp/star",
             "--output-format", "star", "--voxel-size", "10"),
        ),
        (
            "export-picks-star-combined",
            ("export", "picks", *C, "--picks-uri", "ribosome:*/*", "--output-file", "exp/all.star",
             "--output-format", "star", "--voxel-size", "10", "--tilt-series-pixel-size", "2.5"),
        ),
        (
            "export-picks-star-filaments",
            ("export", "picks", *C, "--picks-uri", "proteasome:tracer/fil", "--output-dir", "exp/filstar",
             "--output-format", "star", "--voxel-size", "10", "--filament-columns", "on",
             "--polarity-from-filaments", "--half-sets", "filament"),
        ),
        (
            "export-picks-star-filaments-uri",
            ("export", "picks", *C, "--picks-uri", "proteasome:tracer/fil", "--output-file",
             "exp/filaments_uri.star", "--output-format", "star", "--voxel-size", "10",
             "--tilt-series-pixel-size", "2.5", "--filament-columns", "on", "--filaments-uri",
             "proteasome:other/x"),
        ),
        (
            "export-tomogram-mrc",
            ("export", "tomogram", *C, "--tomogram-uri", "wbp@10.0", "--output-dir", "exp/tomo",
             "--output-format", "mrc"),
        ),
        (
            "export-tomogram-mrc-level-1",
            ("export", "tomogram", *C, "--tomogram-uri", "imported@10.0", "--output-dir", "exp/tomo1",
             "--output-format", "mrc", "--level", "1"),
        ),
        (
            "export-segmentation-mrc",
            ("export", "segmentation", *C, "--segmentation-uri", "membrane:seguser/4@10.0", "--output-dir",
             "exp/seg", "--output-format", "mrc"),
        ),
    ),
)  # fmt: skip
INVOCATIONS = tuple(inv for stage in STAGES for inv in stage)

#: Issue 14: one-off invocations on a fresh copy of the project, compared by exit status and by the phrase
#: of copick 1.31.0's output that users match on (None: only the exit status). Independent of each other.
PHRASE_CHECKS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("add-object-three-colour-values", ("add", "object", *C, "--name", "x1", "--color", "255,0,0"),
     "four comma-separated values"),
    ("add-object-metadata-not-json", ("add", "object", *C, "--name", "x2", "--metadata", "notjson"),
     "valid JSON format"),
    ("sync-help", ("sync", "--help"), "Synchronize data between Copick projects"),
    ("add-tomogram-glob-matches-nothing", ("add", "tomogram", *C, "nomatch*.mrc"),
     "No files found matching pattern"),
    ("add-object-volume-not-a-particle",
     ("add", "object-volume", *C, "--object-name", "membrane", "--volume-path", "inputs/tomo.mrc",
      "--voxel-size", "10"),
     "not a particle object"),
    ("new-run-debug", ("new", "run", *C, "--debug", "TS_900"), None),
    ("add-picks-debug",
     ("add", "picks", "inputs/picks.csv", *C, "--object-name", "proteasome", "--user-id", "dbg", "--debug"),
     None),
    ("export-tomogram-debug",
     ("export", "tomogram", *C, "--tomogram-uri", "wbp@10.0", "--output-dir", "dbg", "--output-format", "mrc",
      "--debug"), None),
)  # fmt: skip
#: Side-by-side invocations of one stage (per implementation; both implementations run at once).
STAGE_WORKERS = 2


def cli_env() -> dict[str, str]:
    """The environment of a ``copick`` subprocess: no venv, PYTHONPATH or COPICK_* settings leaking in."""
    env = {k: v for k, v in refenv.clean_env().items() if not k.startswith("COPICK_")}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return env


def run_copick(script: Path | str, args: tuple[str, ...] | list[str], cwd: Path, timeout: float = 300) -> Any:
    """Run ``script args`` in ``cwd``; a JSON-able record of the outcome."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(script), *args], capture_output=True, text=True, cwd=str(cwd), env=cli_env(), timeout=timeout
    )
    return {
        "args": list(args),
        "returncode": proc.returncode,
        "stdout": proc.stdout[-40000:],
        "stderr": proc.stderr[-40000:],
        "seconds": round(time.perf_counter() - t0, 3),
    }


def run_all(script: Path | str, cwd: Path) -> dict[str, Any]:
    """Every invocation of :data:`STAGES`, stage after stage; ``{id: outcome}``."""
    out = {}
    with ThreadPoolExecutor(STAGE_WORKERS) as pool:
        for stage in STAGES:
            futures = {name: pool.submit(run_copick, script, args, cwd) for name, args in stage}
            out.update({name: f.result() for name, f in futures.items()})
    return out


def run_phrase_checks(script: Path | str, cwd: Path) -> dict[str, Any]:
    """Every invocation of :data:`PHRASE_CHECKS` (side by side); ``{id: outcome}``."""
    with ThreadPoolExecutor(STAGE_WORKERS) as pool:
        futures = {name: pool.submit(run_copick, script, args, cwd) for name, args, _ in PHRASE_CHECKS}
        return {name: f.result() for name, f in futures.items()}


def script_in(python: str | os.PathLike) -> Path:
    """The ``copick`` console script beside an interpreter (its venv's ``bin/``)."""
    return Path(os.path.abspath(python)).parent / "copick"
