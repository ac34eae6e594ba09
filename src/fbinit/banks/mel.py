"""Mel filterbank realised as FIR filters from librosa's mel triangles."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import librosa
import numpy as np
import torch

from fbinit._validate import check_int
from fbinit.banks._fir import (
    check_band,
    check_bank_args,
    check_bank_memory,
    place_centered,
    warn_truncated,
    zero_phase_hann,
)
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["mel", "mel_weights"]


def check_norm(norm: Any) -> Any:
    if norm is None or norm == "slaney":
        return norm
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        return norm
    raise ParameterError(
        f"norm={norm!r} must be 'slaney', None or a number (see librosa.util.normalize)"
    )


def mel_weights(
    n_filters: int,
    n_fft: int,
    *,
    sample_rate: float,
    fmin: float,
    fmax: float,
    htk: bool = False,
    norm: str | float | None = "slaney",
    stacklevel: int = 3,
) -> np.ndarray:
    """librosa's mel matrix, shape (n_filters, n_fft // 2 + 1), float64, validated arguments.

    Warns (UserWarning, at ``stacklevel`` above this function) when some channels hold no
    DFT bin, naming them, instead of librosa's generic warning.
    """
    with warnings.catch_warnings():  # replaced by the clearer warning below
        warnings.filterwarnings("ignore", message="Empty filters detected")
        triangles = librosa.filters.mel(
            sr=sample_rate,
            n_fft=n_fft,
            n_mels=n_filters,
            fmin=fmin,
            fmax=fmax,
            htk=bool(htk),
            norm=norm,
            dtype=np.float64,
        )
    empty = np.flatnonzero(triangles.max(axis=1) <= 0)
    if empty.size:
        warnings.warn(
            f"mel: {empty.size} of {n_filters} channels (indices {empty[:10].tolist()}) hold "
            f"no DFT bin at n_fft={n_fft} (bin spacing {sample_rate / n_fft:.4g} Hz) and "
            "their filters are zero. Increase n_fft (or kernel_size), raise fmin, or reduce "
            "n_filters.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return triangles


def mel(
    n_filters: int,
    kernel_size: int,
    *,
    sample_rate: float,
    fmin: float = 0.0,
    fmax: float | None = None,
    n_fft: int | None = None,
    htk: bool = False,
    norm: str | float | None = "slaney",
    window: str | None = "hann",
    stride: int = 1,
) -> Filterbank:
    r"""Mel filterbank: zero-phase FIR filters whose magnitude responses are mel triangles.

    Parameters
    ----------
    n_filters : int >= 1
        Number of mel channels.
    kernel_size : int >= 1
        Number of taps T.
    sample_rate : float > 0
        Sample rate in Hz.
    fmin : float, 0 <= fmin < fmax
        Lower edge of the first triangle in Hz.
    fmax : float <= sample_rate / 2, optional
        Upper edge of the last triangle in Hz (default: sample_rate / 2).
    n_fft : int >= 1, optional
        DFT size N at which the triangles are sampled (default: ``kernel_size``).
        For N > T the responses are cropped to the kernel (a warning is issued when more
        than 1% of a filter's energy is cropped); for N <= T they are zero-padded.
    htk, norm
        Mel scale and normalisation, passed to ``librosa.filters.mel``.
    window : {"hann", None}
        Window applied to the responses. ``None`` keeps the exact circular response.
    stride : int >= 1
        Stride of the bank.

    Returns
    -------
    Filterbank
        float64 weights of shape (n_filters, kernel_size), ``band=(fmin, fmax)``.

    Warns
    -----
    UserWarning
        When some mel channels contain no DFT bin (their filter is zero), or when N > T
        crops more than 1% of a filter's energy.

    Notes
    -----
    Let :math:`M_j[k]` be ``librosa.filters.mel`` at bin k (frequency k sr / N), extended
    to k = 0..N-1 by :math:`M_j[N-k] = M_j[k]`. The zero-phase impulse response is
    centred at tap :math:`\lfloor T/2 \rfloor` and windowed:

    .. math:: w_j[\lfloor T/2 \rfloor + t] = v[t]\,\frac1N \sum_{k=0}^{N-1} M_j[k]\,
              e^{2\pi i k t / N}, \qquad -\lfloor N/2 \rfloor \le t < N - \lfloor N/2 \rfloor,

    with :math:`v[t] = \tfrac12 + \tfrac12 \cos(2\pi t / L)`, L = min(N, T) (zero-phase
    Hann; :math:`v = 1` for ``window=None``). For N <= T the magnitude response on the
    N-point grid is exact: :math:`|\hat w_j(k)| = M_j[k]` without window, and with the Hann
    window (L = N) it is the triangle smoothed by three taps,

    .. math:: |\hat w_j(k)| = \tfrac14 M_j[k-1] + \tfrac12 M_j[k] + \tfrac14 M_j[k+1],

    which differs from :math:`M_j` only at the three corners of each triangle, by at most
    half its largest slope per bin. The window trades this for impulse responses that
    decay smoothly to the kernel edges.

    References
    ----------
    M. Slaney, "Auditory Toolbox", Interval Research Technical Report 1998-010, 1998.
    N. Zeghidour et al., "Learning filterbanks from raw speech for phone recognition",
    ICASSP 2018.

    Examples
    --------
    >>> bank = mel(40, 512, sample_rate=16000)
    >>> tuple(bank.weights.shape), bank.band
    ((40, 512), (0.0, 8000.0))
    """
    n_filters, kernel_size, sample_rate, stride = check_bank_args(
        n_filters, kernel_size, sample_rate, stride
    )
    fmin, fmax = check_band(fmin, fmax, sample_rate)
    n_fft = kernel_size if n_fft is None else check_int("n_fft", n_fft)
    check_bank_memory(
        "mel",
        n_filters,
        max(kernel_size, n_fft),
        n_filters=n_filters,
        kernel_size=kernel_size,
        n_fft=n_fft,
    )
    norm = check_norm(norm)
    if window not in ("hann", None):
        raise ParameterError(f"window={window!r} must be 'hann' or None")
    triangles = mel_weights(
        n_filters, n_fft, sample_rate=sample_rate, fmin=fmin, fmax=fmax, htk=htk, norm=norm
    )
    centres = librosa.mel_frequencies(n_filters + 2, fmin=fmin, fmax=fmax, htk=bool(htk))[1:-1]
    circular = np.fft.fftshift(np.fft.irfft(triangles, n=n_fft, axis=-1), axes=-1)
    taps, lost = place_centered(circular, n_fft // 2, kernel_size)
    if n_fft > kernel_size:
        warn_truncated("mel", lost, centres, kernel_size)
    if window == "hann":
        length = min(n_fft, kernel_size)
        taps *= place_centered(zero_phase_hann(length)[None], length // 2, kernel_size)[0]
    return Filterbank(
        torch.from_numpy(taps),
        stride=stride,
        sample_rate=sample_rate,
        band=(fmin, fmax),
        name=f"mel J={n_filters} T={kernel_size}",
    )
