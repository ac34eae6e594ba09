"""Constructors of fixed filterbanks, each returning a :class:`fbinit.Filterbank`."""

from fbinit.banks.random import gaussian

__all__ = ["gaussian"]
