"""Catalogs: where entities come from when they are not folders of a layer.

A project's storage is its layers (``copick.storage``: the overlay, maybe a static layer, listed
folder by folder with ``copick.layout``'s names) plus any number of **catalogs** ordered before the
overlay, as a static layer is. A catalog lists entity records of a kind for a run: the entity's meta
(its identity fields plus any extra metadata, as the entity class's meta model), a ``Locator`` naming
its bytes (a path in a blob ``Layer`` and, for annotation files not in copick's format, a decoder),
and where it comes from. Entities built from a record keep it (``entity._record``): they read through
its locator, are read-only, and writing them raises a ``PermissionError`` naming the source.

The data portal (``copick.portal.catalog.PortalCatalog``) is the first catalog; folders keep their
own listing (``ProjectStorage.list_dir``) until they move behind this protocol too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from copick.storage import Layer

# Record kinds, one per entity concept a catalog may list.
RUN, VOXEL_SPACING, TOMOGRAM, PICKS, MESHES, FILAMENTS, SEGMENTATION = (
    "run", "voxel_spacing", "tomogram", "picks", "meshes", "filaments", "segmentation",
)  # fmt: skip


@dataclass(frozen=True)
class Locator:
    """An entity's bytes: ``path`` inside the blob layer ``layer``; ``reader`` decodes annotation
    files that are not copick's own format (``reader(data, where) -> PickArrays``)."""

    layer: Layer
    path: str
    reader: Callable[[bytes, str], Any] | None = None


@dataclass(frozen=True)
class Record:
    """One entity listed by a catalog."""

    meta: Any  # the entity's meta model (identity fields + extra metadata)
    locator: Locator | None  # None: the entity has no bytes of its own (runs, voxel spacings)
    source: str  # what the entity belongs to, for messages: "CryoET Data Portal tomogram 1234"
    fields: dict[str, Any] = field(default_factory=dict)  # flat metadata for meta queries
    authors: tuple[str, ...] = ()
    read_only: bool = True


class Catalog(Protocol):
    """Lists the records of one source; answers from memory once its metadata is loaded."""

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        """Records of ``kind`` (of run ``run``; tomograms also of spacing ``voxel_size``)."""
        ...


def matches_query(
    record: Record | None, meta_query: dict[str, Any] | None, authors: Iterable[str] | None
) -> bool:
    """Does a record's metadata equal every ``meta_query`` field, and name every author? Entities
    without a record (overlay data) have no such metadata: they match only an empty query."""
    if not meta_query and not authors:
        return True
    if record is None:
        return False
    if meta_query and any(record.fields.get(k) != v for k, v in meta_query.items()):
        return False
    return all(a in record.authors for a in authors or ())


def filter_by_query(items: list, kwargs: dict[str, Any]) -> list:
    """``items`` matching ``portal_meta_query`` / ``portal_author_query`` in a ``get_*`` call's kwargs."""
    meta_query, authors = kwargs.get("portal_meta_query"), kwargs.get("portal_author_query")
    if not meta_query and not authors:
        return items
    return [i for i in items if matches_query(getattr(i, "_record", None), meta_query, authors)]
