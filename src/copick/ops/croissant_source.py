"""The project an ML-Croissant manifest is made from (``export-croissant`` / ``append-croissant``):
a filesystem project's folder, a portal project's config, a project read from a manifest, or
CryoET Data Portal datasets read through a temporary project.

A source says which URL its rows' URLs are relative to (``base``): the project's folder, or for the
portal the canonical ``s3://`` prefix of the portal's bucket (files elsewhere keep their absolute
URL), and whether it has density maps of its objects (portal projects have none). ``portal_facts``
gives the portal metadata of an entity that the CDP-only filters and the session-id template use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Where the portal's files are: a portal source's URLs are relative to it (as copick 1.31 writes).
PORTAL_BASE_URL = "s3://cryoet-data-portal-public/"


@dataclass
class CroissantSource:
    """A project to list: its ``root``; ``base``, the folder or URL its rows' URLs are relative to;
    ``absolute_prefix``, what makes such a URL absolute (``append-croissant``); whether files outside
    the base keep their own URL or path (``external``; else they are an error), and whether it is a
    portal project (CDP-only options, no object density maps)."""

    root: Any
    base: str
    absolute_prefix: str
    external: bool = False
    is_portal: bool = False

    def relative(self, location: str) -> str | None:
        """``location`` (a local path or URL) relative to the base; ``None`` when outside it."""
        scheme, path = _split(location)
        base_scheme, base = _split(self.base)
        if scheme != base_scheme:
            return None
        if path == base:
            return ""
        return path[len(base) + 1 :] if path.startswith(base + "/") else None


def _split(url: str) -> tuple[str, str]:
    """``(scheme, path)`` of a URL or local path (``file``/``local`` URLs and paths: absolute path)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme in ("file", "local"):
        return "file", os.path.abspath(rest if sep else url)
    return scheme, rest.rstrip("/")


def config_source(root: Any, folder: str | None = None) -> CroissantSource:
    """The project of a config: a filesystem project (URLs relative to ``folder``, default its overlay
    root), a portal project (its portal files relative to the portal's prefix, its overlay files by
    absolute path, as 1.31 writes them) or a project read from a manifest (relative to the manifest's
    data, other files by their URL)."""
    from copick.errors import ConfigError

    config = root.config
    kind = getattr(config, "config_type", None)
    if kind == "cryoet_data_portal":
        return CroissantSource(root, PORTAL_BASE_URL, PORTAL_BASE_URL, external=True, is_portal=True)
    if kind == "mlcroissant":
        base = root.static_base_url.rstrip("/")
        return CroissantSource(root, base, base + "/", external=True)
    if kind not in ("filesystem", None):
        raise ConfigError(
            f"Croissant manifests are made from filesystem, mlcroissant or CryoET Data Portal projects; "
            f"the config is of type {kind!r}."
        )
    prefix = config.overlay_root.rstrip("/") + "/"
    return CroissantSource(root, os.path.abspath(folder or config.overlay_root.split("://", 1)[-1]), prefix)


@contextlib.contextmanager
def portal_source(dataset_ids: list[int]) -> Iterator[CroissantSource]:
    """Portal datasets read through a project whose overlay is a temporary folder (removed after)."""
    import tempfile

    from copick.ops.open import from_czcdp_datasets

    with tempfile.TemporaryDirectory(prefix="copick-croissant-") as overlay:
        root = from_czcdp_datasets(dataset_ids, overlay, {"auto_mkdir": True})
        yield CroissantSource(root, PORTAL_BASE_URL, PORTAL_BASE_URL, external=True, is_portal=True)


def portal_facts(entity: Any) -> dict[str, Any] | None:
    """The portal metadata of a portal tomogram, picks file or segmentation: its scalar portal fields,
    ``authors`` (list), ``author`` (the first) and for annotations ``annotation_file_id``;
    ``None`` for an entity the portal did not list."""
    portal = getattr(entity.meta, "portal_metadata", None)
    if portal is None:
        return None
    if hasattr(portal, "portal_annotation"):
        fields = portal.portal_annotation.model_dump() if portal.portal_annotation else {}
        authors = list(portal.portal_author_names or [])
        file = portal.portal_annotation_file
        fields["annotation_file_id"] = getattr(file, "id", None)
    else:
        fields = portal.portal_metadata.model_dump() if portal.portal_metadata else {}
        authors = list(portal.portal_authors or [])
    scalars = {k: v for k, v in fields.items() if not isinstance(v, (dict, list))}
    return {**scalars, "authors": authors, "author": authors[0] if authors else ""}
