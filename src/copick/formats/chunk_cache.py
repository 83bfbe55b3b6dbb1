"""Decoded-chunk cache for small region reads of images on local disks.

copick's images default to 256³ chunks, so a 64³ region read decodes a 64 MiB chunk to keep 1 MiB
of it. Repeated region reads of one image (viewers, particle extraction) touch the same few chunks;
keeping them decoded turns every later read into a copy. Each cached chunk is checked against its
file's modification time and size on every use, so writes by any process are always seen.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

BUDGET_BYTES = 512 * 2**20


class ChunkCache:
    """Least-recently-used decoded chunks, keyed by chunk file path, bounded in bytes."""

    def __init__(self, budget: int = BUDGET_BYTES):
        self.budget = budget
        self._items: OrderedDict[str, tuple[Any, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, token: Any) -> np.ndarray | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != token:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, token: Any, chunk: np.ndarray) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1].nbytes
            self._items[key] = (token, chunk)
            self._bytes += chunk.nbytes
            while self._bytes > self.budget and self._items:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted.nbytes


_CACHE = ChunkCache()


def _file_token(path: str) -> Any:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None  # a chunk never written reads as the fill value
    return (st.st_mtime_ns, st.st_size)


def read_region_cached(array: Any, level_dir: str, sel: tuple[slice, ...], out_shape: tuple[int, ...]) -> Any:
    """Region ``sel`` of the zarr v2 ``array`` stored in local folder ``level_dir``, assembled from
    cached decoded chunks; ``None`` when caching does not pay (large or strided regions, zarr v3)."""
    from copick.formats.zarr_store import chunk_separator

    separator = chunk_separator(array)
    if separator is None or any(s.step not in (None, 1) for s in sel) or 0 in out_shape:
        return None
    shape, chunks = array.shape, array.chunks
    bounds = [s.indices(n)[:2] for s, n in zip(sel, shape)]
    grid = [range(lo // c, (hi - 1) // c + 1) for (lo, hi), c in zip(bounds, chunks)]
    touched = math.prod(len(r) for r in grid) * math.prod(chunks) * array.dtype.itemsize
    if touched > _CACHE.budget // 2 or touched < 4 * math.prod(out_shape) * array.dtype.itemsize:
        return None  # too big to keep, or the region uses most of what it decodes anyway
    out = np.empty(out_shape, dtype=array.dtype)
    for index in itertools.product(*grid):
        path = os.path.join(level_dir, separator.join(map(str, index)))
        token = _file_token(path)
        chunk = _CACHE.get(path, token)
        if chunk is None:
            whole = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunks, shape))
            chunk = np.asarray(array[whole])
            _CACHE.put(path, token, chunk)
        src, dst = [], []
        for i, c, (lo, hi) in zip(index, chunks, bounds):
            start, stop = max(lo, i * c), min(hi, (i + 1) * c)
            src.append(slice(start - i * c, stop - i * c))
            dst.append(slice(start - lo, stop - lo))
        out[tuple(dst)] = chunk[tuple(src)]
    return out
