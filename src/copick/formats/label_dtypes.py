"""The dtype a segmentation is stored in: the smallest unsigned type holding every label, or a
requested type checked to hold them exactly (FORMAT.md section 10)."""

from __future__ import annotations

from typing import Any

import numpy as np

from copick.errors import InvalidDataError
from copick.formats import pyramids

_UNSIGNED = [np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)]


def _value_range(data: np.ndarray) -> tuple[Any, Any, bool, bool]:
    """``(min, max, all_finite, all_integral)`` of an array, computed slab by slab."""
    flat = data.reshape(data.shape[0], -1) if data.ndim > 1 else data.reshape(-1, 1)
    step = max(1, pyramids.SLAB_BYTES // max(1, flat.shape[1] * data.itemsize))
    lo: Any = None
    hi: Any = None
    finite = integral = True
    is_float = data.dtype.kind in "fc"
    for i in range(0, flat.shape[0], step):
        part = flat[i : i + step]
        if is_float:
            if not np.isfinite(part).all():
                finite = False
                break
            if integral and not (np.floor(part) == part).all():
                integral = False
        pmin, pmax = part.min(), part.max()
        lo = pmin if lo is None else min(lo, pmin)
        hi = pmax if hi is None else max(hi, pmax)
    return lo, hi, finite, integral


def choose_segmentation_dtype(data: Any, floor: Any = np.uint8, requested: Any = None) -> np.dtype:
    """The dtype a segmentation is stored in (FORMAT.md §10, API behaviour 36).

    Without ``requested``: the smallest unsigned type at least as wide as ``floor`` that holds every
    value. Negative, non-finite or non-integral values raise ``InvalidDataError`` (a
    ``ValueError``); so does a ``requested`` dtype that cannot hold the values exactly.
    """
    arr = np.asarray(data)
    floor_dt = np.dtype(floor)
    if arr.dtype.kind not in "buif":
        raise InvalidDataError(f"Segmentation values must be numbers, got an array of dtype {arr.dtype}.")
    if arr.dtype.kind == "u" and arr.size:
        # Unsigned labels are non-negative integers: when their type's own range already fits, the
        # answer does not depend on the values and no pass over the data is needed.
        smallest = next(c for c in _UNSIGNED if c.itemsize >= floor_dt.itemsize)
        try:
            quick = _decide(0, np.iinfo(arr.dtype).max, floor_dt, requested)
        except InvalidDataError:
            quick = None
        if quick is not None and (requested is not None or quick == smallest):
            return quick
    if arr.dtype.kind == "b" or arr.size == 0:
        lo, hi, finite, integral = (0, 1 if arr.size else 0, True, True)
    else:
        lo, hi, finite, integral = _value_range(arr)
    if not finite:
        raise InvalidDataError("Segmentation values must be finite, found NaN or infinity.")
    if lo < 0:
        raise InvalidDataError(
            f"Segmentation values must be non-negative, found {lo}. "
            "Pass an explicit signed dtype to store negative labels."
        )
    if not integral:
        raise InvalidDataError(
            "Segmentation values must be integers; found non-integral floating-point values."
        )
    return _decide(lo, hi, floor_dt, requested)


def _decide(lo: Any, hi: Any, floor_dt: np.dtype, requested: Any) -> np.dtype:
    """The stored dtype for non-negative integral values in ``[lo, hi]`` (``choose_segmentation_dtype``)."""
    if requested is not None:
        req = np.dtype(requested)
        if req.kind in "iu" and hi > np.iinfo(req).max:
            info = np.iinfo(req)
            raise InvalidDataError(
                f"Segmentation values in [{lo}, {hi}] do not fit {req} ([{info.min}, {info.max}]). "
                "Pass a wider dtype, or dtype=None to choose one."
            )
        if req.kind == "b" and hi > 1:
            raise InvalidDataError(f"Segmentation values up to {hi} do not fit in the requested dtype bool.")
        if req.kind not in "buif":
            raise InvalidDataError(f"Segmentations cannot be stored as {req}.")
        return req
    for candidate in _UNSIGNED:
        if candidate.itemsize >= floor_dt.itemsize and hi <= np.iinfo(candidate).max:
            return candidate
    raise InvalidDataError(f"Segmentation values must fit in uint64, found maximum {hi}.")
