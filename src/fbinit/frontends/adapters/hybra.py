r"""Adapters for hybra (HybrA-Filterbanks): ``ISAC`` and ``HybrA``.

Both compute a circular convolution by FFT, ``circ_conv(x, kernels, stride)``: each
complex kernel k (length K) is zero-padded to the signal length L, rolled so that tap
:math:`c = \lceil K/2 \rceil` sits at time 0, multiplied with the signal in the DFT domain
and the result kept at every ``stride``-th sample:

.. math:: y_j[m] = \sum_{t=0}^{K-1} k_j[t]\, x[(m d - t + c) \bmod L],

a correlation with the reversed kernel :math:`k_j[K - 1 - u]` on the input extended
circularly by K - 1 - c samples before and c after. ``ISAC`` keeps its kernels in
``kernels``; ``HybrA``'s are the hybrid filters
:math:`h_j = g_j \circledast \ell_j`, the auditory kernels ``kernels`` convolved
(``conv1d``, ``padding="same"``, one group per channel) with the learned ``learned_kernels``,
computed here as its forward pass computes them (its ``hybra_kernels`` attribute is only a
detached copy from the last forward pass).

hybra imports torchaudio at import time, so these modules exist only where torchaudio
imports (``make test-torchaudio`` tests them).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted

__all__ = ["hybra_filterbank", "isac"]


def _circular(kernels: torch.Tensor, module: Any, name: str, sample_rate: Any) -> Adapted:
    size = kernels.shape[-1]
    centre = -(-size // 2)
    rate = float(module.fs) if sample_rate is None else sample_rate
    bank = Filterbank(kernels.flip(-1), stride=int(module.stride), sample_rate=rate, name=name)
    return Adapted(bank, padding=((size - 1 - centre, centre, "circular"),))


def isac(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """hybra's ``ISAC``: its (complex) ``kernels``, reversed, at its stride, circularly."""
    return _circular(
        module.kernels.reshape(module.kernels.shape[0], -1), module, "ISAC", sample_rate
    )


def hybra_filterbank(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """hybra's ``HybrA``: the hybrid kernels of its forward pass, reversed, circularly."""
    auditory = module.kernels.reshape(module.kernels.shape[0], -1)
    hybrid = F.conv1d(
        auditory, module.learned_kernels, groups=int(module.num_channels), padding="same"
    )
    return _circular(hybrid, module, "HybrA", sample_rate)


ADAPTERS = {"ISAC": isac, "HybrA": hybra_filterbank}
