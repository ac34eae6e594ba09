"""Gammatone filterbank from scipy.signal.gammatone, ERB-spaced."""

from __future__ import annotations

import numpy as np
import scipy.signal
import scipy.special
import torch

from fbinit._memory import check_memory
from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import check_band, check_bank_args, check_bank_memory, warn_truncated
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["gammatone", "erb_frequencies"]

#: Glasberg & Moore (1990) ERB in Hz, ERB(f) = f / EAR_Q + MIN_BW, as in scipy and Slaney.
EAR_Q = 9.26449
MIN_BW = 24.7


def erb_frequencies(n_filters: int, fmin: float, fmax: float) -> np.ndarray:
    r"""``n_filters`` frequencies from fmin to fmax, equally spaced on the ERB-rate scale.

    .. math:: E(f) = Q \ln\Big(1 + \frac{f}{Q\,b_{\min}}\Big), \qquad
              f_j = E^{-1}\Big(E(f_{\min}) + \tfrac{j}{J-1}\,(E(f_{\max}) - E(f_{\min}))\Big),

    the integral of :math:`1/\mathrm{ERB}(f)` with :math:`\mathrm{ERB}(f) = f/Q + b_{\min}`,
    Q = 9.26449, :math:`b_{\min}` = 24.7 Hz (Glasberg & Moore 1990). One filter sits at fmin.

    Examples
    --------
    >>> erb_frequencies(3, 100.0, 8000.0).round(1)
    array([ 100. , 1416.1, 8000. ])
    """
    n_filters = check_int("n_filters", n_filters)
    check_memory(f"n_filters={n_filters}", 32.0 * n_filters, "the frequencies")
    fmin = check_positive_float("fmin", fmin, allow_zero=True)
    fmax = check_positive_float("fmax", fmax)
    if not fmin < fmax:
        raise ParameterError(f"fmin={fmin} must be < fmax={fmax}")
    corner = EAR_Q * MIN_BW
    ratio = (fmax + corner) / (fmin + corner)
    steps = np.linspace(0.0, 1.0, n_filters) if n_filters > 1 else np.zeros(1)
    return (fmin + corner) * ratio**steps - corner


def _erb(freqs: np.ndarray) -> np.ndarray:
    return freqs / EAR_Q + MIN_BW


def gammatone(
    n_filters: int,
    kernel_size: int,
    *,
    sample_rate: float,
    fmin: float = 50.0,
    fmax: float | None = None,
    stride: int = 1,
    order: int = 4,
) -> Filterbank:
    r"""Causal FIR gammatone filterbank with ERB-spaced centre frequencies.

    Parameters
    ----------
    n_filters : int >= 1
        Number of filters.
    kernel_size : int >= 1
        Number of taps T (``numtaps`` of ``scipy.signal.gammatone``).
    sample_rate : float > 0
        Sample rate in Hz.
    fmin : float, 0 < fmin < fmax
        Centre frequency of the lowest filter in Hz.
    fmax : float < sample_rate / 2, optional
        Centre frequency of the highest filter in Hz. Default: the highest centre whose
        ERB band stays below Nyquist, :math:`f + \mathrm{ERB}(f)/2 = \mathrm{sr}/2`.
    stride : int >= 1
        Stride of the bank.
    order : int in [1, 24]
        Order n of the gammatone.

    Returns
    -------
    Filterbank
        float64 weights of shape (n_filters, kernel_size). ``band`` is the span of the
        nominal passbands, :math:`[f_{\min} - \mathrm{ERB}(f_{\min})/2,\;
        f_{\max} + \mathrm{ERB}(f_{\max})/2]` clipped to [0, sr/2].

    Warns
    -----
    UserWarning
        When more than 1% of a filter's envelope energy lies beyond the kernel.

    Notes
    -----
    Filter j is ``scipy.signal.gammatone(f_j, "fir", order=n, numtaps=T, fs=sr)[0]``:
    causal (tap 0 is t = 0, not centred), scaled by scipy for a gain of about 1 at
    :math:`f_j`, cropped at T taps without renormalisation:

    .. math:: w_j[m] = c_j\, t^{n-1} e^{-2\pi b_j t} \cos(2\pi f_j t), \quad t = m/\mathrm{sr},
              \quad b_j = 1.019\, \mathrm{ERB}(f_j),

    with :math:`f_j` from :func:`erb_frequencies`. The fraction of the envelope energy
    beyond the kernel, :math:`\int_{\tau}^{\infty} t^{2n-2} e^{-4\pi b_j t} dt \big/
    \int_0^\infty \cdots = Q(2n-1,\, 4\pi b_j \tau)` with :math:`\tau = T/\mathrm{sr}` and
    Q the regularised upper incomplete gamma function, decides the truncation warning.

    References
    ----------
    R. D. Patterson et al., "Complex sounds and auditory images", Auditory Physiology
    and Perception, 1992. B. R. Glasberg and B. C. J. Moore, "Derivation of auditory
    filter shapes from notched-noise data", Hearing Research 47, 1990. M. Slaney, "An
    efficient implementation of the Patterson-Holdsworth auditory filter bank", Apple
    Technical Report 35, 1993.

    Examples
    --------
    >>> bank = gammatone(32, 1024, sample_rate=16000, fmin=100.0)
    >>> tuple(bank.weights.shape), bank.band[1]
    ((32, 1024), 8000.0)
    """
    n_filters, kernel_size, sample_rate, stride = check_bank_args(
        n_filters, kernel_size, sample_rate, stride
    )
    nyquist = sample_rate / 2
    default_fmax = fmax is None
    if default_fmax:  # f + ERB(f) / 2 = nyquist
        fmax = (nyquist - MIN_BW / 2) / (1 + 1 / (2 * EAR_Q))
    fmin, fmax = check_band(fmin, fmax, sample_rate)
    if fmin <= 0:
        raise ParameterError(f"fmin={fmin} must be > 0 for a gammatone filter")
    if fmax >= nyquist:
        raise ParameterError(
            f"fmax={fmax} must be < sample_rate / 2 = {nyquist} for a gammatone filter"
        )
    order = check_int("order", order)
    if order > 24:
        raise ParameterError(f"order={order} must be an integer in [1, 24]")
    check_bank_memory(
        "gammatone", n_filters, kernel_size, n_filters=n_filters, kernel_size=kernel_size
    )
    freqs = erb_frequencies(n_filters, fmin, fmax)
    try:
        taps = np.stack(
            [
                scipy.signal.gammatone(f, "fir", order=order, numtaps=kernel_size, fs=sample_rate)[
                    0
                ]
                for f in freqs
            ]
        ).astype(np.float64)
    except OverflowError as exc:  # (2 pi b)^order beyond the float range
        taps = np.full((1, 1), np.inf)
        cause = exc
    else:
        cause = None
    if not np.isfinite(taps).all():
        raise ParameterError(
            f"sample_rate={sample_rate:g} must be small enough that the gains of the "
            f"gammatone filters of order {order} up to fmax={fmax:g} Hz stay finite"
        ) from cause
    decay = 4 * np.pi * 1.019 * _erb(freqs) * kernel_size / sample_rate
    warn_truncated("gammatone", scipy.special.gammaincc(2 * order - 1, decay), freqs, kernel_size)
    lower = max(0.0, float(fmin - _erb(np.float64(fmin)) / 2))
    upper = nyquist if default_fmax else min(nyquist, float(fmax + _erb(np.float64(fmax)) / 2))
    return Filterbank(
        torch.from_numpy(taps),
        stride=stride,
        sample_rate=sample_rate,
        band=(lower, upper),
        name=f"gammatone J={n_filters} T={kernel_size}",
    )
