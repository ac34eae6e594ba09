r"""Moments of the energy response of random Gaussian banks, deviation bounds, exact quantiles.

For a bank of J filters with T taps drawn i.i.d. :math:`\mathcal N(0, \sigma^2)`, the energy
response :math:`E = \|\Phi x\|^2` has mean :math:`\mu = J T \sigma^2 \|x\|^2` and variance
:math:`V = 2 J \sigma^4 \sum_{|\tau|<T} (T-|\tau|) R(\tau)^2`. The relative deviation
:math:`\alpha` at level p is the smallest (exact) or a guaranteed (bounds) value with

.. math:: P(E \ge (1 + \alpha)\mu) \le p \ \ \text{(upper tail)}, \qquad
          P(E \le (1 - \alpha)\mu) \le p \ \ \text{(lower tail)}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from fbinit._validate import check_choice, check_int, check_probability
from fbinit.analysis.autocorrelation import (
    autocorrelation,
    autocorrelation_eigenvalues,
    kernel_sizes,
    nonzero_signal,
    scaled_signal,
    unscale,
)
from fbinit.analysis.distribution import energy_distribution, sigma2_per_size
from fbinit.errors import ParameterError

__all__ = ["deviation_bound", "energy_moments", "exact_deviation"]

_BOUNDS = ("bernstein", "cantelli", "chebyshev", "reference")
_TAILS = ("upper", "lower")


def _probabilities(p: Any) -> tuple[torch.Tensor, bool]:
    """Validate a probability or a sequence of them; return a 1-d tensor and is-sequence."""
    if isinstance(p, (torch.Tensor, np.ndarray)):
        p = p.tolist()
    is_seq = isinstance(p, Sequence) and not isinstance(p, str)
    values = list(p) if is_seq else [p]
    if is_seq and not values:
        raise ParameterError("p=[] must hold at least one probability")
    return torch.tensor([check_probability("p", v) for v in values], dtype=torch.float64), is_seq


def _moments(x, n_filters, sizes, sigma, mode):
    """Mean, variance and sigma^2 per kernel size, shape (..., n_sizes)."""
    sigma2 = sigma2_per_size(sigma, n_filters, sizes)
    r = autocorrelation(x, mode=mode, max_lag=max(sizes) - 1)
    t = torch.tensor(sizes, dtype=torch.float64)
    # ||Q_T||_F^2 = T R(0)^2 + 2 (T S_0(T) - S_1(T)), S_k(T) = sum_{0<tau<T} tau^k R(tau)^2,
    # for every T at once from cumulative sums (relative error ~1e-14 at T = 22050)
    r2 = r[..., 1:].square()
    lags = torch.arange(1, r.shape[-1], dtype=torch.float64)
    zero = torch.zeros_like(r[..., :1])
    at = [k - 1 for k in sizes]
    s0 = torch.cat([zero, r2.cumsum(-1)], -1)[..., at]
    s1 = torch.cat([zero, (lags * r2).cumsum(-1)], -1)[..., at]
    frob = t * r[..., :1].square() + 2.0 * (t * s0 - s1)
    J = float(n_filters)  # may exceed int64: torch takes Python floats
    mean = J * t * sigma2 * r[..., :1]
    var = 2.0 * J * sigma2.square() * frob
    return mean, var, sigma2


def energy_moments(
    x: Any,
    n_filters: int,
    kernel_size: int | Sequence[int],
    *,
    sigma: float | None = None,
    mode: str = "circular",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean and variance of the energy response of a random Gaussian bank, in closed form.

    Parameters
    ----------
    x : array-like of real numbers, shape (..., n_samples)
        Signals with nonzero energy (leading axes are a batch).
    n_filters : int >= 1
        J.
    kernel_size : int >= 1 or sequence of them
        T (at most n_samples in circular mode); a sequence adds a trailing axis.
    sigma : float > 0, optional
        Tap standard deviation; default :math:`\sigma^2 = 1/(J T)` for each T.
    mode : {"circular", "full"}
        Circular or linear ("full") convolution: R is the circular or linear
        autocorrelation.

    Returns
    -------
    mean, var : torch.Tensor, float64, shape (..., [n_kernel_sizes])

    Notes
    -----
    .. math:: \mathbb E E = J T \sigma^2 R(0), \qquad
              \operatorname{Var} E = 2 J \sigma^4 \sum_{|\tau| < T} (T - |\tau|) R(\tau)^2
              = 2 J \sigma^4 \|Q_T\|_F^2.

    With the default :math:`\sigma` the mean is :math:`\|x\|^2`; for unit-norm x the
    variance is :math:`2/(JT)` for an impulse and :math:`2/J` for a constant signal.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> mean, var = energy_moments(np.eye(1, 64)[0], 10, [8, 16])  # unit impulse
    >>> mean.tolist(), [round(v, 12) for v in var.tolist()]  # 1 and 2 / (J T)
    ([1.0, 1.0], [0.025, 0.0125])
    """
    n_filters = check_int("n_filters", n_filters)
    mode = check_choice("mode", mode, ("circular", "full"))
    x, exponent = scaled_signal(nonzero_signal(x))  # exact: mean ~ 2^(2e), var ~ 2^(4e)
    sizes, is_seq = kernel_sizes(kernel_size, x.shape[-1], mode)
    mean, var, _ = _moments(x, n_filters, sizes, sigma, mode)
    mean = unscale(mean, 2 * exponent[..., None], "means")
    var = unscale(var, 4 * exponent[..., None], "variances")
    return (mean, var) if is_seq else (mean[..., 0], var[..., 0])


def deviation_bound(
    x: Any,
    n_filters: int,
    kernel_size: int | Sequence[int],
    p: float | Sequence[float],
    *,
    method: str = "bernstein",
    tail: str = "upper",
    sigma: float | None = None,
    mode: str = "circular",
) -> torch.Tensor:
    r"""Relative deviation :math:`\alpha` guaranteed at level p by a concentration bound.

    Parameters
    ----------
    x : array-like of real numbers, shape (..., n_samples)
        Signals with nonzero energy.
    n_filters : int >= 1
        J.
    kernel_size : int >= 1 or sequence of them
        T; a sequence adds an axis.
    p : float in (0, 1) or sequence of them
        Tail probability; a sequence adds a trailing axis.
    method : {"bernstein", "cantelli", "chebyshev", "reference"}
        The bound (see Notes). "reference" is the curve of the paper's notebooks, which is
        NOT a valid bound (upper tail only).
    tail : {"upper", "lower"}
        Which side: :math:`P(E \ge (1+\alpha)\mu) \le p` or
        :math:`P(E \le (1-\alpha)\mu) \le p`. Chebyshev's two-sided value bounds each tail.
    sigma : float > 0, optional
        Tap standard deviation; default :math:`\sigma^2 = 1/(JT)`.
    mode : {"circular", "full"}

    Returns
    -------
    torch.Tensor, float64, shape (..., [n_kernel_sizes], [n_p])
        :math:`\alpha`, relative to the mean energy :math:`\mu = JT\sigma^2\|x\|^2`
        (:math:`\|x\|^2` with the default sigma). A lower-tail value >= 1 is trivially valid
        (E >= 0) and returned as computed.

    Notes
    -----
    With :math:`V` the variance, :math:`u = \ln(1/p)` and the weights
    :math:`a_i = \sigma^2 \lambda_i` of multiplicity J,
    :math:`\|a\|_2^2 = J\sigma^4\sum\lambda_i^2 = V/2`,
    :math:`\|a\|_\infty = \sigma^2 \lambda_{max}`:

    .. math:: \alpha_{\mathrm{Chebyshev}} = \sqrt{V/p}\,/\mu, \qquad
              \alpha_{\mathrm{Cantelli}} = \sqrt{V (1/p - 1)}\,/\mu,

    .. math:: \alpha_{\mathrm{Bernstein}}^{\uparrow} =
              (2\|a\|_2\sqrt u + 2\|a\|_\infty u)/\mu, \qquad
              \alpha_{\mathrm{Bernstein}}^{\downarrow} = 2\|a\|_2\sqrt u\,/\mu

    (Laurent and Massart's inequalities), and the notebooks' curve, the positive root of
    :math:`\exp(-\alpha^2\mu^2 / (2\|a\|_2^2 + 2\|a\|_\infty\alpha\mu)) = p`,

    .. math:: \alpha_{\mathrm{reference}} = \big(u\|a\|_\infty +
              \sqrt{u^2\|a\|_\infty^2 + 2u\|a\|_2^2}\big)/\mu,

    whose denominator is half the one Bernstein's derivation gives: it falls below the exact
    quantile (impulse, J = 10, T = 64, p = 0.01: 0.127 against 0.135).

    References
    ----------
    B. Laurent, P. Massart, "Adaptive estimation of a quadratic functional by model
    selection", Annals of Statistics 28(5), 2000. D. Haider, V. Lostanlen, M. Ehler,
    P. Balazs, "Instabilities in Convnets for Raw Audio", IEEE SPL, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> impulse = np.eye(1, 1024)[0]
    >>> alpha = deviation_bound(impulse, 10, 64, 0.05, method="cantelli")
    >>> round(float(alpha), 6) == round((3.8 / 64) ** 0.5, 6)
    True
    """
    n_filters = check_int("n_filters", n_filters)
    method = check_choice("method", method, _BOUNDS)
    tail = check_choice("tail", tail, _TAILS)
    mode = check_choice("mode", mode, ("circular", "full"))
    if method == "reference" and tail == "lower":
        raise ParameterError(
            "tail='lower' must be 'upper' with method='reference' (the notebooks' curve is "
            "one-sided)"
        )
    probs, p_seq = _probabilities(p)
    x, _ = scaled_signal(nonzero_signal(x))  # alpha is relative: the same for any scale
    sizes, is_seq = kernel_sizes(kernel_size, x.shape[-1], mode)
    mean, var, sigma2 = _moments(x, n_filters, sizes, sigma, mode)
    mean, var = mean[..., None], var[..., None]
    if method == "chebyshev":
        alpha = (var / probs).sqrt() / mean
    elif method == "cantelli":
        alpha = (var * (1.0 / probs - 1.0)).sqrt() / mean
    else:
        u = -torch.log(probs)
        a2 = (var / 2).sqrt()
        if method == "bernstein" and tail == "lower":  # needs no eigenvalue
            alpha = 2 * a2 * u.sqrt() / mean
        else:
            lam_max = autocorrelation_eigenvalues(x, sizes, mode=mode, n_top=1)[..., 0]
            ainf = (sigma2 * lam_max)[..., None]
            if method == "bernstein":
                alpha = 2 * a2 * u.sqrt() + 2 * ainf * u
            else:
                alpha = u * ainf + (u.square() * ainf.square() + 2 * u * a2.square()).sqrt()
            alpha = alpha / mean
    if not p_seq:
        alpha = alpha[..., 0]
    if not is_seq:
        alpha = alpha[..., 0, :] if p_seq else alpha[..., 0]
    return alpha


def exact_deviation(
    x: Any,
    n_filters: int,
    kernel_size: int | Sequence[int],
    p: float | Sequence[float],
    *,
    tail: str = "upper",
    sigma: float | None = None,
    mode: str = "circular",
    method: str = "auto",
) -> torch.Tensor:
    r"""Exact relative deviation at level p, from the quantiles of the energy's law.

    Parameters
    ----------
    x, n_filters, kernel_size, p, tail, sigma, mode
        As in :func:`deviation_bound`.
    method : {"auto", "exact", "lumped"}
        How the law is built (see :func:`~fbinit.analysis.distribution.energy_distribution`).

    Returns
    -------
    torch.Tensor, float64, shape (..., [n_kernel_sizes], [n_p])

    Notes
    -----
    With :math:`F^{-1}` the quantile function of E (Imhof's formula inverted to a relative
    tolerance of 1e-12),

    .. math:: \alpha^{\uparrow} = F^{-1}(1 - p)/\mu - 1, \qquad
              \alpha^{\downarrow} = 1 - F^{-1}(p)/\mu,

    so that :math:`P(E \ge (1+\alpha^\uparrow)\mu) = p` and
    :math:`P(E \le (1-\alpha^\downarrow)\mu) = p` exactly.

    References
    ----------
    J. P. Imhof, "Computing the distribution of quadratic forms in normal variables",
    Biometrika 48, 1961.

    Examples
    --------
    >>> import numpy as np
    >>> impulse = np.eye(1, 1024)[0]
    >>> alpha = exact_deviation(impulse, 10, [8, 1024], 0.05)
    >>> [round(a, 4) for a in alpha.tolist()]
    [0.2735, 0.0231]
    """
    n_filters = check_int("n_filters", n_filters)
    tail = check_choice("tail", tail, _TAILS)
    probs, p_seq = _probabilities(p)
    x, _ = scaled_signal(nonzero_signal(x))  # alpha is relative: the same for any scale
    law = energy_distribution(x, n_filters, kernel_size, sigma=sigma, mode=mode, method=method)
    levels = 1.0 - probs if tail == "upper" else probs
    batch = law.batch_shape
    q = law.ppf(levels.reshape(-1, *([1] * len(batch)))).movedim(0, -1)
    mean = law.mean[..., None]
    alpha = q / mean - 1.0 if tail == "upper" else 1.0 - q / mean
    return alpha if p_seq else alpha[..., 0]
