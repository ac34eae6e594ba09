r"""ANSI/IEC third-octave filterbank (base 2), realised as truncated Butterworth responses."""

from __future__ import annotations

import math

import numpy as np
import scipy.signal
import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import check_bank_args, check_bank_memory, check_real, warn_truncated
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["third_octave", "third_octave_frequencies"]

#: reference frequency of the band numbering (Hz): band k has centre 1000 * 2^(k/3)
REFERENCE_HZ = 1000.0


def third_octave_frequencies(
    fmin: float, fmax: float, *, sample_rate: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Exact base-2 centres and band edges of the third-octave bands from fmin to fmax.

    .. math:: f_k = 1000 \cdot 2^{k/3}, \qquad f_{1,k} = f_k 2^{-1/6}, \quad
              f_{2,k} = f_k 2^{1/6},

    for the integers k with nominal centres between ``fmin`` and ``fmax`` (k is the
    nearest band index of each, so 25 Hz is k = -16, 24.8 Hz exact). With ``sample_rate``
    the bands whose upper edge reaches the Nyquist frequency are dropped.

    Returns
    -------
    centres, lower, upper : numpy.ndarray, float64, shape (n_bands,)

    Examples
    --------
    >>> fc, lo, hi = third_octave_frequencies(900.0, 1300.0)
    >>> fc.round(1), lo.round(1), hi.round(1)
    (array([1000. , 1259.9]), array([ 890.9, 1122.5]), array([1122.5, 1414.2]))
    """
    fmin = check_positive_float("fmin", fmin)
    fmax = check_positive_float("fmax", fmax)
    if not fmin <= fmax:
        raise ParameterError(f"fmin={fmin} must be <= fmax={fmax}")
    k_lo = round(3 * math.log2(fmin / REFERENCE_HZ))
    k_hi = round(3 * math.log2(fmax / REFERENCE_HZ))
    k = np.arange(k_lo, k_hi + 1, dtype=np.float64)
    centres = REFERENCE_HZ * 2.0 ** (k / 3)
    if sample_rate is not None:
        centres = centres[centres * 2.0 ** (1 / 6) < sample_rate / 2]
    if centres.size == 0:
        raise ParameterError(
            f"fmin={fmin}, fmax={fmax} must hold a third-octave band below sample_rate / 2"
        )
    return centres, centres * 2.0 ** (-1 / 6), centres * 2.0 ** (1 / 6)


def third_octave(
    kernel_size: int,
    *,
    sample_rate: float,
    fmin: float = 25.0,
    fmax: float | None = None,
    order: int = 3,
    analytic: bool = True,
    stride: int = 1,
) -> Filterbank:
    r"""Third-octave (ANSI S1.11 / IEC 61260, base 2) band-pass filterbank as FIR responses.

    Parameters
    ----------
    kernel_size : int >= 1
        Taps T of each truncated response.
    sample_rate : float > 0
        Sample rate in Hz.
    fmin, fmax : float > 0
        Nominal centres of the lowest and highest bands (:func:`third_octave_frequencies`);
        default fmax: the highest band whose upper edge lies below the Nyquist frequency.
        A band whose upper edge reaches Nyquist is an error.
    order : int in [1, 10]
        Order N of the Butterworth prototype (ANSI class filters: 3).
    analytic : bool
        Return the analytic (complex) responses :math:`h + i\mathcal H h`, whose modulus
        is the band's envelope, instead of the real ones.
    stride : int >= 1

    Returns
    -------
    Filterbank
        float64 (or complex128) weights, shape (n_bands, kernel_size), ordered by
        frequency; ``band`` spans the lowest lower edge to the highest upper edge.

    Warns
    -----
    UserWarning
        When more than 1% of a response's energy lies beyond the kernel.

    Notes
    -----
    Realisation: the **digital Butterworth band-pass of order N** (a 2N-pole IIR filter,
    ``scipy.signal.butter(N, [f1, f2], "bandpass", fs=sr)``: bilinear transform with
    pre-warped edges, so its digital -3 dB points are exactly :math:`f_{1,k}, f_{2,k}`
    and its gain is 1 at :math:`\sqrt{f_1 f_2} = f_k`), whose causal impulse response
    (``sosfilt`` of a unit impulse) is truncated at T taps, tap 0 being t = 0, as for
    :func:`fbinit.banks.gammatone`. The analytic response is built on 2T samples
    (:math:`\hat h_a = 2\hat h` on positive frequencies, 0 on negative ones) and cropped
    to its first T taps; its non-causal part (the Hilbert transform's pre-ringing) is
    small for a narrow band and counts as truncated energy. The -3 dB band edges of the
    truncated responses agree with the ANSI edges to within 1% of the centre frequency
    when T is long enough for the 1% truncation criterion (tested).

    Examples
    --------
    >>> bank = third_octave(4095, sample_rate=16000.0, fmin=250.0, fmax=4000.0)
    >>> bank.n_filters, bank.is_complex
    (13, True)
    """
    kernel_size = check_int("kernel_size", kernel_size)
    _, kernel_size, sample_rate, stride = check_bank_args(1, kernel_size, sample_rate, stride)
    order = check_int("order", order)
    if order > 10:
        raise ParameterError(f"order={order} must be an integer in [1, 10]")
    nyquist = sample_rate / 2
    fmin = check_real("fmin", fmin)
    if fmax is None:
        fmax = REFERENCE_HZ * 2.0 ** (math.floor(3 * math.log2(nyquist / REFERENCE_HZ) - 0.5) / 3)
    fmax = check_real("fmax", fmax)
    centres, lower, upper = third_octave_frequencies(fmin, fmax)
    if upper[-1] >= nyquist:
        raise ParameterError(
            f"fmax={fmax:g} must leave the upper edge of its band ({upper[-1]:.1f} Hz) below "
            f"sample_rate / 2 = {nyquist:g}"
        )
    if lower[0] <= 0:
        raise ParameterError(f"fmin={fmin} must be > 0")
    check_bank_memory(
        "gammatone", len(centres), 4 * kernel_size, n_filters=len(centres), kernel_size=kernel_size
    )
    length = 2 * kernel_size
    impulse = np.zeros(length)
    impulse[0] = 1.0
    sections = [
        scipy.signal.butter(order, [f1, f2], btype="bandpass", fs=sample_rate, output="sos")
        for f1, f2 in zip(lower, upper, strict=True)
    ]
    rows = np.stack([scipy.signal.sosfilt(sos, impulse) for sos in sections])
    if analytic:
        spec = np.fft.fft(rows, axis=-1)
        gain = np.zeros(length)
        gain[0] = gain[length // 2] = 1.0
        gain[1 : length // 2] = 2.0
        rows = np.fft.ifft(spec * gain, axis=-1)
    energy = np.abs(rows) ** 2
    lost = energy[:, kernel_size:].sum(-1) / energy.sum(-1)
    warn_truncated("third-octave", lost, centres, kernel_size)
    taps = rows[:, :kernel_size]
    return Filterbank(
        torch.from_numpy(np.ascontiguousarray(taps)),
        stride=stride,
        sample_rate=sample_rate,
        band=(float(lower[0]), float(upper[-1])),
        name=f"third-octave J={len(centres)} T={kernel_size}",
    )
