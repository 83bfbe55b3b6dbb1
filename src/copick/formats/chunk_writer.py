"""Zarr v2 levels written straight to chunk files on local disks, each Blosc frame built piece by piece.

Writing a level through zarr holds, per chunk in flight, a copy of the chunk, its compressed frame
and zarr's own buffers: 64 MiB each for a 256³ float32 chunk, with several chunks in flight. Here a
chunk is compressed in pieces of a few MiB (whole Blosc blocks: runs of planes) on the process-wide
thread pool, and each piece's compressed blocks go to the chunk file as soon as they are ready.
Blosc compresses blocks independently, so those blocks under one header and offset table form the
frame single-threaded Blosc writes for the whole chunk, byte for byte, as long as Blosc never came
close to its output bound (``_LevelWriter._room`` checks that; a chunk that barely compresses is
compressed whole instead). Zero padding of edge chunks costs nothing: padding planes are copies of
one cached compressed zero block, and data is copied into a reused all-zero buffer. A write needs,
beyond its input, a few pieces of memory whatever the chunk size.

Each chunk file is written under a temporary name and renamed into place, as zarr does. Anything
this writer does not handle (other codecs, filters, a non-zero fill value, object stores) returns
``False`` and zarr writes the level.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import itertools
import math
import os
import struct
import threading
import uuid
from typing import Any

import numpy as np

from copick.formats import blosc_frames
from copick.formats.chunk_cache import decode_pool, pool_size, scratch_buffer

_local = threading.local()


def _canvas(nbytes: int) -> np.ndarray:
    """This thread's all-zero buffer of at least ``nbytes`` (a view of exactly that). Whoever writes
    into it zeroes what it wrote again, so padded pieces cost their data, not their size."""
    buf = getattr(_local, "canvas", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _local.canvas = np.zeros(nbytes, dtype=np.uint8)
    return buf[:nbytes]


PIECE_BYTES = 4 * 2**20  # bytes of a chunk compressed per task (rounded to whole planes and blocks)
# Pieces have at least this many blocks: room under Blosc's output bound (see ``_room``) for data
# that barely compresses (up to ~98% of its size for 4-byte types).
MIN_PIECE_BLOCKS = 16
_HEADER = 16
_MAX_OVERHEAD = 16  # Blosc's output bound is the input size plus this
_DONT_SPLIT = 0x10  # header flag: blocks are compressed as one stream, not one per byte of the type


class _Fallback(Exception):
    """A piece that Blosc compressed differently than it would inside the whole chunk."""


def _piece_bounds(n_planes: int, plane_bytes: int, blocksize: int) -> list[tuple[int, int]]:
    """Plane ranges of a chunk's pieces: each a whole number of Blosc blocks, except the last one."""
    step = blocksize // math.gcd(plane_bytes, blocksize)  # fewest planes filling whole blocks
    target = max(PIECE_BYTES, MIN_PIECE_BLOCKS * blocksize)
    step *= max(1, -(-target // (step * plane_bytes)))
    bounds = [(a, min(n_planes, a + step)) for a in range(0, n_planes, step)]
    # A short last piece joins the one before: it needs MIN_PIECE_BLOCKS blocks of room too, and a
    # trailing partial block (compressed unsplit inside a frame) must not be a frame of its own.
    if len(bounds) > 1 and (bounds[-1][1] - bounds[-1][0]) * plane_bytes < MIN_PIECE_BLOCKS * blocksize:
        bounds[-2:] = [(bounds[-2][0], n_planes)]
    return bounds


class _LevelWriter:
    def __init__(self, level_dir: str, data: np.ndarray, meta: dict[str, Any]) -> None:
        from numcodecs import Blosc

        self.dir = level_dir
        self.data = data
        self.chunks = tuple(int(c) for c in meta["chunks"])
        self.dtype = data.dtype
        config = dict(meta["compressor"])
        self.key = tuple(sorted(config.items()))
        options = {k: v for k, v in config.items() if k not in ("id", "blocksize")}
        self.nbytes = math.prod(self.chunks) * self.dtype.itemsize
        self.blocksize = blosc_frames.auto_blocksize(self.key, self.dtype.str, self.nbytes)
        self.whole_codec = Blosc(**options)  # automatic block size: what zarr would write
        self.lead = next((i for i, c in enumerate(self.chunks) if c > 1), len(self.chunks) - 1)
        self.inner = self.chunks[self.lead + 1 :]
        self.plane_bytes = math.prod(self.inner) * self.dtype.itemsize
        self.bounds = _piece_bounds(self.chunks[self.lead], self.plane_bytes, self.blocksize)
        forcing = blosc_frames.forcing_blocksize(self.key, self.dtype.str, self.blocksize)
        zero = blosc_frames.zero_block(self.key, self.dtype.str, self.blocksize)
        self.single = len(self.bounds) == 1 or forcing is None or zero is None  # no pieces
        if not self.single:
            self.piece_codec = Blosc(**options, blocksize=forcing)
            self.zero_header, self.zero = zero
            split = not self.zero_header[2] & _DONT_SPLIT and 1 < self.zero_header[3] <= 16
            self.splits = self.zero_header[3] if split else 1  # streams per block
            self.stream_bytes = self.blocksize // self.splits
            try:
                self.zero_last = self._last_streams(
                    memoryview(self.zero), [0], [len(self.zero)], self.blocksize
                )[0]
            except _Fallback:
                self.single = True

    # --- one chunk, one piece -----------------------------------------------------------------

    def _region(self, index: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(i * c, min(n, (i + 1) * c)) for i, c, n in zip(index, self.chunks, self.data.shape)
        )

    def _compress(self, codec: Any, index: tuple[int, ...], a: int, b: int, nbytes: int) -> Any:
        """The first ``nbytes`` of planes ``[a, b)`` of the zero-padded chunk ``index``, compressed."""
        region = self._region(index)
        start = region[self.lead].start
        have = min(b, region[self.lead].stop - start)  # data planes end here
        src = self.data[(*region[: self.lead], slice(start + a, start + have), *region[self.lead + 1 :])]
        src = src.reshape(src.shape[self.lead :])
        shape = (b - a, *self.inner)
        count = nbytes // self.dtype.itemsize
        if src.shape == shape and src.flags.c_contiguous:
            return codec.encode(src.reshape(-1)[:count])
        if src.shape == shape:
            buf = scratch_buffer((b - a) * self.plane_bytes).view(self.dtype).reshape(shape)
            buf[...] = src
            return codec.encode(buf.reshape(-1)[:count])
        # Padding: the data goes into this thread's all-zero canvas, and is zeroed again after.
        canvas = _canvas((b - a) * self.plane_bytes).view(self.dtype).reshape(shape)
        dst = canvas[tuple(slice(0, n) for n in src.shape)]
        dst[...] = src
        try:
            return codec.encode(canvas.reshape(-1)[:count])
        finally:
            dst[...] = 0

    def _last_streams(self, view: memoryview, starts: list[int], ends: list[int], nbytes: int) -> list[int]:
        """Compressed size of the last stream of each block (a block holds one stream per byte of
        the type when Blosc splits it, else one; a trailing partial block is never split)."""
        out = []
        for i, (pos, end) in enumerate(zip(starts, ends)):
            partial = i == len(starts) - 1 and nbytes % self.blocksize
            size = 0
            for _ in range(1 if partial else self.splits):
                size = int.from_bytes(view[pos : pos + 4], "little")
                pos += 4 + size
            if pos != end:
                raise _Fallback  # not the layout expected: do not splice
            out.append(size)
        return out

    def _room(self, sizes: Any, lasts: Any, nbytes: int) -> bool:
        """Whether single-threaded Blosc, compressing ``nbytes`` into blocks of these compressed
        ``sizes`` (``lasts``: of their last streams), had a whole stream of room for every stream.

        Blosc bounds its output at the input size plus 16 bytes; a stream that starts with less room
        than its input size is compressed under a smaller limit (which may change how it is stored),
        and a frame that overruns is stored uncompressed. With room for every stream neither
        happened, so each block is what Blosc writes for it in any frame: pieces compressed apart
        splice into the frame of the whole chunk, byte for byte.
        """
        sizes = np.asarray(sizes, dtype=np.int64)
        ends = _HEADER + 4 * len(sizes) + np.cumsum(sizes)
        need = np.full(len(sizes), self.stream_bytes, dtype=np.int64)
        if nbytes % self.blocksize:
            need[-1] = nbytes % self.blocksize  # a trailing partial block: one stream
        return bool(np.all(ends - np.asarray(lasts, dtype=np.int64) + need <= nbytes + _MAX_OVERHEAD))

    def _encode_piece(
        self, index: tuple[int, ...], a: int, b: int
    ) -> tuple[bytes, list[Any], list[int], list[int]]:
        """``(header, blocks, sizes, last stream sizes)`` of planes ``[a, b)`` of chunk ``index``."""
        region = self._region(index)
        bs = self.blocksize
        nbytes = (b - a) * self.plane_bytes
        data_bytes = max(0, min(b, region[self.lead].stop - region[self.lead].start) - a) * self.plane_bytes
        head = nbytes  # bytes compressed; whole blocks of padding after them are the cached zero block
        if nbytes % bs == 0 and data_bytes < nbytes:
            head = min(nbytes, max(-(-data_bytes // bs), 2) * bs) if data_bytes else 0
        tail = (nbytes - head) // bs
        zero = [self.zero] * tail, [len(self.zero)] * tail, [self.zero_last] * tail
        if head == 0:
            return (self.zero_header, *zero)
        frame = self._compress(self.piece_codec, index, a, b, head)
        info = blosc_frames.frame_info(frame)
        if info is None or info[1] != bs or info[2] & blosc_frames.MEMCPYED:
            raise _Fallback
        starts, ends = blosc_frames.block_spans(frame, info[0], bs)
        starts, ends = starts.tolist(), ends.tolist()
        view = memoryview(frame)
        sizes = [e - s for s, e in zip(starts, ends)]
        lasts = self._last_streams(view, starts, ends, head)
        if not self._room(sizes, lasts, head):
            raise _Fallback
        if all(s == e for s, e in zip(starts[1:], ends)):  # in order (single-threaded Blosc)
            blocks = [view[starts[0] :]]
        else:
            blocks = [view[s:e] for s, e in zip(starts, ends)]
        return bytes(view[:4]), blocks + zero[0], sizes + zero[1], lasts + zero[2]

    def _encode_whole(self, index: tuple[int, ...]) -> Any:
        n = self.chunks[self.lead]
        return blosc_frames.in_order(self._compress(self.whole_codec, index, 0, n, self.nbytes))

    def _fallback(self, index: tuple[int, ...]) -> Any:
        """The whole chunk compressed at once, when its pieces cannot be spliced (see ``_frame_parts``)."""
        return self._encode_whole(index)

    # --- the level ----------------------------------------------------------------------------

    def _path(self, index: tuple[int, ...]) -> str:
        return os.path.join(self.dir, *map(str, index))

    def _tasks(self, indices: list[tuple[int, ...]]) -> Any:
        for index in indices:
            if self.single:
                yield index, None
            else:
                for a, b in self.bounds:
                    yield index, (a, b)

    def _run(self, index: tuple[int, ...], piece: tuple[int, int] | None) -> Any:
        if piece is None:
            return self._encode_whole(index)
        try:
            return self._encode_piece(index, *piece)
        except _Fallback:
            return None

    def write(self, parallel: bool) -> None:
        grid = [range(-(-n // c)) for n, c in zip(self.data.shape, self.chunks)]
        indices = list(itertools.product(*grid))
        for parent in {index[:-1] for index in indices}:
            os.makedirs(os.path.join(self.dir, *map(str, parent)), exist_ok=True)
        results = self._results(self._tasks(indices), parallel)
        for index in indices:
            if self.single:
                self._put(index, [next(results)[1]])
            else:
                self._put(index, self._frame_parts(index, [next(results)[1] for _ in self.bounds]))

    def _results(self, tasks: Any, parallel: bool) -> Any:
        """``(task, result)`` in task order; at most a few tasks in flight when ``parallel``."""
        if not parallel:
            for task in tasks:
                yield task, self._run(*task)
            return
        pool = decode_pool()
        window = 2 * pool_size()
        pending: collections.deque[tuple[Any, concurrent.futures.Future]] = collections.deque()
        for task in tasks:
            pending.append((task, pool.submit(self._run, *task)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def _frame_parts(self, index: tuple[int, ...], pieces: list[Any]) -> list[Any]:
        """The chunk's frame (as parts to write) from its pieces' blocks, or compressed whole."""
        if any(p is None or p[0] != pieces[0][0] for p in pieces):
            return [self._fallback(index)]
        sizes = [n for p in pieces for n in p[2]]
        table = _HEADER + 4 * len(sizes)
        cbytes = table + sum(sizes)
        if not self._room(sizes, [n for p in pieces for n in p[3]], self.nbytes):
            return [self._fallback(index)]
        offsets = np.cumsum([table, *sizes[:-1]], dtype=np.int64).astype("<i4")
        header = pieces[0][0] + struct.pack("<III", self.nbytes, self.blocksize, cbytes)
        return [header, offsets.tobytes(), *(block for p in pieces for block in p[1])]

    def _put(self, index: tuple[int, ...], parts: list[Any]) -> None:
        write_file(self._path(index), parts)


def write_file(path: str, parts: list[Any]) -> None:
    """Write ``parts`` (bytes-like) as the file ``path``: a temporary file renamed into place (as zarr)."""
    tmp = f"{path}.{uuid.uuid4().hex[:12]}.partial"
    try:
        with open(tmp, "wb") as f:
            f.writelines(parts)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_level(level_dir: str, data: np.ndarray, meta: dict[str, Any]) -> bool:
    """Write every chunk of ``data`` into the zarr v2 level folder ``level_dir`` (whose ``.zarray`` is
    ``meta``); ``False`` when the level is not one this writer handles (zarr writes it then)."""
    compressor = meta.get("compressor")
    if (
        not isinstance(compressor, dict)
        or compressor.get("id") != "blosc"
        or compressor.get("blocksize", 0) != 0
        or meta.get("filters")
        or meta.get("order", "C") != "C"
        or meta.get("dimension_separator") != "/"
        or meta.get("fill_value") not in (0, 0.0, False)
        or data.dtype != np.dtype(meta["dtype"])
        or data.dtype.kind not in "biuf"
        or data.ndim == 0
        or data.size == 0
        or list(data.shape) != list(meta["shape"])
    ):
        return False
    writer = _LevelWriter(level_dir, data, meta)
    writer.write(parallel=data.nbytes > PIECE_BYTES)
    return True
