"""Read-only HTTP(S) layers (``https://host/path``): a project folder served by any web server that
lists folders as HTML index pages (nginx ``autoindex``, Apache, ``python -m http.server``).

fsspec's ``HTTPFileSystem`` with two changes: ``find`` lists the folders of one depth at once
(``copick.remote.walk``), one index page per folder; names in index pages are URL-decoded, so an
entry named ``a b.json`` lists as that name, not ``a%20b.json``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fsspec.implementations.http import HTTPFileSystem as _FsspecHTTP

from copick.remote.walk import find_by_levels


def _norm(url: str) -> str:
    return url.rstrip("/")


class HTTPFileSystem(_FsspecHTTP):
    """fsspec's HTTP filesystem with level-by-level listings and decoded names."""

    async def _ls(self, url: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        infos = await super()._ls(url, detail=True, **kwargs)
        base = url.rstrip("/") + "/"
        out = []
        for info in infos:
            name = info["name"]
            if name.startswith(base):
                name = base + urllib.parse.unquote(name[len(base) :])
            out.append({**info, "name": name.rstrip("/")})
        return out if detail else [i["name"] for i in out]

    async def _find(
        self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False, **kw: Any
    ) -> Any:
        path = _norm(path)

        async def ls(folder: str) -> list[dict]:
            try:
                return await self._ls(folder + "/", detail=True)
            except FileNotFoundError:
                if folder == path:
                    raise
                return []

        try:
            return await find_by_levels(ls, path, maxdepth, withdirs, detail, norm=_norm)
        except FileNotFoundError:
            return {} if detail else []
