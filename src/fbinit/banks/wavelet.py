"""Constant-Q and variable-Q wavelet filterbanks from librosa.filters.wavelet."""

from __future__ import annotations

from typing import Any

import librosa
import numpy as np
import torch

from fbinit._memory import check_memory
from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import (
    BUILD_BYTES,
    check_bank_args,
    check_bank_memory,
    place_centered,
    warn_truncated,
)
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["wavelet"]


def wavelet(
    n_filters: int,
    kernel_size: int,
    *,
    sample_rate: float,
    fmin: float,
    bins_per_octave: int = 12,
    gamma: float = 0.0,
    filter_scale: float = 1.0,
    window: Any = "hann",
    stride: int = 1,
) -> Filterbank:
    r"""Complex CQT (``gamma=0``) or VQT (``gamma>0``) wavelet filterbank, as librosa builds it.

    Parameters
    ----------
    n_filters : int >= 1
        Number of filters (frequency bins).
    kernel_size : int >= 1
        Number of taps T.
    sample_rate : float > 0
        Sample rate in Hz.
    fmin : float > 0
        Centre frequency of the lowest filter in Hz.
    bins_per_octave : int >= 1
        Filters per octave.
    gamma : float >= 0
        Bandwidth offset in Hz of the variable-Q transform (0: constant Q).
    filter_scale : float > 0
        Scale of the filter lengths (librosa's ``filter_scale``).
    window : str, tuple or callable
        Window of the wavelets, passed to librosa.
    stride : int >= 1
        Stride of the bank.

    Returns
    -------
    Filterbank
        complex128 weights of shape (n_filters, kernel_size). ``band`` spans the
        nominal passbands, from the lower edge of the lowest filter to the upper edge of the
        highest (librosa's ``f_cutoff``), clipped at 0.

    Raises
    ------
    ParameterError
        When the highest filter's passband reaches beyond sample_rate / 2.

    Warns
    -----
    UserWarning
        When a wavelet is longer than the kernel, i.e. nonzero taps are cropped.

    Notes
    -----
    With :math:`f_j = f_{\min} 2^{j/B}` (``librosa.cqt_frequencies``), relative bandwidth
    :math:`\alpha` and quality factor :math:`Q = s/\alpha` (s = ``filter_scale``), librosa's
    wavelet j has nominal length :math:`\ell_j = Q\,\mathrm{sr} / (f_j + \gamma/\alpha)`
    and is

    .. math:: w_j[t] = \frac{v_j[t]\, e^{2\pi i f_j t / \mathrm{sr}}}
              {\sum_t |v_j[t]|}, \qquad \lfloor -\ell_j/2 \rfloor \le t <
              \lfloor \ell_j/2 \rfloor,

    with :math:`v_j` the window (L1 normalisation, ``norm=1``, as in ``librosa.cqt``).
    The phase origin t = 0 of every wavelet is placed at tap :math:`\lfloor T/2 \rfloor`
    (when librosa samples an odd number of taps, its periodic window peaks half a sample
    before t = 0). Wavelets longer than the kernel are cropped, not renormalised.

    References
    ----------
    J. C. Brown, "Calculation of a constant Q spectral transform", JASA 89(1), 1991.
    C. Schörkhuber, A. Klapuri, N. Holighaus, M. Dörfler, "A Matlab toolbox for efficient
    perfect reconstruction time-frequency transforms with log-frequency resolution",
    AES 53rd Conference, 2014.

    Examples
    --------
    >>> bank = wavelet(48, 1024, sample_rate=16000, fmin=400.0)
    >>> bank.weights.dtype, tuple(bank.weights.shape)
    (torch.complex128, (48, 1024))
    """
    n_filters, kernel_size, sample_rate, stride = check_bank_args(
        n_filters, kernel_size, sample_rate, stride
    )
    fmin = check_positive_float("fmin", fmin)
    bins_per_octave = check_int("bins_per_octave", bins_per_octave)
    gamma = check_positive_float("gamma", gamma, allow_zero=True)
    filter_scale = check_positive_float("filter_scale", filter_scale)
    check_bank_memory(
        "wavelet", n_filters, kernel_size, n_filters=n_filters, kernel_size=kernel_size, fmin=fmin
    )
    freqs = librosa.cqt_frequencies(n_filters, fmin=fmin, bins_per_octave=bins_per_octave)
    alpha = None
    if n_filters == 1:  # as librosa.vqt: alpha of an equal-tempered geometric progression
        ratio = 2.0 ** (2.0 / bins_per_octave)
        alpha = np.atleast_1d((ratio - 1) / (ratio + 1))
    lengths, f_cutoff = librosa.filters.wavelet_lengths(
        freqs=freqs,
        sr=sample_rate,
        window=window,
        filter_scale=filter_scale,
        gamma=gamma,
        alpha=alpha,
    )
    longest = float(np.ceil(lengths.max())) if np.isfinite(lengths).all() else np.inf
    if longest > kernel_size:  # librosa builds every wavelet whole before it is cropped
        check_memory(
            f"fmin={fmin:g}",
            BUILD_BYTES["wavelet"] * n_filters * longest,
            f"wavelets of up to {longest:.3g} samples",
            rule="must be larger",
        )
    nyquist = sample_rate / 2
    if f_cutoff > nyquist:
        raise ParameterError(
            f"n_filters={n_filters} must be small enough that the highest wavelet's passband "
            f"(up to {f_cutoff:.6g} Hz) stays below sample_rate / 2 = {nyquist} Hz; "
            "reduce n_filters or fmin"
        )
    filters, _ = librosa.filters.wavelet(
        freqs=freqs,
        sr=sample_rate,
        window=window,
        filter_scale=filter_scale,
        pad_fft=False,
        norm=1,
        dtype=np.complex128,
        gamma=gamma,
        alpha=alpha,
    )
    # Wavelet j is sampled at t = floor(-l/2), ..., floor(l/2) - 1 (n_j samples, l = its
    # length), then centre-padded to the common length: t = 0 sits at this column.
    n_samples = np.floor(lengths / 2) + np.ceil(lengths / 2)
    origin = (filters.shape[-1] - n_samples) // 2 + np.ceil(lengths / 2)
    taps, lost = place_centered(filters, origin.astype(np.int64), kernel_size)
    warn_truncated("wavelet", lost, freqs, kernel_size, tolerance=0.0)
    # librosa's half passband f_cutoff - f is affine in f, a f + gamma / 2: mirror it down
    slope = (f_cutoff - freqs[-1] - gamma / 2) / freqs[-1]
    band = (max(0.0, float(freqs[0] * (1 - slope) - gamma / 2)), float(f_cutoff))
    return Filterbank(
        torch.from_numpy(taps),
        stride=stride,
        sample_rate=sample_rate,
        band=band,
        name=f"wavelet J={n_filters} T={kernel_size}",
    )
