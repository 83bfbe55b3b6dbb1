"""The entity test matrix of ``tests/test_backends.py`` (local, memory, S3) run again on remote layers
served from 127.0.0.1, with the same test functions (imported, not copied):

* every test on SFTP (password login) and on SMB: one root on the server, and the static + overlay
  pair both on the server;
* the static + overlay tests with the static layer remote and the overlay local (``sftp/local``,
  ``smb/local``), the other way round (``local/sftp``, ``local/smb``), and with a read-only static
  layer on HTTP or in a zip archive (on a local disk, on HTTP, on SFTP, on SMB, at the archive's
  root) under a local, SFTP or SMB overlay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from places import layered_backend

import test_backends
from test_backends import *  # noqa: F403  (the matrix: every test and its fixtures)

# The static + overlay tests, for the pairs whose layers differ.
LAYERED_TESTS = (
    "test_static_entities_are_read_only_and_left_untouched",
    "test_writes_over_a_static_layer_land_in_the_overlay",
    "test_overlay_entities_stay_writable_and_deletable",
    "test_static_tomogram_is_read_only_on_every_backend",
)
SAME_SERVER = ("sftp", "smb")
PAIRS = (
    "sftp/local",
    "local/sftp",
    "smb/local",
    "local/smb",
    "http/local",
    "http/sftp",
    "zip/local",
    "zip-root/local",
    "zip+http/local",
    "zip+sftp/sftp",
    "zip+smb/smb",
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    names = SAME_SERVER + (PAIRS if metafunc.function.__name__ in LAYERED_TESTS else ())
    metafunc.parametrize("backend_name", names)


@pytest.fixture
def backend(backend_name: str, remotes: Any) -> Iterator[Any]:
    b = layered_backend(remotes, backend_name)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def write_project_config(write_project_config: Callable[..., str], backend: Any) -> Callable[..., str]:
    """The shared factory, with a read-only static layer published (served or zipped) first."""

    def make(overlay: Any, static: Any = None, **kwargs: Any) -> str:
        return write_project_config(overlay, backend.published(static), **kwargs)

    return make


def test_matrix_is_the_shared_one() -> None:
    """Guard: the tests above are test_backends' own functions, not copies."""
    assert test_static_entities_are_read_only_and_left_untouched is (  # noqa: F405
        test_backends.test_static_entities_are_read_only_and_left_untouched
    )
