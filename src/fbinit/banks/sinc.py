"""SincNet band-pass filterbank: differences of Hamming-windowed sincs."""

from __future__ import annotations

import math
from typing import Any

import librosa
import numpy as np
import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import check_band, check_bank_args, check_bank_memory, real_tensor
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["sinc", "sinc_impulse_responses"]


def _check_odd(kernel_size: Any) -> int:
    kernel_size = check_int("kernel_size", kernel_size)
    if kernel_size % 2 == 0:
        raise ParameterError(f"kernel_size={kernel_size} must be odd for a symmetric sinc filter")
    return kernel_size


def sinc_impulse_responses(
    low_hz: torch.Tensor, band_hz: torch.Tensor, kernel_size: int, sample_rate: float
) -> torch.Tensor:
    r"""Hamming-windowed sinc band-pass impulse responses, differentiable in their edges.

    Parameters
    ----------
    low_hz : torch.Tensor, shape (...)
        Low cutoffs :math:`f_1` in Hz.
    band_hz : torch.Tensor, same shape
        Bandwidths in Hz; the high cutoff is :math:`f_2 = f_1 + \text{band}`. Constraints
        (SincNet takes absolute values and adds minimum widths) are the caller's.
    kernel_size : int >= 1, odd
        Number of taps T = 2m + 1; tap n holds time t = n - m.
    sample_rate : float > 0
        Sample rate in Hz.

    Returns
    -------
    torch.Tensor, shape (..., kernel_size)
        Same real dtype as the inputs.

    Notes
    -----
    With normalised cutoffs :math:`\nu_i = f_i / \mathrm{sr}` and
    :math:`\operatorname{sinc} x = \sin x / x`,

    .. math:: w[t] = v[t]\,\big(2\nu_2 \operatorname{sinc}(2\pi\nu_2 t)
              - 2\nu_1 \operatorname{sinc}(2\pi\nu_1 t)\big), \qquad
              v[t] = 0.54 + 0.46 \cos\frac{2\pi t}{T - 1},

    the ideal band-pass of unit passband gain times a symmetric Hamming window. Only
    :math:`t = 1..m` is evaluated, as :math:`(\sin 2\pi\nu_2 t - \sin 2\pi\nu_1 t)/(\pi t)`,
    then mirrored; the centre tap is :math:`2(\nu_2 - \nu_1)`, so 0/0 never occurs and
    gradients are finite everywhere. (SincNet divides by :math:`2(f_2 - f_1)` instead,
    making the centre tap 1; here the passband gain is 1.)

    References
    ----------
    M. Ravanelli, Y. Bengio, "Speaker recognition from raw waveform with SincNet",
    IEEE SLT 2018.

    Examples
    --------
    >>> import torch
    >>> w = sinc_impulse_responses(torch.tensor([1000.0]), torch.tensor([2000.0]), 5, 16000)
    >>> w.shape, round(float(w[0, 2]), 4)
    (torch.Size([1, 5]), 0.25)
    """
    kernel_size = _check_odd(kernel_size)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    low, band = real_tensor("low_hz", low_hz), real_tensor("band_hz", band_hz)
    if low.shape != band.shape:
        raise ParameterError(
            f"band_hz.shape={tuple(band.shape)} must equal low_hz.shape={tuple(low.shape)}"
        )
    check_bank_memory(
        "sinc", low.numel(), kernel_size, n_filters=low.numel(), kernel_size=kernel_size
    )
    dtype = torch.promote_types(low.dtype, band.dtype)
    nu_low = (low.to(dtype) / sample_rate)[..., None]
    nu_high = nu_low + (band.to(dtype) / sample_rate)[..., None]
    half = kernel_size // 2
    t = torch.arange(1, half + 1, dtype=dtype, device=low.device)
    window = 0.54 + 0.46 * torch.cos(2 * math.pi * t / max(kernel_size - 1, 1))
    right = (torch.sin(2 * math.pi * nu_high * t) - torch.sin(2 * math.pi * nu_low * t)) / (
        math.pi * t
    )
    right = right * window
    centre = 2 * (nu_high - nu_low)
    return torch.cat([torch.flip(right, dims=(-1,)), centre, right], dim=-1)


def sinc(
    n_filters: int,
    kernel_size: int,
    *,
    sample_rate: float,
    fmin: float = 30.0,
    fmax: float | None = None,
    min_band_hz: float = 50.0,
    stride: int = 1,
) -> Filterbank:
    r"""SincNet filterbank with mel-spaced bands.

    Parameters
    ----------
    n_filters : int >= 1
        Number of band-pass filters (SincNet: 80).
    kernel_size : int >= 1, odd
        Number of taps (SincNet: 251).
    sample_rate : float > 0
        Sample rate in Hz.
    fmin : float, 0 <= fmin < fmax
        Low cutoff of the first band in Hz.
    fmax : float <= sample_rate / 2, optional
        High cutoff of the last band in Hz (default: sample_rate / 2).
    min_band_hz : float >= 0
        Bands narrower than this are widened to it (SincNet's minimum bandwidth), their high
        cutoff capped at sample_rate / 2.
    stride : int >= 1
        Stride of the bank.

    Returns
    -------
    Filterbank
        float64 weights of shape (n_filters, kernel_size), ``band=(fmin, fmax)``.

    Notes
    -----
    The n_filters + 1 edges :math:`e_0 = f_{\min} < \dots < e_J = f_{\max}` are equally
    spaced on the HTK mel scale (``librosa.mel_frequencies(..., htk=True)``); band j has

    .. math:: f_{1,j} = e_j, \qquad f_{2,j} = \min\big(e_j + \max(e_{j+1} - e_j,\,
              b_{\min}),\ \mathrm{sr}/2\big),

    realised by :func:`sinc_impulse_responses`. SincNet's trainable layer also offsets the
    low cutoffs by its ``min_low_hz``; this fixed bank uses the edges as given. The
    Hamming window's transition width is about :math:`3.3\,\mathrm{sr}/T` Hz, so bands
    narrower than that do not reach unit gain.

    References
    ----------
    M. Ravanelli, Y. Bengio, "Speaker recognition from raw waveform with SincNet",
    IEEE SLT 2018.

    Examples
    --------
    >>> bank = sinc(80, 251, sample_rate=16000)
    >>> tuple(bank.weights.shape), bank.band
    ((80, 251), (30.0, 8000.0))
    """
    n_filters, kernel_size, sample_rate, stride = check_bank_args(
        n_filters, kernel_size, sample_rate, stride
    )
    kernel_size = _check_odd(kernel_size)
    check_bank_memory("sinc", n_filters, kernel_size, n_filters=n_filters, kernel_size=kernel_size)
    fmin, fmax = check_band(fmin, fmax, sample_rate)
    min_band_hz = check_positive_float("min_band_hz", min_band_hz, allow_zero=True)
    edges = librosa.mel_frequencies(n_filters + 1, fmin=fmin, fmax=fmax, htk=True)
    low = edges[:-1]
    high = np.minimum(low + np.maximum(np.diff(edges), min_band_hz), sample_rate / 2)
    weights = sinc_impulse_responses(
        torch.from_numpy(low.astype(np.float64)),
        torch.from_numpy((high - low).astype(np.float64)),
        kernel_size,
        sample_rate,
    )
    return Filterbank(
        weights,
        stride=stride,
        sample_rate=sample_rate,
        band=(fmin, fmax),
        name=f"sinc J={n_filters} T={kernel_size}",
    )
