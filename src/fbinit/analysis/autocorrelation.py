r"""Autocorrelation of signals and the eigenvalues of its Toeplitz section.

The energy response of a random Gaussian bank of ``n_filters`` filters with ``kernel_size``
taps on a signal x depends on x only through the T x T Toeplitz matrix
:math:`(Q_T)_{kl} = R(k - l)` built from the autocorrelation R of x (circular for circular
convolution, linear for "full" convolution). This module computes R by FFTs and the
eigenvalues of :math:`Q_T`, batched over signals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse.linalg
import torch

from fbinit._memory import check_memory
from fbinit._validate import as_signal, check_choice, check_int
from fbinit.errors import ParameterError

__all__ = [
    "DENSE_MAX_KERNEL_SIZE",
    "autocorrelation",
    "autocorrelation_eigenvalues",
    "binary_scale",
    "frobenius_norm2",
]

#: Largest kernel size whose Toeplitz matrix is diagonalised densely when only the top
#: eigenvalues are asked for; above it they come from Lanczos iterations with FFT products.
DENSE_MAX_KERNEL_SIZE = 2048

# elements of the batched dense Toeplitz matrices built at once (128 MiB of float64)
_DENSE_CHUNK = 2**24


def binary_scale(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows scaled by 2^-e so that their largest magnitude is in [1/2, 1); and e per row.

    Exact in binary floating point (only the exponents change), so quadratic quantities of
    the scaled rows neither overflow nor underflow and scale back exactly with
    ``numpy.ldexp``. A zero row has e = 0.
    """
    peak = rows.abs().amax(dim=-1)
    _, exponent = torch.frexp(peak)  # peak = m 2^e, m in [1/2, 1); 0 for a zero row
    shift = -exponent.numpy()[..., None]

    def scale(part: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.ldexp(part.numpy(), shift))

    scaled = torch.complex(scale(rows.real), scale(rows.imag)) if rows.is_complex() else scale(rows)
    return scaled, exponent.to(torch.int64)


def unscale(values: torch.Tensor, exponent: torch.Tensor, what: str) -> torch.Tensor:
    """``values * 2**exponent`` exactly (inf beyond the float64 range, with a warning)."""
    with np.errstate(over="ignore"):
        out = np.ldexp(values.numpy(), exponent.numpy())
    n_inf = int(np.isinf(out).sum()) - int(np.isinf(values.numpy()).sum())
    if n_inf > 0:
        warnings.warn(
            f"{n_inf} {what} exceed the float64 range (about 1.8e308) and are inf",
            RuntimeWarning,
            stacklevel=3,
        )
    return torch.from_numpy(out)


def real_signal(x: Any) -> torch.Tensor:
    """Coerce ``x`` to a real float64 tensor of shape (..., n_samples), or raise."""
    x = as_signal(x)
    if x.is_complex():
        raise TypeError("x must be a real signal, got complex values")
    return x


def nonzero_signal(x: Any) -> torch.Tensor:
    """Coerce ``x`` like :func:`real_signal` and require nonzero energy in every signal."""
    x = real_signal(x)
    silent = (x == 0).all(dim=-1)
    if bool(silent.any()):
        where = "" if x.ndim == 1 else f" at batch indices {silent.nonzero().tolist()}"
        raise ParameterError(f"||x||^2=0{where} must be > 0 (x is all zeros)")
    return x


def scaled_signal(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Signals (..., n) scaled by powers of two to a peak in [1/2, 1); the exponents (...)."""
    if x.numel() == 0:
        return x, torch.zeros(x.shape[:-1], dtype=torch.int64)
    xs, exponent = binary_scale(x.reshape(-1, x.shape[-1]))
    return xs.reshape(x.shape), exponent.reshape(x.shape[:-1])


def kernel_sizes(kernel_size: Any, n_samples: int, mode: str) -> tuple[list[int], bool]:
    """Validate an int or a sequence of ints; return the list and whether it was a sequence."""
    if isinstance(kernel_size, (torch.Tensor, np.ndarray)):
        kernel_size = kernel_size.tolist()
    is_seq = isinstance(kernel_size, Sequence) and not isinstance(kernel_size, str)
    sizes = list(kernel_size) if is_seq else [kernel_size]
    if is_seq and not sizes:
        raise ParameterError("kernel_size=[] must hold at least one kernel size")
    sizes = [check_int("kernel_size", t) for t in sizes]
    if mode == "circular" and max(sizes) > n_samples:
        raise ParameterError(
            f"kernel_size={max(sizes)} must be <= n_samples={n_samples} in circular mode "
            '(use mode="full" for filters longer than the signal)'
        )
    return sizes, is_seq


def autocorrelation(x: Any, *, mode: str = "circular", max_lag: int | None = None) -> torch.Tensor:
    r"""Autocorrelation :math:`R(\tau)` of real signals, by FFT.

    Parameters
    ----------
    x : array-like of real numbers, shape (..., n_samples)
        One signal or a batch of signals along leading axes.
    mode : {"circular", "full"}
        Circular autocorrelation (period N), or the linear one of the zero-padded signal
        (the FFT is zero-padded to at least 2N - 1 points, so nothing wraps around).
    max_lag : int >= 0, optional
        Largest lag returned. Default N - 1. In circular mode it must be <= N - 1 (R is
        N-periodic); in full mode larger lags are allowed and hold zeros.

    Returns
    -------
    torch.Tensor, float64, shape (..., max_lag + 1)
        :math:`R(0), \dots, R(\text{max\_lag})`; R is even, :math:`R(-\tau) = R(\tau)`.
        Each signal is scaled by a power of two before the FFTs (exact), so values beyond
        the float64 range are inf with a warning, never NaN.

    Notes
    -----
    .. math:: R_\circ(\tau) = \sum_{n=0}^{N-1} x[n]\, x[(n + \tau) \bmod N], \qquad
              R_{\mathrm{lin}}(\tau) = \sum_{n=0}^{N-1-\tau} x[n]\, x[n + \tau],

    both computed as the inverse FFT of :math:`|\hat x|^2` (of length N, or of a fast
    length >= 2N - 1). :math:`R(0) = \|x\|^2` in both modes.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> [round(r, 9) for r in autocorrelation([1.0, 2.0, 3.0]).tolist()]
    [14.0, 11.0, 11.0]
    >>> [round(r, 9) for r in autocorrelation([1.0, 2.0, 3.0], mode="full", max_lag=3).tolist()]
    [14.0, 8.0, 3.0, 0.0]
    """
    mode = check_choice("mode", mode, ("circular", "full"))
    x = real_signal(x)
    n = x.shape[-1]
    if max_lag is None:
        max_lag = n - 1
    max_lag = check_int("max_lag", max_lag, minimum=0)
    if mode == "circular" and max_lag > n - 1:
        raise ParameterError(
            f"max_lag={max_lag} must be <= n_samples - 1 = {n - 1} in circular mode"
        )
    batch = x.shape[:-1]
    n_signals = math.prod(batch)
    n_fft = n if mode == "circular" else scipy.fft.next_fast_len(2 * n - 1, real=True)
    check_memory(
        f"max_lag={max_lag}, n_samples={n}",
        8.0 * n_signals * (max_lag + 1 + 3 * n_fft),
        f"the autocorrelations of {n_signals} signals",
    )
    if n_signals == 0:
        return torch.zeros((*batch, max_lag + 1), dtype=torch.float64)
    xs, exponent = binary_scale(x.reshape(-1, n))
    spec = torch.fft.rfft(xs, n=n_fft)
    r = torch.fft.irfft(spec.real.square() + spec.imag.square(), n=n_fft)[..., :n]
    if max_lag + 1 > n:
        r = torch.nn.functional.pad(r, (0, max_lag + 1 - n))
    r = unscale(r[..., : max_lag + 1].contiguous(), 2 * exponent[:, None], "autocorrelations")
    return r.reshape(*batch, max_lag + 1)


def frobenius_norm2(r: torch.Tensor, kernel_size: int) -> torch.Tensor:
    r"""Squared Frobenius norm of the Toeplitz section, from lags ``r[..., :kernel_size]``.

    .. math:: \|Q_T\|_F^2 = \sum_i \lambda_i^2 = \sum_{|\tau| < T} (T - |\tau|)\, R(\tau)^2
    """
    t = kernel_size
    lags = torch.arange(t, dtype=torch.float64)
    mult = torch.where(lags == 0, float(t), 2.0 * (t - lags))
    return (r[..., :t].square() * mult).sum(-1)


def _toeplitz_dense(r: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Eigenvalues (descending) of the Toeplitz matrices of lags ``r`` (batched, dense)."""
    t = kernel_size
    idx = torch.arange(t)
    lag = (idx[:, None] - idx[None, :]).abs()
    flat = r[..., :t].reshape(-1, t)
    if flat.shape[0] == 0:
        return torch.zeros((*r.shape[:-1], t), dtype=torch.float64)
    step = max(1, _DENSE_CHUNK // (t * t))
    out = [
        torch.linalg.eigvalsh(flat[i : i + step][:, lag]).flip(-1)
        for i in range(0, flat.shape[0], step)
    ]
    return torch.cat(out).reshape(*r.shape[:-1], t)


def _toeplitz_lanczos(r: torch.Tensor, kernel_size: int, n_top: int) -> torch.Tensor:
    """Top ``n_top`` eigenvalues (descending) by ARPACK Lanczos with O(T log T) products."""
    t = kernel_size
    n_fft = scipy.fft.next_fast_len(2 * t - 1, real=True)
    flat = r[..., :t].reshape(-1, t).numpy()
    # deterministic start vector with no special symmetry (a constant one is orthogonal to
    # the top eigenvector of (-1)^n)
    v0 = np.random.default_rng(0).standard_normal(t)
    out = np.empty((flat.shape[0], n_top))
    for b, lags in enumerate(flat):
        column = np.zeros(n_fft)
        column[:t] = lags
        column[n_fft - t + 1 :] = lags[1:][::-1]
        symbol = scipy.fft.rfft(column)

        def matvec(v, symbol=symbol):
            v = np.asarray(v).reshape(-1)
            return scipy.fft.irfft(symbol * scipy.fft.rfft(v, n=n_fft), n=n_fft)[:t]

        op = scipy.sparse.linalg.LinearOperator((t, t), matvec=matvec, dtype=np.float64)
        vals = scipy.sparse.linalg.eigsh(
            op, k=n_top, which="LA", v0=v0, tol=1e-12, return_eigenvectors=False
        )
        out[b] = np.sort(vals)[::-1]
    return torch.from_numpy(out).reshape(*r.shape[:-1], n_top)


def autocorrelation_eigenvalues(
    x: Any,
    kernel_size: int | Sequence[int],
    *,
    mode: str = "circular",
    n_top: int | None = None,
) -> torch.Tensor:
    r"""Eigenvalues of the T x T Toeplitz autocorrelation matrix :math:`Q_T` of signals.

    Parameters
    ----------
    x : array-like of real numbers, shape (..., n_samples)
        Signals (leading axes are a batch).
    kernel_size : int >= 1 or sequence of them
        T; at most n_samples in circular mode. A sequence adds an axis (before the
        eigenvalue axis) and the eigenvalues of smaller T are padded with zeros.
    mode : {"circular", "full"}
        Which autocorrelation fills :math:`Q_T` (that of circular or of linear convolution).
    n_top : int >= 1, optional
        Return only the ``n_top`` largest eigenvalues (all T when None). They come from
        Lanczos iterations (``scipy.sparse.linalg.eigsh``, relative tolerance 1e-12) whose
        matrix products are FFT convolutions, O(T log T) each, when T >
        :data:`DENSE_MAX_KERNEL_SIZE` or when T >= 256 and ``n_top`` <= T / 8; otherwise
        from the dense solver.

    Returns
    -------
    torch.Tensor, float64, shape (..., [n_kernel_sizes,] n_eig)
        Eigenvalues in descending order, :math:`\lambda_1 \ge \dots`, with n_eig = max T
        (or ``min(n_top, max T)``); entries past T are zero padding. Values that round-off makes
        negative (the matrix is positive semi-definite) are set to 0.

    Notes
    -----
    .. math:: (Q_T)_{kl} = R(k - l), \qquad \sum_i \lambda_i = T R(0), \qquad
              \sum_i \lambda_i^2 = \sum_{|\tau|<T} (T - |\tau|) R(\tau)^2.

    The full spectrum uses ``torch.linalg.eigvalsh`` on the batched dense matrices: O(T^3)
    per signal (a few tenths of a second at T = 1024). The energy response of a Gaussian
    bank is :math:`\sigma^2 \sum_i \lambda_i \chi^2_{J,i}` (see
    :func:`fbinit.analysis.distribution.energy_distribution`).

    References
    ----------
    R. M. Gray, "Toeplitz and Circulant Matrices: A Review", Foundations and Trends in
    Communications and Information Theory 2(3), 2006.

    Examples
    --------
    >>> lam = autocorrelation_eigenvalues([1.0, 1.0, 1.0, 1.0], 2)
    >>> [round(v, 12) for v in lam.tolist()]
    [8.0, 0.0]
    """
    mode = check_choice("mode", mode, ("circular", "full"))
    x = real_signal(x)
    n = x.shape[-1]
    sizes, is_seq = kernel_sizes(kernel_size, n, mode)
    if n_top is not None:
        n_top = check_int("n_top", n_top)
    width = max(sizes) if n_top is None else min(n_top, max(sizes))
    for t in sizes:
        k = t if n_top is None else min(n_top, t)
        dense = k == t or (t <= DENSE_MAX_KERNEL_SIZE and not (t >= 256 and 8 * k <= t))
        check_memory(
            f"kernel_size={t}",
            (32.0 * t * t if dense else 8.0 * t * (k + 8)) + 8.0 * math.prod(x.shape[:-1]) * t,
            "the eigenvalues of one Toeplitz matrix",
        )
    # the eigenvalues scale with x^2: compute them for x scaled to a peak in [1/2, 1)
    xs, exponent = binary_scale(x.reshape(-1, n)) if x.numel() else (x, None)
    r = autocorrelation(xs.reshape(x.shape), mode=mode, max_lag=max(sizes) - 1)
    out = []
    for t in sizes:
        k = t if n_top is None else min(n_top, t)
        few = t >= 256 and 8 * k <= t  # a few of many: Lanczos is much cheaper than dense
        if k == t or (t <= DENSE_MAX_KERNEL_SIZE and not few):
            lam = _toeplitz_dense(r, t)[..., :k]
        else:
            lam = _toeplitz_lanczos(r, t, k)
        lam = lam.clamp(min=0.0)  # round-off below zero: Q_T is positive semi-definite
        out.append(torch.nn.functional.pad(lam, (0, width - k)))
    result = torch.stack(out, dim=-2)
    if exponent is not None:
        flat = result.reshape(exponent.shape[0], -1)
        result = unscale(flat, 2 * exponent[:, None], "eigenvalues").reshape(result.shape)
    return result if is_seq else result[..., 0, :]
