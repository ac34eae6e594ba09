"""Every frontend and preset by name: factories of default instances.

:data:`FRONTENDS` maps a name to a function of no argument that builds a fresh instance at
its default (or published) setting. The parametrised tests, ``fbinit frontends`` and the
benchmark iterate over it; a new frontend registers itself with :func:`register`.

Examples
--------
>>> "leaf" in names() and create("leaf").n_filters == 40
True
"""

from __future__ import annotations

from collections.abc import Callable

from fbinit.errors import ParameterError
from fbinit.frontends.base import Frontend
from fbinit.frontends.conv import ConvFrontend
from fbinit.frontends.fixed import GammatoneFrontend, WaveletFrontend
from fbinit.frontends.gabor import GaborFrontend
from fbinit.frontends.multires import MultiresFrontend
from fbinit.frontends.sinc import SincFrontend
from fbinit.frontends.stft import MelFrontend, STFTFrontend

__all__ = ["FRONTENDS", "create", "names", "register"]

#: name -> factory of a default instance (insertion order is the listing order)
FRONTENDS: dict[str, Callable[[], Frontend]] = {}


def register(name: str, factory: Callable[[], Frontend]) -> None:
    """Add a frontend under ``name`` (an error if the name is taken)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name={name!r} must be a non-empty string")
    if name in FRONTENDS:
        raise ParameterError(f"name={name!r} must be new: it is already registered")
    if not callable(factory):
        raise TypeError(f"factory for {name!r} must be callable")
    FRONTENDS[name] = factory


def names() -> list[str]:
    """The registered names, in listing order."""
    return list(FRONTENDS)


def create(name: str) -> Frontend:
    """A fresh default instance of the frontend registered under ``name``."""
    if name not in FRONTENDS:
        raise ParameterError(f"name={name!r} must be one of {', '.join(map(repr, FRONTENDS))}")
    return FRONTENDS[name]()


register("conv-gaussian", lambda: ConvFrontend(40, 401, init="gaussian", seed=0))
register("conv-kaiming", lambda: ConvFrontend(40, 401, init="kaiming", seed=0))
register("conv-tight", lambda: ConvFrontend(40, 401, init="tight", seed=0))
register("td-filterbank", ConvFrontend.td_filterbank)
register("gabor", GaborFrontend)
register("leaf", GaborFrontend.leaf)
register("sinc", SincFrontend)
register("sincnet", SincFrontend.sincnet)
register("multires", MultiresFrontend)
register("stft", STFTFrontend)
register("mel", MelFrontend)
register("cqt", WaveletFrontend)
register("vqt", WaveletFrontend.vqt)
register("gammatone", GammatoneFrontend)
