"""copick-utils 1.10.2 installed beside ours, and beside copick 1.31.0, in two cached venvs.

* ``.cache/utilsenv-ours``: our package (``-e <repo>``), ``copick-utils==1.10.2`` and
  ``napari-copick==1.11.1`` in one ``pip install``, resolved by pip (no ``--no-deps``): our ``copick``
  1.32.0 satisfies copick-utils' ``copick>=1.28.0`` and copick-shared-ui's ``copick[all]``; its
  ``zarr<3`` makes this a zarr 2.18 environment, as every napari-copick user has.
* ``.cache/utilsenv-ref``: ``copick==1.31.0`` and ``copick-utils==1.10.2``.

copick-utils 1.10.2 requires (METADATA ``Requires-Dist``, checked with ``pip download --no-deps``): click,
click-option-group, copick>=1.28.0, manifold3d, mapbox-earcut, matplotlib, mdocfile, numpy, rtree,
scikit-image, scikit-learn, scipy, shapely, tqdm, trimesh, zarr: no torch, a few hundred MB in all.
Both environments are black boxes: only their ``copick`` script and ``python -c`` with public metadata
calls are run. They are rebuilt when the requirement steps (or, for ours, ``pyproject.toml``) change.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

import refenv  # noqa: E402

UTILS = "copick-utils==1.10.2"
NAPARI = "napari-copick==1.11.1"
QT = "PyQt5"  # napari-copick needs a Qt binding; napari users install one beside it (napari[all])
OURS_ENV = REPO / ".cache" / "utilsenv-ours"
REF_ENV = REPO / ".cache" / "utilsenv-ref"


def _pyproject_hash() -> str:
    return hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]


def ours_with_utils() -> Path:
    """Interpreter of the venv with our copick (editable), copick-utils and napari-copick."""
    return refenv.ensure_venv(
        OURS_ENV, [["-e", str(REPO), UTILS, NAPARI, QT]], stamp_extra={"pyproject_sha256": _pyproject_hash()}
    )


def ref_with_utils() -> Path:
    """Interpreter of the venv with copick 1.31.0 and copick-utils 1.10.2."""
    return refenv.ensure_venv(REF_ENV, [["copick==1.31.0", UTILS]])


def interpreters(skip: bool = True) -> dict[str, str]:
    """``{"ours": ..., "ref": ...}``; skips the calling test when an environment cannot be built."""
    try:
        return {"ours": str(ours_with_utils()), "ref": str(ref_with_utils())}
    except refenv.RefEnvUnavailable as exc:
        if skip:
            import pytest

            pytest.skip(f"copick-utils 1.10.2 environments unavailable: {exc}")
        raise
