r"""Dual frames and reconstruction from the coefficients of a frontend's analysis.

Coefficient convention
----------------------
:func:`reconstruct` inverts the analysis of :func:`fbinit.frontends.engine.analysis_conv`
with ``padding="circular"`` (what a :class:`~fbinit.frontends.Frontend` with circular
padding computes in ``analyze``): for real signals x of length N, kernels :math:`w_j` of
K taps and stride d,

.. math:: c_j[m] = \sum_{t=0}^{K-1} w_j[t]\, x[(m d + t - \lfloor K/2 \rfloor) \bmod N],
          \qquad m = 0..N/d - 1,

complex when the kernels are (then the real and imaginary parts are the coefficients of
the real filters :math:`\operatorname{Re} w_j` and :math:`\operatorname{Im} w_j`). These
are the inner products of x with the frame elements :math:`T_{md}\, g_j`,
:math:`g_j[n] = w_j[(n + \lfloor K/2 \rfloor) \bmod N]`. A dual is a bank of synthesis
filters :math:`h_j` with

.. math:: x = \sum_j \sum_m c_j[m]\, h_j[(n - m d) \bmod N],

i.e. each coefficient sequence upsampled by d and circularly convolved with its filter.
In the DFT, with :math:`\hat g_j` the spectra of the frame elements, the frame operator
has the d x d blocks :math:`S(k)_{a,b} = \frac1d \sum_j \hat g_j(f_a)\overline{\hat
g_j(f_b)}` (:math:`f_a = k + aN/d`), the canonical dual is :math:`\hat h = S^{-1}\hat g`
and any synthesis bank reconstructs through the blocks
:math:`R(k) = \frac1d \sum_j \hat h_j(f_a) \overline{\hat g_j(f_b)}`: the reconstruction
error of any signal is at most :math:`\max_k \|R(k) - I\|_2` times its norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from fbinit._validate import as_double_tensor, check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank
from fbinit.tight.canonical import _block_power, _check_nonsingular

__all__ = ["Dual", "canonical_dual", "fir_dual", "reconstruct"]


@dataclass(frozen=True)
class Dual:
    """Synthesis filters that invert a bank's circular analysis (see the module notes).

    Attributes
    ----------
    filters : torch.Tensor, float64, shape (n_channels, length)
        Tap t of filter j is :math:`h_j[t - \\text{offset}]` (circularly): the synthesis
        filters are centred. n_channels is n_filters, or 2 n_filters for a complex bank
        (the real parts' filters, then the imaginary parts').
    stride : int
        Stride d of the analysis.
    n_fft : int
        Signal length N.
    offset : int
        Index of time 0 in ``filters`` (length // 2).
    complex_coefficients : bool
        Whether the coefficients are complex (the analysis bank was).
    error : float
        Worst-case relative reconstruction error :math:`\\max_k \\|R(k) - I\\|_2` over
        all signals of length N (round-off for the canonical dual).
    iterations : int
        Conjugate-gradient iterations of :func:`fir_dual` (0 for the canonical dual).
    """

    filters: torch.Tensor
    stride: int
    n_fft: int
    offset: int
    complex_coefficients: bool
    error: float
    iterations: int = 0


def _frame_spectra(bank: Any, n_fft: Any, stride: Any) -> tuple[torch.Tensor, Filterbank, bool]:
    """Spectra (n_channels, N) of the frame elements g_j of analysis_conv, and the bank."""
    fb = as_filterbank(bank, stride=stride)
    if fb.batch_shape:
        raise ParameterError(f"bank batch shape {fb.batch_shape} must be empty (one bank)")
    if fb.is_multirate:
        raise ParameterError(
            f"stride={fb.stride} must be one int for duals: the coefficients of a multirate "
            "bank have one length per stride (analyse its uniform_expansion instead)"
        )
    n_fft = check_int("n_fft", n_fft)
    if n_fft < fb.kernel_size or n_fft % fb.stride:
        raise ParameterError(
            f"n_fft={n_fft} must be >= kernel_size={fb.kernel_size} and a multiple of "
            f"stride={fb.stride}"
        )
    real = fb.real_part_bank()
    # g_j[n] = w_j[(n + K//2) mod N]: roll the zero-padded kernel left by K//2
    padded = torch.nn.functional.pad(real.weights, (0, n_fft - fb.kernel_size))
    g = torch.roll(padded, -(fb.kernel_size // 2), dims=-1)
    return torch.fft.fft(g), fb, fb.is_complex


def _synthesis_spectra(filters: torch.Tensor, offset: int, n_fft: int) -> torch.Tensor:
    """Spectra (n_channels, N) of centred synthesis taps (tap t at time t - offset)."""
    padded = torch.nn.functional.pad(filters, (0, n_fft - filters.shape[-1]))
    return torch.fft.fft(torch.roll(padded, -offset, dims=-1))


def _reconstruction_blocks(h_spec: torch.Tensor, g_spec: torch.Tensor, stride: int):
    """Blocks R(k) (N/d, d, d) of synthesis after analysis, minus the identity."""
    n_fft = g_spec.shape[-1]
    hp = h_spec.reshape(-1, stride, n_fft // stride)
    gp = g_spec.reshape(-1, stride, n_fft // stride)
    blocks = torch.einsum("jak,jbk->kab", hp, gp.conj()) / stride
    return blocks - torch.eye(stride, dtype=blocks.dtype, device=blocks.device)


def _worst_error(h_spec: torch.Tensor, g_spec: torch.Tensor, stride: int) -> float:
    residual = _reconstruction_blocks(h_spec, g_spec, stride)
    return float(torch.linalg.matrix_norm(residual, ord=2).amax())


def canonical_dual(bank: Any, *, n_fft: int, stride: Any = None) -> Dual:
    r"""The canonical dual :math:`S^{-1} g_j` of a bank: exact reconstruction, length N.

    Parameters
    ----------
    bank : filterbank-like, shape (n_filters, kernel_size)
        One bank at one stride, real or complex; analysed on real signals.
    n_fft : int >= kernel_size, a multiple of the stride
        Signal length N.
    stride : int >= 1, optional
        Default: the bank's own.

    Returns
    -------
    Dual
        Filters of length N; ``error`` is the round-off of the reconstruction.

    Raises
    ------
    ParameterError
        For a singular frame (some signal has no coefficients), a batch or a multirate
        bank.

    Examples
    --------
    >>> import torch
    >>> from fbinit.frontends.engine import analysis_conv
    >>> from fbinit.banks import gaussian
    >>> bank = gaussian(6, 16, stride=4, seed=0)
    >>> dual = canonical_dual(bank, n_fft=64)
    >>> x = torch.randn(2, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> c = analysis_conv(x, bank.weights, stride=4, padding="circular")
    >>> bool(torch.allclose(reconstruct(c, dual), x, atol=1e-12))
    True
    """
    g_spec, fb, is_complex = _frame_spectra(bank, n_fft, stride)
    n_fft = g_spec.shape[-1]
    h_spec, eig = _block_power(g_spec, fb.stride, -1.0)
    _check_nonsingular(eig, n_fft, "a dual")
    h = torch.fft.ifft(h_spec).real
    offset = n_fft // 2
    return Dual(
        filters=torch.roll(h, offset, dims=-1),
        stride=fb.stride,
        n_fft=n_fft,
        offset=offset,
        complex_coefficients=is_complex,
        error=_worst_error(h_spec, g_spec, fb.stride),
    )


def fir_dual(
    bank: Any,
    *,
    n_fft: int,
    kernel_size: int,
    stride: Any = None,
    tol: float = 1e-12,
    max_iter: int = 2000,
) -> Dual:
    r"""A dual with FIR synthesis filters of ``kernel_size`` taps, in least squares.

    Parameters
    ----------
    bank : filterbank-like, shape (n_filters, kernel_size)
        One bank at one stride; analysed on real signals.
    n_fft : int >= kernel_size, a multiple of the stride
        Signal length N.
    kernel_size : int in [1, n_fft]
        Taps L of each synthesis filter, centred (times -L//2 .. L - 1 - L//2).
    stride : int >= 1, optional
    tol : float > 0
        Relative tolerance of the conjugate-gradient solver on the normal equations.
    max_iter : int >= 1
        Most conjugate-gradient iterations.

    Returns
    -------
    Dual
        ``error`` is the worst-case relative reconstruction error of these filters; it
        reaches round-off when an exact dual of this length exists.

    Notes
    -----
    Minimises :math:`\sum_k \|R(k) - I\|_F^2` (the squared Frobenius norm of synthesis
    after analysis minus the identity) over real taps, by conjugate gradients on the
    normal equations (CGLS), each product computed with FFTs in
    :math:`O(J N (d + \log N))`.

    Examples
    --------
    >>> from fbinit.banks import gaussian
    >>> dual = fir_dual(gaussian(6, 16, stride=2, seed=0), n_fft=128, kernel_size=64)
    >>> tuple(dual.filters.shape), dual.error < 0.05
    ((6, 64), True)
    """
    g_spec, fb, is_complex = _frame_spectra(bank, n_fft, stride)
    n_fft, d = g_spec.shape[-1], fb.stride
    length = check_int("kernel_size", kernel_size)
    if length > n_fft:
        raise ParameterError(f"kernel_size={length} must be <= n_fft={n_fft}")
    tol = check_positive_float("tol", tol)
    max_iter = check_int("max_iter", max_iter)
    offset = length // 2
    gp = g_spec.reshape(-1, d, n_fft // d)

    def forward(taps: torch.Tensor) -> torch.Tensor:  # taps -> R(k) (without -I)
        hp = _synthesis_spectra(taps, offset, n_fft).reshape(-1, d, n_fft // d)
        return torch.einsum("jak,jbk->kab", hp, gp.conj()) / d

    def adjoint(blocks: torch.Tensor) -> torch.Tensor:  # R(k) -> real taps
        spec = torch.einsum("kab,jbk->jak", blocks, gp).reshape(-1, n_fft) / d
        full = torch.fft.ifft(spec).real * n_fft
        return torch.roll(full, offset, dims=-1)[:, :length]

    target = torch.eye(d, dtype=gp.dtype, device=gp.device).expand(n_fft // d, d, d)
    taps = torch.zeros(gp.shape[0], length, dtype=torch.float64, device=gp.device)
    residual = target.clone()
    s = adjoint(residual)
    p = s.clone()
    gamma = float(s.square().sum())
    stop = tol * gamma**0.5
    iterations = 0
    while iterations < max_iter and gamma**0.5 > stop:
        q = forward(p)
        alpha = gamma / float(q.real.square().sum() + q.imag.square().sum())
        taps = taps + alpha * p
        residual = residual - alpha * q
        s = adjoint(residual)
        gamma_new = float(s.square().sum())
        p = s + (gamma_new / gamma) * p
        gamma = gamma_new
        iterations += 1
    h_spec = _synthesis_spectra(taps, offset, n_fft)
    return Dual(
        filters=taps,
        stride=d,
        n_fft=n_fft,
        offset=offset,
        complex_coefficients=is_complex,
        error=_worst_error(h_spec, g_spec, d),
        iterations=iterations,
    )


def reconstruct(coefficients: Any, dual: Dual) -> torch.Tensor:
    r"""Signals from their analysis coefficients and a dual (see the module notes).

    Parameters
    ----------
    coefficients : array-like, shape (..., n_filters, n_fft // stride)
        ``analysis_conv(x, bank.weights, stride=d, padding="circular")`` (complex for a
        complex bank), or a frontend's ``analyze`` with circular padding.
    dual : Dual
        From :func:`canonical_dual` or :func:`fir_dual` of the same bank.

    Returns
    -------
    torch.Tensor, float64, shape (..., n_fft)
        :math:`\sum_j (\uparrow_d c_j) \circledast h_j`, on the coefficients' device.
    """
    if not isinstance(dual, Dual):
        raise TypeError(f"dual must be a Dual (from canonical_dual or fir_dual), got {dual!r}")
    c = as_double_tensor("coefficients", coefficients, keep_grad=True)
    n_frames = dual.n_fft // dual.stride
    n_filters = dual.filters.shape[0] // (2 if dual.complex_coefficients else 1)
    if c.ndim < 2 or tuple(c.shape[-2:]) != (n_filters, n_frames):
        raise ParameterError(
            f"coefficients.shape={tuple(c.shape)} must end with (n_filters, n_fft // stride) "
            f"= ({n_filters}, {n_frames})"
        )
    if c.is_complex() != dual.complex_coefficients:
        kind = "complex" if dual.complex_coefficients else "real"
        raise ParameterError(f"coefficients must be {kind} for this dual (as the bank's)")
    if c.is_complex():
        c = torch.cat([c.real, c.imag], dim=-2)
    spec = torch.fft.fft(c).repeat(*([1] * (c.ndim - 1)), dual.stride)  # c_hat(k mod N/d)
    h_spec = _synthesis_spectra(dual.filters.to(c.device), dual.offset, dual.n_fft)
    return torch.fft.ifft((spec * h_spec).sum(dim=-2)).real
