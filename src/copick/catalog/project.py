"""``ProjectStorage``: a project's folder layers and the ordered catalogs that list them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copick.storage import Layer


class ProjectStorage:
    """A project's data: its folder layers, ``static`` (read-only) under ``overlay`` (writable), and
    the ordered catalogs that list them (``copick.catalog``): catalogs of other sources first (the
    data portal, as read-only as a static layer), then the static layer's, then the overlay's.

    Without a static root both names refer to the same layer and nothing is read-only.
    ``folder_catalog(layer)`` makes a folder layer's catalog (default: ``FolderCatalog``;
    a manifest backend lists its data folder through the manifest instead).
    """

    def __init__(
        self,
        overlay: Layer,
        static: Layer | None = None,
        catalogs: tuple = (),
        folder_catalog: Callable[[Layer], Any] | None = None,
    ):
        from copick.catalog.folders import FolderCatalog

        self.overlay = overlay
        self.static = static if static is not None else overlay
        self.static_is_overlay = static is None
        self.catalogs = tuple(catalogs)  # catalogs of other sources than the project's folders
        if static is not None:
            static.read_only = True
        make = folder_catalog or FolderCatalog
        self.folders = tuple(make(layer) for layer, _ in self.layers())
        self.sources = (*self.catalogs, *self.folders)  # every catalog, in listing order

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list:
        """Every catalog's records of ``kind`` (``copick.catalog.Record``), in listing order."""
        if len(self.sources) == 1:  # one folder layer: its list as it is
            return self.sources[0].records(kind, run, voxel_size)
        return [r for catalog in self.sources for r in catalog.records(kind, run, voxel_size)]

    def expect_runs(self, names: list[str]) -> None:
        """The runs in the order they are about to be asked for (object stores list them ahead)."""
        for catalog in self.folders:
            catalog.expect_runs(names)

    def layers(self) -> Iterator[tuple[Layer, bool]]:
        """``(layer, read_only)`` pairs in listing order: static first, then overlay."""
        if not self.static_is_overlay:
            yield self.static, True
        yield self.overlay, False

    def forget_prefetch(self, rel: str) -> None:
        for layer, _ in self.layers():
            layer.forget_prefetch(rel)

    def exists(self, rel: str) -> bool:
        return any(layer.exists(rel) for layer, _ in self.layers())

    def ensure_dir(self, rel: str, create: bool) -> bool:
        """Does folder ``rel`` exist in either layer? With ``create``, make it in the overlay with a
        ``.meta`` marker (what copick writes for runs and voxel spacings)."""
        from copick import layout

        if self.exists(rel):
            return True
        if create:
            self.overlay.makedirs(rel)
            self.overlay.write_bytes(layout.join(rel, layout.META_FILE), layout.META_CONTENT)
        return create
