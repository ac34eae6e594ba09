"""Energy response of filterbanks to signals."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from scipy.fft import next_fast_len

from fbinit._memory import CHUNK_BYTES, chunk_count
from fbinit._validate import as_signal, check_choice
from fbinit.analysis._spectral import lp_full, lp_half
from fbinit.analysis.autocorrelation import autocorrelation, binary_scale
from fbinit.errors import ParameterError
from fbinit.filterbank import as_filterbank

__all__ = ["energy_response"]


def _hermitian_weights(n_fft: int) -> torch.Tensor:
    """Multiplicity of each rfft bin in the full spectrum (1 at DC and Nyquist, else 2)."""
    c = torch.full((n_fft // 2 + 1,), 2.0, dtype=torch.float64)
    c[0] = 1.0
    if n_fft % 2 == 0:
        c[-1] = 1.0
    return c


def energy_response(bank: Any, x: Any, *, mode: str = "circular") -> torch.Tensor:
    r"""Output energy :math:`\|\Phi x\|^2` of every bank on every signal.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
        Uses the bank's stride d (each filter's own for a multirate bank).
    x : array-like, shape (..., n_samples)
        Real or complex signals.
    mode : {"circular", "full"}
        Circular convolution of length N (needs kernel_size <= N), or linear ("full",
        zero-padded) convolution of length N + T - 1.

    Returns
    -------
    torch.Tensor, float64, shape (*bank_batch, *signal_batch)
        Empty when a batch is empty. An energy beyond the float64 range (about 1.8e308) is
        inf, with a warning.

    Notes
    -----
    .. math:: E(x) = \sum_j \sum_m |(x \ast w_j)[m d]|^2
              \overset{d=1}{=} \frac1L \sum_k |\hat x(k)|^2\,\mathrm{LP}(k),

    with L = N (circular) or L = N + T - 1 (full); for d = 1 this is one matrix product
    between LP sums and power spectra. For real signals and filters shorter than about N/2
    the same energy is computed from autocorrelations, with FFTs of length 2T - 1 only:

    .. math:: E(x) = \sum_{|\tau| < T} R_x(\tau)\, R_w(\tau),\qquad
              R_w(\tau) = \sum_j \sum_t w_j[t]\, w_j[t + \tau],

    where :math:`R_x` is the circular (or, in full mode, linear) autocorrelation.

    Every signal and every bank is first scaled by a power of two that brings its largest
    magnitude into [1/2, 1) (exact in binary floating point), and the energy is scaled back
    at the end, :math:`E = 2^{2(e_x + e_w)} E(2^{-e_x} x, 2^{-e_w} w)`: squares never
    overflow or underflow, whatever the amplitudes. Banks are processed in chunks of about
    ``fbinit._memory.CHUNK_BYTES`` of working set.

    Examples
    --------
    >>> import torch
    >>> energy_response(torch.eye(3), torch.tensor([1.0, 2.0, 0.0]))
    tensor(15., dtype=torch.float64)
    """
    fb = as_filterbank(bank)
    mode = check_choice("mode", mode, ("circular", "full"))
    x = as_signal(x)
    n = x.shape[-1]
    if mode == "circular" and fb.kernel_size > n:
        raise ParameterError(
            f"kernel_size={fb.kernel_size} must be <= n_samples={n} in circular mode "
            '(use mode="full" for filters longer than the signal)'
        )
    length = n if mode == "circular" else n + fb.kernel_size - 1
    # real x: a complex bank acts as the real bank [Re; Im]
    fb = fb if x.is_complex() else fb.real_part_bank()
    out_shape = fb.batch_shape + x.shape[:-1]
    if fb.weights.numel() == 0 or x.numel() == 0:
        return torch.zeros(out_shape, dtype=torch.float64)
    xs, x_exp = binary_scale(x.reshape(-1, n))
    flat = fb.weights.reshape(-1, fb.n_filters, fb.kernel_size)
    ws, w_exp = binary_scale(flat.reshape(flat.shape[0], -1))
    ws = ws.reshape(flat.shape)
    if fb.stride == 1 and not x.is_complex() and 2 * fb.kernel_size - 1 < length:
        energy = _energy_by_autocorrelation(ws, xs, mode)
    elif fb.stride == 1:
        energy = _energy_by_spectra(ws, xs, length)
    else:
        energy = _energy_strided(ws, fb.strides, xs, length)
    exponent = 2 * (w_exp[:, None] + x_exp[None, :])
    with np.errstate(over="ignore"):
        scaled = np.ldexp(energy.numpy(), exponent.numpy())  # exact, inf on overflow
    if np.isinf(scaled).any():
        warnings.warn(
            f"energy_response: {int(np.isinf(scaled).sum())} energies exceed the float64 range "
            "(about 1.8e308) and are inf",
            RuntimeWarning,
            stacklevel=2,
        )
    return torch.from_numpy(scaled).reshape(out_shape)


def _energy_by_autocorrelation(w: torch.Tensor, xs: torch.Tensor, mode: str) -> torch.Tensor:
    """E = sum_{|tau|<T} R_x(tau) R_w(tau) (stride 1, real x, short filters), shape (B, S)."""
    lags = w.shape[-1]
    r_x = autocorrelation(xs, mode=mode, max_lag=lags - 1)
    n_small = next_fast_len(2 * lags - 1, real=True)
    mult = torch.cat([torch.ones(1), torch.full((lags - 1,), 2.0)]).double()
    step = chunk_count(40 * n_small, CHUNK_BYTES)
    out = []
    for chunk in w.split(step):
        r_w = torch.fft.irfft(lp_half(chunk, n_small), n=n_small)[..., :lags] * mult
        out.append(r_w @ r_x.T)
    return torch.cat(out)


def _energy_by_spectra(w: torch.Tensor, xs: torch.Tensor, length: int) -> torch.Tensor:
    """E = sum_k |x^(k)|^2 LP(k) / L (stride 1), shape (B, S)."""
    if xs.is_complex() or w.is_complex():
        power = torch.fft.fft(xs, n=length).abs().square()
        lp_fn, n_bins = lp_full, length
    else:
        power = torch.fft.rfft(xs, n=length).abs().square() * _hermitian_weights(length)
        lp_fn, n_bins = lp_half, length // 2 + 1
    step = chunk_count(16 * n_bins, CHUNK_BYTES)
    return torch.cat([lp_fn(chunk, length) @ power.T / length for chunk in w.split(step)])


def _energy_strided(
    w: torch.Tensor, strides: tuple[int, ...], xs: torch.Tensor, length: int
) -> torch.Tensor:
    """Filter j keeps every strides[j]-th output of the circular convolution, shape (B, S)."""
    xf = torch.fft.fft(xs, n=length)
    groups = {d: [j for j, s in enumerate(strides) if s == d] for d in sorted(set(strides))}
    per_signal = 48 * max(len(rows) for rows in groups.values()) * length
    step = chunk_count(per_signal, CHUNK_BYTES)
    energy = torch.zeros(w.shape[0], xs.shape[0], dtype=torch.float64)
    for b, bank in enumerate(w):
        for d, rows in groups.items():
            wf = torch.fft.fft(bank[rows], n=length)[:, None, :]
            for start in range(0, xs.shape[0], step):
                y = torch.fft.ifft(wf * xf[None, start : start + step])[..., ::d]
                energy[b, start : start + step] += (y.real.square() + y.imag.square()).sum(
                    dim=(0, -1)
                )
    return energy
