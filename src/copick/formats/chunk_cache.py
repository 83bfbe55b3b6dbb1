"""Direct reads of zarr v2 image levels on local disks: chunk files decoded straight into the result.

Reading through zarr costs, per open, a group and an array object (under zarr 3 also a trip through
its event loop and thread pool) and, per chunk, a fresh decoded buffer and a copy. Loaders open
hundreds of small images, so here a level is its parsed ``.zarray`` plus chunk files: a region
decodes only the Blosc blocks it touches (a small level in a zero-padded 256³ chunk decodes its own
planes, not 64 MiB), large reads decode their chunks in parallel into one preallocated array.

Repeated small region reads of one image (viewers, particle extraction) touch the same few chunks:
those chunks are kept decoded in an LRU cache, checked against the chunk file's modification time
and size on every use, so writes by any process are always seen.
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

BUDGET_BYTES = 512 * 2**20
_FLOAT_FILLS = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}


class ChunkCache:
    """Least-recently-used decoded chunks, keyed by chunk file path, bounded in bytes."""

    def __init__(self, budget: int = BUDGET_BYTES):
        self.budget = budget
        self._items: OrderedDict[str, tuple[Any, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, Any] = OrderedDict()  # chunks read once, not kept (yet)

    def get(self, key: str, token: Any) -> np.ndarray | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != token:
                return None
            self._items.move_to_end(key)
            return item[1]

    def seen_before(self, key: str, token: Any) -> bool:
        """Whether this chunk version was read before; records it. Chunks are kept from their second
        read on, so one-off reads (a loader opening many images) decode only what they need."""
        with self._lock:
            before = self._seen.pop(key, None) == token
            self._seen[key] = token
            if len(self._seen) > 4096:
                self._seen.popitem(last=False)
            return before

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


def pool_size() -> int:
    """Threads of the process-wide chunk pool."""
    return max(2, min(8, os.cpu_count() or 2))


@functools.cache
def decode_pool() -> concurrent.futures.ThreadPoolExecutor:
    """One process-wide pool decoding and encoding chunks (Blosc releases the GIL), started on first
    use; ``chunk_writer`` compresses on it too."""
    return concurrent.futures.ThreadPoolExecutor(pool_size(), "copick-chunks")


os.register_at_fork(after_in_child=decode_pool.cache_clear)  # a forked loader worker starts its own threads


_local = threading.local()


def scratch_buffer(nbytes: int) -> np.ndarray:
    """This thread's reusable decode buffer, at least ``nbytes`` long (a view of exactly that)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _local.buf = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes]


def _read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.loads(f.read())


@dataclass(frozen=True)
class LocalLevel:
    """One zarr v2 level in a local folder: what its ``.zarray`` says, enough to decode its chunks."""

    path: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    separator: str
    codec: Any

    def chunk_path(self, index: tuple[int, ...]) -> str:
        return os.path.join(self.path, self.separator.join(map(str, index)))

    def decode_planes(
        self, index: tuple[int, ...], lead: int, start: int, stop: int, reuse: bool = False
    ) -> np.ndarray:
        """Planes ``[start, stop)`` along axis ``lead`` of chunk ``index`` (earlier axes have size 1).

        With ``reuse`` the result may live in this thread's scratch buffer: copy it before the next
        decode."""
        from copick.formats.blosc_frames import decode_range

        inner = self.chunks[lead + 1 :]
        shape = (stop - start, *inner)
        plane = math.prod(inner) * self.dtype.itemsize
        try:
            with open(self.chunk_path(index), "rb") as f:
                raw = f.read()
        except FileNotFoundError:  # never written: the fill value
            return np.full(shape, self.fill_value, dtype=self.dtype)
        partial = None
        if self.codec is not None and self.codec.codec_id == "blosc":
            partial = decode_range(raw, start * plane, stop * plane, scratch_buffer if reuse else None)
        if partial is None:
            data = raw if self.codec is None else self.codec.decode(raw)
            partial = (data, 0)
        data, offset = partial
        begin = start * plane - offset
        count = (stop - start) * plane // self.dtype.itemsize
        return np.frombuffer(data, dtype=self.dtype, count=count, offset=begin).reshape(shape)


def open_local_level(image_dir: str, level: str) -> LocalLevel | None:
    """The level ``level`` of the image in ``image_dir``; ``None`` when anything is missing or unusual
    (no ``.zgroup``, unreadable metadata, filters, F order...): zarr then reads it or reports why."""
    try:
        if not isinstance(_read_json(os.path.join(image_dir, ".zgroup")), dict):
            return None
        if os.path.exists(os.path.join(image_dir, ".zattrs")):
            _read_json(os.path.join(image_dir, ".zattrs"))
        meta = _read_json(os.path.join(image_dir, level, ".zarray"))
        if meta.get("zarr_format") != 2 or meta.get("filters") or meta.get("order", "C") != "C":
            return None
        dtype = np.dtype(meta["dtype"])
        fill = meta.get("fill_value")
        fill = _FLOAT_FILLS.get(fill, fill) if isinstance(fill, str) else fill
        if dtype.kind not in "biuf" or (fill is not None and not isinstance(fill, (int, float))):
            return None
        codec = None
        if meta.get("compressor") is not None:
            import numcodecs

            codec = numcodecs.get_codec(dict(meta["compressor"]))
        return LocalLevel(
            os.path.join(image_dir, level),
            tuple(int(n) for n in meta["shape"]),
            tuple(int(n) for n in meta["chunks"]),
            dtype,
            0 if fill is None else fill,
            meta.get("dimension_separator") or ".",
            codec,
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _file_token(path: str) -> Any:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None  # a chunk never written reads as the fill value
    return (st.st_mtime_ns, st.st_size)


def read_local(level: LocalLevel, sel: tuple[slice, ...], out_shape: tuple[int, ...]) -> np.ndarray | None:
    """Region ``sel`` of ``level`` as a new array; ``None`` for strided selections (zarr reads those)."""
    if any(s.step not in (None, 1) for s in sel):
        return None
    out = np.empty(out_shape, dtype=level.dtype)
    if 0 in out_shape:
        return out
    shape, chunks, itemsize = level.shape, level.chunks, level.dtype.itemsize
    bounds = [s.indices(n)[:2] for s, n in zip(sel, shape)]
    grid = [range(lo // c, (hi - 1) // c + 1) for (lo, hi), c in zip(bounds, chunks)]
    touched = math.prod(len(r) for r in grid) * math.prod(chunks) * itemsize
    cache = _CACHE.budget // 2 >= touched >= 4 * math.prod(out_shape) * itemsize
    lead = next((i for i, c in enumerate(chunks) if c > 1), len(chunks) - 1)

    def fill(index: tuple[int, ...]) -> None:
        src, dst = [], []
        for i, c, (lo, hi) in zip(index, chunks, bounds):
            start, stop = max(lo, i * c), min(hi, (i + 1) * c)
            src.append(slice(start - i * c, stop - i * c))
            dst.append(slice(start - lo, stop - lo))
        path = level.chunk_path(index)
        token = _file_token(path) if cache else None
        chunk = _CACHE.get(path, token) if cache else None
        if chunk is None and cache and _CACHE.seen_before(path, token):
            chunk = level.decode_planes(index, lead, 0, chunks[lead])
            _CACHE.put(path, token, chunk)
        if chunk is not None:
            block = chunk[tuple(src[lead:])]
        else:
            planes = level.decode_planes(index, lead, src[lead].start, src[lead].stop, reuse=True)
            block = planes[(slice(None), *src[lead + 1 :])]
        out[tuple(dst)] = block.reshape(out[tuple(dst)].shape)

    indices = list(itertools.product(*grid))
    if len(indices) == 1:
        fill(indices[0])
    else:
        for future in [decode_pool().submit(fill, index) for index in indices]:
            future.result()
    return out
