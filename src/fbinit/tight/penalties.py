r"""Differentiable conditioning penalties for training: kappa and aliasing.

Both penalties go through the analysis's spectral kernel
(:mod:`fbinit.analysis._spectral`): the same blocks and eigenvalues as
:func:`~fbinit.analysis.frames.frame_bounds`, autograd kept, on the device of the weights.
Both are scale-invariant (computed on the bank divided by its largest tap) and accept
anything :func:`fbinit.as_filterbank` takes: a tensor, a ``Filterbank``, a ``Conv1d``, a
frontend. A float32 bank is promoted to float64; its gradient flows back in float32.
"""

from __future__ import annotations

from typing import Any

import torch

from fbinit._validate import check_positive_float
from fbinit.analysis._spectral import map_banks, normalise, reduce_eigenvalues, weighted_blocks
from fbinit.analysis.frames import (
    _bins_of_band,
    _normalised_bounds,
    _prepare_bank,
    kappa_from_bounds,
)

__all__ = ["alias_penalty", "kappa_penalty"]


def _soft_extremes(temperature: float):
    """Reduction of eigenvalues to the log power means of order +-1/t and the extremes."""

    def reduce(eig: torch.Tensor, mult: torch.Tensor) -> tuple[torch.Tensor, ...]:
        log_eig = eig.log()
        log_weight = mult.log() - mult.sum().log()
        high = temperature * torch.logsumexp(log_eig / temperature + log_weight, dim=-1)
        low = -temperature * torch.logsumexp(-log_eig / temperature + log_weight, dim=-1)
        return high, low, eig.amin(dim=-1), eig.amax(dim=-1)

    return reduce


def kappa_penalty(
    bank: Any,
    *,
    n_fft: int,
    stride: Any = None,
    band: tuple[float, float] | None = None,
    smooth: float | None = None,
    real_input: bool = True,
) -> torch.Tensor:
    r"""Condition-number penalty :math:`B/A - 1`, or a smooth version of it.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
        Weights that require grad keep their graph (a ``Conv1d``, a frontend, a tensor).
    n_fft : int >= kernel_size
        Signal length N on which the frame is analysed.
    stride : int >= 1 or one int per filter, each dividing n_fft, optional
        Default: the bank's own stride(s) (1 for a bare tensor). For stride > 1 the
        eigenvalues are those of the P x P blocks of the frame operator (P the lcm of
        the strides), as in :func:`~fbinit.analysis.frames.frame_bounds`.
    band : (fmin, fmax) in Hz, optional
        Only the DFT bins in this band (stride 1 and a bank with a sample_rate).
    smooth : float > 0, optional
        Temperature t of the smooth penalty; None gives the exact :math:`B/A - 1`.
    real_input : bool
        Complex banks seen by real signals (as in ``frame_bounds``).

    Returns
    -------
    torch.Tensor, float64, shape (...)
        One penalty per bank, >= 0, zero exactly for a tight frame; ``inf`` (with a
        warning) for a singular frame, whose gradient is then not finite.

    Notes
    -----
    The exact penalty is :math:`\kappa - 1 = \max\lambda / \min\lambda - 1` over the
    eigenvalues :math:`\lambda_i` of the frame operator (the LP sum for stride 1). Its
    gradient is a subgradient at ties of the extremes (torch splits it evenly between the
    tied values; see :mod:`fbinit.analysis.frames`). The smooth penalty replaces max and
    min by the power means of order :math:`\pm 1/t`, a log-sum-exp of
    :math:`\log\lambda_i / t` normalised by the number n of eigenvalues (each counted with
    its multiplicity):

    .. math:: \kappa_t = \frac{M_{1/t}(\lambda)}{M_{-1/t}(\lambda)},\qquad
              \log M_{\pm 1/t} = \pm t \log \frac1n \sum_i e^{\pm\log\lambda_i / t},
              \qquad \kappa\, n^{-2t} \le \kappa_t \le \kappa,

    differentiable everywhere on nonsingular frames, equal to 1 exactly when the frame is
    tight, and tending to :math:`\kappa` as :math:`t \to 0` (t = 0.01 on n = 1024
    eigenvalues is within a factor :math:`n^{2t} = 1.15` of kappa). It is scale-invariant
    like kappa.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([[1.0, 0.5], [0.0, 1.0]], requires_grad=True)
    >>> penalty = kappa_penalty(w, n_fft=8)
    >>> penalty.backward()
    >>> round(penalty.item(), 4), tuple(w.grad.shape)  # LP = 2.25 + cos: 3.25 / 1.25 - 1
    (1.6, (2, 2))
    >>> bool(kappa_penalty(w, n_fft=8, smooth=0.05) < penalty)
    True
    """
    fb, n_fft = _prepare_bank(bank, n_fft, stride, real_input)
    if smooth is None:
        A, B, _ = _normalised_bounds(fb, n_fft, band)
        return kappa_from_bounds(A, B, n_fft=n_fft, stacklevel=3) - 1
    temperature = check_positive_float("smooth", smooth)
    bins = _bins_of_band(fb, n_fft, band)
    (high, low, A, B), _ = reduce_eigenvalues(
        fb.weights, fb.strides, n_fft, _soft_extremes(temperature), bins=bins
    )
    kappa = kappa_from_bounds(A.detach(), B.detach(), n_fft=n_fft, stacklevel=3)
    return torch.where(torch.isinf(kappa), kappa, torch.expm1(high - low))


def _alias_energies(weights: torch.Tensor, strides: tuple[int, ...], n_fft: int):
    """Off-diagonal and diagonal energies of the blocks of each (normalised) bank."""
    normalised, _ = normalise(weights)
    blocks, mult = weighted_blocks(normalised, strides, n_fft)
    energy = (blocks.real.square() + blocks.imag.square()).sum(dim=(-2, -1))
    diag = blocks.diagonal(dim1=-2, dim2=-1).real.square().sum(dim=-1)
    return ((energy - diag) * mult).sum(dim=-1), (diag * mult).sum(dim=-1)


def alias_penalty(
    bank: Any, *, n_fft: int, stride: Any = None, real_input: bool = True
) -> torch.Tensor:
    r"""Aliasing penalty: relative energy of the off-diagonal entries of the frame blocks.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
        Weights that require grad keep their graph.
    n_fft : int >= kernel_size
        Signal length N.
    stride : int >= 1 or one int per filter, each dividing n_fft, optional
        Default: the bank's own stride(s).
    real_input : bool
        Complex banks seen by real signals (as in ``frame_bounds``).

    Returns
    -------
    torch.Tensor, float64, shape (...)
        One value per bank in [0, P - 1]; 0 exactly for stride 1, and 0 up to round-off
        exactly when the bank is alias-free.

    Notes
    -----
    With the P x P blocks M(k) of the frame operator (P the lcm of the strides; see
    :func:`~fbinit.analysis.frames.frame_bounds`),

    .. math:: \mathrm{alias} = \frac{\sum_k \sum_{a \ne b} |M(k)_{a,b}|^2}
                                    {\sum_k \sum_a M(k)_{a,a}^2}.

    The off-diagonal entries couple the frequencies :math:`k + aN/P` that subsampling folds
    onto each other: they vanish exactly when the frame operator commutes with every shift
    (it is then the LP sum, a plain filter), i.e. when the bank's subsampling loses nothing
    to aliasing, e.g. filters band-limited to disjoint aliasing cells, or a Dirac bank at
    stride = n_filters. Since :math:`|M_{a,b}|^2 \le M_{a,a} M_{b,b}` the penalty is at most
    P - 1. Scale-invariant.

    Examples
    --------
    >>> import torch
    >>> float(alias_penalty(torch.eye(4), n_fft=8, stride=4)) < 1e-30
    True
    >>> round(float(alias_penalty(torch.ones(1, 4), n_fft=8, stride=2)), 4)  # 8 / 88
    0.0909
    """
    fb, n_fft = _prepare_bank(bank, n_fft, stride, real_input)
    per_bank = (fb.n_filters * n_fft + 2 * n_fft * fb.period) * 16
    off, diag = map_banks(lambda w: _alias_energies(w, fb.strides, n_fft), fb.weights, per_bank)
    return torch.where(diag > 0, off / diag.clamp(min=torch.finfo(torch.float64).tiny), 0.0)
