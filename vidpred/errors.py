"""The base of vidpred's own errors that are not ``ValueError`` or ``OSError`` but are
still the user's to fix (a video that cannot be decoded, a run another process holds):
scripts report them in one line, like those (``vidpred.cli``)."""

from __future__ import annotations

__all__ = ["ExpectedFailure"]


class ExpectedFailure(Exception):
    """Mixed into an error class whose instances are expected failures, not bugs."""
