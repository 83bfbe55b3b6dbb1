"""Reading one run's tomogram touches only that tomogram's objects on S3 (requests logged by moto).

How many metadata requests zarr makes per level is the volume layer's business; here: no other store
and no other chunk is touched, and listing runs touches S3 not at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import fakeportal
import pytest
import synthetic

import copick

try:
    from s3server import ServerProcess
except ImportError:  # pragma: no cover - tests/ imported as a package
    from tests.s3server import ServerProcess


def test_one_tomogram_level_reads_only_its_own_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec.config

    pytest.importorskip("moto.server")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    server = ServerProcess(str(tmp_path / "s3.log"), bucket=synthetic.BUCKET)
    server.start()
    try:
        synthetic.upload(synthetic.public_writer(server.s3), synthetic.tables(), str(tmp_path / "files"))
        for portal in fakeportal.serve(synthetic.tables()):
            monkeypatch.setenv("COPICK_PORTAL_URL", portal.url)
            monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
            monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": server.s3.endpoint_url})
            cfg = {"config_type": "cryoet_data_portal", "dataset_ids": [10001, 10002], "pickable_objects": [],
                   "overlay_root": str(tmp_path / "ov"), "overlay_fs_args": {"auto_mkdir": True}}  # fmt: skip
            root = copick.from_string(json.dumps(cfg))
            tomogram = root.get_run("101").get_voxel_spacing(10.0).get_tomograms("wbp-raw")[0]
            before = server.requests()
            assert len(root.runs) == 5 and server.requests() == before  # listing is metadata only
            assert tomogram.numpy(zarr_group="2").shape == (4, 6, 8)
        lines = [line for line in Path(server.log_path).read_text().splitlines() if '"GET /' in line or
                 '"HEAD /' in line][-(server.requests() - before):]  # fmt: skip
        store = "10001/TS_001/Reconstructions/VoxelSpacing10.000/Tomograms/100/TS_001.zarr"
        bucket_probe = f"/{synthetic.BUCKET} HTTP"  # s3fs checks the bucket once
        assert lines and all(store in line or bucket_probe in line for line in lines), lines  # nothing else
        assert sum("/2/0/0/0 " in line for line in lines) == 2  # its one chunk of level 2 (HEAD + GET)
    finally:
        server.stop()
