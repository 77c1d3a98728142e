"""Errors for data that cannot be used as configured (shown to the user without a traceback)."""

from __future__ import annotations


class DataError(ValueError):
    """A dataset that cannot be used as configured: missing, empty, too small or unreadable."""
