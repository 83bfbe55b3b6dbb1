"""The folder-tree part of ``copick check``: one listing per run and layer, every name classified.

Each entry of a run folder is an entity (checked by ``check_entities`` / ``check_volumes``), a marker
(``.meta``, zarr metadata), a leftover of a killed writer (``check_leftovers``), an empty folder, or a
stray (a name copick never lists: reported, never fatal).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from copick import layout
from copick.ops.check import Finding
from copick.ops.check_context import Context

ANNOTATION_DIRS = {layout.PICKS_DIR: ".json", layout.MESHES_DIR: ".glb", layout.FILAMENTS_DIR: ".json"}
IMAGE_MARKERS = {".zattrs", ".zgroup", ".zarray", ".zmetadata", ".copick-new"}


class Tree:
    """Files and folders below one folder (paths relative to it), from one recursive listing."""

    def __init__(self, files: set[str], dirs: set[str]):
        self.files, self.dirs = files, dirs
        self.kids: dict[str, set[str]] = defaultdict(set)
        for path in (*files, *dirs):
            parent, _, name = path.rpartition("/")
            self.kids[parent].add(name)

    @classmethod
    def listed(cls, layer: Any, rel: str) -> Tree:
        base = layer.path(rel)
        files: set[str] = set()
        dirs: set[str] = set()
        if layer.is_local:
            for folder, subdirs, names in os.walk(base, followlinks=True):
                at = os.path.relpath(folder, base).replace(os.sep, "/")
                at = "" if at == "." else at
                dirs.update(layout.join(at, n) for n in subdirs)
                files.update(layout.join(at, n) for n in names)
            return cls(files, dirs)
        from copick.storage_remote import find_or_empty

        layer.fs.invalidate_cache(base)
        prefix = base.rstrip("/") + "/"
        for name, info in find_or_empty(layer.fs, base).items():
            if name.startswith(prefix):
                (dirs if info.get("type") == "directory" else files).add(name[len(prefix) :])
        for path in list(files):  # object stores: folders are implied by the keys below them
            parts = path.split("/")[:-1]
            dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return cls(files, dirs)

    def children(self, rel: str) -> list[str]:
        return sorted(self.kids.get(rel, ()))

    def is_dir(self, rel: str) -> bool:
        return rel in self.dirs

    def files_below(self, rel: str) -> list[str]:
        """Every file below folder ``rel``, relative to it."""
        found, stack = [], [rel]
        while stack:
            at = stack.pop()
            for name in self.kids.get(at, ()):
                path = layout.join(at, name)
                if path in self.files:
                    found.append(path[len(rel) + 1 :] if rel else path)
                else:
                    stack.append(path)
        return found


def _stray(ctx: Context, layer: Any, rel: str, run: str | None, why: str) -> Finding:
    return ctx.finding(
        "warning",
        "stray",
        layer,
        rel,
        f"not a copick entity ({why}); copick never lists it",
        "rename it to a copick name or move it out of the project",
        run=run,
    )


def check_top(ctx: Context, wanted: list[str] | None) -> tuple[list[Finding], list[str]]:
    """Findings about ``ExperimentRuns/`` and ``Objects/`` themselves, and the run names to check."""
    from copick.ops.check_volumes import check_image

    findings: list[Finding] = []
    names: set[str] = set()
    for layer, read_only in ctx.layers:
        for entry in layer.list_dir(layout.RUNS_DIR, hidden=True):
            rel = layout.join(layout.RUNS_DIR, entry.name)
            if layout.is_hidden(entry.name):
                findings += ctx.leftovers.check(ctx, layer, rel, entry.is_dir, read_only, None)
            elif not entry.is_dir:
                findings.append(_stray(ctx, layer, rel, None, "a file where run folders are"))
            else:
                try:
                    layout.check_run_name(entry.name)
                    names.add(entry.name)
                except (ValueError, TypeError) as err:
                    findings.append(
                        ctx.finding(
                            "error",
                            "run-name",
                            layer,
                            rel,
                            f"run folder name cannot be used: {err}",
                            "rename the folder to a name without '/', '\\' or control characters",
                            run=entry.name,
                        )
                    )
        for entry in layer.list_dir(layout.OBJECTS_DIR, hidden=True):
            rel = layout.join(layout.OBJECTS_DIR, entry.name)
            if layout.is_hidden(entry.name):
                findings += ctx.leftovers.check(ctx, layer, rel, entry.is_dir, read_only, None)
                continue
            name = entry.name[: -len(layout.ZARR_SUFFIX)] if entry.name.endswith(layout.ZARR_SUFFIX) else None
            if not entry.is_dir or name is None:
                findings.append(_stray(ctx, layer, rel, None, "object maps are <object>.zarr folders"))
                continue
            obj = ctx.objects.get(name)
            if obj is None or not obj.is_particle:
                why = "not in the config" if obj is None else "not a particle (is_particle is false)"
                findings.append(
                    ctx.finding(
                        "warning",
                        "unknown-object",
                        layer,
                        rel,
                        f"density map of object {name!r}, which is {why}",
                        "add the object to the config (as a particle) or delete the map",
                    )
                )
            tree = Tree.listed(layer, rel)
            findings += check_image(ctx, layer, rel, tree, "object", None, read_only, None)[0]
    if wanted is not None:
        for name in wanted:
            if name not in names:
                findings.append(
                    Finding(
                        "error",
                        "run-missing",
                        layout.join(layout.RUNS_DIR, name),
                        f"run {name!r} asked for is not in the project",
                        "check the run name",
                        run=name,
                    )
                )
        names &= set(wanted)
    return findings, sorted(names)


def check_run(ctx: Context, run: str) -> tuple[list[Finding], dict[str, int]]:
    """Every finding of one run in every layer, and counts of what was checked."""
    from copick.ops.check_entities import check_annotation

    findings: list[Finding] = []
    counts: dict[str, int] = defaultdict(int)
    seen: list[set[str]] = []
    rel = layout.run_path(run)
    for layer, read_only in ctx.layers:
        tree = Tree.listed(layer, rel)
        entities: set[str] = set()
        visit = _Visit(ctx, layer, read_only, run, rel, tree, findings, counts, entities)
        visit.run_folder()
        seen.append(entities)
        for path in sorted(entities):
            if path.endswith((".json", ".glb")):
                findings += check_annotation(ctx, layer, layout.join(rel, path), read_only, run)
                counts["annotations"] += 1
    if len(seen) == 2:
        static, overlay = seen
        counts["static_only"] += len(static - overlay)
        counts["overlay_only"] += len(overlay - static)
        counts["shadowed"] += len(static & overlay)
        layer = ctx.layers[1][0]
        for path in sorted(static & overlay):
            findings.append(
                ctx.finding(
                    "warning",
                    "shadowed",
                    layer,
                    layout.join(rel, path),
                    "also in the read-only static layer: copick lists both copies (the static one first)",
                    "delete one of the copies (the overlay one with copick rm, or edit the static layer)",
                    run=run,
                )
            )
    return findings, dict(counts)


@dataclass
class _Visit:
    """Classifies the entries of one run folder of one layer (appends to ``findings``)."""

    ctx: Context
    layer: Any
    read_only: bool
    run: str
    rel: str
    tree: Tree
    findings: list[Finding]
    counts: dict[str, int]
    entities: set[str]

    def full(self, path: str) -> str:
        return layout.join(self.rel, path)

    def hidden(self, path: str) -> bool:
        """Hidden entries: markers are fine, leftovers are reported; True when ``path`` is hidden."""
        name = path.rpartition("/")[2]
        if not layout.is_hidden(name):
            return False
        if name not in (layout.META_FILE, *IMAGE_MARKERS):
            self.findings += self.ctx.leftovers.check(
                self.ctx, self.layer, self.full(path), self.tree.is_dir(path), self.read_only, self.run
            )
        return True

    def stray(self, path: str, why: str) -> None:
        self.findings.append(_stray(self.ctx, self.layer, self.full(path), self.run, why))

    def empty_folder(self, path: str) -> bool:
        if self.tree.files_below(path):
            return False
        self.findings.append(
            self.ctx.finding(
                "info",
                "empty-folder",
                self.layer,
                self.full(path),
                "empty folder",
                "nothing to do; copick check --fix removes it",
                run=self.run,
                repair=None if self.read_only else ("delete", self.layer, self.full(path)),
            )
        )
        return True

    def run_folder(self) -> None:
        for name in self.tree.children(""):
            if self.hidden(name):
                continue
            is_dir = self.tree.is_dir(name)
            if name in ANNOTATION_DIRS and is_dir:
                self.annotation_folder(name, ANNOTATION_DIRS[name])
            elif name in layout.SEGMENTATION_DIRS.values() and is_dir:
                self.segmentation_folder(name)
            elif name.startswith(layout.VOXEL_SPACING_PREFIX) and is_dir:
                self.voxel_spacing_folder(name)
            else:
                self.stray(name, "unknown name in a run folder")

    def annotation_folder(self, folder: str, ext: str) -> None:
        if self.empty_folder(folder):
            return
        for name in self.tree.children(folder):
            path = layout.join(folder, name)
            if self.hidden(path):
                continue
            if self.tree.is_dir(path) or layout.parse_annotation_file_name(name, ext) is None:
                self.stray(path, f"annotation files are named <user>_<session>_<object>{ext}")
            else:
                self.entities.add(path)

    def image(self, path: str, kind: str, ident: Any) -> None:
        from copick.ops.check_volumes import check_image

        self.entities.add(path)
        found, chunks = check_image(
            self.ctx,
            self.layer,
            self.full(path),
            _SubTree(self.tree, path),
            kind,
            ident,
            self.read_only,
            self.run,
        )
        self.findings += found
        self.counts["images"] += 1
        self.counts["chunks"] += chunks

    def segmentation_folder(self, folder: str) -> None:
        if self.empty_folder(folder):
            return
        for name in self.tree.children(folder):
            path = layout.join(folder, name)
            if self.hidden(path):
                continue
            ident = layout.parse_segmentation_store_name(name, folder) if self.tree.is_dir(path) else None
            if ident is None:
                self.stray(path, "segmentations are <voxel size>_<user>_<session>_<name>.zarr folders")
            else:
                self.image(path, "segmentation", ident)

    def voxel_spacing_folder(self, folder: str) -> None:
        voxel_size = layout.parse_voxel_spacing_dirname(folder)
        if voxel_size is None:
            self.stray(folder, "VoxelSpacing must be followed by a voxel size > 0 such as 10.000")
            return
        for name in self.tree.children(folder):
            path = layout.join(folder, name)
            if self.hidden(path):
                continue
            if not self.tree.is_dir(path):
                self.stray(path, "a file among the images of a voxel spacing")
            elif layout.parse_tomogram_store_name(name) is not None:
                self.image(path, "tomogram", voxel_size)
            elif name.endswith(layout.FEATURES_SUFFIX) and _features_ok(name):
                self.image(path, "features", voxel_size)
            else:
                self.stray(path, "images are <type>.zarr or <type>_<feature>_features.zarr folders")


def _features_ok(name: str) -> bool:
    tomo_type = name.split("_", 1)[0]
    return layout.parse_features_store_name(name, tomo_type) is not None


class _SubTree:
    """The part of a run's ``Tree`` below one image folder, with the same interface."""

    def __init__(self, tree: Tree, prefix: str):
        self.tree, self.prefix = tree, prefix

    def files_below(self, rel: str) -> list[str]:
        return self.tree.files_below(layout.join(self.prefix, rel) if rel else self.prefix)

    def children(self, rel: str) -> list[str]:
        return self.tree.children(layout.join(self.prefix, rel) if rel else self.prefix)

    def is_dir(self, rel: str) -> bool:
        return self.tree.is_dir(layout.join(self.prefix, rel) if rel else self.prefix)
