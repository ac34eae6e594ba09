"""The one exception family of fbinit.

Messages follow the template ``name=value must be <rule>``, naming what to change.
"""

from __future__ import annotations

__all__ = ["FbinitError", "ParameterError", "AudioError"]


class FbinitError(Exception):
    """Base class of every error raised by fbinit."""


class ParameterError(FbinitError, ValueError):
    """A parameter has a value outside its rule (wrong type errors raise ``TypeError``)."""


class AudioError(FbinitError, OSError):
    """An audio file cannot be read: missing, unreadable, truncated or unsupported."""
