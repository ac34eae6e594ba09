r"""An FIR tightener: the nearest tight frame with the bank's own kernel size, iteratively.

Each iteration maps the bank to its canonical tight frame :math:`S^{-1/2} w_j` (filters of
length N) and truncates it back to the bank's taps; it stops as soon as the condition
number is within ``tol`` of 1. A multirate bank is mapped through its uniform expansion
and folded back (each filter the mean of its delayed copies, shifted back).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.analysis._spectral import normalise
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.tight.canonical import (
    block_power,
    check_nonsingular,
    expand_spectrum,
    fold_spectrum,
    real_frame,
)

__all__ = ["TightenResult", "tighten"]


@dataclass(frozen=True)
class TightenResult:
    """What :func:`tighten` did.

    Attributes
    ----------
    bank : Filterbank
        The tightened bank: same kernel_size, stride(s), sample rate and band, scaled so
        that the mean eigenvalue of its frame operator is 1 (A <= 1 <= B).
    kappa : float
        Its condition number at ``n_fft``.
    kappa_initial : float
        The condition number of the input bank.
    iterations : int
        Number of tightening steps taken (0 when the bank already met the tolerance).
    converged : bool
        Whether kappa <= 1 + tol.
    """

    bank: Filterbank
    kappa: float
    kappa_initial: float
    iterations: int
    converged: bool


def _mean_gain(weights: torch.Tensor, strides: tuple[int, ...]) -> torch.Tensor:
    r"""Mean eigenvalue of the frame operator, :math:`\operatorname{tr} S / N =
    \sum_j \|w_j\|^2 / d_j`."""
    energy = weights.real.square() + (weights.imag.square() if weights.is_complex() else 0)
    d = torch.tensor(strides, dtype=torch.float64, device=weights.device)
    return (energy.sum(dim=-1) / d).sum()


def tighten(
    bank: Any,
    *,
    n_fft: int,
    stride: Any = None,
    tol: float = 1e-2,
    max_iter: int = 1000,
    real_input: bool = True,
) -> TightenResult:
    r"""Tighten one FIR bank without changing its kernel size, until kappa <= 1 + tol.

    Parameters
    ----------
    bank : filterbank-like, shape (n_filters, kernel_size)
        One bank (real or complex; a Conv1d, a frontend, a tensor). It must be a frame
        (A > 0) at ``n_fft``.
    n_fft : int >= kernel_size
        Signal length N on which the frame is made tight. The bounds of an FIR bank
        converge as N grows; N of a few times the kernel size is usually enough.
    stride : int >= 1 or one int per filter, each dividing n_fft, optional
        Default: the bank's own stride(s).
    tol : float > 0
        Stop as soon as :math:`\kappa \le 1 + \mathrm{tol}`.
    max_iter : int >= 0
        Most tightening steps.
    real_input : bool
        Tighten for real signals (a complex bank's real and imaginary parts are tightened
        as real filters and recombined) or, with False, for complex signals.

    Returns
    -------
    TightenResult
        The bank, its kappa, the initial kappa, the number of iterations and whether the
        tolerance was met.

    Warns
    -----
    RuntimeWarning
        When ``max_iter`` steps did not reach the tolerance (the result is the last bank).

    Notes
    -----
    One step is :math:`w_j \leftarrow \mathbb 1_{[0, T)}\, S^{-1/2} w_j`: the canonical
    tight frame (computed through the frame blocks, see
    :func:`~fbinit.tight.canonical.canonical_tight`) truncated back to the T taps. The
    eigen-decomposition of the blocks that gives :math:`S^{-1/2}` also gives kappa, so
    the stopping test costs nothing. The frame is tight under both of fbinit's
    conventions (convolution and :func:`fbinit.frontends.engine.analysis_conv`'s
    correlation).

    References
    ----------
    D. Haider, F. Perfler, V. Lostanlen, M. Ehler, P. Balazs, "Hold me tight: trainable
    and stable hybrid auditory filterbanks for speech enhancement", arXiv 2408.17358,
    2024 (the alternating tightening, there run for a fixed number of steps).

    Examples
    --------
    >>> from fbinit.banks import gaussian
    >>> result = tighten(gaussian(8, 16, seed=0), n_fft=64, tol=1e-3)
    >>> result.converged, result.kappa <= 1.001, tuple(result.bank.weights.shape)
    (True, True, (8, 16))
    """
    fb, n_fft, split = real_frame(bank, n_fft, stride, real_input)
    if fb.batch_shape:
        raise ParameterError(f"bank batch shape {fb.batch_shape} must be empty (one bank)")
    tol = check_positive_float("tol", tol)
    max_iter = check_int("max_iter", max_iter, minimum=0)
    strides, kernel_size = fb.strides, fb.kernel_size
    weights, _ = normalise(fb.weights.detach())
    kappa_initial = kappa = float("nan")
    iteration = 0
    while True:
        spec = expand_spectrum(torch.fft.fft(weights, n=n_fft), strides)
        tight, eig = block_power(spec, fb.period, -0.5)
        if iteration == 0:
            check_nonsingular(eig, n_fft, "a tight version")
        kappa = float(eig.amax() / eig.amin())
        if iteration == 0:
            kappa_initial = kappa
        if kappa <= 1 + tol or iteration == max_iter:
            break
        weights = torch.fft.ifft(fold_spectrum(tight, strides))[..., :kernel_size]
        weights = weights if fb.is_complex else weights.real
        weights, _ = normalise(weights)
        iteration += 1
    converged = kappa <= 1 + tol
    if not converged:
        warnings.warn(
            f"tighten stopped after max_iter={max_iter} steps at kappa={kappa:.6g} > "
            f"1 + tol = {1 + tol:g}; raise max_iter or n_fft, or accept the bank as it is",
            RuntimeWarning,
            stacklevel=2,
        )
    weights = weights / _mean_gain(weights, strides).sqrt()
    out_stride: Any = fb.stride
    if split:
        half = weights.shape[-2] // 2
        weights = torch.complex(weights[:half], weights[half:])
        out_stride = fb.strides[:half]
    return TightenResult(
        bank=Filterbank(
            weights,
            stride=out_stride,
            sample_rate=fb.sample_rate,
            band=fb.band,
            name=f"tightened {fb.name}".strip(),
        ),
        kappa=kappa,
        kappa_initial=kappa_initial,
        iterations=iteration,
        converged=converged,
    )
