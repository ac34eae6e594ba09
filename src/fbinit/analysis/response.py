"""Frequency responses and the Littlewood-Paley sum of a filterbank."""

from __future__ import annotations

from typing import Any

import torch

from fbinit._validate import check_bool
from fbinit.analysis._spectral import check_n_fft, lp_full
from fbinit.filterbank import as_filterbank

__all__ = ["frequency_response", "littlewood_paley"]


def frequency_response(bank: Any, *, n_fft: int) -> torch.Tensor:
    r"""DFT of each zero-padded impulse response.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
        See :func:`fbinit.as_filterbank`.
    n_fft : int >= kernel_size
        DFT length N.

    Returns
    -------
    torch.Tensor, complex128, shape (..., n_filters, n_fft)

    Notes
    -----
    Unnormalised DFT, so that Parseval reads
    :math:`\sum_k |\hat w(k)|^2 = N \|w\|^2`:

    .. math:: \hat w_j(k) = \sum_{t=0}^{T-1} w_j[t]\, e^{-2\pi i k t / N}.

    Examples
    --------
    >>> import torch
    >>> frequency_response(torch.eye(2), n_fft=2)
    tensor([[ 1.+0.j,  1.+0.j],
            [ 1.+0.j, -1.+0.j]], dtype=torch.complex128)
    """
    fb = as_filterbank(bank, keep_grad=True)
    return torch.fft.fft(fb.weights, n=check_n_fft(fb, n_fft))


def littlewood_paley(bank: Any, *, n_fft: int, real_input: bool = True) -> torch.Tensor:
    r"""Littlewood-Paley sum: the energy gain of a stride-1 bank at each DFT bin.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
    n_fft : int >= kernel_size
    real_input : bool
        For complex (analytic) filters analysed on real signals, return the symmetrised
        sum :math:`(\mathrm{LP}(k) + \mathrm{LP}(-k))/2`, the gain that real signals see.
        Has no effect on real filters, whose LP sum is already symmetric.

    Returns
    -------
    torch.Tensor, float64, shape (..., n_fft)

    Notes
    -----
    .. math:: \mathrm{LP}(k) = \sum_{j=1}^{J} |\hat w_j(k)|^2,\qquad
              \min_k \mathrm{LP}(k)\,\|x\|^2 \le \|\Phi x\|^2 \le \max_k \mathrm{LP}(k)\,\|x\|^2.

    Examples
    --------
    >>> import torch
    >>> littlewood_paley(torch.eye(4), n_fft=4)
    tensor([4., 4., 4., 4.], dtype=torch.float64)
    """
    real_input = check_bool("real_input", real_input)
    fb = as_filterbank(bank, keep_grad=True)
    lp = lp_full(fb.weights, check_n_fft(fb, n_fft))
    if real_input and fb.is_complex:
        lp = 0.5 * (lp + torch.roll(torch.flip(lp, dims=(-1,)), 1, dims=-1))
    return lp
