"""From a layer's URL and ``fs_args`` to a filesystem: which class serves which protocol, which
protocols are read-only, and one clear error (URL named, secrets never) when a server cannot be
reached or refuses the credentials."""

from __future__ import annotations

import urllib.parse
from typing import Any

from copick.errors import ConfigError, StorageAuthError, StorageUnreachableError

# Protocols that hold a connection (a session the server can drop): opened through
# ``copick.util.reconnecting_fs.ReconnectingFileSystem``.
CONNECTED_PROTOCOLS = frozenset({"ssh", "sftp", "smb"})

# Protocols of the machine itself: never cached.
LOCAL_PROTOCOLS = frozenset({"file", "local", "memory"})

# Protocols copick can only read: a layer on them refuses every write (``ReadOnlyError``).
READ_ONLY_PROTOCOLS = frozenset({"http", "https", "zip", "tar"})

# fs_args keys that are secrets (masked in every message).
_SECRET_KEYS = ("password", "passphrase", "secret", "token", "key", "client_keys")

# Class names of errors that mean "the credentials were refused" / "the server is not there".
_AUTH_ERRORS = frozenset({"PermissionDenied", "LogonFailure", "SMBAuthenticationError", "AccessDenied"})
_UNREACHABLE_ERRORS = frozenset(
    {"ConnectionError", "gaierror", "TimeoutError", "FSTimeoutError", "DisconnectError", "ConnectionLost"}
)


def protocol_of(url: str) -> str:
    """The protocol of the outermost filesystem of ``url`` (``file`` for a plain path)."""
    first = url.split("::", 1)[0]
    return first.split("://", 1)[0].lower() if "://" in first else "file"


def is_read_only(url: str) -> bool:
    return protocol_of(url) in READ_ONLY_PROTOCOLS


def make_filesystem(url: str, fs_args: dict[str, Any] | None = None) -> tuple[Any, str]:
    """A new filesystem for ``url`` (copick's own classes for SFTP, SMB and HTTP) and the path
    of ``url`` on it. Never an fsspec-cached instance for connected protocols: a reconnect must
    get a new connection."""
    fs_args = dict(fs_args or {})
    protocol = protocol_of(url)
    if protocol in ("ssh", "sftp"):
        from copick.remote.sftp import SFTPFileSystem

        cls: Any = SFTPFileSystem
    elif protocol == "smb":
        from copick.remote.smb import SMBFileSystem

        cls = SMBFileSystem
    elif protocol == "zip" and "::" in url:
        from copick.remote.archive import open_zip

        return open_zip(url, fs_args)
    elif protocol in ("http", "https") and "::" not in url:
        from copick.remote.http import HTTPFileSystem

        cls = HTTPFileSystem
    else:
        import fsspec.core

        return fsspec.core.url_to_fs(url, **fs_args)
    options = {**cls._get_kwargs_from_urls(url), **fs_args}
    if protocol in CONNECTED_PROTOCOLS:
        options["skip_instance_cache"] = True
    return cls(**options), cls._strip_protocol(url)


def open_filesystem(url: str, fs_args: dict[str, Any] | None = None) -> tuple[Any, str, bool]:
    """``(filesystem, root path, read_only)`` of a layer at ``url``. SFTP and SMB layers come
    wrapped in a ``ReconnectingFileSystem``; HTTP(S) and zip layers are read-only."""
    from copick.remote import cache, cached_fs

    fs_args = dict(fs_args or {})
    protocol = protocol_of(url)
    cache_settings = cache.settings_from(fs_args)
    fs_args.pop(cache.FS_ARGS_KEY, None)
    try:
        if protocol in CONNECTED_PROTOCOLS:
            from copick.util.reconnecting_fs import ReconnectingFileSystem

            skip = bool(fs_args.get("skip_instance_cache"))
            fs: Any = ReconnectingFileSystem(url, fs_args, skip_instance_cache=skip)
            path = fs._strip_protocol(url)
        else:
            fs, path = make_filesystem(url, fs_args)
    except (StorageUnreachableError, StorageAuthError):
        raise
    except Exception as err:
        raise _open_error(url, fs_args, err) from err
    if cache_settings is not None and protocol not in LOCAL_PROTOCOLS:
        # One per layer (not fsspec's shared instance): its folder listings are this layer's.
        fs = cached_fs.CachedFileSystem(
            fs, cache_settings, cache_place(url, fs_args), skip_instance_cache=True
        )
    return fs, path, protocol in READ_ONLY_PROTOCOLS


def cache_place(url: str, fs_args: dict[str, Any]) -> str:
    """What the on-disk cache keys a layer's files by (with their absolute paths): the server, or
    the whole URL of an archive; never a secret."""
    if protocol_of(url) in READ_ONLY_PROTOCOLS - {"http", "https"}:
        return redact(url)
    endpoint = fs_args.get("endpoint_url") or (fs_args.get("client_kwargs") or {}).get("endpoint_url") or ""
    return f"{server_of(url, fs_args)}|{endpoint}"


def _open_error(url: str, fs_args: dict[str, Any], err: Exception) -> Exception:
    where = redact(url)
    reason = mask_secrets(f"{type(err).__name__}: {err}", {**fs_args, **_url_secrets(url)})
    names = _error_names(err)
    if names & _AUTH_ERRORS or (isinstance(err, PermissionError) and protocol_of(url) in CONNECTED_PROTOCOLS):
        user = fs_args.get("username") or urllib.parse.urlsplit(url.split("::", 1)[0]).username
        who = f" for user {user!r}" if user else ""
        return StorageAuthError(
            f"Cannot log in to {where}: the server refused the credentials{who} ({reason}). "
            "Check the user name and the password or key in the config's fs_args."
        )
    if names & _UNREACHABLE_ERRORS:
        return StorageUnreachableError(
            f"Cannot connect to {where}: {reason}. Check that the server is running and reachable."
        )
    if isinstance(err, (ValueError, ImportError, TypeError)):
        return ConfigError(f"Cannot open project root {where}: {reason}")
    return err


def _error_names(err: BaseException) -> set[str]:
    """Class names of ``err`` and of the errors it was raised from."""
    names: set[str] = set()
    seen: BaseException | None = err
    for _ in range(4):
        if seen is None:
            break
        names.update(cls.__name__ for cls in type(seen).__mro__)
        seen = seen.__cause__ or seen.__context__
    return names


def redact(url: str) -> str:
    """``url`` with any password removed from every ``::``-chained part."""
    parts = []
    for part in url.split("::"):
        split = urllib.parse.urlsplit(part) if "://" in part else None
        if split is not None and split.password is not None:
            host = split.hostname or ""
            netloc = (f"{split.username}@" if split.username else "") + host
            netloc += f":{split.port}" if split.port else ""
            part = urllib.parse.urlunsplit((split.scheme, netloc, split.path, split.query, split.fragment))
        parts.append(part)
    return "::".join(parts)


def server_of(url: str, fs_args: dict[str, Any] | None = None) -> str:
    """``protocol://[user@]host[:port]`` of ``url`` (user and port from ``fs_args`` too), no secrets."""
    fs_args = fs_args or {}
    split = urllib.parse.urlsplit(url.split("::", 1)[0])
    user = fs_args.get("username") or split.username
    port = fs_args.get("port") or split.port
    netloc = (f"{user}@" if user else "") + (fs_args.get("host") or split.hostname or "")
    netloc += f":{port}" if port else ""
    return f"{split.scheme}://{netloc}"


def _url_secrets(url: str) -> dict[str, str]:
    out = {}
    for i, part in enumerate(url.split("::")):
        if "://" in part:
            password = urllib.parse.urlsplit(part).password
            if password:
                out[f"password{i}"] = password
    return out


def mask_secrets(text: str, fs_args: dict[str, Any]) -> str:
    """``text`` with every secret value of ``fs_args`` (passwords, keys; nested too) replaced."""
    for value in _secret_values(fs_args):
        text = text.replace(value, "***")
    return text


def _secret_values(args: Any) -> list[str]:
    found: list[str] = []
    if isinstance(args, dict):
        for key, value in args.items():
            if isinstance(value, (dict, list, tuple)):
                found.extend(_secret_values(value))
            elif isinstance(value, str) and value and any(s in str(key).lower() for s in _SECRET_KEYS):
                found.append(value)
    elif isinstance(args, (list, tuple)):
        for value in args:
            found.extend(_secret_values(value))
    return [v for v in found if len(v) >= 3]
