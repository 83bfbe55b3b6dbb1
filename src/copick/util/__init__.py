"""Helpers that downstream packages import from ``copick.util``."""
