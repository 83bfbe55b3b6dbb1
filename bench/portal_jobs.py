"""The portal benchmark's child side: one timed job in a fresh interpreter, run as a script.

    python bench/portal_jobs.py {copick|limit} PARAMS_JSON

``copick`` times the same text under our copick and copick 1.31.0 (``impl`` in the params tells which:
1.31's client is redirected to the fake portal here); ``limit`` gets the same answers without copick
(two GraphQL POSTs with urllib saved to a JSON file, or that file when it exists, then
``zarr.open_group`` of the tomogram's level on anonymous s3fs). The job prints one line,
``RESULT_PREFIX`` + JSON: seconds, seconds with ``import copick``, the checksum (run names in listing
order, the level's shape and sum) and peak RSS, or the error. ``bench/bench_portal.py`` runs it.
Only the standard library is imported at module level: the parent imports the constants from here.
"""

from __future__ import annotations

import json
import sys
import time
import zlib
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH_PORTAL "
DATASETS = [10001, 10002]
RUN, VOXEL, TOMO_TYPE, LEVEL = "101", 10.0, "wbp-raw", "2"

RUNS_QUERY = "query($ids: [Int!]) { runs(where: {datasetId: {_in: $ids}}, orderBy: [{id: asc}]) { id name } }"
TOMOGRAMS_QUERY = (
    "query($run: Int!) { tomograms(where: {runId: {_eq: $run}}, orderBy: [{id: asc}]) "
    "{ id voxelSpacing reconstructionMethod processing processingSoftware ctfCorrected s3OmezarrDir } }"
)


def checksum(names: list[str], data: Any) -> dict[str, Any]:
    """What the three implementations must agree on: the run names (in listing order) and the level."""
    return {
        "runs": len(names),
        "names_crc": zlib.crc32("\n".join(names).encode()),  # listing order included
        "first_names": names[:3],
        "shape": list(data.shape),
        "sum": float(data.astype("float64").sum()),
    }


def job_copick(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """The timed section under a copick (ours or 1.31); ``import copick`` timed apart (``import_s``)."""
    t_import = time.perf_counter()
    if p["impl"] == "ref":  # copick 1.31 has no setting for the portal URL (PORTAL.md §7)
        import cryoet_data_portal._client

        cryoet_data_portal._client.DEFAULT_URL = p["url"]
    import copick  # ours reads COPICK_PORTAL_URL

    t0 = time.perf_counter()
    import_seconds = t0 - t_import
    root = copick.from_file(p["config"])
    names = [r.name for r in root.runs]
    tomogram = root.get_run(RUN).get_voxel_spacing(VOXEL).get_tomograms(TOMO_TYPE)[0]
    data = tomogram.numpy(zarr_group=LEVEL)
    seconds = time.perf_counter() - t0
    return seconds, {**checksum(names, data), "copick": copick.__version__, "import_s": import_seconds}


def post(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL POST with urllib; the answer's ``data``."""
    import urllib.request

    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def job_limit(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """The same answers without copick: two POSTs cached in a JSON file, then zarr on anonymous s3fs."""
    import zarr

    cache = Path(p["work"]) / "limit-cache.json"
    t0 = time.perf_counter()
    if cache.exists():
        answers = json.loads(cache.read_text())
    else:
        answers = {
            "runs": post(p["url"], RUNS_QUERY, {"ids": DATASETS})["runs"],
            "tomograms": post(p["url"], TOMOGRAMS_QUERY, {"run": int(RUN)})["tomograms"],
        }
        cache.write_text(json.dumps(answers))
    names = [str(r["id"]) for r in answers["runs"]]
    kinds = {
        (t["voxelSpacing"], t["reconstructionMethod"].lower(), t["processing"]): t
        for t in answers["tomograms"]
        if not t["processingSoftware"] and not t["ctfCorrected"]
    }
    tomo = kinds[(VOXEL, "wbp", "raw")]
    group = zarr.open_group(tomo["s3OmezarrDir"], mode="r", storage_options={"anon": True})
    data = group[LEVEL][...]
    seconds = time.perf_counter() - t0
    return seconds, checksum(names, data)


def child_main(kind: str, params_path: str) -> int:
    """Run one job (the libraries the limit uses imported first, untimed) and print its result line."""
    import traceback

    from bench_harness import peak_mb  # this script's folder is first on sys.path

    for module in ("numpy", "zarr", "fsspec", "s3fs"):
        __import__(module)
    params = json.loads(Path(params_path).read_text())
    try:
        seconds, sums = (job_limit if kind == "limit" else job_copick)(params)
        import_s = sums.pop("import_s", 0.0)
        result = {
            "seconds": seconds,
            "with_import": seconds + import_s,
            "checksum": sums,
            "peak_mb": peak_mb(),
        }
    except Exception as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        result = {"error": f"{type(exc).__name__}: {first}"[:300], "peak_mb": peak_mb()}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.argv[2]))
