"""Benchmark runner: our copick against copick 1.31.0 and against the physical limit.

    python bench/run.py [--smoke] [--repeats N] [--only NAME ...] [--no-ref] [--no-s3]

For every workload of ``bench/workloads.py``: generate the inputs deterministically
(untimed, cached in ``.cache/bench/inputs``), then run the same workload script as a fresh
subprocess under our interpreter, under the reference interpreter (``bench/refenv.py``)
and as the "limit" variant (the same work with the underlying libraries, run under our
interpreter), rotating the order every repeat so that machine noise spreads evenly.
Each subprocess times only its own timed section. The runner checks that the
implementations' checksums agree and prints a table of medians, ratios and peak memory;
the full results go to ``bench/results/`` as JSON.

A workload that fails for one implementation is reported as ERROR with the first line
of its error; the runner itself carries on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import refenv  # noqa: E402
import workloads as wl  # noqa: E402

WORKLOADS_PY = BENCH / "workloads.py"
CACHE = REPO / ".cache" / "bench"
RESULTS = BENCH / "results"
IMPLS = ("ours", "ref", "limit")
S3_BUCKET = "copick-bench"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class Spec:
    """A workload: its name, a one-line description, and its sizes in full and smoke mode."""

    name: str
    title: str
    full: dict[str, Any]
    smoke: dict[str, Any]
    s3: bool = False


SPECS: tuple[Spec, ...] = (
    Spec("import", "import copick (fresh interpreter)", {}, {}),
    Spec(
        "create_project",
        "config + N runs, each a voxel spacing, a tomogram (from_numpy) and picks",
        {"n_runs": 50, "tomo_shape": [64, 64, 64], "n_points": 20},
        {"n_runs": 3, "tomo_shape": [16, 16, 16], "n_points": 5},
    ),
    Spec(
        "enumerate_local",
        "list runs x 2 spacings x 2 tomograms x 5 picks + mesh + segmentation",
        {"n_runs": 200, "n_points": 20},
        {"n_runs": 5, "n_points": 3},
    ),
    Spec(
        "enumerate_s3",
        "same enumeration on a loopback S3 server (moto)",
        {"n_runs": 40, "n_points": 20},
        {"n_runs": 3, "n_points": 3},
        s3=True,
    ),
    Spec(
        "picks_read_many",
        "read every picks file of the enumeration tree (numpy())",
        {"n_runs": 200, "n_points": 20},
        {"n_runs": 5, "n_points": 3},
    ),
    Spec(
        "picks_write", "picks.from_numpy, N points with transforms", {"n_points": 100_000}, {"n_points": 1000}
    ),
    Spec("picks_read_numpy", "picks.numpy() of N points", {"n_points": 100_000}, {"n_points": 1000}),
    Spec("picks_read_points", "picks.points of N points", {"n_points": 100_000}, {"n_points": 1000}),
    Spec(
        "picks_write_big",
        "picks.from_numpy, 1M points with transforms",
        {"n_points": 1_000_000},
        {"n_points": 2000},
    ),
    Spec("picks_read_big", "picks.numpy() of 1M points", {"n_points": 1_000_000}, {"n_points": 2000}),
    Spec(
        "tomogram_write",
        "tomogram.from_numpy float32 + 3-level pyramid",
        {"shape": [256, 512, 512]},
        {"shape": [32, 64, 64]},
    ),
    Spec(
        "tomogram_read", "tomogram.numpy() level 0 whole", {"shape": [256, 512, 512]}, {"shape": [32, 64, 64]}
    ),
    Spec(
        "volumes_open_many",
        "a data loader: open N tomograms and read level 2 of each whole",
        {"n_runs": 200, "shape": [128, 128, 128]},
        {"n_runs": 3, "shape": [16, 16, 16]},
    ),
    Spec(
        "tomogram_regions",
        "random cubic regions via tomogram.numpy(x=, y=, z=)",
        {"shape": [256, 512, 512], "n_regions": 100, "region_size": 64},
        {"shape": [32, 64, 64], "n_regions": 5, "region_size": 16},
    ),
    Spec(
        "segmentation_io",
        "segmentation.from_numpy + numpy() uint8",
        {"shape": [256, 512, 512]},
        {"shape": [32, 64, 64]},
    ),
    Spec("cli_version", "`copick --version`, fresh subprocess (median of n)", {"n": 5}, {"n": 1}),
    Spec("cli_help", "`copick --help`, fresh subprocess (median of n)", {"n": 5}, {"n": 1}),
    Spec(
        "add_tomogram_mrc",
        "`copick add tomogram` float32 MRC -> 3-level OME-Zarr (limit: mrcfile + zarr)",
        {"shape": [256, 512, 512]},
        {"shape": [32, 64, 64]},
    ),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


# ---------------------------------------------------------------------------
# Inputs (deterministic, cached by their description)
# ---------------------------------------------------------------------------


def _cached(kind: str, desc: dict, build: Callable[[Path], None]) -> Path:
    """A directory holding the inputs described by ``desc``, built once by ``build(dir)``.

    Built in a private folder and renamed into place, so concurrent runners (parallel test
    workers) never see a half-built input. Holds data only, no absolute paths: it may be
    built under another name than the one it is used under.
    """
    key = hashlib.sha256(json.dumps([kind, desc, wl.OBJECTS], sort_keys=True).encode()).hexdigest()[:12]
    path = CACHE / "inputs" / f"{kind}-{key}"
    if path.exists():
        return path
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    build(tmp)
    (tmp / "inputs.json").write_text(json.dumps({"kind": kind, **desc}))
    try:
        tmp.rename(path)
    except OSError:  # another runner won the race: use its copy
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _config_for(work: Path, tag: str, project: Path | str, fs_args: dict | None = None) -> str:
    """Write a config for ``project`` into this runner's work folder; return its path."""
    work.mkdir(parents=True, exist_ok=True)
    return wl.write_config(str(work / f"{tag}.json"), str(project), fs_args)


def _rng(seed: int):
    import numpy as np

    return np.random.default_rng(seed)


def _picks_arrays(n: int, seed: int):
    rng = _rng(seed)
    positions = rng.uniform(0.0, 5000.0, (n, 3))
    transforms = wl.random_rotations(n, rng)
    ids = rng.integers(0, 1000, n)
    scores = rng.uniform(0.0, 1.0, n)
    return positions, transforms, ids, scores


def _mesh_glb() -> bytes:
    import trimesh

    return trimesh.Scene(trimesh.creation.icosphere(subdivisions=1, radius=50.0)).export(file_type="glb")


def build_enum_tree(project: Path, n_runs: int, n_points: int) -> None:
    """The enumeration project, written as plain files (no copick involved)."""
    glb = _mesh_glb()
    for i in range(n_runs):
        run = f"TS_{i:03d}"
        rdir = Path(wl.run_dir(str(project), run))
        rdir.mkdir(parents=True)
        (rdir / ".meta").write_text("meta")
        for vs in wl.ENUM_VOXEL_SIZES:
            vdir = rdir / f"VoxelSpacing{vs:.3f}"
            vdir.mkdir()
            (vdir / ".meta").write_text("meta")
            for tomo in wl.ENUM_TOMO_TYPES:
                wl.write_ome_zarr_stub(str(vdir / f"{tomo}.zarr"), (64, 64, 64), "<f4", vs, levels=3)
        for j, (user, session, obj) in enumerate(wl.ENUM_PICKS):
            pos, tr, ids, sc = _picks_arrays(n_points, seed=1000 * i + j)
            doc = wl.picks_document(obj, user, session, run, pos, tr, ids, sc)
            wl.write_picks_file(str(rdir / "Picks" / f"{user}_{session}_{obj}.json"), doc)
        (rdir / "Meshes").mkdir()
        (rdir / "Meshes" / "alice_1_membrane.glb").write_bytes(glb)
        wl.write_ome_zarr_stub(
            str(rdir / "Segmentations" / "10.000_bench_0_ribosome.zarr"), (64, 64, 64), "|u1", 10.0
        )


def _enum_project(n_runs: int, n_points: int) -> Path:
    def build(d: Path) -> None:
        build_enum_tree(d / "project", n_runs, n_points)

    return _cached("enum", {"n_runs": n_runs, "n_points": n_points}, build)


def _picks_project(n_points: int) -> Path:
    import numpy as np

    def build(d: Path) -> None:
        pos, tr, ids, sc = _picks_arrays(n_points, seed=7)
        np.save(d / "positions.npy", pos)
        np.save(d / "transforms.npy", tr)
        rdir = Path(wl.run_dir(str(d / "project"), "TS_001"))
        rdir.mkdir(parents=True)
        (rdir / ".meta").write_text("meta")
        doc = wl.picks_document("ribosome", "bench", "1", "TS_001", pos, tr, ids, sc)
        wl.write_picks_file(str(rdir / "Picks" / "bench_1_ribosome.json"), doc)

    return _cached("picks", {"n_points": n_points}, build)


def _volume(shape: Sequence[int], seed: int = 11):
    import numpy as np

    vol = _rng(seed).standard_normal(tuple(shape), dtype=np.float32)
    vol += np.float32(10.0)  # keep sums away from zero so relative checksums are meaningful
    return vol


def _tomogram_project(shape: Sequence[int]) -> Path:
    import numpy as np

    def build(d: Path) -> None:
        vol = _volume(shape)
        np.save(d / "volume.npy", vol)
        vdir = Path(wl.run_dir(str(d / "project"), "TS_001")) / "VoxelSpacing10.000"
        vdir.mkdir(parents=True)
        for folder in (vdir.parent, vdir):
            (folder / ".meta").write_text("meta")
        wl.write_ome_zarr(str(vdir / "wbp.zarr"), vol, 10.0, levels=3)

    return _cached("tomogram", {"shape": list(shape)}, build)


def _many_tomograms_project(n_runs: int, shape: Sequence[int]) -> Path:
    """``n_runs`` runs with one 3-level tomogram each (different data per run), copick 1.31's format."""

    def build(d: Path) -> None:
        for i in range(n_runs):
            vdir = Path(wl.run_dir(str(d / "project"), f"TS_{i:03d}")) / "VoxelSpacing10.000"
            vdir.mkdir(parents=True)
            for folder in (vdir.parent, vdir):
                (folder / ".meta").write_text("meta")
            wl.write_ome_zarr(str(vdir / "wbp.zarr"), _volume(shape, seed=100 + i), 10.0, levels=3)

    return _cached("many-tomograms", {"n_runs": n_runs, "shape": list(shape)}, build)


def _labels(shape: Sequence[int]) -> Path:
    import numpy as np

    def build(d: Path) -> None:
        rng = _rng(5)
        labels = np.zeros(tuple(shape), dtype=np.uint8)
        for _ in range(40):  # blobs: boxes of random size and place
            size = rng.integers(2, max(3, min(shape) // 3), 3)
            corner = [rng.integers(0, s - k) for s, k in zip(shape, size)]
            labels[tuple(slice(c, c + k) for c, k in zip(corner, size))] = 1
        np.save(d / "labels.npy", labels)

    return _cached("labels", {"shape": list(shape)}, build)


def _small_inputs(tomo_shape: Sequence[int], n_points: int) -> Path:
    import numpy as np

    def build(d: Path) -> None:
        np.save(d / "tomogram.npy", _volume(tomo_shape, seed=3))
        np.save(d / "positions.npy", _rng(4).uniform(0.0, 1000.0, (n_points, 3)))

    return _cached("create", {"tomo_shape": list(tomo_shape), "n_points": n_points}, build)


class S3Server:
    """A moto S3 server on 127.0.0.1 in a child process (ours to start and to stop).

    Its request log goes to a file: an unread pipe fills up after a few hundred requests
    and the server then blocks on writing its log, i.e. hangs.
    """

    def __init__(self, log_path: Path) -> None:
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log_path = log_path

    def _log_tail(self) -> str:
        try:
            return (self.log_path.read_text(errors="replace").strip().splitlines() or [""])[-1]
        except OSError:
            return ""

    def start(self, timeout: float = 30.0) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=refenv.clean_env(S3_CREDENTIALS)
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited: {self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return self.url
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not listen on port {port} within {timeout:.0f} s")

    def fs_args(self) -> dict:
        return {
            "endpoint_url": self.url,
            "key": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "secret": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def _s3_project(server: S3Server, work: Path, n_runs: int, n_points: int) -> str:
    """Upload the enumeration tree to the server; return the path of its config."""
    import s3fs

    local = _enum_project(n_runs, n_points) / "project"
    prefix = f"{S3_BUCKET}/enum-{n_runs}-{n_points}"
    fs = s3fs.S3FileSystem(**server.fs_args())
    if not fs.exists(S3_BUCKET):
        fs.mkdir(S3_BUCKET)
    files = [p for p in local.rglob("*") if p.is_file()]
    fs.put([str(p) for p in files], [f"{prefix}/{p.relative_to(local).as_posix()}" for p in files])
    return _config_for(work, "enum-s3", f"s3://{prefix}", server.fs_args())


def _mrc_tomogram(shape: Sequence[int]) -> Path:
    """A float32 MRC of ``_volume(shape)`` with voxel size 10 (written with mrcfile)."""

    def build(d: Path) -> None:
        import mrcfile

        with mrcfile.new(str(d / "tomogram.mrc"), overwrite=True) as mrc:
            mrc.set_data(_volume(shape))
            mrc.voxel_size = 10.0

    return _cached("mrc", {"shape": list(shape)}, build)


def prepare(spec: Spec, sizes: dict, work: Path, server: S3Server | None) -> dict:
    """Build the inputs of one workload; return the params handed to its subprocesses."""
    name = spec.name
    if name == "import":
        return {}
    if name == "create_project":
        d = _small_inputs(sizes["tomo_shape"], sizes["n_points"])
        return {
            "n_runs": sizes["n_runs"],
            "tomogram": str(d / "tomogram.npy"),
            "positions": str(d / "positions.npy"),
        }
    if name in ("enumerate_local", "picks_read_many"):
        d = _enum_project(sizes["n_runs"], sizes["n_points"])
        return {
            "config": _config_for(work, "enum", d / "project"),
            "project": str(d / "project"),
            "n_files": sizes["n_runs"] * len(wl.ENUM_PICKS),
        }
    if name == "enumerate_s3":
        assert server is not None
        return {"config": _s3_project(server, work, sizes["n_runs"], sizes["n_points"])}
    if name.startswith("picks_"):
        d = _picks_project(sizes["n_points"])
        return {
            "config": _config_for(work, f"picks-{sizes['n_points']}", d / "project"),  # one config per size
            "positions": str(d / "positions.npy"),
            "transforms": str(d / "transforms.npy"),
            "picks_file": wl.run_dir(str(d / "project"), "TS_001") + "/Picks/bench_1_ribosome.json",
        }
    if name.startswith("tomogram_"):
        d = _tomogram_project(sizes["shape"])
        params = {
            "config": _config_for(work, "tomogram", d / "project"),
            "volume": str(d / "volume.npy"),
            "tomogram_store": wl.run_dir(str(d / "project"), "TS_001") + "/VoxelSpacing10.000/wbp.zarr",
        }
        if name == "tomogram_regions":
            s = sizes["region_size"]
            rng = _rng(13)
            params["region_size"] = s
            params["regions"] = [
                [int(rng.integers(0, dim - s + 1)) for dim in sizes["shape"]]
                for _ in range(sizes["n_regions"])
            ]
        return params
    if name == "volumes_open_many":
        d = _many_tomograms_project(sizes["n_runs"], sizes["shape"])
        return {
            "config": _config_for(work, "many-tomograms", d / "project"),
            "project": str(d / "project"),
            "n_runs": sizes["n_runs"],
        }
    if name == "segmentation_io":
        return {"labels": str(_labels(sizes["shape"]) / "labels.npy")}
    if name in ("cli_version", "cli_help"):
        return {"n": sizes["n"]}
    if name == "add_tomogram_mrc":
        return {"mrc": str(_mrc_tomogram(sizes["shape"]) / "tomogram.mrc")}
    raise KeyError(name)


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float | None = None
    peak_mb: float | None = None
    checksum: Any = None
    versions: dict = field(default_factory=dict)
    error: str | None = None
    wall: float = 0.0


def run_jobs(
    python: str, jobs: Sequence[tuple[str, str, dict]], scratch: Path, timeout: float
) -> list[Outcome]:
    """Run workloads ``(name, kind, params)`` in ONE fresh subprocess, in order.

    Each job gets its own empty output folder. Never raises for the workloads' own
    failures: a job that reported no result (crash, timeout) gets an error outcome.
    """
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    payload = []
    for i, (name, kind, params) in enumerate(jobs):
        out = scratch / f"{i:02d}-{name}"
        out.mkdir()
        payload.append({"name": name, "kind": kind, "params": {**params, "out": str(out)}})
    if len(payload) == 1:
        (scratch / "params.json").write_text(json.dumps(payload[0]["params"]))
        args = [jobs[0][0], jobs[0][1], str(scratch / "params.json")]
    else:
        (scratch / "jobs.json").write_text(json.dumps(payload))
        args = ["--batch", str(scratch / "jobs.json")]
    t0 = time.perf_counter()
    failure = None
    try:
        proc = subprocess.run(
            [python, str(WORKLOADS_PY), *args],
            capture_output=True,
            text=True,
            cwd=str(scratch),
            env=refenv.clean_env(S3_CREDENTIALS),
            timeout=timeout,
        )
        stdout = proc.stdout
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        failure = f"exit {proc.returncode}: {tail}"[:300]
    except subprocess.TimeoutExpired as exc:
        out_bytes = exc.stdout or b""
        stdout = out_bytes.decode(errors="replace") if isinstance(out_bytes, bytes) else out_bytes
        failure = f"timeout after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    shutil.rmtree(scratch, ignore_errors=True)
    results = [
        json.loads(line[len(wl.RESULT_PREFIX) :])
        for line in stdout.splitlines()
        if line.startswith(wl.RESULT_PREFIX)
    ]
    outcomes = []
    for i, (name, _, _) in enumerate(jobs):
        res = results[i] if i < len(results) and results[i].get("name") == name else {"error": failure}
        outcomes.append(
            Outcome(
                seconds=res.get("seconds"),
                peak_mb=res.get("peak_mb"),
                checksum=res.get("checksum"),
                versions=res.get("versions", {}),
                error=res.get("error"),
                wall=wall / len(jobs),
            )
        )
    return outcomes


def checksums_agree(a: Any, b: Any, rel: float = 1e-6) -> bool:
    """Equal as data; floats within a relative tolerance (pyramids may round differently)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(checksums_agree(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(checksums_agree(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)
    return a == b


@dataclass
class Row:
    spec: Spec
    sizes: dict
    runs: dict[str, list[Outcome]] = field(default_factory=lambda: {k: [] for k in IMPLS})
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    def error(self, impl: str) -> str | None:
        return next((o.error for o in self.runs[impl] if o.error), None)

    def median(self, impl: str) -> float | None:
        vals = [o.seconds for o in self.runs[impl] if o.error is None and o.seconds is not None]
        return statistics.median(vals) if vals and self.error(impl) is None else None

    def peak(self, impl: str) -> float | None:
        vals = [o.peak_mb for o in self.runs[impl] if o.error is None and o.peak_mb is not None]
        return max(vals) if vals else None

    def checksum(self, impl: str) -> Any:
        return next((o.checksum for o in self.runs[impl] if o.error is None), None)

    def status(self, impls: Sequence[str]) -> str:
        if self.skipped:
            return "SKIPPED"
        errs = [i for i in impls if self.error(i)]
        if errs:
            return "ERROR(" + ",".join(errs) + ")"
        if any("mismatch" in n for n in self.notes):
            return "MISMATCH"
        return "ok"


def check_row(row: Row, impls: Sequence[str]) -> None:
    """Record checksum disagreements between implementations and between repeats."""
    for impl in impls:
        good = [o.checksum for o in row.runs[impl] if o.error is None]
        if any(not checksums_agree(good[0], c) for c in good[1:]):
            row.notes.append(f"{impl}: checksum mismatch between repeats")
    pairs = [("ours", "ref"), ("ours", "limit"), ("ref", "limit")]
    for a, b in pairs:
        if a not in impls or b not in impls or row.error(a) or row.error(b):
            continue
        ca, cb = row.checksum(a), row.checksum(b)
        if ca is None or cb is None:  # e.g. the import limit has nothing to compare
            continue
        if not checksums_agree(ca, cb):
            row.notes.append(
                f"checksum mismatch {a} vs {b}: {json.dumps(ca)[:200]} != {json.dumps(cb)[:200]}"
            )


def _fmt_s(v: float | None, err: str | None) -> str:
    if err:
        return "ERROR"
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def _fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den <= 0:
        return "-"
    r = num / den
    return f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def _fmt_mb(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def render_table(rows: Sequence[Row], impls: Sequence[str]) -> str:
    header = [
        "workload",
        "ours s",
        "ref s",
        "ref/ours",
        "limit s",
        "ours/limit",
        "peak MB ours/ref",
        "status",
    ]
    lines = [header]
    for r in rows:
        if r.skipped:
            lines.append([r.spec.name, "-", "-", "-", "-", "-", "-", "SKIPPED"])
            continue
        m = {i: r.median(i) for i in IMPLS}
        lines.append(
            [
                r.spec.name,
                _fmt_s(m["ours"], r.error("ours")),
                _fmt_s(m["ref"], r.error("ref")) if "ref" in impls else "n/a",
                _fmt_ratio(m["ref"], m["ours"]),
                _fmt_s(m["limit"], r.error("limit")),
                _fmt_ratio(m["ours"], m["limit"]),
                f"{_fmt_mb(r.peak('ours'))}/{_fmt_mb(r.peak('ref'))}",
                r.status(impls),
            ]
        )
    widths = [max(len(str(line[c])) for line in lines) for c in range(len(header))]

    def fmt(line: list[str]) -> str:
        cells = [
            str(v).ljust(w) if c in (0, 7) else str(v).rjust(w) for c, (v, w) in enumerate(zip(line, widths))
        ]
        return "| " + " | ".join(cells) + " |"

    sep = (
        "|"
        + "|".join(("-" * (w + 1) + ":") if c not in (0, 7) else "-" * (w + 2) for c, w in enumerate(widths))
        + "|"
    )
    return "\n".join([fmt(lines[0]), sep, *map(fmt, lines[1:])])


def render_notes(rows: Sequence[Row], impls: Sequence[str]) -> str:
    out = []
    for r in rows:
        if r.skipped:
            out.append(f"- {r.spec.name}: skipped: {r.skipped}")
        for impl in impls:
            if r.error(impl):
                out.append(f"- {r.spec.name} [{impl}]: {r.error(impl)}")
        out.extend(f"- {r.spec.name}: {n}" for n in r.notes)
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="copick benchmarks: ours vs copick 1.31.0 vs the limit")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat (for the test suite)")
    ap.add_argument(
        "--repeats", type=int, default=None, help="repeats per implementation (default 3; smoke 1)"
    )
    ap.add_argument(
        "--only", nargs="+", metavar="NAME", choices=[s.name for s in SPECS], help="run only these"
    )
    ap.add_argument("--no-ref", action="store_true", help="skip the reference (copick 1.31.0) side")
    ap.add_argument("--no-limit", action="store_true", help="skip the limit side")
    ap.add_argument("--no-s3", action="store_true", help="skip the loopback S3 workload")
    ap.add_argument("--ours-python", default=sys.executable, help="interpreter with our copick installed")
    ap.add_argument(
        "--batch",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run all workloads of an implementation in one process per repeat (default: on in smoke mode)",
    )
    ap.add_argument(
        "--parallel",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the implementations side by side (default: on in smoke mode; skews timings)",
    )
    ap.add_argument("--timeout", type=float, default=None, help="per-subprocess timeout in seconds")
    ap.add_argument(
        "--results", type=Path, default=None, help="results JSON path (default bench/results/...)"
    )
    return ap.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    sys.exit(128 + signum)  # unwinds through ``finally``: the S3 server and scratch go too


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    mode = "smoke" if ns.smoke else "full"
    repeats = ns.repeats or (1 if ns.smoke else 3)
    timeout = ns.timeout or (120.0 if ns.smoke else 900.0)
    specs = [s for s in SPECS if not ns.only or s.name in ns.only]
    batch = ns.smoke if ns.batch is None else ns.batch
    parallel = ns.smoke if ns.parallel is None else ns.parallel

    pythons = {"ours": ns.ours_python, "limit": ns.ours_python}
    impls = ["ours", "ref", "limit"]
    if ns.no_limit:
        impls.remove("limit")
    ref_note = ""
    if ns.no_ref:
        impls.remove("ref")
        ref_note = "reference skipped (--no-ref)"
    else:
        try:
            pythons["ref"] = refenv.reference_python()
        except refenv.RefEnvUnavailable as exc:
            impls.remove("ref")
            ref_note = f"reference unavailable: {str(exc).splitlines()[0]}"
            print(f"WARNING: {ref_note}", file=sys.stderr)

    rows = [Row(s, s.smoke if ns.smoke else s.full) for s in specs]
    server: S3Server | None = None
    work = CACHE / "work" / f"{os.getpid()}"  # configs and scratch of this runner only
    t_start = time.perf_counter()
    try:
        if any(r.spec.s3 for r in rows):
            if ns.no_s3:
                for r in rows:
                    if r.spec.s3:
                        r.skipped = "--no-s3"
            else:
                server = S3Server(work / "moto.log")
                try:
                    server.start()
                except Exception as exc:
                    for r in rows:
                        if r.spec.s3:
                            r.skipped = f"S3 server unavailable: {type(exc).__name__}: {exc}"
                    server = None
        ready: list[tuple[Row, dict]] = []
        for row in rows:
            if row.skipped:
                continue
            print(f"[bench] preparing inputs of {row.spec.name}", file=sys.stderr, flush=True)
            try:
                ready.append((row, prepare(row.spec, row.sizes, work, server)))
            except Exception as exc:
                row.skipped = f"input preparation failed: {type(exc).__name__}: {exc}"
        # Batches: one fresh process per implementation and repeat running every workload
        # (smoke); otherwise one fresh process per workload, implementation and repeat.
        batches = [ready] if batch else [[item] for item in ready]
        for batch_items in batches:
            label = ", ".join(r.spec.name for r, _ in batch_items)
            print(f"[bench] {label} ({mode}, {repeats}x)", file=sys.stderr, flush=True)
            for rep in range(repeats):
                order = impls[rep % len(impls) :] + impls[: rep % len(impls)]

                def run_impl(impl: str, items: list = batch_items) -> list[Outcome]:
                    kind = "limit" if impl == "limit" else "copick"
                    jobs = [(r.spec.name, kind, params) for r, params in items]
                    return run_jobs(pythons[impl], jobs, work / "scratch" / impl, timeout * len(jobs))

                if parallel:  # smoke: timings mean nothing, wall time does
                    with ThreadPoolExecutor(len(order)) as pool:
                        results = dict(zip(order, pool.map(run_impl, order)))
                else:
                    results = {impl: run_impl(impl) for impl in order}
                for impl in order:
                    for (r, _), o in zip(batch_items, results[impl]):
                        r.runs[impl].append(o)
                        state = o.error or f"{o.seconds:.3f} s, {o.peak_mb:.0f} MB"
                        print(
                            f"[bench]   {r.spec.name} {impl:5s} #{rep + 1}: {state}",
                            file=sys.stderr,
                            flush=True,
                        )
        for row, _ in ready:
            check_row(row, impls)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    table = render_table(rows, impls)
    notes = render_notes(rows, impls)
    how = "one process per implementation (batch)" if batch else "fresh process per workload"
    how += ", implementations in parallel" if parallel else ""
    print(f"copick benchmark ({mode}, median of {repeats}, {how}; seconds of the timed section)")
    if ref_note:
        print(ref_note)
    print(table)
    if notes:
        print("\nNotes:\n" + notes)

    versions: dict[str, dict] = {impl: {} for impl in impls}
    for r in rows:
        for impl in impls:
            for o in r.runs[impl]:
                versions[impl].update(o.versions)
    # which zarr each side ran (make bench-zarr2 runs ours under zarr 2.18)
    print("zarr: " + ", ".join(f"{impl} {versions[impl].get('zarr', '?')}" for impl in impls))
    results = {
        "mode": mode,
        "repeats": repeats,
        "batch": batch,
        "parallel": parallel,
        "argv": sys.argv if argv is None else list(argv),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "implementations": impls,
        "reference": ref_note or "copick 1.31.0",
        "versions": versions,
        "elapsed_s": round(time.perf_counter() - t_start, 1),
        "table": table,
        "workloads": {
            r.spec.name: {
                "title": r.spec.title,
                "sizes": r.sizes,
                "status": r.status(impls),
                "skipped": r.skipped,
                "notes": r.notes,
                **{
                    impl: {
                        "median_s": r.median(impl),
                        "peak_mb": r.peak(impl),
                        "error": r.error(impl),
                        "seconds": [o.seconds for o in r.runs[impl]],
                        "wall_s": [round(o.wall, 3) for o in r.runs[impl]],
                        "checksum": r.checksum(impl),
                    }
                    for impl in impls
                },
            }
            for r in rows
        },
    }
    path = ns.results
    if path is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"{stamp}-{mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    if ns.results is None:
        (RESULTS / f"latest-{mode}.json").write_text(json.dumps(results, indent=2))
    print(f"\nresults: {path}  ({results['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
