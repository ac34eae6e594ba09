r"""LEAF's learnable Gabor frontend: complex Gabor filters with a centre and a width each."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import check_band
from fbinit.banks.gabor import gabor_impulse_responses
from fbinit.errors import ParameterError
from fbinit.frontends.base import Frontend
from fbinit.frontends.stages import PCEN, GaussianLowpass, store_tensor

__all__ = ["GaborFrontend", "leaf_mel_parameters"]

#: sigma * FWHM of a Gaussian frequency response: FWHM = 2 sqrt(2 ln 2) / sigma
_FWHM_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _leaf_mel_matrix(
    n_filters: int, n_bins: int, sample_rate: float, fmin: float, fmax: float
) -> np.ndarray:
    """``tf.signal.linear_to_mel_weight_matrix``, transposed: triangles linear in HTK mel."""

    def to_mel(f: np.ndarray) -> np.ndarray:
        return 1127.0 * np.log1p(f / 700.0)

    bins = to_mel(np.linspace(0.0, sample_rate / 2, n_bins)[1:])[:, None]  # DC bin dropped
    edges = np.linspace(to_mel(np.float64(fmin)), to_mel(np.float64(fmax)), n_filters + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, ((1, 0), (0, 0))).T  # the DC row is zero


def leaf_mel_parameters(
    n_filters: int,
    *,
    sample_rate: float = 16000.0,
    fmin: float = 60.0,
    fmax: float = 7800.0,
    n_fft: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    r"""LEAF's mel initialisation of Gabor filters: centres (rad/sample) and widths (samples).

    As LEAF's ``melfilters.Gabor.gabor_params_from_mels``: the amplitude responses
    :math:`\sqrt{M_j[k]}` of TensorFlow's mel matrix (``linear_to_mel_weight_matrix``:
    triangles linear in HTK mel, :math:`n_\text{fft}/2 + 1` bins, DC zeroed) give

    .. math:: \eta_j = \frac{2\pi}{N} \arg\max_k M_j[k], \qquad
              \sigma_j = \frac{\sqrt{2\ln 2}\, N}{\pi\, \#\{k : \sqrt{M_j[k]} \ge
              \tfrac12 \max_k \sqrt{M_j[k]}\}}.

    (:func:`fbinit.banks.mel_gabor_parameters` reads librosa's mel matrix, whose triangles
    are linear in Hz: at LEAF's setting 3 of the 40 widths differ by one bin.)

    Returns
    -------
    center_frequencies : numpy.ndarray, shape (n_filters,)
        :math:`\eta_j` in radians per sample.
    sigmas : numpy.ndarray, shape (n_filters,)
        :math:`\sigma_j` in samples.

    Examples
    --------
    >>> eta, sigma = leaf_mel_parameters(40)
    >>> round(float(eta[0]), 4), round(float(sigma[-1]), 3)
    (0.0368, 8.343)
    """
    n_filters = check_int("n_filters", n_filters)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    fmin, fmax = check_band(fmin, fmax, sample_rate)
    n_fft = check_int("n_fft", n_fft, minimum=2)
    amplitude = np.sqrt(_leaf_mel_matrix(n_filters, n_fft // 2 + 1, sample_rate, fmin, fmax))
    peaks = amplitude.max(axis=1)
    empty = np.flatnonzero(peaks <= 0)
    if empty.size:
        raise ParameterError(
            f"n_fft={n_fft} must be large enough that every mel channel holds a DFT bin "
            f"(channels {empty[:10].tolist()} are empty); increase n_fft or reduce n_filters"
        )
    widths = (amplitude >= peaks[:, None] / 2).sum(axis=1)
    centres = amplitude.argmax(axis=1) * 2 * np.pi / n_fft
    sigmas = math.sqrt(2 * math.log(2)) * n_fft / (np.pi * widths)
    return centres.astype(np.float64), sigmas.astype(np.float64)


class GaborFrontend(Frontend):
    r"""Complex Gabor filters with a learnable centre frequency and width each (LEAF).

    Filter j is :func:`fbinit.banks.gabor_impulse_responses` with centre :math:`\eta_j`
    (rad/sample) and FWHM bandwidth :math:`2\sqrt{2\ln2}/\sigma_j`:

    .. math:: \psi_j(t) = \frac{1}{\sqrt{2\pi}\sigma_j} e^{-t^2/(2\sigma_j^2)}
              e^{i\eta_j t}, \qquad t = -\lfloor T/2\rfloor, \dots,

    with LEAF's parameters and constraints (``GaborConstraint``), applied when the
    responses are computed: :math:`\eta_j \in [0, \pi]` and
    :math:`\sigma_j \in [4\sqrt{2\ln 2}/\pi,\ T\sqrt{2\ln 2}/\pi]` (an FWHM between
    :math:`2\pi/T` and :math:`\pi/2`).

    Parameters
    ----------
    n_filters : int >= 1
    kernel_size : int >= 1
    sample_rate : float > 0
    fmin, fmax : float
        Band of the mel initialisation in Hz (:func:`leaf_mel_parameters`); also the
        frontend's ``band``.
    n_fft : int >= 2
        DFT size of the mel matrix the initialisation is read from (LEAF: 512).
    learnable : bool
        Whether the centres and widths are parameters.
    **kwargs
        ``stride``, ``padding``, ``modulus`` (default ``"power"``), ``pooling``,
        ``compression``, ``log_floor``, ``method`` of
        :class:`~fbinit.frontends.base.Frontend`.

    Attributes
    ----------
    center_frequency : torch.Tensor, shape (n_filters,)
        :math:`\eta_j` in radians per sample, before the constraint.
    sigma : torch.Tensor, shape (n_filters,)
        :math:`\sigma_j` in samples (LEAF's inverse bandwidth), before the constraint.

    References
    ----------
    N. Zeghidour, O. Teboul, F. de Chaumont Quitry, M. Tagliasacchi, "LEAF: A learnable
    frontend for audio classification", ICLR 2021.

    Examples
    --------
    >>> frontend = GaborFrontend(40, 401)
    >>> frontend(torch.zeros(1, 1600)).shape, frontend.impulse_responses().dtype
    (torch.Size([1, 40, 1600]), torch.complex64)
    """

    def __init__(
        self,
        n_filters: int = 40,
        kernel_size: int = 401,
        *,
        sample_rate: float = 16000.0,
        fmin: float = 60.0,
        fmax: float = 7800.0,
        n_fft: int = 512,
        learnable: bool = True,
        **kwargs: Any,
    ) -> None:
        n_filters = check_int("n_filters", n_filters)
        kernel_size = check_int("kernel_size", kernel_size)
        fmin, fmax = check_band(fmin, fmax, check_positive_float("sample_rate", sample_rate))
        kwargs.setdefault("modulus", "power")
        super().__init__(sample_rate=sample_rate, band=(fmin, fmax), **kwargs)
        self._kernel_size = kernel_size
        eta, sigma = leaf_mel_parameters(
            n_filters, sample_rate=self.sample_rate, fmin=fmin, fmax=fmax, n_fft=n_fft
        )
        store_tensor(self, "center_frequency", torch.from_numpy(eta), learnable)
        store_tensor(self, "sigma", torch.from_numpy(sigma), learnable)

    @classmethod
    def leaf(cls, *, learnable: bool = True) -> GaborFrontend:
        """LEAF as published: Gabor filters, squared modulus, Gaussian pooling, PCEN.

        40 filters of 401 taps at 16 kHz (25 ms), stride 1, mel initialisation over
        60-7800 Hz (n_fft 512); squared modulus; per-channel learnable Gaussian low-pass
        pooling of 401 taps at stride 160 (10 ms), width 0.4; inputs floored at 1e-5;
        PCEN with per-channel learnable alpha 0.96, smoothing 0.04, delta 2, root 2,
        floor 1e-12. See the presets page of the documentation for each value's source.

        Examples
        --------
        >>> leaf = GaborFrontend.leaf()
        >>> leaf(torch.zeros(2, 16000)).shape
        torch.Size([2, 40, 100])
        """
        return cls(
            40,
            401,
            sample_rate=16000.0,
            fmin=60.0,
            fmax=7800.0,
            n_fft=512,
            learnable=learnable,
            stride=1,
            padding="same",
            modulus="power",
            pooling=GaussianLowpass(40, kernel_size=401, stride=160, init=0.4, learnable=learnable),
            compression=PCEN(
                40,
                alpha=0.96,
                smooth=0.04,
                delta=2.0,
                root=2.0,
                floor=1e-12,
                input_floor=1e-5,
                learnable=learnable,
            ),
        )

    def constrained(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The centres (rad/sample) and widths (samples) after LEAF's constraint."""
        scale = math.sqrt(2 * math.log(2)) / math.pi
        eta = torch.clamp(self.center_frequency, 0.0, math.pi)
        sigma = torch.clamp(self.sigma, 4 * scale, self._kernel_size * scale)
        return eta, sigma

    def impulse_responses(self) -> torch.Tensor:
        """The complex Gabor filters, shape (n_filters, kernel_size)."""
        eta, sigma = self.constrained()
        return gabor_impulse_responses(eta, _FWHM_SIGMA / sigma, self._kernel_size)

    @property
    def center_frequencies_hz(self) -> torch.Tensor:
        """Constrained centre frequencies in Hz (detached)."""
        return self.constrained()[0].detach() * self.sample_rate / (2 * math.pi)

    @property
    def bandwidths_hz(self) -> torch.Tensor:
        """Constrained full widths at half maximum of the responses in Hz (detached)."""
        sigma = self.constrained()[1].detach()
        return _FWHM_SIGMA / sigma * self.sample_rate / (2 * math.pi)

    def extra_repr(self) -> str:
        return f"{self.sigma.shape[0]}, {self._kernel_size}, " + super().extra_repr()
