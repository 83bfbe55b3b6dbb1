"""``copick config export-croissant`` / ``append-croissant`` from CryoET Data Portal datasets
(``--source-dataset-ids``) on the loopback portal: our CSV tables are byte for byte the ones copick
1.31.0 writes (with and without the rename, filter and session-template options), the manifest
document too but for the writer's version and the embedded objects' order, labels and colours (1.31
orders objects by a salted hash), and each copick reads the other's manifest to the same project.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from croissant_reference import listing
from reference import run_reference, run_reference_script

import copick
from cli_helpers import assert_one_error, invoke, ok
from croissant_describe import describe

SCRIPT = Path(__file__).with_name("croissant_reference.py")
CSVS = (
    "runs", "voxel_spacings", "tomograms", "features", "picks", "meshes", "segmentations",
    "instance_segmentations", "panoptic_segmentations", "objects",
)  # fmt: skip
#: Renames, CDP-only filters and a session template (a field the annotations lack is left empty).
RESHAPE = [
    "--runs", "101,102,104", "--split", "train=101,104", "--tomo-type-map", "wbp-raw:wbp",
    "--object-name-map", "cytosolic-ribosome:ribosome,membrane:mem",
    "--session-id-template", "{method_type}-{author}/{annotation_file_id}{no_such_field}",
    "--picks-portal-meta", "object_count=3.0,no_such_key=1",
    "--segmentations-portal-meta", "ground_truth_status=true",
]  # fmt: skip


def _reference_cli(portal: Any, s3: Any, home: Path, *args: str) -> None:
    run_reference_script(SCRIPT, portal.url, s3, home, "cli", *args)


def _ours(*args: str) -> None:
    ok(invoke(["config", *args]))


def _export_args(project: Path, *args: str) -> list[str]:
    return ["export-croissant", "--project-root", str(project), "--date-published", "2026-01-01", *args]


def _document(manifest: Path) -> dict[str, Any]:
    """The manifest without what may differ: the writer's version, the objects' order/labels/colours."""
    document = json.loads(manifest.read_text())
    document.pop("version")
    config = document["copick:config"]
    config.pop("version")
    objects = config.pop("pickable_objects")
    config["objects"] = sorted(
        [o["name"], o["identifier"], o["is_particle"], o["emdb_id"], o["pdb_id"], o["metadata"]]
        for o in objects
    )
    return document


def _without_splits(document: dict[str, Any]) -> dict[str, Any]:
    """The document without its splits record set and the runs' reference to it (1.31's append
    leaves them as they were; ours names the splits in use afterwards)."""
    record_sets = [r for r in document["recordSet"] if r["@id"] != "copick/splits"]
    for record_set in record_sets:
        for field in record_set["field"]:
            field.pop("references", None)
    return {**document, "recordSet": record_sets}


def _same_manifests(ours: Path, refs: Path, appended: bool = False) -> None:
    for name in CSVS:
        assert (ours.parent / f"{name}.csv").read_bytes() == (refs.parent / f"{name}.csv").read_bytes(), name
    if appended:
        assert _without_splits(_document(ours)) == _without_splits(_document(refs))
    else:
        assert _document(ours) == _document(refs)


def _rows(manifest: Path, table: str) -> list[dict[str, str]]:
    with open(manifest.parent / f"{table}.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def exports(portal: Any, portal_s3: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both datasets exported by each copick, plainly and reshaped (``RESHAPE``)."""
    import fsspec.config

    tmp = tmp_path_factory.mktemp("portal-croissant")
    for name, args in (("plain", []), ("reshaped", RESHAPE)):
        every = ["--source-dataset-ids", "10001,10002", *args]
        _reference_cli(portal, portal_s3, tmp, "config", *_export_args(tmp / f"ref-{name}", *every))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COPICK_PORTAL_URL", portal.url)
            mp.setenv("XDG_CACHE_HOME", str(tmp / "xdg-ours"))
            mp.setitem(fsspec.config.conf, "s3", {"endpoint_url": portal_s3.endpoint_url})
            _ours(*_export_args(tmp / f"ours-{name}", *every))
    return {
        p.name: p / "Croissant" / "metadata.json"
        for p in tmp.iterdir()
        if p.name.startswith(("ref-", "ours-"))
    }


def test_export_from_the_portal_is_the_reference_export(exports: dict[str, Path]) -> None:
    _same_manifests(exports["ours-plain"], exports["ref-plain"])
    manifest = exports["ours-plain"]
    document = json.loads(manifest.read_text())
    assert document["copick:baseUrl"] == "s3://cryoet-data-portal-public/"
    assert document["name"] == "CZ cryoET Data Portal Dataset"
    assert [r["portal_run_id"] for r in _rows(manifest, "runs")] == ["101", "102", "103", "104", "105"]
    picks = _rows(manifest, "picks")
    assert picks[0]["url"].startswith("10001/TS_001/Reconstructions/VoxelSpacing10.000/Annotations/")
    assert (picks[0]["user_id"], picks[0]["portal_object_name"], picks[0]["portal_annotation_id"]) == (
        "data-portal", "cytosolic ribosome", "10100",
    )  # fmt: skip
    assert _rows(manifest, "objects") == [] and _rows(manifest, "meshes") == []  # no maps, no meshes


def test_reshaped_export_is_the_reference_export(exports: dict[str, Path]) -> None:
    _same_manifests(exports["ours-reshaped"], exports["ref-reshaped"])
    manifest = exports["ours-reshaped"]
    picks = _rows(manifest, "picks")
    assert {(p["run"], p["object_name"], p["session_id"], p["portal_session_id"]) for p in picks} == {
        (run, name, f"manual-{author}-{run}0{n}0", f"{run}0{n}0")
        for run in ("101", "102", "104")
        for name, author, n in (("ribosome", "Eve", 0), ("proteasome-complex", "Bob-Picker", 1))
    }
    tomograms = _rows(manifest, "tomograms")
    assert {(t["tomo_type"], t["portal_tomo_type"]) for t in tomograms} == {
        ("wbp", "wbp-raw"), ("wbp-denoised-denoiset-ctfdeconv", "")
    }  # fmt: skip
    assert {s["name"] for s in _rows(manifest, "segmentations")} == {"mem"}
    objects = json.loads(manifest.read_text())["copick:config"]["pickable_objects"]
    assert {"name": "ribosome", "metadata": {"portal_original_name": "cytosolic-ribosome"}}.items() <= next(
        o for o in objects if o["name"] == "ribosome"
    ).items()


def test_each_copick_reads_the_others_portal_manifest(
    exports: dict[str, Path], portal_env: Any, portal_s3: Any, tmp_path: Path
) -> None:
    """The reshaped manifests (runs 101, 102, 104: 1.31 cannot read run 103's empty ndjson file)."""
    mine, theirs = (exports[f"{side}-reshaped"] for side in ("ours", "ref"))
    ours_on_theirs = copick.from_croissant(str(theirs), static_fs_args={"anon": True})
    theirs_on_ours = run_reference(portal_env.url, portal_s3, tmp_path, "describe", str(mine), script=SCRIPT)
    assert listing(ours_on_theirs) == theirs_on_ours
    full = describe(ours_on_theirs)  # ours reads the data too: tomograms, masks
    assert full == describe(copick.from_croissant(str(mine), static_fs_args={"anon": True}))
    run = full["runs"]["101"]
    assert run["split"] == "train" and run["spacings"]["10.0"]["wbp"]["data"][0] == [16, 24, 32]
    ribosome = next(p for p in run["picks"] if p[0] == "ribosome")
    assert ribosome[1:3] == ["data-portal", "manual-Eve-101000"] and ribosome[3][0][1] == 3
    assert [s[:3] for s in run["segmentations"]] == [
        ["atp-synthase", "data-portal", "manual-Bob-Picker-101040"],
        ["mem", "data-portal", "manual-Bob-Picker-101020"],
    ]


def test_append_from_the_portal_is_the_reference_append(
    exports: dict[str, Path], portal_env: Any, portal_s3: Any, tmp_path: Path
) -> None:
    """Runs 103 and 105 appended to the reshaped export (101, 102, 104): the runs table stays sorted."""
    args = ["--source-dataset-ids", "10001,10002", "--runs", "103,105",
            "--object-name-map", "cytosolic-ribosome:ribosome",
            "--session-id-template", "{method_type}", "--picks-portal-meta", "ground_truth_status=true",
            "--split", "val=105"]  # fmt: skip
    manifests = {}
    for side in ("ours", "ref"):
        shutil.copytree(exports["ours-reshaped"].parents[1], tmp_path / side)
        manifests[side] = tmp_path / side / "Croissant" / "metadata.json"
    _ours("append-croissant", "--croissant", str(manifests["ours"]), *args)
    _reference_cli(portal_env, portal_s3, tmp_path, "config", "append-croissant", "--croissant",
                   str(manifests["ref"]), *args)  # fmt: skip
    _same_manifests(manifests["ours"], manifests["ref"], appended=True)
    record_sets = json.loads(manifests["ours"].read_text())["recordSet"]
    splits = next(r for r in record_sets if r["@id"] == "copick/splits")["data"]
    assert [s["copick/splits/name"] for s in splits] == ["train", "val"]
    runs = _rows(manifests["ours"], "runs")
    assert [(r["name"], r["split"]) for r in runs] == [
        ("101", "train"), ("102", ""), ("103", ""), ("104", "train"), ("105", "val")
    ]  # fmt: skip
    picks = [p for p in _rows(manifests["ours"], "picks") if p["session_id"] == "manual"]
    assert [(p["run"], p["object_name"]) for p in picks] == [("103", "ribosome"), ("105", "ribosome")]
    assert picks[1]["url"].startswith("s3://cryoet-data-portal-public/10002/TS_101/")


def test_append_from_a_manifest_of_portal_data_keeps_the_files_urls(
    exports: dict[str, Path], portal_env: Any, tmp_path: Path
) -> None:
    """A config reading a portal manifest as the source: its rows name the portal's files.
    (copick 1.31 writes the copick layout's paths under the bucket instead, where nothing is.)"""
    plain = exports["ours-plain"]
    source = tmp_path / "mlc.json"
    reading = {"croissant_url": str(plain), "static_fs_args": {"anon": True}}
    source.write_text(json.dumps({"config_type": "mlcroissant", "pickable_objects": [], **reading}))
    shutil.copytree(plain.parents[1], tmp_path / "dest")
    dest = tmp_path / "dest" / "Croissant" / "metadata.json"
    _ours("append-croissant", "--croissant", str(dest), "--source-config", str(source), "--runs", "105")
    appended = [p for p in _rows(dest, "picks") if p["run"] == "105"]
    listed = [p for p in _rows(plain, "picks") if p["run"] == "105"]
    assert [p["url"] for p in appended] == [f"s3://cryoet-data-portal-public/{p['url']}" for p in listed]
    assert [(p["sha256"], p["voxel_size"]) for p in appended] == [(p["sha256"], "10.0") for p in listed]
    opened = copick.from_croissant(str(dest), static_fs_args={"anon": True})
    assert len(opened.get_run("105").picks[0].numpy()[0]) == 3 + 105 % 3


def test_tomogram_filters_select_by_portal_metadata_and_authors(portal_env: Any, tmp_path: Path) -> None:
    """(copick 1.31's tomogram filters drop every tomogram of this portal, matching or not.)"""
    common = ["--source-dataset-ids", "10001", "--runs", "101"]
    _ours(
        *_export_args(
            tmp_path / "a", *common, "--tomograms-portal-meta", "ctf_corrected=true,processing=denoised"
        )
    )
    _ours(*_export_args(tmp_path / "b", *common, "--tomograms-author", "Ada Author", "--no-file-sha256"))
    _ours(*_export_args(tmp_path / "c", *common, "--tomograms-author", "Nobody", "--picks-author", "Eve"))
    found = {
        p: [t["portal_tomogram_id"] for t in _rows(tmp_path / p / "Croissant" / "metadata.json", "tomograms")]
        for p in "abc"
    }
    assert found == {"a": ["10101"], "b": ["10100", "10101"], "c": []}
    picks = _rows(tmp_path / "c" / "Croissant" / "metadata.json", "picks")
    assert [p["portal_annotation_id"] for p in picks] == ["10100"]
    unhashed = _rows(tmp_path / "b" / "Croissant" / "metadata.json", "picks")
    assert [(p["sha256"], p["voxel_size"]) for p in unhashed] == [("", "10.0"), ("", "10.0")]


def test_source_options_are_checked(portal_env: Any, tmp_path: Path) -> None:
    config = tmp_path / "fs.json"
    copick.new_config(str(config), str(tmp_path / "proj"))
    both = invoke(
        ["config", *_export_args(tmp_path / "x", "--config", str(config), "--source-dataset-ids", "1")]
    )
    neither = invoke(["config", *_export_args(tmp_path / "x")])
    cdp_only = ["--picks-author", "Eve", "--session-id-template", "{id}"]
    portal_only = invoke(
        [
            "config",
            *_export_args(tmp_path / "x", "--config", str(config), "--base-url", "file:///x/", *cdp_only),
        ]
    )
    no_base = invoke(["config", *_export_args(tmp_path / "x", "--config", str(config))])
    for result in (both, neither, portal_only, no_base):
        assert result.exit_code == 2, result.output
    assert "--picks-author, --session-id-template" in portal_only.output and "--base-url" in no_base.output
    bad_map = invoke(["config", *_export_args(tmp_path / "x", "--source-dataset-ids", "10001",
                                                "--tomo-type-map", "wbp")])  # fmt: skip
    assert_one_error(bad_map, "--tomo-type-map", "'wbp'")
    typo = invoke(["config", *_export_args(tmp_path / "y", "--source-dataset-ids", "10001", "--runs", "101",
                                             "--split", "train=101,999")])  # fmt: skip
    assert_one_error(typo, "train: 999")
    assert not (tmp_path / "y" / "Croissant" / "metadata.json").exists()


def test_export_of_a_portal_config_lists_its_overlay_files_by_path(
    portal_env: Any, portal_s3: Any, tmp_path: Path
) -> None:
    """A portal project's config is a portal source (CDP-only options allowed, no --base-url needed);
    the picks its overlay holds are listed by their absolute path, as 1.31 lists them."""
    import numpy as np

    config = tmp_path / "cdp.json"
    root = copick.from_czcdp_datasets(
        [10001], str(tmp_path / "ov"), {"auto_mkdir": True}, output_path=str(config)
    )
    root.get_run("101").new_picks("cytosolic-ribosome", "s1", "alice").from_numpy(np.ones((2, 3)))
    args = ["--config", str(config), "--runs", "101", "--session-id-template", "{method_type}"]
    _ours(*_export_args(tmp_path / "ours", *args))
    _reference_cli(portal_env, portal_s3, tmp_path, "config", *_export_args(tmp_path / "ref", *args))
    ours, refs = (tmp_path / side / "Croissant" / "metadata.json" for side in ("ours", "ref"))
    _same_manifests(ours, refs)
    alice = next(p for p in _rows(ours, "picks") if p["user_id"] == "alice")
    assert alice["url"] == str(tmp_path / "ov/ExperimentRuns/101/Picks/alice_s1_cytosolic-ribosome.json")
    opened = copick.from_croissant(str(ours), static_fs_args={"anon": True})
    points = next(p for p in opened.get_run("101").picks if p.user_id == "alice").numpy()[0]
    assert points.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
