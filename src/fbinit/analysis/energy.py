"""Energy response of filterbanks to signals."""

from __future__ import annotations

from typing import Any

import torch
from scipy.fft import next_fast_len

from fbinit._validate import as_signal, check_choice
from fbinit.analysis._spectral import lp_full, lp_half
from fbinit.analysis.autocorrelation import autocorrelation
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
    weights = fb.weights
    sig_shape, bank_shape = x.shape[:-1], fb.batch_shape
    xs = x.reshape(-1, n)
    if fb.stride == 1 and not x.is_complex() and 2 * fb.kernel_size - 1 < length:
        # short filters: E = sum_{|tau|<T} R_x(tau) R_w(tau), FFTs of length ~2T, not L
        lags = fb.kernel_size
        r_x = autocorrelation(xs, mode=mode, max_lag=lags - 1)
        n_small = next_fast_len(2 * lags - 1, real=True)
        r_w = torch.fft.irfft(lp_half(weights, n_small), n=n_small)[..., :lags]
        r_w = r_w * torch.cat([torch.ones(1), torch.full((lags - 1,), 2.0)]).double()
        energy = r_w.reshape(-1, lags) @ r_x.T
    elif fb.stride == 1:
        if x.is_complex() or weights.is_complex():
            power = torch.fft.fft(xs, n=length).abs().square()
            lp = lp_full(weights, length)
        else:
            power = torch.fft.rfft(xs, n=length).abs().square() * _hermitian_weights(length)
            lp = lp_half(weights, length)
        energy = lp.reshape(-1, lp.shape[-1]) @ power.T / length
    else:
        # strided (or multirate): filter j keeps every strides[j]-th output
        xf = torch.fft.fft(xs, n=length)
        flat = weights.reshape(-1, *weights.shape[-2:])
        groups = {d: [j for j, s in enumerate(fb.strides) if s == d] for d in set(fb.strides)}
        energy = torch.stack(
            [
                sum(
                    torch.fft.ifft(torch.fft.fft(w[rows], n=length)[:, None, :] * xf[None])[
                        ..., ::d
                    ]
                    .abs()
                    .square()
                    .sum(dim=(0, -1))
                    for d, rows in groups.items()
                )
                for w in flat
            ]
        )
    return energy.reshape(bank_shape + sig_shape)
