"""Picks JSON <-> numpy arrays, without building a model object per point.

The file layout is copick's (FORMAT.md §5): a header plus ``points``, each with ``location``
(x/y/z in Angstrom), ``transformation_`` (4x4, row-major), ``instance_id`` and ``score``.
"""

from __future__ import annotations

import gc
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from copick.errors import CorruptFileError, InvalidDataError

HEADER_DEFAULTS: dict[str, Any] = {
    "run_name": None,
    "voxel_spacing": None,
    "unit": "angstrom",
    "trust_orientation": True,
}
_REQUIRED = ("pickable_object_name", "user_id", "session_id")
_LAST_ROW = np.array([0.0, 0.0, 0.0, 1.0])
# Pick sets above this many bytes of points are parsed and written piece by piece.
STREAM_BYTES = 4 * 2**20
_PIECE_POINTS = 8192
_POINT_GAP = re.compile(rb"\}\s*,\s*\{")


class bulk_objects:
    """Pause the cyclic garbage collector while millions of small objects are made.

    None of them form cycles, and collections triggered by allocation alone cost ~3x the work. A
    class, not a ``contextmanager`` generator: small pick sets enter it once per file read.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


@dataclass
class PickArrays:
    """All points of a pick set as arrays: positions (N,3) Angstrom x/y/z, transforms (N,4,4),
    instance ids (N,) int64 and scores (N,) float64."""

    positions: np.ndarray
    transforms: np.ndarray
    instance_ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    @classmethod
    def empty(cls) -> PickArrays:
        return cls(np.zeros((0, 3)), np.zeros((0, 4, 4)), np.zeros(0, dtype=np.int64), np.zeros(0))

    @classmethod
    def concat(cls, items: list[PickArrays]) -> PickArrays:
        """One ``PickArrays`` of several, in order (empty for none)."""
        if len(items) == 1:
            return items[0]
        if not items:
            return cls.empty()
        fields = ("positions", "transforms", "instance_ids", "scores")
        return cls(*(np.concatenate([getattr(a, f) for a in items]) for f in fields))

    @classmethod
    def build(
        cls, positions: Any, transforms: Any = None, instance_ids: Any = None, scores: Any = None
    ) -> PickArrays:
        """Validate user-supplied arrays (lists accepted) and fill defaults."""
        pos = np.asarray(positions, dtype=np.float64)
        if pos.size == 0:
            pos = pos.reshape(0, 3)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise InvalidDataError(f"positions must have shape (N, 3) (x, y, z in Angstrom), got {pos.shape}")
        n = len(pos)
        if transforms is None:
            trans = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
        else:
            trans = np.asarray(transforms, dtype=np.float64)
            if trans.size == 0:
                trans = trans.reshape(0, 4, 4)
            if trans.shape[0] != n:
                raise ValueError("Number of positions and transforms must be the same.")
            if trans.shape[1:] != (4, 4):
                raise InvalidDataError(f"transforms must have shape (N, 4, 4), got {trans.shape}")
            bad = np.flatnonzero(~np.all(trans[:, 3, :] == _LAST_ROW, axis=1))
            if bad.size:
                raise InvalidDataError(
                    f"transform {int(bad[0])} has last row {trans[bad[0], 3].tolist()}; "
                    "every transform's last row must be [0, 0, 0, 1]"
                )
        ids = _column(instance_ids, n, np.int64, 0, "instance_ids")
        if ids.size and ids.min() < 0:
            raise ValueError("instance_ids must be >= 0.")
        sc = _column(scores, n, np.float64, 1.0, "scores")
        return cls(pos, trans, ids, sc)

    def full_positions(self) -> np.ndarray:
        return self.positions + self.transforms[:, :3, 3]


def _column(values: Any, n: int, dtype: type, default: float, name: str) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(
            f"Number of positions and {name} must be the same ({n} positions, {name} {arr.shape})."
        )
    if dtype is np.int64 and arr.size and not np.all(np.equal(np.mod(arr, 1), 0)):
        raise InvalidDataError(f"{name} must be integers")
    return arr.astype(dtype)


class RawPoints:
    """The unparsed ``points`` array of a big picks file: parsed piece by piece into arrays, so no
    per-point Python objects outlive a piece (``arrays_from_json``), or whole on request (``json``)."""

    def __init__(self, data: bytes, start: int, stop: int, source: str):
        self.data, self.start, self.stop, self.source = data, start, stop, source  # data[start:stop]: [...]

    def json(self) -> list[Any]:
        """Every point as JSON, from a plain parse of the whole file (exact errors included)."""
        return _decode_whole(self.data, self.source)[1]

    def pieces(self) -> Iterator[list[Any]]:
        """Consecutive runs of points, split where one point object ends and the next begins. A split
        inside a nested value or a string would leave an unbalanced piece, which orjson refuses."""
        view, end = memoryview(self.data), self.stop - 1
        pos = self.start + 1
        while pos < end:
            found = _POINT_GAP.search(self.data, min(pos + STREAM_BYTES // 4, end), end)
            cut = found.start() + 1 if found else end
            with bulk_objects():
                yield orjson.loads(b"".join((b"[", view[pos:cut], b"]")))
            pos = found.end() - 1 if found else end


def _points_span(data: bytes) -> tuple[int, int] | None:
    """Where the ``points`` array of a big picks file is (``None`` for small or unusual files).

    A guess from the key ``"points": [`` and, near the end, a ``]`` followed only by scalar fields;
    a wrong guess cannot parse piece by piece, and every failure falls back to a whole parse."""
    if len(data) < STREAM_BYTES or b"\\" in data:
        return None
    found = re.search(rb'"points"\s*:\s*\[', data)
    tail_from = len(data) - 4096
    tail = re.search(rb'\]\s*(,\s*"[^"]*"\s*:\s*[^\[\]{}]*)*\}\s*$', data[tail_from:])
    if found is None or tail is None:
        return None
    return found.end() - 1, tail_from + tail.start() + 1


def decode(data: bytes, source: str) -> tuple[dict[str, Any], list[dict[str, Any]] | RawPoints]:
    """Parse a picks file into (header fields, the JSON points); ``CorruptFileError`` names ``source``.

    Points stay JSON here: a list of JSON objects, or for big files a ``RawPoints`` still unparsed.
    ``arrays_from_json`` or a model builder (through ``convert_points``) converts them on demand.
    """
    span = _points_span(data)
    if span is not None:
        try:
            with bulk_objects():
                doc = orjson.loads(b"".join((data[: span[0]], b"[]", data[span[1] :])))
        except orjson.JSONDecodeError:
            pass  # not the layout guessed: parse it whole
        else:
            return _header(doc, source, RawPoints(data, *span, source))
    return _decode_whole(data, source)


def _decode_whole(data: bytes, source: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with bulk_objects():
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as err:
            raise CorruptFileError(f"{source}: not valid JSON ({err})") from None
    return _header(doc, source, None)


def _header(doc: Any, source: str, raw: RawPoints | None) -> tuple[dict[str, Any], Any]:
    if not isinstance(doc, dict):
        raise CorruptFileError(f"{source}: a picks file must hold a JSON object, found {type(doc).__name__}")
    for key in _REQUIRED:
        if not isinstance(doc.get(key), str):
            raise CorruptFileError(f"{source}: field {key!r} must be a string, found {doc.get(key)!r}")
    header = {key: doc[key] for key in _REQUIRED}
    for key, default in HEADER_DEFAULTS.items():
        header[key] = doc.get(key, default)
    if raw is not None:
        return header, raw
    points = doc.get("points") or []
    if not isinstance(points, list):
        raise CorruptFileError(f"{source}: 'points' must be a list")
    return header, points


def convert_points(points: list[Any] | RawPoints, source: str, convert: Callable[[list[Any]], Any]) -> Any:
    """``convert(points)``; a malformed point becomes a ``CorruptFileError`` naming the file and index."""
    if isinstance(points, RawPoints):
        points = points.json()
    try:
        with bulk_objects():
            return convert(points)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        index = next((i for i, p in enumerate(points) if not _converts(convert, p)), -1)
        raise CorruptFileError(f"{source}: point {index} is malformed ({err!r})") from None


def _converts(convert: Callable[[list[Any]], Any], point: Any) -> bool:
    try:
        convert([point])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return False
    return True


def arrays_from_json(points: list[dict[str, Any]] | RawPoints, source: str) -> PickArrays:
    """The arrays of JSON points, validated (numbers, 4x4 transforms with last row [0, 0, 0, 1]).

    A ``RawPoints`` is converted piece by piece into preallocated arrays; anything unexpected there
    falls back to the plain path, which reports malformed points exactly."""
    if isinstance(points, RawPoints):
        try:
            return _stream_arrays(points)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            pass
    return convert_points(points, source, _points_to_arrays)


def _stream_arrays(raw: RawPoints) -> PickArrays:
    capacity = raw.data.count(b'"location"', raw.start, raw.stop)
    out = PickArrays(
        np.empty((capacity, 3)), np.empty((capacity, 4, 4)), np.empty(capacity, np.int64), np.empty(capacity)
    )
    n = 0
    with bulk_objects():  # off for the whole loop (see ``encode``)
        for piece in raw.pieces():
            if n + len(piece) > capacity:
                raise ValueError("more points than locations")
            _fill_arrays(piece, out, n)
            n += len(piece)
            del piece
    if n == 0:
        return PickArrays.empty()
    return PickArrays(out.positions[:n], out.transforms[:n], out.instance_ids[:n], out.scores[:n])


def _fill_arrays(points: list[dict[str, Any]], out: PickArrays, at: int) -> None:
    """Write the values of JSON ``points`` into rows ``at...`` of ``out``, one C-level pass per field."""
    n, chain = len(points), itertools.chain.from_iterable
    locations = map(operator.itemgetter("location"), points)  # map/itemgetter: loops run in C
    xyz = chain(map(operator.itemgetter("x", "y", "z"), locations))
    out.positions[at : at + n] = np.fromiter(xyz, float, 3 * n).reshape(n, 3)
    eye = _IDENTITY_LIST
    matrices = [p.get("transformation_") or eye for p in points]
    rows = list(chain(matrices))
    if list(map(len, matrices)).count(4) != n or list(map(len, rows)).count(4) != 4 * n:
        raise ValueError("transformation_ must be 4x4 for every point")
    if list(map(_LAST, matrices)).count(_LAST_ROW_LIST) != n:
        raise ValueError("transformation_'s last row must be [0, 0, 0, 1]")
    out.transforms[at : at + n] = np.fromiter(chain(rows), float, 16 * n).reshape(n, 4, 4)
    out.instance_ids[at : at + n] = np.fromiter(_field(points, "instance_id", 0), np.int64, n)
    out.scores[at : at + n] = np.fromiter(_field(points, "score", 1.0), float, n)


def _field(points: list[dict[str, Any]], key: str, default: Any) -> list[Any]:
    """``points[i][key]`` for every point, ``default`` where it is missing or ``null``."""
    values = list(map(dict.get, points, itertools.repeat(key)))
    if None in values:
        values = [default if v is None else v for v in values]
    return values


def _points_to_arrays(points: list[dict[str, Any]]) -> PickArrays:
    """The arrays of a list of JSON points (one C-level pass per field, as for big sets)."""
    n = len(points)
    if not n:
        return PickArrays.empty()
    out = PickArrays(np.empty((n, 3)), np.empty((n, 4, 4)), np.empty(n, np.int64), np.empty(n))
    _fill_arrays(points, out, 0)
    return out


_IDENTITY_LIST = np.eye(4).tolist()
_LAST_ROW_LIST = [0.0, 0.0, 0.0, 1.0]
_LAST = operator.itemgetter(3)


def _require_finite(arrays: PickArrays) -> None:
    for name, values in (
        ("positions", arrays.positions),
        ("transforms", arrays.transforms),
        ("scores", arrays.scores),
    ):
        bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1) if len(values) else None
        if bad is not None and bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise InvalidDataError(
                f"{name} of point {index} hold a non-finite value ({values[index].tolist()}); JSON picks "
                f"files can store only finite numbers ({int(bad.sum())} of {len(values)} points affected)."
            )


def encode(header: dict[str, Any], arrays: PickArrays) -> bytes:
    """Serialise a header and arrays to the picks JSON layout (keys in copick's order).

    Big pick sets are serialised piece by piece (the same bytes as one ``orjson.dumps``), so only
    one piece of per-point dicts exists at a time. JSON has no NaN or infinity (they would be
    written as ``null`` and come back changed), so non-finite values are refused."""
    _require_finite(arrays)
    n = len(arrays)
    doc = {
        "pickable_object_name": header["pickable_object_name"],
        "user_id": header["user_id"],
        "session_id": header["session_id"],
        "run_name": header.get("run_name"),
        "voxel_spacing": header.get("voxel_spacing"),
        "unit": header.get("unit", "angstrom"),
        "points": _point_dicts(arrays, 0, n) if n <= _PIECE_POINTS else [],
        "trust_orientation": header.get("trust_orientation", True),
    }
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    if n <= _PIECE_POINTS:
        return text
    head, tail = text.split(b'\n  "points": []', 1)
    out = bytearray(head)
    out += b'\n  "points": ['
    # The collector stays off for the whole loop: each piece's objects are gone before the next one,
    # and turned on between pieces it would first traverse the last piece's ~300k objects.
    with bulk_objects():
        for i in range(0, n, _PIECE_POINTS):
            # Dumped inside {"points": [...]}, the elements come out indented as in the whole document.
            piece = orjson.dumps(
                {"points": _point_dicts(arrays, i, min(n, i + _PIECE_POINTS))}, option=orjson.OPT_INDENT_2
            )
            if i:
                out += b","
            out += memoryview(piece)[_WRAP_HEAD : len(piece) - _WRAP_TAIL]
            del piece
    out += b"\n  ]"
    out += tail
    return out


_WRAP_HEAD = len(b'{\n  "points": [')
_WRAP_TAIL = len(b"\n  ]\n}")


def _point_dicts(arrays: PickArrays, start: int, stop: int) -> list[dict[str, Any]]:
    with bulk_objects():
        locs = arrays.positions[start:stop].tolist()
        trans = arrays.transforms[start:stop].tolist()
        ids = arrays.instance_ids[start:stop].tolist()
        scores = arrays.scores[start:stop].tolist()
        return [
            {"location": {"x": x, "y": y, "z": z}, "transformation_": t, "instance_id": i, "score": s}
            for (x, y, z), t, i, s in zip(locs, trans, ids, scores)
        ]
