r"""Adapters for torchaudio: ``transforms.Spectrogram`` and ``transforms.MelSpectrogram``.

``Spectrogram`` runs ``torch.stft``, which computes

.. math:: X[k, m] = \sum_{t=0}^{n_{fft}-1} w[t]\, x[m h + t]\, e^{-2\pi i k t / n_{fft}}

with the window w (``win_length`` taps) zero-padded to ``n_fft`` in the middle: its bank
is the windowed Fourier atoms :math:`w[t] e^{-2\pi i k t / n_{fft}}`, for
:math:`k = 0..n_{fft}/2` when ``onesided``, at stride ``hop_length``, divided by
:math:`\sqrt{\sum_t w[t]^2}` when ``normalized`` is True or "window" and by
:math:`\sqrt{n_{fft}}` when it is "frame_length". The input is first padded by ``pad``
zeros each side, then by ``n_fft // 2`` samples each side in ``pad_mode`` when
``center``. ``MelSpectrogram`` applies ``mel_scale.fb`` (transposed) to
:math:`|X|^{power}` (power 2 by default).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted
from fbinit.frontends.stft import stft_atoms

__all__ = ["melspectrogram", "spectrogram"]


def _norm(module: Any, window: torch.Tensor) -> Any:
    normalized = module.normalized
    if normalized is True or normalized == "window":
        return window.pow(2).sum().sqrt()
    if normalized == "frame_length":
        return math.sqrt(module.n_fft)
    return 1.0


def spectrogram(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """torchaudio's ``Spectrogram``: its windowed Fourier atoms, scale and padding."""
    window = module.window
    atoms = stft_atoms(window, int(module.n_fft), onesided=bool(module.onesided))
    atoms = atoms / _norm(module, window)
    bank = Filterbank(
        atoms, stride=int(module.hop_length), sample_rate=sample_rate, name="Spectrogram"
    )
    padding = []
    if module.pad:
        padding.append((int(module.pad), int(module.pad), "constant"))
    if module.center:
        half = int(module.n_fft) // 2
        padding.append((half, half, module.pad_mode))
    return Adapted(bank, padding=tuple(padding))


def melspectrogram(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """torchaudio's ``MelSpectrogram``: its spectrogram's atoms and the mel matrix."""
    rate = float(module.sample_rate) if sample_rate is None else sample_rate
    inner = spectrogram(module.spectrogram, sample_rate=rate)
    bank = Filterbank(
        inner.bank.weights, stride=inner.bank.stride, sample_rate=rate, name="MelSpectrogram"
    )
    power = module.spectrogram.power
    if power is None:
        raise ParameterError("power=None must be a number for a MelSpectrogram")
    return Adapted(
        bank, padding=inner.padding, projection=module.mel_scale.fb.T, power=float(power)
    )


ADAPTERS = {"Spectrogram": spectrogram, "MelSpectrogram": melspectrogram}
