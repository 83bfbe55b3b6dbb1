"""Portal datasets as a copick project, on the loopback portal: what users open, list, read and write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import synthetic

import copick

ALL = [10001, 10002]
CLASSES = 9  # entity classes fetched per project: one paginated query each


@pytest.fixture
def project(portal_env: Any, tmp_path: Any) -> tuple[Any, str]:
    """A project over both datasets made with from_czcdp_datasets; its config path."""
    cfg = str(tmp_path / "portal.json")
    root = copick.from_czcdp_datasets(
        ALL, str(tmp_path / "overlay"), {"auto_mkdir": True}, "me", output_path=cfg
    )
    return root, cfg


def test_objects_derived_from_annotations_in_object_id_order(project: tuple[Any, str]) -> None:
    root, cfg = project
    objects = [(o.identifier, o.name, o.label, o.is_particle) for o in root.pickable_objects]
    assert objects == [
        ("GO:0000502", "proteasome-complex", 1, True),
        ("GO:0005739", "mitochondrion", 2, False),
        ("GO:0016020", "membrane", 3, False),
        ("GO:0022626", "cytosolic-ribosome", 4, True),
        ("UniProtKB:P12345", "atp-synthase", 5, False),
    ]
    ribosome = root.get_object("cytosolic-ribosome")
    assert (ribosome.emdb_id, ribosome.pdb_id, ribosome.radius) == ("EMD-1234", "PDB-5ABC", 50)
    assert len({tuple(o.color) for o in root.pickable_objects}) == 5
    written = json.loads(Path(cfg).read_text())
    assert written["config_type"] == "cryoet_data_portal" and written["dataset_ids"] == ALL
    assert "portal_url" not in written  # configs we write open in copick 1.31
    assert written["version"] == copick.__version__  # as 1.31 writes its own version


def test_from_czcdp_datasets_has_the_131_signature() -> None:
    import inspect

    from copick.ops.open import from_czcdp_datasets

    for function in (copick.from_czcdp_datasets, from_czcdp_datasets):
        parameters = inspect.signature(function).parameters.values()
        assert [(p.name, p.default) for p in parameters] == [
            ("dataset_ids", inspect.Parameter.empty), ("overlay_root", inspect.Parameter.empty),
            ("overlay_fs_args", None), ("user_id", None), ("session_id", None), ("output_path", None),
        ]  # fmt: skip


def test_fetch_is_one_query_per_class_and_reopening_uses_the_cache(
    project: tuple[Any, str], portal_env: Any
) -> None:
    assert portal_env.total() == CLASSES and all(
        portal_env.counts[c] == 1 for c in ("runs", "annotationFiles")
    )
    portal_env.reset()
    root = copick.from_file(project[1])
    assert [r.name for r in root.runs] == ["101", "102", "103", "104", "105"]
    root.get_run("101").voxel_spacings[0].tomograms[0].numpy()
    assert portal_env.total() == 0


def test_opening_makes_no_request_and_get_run_shares_the_listing(
    project: tuple[Any, str], portal_env: Any
) -> None:
    cfg = json.loads(Path(project[1]).read_text())
    cfg["portal_cache"] = False
    portal_env.reset()
    root = copick.from_string(json.dumps(cfg))
    assert portal_env.total() == 0
    run = root.get_run("104")
    assert (run.portal_run_id, run.portal_run_name, run.portal_dataset_id) == (104, "TS_100", 10002)
    assert isinstance(run, copick.impl.cryoet_data_portal.CopickRunCDP)
    assert len(root.runs) == 5 and root.get_run("999") is None
    assert portal_env.total() == CLASSES


def test_tomograms_named_from_portal_fields_and_read_from_s3(project: tuple[Any, str]) -> None:
    run = project[0].get_run("102")
    vs = run.get_voxel_spacing(10.0)
    assert vs.meta.portal_vs_id == 1020
    assert [t.tomo_type for t in vs.tomograms] == ["wbp-raw", "wbp-denoised-denoiset-ctfdeconv"]
    tomo = vs.get_tomograms("wbp-denoised-denoiset-ctfdeconv")[0]
    assert tomo.meta.portal_tomo_id == 10201 and tomo.meta.portal_tomo_path.endswith("TS_002.zarr")
    assert tomo.meta.portal_metadata.portal_metadata.processing_software == "DenoisET"
    assert tomo.meta.portal_metadata.portal_authors == ["Ada Author"]
    np.testing.assert_array_equal(tomo.numpy(), synthetic.tomogram_data(102) + 1)
    np.testing.assert_array_equal(tomo.numpy("2"), synthetic.tomogram_data(102, 2) + 1)
    np.testing.assert_array_equal(
        tomo.numpy(x=slice(2, 9), z=slice(0, 4)), (synthetic.tomogram_data(102) + 1)[:4, :, 2:9]
    )


def test_portal_queries_filter_tomograms_and_picks(project: tuple[Any, str]) -> None:
    run = project[0].get_run("101")
    vs = run.get_voxel_spacing(10.0)
    denoised = vs.get_tomograms(
        "wbp-denoised-denoiset-ctfdeconv", portal_meta_query={"processing": "denoised"}
    )
    assert len(denoised) == 1 and not vs.get_tomograms(
        "wbp-raw", portal_meta_query={"processing": "denoised"}
    )
    assert len(vs.get_tomograms(portal_meta_query={"processing_software": "DenoisET"})) == 1
    assert len(run.get_picks(portal_author_query=["Eve"])) == 1
    run.new_picks("cytosolic-ribosome", "7").from_numpy(np.zeros((1, 3)))
    assert len(run.get_picks("cytosolic-ribosome", portal_meta_query={"ground_truth_status": True})) == 1


def test_picks_in_angstrom_with_rotations(project: tuple[Any, str]) -> None:
    run = project[0].get_run("101")
    points = run.get_picks("cytosolic-ribosome")[0]
    assert (points.user_id, points.session_id, points.trust_orientation) == ("data-portal", "101000", False)
    expected = synthetic.points_of(101, oriented=False)
    positions, transforms = points.numpy()
    np.testing.assert_allclose(positions, [[p["location"][a] * 10.0 for a in "xyz"] for p in expected])
    np.testing.assert_array_equal(transforms, np.broadcast_to(np.eye(4), (len(expected), 4, 4)))
    oriented = run.get_picks("proteasome-complex")[0]
    assert oriented.trust_orientation is True
    _, transforms = oriented.numpy()
    rotations = [p["xyz_rotation_matrix"] for p in synthetic.points_of(101, oriented=True)]
    np.testing.assert_allclose(transforms[:, :3, :3], rotations)
    np.testing.assert_array_equal(transforms[:, :3, 3], 0.0)
    assert oriented.meta.portal_metadata.portal_annotation.object_id == "GO:0000502"
    assert project[0].get_run("103").get_picks("cytosolic-ribosome")[0].numpy()[0].shape == (0, 3)


def test_segmentation_masks_and_instance_masks(project: tuple[Any, str]) -> None:
    run = project[0].get_run("105")
    assert [s.name for s in run.segmentations] == ["membrane", "atp-synthase"]  # the mrc file is not used
    membrane = run.get_segmentations(name="membrane")[0]
    assert (membrane.user_id, membrane.voxel_size, membrane.is_multilabel) == ("data-portal", 10.0, False)
    instance = run.get_segmentations(is_instance=True)[0]
    assert instance.name == "atp-synthase" and instance.meta.portal_metadata.voxel_spacing == 10.0
    mask = (synthetic.tomogram_data(105) > 0.5).astype(np.uint8)
    np.testing.assert_array_equal(membrane.numpy(), mask)
    np.testing.assert_array_equal(instance.numpy(), mask * 3)


def test_portal_entities_are_read_only_and_overlay_writes_reopen(project: tuple[Any, str]) -> None:
    root, cfg = project
    run = root.get_run("101")
    with pytest.raises(PermissionError, match=r"CryoET Data Portal annotation file 101000.*overlay"):
        run.get_picks("cytosolic-ribosome")[0].from_numpy(np.zeros((1, 3)))
    tomo = run.get_voxel_spacing(10.0).tomograms[0]
    with pytest.raises(PermissionError, match="CryoET Data Portal tomogram 10100"):
        tomo.from_numpy(np.zeros((4, 4, 4)))
    with pytest.raises(PermissionError):
        run.segmentations[0].from_numpy(np.zeros((4, 4, 4), dtype=np.uint8))
    run.new_picks("cytosolic-ribosome", "1").from_numpy(np.ones((2, 3)))
    tomo.new_features("sobel")
    root.new_run("my-run").new_voxel_spacing(7.5).new_tomogram("wbp").from_numpy(np.ones((4, 4, 4)))
    again = copick.from_file(cfg)
    assert [r.name for r in again.runs] == ["101", "102", "103", "104", "105", "my-run"]
    mine = again.get_run("101").get_picks("cytosolic-ribosome", user_id="me")[0]
    assert not mine.read_only and mine.numpy()[0].tolist() == [[1, 1, 1], [1, 1, 1]]
    # what plugins read to link entities to the portal (copick-shared-ui): portal entities only
    portal_picks = again.get_run("101").get_picks("cytosolic-ribosome", user_id="data-portal")[0]
    assert (portal_picks.meta.portal_annotation_id, portal_picks.directory) == (10100, None)
    assert not hasattr(mine.meta, "portal_annotation_id") and mine.path.startswith(str(Path(cfg).parent))
    assert again.get_run("101").overlay_path == str(Path(cfg).parent / "overlay" / "ExperimentRuns" / "101")
    assert (
        tomo.overlay_path.endswith("ExperimentRuns/101/VoxelSpacing10.000/wbp-raw.zarr") and tomo.portal_tomo
    )
    assert again.get_run("101").get_voxel_spacing(10.0).tomograms[0].get_features("sobel") is not None
    assert again.get_run("my-run").get_voxel_spacing(7.5).get_tomograms("wbp")[0].numpy().sum() == 64


def test_unknown_dataset_is_named(portal_env: Any, tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="no dataset with id 4242"):
        copick.from_czcdp_datasets([10001, 4242], str(tmp_path / "o"))


def test_config_written_by_131_opens(portal_env: Any, tmp_path: Any) -> None:
    membrane = {"name": "membrane", "is_particle": False, "identifier": "GO:0016020"}
    cfg = {
        "config_type": "cryoet_data_portal", "name": "p", "version": "1.31.0", "dataset_ids": [10002],
        "overlay_root": "local://" + str(tmp_path / "ov"), "overlay_fs_args": {"auto_mkdir": True},
        "pickable_objects": [membrane],
    }  # fmt: skip
    root = copick.from_string(json.dumps(cfg))
    assert [r.name for r in root.runs] == ["104", "105"]
    assert [s.name for s in root.get_run("104").segmentations] == ["membrane"]
    assert root.get_run("104").picks == []  # objects not in the config are not shown
    assert [d.id for d in root.datasets] == [10002]
