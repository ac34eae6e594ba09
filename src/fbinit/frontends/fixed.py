r"""Fixed FIR frontends from fbinit's banks: wavelets (CQT/VQT) and gammatones.

Each wraps a bank of :mod:`fbinit.banks` as buffers. The engine *correlates* the signal
with a frontend's ``impulse_responses()`` (``conv1d``'s orientation), so to *filter* the
signal with the bank's responses :math:`h_j` (a convolution, as librosa's CQT and
``scipy.signal.lfilter`` do) the kernels are the responses reversed in time:

.. math:: y_j[m] = \sum_t \kappa_j[t]\, \tilde x[m d + t - \lfloor K/2 \rfloor]
          = (x * h_j)[m d + \delta], \qquad \kappa_j[t] = h_j[\cdot - t],

with :math:`\delta = 0` for the zero-phase-centred wavelets (reversed about their origin at
tap K // 2) and :math:`\delta = \lfloor (K-1)/2 \rfloor` for the causal gammatones (plain
reversal: frame m is the causal filter's output half a kernel after sample m d). Reversal
leaves the magnitude responses, hence every frame bound, unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import librosa
import numpy as np
import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.banks.gammatone import gammatone
from fbinit.banks.wavelet import wavelet
from fbinit.filterbank import Filterbank
from fbinit.frontends.base import Frontend

__all__ = ["GammatoneFrontend", "WaveletFrontend", "reverse_about_origin"]


def reverse_about_origin(weights: torch.Tensor) -> torch.Tensor:
    r"""Reverse responses in time about their origin at tap K // 2.

    Row j of the result holds :math:`h_j[-t]` where the input holds :math:`h_j[t]`
    (tap :math:`\lfloor K/2 \rfloor + t`). For even K the tap t = -K/2 has no mirror
    inside the kernel and is dropped (the result's tap 0 is zero).

    Examples
    --------
    >>> reverse_about_origin(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    tensor([[0., 4., 3., 2.]])
    """
    flipped = torch.flip(weights, dims=(-1,))
    if weights.shape[-1] % 2:
        return flipped
    out = torch.roll(flipped, 1, dims=-1)
    out[..., 0] = 0
    return out


def _build_bank(constructor: Callable[..., Filterbank], *args: Any, **kwargs: Any) -> Filterbank:
    """Call a bank constructor, re-issuing its warnings at the frontend's caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = constructor(*args, **kwargs)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    return bank


class _FixedKernels(Frontend):
    """A frontend whose kernels are fixed: a bank's responses, reversed, as buffers.

    Complex buffers would not follow ``.double()`` (it converts floating-point tensors
    only), so the real and imaginary parts are separate buffers.
    """

    def __init__(self, bank: Filterbank, kernels: torch.Tensor, **stages: Any) -> None:
        super().__init__(sample_rate=bank.sample_rate, stride=bank.stride, band=bank.band, **stages)
        dtype = torch.get_default_dtype()
        self.register_buffer("kernels_real", kernels.real.to(dtype).contiguous())
        imag = kernels.imag.to(dtype).contiguous() if kernels.is_complex() else None
        self.register_buffer("kernels_imag", imag)

    def impulse_responses(self) -> torch.Tensor:
        """The kernels the engine correlates with the signal, shape (n_filters, kernel_size)."""
        if self.kernels_imag is None:
            return self.kernels_real
        return torch.complex(self.kernels_real, self.kernels_imag)


class WaveletFrontend(_FixedKernels):
    r"""Constant-Q (``gamma=0``) or variable-Q wavelet frontend from librosa's wavelets.

    Parameters
    ----------
    n_filters : int >= 1
        Number of frequency bins.
    kernel_size : int >= 1, optional
        Taps K; default :math:`2\lceil \ell_{\max}/2 \rceil + 1`, the smallest odd length
        holding the longest wavelet (:math:`\ell_{\max}` from
        ``librosa.filters.wavelet_lengths``).
    sample_rate : float > 0
    fmin : float > 0
        Centre frequency of the lowest bin in Hz.
    bins_per_octave : int >= 1
    gamma : float >= 0
        Bandwidth offset of the VQT in Hz (0: CQT). See :meth:`vqt`.
    filter_scale : float > 0
    window : str, tuple or callable
        Window of the wavelets (librosa's).
    stride : int >= 1
        Hop between frames.
    padding : {"same", "valid", "circular"}
    modulus : {"abs", "power"} or None
        None keeps the complex coefficients.
    compression : "log", torch.nn.Module or None
    log_floor : float > 0

    Notes
    -----
    The wavelets :math:`h_j` are those of :func:`fbinit.banks.wavelet` (L1-normalised:
    unit gain at each centre frequency), reversed about their origin (module docstring), so
    the coefficients are the convolution :math:`(x * h_j)[m d]` that ``librosa.vqt``
    evaluates: with ``padding="same"``,
    ``librosa.vqt(y, ..., scale=False, sparsity=0, pad_mode="constant")`` equals
    :math:`\ell_j\, y_j[m]` (:math:`\ell_j` the wavelet lengths) up to librosa's dropping
    of the wavelets' negative-frequency DFT bins and its resampling for lower octaves
    (tested on one octave, 1e-3 relative). nnAudio's ``CQT1992v2`` builds its own kernels
    (another Q, integer lengths), so it agrees only to about 2% (tested with Q matched).

    Examples
    --------
    >>> frontend = WaveletFrontend(24, fmin=220.0, bins_per_octave=12)
    >>> frontend.impulse_responses().dtype, frontend.kernel_size
    (torch.complex64, 1263)
    >>> frontend(torch.zeros(1, 16000)).shape
    torch.Size([1, 24, 100])
    """

    def __init__(
        self,
        n_filters: int = 72,
        kernel_size: int | None = None,
        *,
        sample_rate: float = 16000.0,
        fmin: float = 110.0,
        bins_per_octave: int = 12,
        gamma: float = 0.0,
        filter_scale: float = 1.0,
        window: Any = "hann",
        stride: int = 160,
        padding: str = "same",
        modulus: str | None = "abs",
        compression: str | torch.nn.Module | None = None,
        log_floor: float = 1e-6,
    ) -> None:
        n_filters = check_int("n_filters", n_filters)
        if kernel_size is None:
            freqs = librosa.cqt_frequencies(
                n_filters,
                fmin=check_positive_float("fmin", fmin),
                bins_per_octave=check_int("bins_per_octave", bins_per_octave),
            )
            lengths, _ = librosa.filters.wavelet_lengths(
                freqs=freqs,
                sr=check_positive_float("sample_rate", sample_rate),
                window=window,
                filter_scale=check_positive_float("filter_scale", filter_scale),
                gamma=check_positive_float("gamma", gamma, allow_zero=True),
            )
            kernel_size = 2 * int(np.ceil(lengths.max() / 2)) + 1
        bank = _build_bank(
            wavelet,
            n_filters,
            kernel_size,
            sample_rate=sample_rate,
            fmin=fmin,
            bins_per_octave=bins_per_octave,
            gamma=gamma,
            filter_scale=filter_scale,
            window=window,
            stride=stride,
        )
        super().__init__(
            bank,
            reverse_about_origin(bank.weights),
            padding=padding,
            modulus=modulus,
            compression=compression,
            log_floor=log_floor,
        )
        self.fmin = float(fmin)
        self.bins_per_octave = int(bins_per_octave)
        self.gamma = float(gamma)

    @classmethod
    def vqt(
        cls, n_filters: int = 72, *, bins_per_octave: int = 12, **kwargs: Any
    ) -> WaveletFrontend:
        r"""Variable-Q preset with librosa's default bandwidth offset.

        :math:`\gamma = 24.7\,\alpha / 0.108` Hz with :math:`\alpha = (2^{2/B} - 1) /
        (2^{2/B} + 1)` (B = ``bins_per_octave``), which makes each bandwidth
        :math:`\alpha f + \gamma` proportional to the ERB of Glasberg & Moore (1990), as
        ``librosa.vqt(gamma=None)``. Other arguments as in the constructor.

        Examples
        --------
        >>> round(WaveletFrontend.vqt(24, fmin=220.0).gamma, 3)
        13.196
        """
        ratio = 2.0 ** (2.0 / check_int("bins_per_octave", bins_per_octave))
        alpha = (ratio - 1) / (ratio + 1)
        return cls(n_filters, bins_per_octave=bins_per_octave, gamma=24.7 * alpha / 0.108, **kwargs)

    def extra_repr(self) -> str:
        return (
            f"fmin={self.fmin:g}, bins_per_octave={self.bins_per_octave}, gamma={self.gamma:g}, "
            + super().extra_repr()
        )


class GammatoneFrontend(_FixedKernels):
    r"""Gammatone frontend: causal FIR gammatones of ``scipy.signal.gammatone``, ERB-spaced.

    Parameters
    ----------
    n_filters : int >= 1
    kernel_size : int >= 1
        Taps of each FIR gammatone.
    sample_rate : float > 0
    fmin : float > 0
        Centre frequency of the lowest filter in Hz.
    fmax : float < sample_rate / 2, optional
        Centre frequency of the highest filter (default: see :func:`fbinit.banks.gammatone`).
    order : int in [1, 24]
    stride : int >= 1
    padding : {"same", "valid", "circular"}
    modulus : {"abs", "power"} or None
    compression : "log", torch.nn.Module or None
    log_floor : float > 0

    Notes
    -----
    The kernels are the taps :math:`h_j` of :func:`fbinit.banks.gammatone` reversed, so that
    frame m is the causal filtering ``scipy.signal.lfilter(h_j, 1, x)`` at sample
    :math:`m d + \lfloor (K-1)/2 \rfloor` (module docstring; tested). nnAudio's
    ``Gammatonegram`` is another construction (a gammatone-shaped weight matrix applied to
    a power STFT, not FIR filtering), so it is not compared.

    Examples
    --------
    >>> frontend = GammatoneFrontend(32, 1024, fmin=100.0)
    >>> frontend.impulse_responses().shape
    torch.Size([32, 1024])
    """

    def __init__(
        self,
        n_filters: int = 64,
        kernel_size: int = 1024,
        *,
        sample_rate: float = 16000.0,
        fmin: float = 50.0,
        fmax: float | None = None,
        order: int = 4,
        stride: int = 160,
        padding: str = "same",
        modulus: str | None = "abs",
        compression: str | torch.nn.Module | None = None,
        log_floor: float = 1e-6,
    ) -> None:
        bank = _build_bank(
            gammatone,
            n_filters,
            kernel_size,
            sample_rate=sample_rate,
            fmin=fmin,
            fmax=fmax,
            order=order,
            stride=stride,
        )
        super().__init__(
            bank,
            torch.flip(bank.weights, dims=(-1,)),
            padding=padding,
            modulus=modulus,
            compression=compression,
            log_floor=log_floor,
        )
        self.order = int(order)
