"""Filament polarity for RELION exports: which Filaments state it, and per pick whether it is known.

A pick's polarity is that of the filament with its instance id in the Filaments under the picks'
own URI (or those named by ``filaments_uri``); ``rlnAnglePsiFlipRatio`` is 0 where it is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from copick.entities.filaments import CopickFilaments
    from copick.entities.picks import CopickPicks


@dataclass
class FilamentPolarity:
    """Where the polarity came from (a filaments URI, or None) and how many filaments had it known."""

    source: str | None
    known: int
    unknown: int


def _uri(entity: CopickPicks | CopickFilaments) -> str:
    return f"{entity.pickable_object_name}:{entity.user_id}/{entity.session_id}"


def polarity_filaments(picks: CopickPicks, filaments_uri: str | None = None) -> CopickFilaments | None:
    """The Filaments stating the polarity of ``picks``: those under the picks' own URI (None when
    absent), or the first matching ``filaments_uri`` in the picks' run (ValueError when none does)."""
    from copick.util.uri import parse_copick_uri, resolve_copick_objects

    run = picks.run
    if filaments_uri is None:
        found = run.get_filaments(picks.pickable_object_name, picks.user_id, picks.session_id)
        return found[0] if found else None
    try:
        parse_copick_uri(filaments_uri, "filaments")
    except ValueError:
        raise ValueError(f"Invalid filaments URI format: {filaments_uri!r}") from None
    found = resolve_copick_objects(filaments_uri, run.root, "filaments", run_name=run.name)
    if not found:
        raise ValueError(
            f"No Filaments match {filaments_uri} in {run.name}, so the polarity of {_uri(picks)} is "
            "unknown. Name the Filaments these picks were sampled from."
        )
    return found[0]


def filament_polarity(
    picks: CopickPicks, filaments_uri: str | None = None
) -> tuple[np.ndarray, FilamentPolarity]:
    """(per pick: is its filament's polarity known, summary). Without Filaments every pick is
    unknown; with them, every pick's instance id must name one of their filaments."""
    ids = np.asarray(picks.instance_ids(), dtype=np.int64)
    unique = [int(i) for i in np.unique(ids)]
    filaments = polarity_filaments(picks, filaments_uri)
    if filaments is None:
        return np.zeros(len(ids), dtype=bool), FilamentPolarity(None, 0, len(unique))
    table = {int(f.instance_id): bool(f.polarity_known) for f in filaments.filaments}
    source = _uri(filaments)
    missing = [i for i in unique if i not in table]
    if missing:
        raise ValueError(
            f"{len(missing)} filament IDs of {_uri(picks)} in {picks.run.name} have no filament in "
            f"{source}: {missing}. Each pick must come from a filament of the Filaments that state the "
            "polarity."
        )
    known = np.array([table[int(i)] for i in ids], dtype=bool)
    n_known = sum(table[i] for i in unique)
    return known, FilamentPolarity(source, n_known, len(unique) - n_known)


def filament_polarity_known(picks: CopickPicks, filaments_uri: str | None = None) -> np.ndarray:
    """Per pick: whether its filament's polarity is known (see ``filament_polarity``)."""
    return filament_polarity(picks, filaments_uri)[0]


def is_filament_export(picks: CopickPicks, filament: bool | str) -> bool:
    """Whether an export of ``picks`` gets filament columns: ``True``/``"on"``, ``False``/``"off"``, or
    ``"auto"`` when the picks' object is declared a filament."""
    if isinstance(filament, bool):
        return filament
    choice = str(filament).lower()
    if choice in ("on", "off"):
        return choice == "on"
    if choice != "auto":
        raise ValueError(f"filament must be a bool, 'auto', 'on' or 'off', not {filament!r}")
    obj = picks.run.root.get_object(picks.pickable_object_name)
    return bool(getattr(obj, "is_filament", False)) if obj is not None else False
