"""Images for ``copick check``: OME-NGFF 0.4 metadata, levels, sampled chunks, segmentation rules.

The metadata is validated with ome-zarr-models where it is installed (the ``check`` extra; it needs
zarr 3), else by copick's own rules for what copick reads. Levels must all be there, each half the
size of the one before (either rounding) with twice its scale; a few chunks per image are decoded
(first, middle and last of level 0, the last of every other level), so a big project is checked in
seconds. Nothing here writes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from copick import layout

SAMPLES_LEVEL0 = 3
_REWRITE = "write the image again (from_numpy, copick add) or delete it (copick rm)"


def ome_validator() -> Callable[[dict], str | None] | None:
    """``validate(attrs) -> problem or None`` through ome-zarr-models, or None when it is missing."""
    try:
        from ome_zarr_models.v04.image import ImageAttrs
    except Exception:  # not installed, or installed beside a zarr it cannot use
        return None

    def validate(attrs: dict) -> str | None:
        try:
            ImageAttrs.model_validate(attrs)
        except Exception as err:
            errors = getattr(err, "errors", None)
            if callable(errors):
                return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors()[:3])
            return str(err).splitlines()[0]
        return None

    return validate


def own_rules(attrs: Any) -> str | None:
    """What copick needs of OME-NGFF 0.4 multiscales metadata; the problem, or None."""
    ms = attrs.get("multiscales") if isinstance(attrs, dict) else None
    if not isinstance(ms, list) or not ms or not isinstance(ms[0], dict):
        return "no 'multiscales' list"
    m = ms[0]
    if m.get("version", "0.4") != "0.4":
        return f"version {m.get('version')!r}; copick images are OME-NGFF 0.4"
    axes = m.get("axes")
    if not isinstance(axes, list) or not 2 <= len(axes) <= 5:
        return "'axes' must be a list of 2 to 5 axes"
    names = [a.get("name") if isinstance(a, dict) else a for a in axes]
    if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
        return f"axis names must be distinct strings, found {names}"
    space = [a for a in axes if isinstance(a, dict) and a.get("type") == "space"]
    if not 2 <= len(space) <= 3:
        return f"{len(space)} space axes; OME-NGFF 0.4 needs 2 or 3"
    datasets = m.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        return "'datasets' must be a non-empty list"
    for i, d in enumerate(datasets):
        transforms = d.get("coordinateTransformations") if isinstance(d, dict) else None
        if not isinstance(d, dict) or not isinstance(d.get("path"), str):
            return f"datasets[{i}] has no 'path'"
        if (
            not transforms
            or transforms[0].get("type") != "scale"
            or len(transforms[0].get("scale", [])) != len(axes)
        ):
            return f"datasets[{i}] needs a first 'scale' transformation with one value per axis"
    return None


def decode_sample(raw: bytes, meta: dict, size: int) -> np.ndarray:
    """Bytes of a chunk (``uint8``), checked: a Blosc frame (copick's codec) must be whole, hold
    ``size`` bytes and have sane block offsets; its first, middle and last blocks are decoded (a
    padded 256³ chunk of a small image is not decoded whole). Other codecs decode the whole chunk."""
    from copick.formats import blosc_frames

    compressor = meta.get("compressor") or {}
    if compressor.get("id") == "blosc" and not meta.get("filters"):
        info = blosc_frames.frame_info(raw)
        if info is None:
            raise ValueError("not a whole Blosc frame (truncated or damaged)")
        nbytes, blocksize, flags = info
        if nbytes != size:
            raise ValueError(f"holds {nbytes} bytes, {size} expected")
        if flags & blosc_frames.MEMCPYED:
            return np.frombuffer(raw, np.uint8, offset=16)
        nblocks = -(-nbytes // blocksize)
        starts, ends = blosc_frames.block_spans(raw, nbytes, blocksize)
        if starts.min() < 16 + 4 * nblocks or (ends < starts).any():
            raise ValueError("damaged Blosc block offsets")
        parts = []
        for block in sorted({0, nblocks // 2, nblocks - 1}):
            stop = min(nbytes, (block + 1) * blocksize)
            data, _ = blosc_frames.decode_range(raw, block * blocksize, stop)
            part = np.frombuffer(data, np.uint8)
            if part.size < stop - block * blocksize:
                raise ValueError(f"block {block} decodes to {part.size} bytes")
            parts.append(part)
        return np.concatenate(parts)
    import numcodecs

    data: Any = raw
    if compressor:
        data = numcodecs.get_codec(compressor).decode(data)
    for spec in reversed(meta.get("filters") or []):
        data = numcodecs.get_codec(spec).decode(data)
    values = np.frombuffer(data, np.uint8)
    if values.nbytes != size:
        raise ValueError(f"{values.nbytes} bytes decoded, {size} expected")
    return values


def _json(layer: Any, rel: str) -> Any:
    return json.loads(layer.read_bytes(rel))


def check_image(
    ctx: Any, layer: Any, rel: str, tree: Any, kind: str, ident: Any, read_only: bool, run: str | None
) -> tuple[list, int]:
    """Findings of one image store (``kind``: tomogram, features, segmentation, object) and the number
    of chunks decoded."""
    check = _ImageCheck(ctx, layer, rel, kind, ident, read_only, run)
    try:
        check.run(tree.files_below(""))
    except OSError as err:
        check.add("error", "unreadable", f"cannot read the image: {err}", _REWRITE)
    return check.findings, check.chunks


class _ImageCheck:
    def __init__(self, ctx: Any, layer: Any, rel: str, kind: str, ident: Any, read_only: bool, run: Any):
        self.ctx, self.layer, self.rel, self.kind, self.ident = ctx, layer, rel, kind, ident
        self.read_only, self.run_name = read_only, run
        self.findings: list = []
        self.chunks = 0

    def add(
        self, severity: str, code: str, message: str, action: str, repair: Any = None, at: str = ""
    ) -> None:
        self.findings.append(
            self.ctx.finding(
                severity,
                code,
                self.layer,
                layout.join(self.rel, at) if at else self.rel,
                message,
                action,
                run=self.run_name,
                repair=None if self.read_only else repair,
            )
        )

    def run(self, files: list[str]) -> None:
        data_files = []
        for f in files:
            name = f.rpartition("/")[2]
            if layout.is_hidden(name) and name not in (
                ".zattrs",
                ".zgroup",
                ".zarray",
                ".zmetadata",
                ".copick-new",
            ):
                self.findings += self.ctx.leftovers.check(
                    self.ctx, self.layer, layout.join(self.rel, f), False, self.read_only, self.run_name
                )
            elif name != ".copick-new":
                data_files.append(f)
        if not data_files:
            self.add(
                "warning",
                "image-empty",
                f"{self.kind} created but never written (reading it raises KeyError('0'))",
                "write it, or copick check --fix removes the empty store",
                repair=("delete", self.layer, self.rel),
            )
            return
        present = set(data_files)
        if "zarr.json" in present:
            self.add(
                "error", "image-incomplete", "zarr 3 metadata (zarr.json); copick images are zarr 2", _REWRITE
            )
            return
        missing = [m for m in (".zgroup", ".zattrs") if m not in present]
        if missing:
            self.add(
                "error",
                "image-incomplete",
                f"no {' or '.join(missing)}: the write was interrupted (or another tool wrote it); "
                "copick cannot read it",
                _REWRITE,
            )
            return
        try:
            attrs = _json(self.layer, layout.join(self.rel, ".zattrs"))
        except ValueError as err:
            self.add("error", "ome-invalid", f".zattrs is not valid JSON ({err})", _REWRITE)
            return
        problem = (self.ctx.ome_validator(attrs) if self.ctx.ome_validator else None) or own_rules(attrs)
        if problem:
            self.add("error", "ome-invalid", f"OME-NGFF 0.4 metadata is not valid: {problem}", _REWRITE)
            return
        self.levels(attrs["multiscales"][0], present, data_files)

    def levels(self, ms: dict, present: set[str], files: list[str]) -> None:
        axes = ms["axes"]
        spatial = [i for i, a in enumerate(axes) if isinstance(a, dict) and a.get("type") == "space"]
        metas, missing = [], []
        for d in ms["datasets"]:
            path = d["path"]
            try:
                meta = (
                    _json(self.layer, layout.join(self.rel, path, ".zarray"))
                    if f"{path}/.zarray" in present
                    else None
                )
            except ValueError:
                meta = None
            (
                metas.append((path, meta, d["coordinateTransformations"][0]["scale"]))
                if meta
                else missing.append(path)
            )
        if missing:
            self.add(
                "error",
                "level-missing",
                f"level(s) {', '.join(missing)} missing or without a readable .zarray",
                _REWRITE,
            )
            return
        shapes = [list(m["shape"]) for _, m, _ in metas]
        scales = [list(map(float, s)) for _, _, s in metas]
        bad_shape = next(
            (
                i
                for i in range(1, len(shapes))
                if len(shapes[i]) != len(axes)
                or any(abs(2 * shapes[i][a] - shapes[i - 1][a]) > 1 for a in spatial)
            ),
            None,
        )
        if len(shapes[0]) != len(axes):
            bad_shape = 0
        if bad_shape is not None:
            self.add(
                "error",
                "level-shape",
                f"level shapes {shapes} are not a pyramid (each level half the one before)",
                _REWRITE,
            )
        bad_scale = [
            metas[i][0]
            for i in range(1, len(scales))
            if any(not math.isclose(scales[i][a], scales[0][a] * 2**i, rel_tol=1e-6) for a in spatial)
        ]
        if bad_scale:
            self.add("error", "level-scale", f"scales {scales} do not double from level to level", _REWRITE)
        self.voxel_size(scales[0], spatial)
        samples = self.sample(metas, files)
        if self.kind == "segmentation":
            self.segmentation(metas[0][1], samples)

    def voxel_size(self, scale: list[float], spatial: list[int]) -> None:
        expected = (
            self.ident if self.kind in ("tomogram", "features") else getattr(self.ident, "voxel_size", None)
        )
        if expected is None or not spatial:
            return
        if format(scale[spatial[0]], ".3f") != format(expected, ".3f"):
            self.add(
                "warning",
                "voxel-size-mismatch",
                f"level 0 scale {scale[spatial[0]]} Å does not match the voxel size {expected:.3f} "
                "of its name",
                "move the image to the folder of its voxel size, or rewrite it",
            )

    def sample(self, metas: list, files: list[str]) -> list[tuple[str, np.ndarray]]:
        """Decode a sample of chunks per level; the decoded level-0 samples ``(key, values)``."""
        decoded, bad = [], []
        for index, (path, meta, _scale) in enumerate(metas):
            keys = sorted(
                f for f in files if f.startswith(path + "/") and not f.rpartition("/")[2].startswith(".")
            )
            picks = [keys[0], keys[len(keys) // 2], keys[-1]] if index == 0 and keys else keys[-1:]
            dtype = np.dtype(meta["dtype"])
            for key in dict.fromkeys(picks[:SAMPLES_LEVEL0]):
                self.chunks += 1
                try:
                    raw = self.layer.read_bytes(layout.join(self.rel, key))
                    values = decode_sample(raw, meta, math.prod(meta["chunks"]) * dtype.itemsize)
                    if index == 0:
                        decoded.append(
                            (key, values[: values.size - values.size % dtype.itemsize].view(dtype))
                        )
                except Exception as err:
                    bad.append(f"{key} ({err})")
        if bad:
            self.add(
                "error",
                "chunk-unreadable",
                f"chunk(s) cannot be decoded: {'; '.join(bad[:3])}",
                _REWRITE,
                at=bad[0].split(" ")[0],
            )
        return decoded

    def segmentation(self, meta: dict, samples: list[tuple[str, np.ndarray]]) -> None:
        seg = self.ident
        dtype = np.dtype(meta["dtype"])
        floor = 2 if seg.segmentation_type in ("instance", "panoptic") else 1
        if dtype.kind == "f" or dtype.kind not in "biu":
            self.add(
                "error",
                "seg-dtype",
                f"{seg.segmentation_type} segmentation stored as {dtype}; labels are integers",
                "rewrite it with integer labels (from_numpy chooses the dtype)",
            )
        elif dtype.kind == "i" or dtype.itemsize < floor:
            self.add(
                "warning",
                "seg-dtype",
                f"{seg.segmentation_type} segmentation stored as {dtype}; copick writes "
                f"unsigned integers of at least {8 * floor} bits",
                "rewrite it with from_numpy(data) (dtype=None)",
            )
        if seg.segmentation_type in ("binary", "instance") and seg.name not in self.ctx.objects:
            self.add(
                "warning",
                "unknown-object",
                f"segmentation of {seg.name!r}, which is not an object of the config",
                f"add {seg.name!r} to the config's pickable_objects, or delete the segmentation",
            )
        if dtype.kind not in "biu" or not samples:
            return
        if seg.segmentation_type == "panoptic":
            values = set().union(*(np.unique(a).tolist() for k, a in samples if k.split("/")[1] == "0"))
        else:
            values = set().union(*(np.unique(a).tolist() for _, a in samples))
        if seg.segmentation_type == "binary":
            unknown = sorted(values - {0, 1})
            what = "values other than 0 and 1 in a binary segmentation"
        elif seg.segmentation_type in ("multilabel", "panoptic"):
            unknown = sorted(values - {0} - self.ctx.labels)
            what = "labels that are no object's label in the config"
        else:
            return
        if unknown:
            shown = ", ".join(map(str, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
            self.add(
                "warning",
                "seg-labels",
                f"{what}: {shown} (in the sampled chunks)",
                "add objects with these labels to the config, or rewrite the segmentation",
            )
