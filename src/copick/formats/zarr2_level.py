"""One zarr v2 level of a store, its chunks encoded and decoded here as whole objects, byte for byte
as zarr and ``copick.formats.ome.write_multiscale`` write them.

``copick.formats.dask_pyramid`` writes levels of any size through it one chunk at a time (and reads a
level just written back, piece by piece, to compute the next one).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["StoredLevel", "grid"]


class StoredLevel:
    """A zarr v2 level of a store, its chunks written and read as whole encoded objects.

    The bytes are those zarr writes: the C-order chunk, edge chunks padded with the fill value, through
    the ``.zarray``'s compressor (no filters). Chunks are encoded off the main thread, where numcodecs'
    Blosc uses a single thread and so keeps its blocks in order (multi-threaded Blosc stores them as
    they finish: the same data in other bytes). Only a chunk and its encoding are in memory at a time.
    """

    def __init__(self, store: Any, key: str, meta: dict[str, Any]):
        import numcodecs

        self.store = store
        self.key = key
        self.shape = tuple(int(n) for n in meta["shape"])
        self.dtype = np.dtype(meta["dtype"])
        self.chunks = tuple(int(c) for c in meta["chunks"])
        self.fill = meta["fill_value"]
        self.codec = numcodecs.get_codec(dict(meta["compressor"])) if meta["compressor"] else None
        self.separator = meta.get("dimension_separator") or "."

    @classmethod
    def create(
        cls, store: Any, key: str, shape: Sequence[int], dtype: Any, chunks: Sequence[int], compressor: Any
    ) -> StoredLevel:
        """Write the level's ``.zarray`` exactly as ``ome.write_multiscale`` does."""
        from copick.formats import ome
        from copick.formats.zarr_store import zarr2_json

        meta = ome.array_metadata(shape, dtype, chunks, compressor)
        store[f"{key}/.zarray"] = zarr2_json(meta)
        return cls(store, key, meta)

    @classmethod
    def open(cls, store: Any, key: str) -> StoredLevel:
        import json

        return cls(store, key, json.loads(bytes(store[f"{key}/.zarray"])))

    def _chunk_key(self, index: Sequence[int]) -> str:
        return f"{self.key}/{self.separator.join(str(i) for i in index)}"

    @property
    def _lead(self) -> int:
        """The first axis whose chunk size is not 1: chunks are C-order runs of rows along it."""
        return next((i for i, c in enumerate(self.chunks) if c > 1), len(self.chunks) - 1)

    def _encode(self, index: tuple[int, ...], block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        encoded = None
        if block.shape != self.chunks:
            encoded = self._encode_padded(block)
            if encoded is None:
                padded = np.full(self.chunks, self.fill, dtype=self.dtype)
                padded[tuple(slice(0, n) for n in block.shape)] = block
                block = padded
        if encoded is None:
            encoded = self.codec.encode(block) if self.codec is not None else block.tobytes()
        self.store[self._chunk_key(index)] = bytes(encoded)

    def _encode_padded(self, block: np.ndarray) -> bytes | None:
        """An edge chunk as Blosc encodes it zero-padded, compressing only the rows that hold data
        (``blosc_frames.encode_padded``, as ``ome.write_multiscale`` does for small levels)."""
        from copick.formats.blosc_frames import encode_padded

        if self.codec is None or self.fill not in (0, 0.0, False):
            return None
        a = self._lead
        prefix_shape = (*block.shape[: a + 1], *self.chunks[a + 1 :])
        if prefix_shape == block.shape:
            prefix = block
        else:
            prefix = np.zeros(prefix_shape, dtype=self.dtype)
            prefix[tuple(slice(0, n) for n in block.shape)] = block
        return encode_padded(self.codec.get_config(), prefix, math.prod(self.chunks) * self.dtype.itemsize)

    def write(self, pool: Any, region: tuple[slice, ...], block: np.ndarray) -> None:
        """Store the chunk at ``region`` (one cell of the chunk grid) from ``pool``'s thread."""
        index = tuple(r.start // c for r, c in zip(region, self.chunks))
        pool.submit(self._encode, index, block).result()

    def _decode(self, index: tuple[int, ...], rows: tuple[int, int] | None = None) -> tuple[np.ndarray, int]:
        """A chunk as an array of its rows along the lead axis: all of them, or at least ``rows``
        (decoding only the Blosc blocks holding them); returns it and the index of its first row."""
        raw = self.store[self._chunk_key(index)]
        a = self._lead
        row_shape = self.chunks[a + 1 :]
        row_items = math.prod(row_shape)
        if rows is not None and self.codec is not None and self.codec.codec_id == "blosc":
            from copick.formats.blosc_frames import decode_range

            size = self.dtype.itemsize
            part = decode_range(raw, rows[0] * row_items * size, rows[1] * row_items * size)
            if part is not None:
                data, offset = part
                flat = np.frombuffer(data, dtype=self.dtype)
                skip = rows[0] * row_items - offset // size
                values = flat[skip : skip + (rows[1] - rows[0]) * row_items]
                return values.reshape(*self.chunks[:a], rows[1] - rows[0], *row_shape), rows[0]
        data = self.codec.decode(raw) if self.codec is not None else raw
        return np.frombuffer(data, dtype=self.dtype).reshape(self.chunks), 0

    def read(self, region: tuple[slice, ...]) -> np.ndarray:
        """The values of ``region`` (slices with steps of 1), decoding one chunk at a time."""
        a = self._lead
        first = [r.start // c for r, c in zip(region, self.chunks)]
        last = [(r.stop - 1) // c for r, c in zip(region, self.chunks)]
        out = None
        for index in itertools.product(*(range(i, j + 1) for i, j in zip(first, last))):
            lo = [max(r.start, i * c) for r, i, c in zip(region, index, self.chunks)]
            hi = [min(r.stop, (i + 1) * c) for r, i, c in zip(region, index, self.chunks)]
            rows = (lo[a] - index[a] * self.chunks[a], hi[a] - index[a] * self.chunks[a])
            chunk, row0 = self._decode(index, rows)
            within = tuple(
                slice(x - i * c - (row0 if axis == a else 0), y - i * c - (row0 if axis == a else 0))
                for axis, (x, y, i, c) in enumerate(zip(lo, hi, index, self.chunks))
            )
            if first == last:  # within one chunk: a view of it
                return chunk[within]
            if out is None:
                out = np.empty(tuple(r.stop - r.start for r in region), dtype=self.dtype)
            out[tuple(slice(x - r.start, y - r.start) for x, y, r in zip(lo, hi, region))] = chunk[within]
        return out

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        return self.read(region)


def grid(shape: Sequence[int], step: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    """The regions of a regular grid of ``step`` over ``shape``, in C order."""
    ranges = [range(0, n, s) for n, s in zip(shape, step)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(a, min(a + s, n)) for a, s, n in zip(starts, step, shape))
