"""``FolderCatalog``: the entities of one folder layer (copick's folder tree on any fsspec root).

Every name is parsed with ``copick.layout``, the rules that build it (memoised: each distinct name is
checked once per process); a name that is not an entity of the kind is skipped. Entries of a folder
are listed in file-name order, as copick 1.31 does. Metas are built without validation: the listing
has checked every field they hold.

On object stores, the first question about a run lists the run's whole subtree in one request, and
the next runs of the project (``expect_runs``) with it, concurrently (``Layer.prefetch``); every
folder below is then answered from that listing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

_ANNOTATIONS = {  # kind: (folder, file extension)
    PICKS: (layout.PICKS_DIR, ".json"),
    MESHES: (layout.MESHES_DIR, ".glb"),
    FILAMENTS: (layout.FILAMENTS_DIR, ".json"),
}
_SEGMENTATION_DIRS = tuple(dict.fromkeys(layout.SEGMENTATION_DIRS.values()))
_NO_FIELDS = Record._field_defaults["fields"]
_new = tuple.__new__


def _picks_meta(ident: layout.AnnotationId) -> Any:
    """The header of a listed picks file until it is read (copick's defaults, no points)."""
    return construct_unchecked(
        CopickPicksFile,
        {
            "pickable_object_name": ident.object_name,
            "user_id": ident.user_id,
            "session_id": ident.session_id,
            "run_name": None,
            "voxel_spacing": None,
            "unit": "angstrom",
            "points": [],
            "trust_orientation": True,
        },
    )


def _mesh_meta(ident: layout.AnnotationId) -> Any:
    return construct_unchecked(
        CopickMeshMeta,
        {"pickable_object_name": ident.object_name, "user_id": ident.user_id, "session_id": ident.session_id},
    )


def _filaments_meta(ident: layout.AnnotationId) -> Any:
    from copick.filament_models import CopickFilamentsFile

    return CopickFilamentsFile.model_construct(
        pickable_object_name=ident.object_name,
        user_id=ident.user_id,
        session_id=ident.session_id,
        run_name=None,
        voxel_spacing=None,
        unit="angstrom",
        version=1,
        filaments=[],
    )


_ANNOTATION_META = {PICKS: _picks_meta, MESHES: _mesh_meta, FILAMENTS: _filaments_meta}


class FolderCatalog:
    """The records of one folder layer; read-only when the layer is (a project's static layer)."""

    def __init__(self, layer: Layer):
        self.layer = layer
        self._runs: list[str] = []  # run names in the order they will be asked for (read-ahead)
        self._index: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"FolderCatalog({self.layer!r})"

    def expect_runs(self, names: list[str]) -> None:
        """The project's runs, in the order loops over them ask (object stores read ahead in it)."""
        if not self.layer.is_local:
            self._runs, self._index = list(names), {n: i for i, n in enumerate(names)}

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        if kind == RUN:
            return self._run_records()
        base = layout.run_path(run)
        if not self.layer.is_local:
            self._prefetch(run, base)
        if kind in _ANNOTATIONS:
            return self._annotation_records(kind, base)
        if kind == VOXEL_SPACING:
            return self._spacing_records(base)
        if kind == TOMOGRAM:
            return self._tomogram_records(base, voxel_size)
        if kind == FEATURES:
            return self._features_records(base, voxel_size)
        if kind == SEGMENTATION:
            return self._segmentation_records(base)
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

    def _listed(self, meta: Any, path: str) -> Record:
        # tuple.__new__: the records of a listing are built by the thousand, without keyword parsing
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
            found.append(self._listed(construct_unchecked(CopickRunMeta, {"name": name}), path))
        return found

    def _annotation_records(self, kind: str, base: str) -> list[Record]:
        folder, ext = _ANNOTATIONS[kind]
        make_meta, parse = _ANNOTATION_META[kind], layout.parse_annotation_file_name
        rel, found = f"{base}/{folder}", []
        for name, is_dir in self._entries(rel):
            ident = None if is_dir else parse(name, ext)
            if ident is not None:
                found.append(self._listed(make_meta(ident), f"{rel}/{name}"))
        return found

    def _spacing_records(self, base: str) -> list[Record]:
        found = []
        for name, is_dir in self._entries(base):
            size = layout.parse_voxel_spacing_dirname(name) if is_dir else None
            if size is not None:
                meta = construct_unchecked(CopickVoxelSpacingMeta, {"voxel_size": size})
                found.append(self._listed(meta, f"{base}/{name}"))
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

    def _tomogram_records(self, base: str, voxel_size: float) -> list[Record]:
        found = []
        for rel, entries in self._spacing_folders(base, voxel_size):
            for name, is_dir in entries:
                tomo_type = layout.parse_tomogram_store_name(name) if is_dir else None
                if tomo_type is not None:
                    meta = construct_unchecked(CopickTomogramMeta, {"tomo_type": tomo_type})
                    found.append(self._listed(meta, f"{rel}/{name}"))
        return found

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
                            self._listed(construct_unchecked(CopickFeaturesMeta, meta), f"{rel}/{name}")
                        )
        return found

    def _segmentation_records(self, base: str) -> list[Record]:
        found = []
        for directory in _SEGMENTATION_DIRS:
            rel = f"{base}/{directory}"
            for name, is_dir in self._entries(rel):
                ident = layout.parse_segmentation_store_name(name, directory) if is_dir else None
                if ident is None:
                    continue
                kind = ident.segmentation_type
                meta = {
                    "user_id": ident.user_id,
                    "session_id": ident.session_id,
                    "name": ident.name,
                    "is_multilabel": kind == "multilabel",
                    "is_instance": kind == "instance",
                    "is_panoptic": kind == "panoptic",
                    "voxel_size": ident.voxel_size,
                }
                found.append(self._listed(construct_unchecked(CopickSegmentationMeta, meta), f"{rel}/{name}"))
        return found
