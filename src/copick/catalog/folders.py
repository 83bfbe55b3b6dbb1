"""``FolderCatalog``: the entities of one folder layer (copick's folder tree on any fsspec root).

Every name is parsed with ``copick.layout``, the rules that build it; what a name reads as (the
values of its entity's meta, or not an entity) is remembered per catalog and kind of folder, since a
project names the same few files in every run. A name that is not an entity of the kind is skipped.
Entries of a folder are listed in file-name order, as copick 1.31 does. Metas are built without
validation: the listing has checked every field. Entities of most kinds share one ``ListedMeta``
per name, which each entity turns into its own model when its ``.meta`` is first used (a walk
that reads only identities makes none).

On object stores, the first question about a run lists the run's whole subtree in one request, and
the next runs of the project (``expect_runs``) with it, concurrently (``Layer.prefetch``); every
folder below is then answered from that listing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from copick import layout
from copick.catalog import (
    FEATURES,
    FILAMENTS,
    MESHES,
    PICKS,
    RUN,
    SEGMENTATION,
    TOMOGRAM,
    VOXEL_SPACING,
    Locator,
    Record,
)
from copick.errors import InvalidNameError
from copick.listed_meta import ListedMeta
from copick.metadata import (
    CopickFeaturesMeta,
    CopickMeshMeta,
    CopickPicksFile,
    CopickRunMeta,
    CopickSegmentationMeta,
    CopickTomogramMeta,
    CopickVoxelSpacingMeta,
    construct_unchecked,
)

if TYPE_CHECKING:
    from copick.storage import Layer

#: Runs listed together on object stores: the run asked for and the ones after it.
READ_AHEAD = 32
#: Distinct entry names remembered per kind of folder (a project names the same few in every run).
NAMES_REMEMBERED = 1 << 14

_SEGMENTATION_DIRS = tuple(dict.fromkeys(layout.SEGMENTATION_DIRS.values()))
_NO_FIELDS = Record._field_defaults["fields"]
_new = tuple.__new__
_UNSEEN = object()


def _annotation_values(ext: str) -> Callable[[str], dict | None]:
    def values(name: str) -> dict | None:
        ident = layout.parse_annotation_file_name(name, ext)
        if ident is None:
            return None
        return {
            "pickable_object_name": ident.object_name,
            "user_id": ident.user_id,
            "session_id": ident.session_id,
        }

    return values


def _spacing_values(name: str) -> dict | None:
    size = layout.parse_voxel_spacing_dirname(name)
    return None if size is None else {"voxel_size": size}


def _tomogram_values(name: str) -> dict | None:
    tomo_type = layout.parse_tomogram_store_name(name)
    return None if tomo_type is None else {"tomo_type": tomo_type}


def _segmentation_values(directory: str) -> Callable[[str], dict | None]:
    def values(name: str) -> dict | None:
        ident = layout.parse_segmentation_store_name(name, directory)
        if ident is None:
            return None
        kind = ident.segmentation_type
        return {
            "user_id": ident.user_id,
            "session_id": ident.session_id,
            "name": ident.name,
            "is_multilabel": kind == "multilabel",
            "is_instance": kind == "instance",
            "is_panoptic": kind == "panoptic",
            "voxel_size": ident.voxel_size,
        }

    return values


def _shared_meta(cls: type) -> Callable[[dict], Any]:
    """The meta of every listed entity of one name: a ``ListedMeta`` of ``cls``, shared (entities
    make their model from it when ``.meta`` is first used)."""
    return lambda values: ListedMeta(cls, values)


def _picks_values(name: str) -> dict | None:
    """A listed picks file's header until it is read: its identity and copick's defaults."""
    ident = _json_annotation_values(name)
    return None if ident is None else {**ident, **PICKS_DEFAULTS}


_json_annotation_values = _annotation_values(".json")
PICKS_DEFAULTS = {"run_name": None, "voxel_spacing": None, "unit": "angstrom", "trust_orientation": True}


def _filaments_meta(values: dict) -> Any:
    from copick.filament_models import CopickFilamentsFile

    return CopickFilamentsFile.model_construct(
        **values, run_name=None, voxel_spacing=None, unit="angstrom", version=1, filaments=[]
    )


class _Kind(NamedTuple):
    """How a folder's entries list as records of one kind: which entries (folders or files), what
    a name reads as (the meta's values, ``None`` for no entity), and the meta built from them:
    once per name (``shared``: a ``ListedMeta``) or for every record (a model, mutable)."""

    dirs: bool
    values: Callable[[str], dict | None]
    meta: Callable[[dict], Any]
    shared: bool = True


_KINDS = {
    VOXEL_SPACING: _Kind(True, _spacing_values, _shared_meta(CopickVoxelSpacingMeta)),
    TOMOGRAM: _Kind(True, _tomogram_values, _shared_meta(CopickTomogramMeta)),
    PICKS: _Kind(False, _picks_values, _shared_meta(CopickPicksFile)),
    MESHES: _Kind(False, _annotation_values(".glb"), _shared_meta(CopickMeshMeta)),
    FILAMENTS: _Kind(False, _json_annotation_values, _filaments_meta, shared=False),
    **{
        directory: _Kind(True, _segmentation_values(directory), _shared_meta(CopickSegmentationMeta))
        for directory in _SEGMENTATION_DIRS
    },
}
_ANNOTATION_DIRS = {PICKS: layout.PICKS_DIR, MESHES: layout.MESHES_DIR, FILAMENTS: layout.FILAMENTS_DIR}


class FolderCatalog:
    """The records of one folder layer; read-only when the layer is (a project's static layer)."""

    def __init__(self, layer: Layer):
        self.layer = layer
        self._runs: list[str] = []  # run names in the order they will be asked for (read-ahead)
        self._index: dict[str, int] = {}
        self._names: dict[str, dict[str, dict | None]] = {kind: {} for kind in _KINDS}
        self._run_paths: dict[str, str] = {}  # run name: its folder (names checked once)

    def __repr__(self) -> str:
        return f"FolderCatalog({self.layer!r})"

    def expect_runs(self, names: list[str]) -> None:
        """The project's runs, in the order loops over them ask (object stores read ahead in it)."""
        if not self.layer.is_local:
            self._runs, self._index = list(names), {n: i for i, n in enumerate(names)}

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        if kind == RUN:
            return self._run_records()
        base = self._run_paths.get(run) if type(run) is str else None
        if base is None:
            base = self._remember_run_path(run, layout.run_path(run))
        if not self.layer.is_local:
            self._prefetch(run, base)
        folder = _ANNOTATION_DIRS.get(kind)
        if folder is not None:
            rel = f"{base}/{folder}"
            return self._listed(kind, rel, self._entries(rel))
        if kind == VOXEL_SPACING:
            return self._listed(kind, base, self._entries(base))
        if kind == TOMOGRAM:
            found: list[Record] = []
            for rel, entries in self._spacing_folders(base, voxel_size):
                found += self._listed(kind, rel, entries)
            return found
        if kind == FEATURES:
            return self._features_records(base, voxel_size)
        if kind == SEGMENTATION:
            found = []
            for directory in _SEGMENTATION_DIRS:
                rel = f"{base}/{directory}"
                found += self._listed(directory, rel, self._entries(rel))
            return found
        return []

    # --- listing -------------------------------------------------------------------------------

    def _prefetch(self, run: str, base: str) -> None:
        if self.layer.prefetched(base):
            return
        start = self._index.get(run)
        if start is None:
            self.layer.prefetch([base])
        else:
            self.layer.prefetch([layout.run_path(name) for name in self._runs[start : start + READ_AHEAD]])

    def _entries(self, rel: str) -> list[tuple[str, bool]]:
        """``(name, is_dir)`` of a folder in file-name order: copick 1.31's order, which users rely
        on (``get_picks(...)[0]``)."""
        return sorted(self.layer.scan(rel))

    def _listed(self, kind: str, rel: str, entries: list[tuple[str, bool]]) -> list[Record]:
        """The records of ``kind`` among the ``entries`` of folder ``rel``. What each name reads as is
        remembered (names repeat in every run): its shared meta, or the values each record's meta is
        made from. Records are built with ``tuple.__new__``: listings make them by the thousand."""
        if not entries:  # a missing folder (most runs have no instance or panoptic segmentations)
            return []
        spec, names, layer = _KINDS[kind], self._names[kind], self.layer
        dirs, make, shared, read_only, found = spec.dirs, spec.meta, spec.shared, layer.read_only, []
        for name, is_dir in entries:
            if is_dir != dirs:
                continue
            known = names.get(name, _UNSEEN)
            if known is _UNSEEN:
                if len(names) >= NAMES_REMEMBERED:
                    names.clear()
                known = spec.values(name)
                if known is not None and shared:
                    known = make(known)
                names[name] = known
            if known is not None:
                locator = _new(Locator, (layer, f"{rel}/{name}", None))
                meta = known if shared else make(known)
                found.append(_new(Record, (meta, locator, "", _NO_FIELDS, (), read_only)))
        return found

    def _remember_run_path(self, run: str, path: str) -> str:
        if len(self._run_paths) >= NAMES_REMEMBERED:
            self._run_paths.clear()
        self._run_paths[run] = path
        return path

    def _record(self, meta: Any, path: str) -> Record:
        return _new(
            Record, (meta, _new(Locator, (self.layer, path, None)), "", _NO_FIELDS, (), self.layer.read_only)
        )

    # --- kinds ---------------------------------------------------------------------------------

    def _run_records(self) -> list[Record]:
        found = []
        for name, is_dir in self._entries(layout.RUNS_DIR):
            if not is_dir:
                continue
            try:
                path = layout.run_path(name)
            except InvalidNameError:  # a folder no run name can make (a stray one)
                continue
            self._remember_run_path(name, path)  # checked here: the run's listings ask for it
            found.append(self._record(ListedMeta(CopickRunMeta, {"name": name}), path))
        return found

    def _spacing_folders(self, base: str, voxel_size: float) -> list[tuple[str, list[tuple[str, bool]]]]:
        """``(path, entries)`` of the run's folders of spacing ``voxel_size``: ``VoxelSpacing10.000``
        (the name ``new_voxel_spacing`` gives it, even for sizes with more decimals), else any folder
        whose name reads as that size (``VoxelSpacing10.0``, written by hand)."""
        own = layout.voxel_spacing_dirname(voxel_size)
        entries = self._entries(f"{base}/{own}")
        if entries:
            return [(f"{base}/{own}", entries)]
        return [
            (f"{base}/{name}", self._entries(f"{base}/{name}"))
            for name, is_dir in self._entries(base)
            if is_dir and name != own and layout.parse_voxel_spacing_dirname(name) == voxel_size
        ]

    def _features_records(self, base: str, voxel_size: float) -> list[Record]:
        """Feature maps ``<tomo_type>_<feature_type>_features.zarr``: one record per way of reading the
        name (tomogram types may hold ``_``); each tomogram takes those of its own type."""
        found = []
        for rel, entries in self._spacing_folders(base, voxel_size):
            for name, is_dir in entries:
                if not (is_dir and name.endswith(layout.FEATURES_SUFFIX)):
                    continue
                stem = name[: -len(layout.FEATURES_SUFFIX)]
                for cut in (i for i, char in enumerate(stem) if char == "_"):
                    tomo_type = stem[:cut]
                    feature_type = layout.parse_features_store_name(name, tomo_type)
                    if feature_type is not None:
                        meta = {"tomo_type": tomo_type, "feature_type": feature_type}
                        found.append(
                            self._record(construct_unchecked(CopickFeaturesMeta, meta), f"{rel}/{name}")
                        )
        return found
