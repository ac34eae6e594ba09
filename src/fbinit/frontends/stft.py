r"""Fixed Fourier frontends: the short-time Fourier transform and the mel spectrogram.

:class:`STFTFrontend` is the bank of windowed Fourier atoms

.. math:: w_k[t] = v[t]\, e^{-2\pi i k t / N}, \qquad k = 0, \dots, N/2, \quad
          t = 0, \dots, N - 1,

at a hop d (``stride``), with v librosa's window of ``win_length`` samples centred in the
N = ``n_fft`` taps. Correlating a signal with these atoms at the hop (the engine's
``analysis_conv``) is the STFT, sample for sample:

.. math:: X[k, m] = \sum_{t=0}^{N-1} v[t]\, \tilde x[m d + t - N/2]\, e^{-2\pi i k t / N},

which is what ``torch.stft`` and ``librosa.stft`` compute (``center=True`` with zero
padding is the engine's ``"same"`` padding, ``center=False`` its ``"valid"``).
:class:`MelFrontend` adds librosa's mel matrix M as the frontend's ``projection``:
:math:`\mathrm{mel}[f, m] = \sum_k M[f, k]\, |X[k, m]|^p`, then an optional compression.
"""

from __future__ import annotations

import math
from typing import Any

import librosa
import torch
import torch.nn.functional as F

from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import check_band
from fbinit.banks.mel import check_norm, mel_weights
from fbinit.errors import ParameterError
from fbinit.frontends.base import Frontend
from fbinit.frontends.engine import as_batch

__all__ = ["MelFrontend", "STFTFrontend", "stft_atoms"]


def stft_atoms(window: torch.Tensor, n_fft: int, *, onesided: bool = True) -> torch.Tensor:
    r"""Windowed Fourier atoms :math:`w[t]\, e^{-2\pi i k t / n_{fft}}` as ``torch.stft`` uses them.

    Parameters
    ----------
    window : torch.Tensor, shape (win_length,), win_length <= n_fft
        Zero-padded to n_fft in the middle (``(n_fft - win_length) // 2`` zeros first).
    n_fft : int
    onesided : bool
        Keep the bins k = 0..n_fft // 2 only.

    Returns
    -------
    torch.Tensor, complex, shape (n_fft // 2 + 1 or n_fft, n_fft)

    Examples
    --------
    >>> atoms = stft_atoms(torch.ones(4, dtype=torch.float64), 4)
    >>> dft = torch.fft.fft(torch.eye(4, dtype=torch.float64))
    >>> atoms.shape, bool(torch.allclose(atoms, dft[:3]))
    (torch.Size([3, 4]), True)
    """
    size = window.shape[-1]
    if size > n_fft:
        raise ParameterError(f"win_length={size} must be <= n_fft={n_fft}")
    left = (n_fft - size) // 2
    padded = F.pad(window, (left, n_fft - size - left))
    bins = n_fft // 2 + 1 if onesided else n_fft
    k = torch.arange(bins, dtype=torch.float64, device=window.device)[:, None]
    t = torch.arange(n_fft, dtype=torch.float64, device=window.device)[None, :]
    angles = (-2 * math.pi / n_fft) * ((k * t) % n_fft)  # exact reduction mod n_fft first
    atoms = padded.to(torch.float64) * torch.polar(torch.ones_like(angles), angles)
    return atoms.to((torch.zeros((), dtype=window.dtype) * 1j).dtype)


class STFTFrontend(Frontend):
    r"""Short-time Fourier transform as a frontend: windowed Fourier atoms at a hop.

    Parameters
    ----------
    n_fft : int >= 2
        DFT size N, also the number of taps of every atom.
    sample_rate : float > 0
        Sample rate in Hz.
    stride : int >= 1
        Hop d between frames.
    win_length : int in [1, n_fft], optional
        Window length (default ``n_fft``); the window is centred in the N taps, as
        ``librosa.util.pad_center`` places it.
    window : str, tuple or callable
        Window specification of ``librosa.filters.get_window`` (periodic, ``fftbins=True``).
    padding : {"same", "valid", "circular"}
        ``"same"`` is ``center=True`` with zero padding, ``"valid"`` is ``center=False``.
    modulus : {"abs", "power"} or None
        None keeps the complex STFT.
    compression : "log", torch.nn.Module or None
    log_floor : float > 0

    Notes
    -----
    ``impulse_responses()`` returns the N/2 + 1 atoms :math:`w_k` (complex, shape
    (n_fft // 2 + 1, n_fft)), the kernels that the engine correlates with the signal. For
    ``"same"`` and ``"valid"`` padding, :meth:`analyze` computes the same linear map with
    ``torch.stft`` (one FFT per frame instead of N/2 + 1 correlations); the correlation
    of frame m with :math:`w_k` is, term by term, the k-th DFT bin of the windowed frame
    :math:`v[t]\,\tilde x[m d + t - N/2]`, so both give the same coefficients up to
    rounding (tested). ``"circular"`` padding goes through the engine. The window is a
    buffer: ``.double()`` and ``.to()`` move it with the module.

    Examples
    --------
    >>> frontend = STFTFrontend(512, stride=160)
    >>> frontend.impulse_responses().shape
    torch.Size([257, 512])
    >>> frontend(torch.zeros(2, 16000)).shape
    torch.Size([2, 257, 101])
    """

    def __init__(
        self,
        n_fft: int = 512,
        *,
        sample_rate: float = 16000.0,
        stride: int = 160,
        win_length: int | None = None,
        window: Any = "hann",
        padding: str = "same",
        modulus: str | None = "power",
        compression: str | torch.nn.Module | None = None,
        log_floor: float = 1e-6,
        projection: torch.Tensor | None = None,
        band: tuple[float, float] | None = None,
    ) -> None:
        n_fft = check_int("n_fft", n_fft, minimum=2)
        win_length = n_fft if win_length is None else check_int("win_length", win_length)
        if win_length > n_fft:
            raise ParameterError(f"win_length={win_length} must be <= n_fft={n_fft}")
        super().__init__(
            sample_rate=sample_rate,
            stride=stride,
            padding=padding,
            modulus=modulus,
            projection=projection,
            compression=compression,
            log_floor=log_floor,
            band=band,
        )
        self.n_fft = n_fft
        self.win_length = win_length
        taps = librosa.util.pad_center(
            librosa.filters.get_window(window, win_length, fftbins=True), size=n_fft
        )
        self.register_buffer("window", torch.as_tensor(taps, dtype=torch.get_default_dtype()))

    def impulse_responses(self) -> torch.Tensor:
        """The windowed Fourier atoms, complex, shape (n_fft // 2 + 1, n_fft)."""
        return stft_atoms(self.window, self.n_fft)

    def analyze(self, x: torch.Tensor) -> torch.Tensor:
        """The complex STFT, shape (batch, n_fft // 2 + 1, frames) (see the class Notes)."""
        if self.padding == "circular":
            return super().analyze(x)
        x = as_batch(x)
        if self.padding == "valid" and x.shape[-1] < self.n_fft:
            raise ParameterError(
                f"n_samples={x.shape[-1]} must be >= kernel_size={self.n_fft} with padding='valid'"
            )
        return torch.stft(
            x,
            self.n_fft,
            hop_length=self.stride,
            win_length=self.n_fft,
            window=self.window.to(x.dtype),
            center=self.padding == "same",
            pad_mode="constant",
            normalized=False,
            onesided=True,
            return_complex=True,
        )

    def extra_repr(self) -> str:
        return f"n_fft={self.n_fft}, win_length={self.win_length}, " + super().extra_repr()


class MelFrontend(STFTFrontend):
    r"""Mel spectrogram: an STFT, its power (or magnitude), librosa's mel matrix, compression.

    Parameters
    ----------
    n_filters : int >= 1
        Number of mel channels.
    n_fft : int >= 2
        DFT size of the STFT.
    sample_rate : float > 0
    stride : int >= 1
        Hop between frames.
    win_length, window, padding
        As in :class:`STFTFrontend`.
    fmin, fmax : float, 0 <= fmin < fmax <= sample_rate / 2
        Edges of the mel band in Hz (default fmax: sample_rate / 2); also the ``band``.
    htk, norm
        Mel scale and normalisation, passed to ``librosa.filters.mel``.
    modulus : {"power", "abs"}
        Exponent p = 2 or 1 of the spectrogram (librosa's ``power``).
    compression : "log", torch.nn.Module or None
        None gives librosa's ``melspectrogram``; ``"log"`` its logarithm with ``log_floor``.
    log_floor : float > 0

    Notes
    -----
    .. math:: \mathrm{mel}[f, m] = \sum_{k=0}^{N/2} M[f, k]\, |X[k, m]|^p,

    with X the STFT of :class:`STFTFrontend` and M = ``librosa.filters.mel(sr, n_fft,
    n_mels=n_filters, fmin, fmax, htk, norm)`` stored as the ``projection`` buffer. With
    ``padding="same"`` this is ``librosa.feature.melspectrogram(y, sr, n_fft, hop_length,
    win_length, window, center=True, pad_mode="constant", power=p, ...)`` (tested to 1e-5
    relative). ``impulse_responses()`` are the STFT atoms: the analysis stage whose frame
    bounds fbinit reports.

    Warns
    -----
    UserWarning
        When some mel channels hold no DFT bin (their row of M is zero).

    Examples
    --------
    >>> frontend = MelFrontend(40, 512, stride=160, fmin=60.0, fmax=7800.0)
    >>> frontend.n_filters, frontend.band
    (40, (60.0, 7800.0))
    >>> frontend(torch.zeros(1, 16000)).shape
    torch.Size([1, 40, 101])
    """

    def __init__(
        self,
        n_filters: int = 40,
        n_fft: int = 512,
        *,
        sample_rate: float = 16000.0,
        stride: int = 160,
        win_length: int | None = None,
        window: Any = "hann",
        fmin: float = 0.0,
        fmax: float | None = None,
        htk: bool = False,
        norm: str | float | None = "slaney",
        padding: str = "same",
        modulus: str = "power",
        compression: str | torch.nn.Module | None = None,
        log_floor: float = 1e-6,
    ) -> None:
        n_filters = check_int("n_filters", n_filters)
        n_fft = check_int("n_fft", n_fft, minimum=2)
        if modulus not in ("power", "abs"):
            raise ParameterError(f"modulus={modulus!r} must be 'power' or 'abs'")
        sample_rate = check_positive_float("sample_rate", sample_rate)
        fmin, fmax = check_band(fmin, fmax, sample_rate)
        weights = mel_weights(
            n_filters,
            n_fft,
            sample_rate=sample_rate,
            fmin=fmin,
            fmax=fmax,
            htk=htk,
            norm=check_norm(norm),
            stacklevel=3,
        )
        super().__init__(
            n_fft,
            sample_rate=sample_rate,
            stride=stride,
            win_length=win_length,
            window=window,
            padding=padding,
            modulus=modulus,
            compression=compression,
            log_floor=log_floor,
            projection=torch.as_tensor(weights, dtype=torch.get_default_dtype()),
            band=(fmin, fmax),
        )
