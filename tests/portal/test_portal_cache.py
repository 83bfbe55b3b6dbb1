"""Where the portal metadata cache lives, its environment overrides, a busy lock, and the progress notice."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

import copick
from copick.portal import cache, client

CLASSES = 9


def _config(tmp_path: Path, overlay: str | None = None, **extra: Any) -> str:
    cfg = {
        "config_type": "cryoet_data_portal", "dataset_ids": [10002], "pickable_objects": [],
        "overlay_root": overlay or "local://" + str(tmp_path / "overlay"),
        "overlay_fs_args": {"auto_mkdir": True}, **extra,
    }  # fmt: skip
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def _documents(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("portal_*.json"))


def test_cache_places_and_environment_overrides(
    portal_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # default: in the local overlay
    copick.from_file(_config(tmp_path)).runs  # noqa: B018
    assert len(_documents(tmp_path / "overlay" / ".copick_cache")) == 1
    # an overlay that is not a local folder: the user's cache folder ($XDG_CACHE_HOME/copick/portal)
    copick.from_file(_config(tmp_path, overlay="memory://portal-cache-test")).runs  # noqa: B018
    assert len(_documents(tmp_path / "xdg" / "copick" / "portal")) == 1
    # portal_cache_dir, and COPICK_PORTAL_CACHE_DIR over it
    configured = _config(tmp_path, portal_cache_dir=str(tmp_path / "configured"))
    monkeypatch.setenv("COPICK_PORTAL_CACHE_DIR", str(tmp_path / "from-env"))
    portal_env.reset()
    assert len(copick.from_file(configured).runs) == 2 and portal_env.total() == CLASSES
    assert len(_documents(tmp_path / "from-env")) == 1 and not (tmp_path / "configured").exists()
    monkeypatch.setenv("COPICK_PORTAL_CACHE_LOCK_TIMEOUT", "7")
    settings = cache.CacheSettings.from_config(copick.from_file(configured).config)
    assert (settings.directory, settings.lock_timeout_seconds) == (str(tmp_path / "from-env"), 7)


def test_a_lock_held_too_long_fetches_without_the_cache(
    portal_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    config = _config(tmp_path, portal_cache_dir=str(folder), portal_cache_lock_timeout_seconds=0)
    root = copick.from_file(config)
    name = cache.document_name(root.catalog.url, [10002])
    with open(folder / (name + ".lock"), "w") as holder:  # another process is fetching (forever)
        fcntl.flock(holder, fcntl.LOCK_EX)
        with caplog.at_level(logging.WARNING, logger="copick.portal.cache"):
            assert len(root.runs) == 2  # not blocked, not failed
    assert "fetching without it" in caplog.text and _documents(folder) == []


def test_progress_is_shown_on_a_terminal_when_a_fetch_takes_long(
    portal_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(client, "PROGRESS_AFTER_S", 0.05)
    portal_env.delay = 0.3
    client.fetch_tables(portal_env.url, [10002])
    assert f"fetching metadata of datasets [10002] from {portal_env.url}" in terminal.getvalue()
    quick = Terminal()
    monkeypatch.setattr(sys, "stderr", quick)
    monkeypatch.setattr(client, "PROGRESS_AFTER_S", 30.0)
    portal_env.delay = 0.0
    client.fetch_tables(portal_env.url, [10002])
    # a quick fetch is not announced (an INFO log line of another test's logging set-up may be there)
    assert "fetching metadata" not in quick.getvalue()
