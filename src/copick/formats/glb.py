"""GLB meshes through trimesh: bytes <-> ``trimesh.Scene`` (vertices in Angstrom)."""

from __future__ import annotations

import io
from typing import Any

from copick.errors import CorruptFileError


def load_scene(data: bytes, source: str) -> Any:
    """Parse GLB bytes into a ``trimesh.Scene``; ``CorruptFileError`` names ``source``."""
    import trimesh

    try:
        return trimesh.load(io.BytesIO(data), file_type="glb", force="scene")
    except Exception as err:  # trimesh raises many unrelated types on bad input
        raise CorruptFileError(f"{source}: not a readable GLB mesh ({err})") from err


def dump_scene(mesh: Any) -> bytes:
    """GLB bytes of a ``trimesh.Trimesh`` or ``Scene`` (an empty geometry for an empty scene)."""
    import trimesh

    scene = mesh if isinstance(mesh, trimesh.Scene) else trimesh.Scene(mesh)
    if not scene.geometry:
        scene = trimesh.Scene(trimesh.Trimesh())
    return scene.export(file_type="glb")


def placeholder_scene() -> Any:
    """The scene a new mesh starts with: one empty geometry, as copick 1.31 stores it."""
    import trimesh

    return trimesh.Scene(trimesh.Trimesh())
