"""Exporting project data to files: picks (CSV, STAR, EM, Dynamo), tomograms and segmentations (MRC, TIFF,
Zarr, EM). Coordinates follow CLI.md §6; every function checks its arguments before writing a file."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from copick.errors import CopickError
from copick.formats.common import EXPORT_EXTENSIONS, positive_voxel_size
from copick.formats.picks_json import PickArrays

__all__ = [
    "ExportError",
    "export",
    "export_picks",
    "export_picks_combined",
    "export_relion_particles",
    "export_run",
    "export_segmentation",
    "export_tomogram",
]

_log = logging.getLogger(__name__)
PICKS_FORMATS = ("csv", "star", "em", "dynamo")
VOLUME_FORMATS = ("mrc", "tiff", "zarr", "em")


class ExportError(CopickError, ValueError):
    """An export that cannot be done as asked (missing voxel size, index map, centre...)."""


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _open_root(config: Any) -> Any:
    if isinstance(config, (str, os.PathLike)):
        import copick

        return copick.from_file(str(config))
    return config


def _arrays(picks: Any) -> PickArrays:
    positions, transforms = picks.numpy()
    return PickArrays(positions, transforms, picks.instance_ids(), picks.scores())


def _concat(items: list[PickArrays]) -> PickArrays:
    if len(items) == 1:
        return items[0]
    if not items:
        return PickArrays.empty()
    fields = ("positions", "transforms", "instance_ids", "scores")
    return PickArrays(*(np.concatenate([getattr(a, f) for a in items]) for f in fields))


def _check_format(output_format: str, allowed: tuple[str, ...], what: str) -> str:
    fmt = {"tif": "tiff", "tbl": "dynamo", "relion": "star"}.get(str(output_format).lower(), output_format)
    if fmt not in allowed:
        raise ExportError(f"Unknown {what} output format {output_format!r} (one of {', '.join(allowed)}).")
    return fmt


def _is_dir_target(path: str) -> bool:
    return str(path).endswith(("/", os.sep)) or (os.path.isdir(path) and not str(path).endswith(".zarr"))


def picks_file_name(picks: Any, output_format: str) -> str:
    """``<run>_<object>_<user>_<session>.<ext>``: the per-run export file name of a pick set."""
    ext = EXPORT_EXTENSIONS[output_format]
    return f"{picks.run.name}_{picks.pickable_object_name}_{picks.user_id}_{picks.session_id}.{ext}"


def _is_filament(root: Any, object_name: str, filament_columns: str) -> bool:
    if filament_columns == "on":
        return True
    if filament_columns == "off":
        return False
    obj = root.get_object(object_name)
    return bool(getattr(obj, "is_filament", False)) if obj is not None else False


def _tomograms(tomograms_star: Any) -> dict[str, Any]:
    if not tomograms_star:
        return {}
    if isinstance(tomograms_star, dict):
        return tomograms_star
    from copick.formats.relion import read_relion_tomograms

    return read_relion_tomograms(str(tomograms_star))


def _star_options(
    run: Any,
    voxel_spacing: float | None,
    tilt_series_pixel_size: float | None,
    tomograms: dict[str, Any],
    tomo_type: str | None,
    coordinates: str,
    optics_group: int | None,
) -> Any:
    """What is known for one run's STAR export: pixel size, tomogram centre, optics group."""
    from copick.formats.relion import StarExportOptions, tomogram_center_from_run

    if coordinates not in ("auto", "centered"):
        raise ExportError(f"coordinates must be 'auto' or 'centered', got {coordinates!r}.")
    tomo = tomograms.get(run.name)
    pixel = tilt_series_pixel_size
    if pixel is None and tomo is not None:
        pixel = tomo.tilt_series_pixel_size
    center = tomo.center if tomo is not None else None
    if center is None:
        center = tomogram_center_from_run(run, voxel_spacing, tomo_type)
    if coordinates == "centered" and center is None:
        raise ExportError(
            f"run {run.name}: centred coordinates need the tomogram centre: give a tomograms.star with "
            "rlnTomoSize*, or have a tomogram in the run (--tomo-type, --voxel-size)."
        )
    if pixel is None and center is None and voxel_spacing is None:
        raise ExportError(
            f"run {run.name}: RELION export needs a tilt-series pixel size (--tilt-series-pixel-size or "
            "--tomograms-star), a tomogram centre, or --voxel-size (legacy pixel coordinates)."
        )
    return StarExportOptions(pixel, voxel_spacing, center, optics_group if pixel is not None else None)


# ------------------------------------------------------------------------------------------------
# picks
# ------------------------------------------------------------------------------------------------


def export_picks(
    picks: Any,
    output_path: str,
    output_format: str,
    voxel_spacing: float | None = None,
    include_optics: bool = True,
    run_name: str | None = None,
    tomogram_index: int = 1,
    log: bool = False,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_angles: str = "frame",
    half_sets: str | None = None,
) -> str:
    """Write one pick set to ``output_path`` (a file, or a folder to put ``picks_file_name`` in).

    EM and Dynamo need ``voxel_spacing`` (their coordinates are pixels); STAR writes the columns
    of CLI.md §6.3 (pixel coordinates when a pixel size is known, centred Angstrom coordinates
    when the tomogram centre is known). Returns the path written.
    """
    fmt = _check_format(output_format, PICKS_FORMATS, "picks")
    if fmt in ("em", "dynamo") and voxel_spacing is None:
        raise ExportError(
            f"{fmt} export needs the tomogram voxel size (--voxel-size): coordinates are pixels."
        )
    run = picks.run
    name = run_name or run.name
    path = (
        os.path.join(output_path, picks_file_name(picks, fmt)) if _is_dir_target(output_path) else output_path
    )
    arrays = _arrays(picks)
    if fmt == "csv":
        from copick.formats.picks_csv import write_picks_csv

        written = write_picks_csv(path, {name: arrays})
    elif fmt in ("em", "dynamo"):
        if len(arrays) == 0:
            raise ExportError(
                f"{picks.path if hasattr(picks, 'path') else name}: no points to export as {fmt}."
            )
        vs = positive_voxel_size(voxel_spacing, path)
        if fmt == "em":
            from copick.formats.em import write_em_motivelist

            written = write_em_motivelist(path, arrays, vs, tomogram_index)
        else:
            from copick.formats.dynamo import write_dynamo_table

            written = write_dynamo_table(path, arrays, vs, tomogram_index)
    else:
        from copick.formats import relion

        tomograms = _tomograms(tomograms_star)
        options = _star_options(
            run,
            voxel_spacing,
            tilt_series_pixel_size,
            tomograms,
            tomo_type,
            coordinates,
            1 if include_optics else None,
        )
        filament = _is_filament(run.root, picks.pickable_object_name, filament_columns)
        particles = relion.picks_to_relion_particles(
            arrays, name, options, filament, filament_angles, half_sets, path
        )
        optics = None
        if options.optics_group is not None:
            optics = relion.optics_table([(1, name, options.pixel_size, tomograms.get(run.name))])
        written = relion.write_star_particles(path, particles, optics)
    if log:
        _log.info(
            f"Exported {len(arrays)} picks of {picks.pickable_object_name} from run {name} to {written}"
        )
    return written


def _select_picks(root: Any, picks_uri: str, run_names: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    """(runs considered, {run name: matching pick sets}) for a picks URI."""
    from copick.util.uri import resolve_copick_objects

    if isinstance(run_names, str):
        run_names = [run_names]
    if run_names:
        runs = []
        for name in run_names:
            run = root.get_run(name)
            if run is None:
                raise ExportError(f"Run {name!r} not found in the project.")
            runs.append(run)
    else:
        runs = list(root.runs)
    selected = {}
    for run in runs:
        found = resolve_copick_objects(picks_uri, root, "picks", run_name=run.name)
        if found:
            selected[run.name] = found
    return runs, selected


def _run_indices(run_to_index: Any, names: list[str], fmt: str) -> dict[str, int]:
    from copick.formats.index_maps import read_index_map_inverse

    if run_to_index is None:
        raise ExportError(
            f"A combined {fmt} file needs an index map (--index-map): run name -> tomogram index."
        )
    mapping = (
        read_index_map_inverse(str(run_to_index))
        if isinstance(run_to_index, (str, os.PathLike))
        else {str(k): int(v) for k, v in dict(run_to_index).items()}
    )
    missing = [n for n in names if n not in mapping]
    if missing:
        raise ExportError(f"The index map has no tomogram index for run(s) {', '.join(missing)}.")
    return mapping


def export_relion_particles(
    root: Any,
    picks_uri: str,
    output_path: str,
    *,
    voxel_spacing: float | None = None,
    run_names: Any = None,
    layout: str = "particles",
    include_optics: bool = True,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    filament_angles: str = "frame",
    half_sets: str | None = None,
    allow_empty: bool = False,
    log: bool = False,
) -> dict[str, Any]:
    """One RELION particles STAR for every selected run (``layout="particles"``), or a
    ``data_coordinate_files`` index plus one STAR per run under ``coordinates/`` (``layout="import"``).

    Returns ``{"path", "particles", "runs", "total_runs", "files"}``.
    """
    import pandas as pd

    from copick.formats import relion

    if layout not in ("particles", "import"):
        raise ExportError(f"star layout must be 'particles' or 'import', got {layout!r}.")
    root = _open_root(root)
    runs, selected = _select_picks(root, picks_uri, run_names)
    tomograms = _tomograms(tomograms_star)
    tables, optics_rows, counts = [], [], {}
    for group, run in enumerate((r for r in runs if r.name in selected), start=1):
        arrays = _concat([_arrays(p) for p in selected[run.name]])
        options = _star_options(
            run,
            voxel_spacing,
            tilt_series_pixel_size,
            tomograms,
            tomo_type,
            coordinates,
            group if include_optics else None,
        )
        filament = _is_filament(root, selected[run.name][0].pickable_object_name, filament_columns)
        tables.append(
            (
                run.name,
                relion.picks_to_relion_particles(
                    arrays, run.name, options, filament, filament_angles, half_sets, output_path
                ),
            )
        )
        if options.optics_group is not None:
            optics_rows.append((group, run.name, options.pixel_size, tomograms.get(run.name)))
        counts[run.name] = len(arrays)
    total = sum(counts.values())
    if total == 0 and not allow_empty:
        raise ExportError(
            f"No picks match {picks_uri!r} in the selected runs; nothing written to {output_path}."
        )
    files = []
    if layout == "particles":
        particles = pd.concat([t for _, t in tables], ignore_index=True) if tables else pd.DataFrame()
        optics = relion.optics_table(optics_rows) if optics_rows else None
        files.append(relion.write_star_particles(output_path, particles, optics))
    else:
        folder = os.path.join(os.path.dirname(os.path.abspath(output_path)), "coordinates")
        entries = {}
        for name, table in tables:
            path = os.path.join(folder, f"{name}.star")
            rows = [r for r in optics_rows if r[1] == name]
            optics = relion.optics_table(rows) if rows else None
            files.append(relion.write_star_particles(path, table, optics))
            entries[name] = os.path.relpath(path, os.path.dirname(os.path.abspath(output_path)))
        files.insert(0, relion.write_star_import_index(output_path, entries))
    message = (
        f"Exported {total} particles from {len(tables)} of {len(runs)} runs to RELION "
        f"({layout} layout): {output_path}"
    )
    if log:
        _log.info(message)
    return {
        "path": output_path,
        "particles": total,
        "runs": len(tables),
        "total_runs": len(runs),
        "files": files,
    }


def export_picks_combined(
    config: Any,
    output_file: str,
    picks_uri: str,
    output_format: str,
    voxel_spacing: float | None = None,
    run_names: Any = None,
    run_to_index: Any = None,
    include_optics: bool = True,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    log: bool = False,
    star_layout: str = "particles",
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    filament_angles: str = "frame",
    half_sets: str | None = None,
    allow_empty: bool = True,
) -> str | None:
    """Write the picks of every selected run into one file; EM/Dynamo need ``run_to_index`` (a dict or
    an index-map path) and ``voxel_spacing``. Returns the path written (None when there are no picks
    for EM/Dynamo, which cannot hold an empty list; logged)."""
    fmt = _check_format(output_format, PICKS_FORMATS, "picks")
    root = _open_root(config)
    if fmt == "star":
        result = export_relion_particles(
            root,
            picks_uri,
            output_file,
            voxel_spacing=voxel_spacing,
            run_names=run_names,
            layout=star_layout,
            include_optics=include_optics,
            tilt_series_pixel_size=tilt_series_pixel_size,
            tomograms_star=tomograms_star,
            tomo_type=tomo_type,
            coordinates=coordinates,
            filament_columns=filament_columns,
            filament_angles=filament_angles,
            half_sets=half_sets,
            allow_empty=allow_empty,
            log=log,
        )
        return result["path"]
    if fmt in ("em", "dynamo") and voxel_spacing is None:
        raise ExportError(
            f"{fmt} export needs the tomogram voxel size (--voxel-size): coordinates are pixels."
        )
    runs, selected = _select_picks(root, picks_uri, run_names)
    groups = {name: _concat([_arrays(p) for p in items]) for name, items in selected.items()}
    if fmt == "csv":
        from copick.formats.picks_csv import write_picks_csv

        written = write_picks_csv(output_file, groups)
    else:
        indices = _run_indices(run_to_index, list(groups), fmt)
        by_index = {indices[name]: arrays for name, arrays in groups.items() if len(arrays)}
        if not by_index:
            _log.warning(f"No picks match {picks_uri!r} in the selected runs; {output_file} not written.")
            return None
        vs = positive_voxel_size(voxel_spacing, output_file)
        if fmt == "em":
            from copick.formats.em import write_em_motivelist_grouped

            written = write_em_motivelist_grouped(output_file, by_index, vs)
        else:
            from copick.formats.dynamo import write_dynamo_table_grouped

            written = write_dynamo_table_grouped(output_file, by_index, vs)
    if log:
        total = sum(len(a) for a in groups.values())
        _log.info(f"Exported {total} picks from {len(groups)} of {len(runs)} runs to {written}")
    return written


# ------------------------------------------------------------------------------------------------
# volumes
# ------------------------------------------------------------------------------------------------


def _level_voxel_size(entity: Any, level: int) -> float:
    from copick.formats import ome
    from copick.util.ome import get_voxel_size_from_zarr

    try:
        import zarr

        attrs = zarr.open_group(store=entity.zarr(), mode="r").attrs.asdict()
        datasets = attrs["multiscales"][0]["datasets"]
        ds = next(d for d in datasets if str(d["path"]) == str(level))
        scale = next(t["scale"] for t in ds["coordinateTransformations"] if t.get("type") == "scale")
        base = ome.voxel_size_from_attrs(attrs)
        first = datasets[0]["coordinateTransformations"][0]["scale"]
        return base * float(scale[-3]) / float(first[-3])
    except (KeyError, IndexError, StopIteration, TypeError, ValueError):
        return float(get_voxel_size_from_zarr(entity.zarr())) * 2 ** int(level)


def _all_levels(entity: Any) -> tuple[list[str], list[np.ndarray], list[float], tuple[int, ...]]:
    import zarr

    group = zarr.open_group(store=entity.zarr(), mode="r")
    datasets = group.attrs.asdict()["multiscales"][0]["datasets"]
    keys = [str(d["path"]) for d in datasets]
    arrays = [np.asarray(group[k][...]) for k in keys]
    return keys, arrays, [_level_voxel_size(entity, int(k)) for k in keys], tuple(group[keys[0]].chunks)


def _write_zarr(entity: Any, path: str, level: int, copy_all_levels: bool) -> str:
    from copick.formats import ome
    from copick.formats.zarr_files import write_zarr_volume

    if copy_all_levels:
        _, arrays, sizes, chunks = _all_levels(entity)
    else:
        arr = ome.open_level(entity.zarr(), str(level))
        arrays, sizes, chunks = [np.asarray(arr[...])], [_level_voxel_size(entity, level)], tuple(arr.chunks)
    return write_zarr_volume(path, arrays, sizes, chunks=chunks, channel_axis=arrays[0].ndim == 4)


def _volume_path(output_path: str, name: str, fmt: str) -> str:
    if _is_dir_target(output_path):
        return os.path.join(output_path, f"{name}.{EXPORT_EXTENSIONS[fmt]}")
    return output_path


def export_tomogram(
    tomogram: Any,
    output_path: str,
    output_format: str,
    level: int = 0,
    compression: str | None = None,
    copy_all_levels: bool = True,
    log: bool = False,
) -> str:
    """Write one level of a tomogram as MRC/TIFF/EM (float32, voxel size ``vs * 2^level``) or the image as
    OME-Zarr (all levels, or only ``level`` with ``copy_all_levels=False``). Returns the path."""
    fmt = _check_format(output_format, VOLUME_FORMATS, "tomogram")
    path = _volume_path(output_path, tomogram.tomo_type, fmt)
    if fmt == "zarr":
        written = _write_zarr(tomogram, path, level, copy_all_levels)
    else:
        data = np.asarray(tomogram.numpy(str(level)), dtype=np.float32)
        vs = _level_voxel_size(tomogram, level)
        written = _write_volume(path, fmt, data, vs, compression, np.float32)
    if log:
        _log.info(f"Exported tomogram {tomogram.tomo_type} (level {level}) to {written}")
    return written


def _write_volume(
    path: str, fmt: str, data: np.ndarray, vs: float, compression: str | None, dtype: Any
) -> str:
    if fmt == "mrc":
        from copick.formats.mrc import write_mrc_volume

        return write_mrc_volume(path, data, vs, dtype=dtype)
    if fmt == "tiff":
        from copick.formats.tiff import write_tiff_volume

        return write_tiff_volume(path, data, vs, compression=compression)
    from copick.formats.em import write_em_volume

    return write_em_volume(path, data, dtype=dtype)


def _segmentation_dtype(data: np.ndarray, fmt: str, path: str) -> Any:
    from copick.formats.mrc import FLOAT32_EXACT, segmentation_mrc_dtype

    if fmt == "mrc":
        return segmentation_mrc_dtype(data, path)
    if fmt == "em":
        if data.size and data.max() > FLOAT32_EXACT:
            return np.int32
        return np.float32
    return None


def segmentation_file_name(
    segmentation: Any, channel: str | None = None, with_voxel_size: bool = False
) -> str:
    """``<name>_<user>_<session>[_label|_instance]`` (``<vs>_`` first when spacings would collide)."""
    name = f"{segmentation.name}_{segmentation.user_id}_{segmentation.session_id}"
    if with_voxel_size:
        name = f"{segmentation.voxel_size:.3f}_{name}"
    return f"{name}_{channel}" if channel else name


def export_segmentation(
    segmentation: Any,
    output_path: str,
    output_format: str,
    level: int = 0,
    compression: str | None = None,
    copy_all_levels: bool = True,
    log: bool = False,
    channel: str | None = None,
) -> str:
    """Write a segmentation level as MRC (int16/uint16/float32), EM (float32/int32), TIFF or OME-Zarr.

    Panoptic segmentations export one ``channel`` (``label``/``instance``) to MRC/EM; TIFF and Zarr
    can hold both channels. Returns the path.
    """
    fmt = _check_format(output_format, VOLUME_FORMATS, "segmentation")
    if channel is not None and channel not in ("label", "instance"):
        raise ExportError(f"channel must be 'label' or 'instance', got {channel!r}.")
    if channel is not None and not segmentation.is_panoptic:
        raise ExportError(
            f"channel is only valid for panoptic segmentations, {segmentation.name} is not one."
        )
    if segmentation.is_panoptic and channel is None and fmt in ("mrc", "em"):
        raise ExportError(f"A panoptic segmentation has two channels; choose one for {fmt} (--channel).")
    path = _volume_path(output_path, segmentation_file_name(segmentation, channel), fmt)
    if fmt == "zarr" and channel is None:
        written = _write_zarr(segmentation, path, level, copy_all_levels)
    else:
        data = np.asarray(segmentation.numpy(str(level), channel=channel))
        vs = _level_voxel_size(segmentation, level)
        if fmt == "zarr":
            from copick.formats.zarr_files import write_zarr_volume

            written = write_zarr_volume(path, [data], vs)
        else:
            written = _write_volume(path, fmt, data, vs, compression, _segmentation_dtype(data, fmt, path))
    if log:
        _log.info(f"Exported segmentation {segmentation.name} (level {level}) to {written}")
    return written


# ------------------------------------------------------------------------------------------------
# runs and projects
# ------------------------------------------------------------------------------------------------


def export_run(
    run: Any,
    output_dir: str,
    picks_uri: str | None = None,
    segmentation_uri: str | None = None,
    tomogram_uri: str | None = None,
    output_format: str | None = None,
    voxel_spacing: float | None = None,
    include_optics: bool = True,
    tilt_series_pixel_size: float | None = None,
    tomograms_star: Any = None,
    run_to_index: Any = None,
    level: int = 0,
    compression: str | None = None,
    copy_all_levels: bool = True,
    channel: str | None = None,
    tomo_type: str | None = None,
    coordinates: str = "auto",
    filament_columns: str = "auto",
    polarity_from_filaments: bool = True,
    filaments_uri: str | None = None,
    filament_angles: str = "frame",
    half_sets: str | None = None,
    log: bool = False,
) -> dict[str, Any]:
    """Export the picks, segmentations and tomograms of one run that the URIs select.

    Files: ``<out>/<run>_<object>_<user>_<session>.<ext>`` (picks),
    ``<out>/<run>/VoxelSpacing<vs>/<type>.<ext>`` (tomograms),
    ``<out>/<run>/Segmentations/<name>_<user>_<session>[_channel].<ext>`` (segmentations; the voxel
    size is prepended when two spacings of one segmentation would share a name). Failures are
    collected in ``errors``; empty pick sets that EM/Dynamo cannot hold are listed in ``skipped``.
    """
    from copick import layout
    from copick.util.uri import resolve_copick_objects

    if output_format is None:
        raise ExportError("output_format is required.")
    result: dict[str, Any] = {"picks": 0, "segmentations": 0, "tomograms": 0, "errors": [], "skipped": []}
    index = 1
    if run_to_index is not None:
        indices = (
            _run_indices(run_to_index, [], "picks") if not isinstance(run_to_index, dict) else run_to_index
        )
        index = int(indices.get(run.name, 1))
    root = run.root
    if picks_uri:
        star_args = dict(
            include_optics=include_optics,
            tilt_series_pixel_size=tilt_series_pixel_size,
            tomograms_star=_tomograms(tomograms_star),
            tomo_type=tomo_type,
            coordinates=coordinates,
            filament_columns=filament_columns,
            filament_angles=filament_angles,
            half_sets=half_sets,
        )
        for picks in resolve_copick_objects(picks_uri, root, "picks", run_name=run.name):
            label = f"picks {picks.pickable_object_name}:{picks.user_id}/{picks.session_id} of run {run.name}"
            if output_format in ("em", "dynamo") and len(picks.numpy()[0]) == 0:
                result["skipped"].append(f"{label}: no points ({output_format} files need at least one)")
                continue
            try:
                export_picks(
                    picks,
                    output_dir + os.sep,
                    output_format,
                    voxel_spacing,
                    tomogram_index=index,
                    log=log,
                    **star_args,
                )
                result["picks"] += 1
            except Exception as err:
                result["errors"].append(f"{label}: {err}")
    if segmentation_uri:
        segs = resolve_copick_objects(segmentation_uri, root, "segmentation", run_name=run.name)
        names = [segmentation_file_name(s, channel) for s in segs]
        folder = os.path.join(output_dir, run.name, "Segmentations")
        for seg, name in zip(segs, names):
            clash = names.count(name) > 1
            if clash:
                _log.warning(
                    f"run {run.name}: segmentation {name} exists at several voxel sizes; "
                    "the voxel size is prepended to the file names."
                )
            ext = EXPORT_EXTENSIONS.get(output_format, output_format)
            path = os.path.join(folder, f"{segmentation_file_name(seg, channel, clash)}.{ext}")
            try:
                export_segmentation(
                    seg, path, output_format, level, compression, copy_all_levels, log, channel
                )
                result["segmentations"] += 1
            except Exception as err:
                result["errors"].append(f"segmentation {name} of run {run.name}: {err}")
    if tomogram_uri:
        for tomogram in resolve_copick_objects(tomogram_uri, root, "tomogram", run_name=run.name):
            vs_dir = layout.voxel_spacing_dirname(tomogram.voxel_spacing.voxel_size)
            ext = EXPORT_EXTENSIONS.get(output_format, output_format)
            path = os.path.join(output_dir, run.name, vs_dir, f"{tomogram.tomo_type}.{ext}")
            try:
                export_tomogram(tomogram, path, output_format, level, compression, copy_all_levels, log)
                result["tomograms"] += 1
            except Exception as err:
                result["errors"].append(
                    f"tomogram {tomogram.tomo_type}@{tomogram.voxel_spacing.voxel_size} "
                    f"of run {run.name}: {err}"
                )
    return result


def export(
    config: Any,
    output_dir: str,
    run_names: Any = None,
    picks_uri: str | None = None,
    segmentation_uri: str | None = None,
    tomogram_uri: str | None = None,
    output_format: str | None = None,
    n_workers: int = 8,
    log: bool = False,
    show_progress: bool = True,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """``export_run`` over the selected runs (all by default) in threads; one result dict per run.

    A run that failed as a whole gives ``{"picks": 0, ..., "errors": [message]}``.
    """
    from copick.ops.run import map_runs

    if output_format is None:
        raise ExportError("output_format is required.")
    if output_format in ("em", "dynamo") and picks_uri and kwargs.get("voxel_spacing") is None:
        raise ExportError(f"{output_format} export needs the tomogram voxel size (--voxel-size).")
    root = _open_root(config)
    if kwargs.get("tomograms_star"):
        kwargs["tomograms_star"] = _tomograms(kwargs["tomograms_star"])
    if isinstance(run_names, str):
        run_names = [run_names]
    if run_names:
        missing = [n for n in run_names if root.get_run(n) is None]
        if missing:
            raise ExportError(f"Run(s) {', '.join(missing)} not found in the project.")
        runs: list[Any] = list(run_names)
    else:
        runs = [r.name for r in root.runs]
    results = map_runs(
        export_run,
        root,
        runs,
        workers=n_workers,
        show_progress=show_progress,
        task_desc="Exporting data",
        output_dir=output_dir,
        picks_uri=picks_uri,
        segmentation_uri=segmentation_uri,
        tomogram_uri=tomogram_uri,
        output_format=output_format,
        log=log,
        **kwargs,
    )
    out = []
    for name in runs:
        result = results.get(name)
        if result is None:
            result = {
                "picks": 0,
                "segmentations": 0,
                "tomograms": 0,
                "skipped": [],
                "errors": [f"Run {name} failed completely"],
            }
        result["run"] = name
        out.append(result)
    return out
