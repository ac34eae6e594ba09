r"""An FIR tightener: a tight frame with the bank's own kernel size, by L-BFGS.

The taps are moved by L-BFGS (strong Wolfe line search), in two phases that share the
iteration budget:

1. down the normalised frame potential of the frame operator S, the squared coefficient
   of variation of its eigenvalues,

   .. math:: F(w) = \frac{\operatorname{tr} S^2 / N}{(\operatorname{tr} S / N)^2} - 1
             = \frac{1}{N}\sum_k \Big\|\frac{M(k)}{\mu} - I\Big\|_F^2,\qquad
             \mu = \frac{\operatorname{tr} S}{N},

   computed from the frame blocks M(k) (:mod:`fbinit.analysis._spectral`) without an
   eigen-decomposition: smooth, scale-invariant, zero exactly on tight frames, and
   indifferent to a singular start (a mel bank with no gain at DC). It brings kappa to
   1.01 fast, but, a mean square, it is slow to squeeze the last extreme eigenvalues;
2. when ``tol`` < 0.01, down the smooth kappa of :func:`~fbinit.tight.kappa_penalty`
   (log power means of the eigenvalues at temperature 0.01), which targets the extremes.

Every evaluation computes kappa from the same blocks, and the search stops at the first
point where :math:`\kappa \le 1 + \mathrm{tol}`. Multirate banks (one stride per filter)
are handled alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.analysis._spectral import frame_eigenvalues, normalise, weighted_blocks
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.tight.canonical import _real_frame
from fbinit.tight.penalties import _soft_extremes

__all__ = ["TightenResult", "tighten"]

#: kappa at which the frame potential hands over to the smooth kappa
POTENTIAL_TARGET = 1.01
#: temperature of the smooth kappa of the second phase
SOFT_TEMPERATURE = 0.01


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
        The condition number of the input bank (inf for a singular one).
    iterations : int
        L-BFGS iterations taken (0 when the bank already met the tolerance).
    evaluations : int
        Evaluations of the frame potential and its gradient (line searches included).
    converged : bool
        Whether kappa <= 1 + tol.
    """

    bank: Filterbank
    kappa: float
    kappa_initial: float
    iterations: int
    evaluations: int
    converged: bool


class _Converged(Exception):
    """Raised from the L-BFGS closure at the first point that meets the tolerance."""


def _kappa(low: float, high: float, n_fft: int) -> float:
    """B / A with the singular-frame rule of kappa_from_bounds."""
    return high / low if low > n_fft * torch.finfo(torch.float64).eps * high else float("inf")


def _potential(
    weights: torch.Tensor, strides: tuple[int, ...], n_fft: int
) -> tuple[torch.Tensor, float]:
    """Phase 1: the normalised frame potential F (differentiable) and kappa (a float)."""
    blocks, mult = weighted_blocks(weights, strides, n_fft)
    trace = blocks.diagonal(dim1=-2, dim2=-1).real.sum(dim=-1)
    frobenius = (blocks.real.square() + blocks.imag.square()).sum(dim=(-2, -1))
    mean = (mult * trace).sum() / n_fft
    potential = (mult * frobenius).sum() / n_fft / mean.square() - 1
    blocks = blocks.detach()
    eig = torch.linalg.eigvalsh(blocks) if blocks.shape[-1] > 1 else blocks.real
    return potential, _kappa(float(eig.amin()), float(eig.amax()), n_fft)


def _smooth_kappa(
    weights: torch.Tensor, strides: tuple[int, ...], n_fft: int
) -> tuple[torch.Tensor, float]:
    """Phase 2: log of the smooth kappa (differentiable) and kappa (a float)."""
    eig, mult = frame_eigenvalues(weights[None], strides, n_fft)
    high, low, A, B = _soft_extremes(SOFT_TEMPERATURE)(eig, mult)
    return (high - low)[0], _kappa(float(A.detach()), float(B.detach()), n_fft)


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
        One bank (real or complex; a Conv1d, a frontend, a tensor) with some nonzero tap.
    n_fft : int >= kernel_size
        Signal length N on which the frame is made tight. The bounds of an FIR bank
        converge as N grows; N of a few times the kernel size is usually enough.
    stride : int >= 1 or one int per filter, each dividing n_fft, optional
        Default: the bank's own stride(s).
    tol : float > 0
        Stop as soon as :math:`\kappa \le 1 + \mathrm{tol}`.
    max_iter : int >= 0
        Most L-BFGS iterations.
    real_input : bool
        Tighten for real signals (a complex bank's real and imaginary parts are tightened
        as real filters and recombined) or, with False, for complex signals.

    Returns
    -------
    TightenResult
        The bank, its kappa, the initial kappa, the numbers of iterations and evaluations
        and whether the tolerance was met.

    Warns
    -----
    RuntimeWarning
        When the search ends (``max_iter`` iterations, or no more progress: a local
        minimum of F among FIR banks of this size) above the tolerance; the result is
        then the bank with the smallest kappa met.

    Notes
    -----
    See the module notes for the objective. Why not the alternating projections of the
    reference notebooks and of hybra (canonical tight frame :math:`S^{-1/2} w`, then
    truncation to T taps)? They converge too, but 2 to 3.5 times slower on the targets of
    ``benchmarks/bench_tight.py``, and they stall on multirate banks, whose canonical
    tight frame is no multirate bank; a fixed number of Adam steps on B/A (hybra) is 18
    to 86 times slower and does not reach the tolerance. The result is tight under both of fbinit's
    conventions (convolution, and the correlation of
    :func:`fbinit.frontends.engine.analysis_conv`), which differ by unitary maps.

    References
    ----------
    J. J. Benedetto, M. Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18,
    2003 (the frame potential). D. Haider, F. Perfler, V. Lostanlen, M. Ehler, P.
    Balazs, "Hold me tight: trainable and stable hybrid auditory filterbanks for speech
    enhancement", arXiv 2408.17358, 2024 (tightening auditory banks).

    Examples
    --------
    >>> from fbinit.banks import gaussian
    >>> result = tighten(gaussian(8, 16, seed=0), n_fft=64, tol=1e-3)
    >>> result.converged, result.kappa <= 1.001, tuple(result.bank.weights.shape)
    (True, True, (8, 16))
    """
    fb, n_fft, split = _real_frame(bank, n_fft, stride, real_input)
    if fb.batch_shape:
        raise ParameterError(f"bank batch shape {fb.batch_shape} must be empty (one bank)")
    tol = check_positive_float("tol", tol)
    max_iter = check_int("max_iter", max_iter, minimum=0)
    if not bool(fb.weights.detach().abs().amax() > 0):
        raise ParameterError("bank must have a nonzero tap (all its taps are 0)")
    strides = fb.strides
    start, _ = normalise(fb.weights.detach())
    # optimise real numbers: complex taps as (real, imag) pairs
    param = (torch.view_as_real(start) if fb.is_complex else start).clone().requires_grad_()

    def taps(param: torch.Tensor) -> torch.Tensor:
        return torch.view_as_complex(param) if fb.is_complex else param

    _, kappa_initial = _potential(start, strides, n_fft)
    best = {"kappa": kappa_initial, "param": param.detach().clone()}
    iterations = evaluations = 0
    phases = [(_potential, max(1 + tol, POTENTIAL_TARGET)), (_smooth_kappa, 1 + tol)]
    for objective, target in phases:
        if best["kappa"] <= target or iterations >= max_iter:
            continue
        with torch.no_grad():
            param.copy_(best["param"])
        budget = max_iter - iterations
        optimizer = torch.optim.LBFGS(
            [param],
            lr=1.0,
            max_iter=budget,
            max_eval=2 * budget,
            history_size=20,
            tolerance_grad=1e-14,
            tolerance_change=1e-16,
            line_search_fn="strong_wolfe",
        )

        def closure(objective=objective, target=target, optimizer=optimizer) -> torch.Tensor:
            optimizer.zero_grad()
            loss, kappa = objective(taps(param), strides, n_fft)
            if kappa < best["kappa"]:
                best.update(kappa=kappa, param=param.detach().clone())
            if kappa <= target:
                raise _Converged
            loss.backward()
            return loss

        try:
            optimizer.step(closure)
        except _Converged:
            pass
        state = optimizer.state[param]
        iterations += int(state.get("n_iter", 0))
        evaluations += int(state.get("func_evals", 0))
    kappa = best["kappa"]
    converged = kappa <= 1 + tol
    if not converged:
        warnings.warn(
            f"tighten stopped after {iterations} of max_iter={max_iter} iterations at "
            f"kappa={kappa:.6g} > 1 + tol = {1 + tol:g}; raise max_iter or kernel_size, or "
            "accept the bank as it is",
            RuntimeWarning,
            stacklevel=2,
        )
    weights = taps(best["param"])
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
        iterations=iterations,
        evaluations=evaluations,
        converged=converged,
    )
