"""Fixtures of the portal tests: a loopback CryoET Data Portal (GraphQL + S3) started once per session.

``portal`` (session): the GraphQL server (``.url``, ``.counts``, ``.fail_next``) over the synthetic
portal of ``synthetic.py``, its files in a loopback moto S3 bucket; ``portal_env`` points copick at
both (``COPICK_PORTAL_URL``, fsspec's S3 endpoint) and gives each test its own cache directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import fakeportal
import synthetic

try:
    from s3server import loopback_s3
except ImportError:  # pragma: no cover - tests/ imported as a package
    from tests.s3server import loopback_s3


@pytest.fixture(scope="session")
def portal_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """moto S3 on 127.0.0.1 holding the synthetic portal's files in the portal's bucket."""
    pytest.importorskip("moto.server")
    with loopback_s3(bucket=synthetic.BUCKET) as s3:
        synthetic.upload(
            synthetic.public_writer(s3), synthetic.tables(), str(tmp_path_factory.mktemp("portal-files"))
        )
        yield s3


@pytest.fixture(scope="session")
def portal(portal_s3: Any) -> Iterator[fakeportal.PortalServer]:
    """The GraphQL server of the synthetic portal (2 datasets, 5 runs)."""
    pytest.importorskip("graphql")
    yield from fakeportal.serve(synthetic.tables())


@pytest.fixture
def portal_env(portal: fakeportal.PortalServer, portal_s3: Any, tmp_path: Any, monkeypatch: Any) -> Any:
    """Point copick at the loopback portal: GraphQL URL, anonymous S3 endpoint, a fresh cache dir."""
    import fsspec.config

    monkeypatch.setenv("COPICK_PORTAL_URL", portal.url)
    monkeypatch.setenv("FSSPEC_S3_ENDPOINT_URL", portal_s3.endpoint_url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": portal_s3.endpoint_url})
    portal.reset()
    yield portal
    portal.reset()
