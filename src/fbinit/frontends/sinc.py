r"""SincNet's learnable frontend: band-pass filters as differences of windowed sincs."""

from __future__ import annotations

from typing import Any

import librosa
import numpy as np
import torch

from fbinit._validate import check_choice, check_int, check_positive_float
from fbinit.banks.sinc import sinc_impulse_responses
from fbinit.errors import ParameterError
from fbinit.frontends.base import Frontend
from fbinit.frontends.stages import store_tensor

__all__ = ["GAINS", "SincFrontend"]

#: normalisations of :class:`SincFrontend`'s filters
GAINS = ("unit", "peak")


class SincFrontend(Frontend):
    r"""Hamming-windowed sinc band-pass filters with learnable cutoffs (SincNet).

    Filter j passes :math:`[f_{1,j}, f_{2,j}]`, computed from its parameters
    :math:`(l_j, b_j)` (``low_hz``, ``band_hz``) with SincNet's constraints and one more
    that keeps every filter finite:

    .. math:: f_{1,j} = \min\big(m_l + |l_j|,\ \tfrac{\mathrm{sr}}2 - m_b\big), \qquad
              f_{2,j} = \min\big(f_{1,j} + m_b + |b_j|,\ \tfrac{\mathrm{sr}}2\big),

    with :math:`m_l` = ``min_low_hz`` and :math:`m_b` = ``min_band_hz``, realised by
    :func:`fbinit.banks.sinc_impulse_responses` (ideal band-pass of unit passband gain
    times a symmetric Hamming window; no 0/0 at the centre tap). ``gain="peak"`` divides
    filter j by its centre tap :math:`2(f_{2,j} - f_{1,j})/\mathrm{sr}`, as SincNet
    does (the centre tap is 1); it needs ``min_band_hz > 0``.

    The initial cutoffs are SincNet's: n_filters + 1 edges equally spaced in HTK mel from
    ``fmin`` to :math:`\mathrm{sr}/2 - (m_l + m_b)`; :math:`l_j` is edge j and
    :math:`b_j` the gap to edge j + 1 (so :math:`f_{1,j} = e_j + m_l`).

    Parameters
    ----------
    n_filters : int >= 1
    kernel_size : int >= 1, odd
        An even kernel_size is an error: the filter is symmetric about its centre tap.
        (SincNet and asteroid-filterbanks silently use kernel_size + 1.)
    sample_rate : float > 0
    min_low_hz, min_band_hz : float >= 0
        :math:`m_l` and :math:`m_b` (SincNet: 50 and 50); :math:`m_l + m_b` must be below
        the Nyquist frequency.
    fmin : float >= 0
        Lowest initial edge in Hz (SincNet: 30).
    gain : {"unit", "peak"}
        Unit passband gain (default) or SincNet's unit centre tap.
    learnable : bool
        Whether the cutoffs are parameters.
    **kwargs
        ``stride``, ``padding``, ``modulus``, ``pooling``, ``compression``, ``log_floor``,
        ``band``, ``method`` of :class:`~fbinit.frontends.base.Frontend`.

    References
    ----------
    M. Ravanelli, Y. Bengio, "Speaker recognition from raw waveform with SincNet",
    IEEE SLT 2018.

    Examples
    --------
    >>> frontend = SincFrontend(80, 251)
    >>> frontend(torch.zeros(1, 4000)).shape
    torch.Size([1, 80, 4000])
    """

    def __init__(
        self,
        n_filters: int = 80,
        kernel_size: int = 251,
        *,
        sample_rate: float = 16000.0,
        min_low_hz: float = 50.0,
        min_band_hz: float = 50.0,
        fmin: float = 30.0,
        gain: str = "unit",
        learnable: bool = True,
        **kwargs: Any,
    ) -> None:
        n_filters = check_int("n_filters", n_filters)
        kernel_size = check_int("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ParameterError(
                f"kernel_size={kernel_size} must be odd: a sinc band-pass is symmetric about "
                f"its centre tap (use {kernel_size - 1} or {kernel_size + 1}; SincNet and "
                "asteroid-filterbanks silently add one)"
            )
        super().__init__(sample_rate=sample_rate, **kwargs)
        self.min_low_hz = check_positive_float("min_low_hz", min_low_hz, allow_zero=True)
        self.min_band_hz = check_positive_float("min_band_hz", min_band_hz, allow_zero=True)
        self.gain = check_choice("gain", gain, GAINS)
        fmin = check_positive_float("fmin", fmin, allow_zero=True)
        nyquist = self.sample_rate / 2
        top = nyquist - (self.min_low_hz + self.min_band_hz)
        if not top > fmin:
            raise ParameterError(
                f"min_low_hz + min_band_hz = {self.min_low_hz + self.min_band_hz} must be below "
                f"sample_rate / 2 - fmin = {nyquist - fmin}"
            )
        if self.gain == "peak" and self.min_band_hz <= 0:
            raise ParameterError(
                f"min_band_hz={self.min_band_hz} must be > 0 with gain='peak' (the centre tap "
                "2 (f2 - f1) / sample_rate divides the filter)"
            )
        self._kernel_size = kernel_size
        edges = librosa.mel_frequencies(n_filters + 1, fmin=fmin, fmax=top, htk=True)
        store_tensor(self, "low_hz", torch.from_numpy(edges[:-1].copy()), learnable)
        store_tensor(self, "band_hz", torch.from_numpy(np.diff(edges)), learnable)

    @classmethod
    def sincnet(cls, *, learnable: bool = True) -> SincFrontend:
        """SincNet's first layer: 80 filters of 251 taps at 16 kHz, stride 1, no padding.

        min_low_hz 50, min_band_hz 50, mel initialisation from 30 Hz, Hamming window,
        unit centre tap (SincNet's normalisation), no modulus or pooling (SincNet's
        ``|.|``, max-pooling and layer norm belong to the model after the frontend). See
        the presets page of the documentation for each value's source.

        Examples
        --------
        >>> SincFrontend.sincnet()(torch.zeros(1, 3200)).shape
        torch.Size([1, 80, 2950])
        """
        return cls(
            80,
            251,
            sample_rate=16000.0,
            min_low_hz=50.0,
            min_band_hz=50.0,
            fmin=30.0,
            gain="peak",
            learnable=learnable,
            stride=1,
            padding="valid",
        )

    def cutoffs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The constrained cutoffs :math:`(f_1, f_2)` in Hz, each of shape (n_filters,)."""
        nyquist = self.sample_rate / 2
        low = torch.clamp(self.min_low_hz + self.low_hz.abs(), max=nyquist - self.min_band_hz)
        high = torch.clamp(low + self.min_band_hz + self.band_hz.abs(), max=nyquist)
        return low, high

    def impulse_responses(self) -> torch.Tensor:
        """The band-pass filters, shape (n_filters, kernel_size), real."""
        low, high = self.cutoffs()
        weights = sinc_impulse_responses(low, high - low, self._kernel_size, self.sample_rate)
        if self.gain == "peak":
            weights = weights / (2 * (high - low) / self.sample_rate)[:, None]
        return weights

    def extra_repr(self) -> str:
        return (
            f"{self.low_hz.shape[0]}, {self._kernel_size}, gain={self.gain!r}, "
            + super().extra_repr()
        )
