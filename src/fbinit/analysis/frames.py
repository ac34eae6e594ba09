r"""Frame bounds and condition numbers of filterbanks, for any stride.

Conventions
-----------
The analysis operator of a bank with stride d on signals of length N (circular) is
:math:`(\Phi x)[j, m] = (x \circledast w_j)[m d]`. Its frame bounds are the extreme
eigenvalues of the frame operator :math:`S = \Phi^H \Phi`. For d = 1 they are the extreme
values of the Littlewood-Paley sum; for d > 1 the DFT block-diagonalises S into N/d blocks
of size d x d (see :func:`frame_bounds`). With ``real_input=True`` a complex bank is analysed
as the real bank of its real and imaginary parts, which is what real signals see.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from fbinit.analysis._spectral import _chunks, check_n_fft, lp_full, lp_half
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank

__all__ = ["frame_bounds", "condition_number", "kappa_from_bounds", "analysis_matrix", "band_bins"]


def _prepare(bank: Any, n_fft: int, stride: int | None, real_input: bool):
    fb = as_filterbank(bank, stride=stride)
    if real_input:
        fb = fb.real_part_bank()
    n_fft = check_n_fft(fb, n_fft)
    if fb.is_multirate:
        raise ParameterError(
            f"stride={fb.stride} must be one int: frame bounds of multirate banks are not "
            "implemented yet"
        )
    if n_fft % fb.stride:
        raise ParameterError(f"stride={fb.stride} must divide n_fft={n_fft}")
    return fb, n_fft


def band_bins(n_fft: int, sample_rate: float, band: tuple[float, float]) -> torch.Tensor:
    """Boolean mask of the DFT bins k = 0..n_fft-1 whose |frequency| lies in ``band`` (Hz)."""
    fmin, fmax = (float(f) for f in band)
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ParameterError(f"band={band} must satisfy 0 <= fmin < fmax <= sample_rate / 2")
    freqs = torch.fft.fftfreq(n_fft, d=1.0 / sample_rate, dtype=torch.float64).abs()
    mask = (freqs >= fmin) & (freqs <= fmax)
    if not bool(mask.any()):
        raise ParameterError(f"band={band} must contain at least one DFT bin at n_fft={n_fft}")
    return mask


def _block_bounds(fb: Filterbank, n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Extreme eigenvalues of the N/d blocks M(k) of the stride-d frame operator."""
    d = fb.stride
    lows, highs = [], []
    for chunk in _chunks(fb.weights, n_fft):
        spec = torch.fft.fft(chunk, n=n_fft)  # (b, J, N)
        spec = spec.reshape(*spec.shape[:-1], d, n_fft // d)  # index k + a N/d -> (a, k)
        blocks = torch.einsum("bjak,bjck->bkac", spec, spec.conj()) / d
        eig = torch.linalg.eigvalsh(blocks)  # ascending, (b, N/d, d)
        lows.append(eig[..., 0].amin(dim=-1))
        highs.append(eig[..., -1].amax(dim=-1))
    shape = fb.batch_shape
    return torch.cat(lows).reshape(shape), torch.cat(highs).reshape(shape)


def frame_bounds(
    bank: Any,
    *,
    n_fft: int,
    stride: int | None = None,
    real_input: bool = True,
    band: tuple[float, float] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Optimal frame bounds (A, B) of a filterbank on signals of length ``n_fft``.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
        One bank or a batch of banks.
    n_fft : int >= kernel_size
        Signal length N (circular convolution).
    stride : int >= 1 dividing n_fft, optional
        Overrides the bank's stride d.
    real_input : bool
        Analyse complex banks on real signals (the real and imaginary parts as separate
        real filters). Without it, complex banks are analysed on complex signals.
    band : (fmin, fmax) in Hz, optional
        Restrict the bounds to the DFT bins in this band (stride 1 only; needs the bank's
        sample_rate). The result then bounds :math:`\|\Phi x\|^2` only for signals whose
        spectrum lies in the band.

    Returns
    -------
    A, B : torch.Tensor, float64, shape (...)
        Lower and upper frame bounds, never clamped.

    Notes
    -----
    For d = 1, :math:`A = \min_k \mathrm{LP}(k)` and :math:`B = \max_k \mathrm{LP}(k)`.
    For d > 1 (d divides N), S is block-diagonal in the DFT basis with blocks

    .. math:: M(k)_{a,b} = \frac1d \sum_j \hat w_j(k + aN/d)\,\overline{\hat w_j(k + bN/d)},
              \quad k = 0..N/d-1,

    and A, B are the extreme eigenvalues over all blocks.

    Examples
    --------
    >>> import torch
    >>> A, B = frame_bounds(torch.eye(4), n_fft=8, stride=4)
    >>> float(A), float(B)
    (1.0, 1.0)
    """
    fb, n_fft = _prepare(bank, n_fft, stride, real_input)
    if band is not None:
        if fb.stride != 1:
            raise ParameterError(f"band={band} is only defined for stride=1, got {fb.stride}")
        if fb.sample_rate is None:
            raise ParameterError("band needs the bank's sample_rate (sample_rate=None)")
        lp = lp_full(fb.weights, n_fft)[..., band_bins(n_fft, fb.sample_rate, band)]
        return lp.amin(dim=-1), lp.amax(dim=-1)
    if fb.stride == 1:
        lp = lp_full(fb.weights, n_fft) if fb.is_complex else lp_half(fb.weights, n_fft)
        return lp.amin(dim=-1), lp.amax(dim=-1)
    return _block_bounds(fb, n_fft)


def condition_number(
    bank: Any,
    *,
    n_fft: int,
    stride: int | None = None,
    real_input: bool = True,
    band: tuple[float, float] | None = None,
) -> torch.Tensor:
    r"""Condition number :math:`\kappa = B / A` of the frame operator.

    Same parameters as :func:`frame_bounds`. Where A is zero to working precision,
    :math:`A \le N \epsilon B` (a singular frame: some signal is mapped to zero, e.g.
    fewer filters than the stride), kappa is ``inf`` and a warning says so; A itself is
    never clamped.

    Returns
    -------
    torch.Tensor, float64, shape (...)

    Examples
    --------
    >>> import torch, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     kappa = condition_number(torch.tensor([[1.0, 1.0]]), n_fft=2)
    >>> float(kappa), caught[0].category.__name__
    (inf, 'RuntimeWarning')
    """
    A, B = frame_bounds(bank, n_fft=n_fft, stride=stride, real_input=real_input, band=band)
    return kappa_from_bounds(A, B, n_fft=n_fft, stacklevel=3)


def kappa_from_bounds(A: Any, B: Any, *, n_fft: Any, stacklevel: int = 2) -> torch.Tensor:
    r"""Condition number :math:`B/A` from frame bounds, with the singular-frame rule.

    Where :math:`A \le N \epsilon B` the frame is singular to working precision: kappa is
    ``inf`` and one warning counts such banks. ``n_fft`` (N) may be an array broadcasting
    against A and B (one signal length per bank). Used by :func:`condition_number` and by
    every statistic of condition numbers, so they share one rule.

    Examples
    --------
    >>> kappa_from_bounds(torch.tensor(0.5), torch.tensor(2.0), n_fft=8)
    tensor(4., dtype=torch.float64)
    """
    A = torch.as_tensor(A, dtype=torch.float64)
    B = torch.as_tensor(B, dtype=torch.float64)
    n = torch.as_tensor(n_fft, dtype=torch.float64)
    singular = A <= n * torch.finfo(torch.float64).eps * B
    kappa = torch.where(singular, torch.full_like(B, float("inf")), B / A)
    if bool(singular.any()):
        warnings.warn(
            f"{int(singular.sum())} of {singular.numel()} filterbank(s) are singular frames "
            "(lower frame bound A = 0): condition number is inf",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    return kappa


def analysis_matrix(bank: Any, *, n_fft: int, stride: int | None = None) -> torch.Tensor:
    r"""Dense analysis operator :math:`\Phi` of one bank on circular signals of length N.

    Meant for checks on small N: row ``j * (N // d) + m`` computes
    :math:`(x \circledast w_j)[m d]`.

    Returns
    -------
    torch.Tensor, shape (n_filters * n_fft // stride, n_fft)

    Examples
    --------
    >>> import torch
    >>> analysis_matrix(torch.tensor([[1.0, 2.0]]), n_fft=3)
    tensor([[1., 0., 2.],
            [2., 1., 0.],
            [0., 2., 1.]], dtype=torch.float64)
    """
    fb, n_fft = _prepare(bank, n_fft, stride, real_input=False)
    if fb.batch_shape:
        raise ParameterError(f"bank batch shape {fb.batch_shape} must be empty (one bank)")
    padded = torch.zeros(fb.n_filters, n_fft, dtype=fb.weights.dtype)
    padded[:, : fb.kernel_size] = fb.weights
    n = torch.arange(n_fft)
    # Phi[j, n, m] = w_j[(n - m) mod N]: circulant of each filter, rows subsampled by d.
    circ = padded[:, (n[:, None] - n[None, :]) % n_fft]
    return circ[:, :: fb.stride, :].reshape(-1, n_fft)
