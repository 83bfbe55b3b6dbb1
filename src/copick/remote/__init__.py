"""Remote project layers: SFTP, SMB, read-only HTTP(S) and zip archives, reconnects, and the
optional on-disk cache of remote files.

``opening``  URL + ``fs_args`` -> filesystem, protocol classes (connected, read-only), clear errors
``sftp``     sshfs made fit for copick (level-by-level listings, SFTP copies, lazy parent folders)
``smb``      fsspec's SMB filesystem with its own connection, one-query listings, replacing renames
``http``     fsspec's HTTP filesystem with level-by-level listings of index pages
``walk``     the level-by-level recursive listing these share

The reconnecting wrapper lives at ``copick.util.reconnecting_fs`` (where copick 1.31 users import
it). Nothing here is imported by ``import copick``.
"""

from copick.remote.opening import open_filesystem

__all__ = ["open_filesystem"]
