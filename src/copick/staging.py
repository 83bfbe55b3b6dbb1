"""Whole-image rewrites that never expose a half-written image, and the cleanup of what a killed
writer left behind.

A new pyramid is written under a hidden sibling ``.<name>.<owner>.tmp`` of the image folder, where
``owner`` is ``<host hash>-<pid>-<unix time>-<random>`` of the write, then switched in:

* local disks: the staging folder is exchanged with the image folder in one ``renameat2`` call;
  concurrent writers each switch their own complete image, and the last one wins. Where the kernel
  offers no exchange, the old image is renamed to the trash ``.<name>.<owner>.tmp.old``, then the
  staging onto the image.
* object stores and SMB (no folder rename): the image's completion marker ``.zgroup`` is deleted
  first, so no reader ever mixes old and new chunks, then the staged objects are copied server-side
  onto the image's keys, keys of the old image that the new one lacks are deleted, ``.zattrs`` is
  copied and ``.zgroup`` moved last (a move is atomic everywhere, a copy is not on SMB) and the
  staging is removed. A hidden ``.<name>.lock`` object (created with a conditional PUT; on SFTP and
  SMB an exclusive create) admits one writer at a time; another live writer gets
  ``ConcurrentWriteError``. A lock left empty (its creator killed between creating and writing it)
  is broken after ``EMPTY_LOCK_SECONDS``.

* SFTP (folders rename in one request, ``Layer.renames_folders``): as on object stores, but the
  switch renames instead of copying every chunk: ``.zgroup`` is deleted, every entry of the old image
  (its level folders) is moved into the trash folder ``.<name>.<owner>.tmp.old`` (then the file
  ``.switched-out`` is created there: the journal of a killed switch), the staged entries are moved
  into the image, ``.zattrs`` and ``.zgroup`` last, and the trash and staging are deleted.

Roll-forward rule: a staging of a dead writer that is complete (has ``.zgroup``) next to an image
without ``.zgroup`` (on a local disk: a staging beside its trash, and no image) was killed
mid-switch: the switch is finished by the next reader of that image or ``copick check --fix``. Any
other staging of a dead writer is deleted by the next writer (or deleter) of the image. A writer
counts as dead when it ran on this host and its process is gone, or when its staging is older than
``copick.writers.STALE_AFTER_SECONDS`` (writers on other hosts).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable
from typing import Any

from copick import layout
from copick.errors import ConcurrentWriteError
from copick.storage import Layer
from copick.writers import owner_id, writer_alive

# How long an empty write lock (its creator has not written its owner id yet) is waited for.
EMPTY_LOCK_SECONDS = 3.0

_MARKERS = (".zattrs", ".zgroup")  # copied last, .zgroup (the completion marker) at the very end

_WRITES = itertools.count(1)
_GENERATIONS: dict[tuple[tuple, str], int] = {}  # (layer place, image) -> last write by this process


def generation(layer: Layer, rel: str) -> int:
    """A number that changes whenever this process rewrites, tidies or deletes image ``rel`` of
    ``layer`` (through any root): readers that keep an image's opened metadata compare it."""
    return _GENERATIONS.get((layer.place, rel), 0)


def _changed(layer: Layer, rel: str) -> None:
    _GENERATIONS[(layer.place, rel)] = next(_WRITES)


def _lock_path(rel: str) -> str:
    """The write lock beside image ``rel`` (remote layers)."""
    parent, name = rel.rsplit("/", 1)
    return layout.join(parent, f"{layout.temp_prefix(name)}lock")


def _stagings(layer: Layer, rel: str) -> list[tuple[str, str]]:
    """``(staging rel, owner)`` of every staging folder of image ``rel``, whoever wrote it."""
    parent, name = rel.rsplit("/", 1)
    stem, found = layout.temp_prefix(name), []
    for entry in layer.list_dir(parent, hidden=True):
        if entry.name.startswith(stem) and entry.name.endswith((".tmp", ".tmp.old")):
            owner = entry.name[len(stem) :].removesuffix(".old").removesuffix(".tmp")
            found.append((layout.join(parent, entry.name), owner))
    return found


def tidy(layer: Layer, rel: str, roll_forward: bool = True) -> bool:
    """Finish (see the module docstring) or delete the stagings of dead writers of image ``rel``;
    True when an interrupted switch was finished. Stagings come before trash folders (``.tmp.old``):
    finishing a switch needs its trash."""
    if layer.read_only:
        return False
    _changed(layer, rel)
    finished = False
    can_finish = roll_forward and len(rel.rsplit("/", 1)[1]) <= layout.TEMP_STEM
    for staging, owner in sorted(_stagings(layer, rel), key=lambda found: found[0].endswith(".old")):
        if writer_alive(owner) or not layer.exists(staging):  # gone: the trash of a switch just finished
            continue
        if can_finish and _killed_mid_switch(layer, staging, rel):
            if layer.is_local:
                layer.replace_dir(staging, rel)
            else:
                _switch(layer, staging, rel)
                if lock_holder(layer, _lock_path(rel)) == owner:
                    layer.discard(_lock_path(rel))  # the finished writer's
            finished = True
        else:
            layer.discard(staging)
    return finished


def _killed_mid_switch(layer: Layer, staging: str, rel: str) -> bool:
    """Was the (dead) writer of ``staging`` killed while switching it in? Remote layers: the staging
    is complete (has ``.zgroup``) and the image has no ``.zgroup``. Local disks whose kernel has no
    atomic exchange (``storage_local.replace_folder`` renames twice): the old image is in the trash
    ``.tmp.old`` and no image is there; the staging was complete before the first rename."""
    if staging.endswith(".old"):
        return False
    if layer.is_local:
        return layer.exists(f"{staging}.old") and not layer.exists(rel)
    return layer.exists(layout.join(staging, ".zgroup")) and not layer.exists(f"{rel}/.zgroup")


def rewrite(layer: Layer, rel: str, write: Callable[[Any], None], where: str) -> None:
    """Replace image ``rel`` with what ``write(store)`` writes into a fresh zarr store."""
    _staged(layer, rel, lambda staging: write(layer.zarr_store(staging, read_only=False)), where)


def copy_image(source: Layer, src_rel: str, target: Layer, rel: str, where: str) -> None:
    """Replace image ``rel`` of ``target`` with a copy of image ``src_rel`` of ``source`` (any two
    layers, any backends) through a staging, as every rewrite: between local disks a folder copy,
    elsewhere file by file with the markers last."""
    if source.is_local and target.is_local:
        import shutil

        def fill(staging: str) -> None:
            shutil.copytree(source.path(src_rel), target.path(staging))

    else:
        keys = source.list_files(src_rel)
        ordered = [k for k in keys if k not in _MARKERS] + [m for m in _MARKERS if m in keys]

        def fill(staging: str) -> None:
            for key in ordered:
                target.write_bytes(layout.join(staging, key), source.read_bytes(layout.join(src_rel, key)))

    _staged(target, rel, fill, where)


def _staged(layer: Layer, rel: str, fill: Callable[[str], None], where: str) -> None:
    """Replace image ``rel`` with what ``fill(staging)`` puts in a fresh staging folder beside it, then
    switch it in (see the module docstring); on remote layers under the image's write lock."""
    parent, name = rel.rsplit("/", 1)
    owner = owner_id()
    staging = layout.join(parent, layout.temp_name(name, owner))
    lock = None if layer.is_local else _lock(layer, _lock_path(rel), owner, where)
    try:
        tidy(layer, rel, roll_forward=False)
        try:
            fill(staging)
        except BaseException:
            layer.discard(staging)
            raise
        # A switch that fails half-way keeps the complete staging: once this process has ended,
        # the next reader finishes the switch (roll-forward rule), as after a kill.
        if layer.is_local:
            layer.replace_dir(staging, rel)
        else:
            _switch(layer, staging, rel)
    finally:
        try:
            if lock is not None:
                layer.discard(lock)
        finally:
            _changed(layer, rel)


def _lock(layer: Layer, lock: str, owner: str, where: str) -> str:
    """Create the lock object of one image for ``owner``; a stale lock (dead writer) is broken once."""
    for _ in range(2):
        try:
            layer.create_bytes(lock, owner.encode())
            return lock
        except FileExistsError:
            holder = lock_holder(layer, lock)
            if holder is None:
                continue  # released meanwhile
            if holder and writer_alive(holder):
                raise ConcurrentWriteError(
                    f"{where}: another process (writer {holder}) is writing this image now; "
                    "retry when it has finished."
                ) from None
            layer.discard(lock)
    raise ConcurrentWriteError(f"{where}: other processes keep taking this image's write lock; retry later.")


def lock_holder(layer: Layer, lock: str) -> str | None:
    """The owner id written in an image's write lock; ``None`` when there is no lock, ``""`` when
    its creator was killed before writing it.

    SFTP and SMB create a file (exclusively) and then write into it, two requests: a lock read
    between the two is empty. An empty lock is read again for ``EMPTY_LOCK_SECONDS``; still empty,
    its creator died between the two, and the lock blocks nobody (else every later writer would be
    refused forever).
    """
    deadline = time.monotonic() + EMPTY_LOCK_SECONDS
    while True:
        try:
            holder = layer.read_bytes(lock).decode(errors="replace")
        except FileNotFoundError:
            return None
        if holder or time.monotonic() > deadline:
            return holder
        time.sleep(0.1)


def _switch(layer: Layer, staging: str, rel: str) -> None:
    """Move a complete staged image onto ``rel`` on a remote layer (see the module docstring)."""
    if layer.renames_folders:
        _switch_by_renames(layer, staging, rel)
        return
    new = set(layer.list_files(staging))
    old = set(layer.list_files(rel))
    layer.discard(layout.join(rel, ".zgroup"))
    layer.copy_files(
        [(layout.join(staging, k), layout.join(rel, k)) for k in sorted(new) if k not in _MARKERS]
    )
    for key in sorted(old - new):
        layer.discard(layout.join(rel, key))
    if ".zattrs" in new:
        layer.copy_files([(layout.join(staging, ".zattrs"), layout.join(rel, ".zattrs"))])
    if ".zgroup" in new:
        # Moved, not copied: a copy killed half-way can leave an empty .zgroup (SMB copies by
        # creating the file, then filling it), which readers would take for a complete image.
        layer.move(layout.join(staging, ".zgroup"), layout.join(rel, ".zgroup"))
    layer.discard(staging)


def _switch_by_renames(layer: Layer, staging: str, rel: str) -> None:
    """``_switch`` on SFTP: entries moved by renames, the old ones through a trash folder. Run again
    on the same folders (roll-forward after a kill), it carries on where the killed switch stopped:
    the journal file says whether the old entries are all out already."""
    trash = f"{staging}.old"
    journal = layout.join(trash, ".switched-out")
    layer.discard(layout.join(rel, ".zgroup"))
    if not layer.exists(journal):
        layer.makedirs(trash)
        for entry in _fresh_entries(layer, rel):
            if entry not in _MARKERS:
                layer.move(layout.join(rel, entry), layout.join(trash, entry))
        with contextlib.suppress(FileExistsError):
            layer.create_bytes(journal, b"")
    staged = _fresh_entries(layer, staging)
    for entry in [e for e in staged if e not in _MARKERS] + [m for m in _MARKERS if m in staged]:
        layer.move(layout.join(staging, entry), layout.join(rel, entry))  # .zgroup last
    layer.discard(staging)
    layer.discard(trash)


def _fresh_entries(layer: Layer, rel: str) -> list[str]:
    """Names in folder ``rel`` (hidden ones too) as the server has them now."""
    layer.forget_prefetch(rel)
    return sorted(entry.name for entry in layer.list_dir(rel, hidden=True))
