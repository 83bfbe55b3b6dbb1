"""Blosc 1 frames cut and spliced block by block, so that padded chunks cost only their data.

A Blosc 1 frame (what zarr v2's ``blosc`` codec writes) is a 16-byte header (version, flags,
typesize, ``nbytes``, ``blocksize``, ``cbytes``), one start offset per block, then every block
compressed on its own. Blocks are independent, so a frame holding a run of another frame's blocks
decodes to exactly those bytes, and identical input blocks compress to identical bytes. That lets
a reader decode only the blocks a region touches and a writer compress a zero-padded chunk by
compressing its data prefix and repeating one compressed zero block for the padding.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

_HEADER = 16
MEMCPYED = 0x02  # header flag: the frame holds the data uncompressed
_VERSION = 2
_PROBE_BYTES = 8 * 2**20  # more than any block size Blosc 1 chooses (at most 1 MiB)


def frame_info(buf: Any) -> tuple[int, int, int] | None:
    """``(nbytes, blocksize, flags)`` of a Blosc 1 frame; ``None`` if it is not one we can cut."""
    if len(buf) < _HEADER or buf[0] != _VERSION:
        return None
    nbytes, blocksize, cbytes = struct.unpack_from("<III", buf, 4)
    if cbytes != len(buf) or blocksize == 0:
        return None
    return nbytes, blocksize, buf[2]


def block_spans(buf: Any, nbytes: int, blocksize: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of every compressed block (blocks may be stored out of order)."""
    nblocks = -(-nbytes // blocksize)
    starts = np.frombuffer(buf, "<i4", nblocks, _HEADER).astype(np.int64)
    order = np.argsort(starts, kind="stable")
    ends = np.empty_like(starts)
    ends[order] = np.append(starts[order][1:], len(buf))
    return starts, ends


def decode_range(
    buf: bytes, start: int, stop: int, scratch: Callable[[int], np.ndarray] | None = None
) -> tuple[Any, int] | None:
    """Decode only the blocks holding bytes ``[start, stop)`` of a Blosc 1 frame.

    Returns ``(data, offset)``: ``data`` holds the decoded bytes from ``offset`` on (block-aligned,
    ``offset <= start``), written into ``scratch(nbytes)`` when given (a reused buffer saves the
    page faults of a fresh one). ``None`` when the frame is not a cuttable Blosc 1 frame.
    """
    from numcodecs import blosc

    info = frame_info(buf)
    if info is None:
        return None
    nbytes, blocksize, flags = info
    if flags & MEMCPYED:
        return memoryview(buf)[_HEADER + start : _HEADER + stop], start
    first, last = start // blocksize, -(-stop // blocksize)
    nblocks = -(-nbytes // blocksize)
    if first == 0 and last >= nblocks:
        return blosc.decompress(buf, None if scratch is None else scratch(nbytes)), 0
    starts, ends = block_spans(buf, nbytes, blocksize)
    pieces = [bytes(memoryview(buf)[starts[b] : ends[b]]) for b in range(first, last)]
    new_nbytes = min(nbytes, last * blocksize) - first * blocksize
    offsets = np.cumsum([0] + [len(p) for p in pieces[:-1]], dtype=np.int64) + _HEADER + 4 * len(pieces)
    cbytes = _HEADER + 4 * len(pieces) + sum(len(p) for p in pieces)
    header = bytes(buf[:4]) + struct.pack("<III", new_nbytes, blocksize, cbytes)
    frame = b"".join([header, offsets.astype("<i4").tobytes(), *pieces])
    return blosc.decompress(frame, None if scratch is None else scratch(new_nbytes)), first * blocksize


@functools.lru_cache(maxsize=16)
def zero_block(codec_config: tuple, dtype: str, blocksize: int) -> tuple[bytes, bytes] | None:
    """``(header, block)``: the first 4 header bytes of a frame of ``codec_config`` for ``dtype`` and
    one compressed block of zeros as Blosc writes it inside a frame of blocks of ``blocksize``;
    ``None`` if Blosc cannot be made to use that block size."""
    # Two blocks, the first one kept: alone in a frame, a block is compressed with a little less
    # room than inside a larger frame (see chunk_writer._room).
    option = forcing_blocksize(codec_config, dtype, blocksize)
    if option is None:
        return None
    config = {**dict(codec_config), "blocksize": option}
    buf = _blosc(config).encode(np.zeros(2 * blocksize // np.dtype(dtype).itemsize, dtype=dtype))
    info = frame_info(buf)
    if info is None or info[2] & MEMCPYED or info[1] != blocksize:
        return None
    starts, ends = block_spans(buf, info[0], blocksize)
    return bytes(buf[:4]), bytes(buf[int(starts[0]) : int(ends[0])])


@functools.lru_cache(maxsize=16)
def auto_blocksize(codec_config: tuple, dtype: str, nbytes: int) -> int:
    """The block size Blosc chooses for ``nbytes`` of ``dtype`` (from sizes and codec, not data).

    Blosc 1 derives it from the codec, level and type size, capped at ``nbytes``, so a probe of
    8 MiB of zeros answers for any larger buffer (no 64 MiB probe for a 256³ chunk).
    """
    itemsize = np.dtype(dtype).itemsize
    probe = min(nbytes, _PROBE_BYTES // itemsize * itemsize)
    frame = _blosc(dict(codec_config)).encode(np.zeros(probe // itemsize, dtype=dtype))
    blocksize = struct.unpack_from("<I", frame, 8)[0]
    if probe < nbytes and blocksize >= probe:  # never seen: ask with the full size
        frame = _blosc(dict(codec_config)).encode(np.zeros(nbytes // itemsize, dtype=dtype))
        blocksize = struct.unpack_from("<I", frame, 8)[0]
    return blocksize


@functools.lru_cache(maxsize=16)
def forcing_blocksize(codec_config: tuple, dtype: str, blocksize: int) -> int | None:
    """The ``blocksize`` option that makes Blosc use blocks of ``blocksize`` bytes; ``None`` if none does.

    Blosc 1 still enlarges a requested block size by the type size for codecs it splits by byte
    (lz4, blosclz...), so the answer is ``blocksize`` or ``blocksize / typesize``: probed on zeros.
    """
    itemsize = np.dtype(dtype).itemsize
    for option in (blocksize, blocksize // itemsize):
        if option < 1:
            continue
        config = {**dict(codec_config), "blocksize": option}
        frame = _blosc(config).encode(np.zeros(2 * blocksize // itemsize, dtype=dtype))
        if struct.unpack_from("<I", frame, 8)[0] == blocksize:
            return option
    return None


def in_order(frame: Any) -> Any:
    """``frame`` with its blocks stored in block order, as single-threaded Blosc writes them.

    Blosc's own threads (used when compressing from the main thread) store each block where it
    finishes; the blocks are the same, so reordering them gives the single-threaded frame.
    """
    info = frame_info(frame)
    if info is None or info[2] & MEMCPYED:
        return frame
    starts, ends = block_spans(frame, info[0], info[1])
    if np.all(starts[1:] == ends[:-1]):
        return frame
    view = memoryview(frame)
    pieces = [view[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    offsets = np.cumsum([_HEADER + 4 * len(pieces)] + [len(p) for p in pieces[:-1]], dtype=np.int64)
    return b"".join([bytes(view[:_HEADER]), offsets.astype("<i4").tobytes(), *pieces])


def _blosc(config: dict[str, Any]) -> Any:
    from numcodecs import Blosc

    return Blosc(**{k: v for k, v in config.items() if k != "id"})


def encode_padded(codec_config: dict[str, Any], prefix: np.ndarray, nbytes: int) -> bytes | None:
    """A Blosc frame of ``prefix``'s bytes followed by zeros up to ``nbytes`` (a zero-padded chunk).

    Only the prefix is compressed; every all-zero block after it is one cached compressed block.
    The frame decodes to the same bytes as compressing the whole padded chunk. ``None`` when
    splicing does not apply (non-Blosc codec, explicit block size, incompressible prefix).
    """
    if codec_config.get("id") != "blosc" or codec_config.get("blocksize", 0) != 0:
        return None
    key = tuple(sorted(codec_config.items()))
    typesize = prefix.dtype.itemsize
    blocksize = auto_blocksize(key, prefix.dtype.str, nbytes)
    if nbytes % blocksize or blocksize % typesize:
        return None
    head_blocks = -(-prefix.nbytes // blocksize)
    head = np.zeros(head_blocks * blocksize // typesize, dtype=prefix.dtype)
    head[: prefix.size] = prefix.reshape(-1)
    frame = _blosc(codec_config).encode(head)  # auto block size: the same on whole blocks
    info = frame_info(frame)
    if info is None or info[2] & MEMCPYED or info[1] != blocksize:
        return None
    zero_info = zero_block(key, prefix.dtype.str, blocksize)
    if zero_info is None:
        return None
    zero = zero_info[1]
    starts, ends = block_spans(frame, info[0], blocksize)
    pieces = [bytes(memoryview(frame)[s:e]) for s, e in zip(starts, ends)]
    total_blocks = nbytes // blocksize
    pieces += [zero] * (total_blocks - head_blocks)
    sizes = np.fromiter((len(p) for p in pieces), np.int64, len(pieces))
    offsets = np.concatenate(([0], np.cumsum(sizes[:-1]))) + _HEADER + 4 * total_blocks
    cbytes = _HEADER + 4 * total_blocks + int(sizes.sum())
    header = bytes(frame[:4]) + struct.pack("<III", nbytes, blocksize, cbytes)
    return b"".join([header, offsets.astype("<i4").tobytes(), *pieces])
