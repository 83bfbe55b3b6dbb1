"""Exception types of copick: each subclasses the built-in type the reference raises,
so existing ``except ValueError`` code keeps working, and each message names the file
or entity and the rule that was broken."""

from __future__ import annotations

import json


class CopickError(Exception):
    """Base class of every error raised by copick itself."""


class InvalidNameError(CopickError, ValueError):
    """A name breaks the naming rule that keeps copick file names parseable."""


class UnsafePathError(InvalidNameError):
    """A path that would leave its layer's root, or name the root itself, for a write or delete."""


class ConfigError(CopickError, ValueError):
    """A project configuration cannot be used (unknown type, unreadable root...)."""


class ConfigJSONError(ConfigError, json.JSONDecodeError):
    """The configuration file is not valid JSON."""

    def __init__(self, source: str, err: json.JSONDecodeError):
        json.JSONDecodeError.__init__(self, f"{source}: not valid JSON: {err.msg}", err.doc, err.pos)


class EntityExistsError(CopickError, ValueError):
    """An entity with the same identity already exists (pass ``exist_ok=True`` to reuse it)."""


class UnknownObjectError(CopickError, ValueError):
    """A pickable object name that the project config does not declare."""


class CorruptFileError(CopickError, ValueError):
    """A stored file cannot be parsed; the message names the file and what is wrong."""


class ReadOnlyError(CopickError, PermissionError):
    """An attempt to write or delete an entity of the read-only static layer."""


class InvalidDataError(CopickError, ValueError):
    """Array or point data that cannot be stored as given (shape, dtype, value range)."""


class MissingLevelError(CopickError, KeyError):
    """A multiscale level (or the whole image) is absent; a ``KeyError`` as in copick 1.31."""

    def __str__(self) -> str:  # KeyError would show the repr of its message
        return str(self.args[0]) if self.args else ""


class RegionTooLargeError(CopickError, ValueError):
    """A requested region would not fit into the available memory."""


class ReadOnlyStoreError(ReadOnlyError, ValueError):
    """A write or delete on a store opened read-only (static layer)."""


class MissingEntityError(CopickError, ValueError):
    """A run, voxel spacing or tomogram that does not exist and may not be created (``create=False``)."""


class StorageUnreachableError(CopickError, ConnectionError):
    """The server of a project layer cannot be reached (after a bounded retry); names the URL."""


class StorageAuthError(CopickError, PermissionError):
    """The server of a project layer refused the credentials; names the URL, never the secret."""


class ConcurrentWriteError(CopickError, ValueError):
    """Another live process is writing the same image; a ``ValueError`` as zarr's raw error was."""
