"""Shared test fixtures: the copick 1.31.0 reference fixture, fresh projects on every backend.

Markers: ``volumes``, ``s3`` (below).

Tests marked ``volumes`` are skipped unless ``RUN_VOLUME_TESTS_BY_DEFAULT`` (below) is True or the
environment sets ``COPICK_TEST_VOLUMES=1``. Tests running on the S3 backend are marked ``s3``
(``-m "not s3"`` skips the loopback server). ``COPICK_TEST_S3_MODE=thread`` runs the server in-process.

Fixtures
--------
``expected`` (session)           ``expected.json`` of the reference fixture (written by copick 1.31.0 at
                                 the first run, see ``reference_fixture.py``), as a dict.
``fixture_config``               path of a config for a tmp copy of the main fixture project
                                 (roots rewritten to absolute ``local://`` URLs).
``fixture_overlay_config``       same for the overlay variant; the copied ``static/`` tree is made
                                 read-only (``chmod -R a-w``) and made writable again at teardown.
``s3_server`` (session)          a real S3 server (moto, server mode) on 127.0.0.1: a ``LoopbackS3``
                                 with ``endpoint_url``, ``bucket``, ``key``/``secret``, ``fs_args()``.
``backend``                      parametrized ``local`` / ``memory`` / ``s3``: a ``Backend`` that hands
                                 out fresh, empty project locations (``backend.new_location()``) and
                                 removes them at teardown.
``project_url``                  ``(overlay_root_url, overlay_fs_args)`` of a fresh empty project on
                                 the current backend.
``write_project_config``         factory ``(overlay, static=None, user_id=None, ...) -> config path``.
``new_project``                  ``copick.from_file(...)`` of a fresh project on the current backend with
                                 objects proteasome (1), ribosome (2), membrane (3, not a particle).
``restore_logging``              puts the root logger (level, handlers) and the noisy third-party loggers
                                 back after a test whose commands reconfigured them (CLI tests use it via
                                 ``pytestmark = pytest.mark.usefixtures("restore_logging")``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

try:  # tests/ on sys.path (pytest's default "prepend" import mode, no tests/__init__.py)
    import reference_fixture
    from s3server import LoopbackS3, loopback_s3
except ImportError:  # pragma: no cover - tests/ imported as a package
    from tests import reference_fixture
    from tests.s3server import LoopbackS3, loopback_s3


# --------------------------------------------------------------------------------------------
# locations
# --------------------------------------------------------------------------------------------


FIXTURE_DIR = reference_fixture.FIXTURE_DIR
_FIXTURE_MISSING = ""  # why the reference fixture could not be written (no package registry)


PROJECT_OBJECTS: list[dict[str, Any]] = [
    {"name": "proteasome", "is_particle": True, "label": 1, "color": [255, 0, 0, 255], "radius": 60.0},
    {"name": "ribosome", "is_particle": True, "label": 2, "color": [0, 255, 0, 255], "radius": 150.0},
    {"name": "membrane", "is_particle": False, "label": 3, "color": [0, 0, 255, 128]},
]


# Volume entities (tomograms, features, segmentations, object maps) land after the rest: their tests
# are marked ``volumes`` and skipped until this is flipped to True. ``COPICK_TEST_VOLUMES=1`` (or
# ``=0``) overrides it for one run.
RUN_VOLUME_TESTS_BY_DEFAULT = True


def _volume_tests_enabled() -> bool:
    env = os.environ.get("COPICK_TEST_VOLUMES")
    if env is not None:
        return env.strip().lower() not in ("", "0", "false", "no")
    return RUN_VOLUME_TESTS_BY_DEFAULT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Mark the S3 instances of backend-parametrized tests, so ``-m "not s3"`` gives a fast run.
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "s3":
            item.add_marker(pytest.mark.s3)
    if _volume_tests_enabled():
        return
    skip = pytest.mark.skip(reason="volume tests not enabled yet (COPICK_TEST_VOLUMES=1 runs them)")
    for item in items:
        if item.get_closest_marker("volumes") is not None:
            item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    global _FIXTURE_MISSING
    try:  # once per machine: copick 1.31.0 writes the fixture (reference_fixture.py); then a stat
        reference_fixture.ensure()
    except Exception as exc:  # refenv.RefEnvUnavailable without a package registry
        _FIXTURE_MISSING = f"copick 1.31.0 could not write the reference fixture: {exc}"
    config.addinivalue_line(
        "markers",
        "volumes: tests of volume entities (tomograms, features, segmentations, object maps)",
    )
    config.addinivalue_line("markers", "s3: tests that talk to the loopback S3 server")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Commands reconfigure the root logger (as copick 1.31 did); put it back after the test."""
    from copick.util.log import _NOISY_LOGGERS

    root = logging.getLogger()
    saved = root.level, list(root.handlers), {n: logging.getLogger(n).level for n in _NOISY_LOGGERS}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


# --------------------------------------------------------------------------------------------
# the copick 1.31.0 reference fixture
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    """``expected.json`` of the reference fixture (what copick 1.31.0 reported for it)."""
    path = FIXTURE_DIR / "expected.json"
    if not path.is_file():
        pytest.skip(_FIXTURE_MISSING or f"reference fixture not found at {FIXTURE_DIR}")
    with open(path) as f:
        return json.load(f)


def copy_fixture(tmp_path: Path, variant: bool = False) -> Path:
    """Copy the fixture into ``tmp_path``; return the path of a config with absolute roots.

    The committed configs use roots relative to the working directory (``local://.``); they are
    rewritten to absolute ``local://`` URLs resolved against the config file's folder.
    """
    if not FIXTURE_DIR.is_dir():
        pytest.skip(_FIXTURE_MISSING or f"reference fixture not found at {FIXTURE_DIR}")
    dst = tmp_path / "copick131-project"
    if variant:  # only the variant's own folder is needed
        shutil.copytree(FIXTURE_DIR / "overlay-variant", dst / "overlay-variant")
    else:
        shutil.copytree(FIXTURE_DIR, dst, ignore=shutil.ignore_patterns("expected.json", "overlay-variant"))
    # The shared folder may be a read-only copy: make the tmp copy writable whatever its source.
    _chmod_tree(dst, add=stat.S_IWUSR)
    cfg_dir = dst / "overlay-variant" if variant else dst
    cfg_path = cfg_dir / "copick_config.json"
    cfg = json.loads(cfg_path.read_text())
    for key in ("overlay_root", "static_root"):
        url = cfg.get(key)
        if url and url.startswith("local://") and not url[len("local://") :].startswith("/"):
            cfg[key] = "local://" + os.path.normpath(cfg_dir / url[len("local://") :])
    cfg_path.write_text(json.dumps(cfg, indent=4))
    return cfg_path


def _chmod_tree(root: Path, add: int = 0, remove: int = 0) -> None:
    """``chmod -R`` for owner/group/other bits: add or remove ``add``/``remove`` on every entry."""
    paths = [root, *root.rglob("*")]
    # Directories last when removing write bits (so we can still walk them), first when adding.
    paths.sort(key=lambda p: p.is_dir(), reverse=bool(add))
    for p in paths:
        if p.is_symlink():
            continue
        mode = stat.S_IMODE(p.stat().st_mode)
        p.chmod((mode | add) & ~remove)


@pytest.fixture
def fixture_config(tmp_path: Path) -> str:
    """Config path of a writable tmp copy of the main fixture project (single root)."""
    return str(copy_fixture(tmp_path))


@pytest.fixture
def fixture_overlay_config(tmp_path: Path) -> Iterator[str]:
    """Config path of a tmp copy of the overlay variant, its ``static/`` tree made read-only.

    (When the tests run as root, permission bits do not stop writes: tests that care about the
    static layer staying untouched compare its bytes as well.)
    """
    cfg_path = copy_fixture(tmp_path, variant=True)
    static = cfg_path.parent / "static"
    write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    _chmod_tree(static, remove=write_bits)
    try:
        yield str(cfg_path)
    finally:
        _chmod_tree(static, add=stat.S_IWUSR)


def tree_digest(root: str | Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> content): to prove a tree was left unchanged."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def static_digest() -> Callable[[str | Path], dict[str, bytes]]:
    """``tree_digest`` as a fixture, for tests that must not import from conftest."""
    return tree_digest


# --------------------------------------------------------------------------------------------
# backends: local folder, fsspec memory://, a real S3 server on loopback
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server() -> Iterator[LoopbackS3]:
    """moto's S3 server on 127.0.0.1 with bucket ``copick-test``; dummy AWS credentials in env."""
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    with loopback_s3() as server:
        yield server


@dataclass
class Backend:
    """Hands out fresh project locations on one storage backend and cleans them up."""

    name: str
    fs_args: dict[str, Any]
    _new_url: Callable[[str], str]
    _cleanup: Callable[[str], None]
    _made: list[str] = field(default_factory=list)
    _inspector: Any = None

    def new_location(self, label: str = "project") -> tuple[str, dict[str, Any]]:
        """``(root_url, fs_args)`` of a fresh, empty location."""
        url = self._new_url(label)
        self._made.append(url)
        return url, dict(self.fs_args)

    def filesystem(self) -> Any:
        """An fsspec filesystem of its own for this backend, to inspect raw files (no listings cache)."""
        if self._inspector is None:
            import fsspec

            if self.name == "s3":
                self._inspector = fsspec.filesystem("s3", **{**self.fs_args, "use_listings_cache": False})
            else:
                self._inspector = fsspec.filesystem("file" if self.name == "local" else "memory")
        return self._inspector

    def path(self, url: str) -> str:
        """Protocol-stripped path of a location URL (what ``filesystem()`` expects)."""
        return url.split("://", 1)[1]

    def close(self) -> None:
        for url in self._made:
            with contextlib.suppress(FileNotFoundError):
                self._cleanup(url)


def _local_backend(tmp_path: Path) -> Backend:
    def new_url(label: str) -> str:
        return "local://" + str(tmp_path / f"{label}-{uuid.uuid4().hex[:8]}")

    return Backend("local", {"auto_mkdir": True}, new_url, lambda url: None)


def _memory_backend() -> Backend:
    import fsspec

    def new_url(label: str) -> str:
        return f"memory://copick-tests/{label}-{uuid.uuid4().hex[:12]}"

    def cleanup(url: str) -> None:
        fs = fsspec.filesystem("memory")
        path = url[len("memory://") :]
        if fs.exists(path):
            fs.rm(path, recursive=True)

    return Backend("memory", {}, new_url, cleanup)


def _s3_backend(server: LoopbackS3) -> Backend:
    backend: Backend

    def cleanup(url: str) -> None:
        fs = backend.filesystem()
        path = url[len("s3://") :]
        if fs.exists(path):
            fs.rm(path, recursive=True)

    backend = Backend("s3", server.fs_args(), server.unique_url, cleanup)
    return backend


@pytest.fixture(params=["local", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A storage backend (``local``, ``memory``, ``s3``) handing out fresh project locations."""
    if request.param == "local":
        b = _local_backend(tmp_path)
    elif request.param == "memory":
        b = _memory_backend()
    else:
        b = _s3_backend(request.getfixturevalue("s3_server"))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def project_url(backend: Backend) -> tuple[str, dict[str, Any]]:
    """``(overlay_root_url, overlay_fs_args)`` of a fresh empty project on the current backend."""
    return backend.new_location("project")


def write_config(
    path: str | Path,
    overlay: tuple[str, dict[str, Any]],
    static: tuple[str, dict[str, Any]] | None = None,
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    objects: list[dict[str, Any]] | None = None,
    name: str = "copick test project",
) -> str:
    """Write a filesystem config JSON (as ``copick.new_config`` would, plus fs args and layers)."""
    cfg: dict[str, Any] = {
        "config_type": "filesystem",
        "name": name,
        "description": "written by the test-suite",
        "version": "1.31.0",
        "pickable_objects": objects if objects is not None else PROJECT_OBJECTS,
        "overlay_root": overlay[0],
        "overlay_fs_args": overlay[1],
    }
    if static is not None:
        cfg["static_root"] = static[0]
        cfg["static_fs_args"] = static[1]
    if user_id is not None:
        cfg["user_id"] = user_id
    if session_id is not None:
        cfg["session_id"] = session_id
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg, indent=4))
    return str(path)


@pytest.fixture
def write_project_config(tmp_path: Path) -> Callable[..., str]:
    """Factory: ``write_project_config(overlay, static=None, user_id=None, ...) -> config path``.

    ``overlay``/``static`` are ``(root_url, fs_args)`` pairs, e.g. from ``backend.new_location()``.
    Each call writes a new file under ``tmp_path/configs``.
    """

    def make(
        overlay: tuple[str, dict[str, Any]],
        static: tuple[str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> str:
        return write_config(tmp_path / "configs" / f"{uuid.uuid4().hex[:8]}.json", overlay, static, **kwargs)

    return make


@pytest.fixture
def new_project_config(project_url: tuple[str, dict[str, Any]], tmp_path: Path) -> str:
    """Config path of a fresh project on the current backend (objects proteasome/ribosome/membrane)."""
    return write_config(tmp_path / "copick_config.json", project_url)


@pytest.fixture
def new_project(new_project_config: str) -> Any:
    """``copick.from_file`` of a fresh empty project on the current backend."""
    import copick

    return copick.from_file(new_project_config)
