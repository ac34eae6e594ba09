r"""Adapters for asteroid-filterbanks: its ``Filterbank`` subclasses and ``Encoder``.

An asteroid filterbank's ``filters()`` is one bank of shape (n_filters, 1, kernel_size),
applied by ``Encoder(fb)`` as one ``conv1d`` at ``fb.stride`` with ``padding`` zeros on
each side: it is read as that bank, never as n_filters banks of one filter. Several
families stack real parts over imaginary parts: ``ParamSincFB`` (cos filters, then sin
filters: 80 filters are 40 bands), ``AnalyticFreeFB`` (free filters, then their Hilbert
transforms) and ``STFTFB`` with its subclasses (real parts of the DFT atoms, then
imaginary parts). Those are read as complex filters, half as many, whose real and
imaginary parts are the two halves: on real signals the two readings have the same frame
bounds, and the complex one counts bands. ``MelGramFB`` adds a mel matrix applied to the
magnitude of the STFT (its ``mel_scale.fb_mat``).

Filterbanks whose ``pre_analysis`` or ``post_analysis`` do more than that (e.g.
``TorchSTFTFB``'s centring and rescaling) are probed through their encoder instead.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch

from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted
from fbinit.frontends.adapters.probe import probe_module

__all__ = ["encoder", "filterbank"]

#: families whose filters() stack real parts over imaginary parts
_HALVES = ("ParamSincFB", "AnalyticFreeFB", "STFTFB")


def _named(obj: Any, names: tuple[str, ...]) -> bool:
    return any(cls.__name__ in names for cls in type(obj).__mro__)


def _base(obj: Any) -> type:
    """asteroid's Filterbank base class, found in the object's MRO (no import needed)."""
    return next(c for c in type(obj).__mro__ if c.__name__ == "Filterbank")


def _plain_analysis(fb: Any) -> bool:
    """Whether pre_analysis and post_analysis are asteroid's identities (or MelGramFB's mel)."""
    base = _base(fb)
    pre = type(fb).pre_analysis is base.pre_analysis
    post = type(fb).post_analysis is base.post_analysis or type(fb).__name__ == "MelGramFB"
    return pre and post


def _read(fb: Any, filters: torch.Tensor, padding: int, sample_rate: float | None) -> Adapted:
    weights = filters[:, 0, :]
    if _named(fb, _HALVES):
        half = weights.shape[0] // 2
        weights = torch.complex(weights[:half], weights[half : 2 * half])
    rate = sample_rate if sample_rate is not None else float(fb.sample_rate)
    bank = Filterbank(weights, stride=int(fb.stride), sample_rate=rate, name=type(fb).__name__)
    pads = ((padding, padding, "constant"),) if padding else ()
    if type(fb).__name__ == "MelGramFB":
        return Adapted(bank, padding=pads, projection=fb.mel_scale.fb_mat[0], power=1.0)
    return Adapted(bank, padding=pads)


def filterbank(fb: Any, *, sample_rate: float | None = None) -> Adapted:
    """An asteroid ``Filterbank`` as the bank its ``Encoder`` applies (without padding)."""
    if not _plain_analysis(fb):
        return encoder(_encoder_class(fb)(fb), sample_rate=sample_rate)
    return _read(fb, fb.filters(), 0, sample_rate)


def encoder(enc: Any, *, sample_rate: float | None = None) -> Adapted:
    """An asteroid ``Encoder``: its filterbank's filters (or their pseudo-inverse), stride and
    zero padding."""
    fb = enc.filterbank
    if not _plain_analysis(fb):
        rate = sample_rate if sample_rate is not None else float(fb.sample_rate)
        return probe_module(enc, sample_rate=rate)
    return _read(fb, enc.get_filters(), int(enc.padding), sample_rate)


def _encoder_class(fb: Any) -> type:
    return importlib.import_module(type(fb).__module__.split(".")[0]).Encoder


ADAPTERS = {"Encoder": encoder, "Filterbank": filterbank}
