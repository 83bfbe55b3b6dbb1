"""Upstream path of the terminal browser's launcher (``copick browse``)."""

from copick.cli.browser import launch_app

__all__ = ["launch_app"]
