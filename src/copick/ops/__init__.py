"""Whole-project operations, usable from Python and by the ``copick`` command."""
