"""Complex Gabor filterbank with LEAF's mel initialisation."""

from __future__ import annotations

import math
import warnings
from typing import Any

import librosa
import numpy as np
import scipy.special
import torch

from fbinit._memory import check_memory
from fbinit._validate import check_int, check_positive_float
from fbinit.banks._fir import (
    centered_time,
    check_band,
    check_bank_args,
    check_bank_memory,
    real_tensor,
    warn_truncated,
)
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["gabor", "gabor_impulse_responses", "mel_gabor_parameters"]

#: sigma * FWHM of a Gaussian: |Psi| = exp(-sigma^2 (w - eta)^2 / 2) halves at 2 sqrt(2 ln 2)
_FWHM_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: envelope energy outside +-3 sigma (|psi|^2 is Gaussian with standard deviation sigma/sqrt 2)
_LOST_AT_3_SIGMA = float(scipy.special.erfc(3.0))


def gabor_impulse_responses(
    center_frequencies: torch.Tensor, bandwidths: torch.Tensor, kernel_size: int
) -> torch.Tensor:
    r"""Complex Gabor impulse responses, differentiable in their parameters.

    Parameters
    ----------
    center_frequencies : torch.Tensor, shape (...)
        Centre frequencies :math:`\eta` in radians per sample (LEAF clips them to
        :math:`[0, \pi]`).
    bandwidths : torch.Tensor > 0, same shape
        Full width at half maximum of :math:`|\hat\psi|` in radians per sample.
    kernel_size : int >= 1
        Number of taps T; tap n holds time :math:`t = n - \lfloor T/2 \rfloor`.

    Returns
    -------
    torch.Tensor, complex, shape (..., kernel_size)
        Complex dtype matching the inputs' real dtype (float64 gives complex128).

    Notes
    -----
    .. math:: \psi(t) = \frac{1}{\sqrt{2\pi}\,\sigma}\, e^{-t^2 / (2\sigma^2)}\,
              e^{i \eta t}, \qquad \sigma = \frac{2\sqrt{2\ln 2}}{\beta},

    where :math:`\beta` is the bandwidth: :math:`\hat\psi(\omega) =
    e^{-\sigma^2 (\omega - \eta)^2 / 2}` peaks at 1 and halves at
    :math:`\eta \pm \beta/2`. LEAF learns :math:`\sigma` (in samples) directly.

    References
    ----------
    N. Zeghidour, O. Teboul, F. de Chaumont Quitry, M. Tagliasacchi, "LEAF: A learnable
    frontend for audio classification", ICLR 2021.

    Examples
    --------
    >>> import torch
    >>> psi = gabor_impulse_responses(torch.tensor([1.0]), torch.tensor([0.5]), 65)
    >>> psi.shape, round(float(torch.fft.fft(psi, n=4096).abs().max()), 3)
    (torch.Size([1, 65]), 1.0)
    """
    kernel_size = check_int("kernel_size", kernel_size)
    eta = real_tensor("center_frequencies", center_frequencies)
    beta = real_tensor("bandwidths", bandwidths)
    if eta.shape != beta.shape:
        raise ParameterError(
            f"bandwidths.shape={tuple(beta.shape)} must equal center_frequencies.shape="
            f"{tuple(eta.shape)}"
        )
    check_bank_memory(
        "gabor", eta.numel(), kernel_size, n_filters=eta.numel(), kernel_size=kernel_size
    )
    if not bool((beta.detach() > 0).all()):
        raise ParameterError("bandwidths must be > 0 (found a value <= 0)")
    dtype = torch.promote_types(eta.dtype, beta.dtype)
    t = centered_time(kernel_size, dtype=dtype, device=eta.device)
    sigma = (_FWHM_SIGMA / beta.to(dtype))[..., None]
    envelope = torch.exp(-0.5 * (t / sigma) ** 2) / (math.sqrt(2 * math.pi) * sigma)
    phase = eta.to(dtype)[..., None] * t
    return torch.complex(envelope * torch.cos(phase), envelope * torch.sin(phase))


def mel_gabor_parameters(
    n_filters: int, *, sample_rate: float, fmin: float, fmax: float, n_fft: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""LEAF's mel initialisation: centre frequencies and FWHM bandwidths in Hz.

    The mel weights multiply power spectra, so the matching amplitude response of filter j
    is :math:`\sqrt{M_j[k]}` (HTK mel, no normalisation, N = ``n_fft``). Its centre is the
    peak bin and its bandwidth the number of bins where it reaches half its peak:

    .. math:: f_j = \frac{\mathrm{sr}}{N} \arg\max_k M_j[k], \qquad
              \beta_j = \frac{\mathrm{sr}}{N}\, \#\{k : \sqrt{M_j[k]} \ge
              \tfrac12 \max_k \sqrt{M_j[k]}\},

    hence :math:`\sigma_j = 2\sqrt{2\ln2}\,\mathrm{sr} / (2\pi\beta_j) =
    \sqrt{2 \ln 2}\, N / (\pi\, \mathrm{fwhm\_bins}_j)` samples.

    Returns
    -------
    center_frequencies, bandwidths : numpy.ndarray, float64, shape (n_filters,)
        In Hz.

    Examples
    --------
    >>> f, b = mel_gabor_parameters(4, sample_rate=16000, fmin=60.0, fmax=7800.0, n_fft=512)
    >>> f.tolist(), b.tolist()
    ([531.25, 1312.5, 2531.25, 4562.5], [937.5, 1500.0, 2437.5, 3937.5])
    """
    n_filters = check_int("n_filters", n_filters)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    fmin, fmax = check_band(fmin, fmax, sample_rate)
    n_fft = check_int("n_fft", n_fft)
    check_memory(
        f"n_filters={n_filters}, n_fft={n_fft}",
        24.0 * n_filters * (n_fft // 2 + 1),
        "the mel weights",
    )
    with warnings.catch_warnings():  # empty channels raise below
        warnings.filterwarnings("ignore", message="Empty filters detected")
        weights = librosa.filters.mel(
            sr=sample_rate,
            n_fft=n_fft,
            n_mels=n_filters,
            fmin=fmin,
            fmax=fmax,
            htk=True,
            norm=None,
            dtype=np.float64,
        )
    amplitude = np.sqrt(weights)
    peaks = amplitude.max(axis=1)
    empty = np.flatnonzero(peaks <= 0)
    if empty.size:
        raise ParameterError(
            f"n_fft={n_fft} must be large enough that every mel channel holds a DFT bin "
            f"(channels {empty[:10].tolist()} are empty); increase n_fft or reduce n_filters"
        )
    bin_hz = sample_rate / n_fft
    centres = amplitude.argmax(axis=1) * bin_hz
    widths = (amplitude >= peaks[:, None] / 2).sum(axis=1) * bin_hz
    return centres.astype(np.float64), widths.astype(np.float64)


def gabor(
    n_filters: int,
    kernel_size: int,
    *,
    sample_rate: float,
    fmin: float = 60.0,
    fmax: float = 7800.0,
    n_fft: int = 512,
    stride: int = 1,
    center_frequencies: Any = None,
    bandwidths: Any = None,
) -> Filterbank:
    r"""Complex Gabor filterbank, mel-initialised as in LEAF.

    Parameters
    ----------
    n_filters : int >= 1
        Number of filters.
    kernel_size : int >= 1
        Number of taps T; the envelopes are centred at tap :math:`\lfloor T/2 \rfloor`.
    sample_rate : float > 0
        Sample rate in Hz.
    fmin, fmax : float, 0 <= fmin < fmax <= sample_rate / 2
        Band of the mel initialisation in Hz (LEAF: 60 and 7800 Hz at 16 kHz).
    n_fft : int >= 1
        DFT size of the mel matrix the initialisation is read from (LEAF: 512).
    stride : int >= 1
        Stride of the bank.
    center_frequencies, bandwidths : array-like, shape (n_filters,), optional
        Centre frequencies in [0, sample_rate / 2] and FWHM bandwidths > 0 in Hz,
        replacing the mel initialisation (give both or neither).

    Returns
    -------
    Filterbank
        complex128 weights of shape (n_filters, kernel_size), ``band=(fmin, fmax)``.

    Warns
    -----
    UserWarning
        When an envelope is cut within three standard deviations, :math:`3\sigma > T/2`
        (more than :math:`\operatorname{erfc}(3) \approx 2.2 \cdot 10^{-5}` of its energy
        outside the kernel). LEAF's reference setting (40 filters, 401 taps, 16 kHz)
        truncates its lowest envelopes this way; though they lose under 1% of their energy,
        the leakage raises the gain at DC and lowers the full-band condition number twenty
        fold.

    Notes
    -----
    Filter j is :func:`gabor_impulse_responses` at
    :math:`\eta_j = 2\pi f_j / \mathrm{sr}` and :math:`\beta_j = 2\pi b_j / \mathrm{sr}`,
    with :math:`(f_j, b_j)` from :func:`mel_gabor_parameters` (peak and FWHM of the
    square-rooted mel triangles). Its envelope energy :math:`|\psi|^2` is Gaussian with
    standard deviation :math:`\sigma/\sqrt2`, so the fraction outside the taps, compared
    with :math:`\operatorname{erfc}(3)` for the warning, is

    .. math:: \tfrac12 \operatorname{erfc}\frac{\lfloor T/2\rfloor + 1/2}{\sigma}
              + \tfrac12 \operatorname{erfc}\frac{T - \lfloor T/2\rfloor - 1/2}{\sigma}.

    The mel initialisation leaves DC and Nyquist uncovered: its full-band condition number
    is far larger than its condition number in ``band``.

    References
    ----------
    N. Zeghidour, O. Teboul, F. de Chaumont Quitry, M. Tagliasacchi, "LEAF: A learnable
    frontend for audio classification", ICLR 2021.

    Examples
    --------
    >>> bank = gabor(40, 401, sample_rate=16000, fmin=300.0)
    >>> bank.weights.dtype, tuple(bank.weights.shape), bank.band
    (torch.complex128, (40, 401), (300.0, 7800.0))
    """
    n_filters, kernel_size, sample_rate, stride = check_bank_args(
        n_filters, kernel_size, sample_rate, stride
    )
    fmin, fmax = check_band(fmin, fmax, sample_rate)
    n_fft = check_int("n_fft", n_fft)
    check_bank_memory(
        "gabor",
        n_filters,
        max(kernel_size, n_fft),
        n_filters=n_filters,
        kernel_size=kernel_size,
        n_fft=n_fft,
    )
    if center_frequencies is None and bandwidths is None:
        centres, widths = mel_gabor_parameters(
            n_filters, sample_rate=sample_rate, fmin=fmin, fmax=fmax, n_fft=n_fft
        )
    elif center_frequencies is None or bandwidths is None:
        raise ParameterError(
            "center_frequencies and bandwidths must be given together (or neither, for the "
            "mel initialisation)"
        )
    else:
        centres = real_tensor("center_frequencies", center_frequencies).detach().double().numpy()
        widths = real_tensor("bandwidths", bandwidths).detach().double().numpy()
        for name, values in (("center_frequencies", centres), ("bandwidths", widths)):
            if values.shape != (n_filters,):
                raise ParameterError(
                    f"{name}.shape={values.shape} must be (n_filters,) = ({n_filters},)"
                )
        if not np.all((centres >= 0) & (centres <= sample_rate / 2)):
            raise ParameterError(
                f"center_frequencies must lie in [0, sample_rate / 2 = {sample_rate / 2}]"
            )
        if not np.all(widths > 0):
            raise ParameterError("bandwidths must be > 0 Hz (found a value <= 0)")
    to_radians = 2 * np.pi / sample_rate
    weights = gabor_impulse_responses(
        torch.from_numpy(centres * to_radians),
        torch.from_numpy(widths * to_radians),
        kernel_size,
    )
    sigma = _FWHM_SIGMA / (widths * to_radians)
    half = kernel_size // 2
    lost = 0.5 * scipy.special.erfc((half + 0.5) / sigma) + 0.5 * scipy.special.erfc(
        (kernel_size - half - 0.5) / sigma
    )
    warn_truncated("gabor", lost, centres, kernel_size, tolerance=_LOST_AT_3_SIGMA)
    return Filterbank(
        weights,
        stride=stride,
        sample_rate=sample_rate,
        band=(fmin, fmax),
        name=f"gabor J={n_filters} T={kernel_size}",
    )
