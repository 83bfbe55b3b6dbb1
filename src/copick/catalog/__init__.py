"""Catalogs: the one seam between entities and where their data is.

A project's storage (``copick.storage.ProjectStorage``) is an ordered list of **catalogs**: any
catalogs of other sources first (the data portal), then the static folder layer, then the overlay.
A catalog lists the entity records of a kind for a run: the entity's meta (its identity fields plus
any extra metadata, as the entity class's meta model), a ``Locator`` naming its bytes (a path in a
blob ``Layer`` and, for annotation files not in copick's format, a decoder), whether it is
read-only, and where it comes from. Entities are built from records and hold the locator: they read
through it and write through it (writes are refused when the record is read-only).

``FolderCatalog`` (``copick.catalog.folders``) lists a folder layer with ``copick.layout``'s names;
``copick.portal.catalog.PortalCatalog`` answers from portal records. A new backend (mlcroissant) is
one more catalog: entities do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from copick.storage import Layer

# Record kinds, one per entity concept a catalog may list.
RUN, VOXEL_SPACING, TOMOGRAM, FEATURES, PICKS, MESHES, FILAMENTS, SEGMENTATION = (
    "run", "voxel_spacing", "tomogram", "features", "picks", "meshes", "filaments", "segmentation",
)  # fmt: skip

_NO_FIELDS: Mapping[str, Any] = {}  # shared by records without fields: never changed


class Locator(NamedTuple):
    """An entity's bytes: ``path`` inside the blob layer ``layer`` (a file, or a folder for images);
    ``reader`` decodes annotation files that are not copick's own format (``reader(data, where) ->
    PickArrays``)."""

    layer: Layer
    path: str
    reader: Callable[[bytes, str], Any] | None = None


class Record(NamedTuple):
    """One entity listed by a catalog."""

    # The entity's meta model (identity fields + extra metadata); folder listings give a shared
    # ``copick.listed_meta.ListedMeta`` of its values instead, which the entity makes its model from.
    meta: Any
    locator: Locator | None  # None: the entity has no bytes of its own (runs, voxel spacings of a portal)
    # What the entity belongs to, for messages ("CryoET Data Portal tomogram 1234"); empty for the
    # project's own folder layers, whose entities are named by their path.
    source: str
    fields: Mapping[str, Any] = _NO_FIELDS  # flat metadata for meta queries
    authors: tuple[str, ...] = ()
    read_only: bool = True


class Catalog(Protocol):
    """Lists the records of one source, in the order users see them."""

    def records(self, kind: str, run: str | None = None, voxel_size: float | None = None) -> list[Record]:
        """Records of ``kind`` (of run ``run``; tomograms and feature maps also of spacing ``voxel_size``)."""
        ...


def matches_query(
    record: Record | None, meta_query: dict[str, Any] | None, authors: Iterable[str] | None
) -> bool:
    """Does a record's metadata equal every ``meta_query`` field, and name every author? Entities
    without a catalog record (the project's own data) have no such metadata: they match only an
    empty query."""
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
