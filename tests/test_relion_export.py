"""STAR exports of filament picks: polarity from the Filaments they were sampled from, half sets by
whole filament over the combined file (the interop script relion_tables covers picks.df())."""

from __future__ import annotations

import numpy as np
import starfile

import copick
from copick.models import FilamentSpec, PickableObject
from copick.ops.export_picks import export_picks_combined


def test_filament_export_takes_polarity_from_named_filaments_and_balances_half_sets(tmp_path):
    config = str(tmp_path / "c.json")
    root = copick.new_config(
        config, str(tmp_path / "p"), pickable_objects=[PickableObject(name="mt", is_particle=True)]
    )
    root.get_object("mt").meta.set_filament(FilamentSpec(polar=True))
    root.save_config(config)
    root = copick.from_file(config)
    run = root.new_run("TS1")
    ids = np.array([1, 1, 1, 2, 2, 3])
    run.new_picks("mt", "1", "sampler").from_numpy(np.arange(18.0).reshape(6, 3), instance_ids=ids)
    lines = [np.array([[0, 0, 0], [1, 1, 1.0]])] * 3
    run.new_filaments("mt", "1", "tracer").from_numpy(
        lines, instance_ids=[1, 2, 3], polarity_known=[True, False, True]
    )
    out = str(tmp_path / "all.star")
    export_picks_combined(
        config, out, "mt:sampler/1", "star", voxel_spacing=10.0, tilt_series_pixel_size=1.0,
        filaments_uri="mt:tracer/1", half_sets="filament",
    )  # fmt: skip
    particles = starfile.read(out, always_dict=True)["particles"]
    assert particles["rlnAnglePsiFlipRatio"].tolist() == [0.0, 0.0, 0.0, 0.5, 0.5, 0.0]
    assert particles["rlnRandomSubset"].tolist() == [1, 1, 1, 2, 2, 2]
    assert particles.columns[-1] == "rlnRandomSubset"
