"""copick 1.31.0 and ours open the same loopback portal datasets and agree (PORTAL.md §7).

1.31 is redirected by setting ``cryoet_data_portal._client.DEFAULT_URL`` and ``FSSPEC_S3_ENDPOINT_URL``.
Known differences: 1.31 cannot read an empty ndjson file (ours: an empty pick set); object labels and
colours are not compared (1.31 orders objects by a salted hash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from describe_portal_project import describe
from reference import run_reference

import copick


def _reference(portal: Any, s3: Any, tmp_path: Path, *args: str) -> dict[str, Any]:
    return run_reference(portal.url, s3, tmp_path, *args)


@pytest.fixture(scope="module")
def both(portal: Any, portal_s3: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each copick makes the project over both datasets, then opens the other's config."""
    tmp = tmp_path_factory.mktemp("portal-interop")
    ref = _reference(
        portal, portal_s3, tmp, "make", str(tmp / "ov-ref"), str(tmp / "ref.json"), "10001", "10002"
    )
    with pytest.MonkeyPatch.context() as mp:
        import fsspec.config

        mp.setenv("COPICK_PORTAL_URL", portal.url)
        mp.setenv("XDG_CACHE_HOME", str(tmp / "xdg-ours"))
        mp.setitem(fsspec.config.conf, "s3", {"endpoint_url": portal_s3.endpoint_url})
        root = copick.from_czcdp_datasets([10001, 10002], str(tmp / "ov-ours"), {"auto_mkdir": True},
                                          output_path=str(tmp / "ours.json"))  # fmt: skip
        ours = describe(root)
        ours_on_ref_config = describe(copick.from_file(str(tmp / "ref.json")))
    ref_on_our_config = _reference(portal, portal_s3, tmp, "open", str(tmp / "ours.json"))
    return {"ref": ref, "ours": ours, "ours@ref": ours_on_ref_config, "ref@ours": ref_on_our_config}


def _without_empty_picks(description: dict[str, Any]) -> dict[str, Any]:
    """Picks that 1.31 could not read (empty files) left out; ours reads them as empty sets."""
    runs = {}
    for name, run in description["runs"].items():
        picks = [p for p in run["picks"] if p[4] not in (None, [])]
        runs[name] = {**run, "picks": picks}
    return {**description, "runs": runs}


def test_runs_spacings_tomograms_picks_and_segmentations_agree(both: dict[str, Any]) -> None:
    ref, ours = both["ref"], both["ours"]
    assert ours["objects"] == ref["objects"]
    assert list(ours["runs"]) == list(ref["runs"]) == ["101", "102", "103", "104", "105"]
    assert _without_empty_picks(ours) == _without_empty_picks(ref)

    def empty_file(description: dict[str, Any]) -> Any:
        return next(p for p in description["runs"]["103"]["picks"] if p[0] == "cytosolic-ribosome")[4]

    assert empty_file(ours) == [] and empty_file(ref) is None  # 1.31 fails to read an empty ndjson


def test_configs_written_by_each_open_in_the_other(both: dict[str, Any]) -> None:
    assert _without_empty_picks(both["ours@ref"]) == _without_empty_picks(both["ref"])
    assert _without_empty_picks(both["ref@ours"]) == _without_empty_picks(both["ours"])
