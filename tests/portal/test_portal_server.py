"""The loopback portal itself: the official client's queries are answered, files are public-read."""

from __future__ import annotations

import json
from typing import Any

import synthetic


def test_official_client_finds_runs_and_nested_filters(portal_env: Any) -> None:
    import cryoet_data_portal as cdp

    client = cdp.Client(portal_env.url)
    runs = cdp.Run.find(client, [cdp.Run.dataset_id == 10002])
    assert sorted(r.name for r in runs) == ["TS_100", "TS_101"]
    tomos = cdp.Tomogram.find(
        client, [cdp.Tomogram.run.dataset_id._in([10001]), cdp.Tomogram.processing == "denoised"]
    )
    assert sorted(t.run_id for t in tomos) == [101, 102, 103]
    assert portal_env.counts["runs"] == 1 and portal_env.counts["tomograms"] == 1


def test_portal_files_read_anonymously(portal_env: Any, portal_s3: Any) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(anon=True, endpoint_url=portal_s3.endpoint_url)
    row = next(f for f in synthetic.tables()["annotationFiles"] if f["format"] == "ndjson")
    first = fs.cat_file(row["s3Path"]).splitlines()[0]
    assert set(json.loads(first)["location"]) == {"x", "y", "z"}
