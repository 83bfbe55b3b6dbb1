"""Property tests of the naming rules: identity -> file name -> identity, and bad names rejected."""

from __future__ import annotations

import string
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copick import layout
from copick.util.escape import sanitize_name

# Valid names: anything the name rule leaves unchanged (letters incl. non-ASCII, digits, . - + , ...).
_ALLOWED = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
    blacklist_characters='<>:"/\\|?*_\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85',
)
valid_names = st.text(_ALLOWED, min_size=1, max_size=20).filter(
    lambda s: s.strip("-") == s and s and not s.startswith(".")
)
voxel_sizes = (
    st.floats(min_value=0.001, max_value=10000, allow_nan=False)
    .map(lambda v: round(v, 3))
    .filter(lambda v: v > 0)
)


@given(valid_names)
def test_valid_names_pass_the_name_rule_unchanged(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sanitize_name(name) == name


@given(st.text(min_size=1, max_size=20))
def test_sanitized_names_are_stable_and_free_of_separators(raw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clean = sanitize_name(raw)
        except ValueError as err:
            assert "empty" in str(err)
            return
    assert "_" not in clean and "/" not in clean and not any(c.isspace() for c in clean)
    assert sanitize_name(clean) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("a_b", "a-b"), (" x ", "x"), ("a/b", "a-b"), ("a:b", "a-b"), ("a.b", "a.b"), ("ä", "ä")],
)
def test_sanitize_examples_from_the_format_spec(raw, clean):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert sanitize_name(raw) == clean


def test_sanitize_warns_when_it_changes_a_name_and_rejects_empty_results():
    with pytest.warns(UserWarning, match="sanitized"):
        sanitize_name("me_you")
    with pytest.raises(ValueError, match="empty"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sanitize_name("__")


@given(valid_names, valid_names, valid_names, st.sampled_from([".json", ".glb"]))
def test_picks_and_mesh_file_names_round_trip(user, session, obj, ext):
    name = layout.annotation_file_name(user, session, obj, ext)
    assert layout.parse_annotation_file_name(name, ext) == (user, session, obj)


@given(voxel_sizes, valid_names, valid_names, valid_names, st.sampled_from(["binary", "multilabel"]))
def test_segmentation_store_names_round_trip(voxel, user, session, name, seg_type):
    if seg_type == "binary" and name.endswith("-multilabel"):  # would list as multilabel (FORMAT.md §2)
        with pytest.raises(ValueError, match="list as multilabel"):
            layout.segmentation_store_name(voxel, user, session, name, seg_type)
        return
    store = layout.segmentation_store_name(voxel, user, session, name, seg_type)
    parsed = layout.parse_segmentation_store_name(store, "Segmentations")
    assert parsed == (float(layout.format_voxel_size(voxel)), user, session, name, seg_type)


@given(voxel_sizes, valid_names, valid_names, valid_names, st.sampled_from(["instance", "panoptic"]))
def test_instance_and_panoptic_store_names_round_trip(voxel, user, session, name, seg_type):
    store = layout.segmentation_store_name(voxel, user, session, name, seg_type)
    parsed = layout.parse_segmentation_store_name(store, layout.SEGMENTATION_DIRS[seg_type])
    assert parsed == (float(layout.format_voxel_size(voxel)), user, session, name, seg_type)


@given(voxel_sizes)
def test_voxel_spacing_folders_round_trip_at_three_decimals(voxel):
    dirname = layout.voxel_spacing_dirname(voxel)
    assert dirname == f"VoxelSpacing{voxel:.3f}"
    assert layout.parse_voxel_spacing_dirname(dirname) == float(f"{voxel:.3f}")


@given(valid_names, valid_names)
def test_tomogram_and_feature_store_names_round_trip(tomo_type, feature_type):
    assert layout.parse_tomogram_store_name(layout.tomogram_store_name(tomo_type)) == tomo_type
    features = layout.features_store_name(tomo_type, feature_type)
    assert layout.parse_features_store_name(features, tomo_type) == feature_type
    assert layout.parse_tomogram_store_name(features) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("10_a_b_c.zarr", (10.0, "a", "b", "c", "binary")),
        ("10.000_a_b_seg-multilabel.zarr", (10.0, "a", "b", "seg", "multilabel")),
        ("10.000_a_b_c_d.zarr", (10.0, "a", "b", "c_d", "binary")),
        ("x_a_b_c.zarr", None),
        ("10.000_a_b.zarr", None),
        ("10.000__b_c.zarr", None),
        ("10.000_a_b_c.json", None),
    ],
)
def test_segmentation_listing_examples_from_the_format_spec(name, expected):
    assert layout.parse_segmentation_store_name(name, "Segmentations") == expected


@pytest.mark.parametrize(
    "name", ["VoxelSpacing", "VoxelSpacingabc", "VoxelSpacing-1", "Picks", "VoxelSpacingnan"]
)
def test_stray_voxel_spacing_names_are_not_spacings(name):
    assert layout.parse_voxel_spacing_dirname(name) is None


@given(st.text(string.ascii_letters + "_.", max_size=12))
def test_annotation_parser_never_crashes_on_stray_names(stem):
    parsed = layout.parse_annotation_file_name(stem + ".json", ".json")
    if parsed is not None:
        assert layout.annotation_file_name(*parsed, ".json") == stem + ".json"


@given(st.text(max_size=300))
def test_any_name_is_refused_or_is_exactly_one_listable_file_name(name):
    """The one check: a name it accepts is one folder name that lists back as itself."""
    try:
        layout.check_run_name(name)
    except ValueError as err:
        assert "Run name" in str(err) or "bytes long" in str(err)
        return
    assert name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\x00" not in name
    assert not layout.is_hidden(name) and len(name.encode()) <= layout.MAX_NAME_BYTES
    assert layout.run_path(name).split("/") == [layout.RUNS_DIR, name]


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_any_picks_identity_is_refused_or_lists_back_as_itself(user, session, obj):
    try:
        name = layout.annotation_file_name(user, session, obj, ".json")
    except ValueError:
        return
    assert "/" not in name and not layout.is_hidden(name)
    assert layout.parse_annotation_file_name(name, ".json") == (user, session, obj)


@pytest.mark.parametrize(
    "name",
    [
        "..",
        ".",
        "../..",
        "a/../..",
        "./..",
        "TS0/..",
        "../static/ExperimentRuns/TS_001",
        "",
        "a\\b",
        "a\x00b",
    ],
)
def test_traversal_and_hidden_names_are_refused_with_the_rule(name):
    with pytest.raises(ValueError, match="Run name"):
        layout.run_path(name)
    for build in (
        lambda: layout.annotation_file_name(name, "1", "ribosome", ".json"),
        lambda: layout.annotation_file_name("alice", name, "ribosome", ".json"),
        lambda: layout.annotation_file_name("alice", "1", name, ".json"),
        lambda: layout.tomogram_store_name(name),
        lambda: layout.features_store_name("wbp", name),
        lambda: layout.segmentation_store_name(10, "alice", "1", name, "binary"),
        lambda: layout.object_store_path(name),
    ):
        with pytest.raises(ValueError, match="cannot be used"):
            build()


@pytest.mark.parametrize("size", [0, -1, float("nan"), float("inf"), -float("inf"), 1e-9, 0.0004, "abc"])
def test_voxel_sizes_must_be_finite_positive_and_survive_three_decimals(size):
    with pytest.raises(ValueError, match="Voxel size"):
        layout.voxel_spacing_dirname(size)


def test_too_long_names_are_refused_naming_the_limit():
    with pytest.raises(ValueError, match="255"):
        layout.run_path("x" * 256)
    assert layout.run_path("x" * 255).endswith("x" * 255)
    with pytest.raises(ValueError, match="bytes long"):
        layout.annotation_file_name("alice", "1", "é" * 125, ".json")
