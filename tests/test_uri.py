"""Tests of ``copick.util.uri``: grammar, round trips, selection semantics and output shorthands."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copick.errors import CopickError
from copick.util.uri import (
    InvalidURIError,
    expand_output_uri,
    get_copick_objects_by_type,
    is_pattern_uri,
    parse_copick_uri,
    resolve_copick_objects,
    serialize_copick_uri,
    serialize_copick_uri_from_dict,
)

# --------------------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,15}", fullmatch=True)
voxel_sizes = st.floats(min_value=0.01, max_value=1e4, allow_nan=False, allow_infinity=False)
seg_types = st.sampled_from(["binary", "multilabel", "instance", "panoptic"])
PICKS_LIKE = ["picks", "mesh", "filaments"]


def _flags(seg_type: str) -> dict[str, bool | None]:
    """Query flags of a segmentation type as parse_copick_uri reports them (binary: all None)."""
    return {key: (True if key == seg_type else None) for key in ("multilabel", "instance", "panoptic")}


# --------------------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------------------


@given(kind=st.sampled_from(PICKS_LIKE), name=names, user=names, session=names)
def test_picks_like_roundtrip(kind: str, name: str, user: str, session: str) -> None:
    uri = serialize_copick_uri_from_dict(kind, object_name=name, user_id=user, session_id=session)
    assert uri == f"{name}:{user}/{session}"
    assert parse_copick_uri(uri, kind) == {
        "object_type": kind,
        "pattern_type": "glob",
        "object_name": name,
        "user_id": user,
        "session_id": session,
    }


@given(name=names, user=names, session=names, vs=voxel_sizes, seg_type=seg_types)
def test_segmentation_roundtrip(name: str, user: str, session: str, vs: float, seg_type: str) -> None:
    flags = _flags(seg_type)
    uri = serialize_copick_uri_from_dict(
        "segmentation", name=name, user_id=user, session_id=session, voxel_spacing=vs, **flags
    )
    assert uri.startswith(f"{name}:{user}/{session}@{vs}")
    assert parse_copick_uri(uri, "segmentation") == {
        "object_type": "segmentation",
        "pattern_type": "glob",
        "name": name,
        "user_id": user,
        "session_id": session,
        "voxel_spacing": vs,
        **flags,
    }


@given(tomo_type=names, vs=voxel_sizes)
def test_tomogram_roundtrip(tomo_type: str, vs: float) -> None:
    uri = serialize_copick_uri_from_dict("tomogram", tomo_type=tomo_type, voxel_spacing=vs)
    assert uri == f"{tomo_type}@{vs}"
    parsed = parse_copick_uri(uri, "tomogram")
    assert parsed == {
        "object_type": "tomogram",
        "pattern_type": "glob",
        "tomo_type": tomo_type,
        "voxel_spacing": vs,
    }


@given(tomo_type=names, vs=voxel_sizes, feature_type=names)
def test_feature_roundtrip(tomo_type: str, vs: float, feature_type: str) -> None:
    uri = serialize_copick_uri_from_dict(
        "feature", tomo_type=tomo_type, voxel_spacing=vs, feature_type=feature_type
    )
    assert uri == f"{tomo_type}@{vs}:{feature_type}"
    assert parse_copick_uri(uri, "feature") == {
        "object_type": "feature",
        "pattern_type": "glob",
        "tomo_type": tomo_type,
        "voxel_spacing": vs,
        "feature_type": feature_type,
    }


@given(kind=st.sampled_from(PICKS_LIKE), name=names, user=names, session=names)
def test_serialize_object_picks_like(kind: str, name: str, user: str, session: str) -> None:
    obj = SimpleNamespace(pickable_object_name=name, user_id=user, session_id=session)
    parsed = parse_copick_uri(serialize_copick_uri(obj), kind)
    assert (parsed["object_name"], parsed["user_id"], parsed["session_id"]) == (name, user, session)


@given(name=names, user=names, session=names, vs=voxel_sizes, seg_type=seg_types)
def test_serialize_object_segmentation(name: str, user: str, session: str, vs: float, seg_type: str) -> None:
    seg = SimpleNamespace(
        name=name, user_id=user, session_id=session, voxel_size=vs, segmentation_type=seg_type
    )
    uri = serialize_copick_uri(seg)
    assert uri.endswith("" if seg_type == "binary" else f"?{seg_type}=true")
    parsed = parse_copick_uri(uri, "segmentation")
    assert parsed == {
        "object_type": "segmentation",
        "pattern_type": "glob",
        "name": name,
        "user_id": user,
        "session_id": session,
        "voxel_spacing": vs,
        **_flags(seg_type),
    }


@given(tomo_type=names, vs=voxel_sizes, feature_type=names)
def test_serialize_object_volumes(tomo_type: str, vs: float, feature_type: str) -> None:
    tomogram = SimpleNamespace(tomo_type=tomo_type, voxel_spacing=SimpleNamespace(voxel_size=vs))
    feature = SimpleNamespace(tomo_type=tomo_type, feature_type=feature_type, tomogram=tomogram)
    assert serialize_copick_uri(tomogram) == f"{tomo_type}@{vs}"
    assert serialize_copick_uri(feature) == f"{tomo_type}@{vs}:{feature_type}"
    assert parse_copick_uri(serialize_copick_uri(feature), "feature")["feature_type"] == feature_type


def test_serialize_formats_floats_with_str() -> None:
    assert serialize_copick_uri_from_dict("tomogram", tomo_type="wbp", voxel_spacing=10) == "wbp@10.0"
    seg = SimpleNamespace(name="m", user_id="u", session_id="1", voxel_size=7.84, is_multilabel=True)
    assert serialize_copick_uri(seg) == "m:u/1@7.84?multilabel=true"


def test_serialize_rejects_unknown_objects() -> None:
    with pytest.raises(ValueError, match="Cannot serialize"):
        serialize_copick_uri(object())


@pytest.mark.parametrize(
    ("kind", "kwargs", "missing"),
    [
        ("picks", {"user_id": "u", "session_id": "1"}, "object_name"),
        ("picks", {"object_name": "r", "session_id": "1"}, "user_id"),
        ("mesh", {"object_name": "r", "user_id": "u"}, "session_id"),
        ("segmentation", {"name": "m", "user_id": "u", "session_id": "1"}, "voxel_spacing"),
        ("tomogram", {"voxel_spacing": 10.0}, "tomo_type"),
        ("feature", {"tomo_type": "wbp", "voxel_spacing": 10.0}, "feature_type"),
    ],
)
def test_serialize_from_dict_requires_parts(kind: str, kwargs: dict[str, Any], missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        serialize_copick_uri_from_dict(kind, **kwargs)


def test_serialize_from_dict_rejects_separators_and_double_types() -> None:
    with pytest.raises(ValueError, match="separator"):
        serialize_copick_uri_from_dict("picks", object_name="a:b", user_id="u", session_id="1")
    with pytest.raises(ValueError, match="At most one"):
        serialize_copick_uri_from_dict(
            "segmentation",
            name="m",
            user_id="u",
            session_id="1",
            voxel_spacing=10,
            multilabel=True,
            instance=True,
        )


# --------------------------------------------------------------------------------------------------------
# parsing details
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "kind", "expected"),
    [
        ("ribosome", "picks", {"object_name": "ribosome", "user_id": "*", "session_id": "*"}),
        ("ribosome:alice", "mesh", {"object_name": "ribosome", "user_id": "alice", "session_id": "*"}),
        ("ribosome:/1", "picks", {"object_name": "ribosome", "user_id": "*", "session_id": "1"}),
        (":alice", "filaments", {"object_name": "*", "user_id": "alice", "session_id": "*"}),
        ("  ribosome:alice/1  ", "picks", {"object_name": "ribosome", "user_id": "alice", "session_id": "1"}),
        ("a:u/s/t", "picks", {"object_name": "a", "user_id": "u", "session_id": "s/t"}),
        (
            "membrane",
            "segmentation",
            {"name": "membrane", "user_id": "*", "session_id": "*", "voxel_spacing": "*"},
        ),
        (
            "membrane@10",
            "segmentation",
            {"name": "membrane", "user_id": "*", "session_id": "*", "voxel_spacing": 10.0},
        ),
        ("m:u@1*", "segmentation", {"name": "m", "user_id": "u", "session_id": "*", "voxel_spacing": "1*"}),
        ("wbp", "tomogram", {"tomo_type": "wbp", "voxel_spacing": "*"}),
        ("wbp@10.000", "tomogram", {"tomo_type": "wbp", "voxel_spacing": 10.0}),
        ("wbp", "feature", {"tomo_type": "wbp", "voxel_spacing": "*", "feature_type": "*"}),
        ("wbp@10", "feature", {"tomo_type": "wbp", "voxel_spacing": 10.0, "feature_type": "*"}),
        ("*", "feature", {"tomo_type": "*", "voxel_spacing": "*", "feature_type": "*"}),
    ],
)
def test_partial_uris_fill_stars(uri: str, kind: str, expected: dict[str, Any]) -> None:
    parsed = parse_copick_uri(uri, kind)
    assert parsed["object_type"] == kind
    assert parsed["pattern_type"] == "glob"
    assert {key: parsed[key] for key in expected} == expected


def test_segmentation_flags_are_none_unless_stated() -> None:
    parsed = parse_copick_uri("membrane", "segmentation")
    assert (parsed["multilabel"], parsed["instance"], parsed["panoptic"]) == (None, None, None)
    for value in ("true", "TRUE", "1", "yes", "Yes"):
        assert parse_copick_uri(f"m?instance={value}", "segmentation")["instance"] is True
    assert parse_copick_uri("m?multilabel=false", "segmentation")["multilabel"] is False
    assert parse_copick_uri("m:u/1@10?panoptic=true", "segmentation")["panoptic"] is True


def test_regex_prefix_sets_pattern_type() -> None:
    parsed = parse_copick_uri("re:ribo.*:alice/.*", "picks")
    assert parsed["pattern_type"] == "regex"
    assert (parsed["object_name"], parsed["user_id"], parsed["session_id"]) == ("ribo.*", "alice", ".*")


def test_regex_separators_inside_groups_do_not_split() -> None:
    parsed = parse_copick_uri("re:(?:R|r)ibo:alice/(?:1|2)", "picks")
    assert (parsed["object_name"], parsed["user_id"], parsed["session_id"]) == (
        "(?:R|r)ibo",
        "alice",
        "(?:1|2)",
    )
    assert parse_copick_uri(r"re:[:a]x\:y:u", "mesh")["object_name"] == r"[:a]x\:y"
    parsed = parse_copick_uri("re:(?:wbp|den)@10:(?:s|g).*", "feature")
    assert (parsed["tomo_type"], parsed["voxel_spacing"], parsed["feature_type"]) == (
        "(?:wbp|den)",
        10.0,
        "(?:s|g).*",
    )
    parsed = parse_copick_uri("re:(?:a|b):u/1@(?:10|20)\\.0?instance=true", "segmentation")
    assert (parsed["name"], parsed["voxel_spacing"], parsed["instance"]) == ("(?:a|b)", "(?:10|20)\\.0", True)


def test_question_mark_is_a_glob_wildcard_unless_it_starts_a_query() -> None:
    assert parse_copick_uri("ribo?ome:alice", "picks")["object_name"] == "ribo?ome"
    assert parse_copick_uri("re:(?:wbp|denoised)", "tomogram")["tomo_type"] == "(?:wbp|denoised)"
    parsed = parse_copick_uri("m:u/1?multilabel=true", "segmentation")
    assert (parsed["session_id"], parsed["multilabel"]) == ("1", True)


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("a:b:c", "picks"),
        ("m:u:x@10", "segmentation"),
        ("", "picks"),
        ("   ", "mesh"),
        ("re:", "tomogram"),
        ("m?multilabel=true&instance=true", "segmentation"),
        ("m?instance=maybe", "segmentation"),
        ("m?colour=red", "segmentation"),
        ("ribosome?instance=true", "picks"),
        ("re:(unclosed", "picks"),
        ("re:ok:[bad", "mesh"),
        ("m@10:alice", "segmentation"),
        ("wbp:sobel", "feature"),
        ("wbp@10:a:b", "feature"),
        ("wbp:x", "tomogram"),
        ("ribosome/1", "picks"),
    ],
)
def test_invalid_uris_raise_with_the_uri(uri: str, kind: str) -> None:
    with pytest.raises(ValueError, match="Invalid") as info:
        parse_copick_uri(uri, kind)
    assert isinstance(info.value, InvalidURIError)
    assert isinstance(info.value, CopickError)
    assert repr(uri) in str(info.value)
    assert "Expected" in str(info.value)


def test_unknown_object_type() -> None:
    with pytest.raises(ValueError, match="tomograms"):
        parse_copick_uri("wbp", "tomograms")
    with pytest.raises(ValueError, match="unknown"):
        get_copick_objects_by_type(SimpleNamespace(runs=[]), "unknown")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("ribosome:alice/1", False),
        ("m:u/1@10?multilabel=true", False),
        ("ribosome", False),
        ("ribo*", True),
        ("ribo?ome", True),
        ("[rR]ibosome", True),
        ("re:ribosome", True),
    ],
)
def test_is_pattern_uri(uri: str, expected: bool) -> None:
    assert is_pattern_uri(uri) is expected


# --------------------------------------------------------------------------------------------------------
# selection semantics on a stub project (no storage involved)
# --------------------------------------------------------------------------------------------------------


def _exact(value: Any, wanted: Any) -> bool:
    """Stub lookup filter: None selects all, else exact equality."""
    return wanted is None or value == wanted


@dataclass
class StubFeature:
    feature_type: str
    tomogram: Any = None

    @property
    def tomo_type(self) -> str:
        return self.tomogram.tomo_type


@dataclass
class StubTomogram:
    tomo_type: str
    voxel_spacing: Any = None
    features: list[StubFeature] = field(default_factory=list)

    def get_features(self, feature_type: str) -> StubFeature | None:
        return next((f for f in self.features if f.feature_type == feature_type), None)


@dataclass
class StubVoxelSpacing:
    voxel_size: float
    tomograms: list[StubTomogram] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def get_tomograms(self, tomo_type: str) -> list[StubTomogram]:
        self.calls.append(f"get_tomograms({tomo_type})")
        return [t for t in self.tomograms if t.tomo_type == tomo_type]


@dataclass
class StubRun:
    name: str
    picks: list[Any] = field(default_factory=list)
    meshes: list[Any] = field(default_factory=list)
    filaments: list[Any] = field(default_factory=list)
    segmentations: list[Any] = field(default_factory=list)
    voxel_spacings: list[StubVoxelSpacing] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def _get(self, items: list[Any], object_name=None, user_id=None, session_id=None) -> list[Any]:
        return [
            p
            for p in items
            if _exact(p.pickable_object_name, object_name)
            and _exact(p.user_id, user_id)
            and _exact(p.session_id, session_id)
        ]

    def get_picks(self, object_name=None, user_id=None, session_id=None) -> list[Any]:
        self.calls.append("get_picks")
        return self._get(self.picks, object_name, user_id, session_id)

    def get_meshes(self, object_name=None, user_id=None, session_id=None) -> list[Any]:
        self.calls.append("get_meshes")
        return self._get(self.meshes, object_name, user_id, session_id)

    def get_filaments(self, object_name=None, user_id=None, session_id=None) -> list[Any]:
        self.calls.append("get_filaments")
        return self._get(self.filaments, object_name, user_id, session_id)

    def get_segmentations(
        self,
        user_id=None,
        session_id=None,
        is_multilabel=None,
        name=None,
        voxel_size=None,
        *,
        is_instance=False,
        is_panoptic=False,
    ) -> list[Any]:
        self.calls.append("get_segmentations")
        return [
            s
            for s in self.segmentations
            if _exact(s.user_id, user_id)
            and _exact(s.session_id, session_id)
            and _exact(s.name, name)
            and _exact(s.voxel_size, voxel_size)
            and _exact(s.segmentation_type == "multilabel", is_multilabel)
            and _exact(s.segmentation_type == "instance", is_instance)
            and _exact(s.segmentation_type == "panoptic", is_panoptic)
        ]

    def get_voxel_spacing(self, voxel_size: float) -> StubVoxelSpacing | None:
        self.calls.append(f"get_voxel_spacing({voxel_size!r})")
        return next((vs for vs in self.voxel_spacings if vs.voxel_size == voxel_size), None)


@dataclass
class StubRoot:
    runs: list[StubRun]

    def get_run(self, name: str) -> StubRun | None:
        return next((r for r in self.runs if r.name == name), None)


def _pick(name: str, user: str, session: str) -> SimpleNamespace:
    return SimpleNamespace(pickable_object_name=name, user_id=user, session_id=session)


def _seg(name: str, user: str, session: str, vs: float, seg_type: str = "binary") -> SimpleNamespace:
    return SimpleNamespace(
        name=name, user_id=user, session_id=session, voxel_size=vs, segmentation_type=seg_type
    )


def _stub_project() -> StubRoot:
    """Two runs with picks, segmentations of every type, two voxel spacings with tomograms and features."""
    run1 = StubRun(
        "TS_1",
        picks=[
            _pick("ribosome", "alice", "1"),
            _pick("ribosome", "bob", "2"),
            _pick("Ribosome", "alice", "1"),
            _pick("proteasome", "alice", "1"),
            _pick("ribosome", "tool", "0"),
        ],
        meshes=[_pick("membrane", "alice", "1")],
        segmentations=[
            _seg("membrane", "alice", "1", 10.0),
            _seg("labels", "alice", "1", 10.0, "multilabel"),
            _seg("ribosome", "alice", "1", 10.0, "instance"),
            _seg("scene", "alice", "1", 10.0, "panoptic"),
            _seg("membrane", "alice", "1", 20.0),
        ],
    )
    for vs_size in (10.0, 20.0):
        vs = StubVoxelSpacing(vs_size)
        for tomo_type in ("wbp", "denoised"):
            tomo = StubTomogram(tomo_type, vs)
            tomo.features = [StubFeature("sobel", tomo), StubFeature("gauss", tomo)]
            vs.tomograms.append(tomo)
        run1.voxel_spacings.append(vs)
    run2 = StubRun("TS_2", picks=[_pick("ribosome", "carol", "3")])
    return StubRoot([run1, run2])


def _ids(objs: list[Any]) -> set[tuple[str, str, str]]:
    return {(o.pickable_object_name, o.user_id, o.session_id) for o in objs}


def test_glob_vs_regex_selection() -> None:
    root = _stub_project()
    select = lambda uri: _ids(resolve_copick_objects(uri, root, "picks", run_name="TS_1"))  # noqa: E731
    assert select("ribo") == set()  # glob is anchored at both ends
    assert select("re:ribo") == {
        ("ribosome", "alice", "1"),
        ("ribosome", "bob", "2"),
        ("ribosome", "tool", "0"),
    }
    assert select("re:some") == set()  # re.match: anchored at the start only
    assert select("re:.*some:alice") == {
        ("ribosome", "alice", "1"),
        ("Ribosome", "alice", "1"),
        ("proteasome", "alice", "1"),
    }
    assert select("ribo*") == select("re:ribo")  # case-sensitive both ways
    assert select("[Rr]ibosome:alice/1") == {("ribosome", "alice", "1"), ("Ribosome", "alice", "1")}
    assert select("re:(?:R|r)ibosome:alice/1") == select("[Rr]ibosome:alice/1")
    assert select("*:*/0") == {("ribosome", "tool", "0")}
    assert select("re:ribosome:.*/[12]") == {("ribosome", "alice", "1"), ("ribosome", "bob", "2")}


def test_literal_queries_use_indexed_lookups() -> None:
    root = _stub_project()
    run = root.get_run("TS_1")
    found = resolve_copick_objects("ribosome:alice/1", root, "picks", run_name="TS_1")
    assert _ids(found) == {("ribosome", "alice", "1")}
    assert run.calls == ["get_picks"]
    run.calls.clear()
    assert len(resolve_copick_objects("*", root, "picks", run_name="TS_1")) == 5
    assert run.calls == []  # patterns list everything
    assert _ids(resolve_copick_objects("membrane:alice/1", root, "mesh", run_name="TS_1")) == {
        ("membrane", "alice", "1")
    }
    assert run.calls == ["get_meshes"]


def test_all_runs_and_unknown_run() -> None:
    root = _stub_project()
    assert len(resolve_copick_objects("ribosome", root, "picks")) == 4
    with pytest.raises(ValueError, match="TS_404"):
        resolve_copick_objects("ribosome", root, "picks", run_name="TS_404")


def _seg_ids(objs: list[Any]) -> set[tuple[str, float, str]]:
    return {(s.name, s.voxel_size, s.segmentation_type) for s in objs}


def test_segmentation_type_selection() -> None:
    root = _stub_project()
    select = lambda uri: _seg_ids(resolve_copick_objects(uri, root, "segmentation", "TS_1"))  # noqa: E731
    untyped = {("membrane", 10.0, "binary"), ("labels", 10.0, "multilabel"), ("membrane", 20.0, "binary")}
    assert select("*") == untyped
    assert select("*:alice/1@10") == untyped - {("membrane", 20.0, "binary")}
    assert select("*?multilabel=true") == {("labels", 10.0, "multilabel")}
    assert select("*?multilabel=false") == {("membrane", 10.0, "binary"), ("membrane", 20.0, "binary")}
    assert select("*?instance=true") == {("ribosome", 10.0, "instance")}
    assert select("ribosome:alice/1@10.0?instance=true") == {("ribosome", 10.0, "instance")}
    assert select("*@*?panoptic=yes") == {("scene", 10.0, "panoptic")}
    assert select("ribosome") == set()  # instance segmentations need ?instance=true


@pytest.mark.parametrize("vs", ["10", "10.0", "10.000", "1e1", "re:10"])
def test_voxel_spacing_numeric_match(vs: str) -> None:
    root = _stub_project()
    prefix, _, number = vs.rpartition(":")
    uri = f"{prefix + ':' if prefix else ''}membrane@{number}"
    assert _seg_ids(resolve_copick_objects(uri, root, "segmentation", "TS_1")) == {
        ("membrane", 10.0, "binary")
    }
    tomos = resolve_copick_objects(f"{prefix + ':' if prefix else ''}wbp@{number}", root, "tomogram", "TS_1")
    assert [(t.tomo_type, t.voxel_spacing.voxel_size) for t in tomos] == [("wbp", 10.0)]


def test_voxel_spacing_text_patterns() -> None:
    root = _stub_project()
    tomos = resolve_copick_objects("wbp@2*", root, "tomogram", "TS_1")
    assert [t.voxel_spacing.voxel_size for t in tomos] == [20.0]
    tomos = resolve_copick_objects(r"re:wbp@[12]0\.0", root, "tomogram", "TS_1")
    assert sorted(t.voxel_spacing.voxel_size for t in tomos) == [10.0, 20.0]
    assert resolve_copick_objects("*@30", root, "tomogram", "TS_1") == []


def test_tomogram_and_feature_resolution() -> None:
    root = _stub_project()
    run = root.get_run("TS_1")
    tomos = resolve_copick_objects("wbp@10", root, "tomogram", "TS_1")
    assert [(t.tomo_type, t.voxel_spacing.voxel_size) for t in tomos] == [("wbp", 10.0)]
    assert run.calls == ["get_voxel_spacing(10.0)"]
    assert run.voxel_spacings[0].calls == ["get_tomograms(wbp)"]
    assert len(resolve_copick_objects("*", root, "tomogram", "TS_1")) == 4
    assert len(resolve_copick_objects("re:d", root, "tomogram", "TS_1")) == 2
    feats = resolve_copick_objects("*@10:sobel", root, "feature", "TS_1")
    assert sorted((f.tomo_type, f.feature_type) for f in feats) == [("denoised", "sobel"), ("wbp", "sobel")]
    assert len(resolve_copick_objects("wbp", root, "feature", "TS_1")) == 4
    assert len(resolve_copick_objects("re:.*@20:g", root, "feature")) == 2


def test_get_copick_objects_by_type_filters() -> None:
    root = _stub_project()
    found = get_copick_objects_by_type(
        root, "picks", run_name="TS_1", object_name="ribosome", user_id="alice"
    )
    assert _ids(found) == {("ribosome", "alice", "1")}
    assert len(get_copick_objects_by_type(root, "picks")) == 6
    found = get_copick_objects_by_type(root, "picks", object_name="ribo", pattern_type="regex")
    assert len(found) == 4
    segs = get_copick_objects_by_type(root, "segmentation", voxel_size=20.0)
    assert _seg_ids(segs) == {("membrane", 20.0, "binary")}
    segs = get_copick_objects_by_type(root, "segmentation", "TS_1", instance=True)
    assert _seg_ids(segs) == {("ribosome", 10.0, "instance")}
    with pytest.raises(TypeError, match="colour"):
        get_copick_objects_by_type(root, "picks", colour="red")


@given(prefix=st.from_regex(r"[a-z]{1,4}", fullmatch=True))
def test_glob_prefix_equals_regex_prefix(prefix: str) -> None:
    root = _stub_project()
    glob = resolve_copick_objects(f"{prefix}*", root, "picks")
    regex = resolve_copick_objects(f"re:{re.escape(prefix)}", root, "picks")
    assert _ids(glob) == _ids(regex)
    assert all(p.pickable_object_name.startswith(prefix) for p in glob)


# --------------------------------------------------------------------------------------------------------
# expand_output_uri
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "input_uri", "in_type", "out_type", "kwargs", "expected"),
    [
        # complete outputs come back unchanged
        ("mem:me/5", "ribosome:alice/1", "picks", "mesh", {}, "mem:me/5"),
        ("m:u/{input_session_id}@10", "r*", "segmentation", "segmentation", {}, "m:u/{input_session_id}@10"),
        # shorthands
        ("membrane", "ribosome:alice/1", "picks", "mesh", {}, "membrane:converter/converted-001"),
        ("membrane:me", "ribosome:alice/1", "picks", "mesh", {}, "membrane:me/converted-001"),
        ("membrane/7", "ribosome:alice/1", "picks", "mesh", {"command_name": "fit"}, "membrane:fit/7"),
        ("/7", "ribosome:alice/1", "picks", "picks", {"command_name": "fit"}, "ribosome:fit/7"),
        ("{input_session_id}", "ribosome:*/*", "picks", "picks", {}, "ribosome:converter/{input_session_id}"),
        ("{instance_id}", "ribosome:alice/1", "picks", "picks", {}, "ribosome:converter/{instance_id}"),
        ("out", "re:ribo:alice/1", "picks", "picks", {}, "out:converter/{input_session_id}"),
        (
            "out",
            "ribosome:alice/1",
            "picks",
            "picks",
            {"individual_outputs": True},
            "out:converter/{instance_id}",
        ),
        ("out:*/*", "ribosome:alice/1", "picks", "picks", {}, "out:converter/converted-001"),
        # segmentation voxel spacing and type
        (
            "seg",
            "ribosome:alice/1@7.84",
            "segmentation",
            "segmentation",
            {},
            "seg:converter/converted-001@7.84",
        ),
        ("seg", "ribosome:alice/1", "picks", "segmentation", {}, "seg:converter/converted-001"),
        ("seg", "wbp@10", "tomogram", "segmentation", {}, "seg:converter/converted-001@10.0"),
        ("seg@20", "wbp@10", "tomogram", "segmentation", {}, "seg:converter/converted-001@20.0"),
        (
            "seg",
            "labels:alice/1@10?multilabel=true",
            "segmentation",
            "segmentation",
            {},
            "seg:converter/converted-001@10.0?multilabel=true",
        ),
        (
            "seg?instance=true",
            "labels:alice/1@10?multilabel=true",
            "segmentation",
            "segmentation",
            {},
            "seg:converter/converted-001@10.0?instance=true",
        ),
        (
            "seg?multilabel=false",
            "labels:alice/1@10?multilabel=true",
            "segmentation",
            "segmentation",
            {},
            "seg:converter/converted-001@10.0",
        ),
        # volumes
        ("denoised", "wbp@10", "tomogram", "tomogram", {}, "denoised@10.0"),
        ("wbp@10:sobel", "wbp@10", "tomogram", "feature", {}, "wbp@10:sobel"),
    ],
)
def test_expand_output_uri(
    output: str, input_uri: str, in_type: str, out_type: str, kwargs: dict[str, Any], expected: str
) -> None:
    assert expand_output_uri(output, input_uri, in_type, out_type, **kwargs) == expected


def test_expand_output_uri_rejects_regex_output() -> None:
    with pytest.raises(ValueError, match="re:out"):
        expand_output_uri("re:out", "ribosome", "picks", "picks")


# --------------------------------------------------------------------------------------------------------
# resolution on a real project built with the public API
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Any) -> Any:
    """A real project: two runs with picks and meshes of several objects, users and sessions."""
    import copick

    objects = [
        copick.models.PickableObject(name="ribosome", is_particle=True, label=1),
        copick.models.PickableObject(name="proteasome", is_particle=True, label=2),
        copick.models.PickableObject(name="membrane", is_particle=False, label=3),
    ]
    root = copick.new_config(
        str(tmp_path / "c.json"), overlay_root=str(tmp_path / "p"), pickable_objects=objects
    )
    run1, run2 = root.new_run("TS_1"), root.new_run("TS_2")
    for name, session, user in [
        ("ribosome", "1", "alice"),
        ("ribosome", "2", "alice"),
        ("ribosome", "1", "bob"),
        ("proteasome", "1", "alice"),
        ("ribosome", "0", "pytom"),
    ]:
        run1.new_picks(name, session, user_id=user)
    run2.new_picks("ribosome", "1", user_id="alice")
    run1.new_mesh("membrane", "1", user_id="alice")
    run1.new_mesh("ribosome", "1", user_id="bob")
    return root


def _uris(objs: list[Any]) -> set[str]:
    return {serialize_copick_uri(obj) for obj in objs}


def test_real_picks_selection(project: Any) -> None:
    select = lambda uri, run=None: _uris(resolve_copick_objects(uri, project, "picks", run))  # noqa: E731
    assert select("ribosome:alice/1", "TS_1") == {"ribosome:alice/1"}
    assert len(resolve_copick_objects("ribosome:alice/1", project, "picks")) == 2  # one per run
    assert select("ribosome", "TS_1") == {
        "ribosome:alice/1",
        "ribosome:alice/2",
        "ribosome:bob/1",
        "ribosome:pytom/0",
    }
    assert select("*:alice", "TS_1") == {"ribosome:alice/1", "ribosome:alice/2", "proteasome:alice/1"}
    assert select("re:p", "TS_1") == {"proteasome:alice/1"}
    assert select("re:.*some:(?:alice|bob)/1", "TS_1") == {
        "ribosome:alice/1",
        "ribosome:bob/1",
        "proteasome:alice/1",
    }
    assert select("*:*/[12]", "TS_2") == {"ribosome:alice/1"}
    assert select("nothing*") == set()


def test_real_meshes_selection(project: Any) -> None:
    assert _uris(resolve_copick_objects("*", project, "mesh")) == {"membrane:alice/1", "ribosome:bob/1"}
    assert _uris(resolve_copick_objects("membrane:alice/1", project, "mesh", "TS_1")) == {"membrane:alice/1"}
    assert resolve_copick_objects("membrane", project, "mesh", "TS_2") == []


def test_real_serialize_resolve_roundtrip(project: Any) -> None:
    for kind, listing in (("picks", "picks"), ("mesh", "meshes")):
        for run in project.runs:
            for obj in getattr(run, listing):
                found = resolve_copick_objects(serialize_copick_uri(obj), project, kind, run.name)
                assert found == [obj]


def test_real_unknown_run(project: Any) -> None:
    with pytest.raises(ValueError, match="TS_9"):
        resolve_copick_objects("ribosome", project, "picks", run_name="TS_9")
    with pytest.raises(ValueError, match="TS_9"):
        get_copick_objects_by_type(project, "mesh", run_name="TS_9")


def test_real_get_copick_objects_by_type(project: Any) -> None:
    found = get_copick_objects_by_type(project, "picks", "TS_1", object_name="ribosome", session_id="1")
    assert _uris(found) == {"ribosome:alice/1", "ribosome:bob/1"}
    assert len(get_copick_objects_by_type(project, "picks")) == 6


@pytest.fixture
def volume_project(project: Any) -> Any:
    """``project`` plus voxel spacings 10 and 20 with tomograms, features and segmentations of every type."""
    run = project.get_run("TS_1")
    for voxel_size in (10.0, 20.0):
        vs = run.new_voxel_spacing(voxel_size)
        for tomo_type in ("wbp", "denoised"):
            tomogram = vs.new_tomogram(tomo_type)
            tomogram.new_features("sobel")
            tomogram.new_features("gauss")
    run.new_segmentation(10.0, "membrane", "1", user_id="alice")
    run.new_segmentation(20.0, "membrane", "1", user_id="alice")
    run.new_segmentation(10.0, "labels", "1", is_multilabel=True, user_id="alice")
    run.new_segmentation(10.0, "ribosome", "1", user_id="alice", is_instance=True)
    run.new_segmentation(10.0, "scene", "1", user_id="alice", is_panoptic=True)
    return project


def test_real_tomogram_selection(volume_project: Any) -> None:
    select = lambda uri: _uris(resolve_copick_objects(uri, volume_project, "tomogram", "TS_1"))  # noqa: E731
    assert select("wbp@10") == {"wbp@10.0"}
    assert select("wbp@10.000") == {"wbp@10.0"}
    assert select("wbp") == {"wbp@10.0", "wbp@20.0"}
    assert select("*@20") == {"wbp@20.0", "denoised@20.0"}
    assert select("re:d") == {"denoised@10.0", "denoised@20.0"}
    assert select("*@2*") == {"wbp@20.0", "denoised@20.0"}
    assert select("wbp@30") == set()
    assert resolve_copick_objects("wbp", volume_project, "tomogram", "TS_2") == []


def test_real_feature_selection(volume_project: Any) -> None:
    select = lambda uri: _uris(resolve_copick_objects(uri, volume_project, "feature", "TS_1"))  # noqa: E731
    assert select("wbp@10:sobel") == {"wbp@10.0:sobel"}
    assert select("wbp@10") == {"wbp@10.0:sobel", "wbp@10.0:gauss"}
    assert select("*@*:g*") == {
        "wbp@10.0:gauss",
        "wbp@20.0:gauss",
        "denoised@10.0:gauss",
        "denoised@20.0:gauss",
    }
    assert select("re:den@20:s") == {"denoised@20.0:sobel"}


def test_real_segmentation_selection(volume_project: Any) -> None:
    select = lambda uri: _uris(resolve_copick_objects(uri, volume_project, "segmentation", "TS_1"))  # noqa: E731
    untyped = {"membrane:alice/1@10.0", "membrane:alice/1@20.0", "labels:alice/1@10.0?multilabel=true"}
    assert select("*") == untyped
    assert select("membrane:alice/1@10") == {"membrane:alice/1@10.0"}
    assert select("membrane") == {"membrane:alice/1@10.0", "membrane:alice/1@20.0"}
    assert select("*?multilabel=true") == {"labels:alice/1@10.0?multilabel=true"}
    assert select("*@10?multilabel=false") == {"membrane:alice/1@10.0"}
    assert select("ribosome") == set()
    assert select("ribosome:alice/1@10?instance=true") == {"ribosome:alice/1@10.0?instance=true"}
    assert select("*?panoptic=true") == {"scene:alice/1@10.0?panoptic=true"}
    assert select("re:(?:m|l):alice@1.*") == {"membrane:alice/1@10.0", "labels:alice/1@10.0?multilabel=true"}
    assert select("re:(?:m|l):alice@1") == set()  # a number compares numerically, even after re:


def test_real_volume_roundtrip(volume_project: Any) -> None:
    run = volume_project.get_run("TS_1")
    objects: list[tuple[str, Any]] = [("segmentation", s) for s in run.segmentations]
    for vs in run.voxel_spacings:
        for tomogram in vs.tomograms:
            objects.append(("tomogram", tomogram))
            objects.extend(("feature", feature) for feature in tomogram.features)
    assert len(objects) == 5 + 4 + 8
    for kind, obj in objects:
        assert resolve_copick_objects(serialize_copick_uri(obj), volume_project, kind, "TS_1") == [obj]
