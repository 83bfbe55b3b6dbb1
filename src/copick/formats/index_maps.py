"""Index maps (``index,run_name``) and Dynamo tomolists (``index path``) linking tomogram indices to runs."""

from __future__ import annotations

import os

from copick.errors import CorruptFileError
from copick.formats.common import require_file


def _lines(path: str, what: str) -> list[tuple[int, str]]:
    path = require_file(path, what)
    try:
        with open(path, encoding="utf-8") as f:
            lines = [(i, line.strip()) for i, line in enumerate(f, start=1)]
    except UnicodeDecodeError:
        raise CorruptFileError(f"{path}: {what} is not a text file.") from None
    return [(i, line) for i, line in lines if line and not line.startswith("#")]


def _index(text: str, path: str, lineno: int) -> int:
    try:
        value = float(text)
    except ValueError:
        raise CorruptFileError(f"{path}: line {lineno}: tomogram index {text!r} is not a number.") from None
    if value != int(value):
        raise CorruptFileError(f"{path}: line {lineno}: tomogram index {text!r} is not an integer.")
    return int(value)


def read_index_map(path: str) -> dict[int, str]:
    """{tomogram index: run name} from a 2-column file without header, comma or tab separated.

    The delimiter is taken from the first line (tab if it holds one). Duplicate indices are a
    ``CorruptFileError`` (a ``ValueError``) naming the file and lines.
    """
    lines = _lines(path, "index map")
    if not lines:
        raise CorruptFileError(f"{path}: index map is empty (expected lines 'index,run_name').")
    delimiter = "\t" if "\t" in lines[0][1] else ","
    mapping: dict[int, str] = {}
    where: dict[int, int] = {}
    for lineno, line in lines:
        parts = [p.strip() for p in line.split(delimiter)]
        if len(parts) != 2 or not parts[1]:
            sep = "tab" if delimiter == "\t" else "comma"
            raise CorruptFileError(
                f"{path}: line {lineno}: expected 'index{delimiter}run_name' ({sep} separated), got {line!r}."
            )
        index = _index(parts[0], path, lineno)
        if index in mapping:
            raise CorruptFileError(
                f"{path}: tomogram index {index} appears twice (lines {where[index]} and {lineno})."
            )
        mapping[index], where[index] = parts[1], lineno
    return mapping


def read_index_map_inverse(path: str) -> dict[str, int]:
    """{run name: tomogram index} of an index map; a run named twice is a ``CorruptFileError``."""
    inverse: dict[str, int] = {}
    for index, run_name in read_index_map(path).items():
        if run_name in inverse:
            raise CorruptFileError(
                f"{path}: run {run_name!r} has two tomogram indices ({inverse[run_name]}, {index})."
            )
        inverse[run_name] = index
    return inverse


def run_name_from_tomogram_path(tomogram_path: str) -> str:
    """Run name of a tomogram file: basename without ``.mrc``/``.rec`` (else without the last extension)."""
    name = os.path.basename(tomogram_path.rstrip("/\\"))
    for ext in (".mrc", ".rec"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name.rsplit(".", 1)[0] if "." in name else name


def read_dynamo_tomolist_paths(path: str) -> dict[int, str]:
    """{tomogram index: tomogram path} of a Dynamo tomolist (whitespace-separated ``index path``)."""
    mapping: dict[int, str] = {}
    for lineno, line in _lines(path, "Dynamo tomolist"):
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise CorruptFileError(f"{path}: line {lineno}: expected 'index path', got {line!r}.")
        index = _index(parts[0], path, lineno)
        if index in mapping:
            raise CorruptFileError(f"{path}: tomogram index {index} appears twice (line {lineno}).")
        mapping[index] = parts[1].strip()
    if not mapping:
        raise CorruptFileError(f"{path}: Dynamo tomolist is empty (expected lines 'index path').")
    return mapping


def read_dynamo_tomolist(path: str) -> dict[int, str]:
    """{tomogram index: run name} of a Dynamo tomolist (run name from each tomogram's file name)."""
    return {i: run_name_from_tomogram_path(p) for i, p in read_dynamo_tomolist_paths(path).items()}
