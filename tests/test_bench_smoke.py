"""The benchmark runner cannot rot: its smoke mode runs every workload with both implementations.

``bench/run.py --smoke`` (tiny sizes, one repeat, one process per implementation) runs once per
test session, shared by the tests below (and by pytest-xdist workers, through a file lock).
No timing is asserted here: benchmarks are measured with ``make bench``, never in tests.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "bench" / "run.py"
sys.path.insert(0, str(REPO / "bench"))

import refenv  # noqa: E402

#: Every workload of issue 6; the runner must report each one.
WORKLOADS = (
    "import",
    "create_project",
    "enumerate_local",
    "enumerate_s3",
    "picks_read_many",
    "picks_write",
    "picks_read_numpy",
    "picks_read_points",
    "tomogram_write",
    "tomogram_read",
    "tomogram_regions",
    "segmentation_io",
    "cli_version",
    "cli_help",
    "add_tomogram_mrc",
)

#: Workloads whose implementation on our side has not landed yet: only these may report an
#: ERROR (or a checksum mismatch) for "ours". Add a name here while its code is in progress.
PENDING: frozenset[str] = frozenset()


def _run_smoke(results_path: Path) -> dict:
    args = [sys.executable, str(RUNNER), "--smoke", "--results", str(results_path)]
    ref_unavailable = None
    try:
        refenv.ensure_refenv()
    except refenv.RefEnvUnavailable as exc:
        ref_unavailable = str(exc)
        args.append("--no-ref")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=str(REPO))
    results = json.loads(results_path.read_text()) if results_path.exists() else None
    return {
        "returncode": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr[-5000:],
        "ref_unavailable": ref_unavailable,
        "results": results,
    }


@pytest.fixture(scope="session")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The outcome of one smoke run, computed once per test session (across xdist workers)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if run_id else base
    tag = run_id or "local"
    outcome_path = shared / f"bench-smoke-{tag}.json"
    with open(shared / f"bench-smoke-{tag}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not outcome_path.exists():
            outcome = _run_smoke(shared / f"bench-smoke-results-{tag}.json")
            outcome_path.write_text(json.dumps(outcome))
    return json.loads(outcome_path.read_text())


def _explain(smoke: dict) -> str:
    return f"\n--- stdout ---\n{smoke['stdout']}\n--- stderr (tail) ---\n{smoke['stderr']}"


def test_smoke_runner_completes_and_prints_a_row_per_workload(smoke: dict) -> None:
    assert smoke["returncode"] == 0, _explain(smoke)
    assert smoke["results"] is not None, _explain(smoke)
    table_rows = {
        line.split("|")[1].strip() for line in smoke["stdout"].splitlines() if line.startswith("| ")
    }
    for name in WORKLOADS:
        assert name in table_rows, f"no table row for {name}" + _explain(smoke)
        assert name in smoke["results"]["workloads"], name


def test_smoke_runs_the_s3_workload_on_a_loopback_server(smoke: dict) -> None:
    row = smoke["results"]["workloads"]["enumerate_s3"]
    assert row["skipped"] is None, row["skipped"]


def test_smoke_limit_side_runs_every_workload(smoke: dict) -> None:
    for name in WORKLOADS:
        row = smoke["results"]["workloads"][name]
        if row["skipped"]:
            continue
        assert row["limit"]["error"] is None, f"{name}: {row['limit']['error']}"
        assert row["limit"]["median_s"] is not None, name


def test_smoke_our_side_runs_every_workload_but_the_pending_ones(smoke: dict) -> None:
    problems = []
    for name in WORKLOADS:
        if name in PENDING:
            continue
        row = smoke["results"]["workloads"][name]
        if row["skipped"]:
            continue
        if row["ours"]["error"] is not None:
            problems.append(f"{name}: {row['ours']['error']}")
        problems.extend(f"{name}: {note}" for note in row["notes"] if "ours" in note)
    assert not problems, "\n".join(problems)


def test_smoke_reference_side_runs_every_workload(smoke: dict) -> None:
    if smoke["ref_unavailable"]:
        pytest.skip(f"reference side not run: {smoke['ref_unavailable'].splitlines()[0]}")
    problems = []
    for name in WORKLOADS:
        row = smoke["results"]["workloads"][name]
        if row["skipped"]:
            continue
        if row["ref"]["error"] is not None:
            problems.append(f"{name}: {row['ref']['error']}")
        notes = [n for n in row["notes"] if "ref" in n and not (name in PENDING and "ours" in n)]
        problems.extend(f"{name}: {note}" for note in notes)
    assert not problems, "\n".join(problems)
