"""Gentle on the portal: pagination, retries within a bound, clear failures, one fetch for many processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import copick
from copick.portal import client

CLASSES = 9


def _config(tmp_path: Path, **extra: Any) -> str:
    cfg = {
        "config_type": "cryoet_data_portal", "dataset_ids": [10001, 10002], "pickable_objects": [],
        "overlay_root": "local://" + str(tmp_path / "overlay"), "overlay_fs_args": {"auto_mkdir": True},
        **extra,
    }  # fmt: skip
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def test_pages_are_followed(portal_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "PAGE_SIZE", 2)
    assert len(copick.from_file(_config(tmp_path)).runs) == 5
    assert portal_env.counts["runs"] == 3 and portal_env.counts["datasets"] == 2  # 2 + 2 + 1 rows; 2 + 0


def test_transient_errors_are_retried(portal_env: Any, tmp_path: Path) -> None:
    portal_env.fail_next.extend([503, 502, 429])
    assert len(copick.from_file(_config(tmp_path)).runs) == 5
    assert portal_env.total() == CLASSES + 3


def test_unreachable_portal_fails_within_the_bound_naming_the_url(
    portal_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPICK_PORTAL_RETRY_SECONDS", "1.5")
    portal_env.fail_next.extend([503] * 1000)
    root = copick.from_file(_config(tmp_path))
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=f"{portal_env.url}.*could not be reached.*503"):
        root.runs  # noqa: B018
    assert time.monotonic() - start < 5


def test_stopped_server_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPICK_PORTAL_RETRY_SECONDS", "1")
    monkeypatch.setenv("COPICK_PORTAL_URL", "http://127.0.0.1:9/graphql")  # nothing listens on port 9
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(client.PortalUnreachableError, match="127.0.0.1:9/graphql"):
        copick.from_file(_config(tmp_path)).runs  # noqa: B018


def test_graphql_errors_are_not_retried(portal_env: Any) -> None:
    with pytest.raises(client.PortalQueryError, match="rejected a query"):
        client.post(portal_env.url, "{ runs { noSuchField } }", {})
    assert portal_env.total() == 1


def test_cache_switches_and_ttl(portal_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path, portal_cache_dir=str(tmp_path / "cache"))
    copick.from_file(cfg).runs  # noqa: B018
    assert [p.name.startswith("portal_") for p in (tmp_path / "cache").glob("*.json")] == [True]
    copick.from_file(cfg).runs  # noqa: B018
    assert portal_env.total() == CLASSES
    monkeypatch.setenv("COPICK_PORTAL_CACHE", "0")
    copick.from_file(cfg).runs  # noqa: B018
    assert portal_env.total() == 2 * CLASSES
    monkeypatch.delenv("COPICK_PORTAL_CACHE")
    for path in (tmp_path / "cache").glob("*.json"):
        os.utime(path, (time.time() - 100, time.time() - 100))
    monkeypatch.setenv("COPICK_PORTAL_CACHE_TTL", "10")
    copick.from_file(cfg).runs  # noqa: B018
    assert portal_env.total() == 3 * CLASSES


def test_eight_processes_make_one_fetch(portal_env: Any, portal_s3: Any, tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    portal_env.delay = 0.3  # a slow portal: the processes overlap
    script = f"import copick; print(len(copick.from_file({cfg!r}).runs))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env) for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert outputs == [b"5"] * 8
    assert portal_env.total() == CLASSES


def test_malformed_ndjson_line_is_named() -> None:
    from copick.portal.catalog import read_ndjson

    data = b'{"type": "point", "location": {"x": 1, "y": 2, "z": 3}}\n{"type": "point", "location": {"x": 1}}'
    with pytest.raises(ValueError, match=r"s3://b/p.ndjson, line 2: not a portal point"):
        read_ndjson(data, "s3://b/p.ndjson", 10.0, oriented=False)
    assert read_ndjson(data.splitlines()[0], "x", 10.0, oriented=False).positions.tolist() == [[10, 20, 30]]


def test_portal_root_pickles_for_process_pools(portal_env: Any, tmp_path: Path) -> None:
    import pickle

    root = copick.from_file(_config(tmp_path))
    assert len(root.runs) == 5
    clone = pickle.loads(pickle.dumps(root))
    portal_env.reset()
    clone.reconnect()
    assert [r.name for r in clone.runs] == [r.name for r in root.runs] and portal_env.total() == 0
