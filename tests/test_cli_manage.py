"""``copick cp``, ``copick mv`` and ``copick rm`` through click's test runner on a small local project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import copick
from cli_helpers import invoke
from cli_project import RUNS, make_project, picks_ids

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def project(tmp_path: Path) -> str:
    return make_project(tmp_path)


# --------------------------------------------------------------------------------------------------------
# cp / mv / rm
# --------------------------------------------------------------------------------------------------------


def test_cp_concrete(project: str) -> None:
    result = invoke(["cp", "picks", "ribosome:alice/1", "ribosome:carol/7"], config=project)
    assert result.exit_code == 0, result.output
    assert "Successfully copied 3 of 3 objects" in result.stderr
    assert result.stdout == ""
    root = copick.from_file(project)
    for name in RUNS:
        run = root.get_run(name)
        src = run.get_picks("ribosome", "alice", "1")[0]
        dst = run.get_picks("ribosome", "carol", "7")[0]
        np.testing.assert_array_equal(src.numpy()[0], dst.numpy()[0])
        np.testing.assert_array_equal(src.numpy()[1], dst.numpy()[1])


def test_cp_single_run_and_existing_target_fails(project: str) -> None:
    assert (
        invoke(
            ["cp", "picks", "ribosome:alice/1", "ribosome:carol/1", "-r", "TS_002"], config=project
        ).exit_code
        == 0
    )
    assert ("ribosome", "carol", "1") not in picks_ids(project, "TS_001")
    again = invoke(["cp", "picks", "ribosome:alice/1", "ribosome:carol/1", "--run", "TS_002"], config=project)
    assert again.exit_code == 1
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: 1 of 1 items failed") and "already exist" in last
    assert (
        invoke(
            ["cp", "picks", "ribosome:alice/1", "ribosome:carol/1", "-r", "TS_002", "--exit-zero"],
            config=project,
        ).exit_code
        == 0
    )
    assert (
        invoke(
            ["cp", "picks", "ribosome:alice/1", "ribosome:carol/1", "-r", "TS_002"],
            config=project,
            COPICK_EXIT_ZERO="1",
        ).exit_code
        == 0
    )
    ok = invoke(
        ["cp", "picks", "ribosome:alice/1", "ribosome:carol/1", "-r", "TS_002", "--overwrite"], config=project
    )
    assert ok.exit_code == 0


def test_cp_pattern_with_template(project: str) -> None:
    result = invoke(["cp", "picks", "ribosome:alice/*", "{object_name}:backup/{session_id}"], config=project)
    assert result.exit_code == 0, result.output
    assert {("ribosome", "backup", "1"), ("ribosome", "backup", "2")} <= picks_ids(project, "TS_001")
    assert ("ribosome", "backup", "1") in picks_ids(project, "TS_003")


def test_cp_regex_source(project: str) -> None:
    result = invoke(["cp", "picks", "re:pro.*:bob/.*", "{name}:copy/{user_id}-{session_id}"], config=project)
    assert result.exit_code == 0, result.output
    assert ("proteasome", "copy", "bob-1") in picks_ids(project, "TS_002")


def test_cp_pattern_to_single_target_is_refused(project: str) -> None:
    result = invoke(["cp", "picks", "ribosome:alice/*", "ribosome:dave/1", "-r", "TS_001"], config=project)
    assert result.exit_code == 1
    assert "would all be written to this target" in result.stderr
    assert ("ribosome", "dave", "1") not in picks_ids(project, "TS_001")


def test_cp_no_match_warns_and_succeeds(project: str) -> None:
    result = invoke(["cp", "picks", "ribosome:nobody/*", "ribosome:x/{session_id}"], config=project)
    assert result.exit_code == 0
    assert "No picks objects matched" in result.stderr


def test_cp_bad_uri_and_placeholder(project: str) -> None:
    bad = invoke(["cp", "picks", "a:b:c", "x:y/z"], config=project)
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: Invalid picks URI format")
    unknown = invoke(["cp", "picks", "ribosome:alice/1", "ribosome:x/{nope}"], config=project)
    assert unknown.exit_code == 1 and "Unknown placeholder" in unknown.stderr
    pattern = invoke(["cp", "picks", "ribosome:alice/1", "ribosome:*/1"], config=project)
    assert pattern.exit_code == 1 and "must not be a pattern" in pattern.stderr


def test_cp_unknown_run(project: str) -> None:
    result = invoke(["cp", "picks", "ribosome:alice/1", "ribosome:x/1", "-r", "TS_999"], config=project)
    assert result.exit_code == 1
    assert "Run 'TS_999' not found" in result.stderr


def test_cp_object_type_choice(project: str) -> None:
    result = invoke(["cp", "tomogram", "wbp@10", "x@10"], config=project)
    assert result.exit_code == 2


def test_cp_filaments_without_matches(project: str) -> None:
    result = invoke(["cp", "filaments", "ribosome:alice/1", "ribosome:x/1"], config=project)
    assert result.exit_code == 0, result.output
    assert "No filaments objects matched" in result.stderr


def test_cp_mesh(project: str) -> None:
    result = invoke(["cp", "mesh", "membrane:alice/1", "membrane:bob/2"], config=project)
    assert result.exit_code == 0, result.output
    run = copick.from_file(project).get_run("TS_001")
    assert {(m.user_id, m.session_id) for m in run.meshes} == {("alice", "1"), ("bob", "2")}
    src = Path(run.get_meshes(user_id="alice")[0].path).read_bytes()
    assert Path(run.get_meshes(user_id="bob")[0].path).read_bytes() == src


def test_cp_segmentation(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    run = copick.from_file(config).get_run("TS_001")
    labels = (np.arange(4 * 5 * 6).reshape(4, 5, 6) % 3).astype(np.uint8)
    run.new_segmentation(10.0, "membrane", "1", is_multilabel=True, user_id="alice").from_numpy(labels)
    result = invoke(
        ["cp", "segmentation", "membrane:alice/1@10.0?multilabel=true", "membrane:bob/{session_id}"],
        config=config,
    )
    assert result.exit_code == 0, result.output
    (copy,) = copick.from_file(config).get_run("TS_001").get_segmentations(user_id="bob")
    assert copy.is_multilabel and copy.voxel_size == 10.0
    np.testing.assert_array_equal(copy.numpy(), labels)
    resample = invoke(["cp", "segmentation", "membrane:alice/1@10.0", "membrane:bob/9@20"], config=config)
    assert resample.exit_code == 1 and "does not resample" in resample.stderr


def test_mv_moves_and_deletes_source(project: str) -> None:
    before = copick.from_file(project).get_run("TS_001").get_picks("ribosome", "alice", "2")[0].numpy()[0]
    result = invoke(["mv", "picks", "ribosome:alice/2", "ribosome:alice/renamed"], config=project)
    assert result.exit_code == 0, result.output
    ids = picks_ids(project, "TS_001")
    assert ("ribosome", "alice", "2") not in ids and ("ribosome", "alice", "renamed") in ids
    after = (
        copick.from_file(project).get_run("TS_001").get_picks("ribosome", "alice", "renamed")[0].numpy()[0]
    )
    np.testing.assert_array_equal(before, after)


def test_mv_failed_copy_keeps_source(project: str) -> None:
    invoke(["cp", "picks", "ribosome:alice/1", "ribosome:eve/1", "-r", "TS_001"], config=project)
    result = invoke(["mv", "picks", "ribosome:alice/1", "ribosome:eve/1"], config=project)
    assert result.exit_code == 1
    assert "1 of 3 items failed" in result.stderr
    assert ("ribosome", "alice", "1") in picks_ids(project, "TS_001")
    assert ("ribosome", "alice", "1") not in picks_ids(project, "TS_002")


def test_mv_onto_itself_is_refused(project: str) -> None:
    result = invoke(["mv", "picks", "ribosome:alice/1", "ribosome:alice/1", "-r", "TS_001"], config=project)
    assert result.exit_code == 1 and "same object" in result.stderr
    assert ("ribosome", "alice", "1") in picks_ids(project, "TS_001")


def test_rm_concrete(project: str) -> None:
    result = invoke(["rm", "picks", "ribosome:alice/2"], config=project)
    assert result.exit_code == 0, result.output
    assert "Successfully deleted 1 of 1 objects" in result.stderr
    assert ("ribosome", "alice", "2") not in picks_ids(project, "TS_001")


def test_rm_pattern_needs_force(project: str) -> None:
    result = invoke(["rm", "picks", "ribosome:*/*"], config=project)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert len(picks_ids(project, "TS_001")) == 2


def test_rm_dry_run_lists_on_stdout(project: str) -> None:
    result = invoke(["rm", "picks", "re:ribo", "--dry-run"], config=project)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == sorted(lines) and len(lines) == len(set(lines)) == 4
    assert "  - [TS_001] ribosome:alice/1" in lines
    assert len(picks_ids(project, "TS_001")) == 2


def test_rm_pattern_with_force(project: str) -> None:
    result = invoke(["rm", "picks", "*:alice/*", "--force"], config=project)
    assert result.exit_code == 0, result.output
    assert "Successfully deleted 4 of 4 objects" in result.stderr
    assert picks_ids(project, "TS_001") == set()
    assert picks_ids(project, "TS_002") == {("proteasome", "bob", "1")}


def test_rm_nothing_matched_warns(project: str) -> None:
    result = invoke(["rm", "mesh", "ribosome:nobody/1"], config=project)
    assert result.exit_code == 0
    assert "No mesh objects matched" in result.stderr


def test_rm_static_layer_is_refused(tmp_path: Path) -> None:
    static_cfg = make_project(tmp_path / "static")
    static_root = json.loads(Path(static_cfg).read_text())["overlay_root"]
    cfg = tmp_path / "overlay.json"
    document = json.loads(Path(static_cfg).read_text())
    document.update(static_root=static_root, overlay_root="local://" + str(tmp_path / "overlay"))
    cfg.write_text(json.dumps(document))
    result = invoke(["rm", "picks", "ribosome:alice/1", "-r", "TS_001"], config=str(cfg))
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert ("ribosome", "alice", "1") in picks_ids(static_cfg, "TS_001")
    moved = invoke(["mv", "picks", "ribosome:alice/1", "ribosome:alice/9", "-r", "TS_001"], config=str(cfg))
    assert moved.exit_code == 1 and "read-only" in moved.stderr
    copied = invoke(["cp", "picks", "ribosome:alice/1", "ribosome:alice/9", "-r", "TS_001"], config=str(cfg))
    assert copied.exit_code == 0, copied.output
    assert (tmp_path / "overlay/ExperimentRuns/TS_001/Picks/alice_9_ribosome.json").is_file()
