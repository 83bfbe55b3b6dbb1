"""``copick config export-croissant`` / ``mlcroissant`` / ``set-splits`` / ``append-croissant``: our
manifest of a project is the one copick 1.31.0 writes (same CSV bytes, same document but for the
writer's version and the date), copick 1.31.0 reads it as we do, the filters (runs, URIs, splits, no
file hashes) keep what they select, and edited manifests (splits, appended rows) read the same in
both. The reference runs as a subprocess (``test_croissant.py``'s helpers).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import copick
from cli_helpers import assert_one_error, invoke, ok
from copick.errors import UnsafePathError
from croissant_describe import describe
from test_croissant import RUNS, SPLIT_OF, SPLITS, expected, make_project, reference_export

pytestmark = pytest.mark.usefixtures("restore_logging")
CSVS = (
    "runs", "voxel_spacings", "tomograms", "features", "picks", "meshes", "segmentations",
    "instance_segmentations", "panoptic_segmentations", "objects",
)  # fmt: skip


def export(config: str, project: Path, *args: str) -> Path:
    """Our ``copick config export-croissant`` on the project; the manifest's path."""
    words = ["config", "export-croissant", "--config", config, "--project-root", str(project)]
    ok(invoke([*words, "--base-url", project.as_uri() + "/", *args]))
    return project / "Croissant" / "metadata.json"


@pytest.fixture(scope="module")
def twin_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """One project copied twice at the same path length ("ours", "refs"), exported by each side."""
    base = tmp_path_factory.mktemp("croissant-twins")
    make_project(base / "made")
    found = {}
    for side in ("ours", "refs"):
        shutil.copytree(base / "made", base / side)
        config = base / side / "config.json"
        config.write_text(config.read_text().replace(str(base / "made"), str(base / side)))
        found[side] = (str(config), base / side / "proj")
    return found


ARGS = [
    "--split",
    "train=TS_001",
    "--split",
    "custom=TS_003",
    "--runs",
    "TS_001,TS_003",
    "--picks",
    "ribosome:alice/*",
]


def _document(manifest: Path, side: str) -> dict:
    document = json.loads(manifest.read_text().replace(f"/{side}/", "/SIDE/"))
    for key in ("version", "datePublished"):
        document.pop(key)
    return document


def test_our_manifest_is_the_reference_manifest(twin_projects):
    ours = export(*twin_projects["ours"], *ARGS)
    refs = reference_export(*twin_projects["refs"], *ARGS)
    for name in CSVS:
        assert (ours.parent / f"{name}.csv").read_bytes() == (refs.parent / f"{name}.csv").read_bytes(), name
    assert _document(ours, "ours") == _document(refs, "refs")
    assert not ours.read_bytes().endswith(b"\n") and b"\r\n" in (ours.parent / "runs.csv").read_bytes()


def test_reference_reads_our_manifest_as_we_do(twin_projects, tmp_path):
    config, project = twin_projects["ours"]
    manifest = export(config, project, *SPLITS, "--force")
    theirs = reference_describe(manifest, tmp_path / "ref-overlay")
    assert theirs == expected(config, SPLIT_OF)
    assert describe(copick.from_croissant(str(manifest), str(tmp_path / "overlay"))) == theirs


def reference_cli(*args: str) -> None:
    """Run copick 1.31.0's ``copick`` with ``args``."""
    from test_croissant import refenv

    script = Path(refenv.reference_python(skip_if_unavailable=True)).parent / "copick"
    proc = subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=300, env=refenv.clean_env()
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def reference_describe(manifest: Path, overlay: Path) -> dict:
    """The project of ``manifest`` as copick 1.31.0 opens it (``croissant_describe.py``)."""
    from test_croissant import refenv

    script = Path(__file__).with_name("croissant_describe.py")
    proc = subprocess.run(
        [refenv.reference_python(skip_if_unavailable=True), str(script), str(manifest), str(overlay)],
        capture_output=True, text=True, timeout=300, cwd=overlay.parent, env=refenv.clean_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_filters_keep_what_they_select(tmp_path):
    config = make_project(tmp_path)
    root = copick.from_file(config)
    root.get_run("TS_002").new_picks("ribosome", "2", "bob").from_numpy(__import__("numpy").ones((2, 3)))
    manifest = export(config, tmp_path / "proj", "--runs", "TS_002", "--picks", "ribosome:bob/*",
                      "--tomograms", "nothing@10.0", "--no-file-sha256", "--objects", "membrane")  # fmt: skip
    opened = copick.from_croissant(str(manifest), str(tmp_path / "overlay"))
    assert [r.name for r in opened.runs] == ["TS_002"]
    run = opened.runs[0]
    assert [(p.user_id, p.session_id) for p in run.picks] == [("bob", "2")]
    assert run.voxel_spacings[0].tomograms == [] and run.split is None
    assert opened.splits == {}
    meshes = (manifest.parent / "meshes.csv").read_text().splitlines()
    assert meshes[1].endswith(",") and len(meshes) == 2
    assert (manifest.parent / "objects.csv").read_text().splitlines() == ["name,url"]


def test_rows_that_break_layout_rules_are_left_out_and_urls_stay_inside(tmp_path, caplog):
    config = make_project(tmp_path)
    manifest = export(config, tmp_path / "proj", "--no-file-sha256")
    tables = manifest.parent
    with open(tables / "runs.csv", "a") as f:
        f.write("../../evil,,train\n")
    with open(tables / "picks.csv", "a") as f:
        columns = (tables / "picks.csv").read_text().splitlines()[0].split(",")
        hostile = [
            {"run": "TS_001", "user_id": "../x", "session_id": "1", "object_name": "ribosome"},
            {"run": "TS_001", "user_id": "eve", "session_id": "1", "object_name": "ribosome",
             "url": "ExperimentRuns/../../outside.json"},
        ]  # fmt: skip
        for row in hostile:
            f.write(",".join(row.get(c, "") for c in columns) + "\n")
    (tmp_path / "outside.json").write_text("{}")
    opened = copick.from_croissant(str(manifest), str(tmp_path / "overlay"))
    assert [r.name for r in opened.runs] == list(RUNS)  # the bad run is not listed
    assert "runs.csv is left out: Run name '../../evil'" in caplog.text
    assert "picks.csv is left out: User ID '../x'" in caplog.text
    picks = {p.user_id: p for p in opened.get_run("TS_001").picks}
    assert sorted(picks) == ["alice", "eve"]
    with pytest.raises(UnsafePathError, match="would leave the project root"):
        picks["eve"].numpy()


def test_existing_manifest_needs_force_and_emit_config_opens(tmp_path):
    config = make_project(tmp_path)
    project = tmp_path / "proj"
    export(config, project)
    words = ["config", "export-croissant", "--config", config, "--project-root", str(project)]
    result = invoke([*words, "--base-url", project.as_uri()])
    assert_one_error(result, "metadata.json already exists", "--force")
    emitted = tmp_path / "mlc.json"
    overlay = tmp_path / "overlay"
    info = [
        "--dataset-name",
        "Curated",
        "--license",
        "MIT",
        "--cite-as",
        "Doe 2026",
        "--date-published",
        "2026-01-02",
    ]
    export(config, project, "--force", "--split", "test=TS_002", "--emit-config", str(emitted),
           "--config-overlay", str(overlay), *info)  # fmt: skip
    document = json.loads((project / "Croissant" / "metadata.json").read_text())
    assert [document[k] for k in ("name", "license", "citeAs", "datePublished")] == info[1::2]
    written = json.loads(emitted.read_text())
    assert written["config_type"] == "mlcroissant" and written["overlay_root"] == f"local://{overlay}"
    root = copick.from_file(str(emitted))
    assert root.mode == "B" and [r.name for r in root.get_runs_in_split("test")] == ["TS_002"]
    assert describe(root) == expected(config, {"TS_002": "test"})


def test_config_mlcroissant_writes_a_config_that_opens(tmp_path):
    config = make_project(tmp_path)
    manifest = export(config, tmp_path / "proj", *SPLITS)
    args = ["--croissant-url", str(manifest), "--overlay", str(tmp_path / "ov")]
    args += ["--overlay-fs-args", '{"a": 1}', "--static-fs-args", '{"auto_mkdir": true}']
    output, theirs = tmp_path / "mlc.json", tmp_path / "ref-mlc.json"
    ok(invoke(["config", "mlcroissant", *args, "--output", str(output)]))
    reference_cli("config", "mlcroissant", *args, "--output", str(theirs))
    written = json.loads(output.read_text())
    assert written == json.loads(theirs.read_text())
    assert written["overlay_root"] == f"local://{tmp_path / 'ov'}" and written["name"] == "copick project"
    root = copick.from_file(str(output))
    assert [r.name for r in root.runs] == list(RUNS) and root.runs[2].split == "val"
    bad = invoke(["config", "mlcroissant", "--croissant-url", str(manifest), "--overlay-fs-args", "[1]"])
    assert bad.exit_code == 2 and "JSON object" in bad.output
    words = ["config", "export-croissant", "--config", config, "--project-root", str(tmp_path / "proj")]
    empty = invoke([*words, "--base-url", "https://x.org/p", "--split", "test="])
    assert empty.exit_code == 2 and "no runs listed for split 'test'" in empty.output


def test_set_splits_edits_the_runs_table_and_both_implementations_read_it(tmp_path):
    config = make_project(tmp_path)
    manifest = export(config, tmp_path / "proj", *SPLITS)
    words = ["config", "set-splits", "--croissant", str(manifest)]
    ok(invoke([*words, "--split", "test=TS_003,TS_001", "--unassign", "TS_002"]))
    assert (manifest.parent / "runs.csv").read_text().splitlines()[1:] == [
        "TS_001,,test",
        "TS_002,,",
        "TS_003,,test",
    ]
    root = copick.from_croissant(str(manifest), str(tmp_path / "overlay"))
    assert root.splits == {"test": ["TS_001", "TS_003"]}
    theirs = reference_describe(manifest, tmp_path / "o2")
    assert {name: run["split"] for name, run in theirs["runs"].items()} == {
        "TS_001": "test",
        "TS_002": None,
        "TS_003": "test",
    }
    ok(invoke([*words, "--clear-all"]))
    assert copick.from_croissant(str(manifest), str(tmp_path / "overlay")).splits == {}
    assert "copick/splits" not in manifest.read_text()
    assert_one_error(invoke([*words, "--split", "train=TS_404"]), "no run TS_404")


def test_append_croissant_unions_rows_of_another_project(tmp_path):
    first, second = make_project(tmp_path / "a"), make_project(tmp_path / "b")
    manifest = export(first, tmp_path / "a" / "proj", "--runs", "TS_001", "--split", "train=TS_001")
    words = ["config", "append-croissant", "--croissant", str(manifest), "--source-config", second]
    ok(invoke([*words, "--runs", "TS_001,TS_002", "--picks", "ribosome:*/*", "--split", "val=TS_002"]))
    picks = (manifest.parent / "picks.csv").read_text().splitlines()
    source = json.loads(Path(second).read_text())["overlay_root"]
    assert [line.split(",")[5] for line in picks[1:]] == [
        f"{source}/ExperimentRuns/{run}/Picks/alice_1_ribosome.json" for run in ("TS_001", "TS_002")
    ]
    root = copick.from_croissant(str(manifest), str(tmp_path / "overlay"))
    assert root.splits == {"train": ["TS_001"], "val": ["TS_002"]}
    want = expected(second, {"TS_001": "train", "TS_002": "val"})
    want["runs"].pop("TS_003")
    assert describe(root) == want
    assert reference_describe(manifest, tmp_path / "ref-overlay") == want


def test_a_config_reading_a_manifest_is_a_source_as_in_the_reference(tmp_path):
    """export-croissant / append-croissant from an mlcroissant config: URLs relative to the manifest's
    data (export) or absolute under its base URL (append), byte for byte as 1.31 writes them."""
    config = make_project(tmp_path / "p")
    manifest = export(config, tmp_path / "p" / "proj")
    source = tmp_path / "mlc.json"
    source.write_text(
        json.dumps({"config_type": "mlcroissant", "pickable_objects": [], "croissant_url": str(manifest)})
    )
    for side, run in (("ours", lambda *words: ok(invoke(list(words)))), ("ref", reference_cli)):
        out = tmp_path / side
        run(
            "config",
            "export-croissant",
            "--config",
            str(source),
            "--project-root",
            str(out),
            "--base-url",
            "https://example.org/p/",
            "--runs",
            "TS_001",
            "--date-published",
            "2026-01-01",
        )
        run("config", "append-croissant", "--croissant", str(out / "Croissant" / "metadata.json"),
            "--source-config", str(source), "--runs", "TS_003")  # fmt: skip
    for name in CSVS:
        ours, theirs = (tmp_path / side / "Croissant" / f"{name}.csv" for side in ("ours", "ref"))
        assert ours.read_bytes() == theirs.read_bytes(), name
    picks = (tmp_path / "ours" / "Croissant" / "picks.csv").read_text().splitlines()
    assert [line.split(",")[5] for line in picks[1:]] == [
        "ExperimentRuns/TS_001/Picks/alice_1_ribosome.json",
        (tmp_path / "p" / "proj").as_uri() + "/ExperimentRuns/TS_003/Picks/alice_1_ribosome.json",
    ]


def test_rename_maps_apply_to_a_filesystem_project_as_in_the_reference(tmp_path):
    """--tomo-type-map / --object-name-map on a project's own rows (no portal columns filled), and
    the embedded objects renamed with their old name kept, as 1.31 writes them."""
    config = make_project(tmp_path / "p")
    project = tmp_path / "p" / "proj"
    args = ["--tomo-type-map", "wbp:wbpx", "--object-name-map", "ribosome:ribo,membrane:mem",
            "--date-published", "2026-01-01"]  # fmt: skip
    ours = export(config, project, *args).parent
    shutil.move(ours, tmp_path / "ours")
    theirs = reference_export(config, project, *args).parent
    for name in CSVS:
        assert (tmp_path / "ours" / f"{name}.csv").read_bytes() == (theirs / f"{name}.csv").read_bytes(), name
    documents = [json.loads((folder / "metadata.json").read_text()) for folder in (tmp_path / "ours", theirs)]
    ours_objects, their_objects = (d["copick:config"]["pickable_objects"] for d in documents)
    assert ours_objects == their_objects
    assert [(o["name"], o["metadata"]) for o in ours_objects] == [
        ("ribo", {"portal_original_name": "ribosome"}), ("mem", {"portal_original_name": "membrane"})
    ]  # fmt: skip
    tomograms = (tmp_path / "ours" / "tomograms.csv").read_text().splitlines()
    assert tomograms[1].split(",")[2] == "wbpx" and tomograms[1].endswith(",,")


def test_a_rename_copick_cannot_read_back_fails_before_anything_is_written(tmp_path):
    """A target name of a rename map is written as it is: one ``from_croissant`` would refuse (the
    config's object names) or leave out (copick's layout rules) is an error naming the option, the
    value and the rule, for export and append alike, before any file is written."""
    config = make_project(tmp_path)
    project = tmp_path / "proj"
    words = ["config", "export-croissant", "--config", config, "--project-root", str(project),
             "--base-url", project.as_uri() + "/"]  # fmt: skip
    cases = (
        (
            "--object-name-map",
            "ribosome:ribo some",
            "Object name 'ribo some' contains characters copick forbids in names",
            "use a name such as 'ribo-some'",
        ),
        ("--object-name-map", "membrane:mem,ribosome:.ribo", "Object name '.ribo'", "starts with '.'"),
        ("--tomo-type-map", "wbp:wbp/raw", "Tomogram type 'wbp/raw'", "contains '/'"),
    )
    for option, value, *rule in cases:
        assert_one_error(invoke([*words, option, value]), f"{option} {value.split(',')[-1]!r}", *rule)
    assert not (project / "Croissant").exists()
    manifest = export(config, project)
    written = {path.name: path.read_bytes() for path in manifest.parent.iterdir()}
    append = ["config", "append-croissant", "--croissant", str(manifest), "--source-config", config]
    assert_one_error(invoke([*append, "--object-name-map", "ribosome:ribo_some"]), "'ribo-some'")
    assert {path.name: path.read_bytes() for path in manifest.parent.iterdir()} == written


def test_a_session_id_template_giving_an_id_copick_cannot_read_back_is_an_error():
    """A templated session id is sanitized (an empty one keeps the portal's id) and must then pass
    copick's layout rules, or the manifest would list rows ``from_croissant`` leaves out."""
    from copick.errors import InvalidNameError
    from copick.ops.croissant_reshape import FACTS, Reshape, apply

    row = {"run": "TS_001", "user_id": "portal", "session_id": "0", "object_name": "ribosome",
           FACTS: {"method_type": "hand made", "authors": ["Ann"]}}  # fmt: skip
    templated = {t: apply({"picks": [row]}, Reshape(session_template=t))["picks"][0]["session_id"]
                 for t in ("{method_type}", "{no_such_field}")}  # fmt: skip
    assert templated == {"{method_type}": "hand-made", "{no_such_field}": "0"}
    with pytest.raises(InvalidNameError, match=r"--session-id-template '\.\{method_type\}': .*'\.hand-made'"):
        apply({"picks": [row]}, Reshape(session_template=".{method_type}"))


def test_a_malformed_uri_filter_is_an_error_even_when_no_run_is_selected(tmp_path):
    config = make_project(tmp_path)
    project = tmp_path / "proj"
    words = ["config", "export-croissant", "--config", config, "--project-root", str(project),
             "--base-url", project.as_uri() + "/", "--runs", "TS_404", "--picks", "re:("]  # fmt: skip
    assert_one_error(invoke(words), "Invalid picks URI format: 're:('", "not a valid regular expression")
    assert not (project / "Croissant").exists()
