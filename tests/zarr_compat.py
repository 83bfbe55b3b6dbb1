"""What tests need to call zarr the same way under zarr 2 and zarr 3 (the suite runs under both)."""

from __future__ import annotations

from typing import Any

import pytest
import zarr

ZARR2 = zarr.__version__.startswith("2.")
# zarr 3 needs the format of a new node spelled out (copick images are format 2); zarr 2 has no such
# keyword and only format 2.
V2: dict[str, Any] = {} if ZARR2 else {"zarr_format": 2}
# For tests of zarr 3 API or of packages that need zarr 3 (ome-zarr-models).
requires_zarr3 = pytest.mark.skipif(ZARR2, reason="zarr 3 only (this pass runs zarr 2)")
