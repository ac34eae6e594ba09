r"""Extreme-value model of the frame bounds of random Gaussian filterbanks (stride 1).

With the default :math:`\sigma^2 = 1/(JT)`, the Littlewood-Paley sum of a random bank on
the half grid :math:`\omega_k = 2\pi k/N`, k = 0..N/2, is a smooth random trigonometric
polynomial of degree T - 1:

- at k = 0 and k = N/2, :math:`\mathrm{LP} \sim \chi^2_J / J`;
- elsewhere, up to the bins within about N/T of the ends,
  :math:`\mathrm{LP}(\omega) = \chi^2_{2J}(\omega) / (2J)`, a chi-square process built from
  2J independent stationary Gaussian processes whose second spectral moment (the variance
  of the derivative) is :math:`\lambda_2 = (T^2 - 1)/12` (the variance of a uniform tap
  index).

The frame bounds are the minimum A and the maximum B of that process over the grid.
The model counts level crossings (Rice's formula) and corrects for the grid. Level
:math:`u` of LP is level :math:`q = 2Ju` of the chi-square process, which it crosses
upwards (and downwards) at the rate, per radian,

.. math:: \mu(q) = f_{2J}(q)\,\sqrt{2\lambda_2 q / \pi}

(:math:`f_{2J}` the chi-square density). An excursion beyond u has mean length
:math:`\ell(u) = p(u)/\mu(q)`, with p the probability of one bin being beyond u (above u
for B, below for A). If excursion lengths are Rayleigh-distributed, a grid of spacing
:math:`\delta = 2\pi/N` sees an expected :math:`\tfrac N2\,p\,\mathrm{erf}(\sqrt\pi\,\delta
/ (2\ell))` of them over the half circle, as many as
:math:`n(u) = n_{\mathrm{in}}\,\mathrm{erf}(\sqrt\pi\,\delta / (2\ell(u)))` independent
bins would (:math:`n_{\mathrm{in}} = \lceil N/2 \rceil - 1` interior bins). Hence

.. math::
    P(B \le u) = F_{2J}(2Ju)^{\,n_B(u)}\, F_J(Ju)^{e}, \qquad
    P(A \ge u) = \bar F_{2J}(2Ju)^{\,n_A(u)}\, \bar F_J(Ju)^{e},

with e the number of end bins (2 for even N, 1 for odd N) and :math:`\bar F = 1 - F`.
When N = T the bins are the orthogonal DFT of i.i.d. taps, independent, and
:math:`n \to n_{\mathrm{in}}`; when N >> T this is Rice's formula for the continuous
process. No constant is fitted. A and B are treated as independent (they occur at distant
frequencies) to get the law of B/A. The bins near the ends, where LP is between
:math:`\chi^2_J/J` and :math:`\chi^2_{2J}/(2J)`, are not modelled separately.

Accuracy against Monte Carlo medians (docs/scaling.md): within a few percent over
n_filters in [5, 256], kernel_size in [8, 4096], n_fft = max(1024, 2 kernel_size), worst
for few filters and very short kernels, where the Poisson count of crossings is crude.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.special import erf, gammainc, gammaincc, gammaln

from fbinit.analysis.scaling import _as_int_array, default_n_fft
from fbinit.errors import ParameterError

__all__ = ["expected_frame_bounds_model", "predict_median_kappa"]

#: coarse log grid of Littlewood-Paley levels used to bracket the laws of A and B
_COARSE = np.exp(np.linspace(np.log(1e-9), np.log(64.0), 64))
#: points of the fine grid on which each law is tabulated
_FINE = 192
#: probability mass left outside the fine grids
_TAIL = 1e-10


def _cells(n_filters: Any, kernel_size: Any, n_fft: Any):
    """Broadcast (J, T, N) to flat float arrays, validated; return them and the shape."""
    J = _as_int_array("n_filters", n_filters, 1)
    T = _as_int_array("kernel_size", kernel_size, 2)
    N = None if n_fft is None else _as_int_array("n_fft", n_fft, 2)
    try:
        J, T, *rest = np.broadcast_arrays(J, T, *([] if N is None else [N]))
    except ValueError as err:
        raise ParameterError("n_filters, kernel_size and n_fft must broadcast together") from err
    if N is None:
        N = np.array([float(default_n_fft(int(t))) for t in T.ravel()]).reshape(T.shape)
    else:
        (N,) = rest
    if np.any(T > N):
        bad = np.argwhere(T > N)[0]
        raise ParameterError(
            f"kernel_size={int(T[tuple(bad)])} must be <= n_fft={int(N[tuple(bad)])}"
        )
    shape = J.shape
    return J.ravel(), T.ravel(), N.ravel(), shape


def _log_law(u, J, T, N, side: str):
    r"""log P(A >= u) (side "a") or log P(B <= u) (side "b") at LP levels u (cells on axis 0).

    Both are :math:`n(u) \log(1 - p) + e \log(1 - p_e)`, with p (resp. :math:`p_e`) the
    probability that an interior (end) bin lies beyond u on the excursion's side.
    """
    J, T, N = J[:, None], T[:, None], N[:, None]
    tail = gammainc if side == "a" else gammaincc
    p_in = tail(J, J * u)  # chi2_{2J}/(2J) below (a) or above (b) u
    p_end = tail(J / 2, J * u / 2)  # chi2_J/J likewise
    n_end = np.where(N % 2 == 0, 2.0, 1.0)
    n_in = np.floor(N / 2) + 1 - n_end
    q = 2 * J * u
    # log of the crossing rate per radian: chi2_{2J} density at q times sqrt(2 lam2 q / pi)
    log_mu = (J - 1) * np.log(q) - q / 2 - J * np.log(2) - gammaln(J)
    log_mu = log_mu + 0.5 * np.log((T**2 - 1) / 6 * q / np.pi)
    delta = 2 * np.pi / N
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # fraction of the interior bins that count as independent, erf(sqrt(pi) delta / 2 l)
        # with l = p / mu the mean length of an excursion beyond u
        seen = np.where(p_in > 0, erf(np.sqrt(np.pi) / 2 * delta * np.exp(log_mu) / p_in), 1.0)
        log_law = n_in * seen * np.log1p(-p_in) + n_end * np.log1p(-p_end)
    return np.where(p_in >= 1, -np.inf, log_law)


def _bracket(cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coarse-grid indices bracketing the mass of a CDF tabulated on _COARSE (per row)."""
    n = cdf.shape[1]
    lo = np.clip((cdf < _TAIL).sum(axis=1) - 1, 0, n - 1)
    hi = np.clip(n - (cdf > 1 - _TAIL).sum(axis=1), 0, n - 1)
    return _COARSE[lo], _COARSE[hi]


def _laws(J, T, N):
    """Fine tables of the CDFs of A and B: (grid_a, F_A, grid_b, F_B), each (cells, _FINE)."""
    coarse = np.broadcast_to(_COARSE, (J.size, _COARSE.size))
    a_lo, a_hi = _bracket(-np.expm1(_log_law(coarse, J, T, N, "a")))
    b_lo, b_hi = _bracket(np.exp(_log_law(coarse, J, T, N, "b")))
    steps = np.linspace(0.0, 1.0, _FINE)
    grid_a = np.exp(np.log(a_lo)[:, None] + np.log(a_hi / a_lo)[:, None] * steps)
    grid_b = np.exp(np.log(b_lo)[:, None] + np.log(b_hi / b_lo)[:, None] * steps)
    cdf_a = -np.expm1(_log_law(grid_a, J, T, N, "a"))
    cdf_b = np.exp(_log_law(grid_b, J, T, N, "b"))
    return grid_a, cdf_a, grid_b, cdf_b


def _median_ratio(grid_a, cdf_a, grid_b, cdf_b) -> np.ndarray:
    """Median of B/A for independent A, B given their tabulated CDFs (bisection in log)."""
    mid_a = np.sqrt(grid_a[:, 1:] * grid_a[:, :-1])
    mass_a = np.diff(cdf_a, axis=1)
    log_b0 = np.log(grid_b[:, :1])
    step_b = np.log(grid_b[:, 1:2] / grid_b[:, :1])
    lo = np.log(grid_b[:, 0] / grid_a[:, -1])
    hi = np.log(grid_b[:, -1] / grid_a[:, 0])
    rows = np.arange(grid_a.shape[0])[:, None]
    for _ in range(48):
        mid = (lo + hi) / 2
        pos = (np.log(mid_a) + mid[:, None] - log_b0) / step_b
        pos = np.clip(pos, 0.0, _FINE - 1.0)
        i = np.minimum(pos.astype(int), _FINE - 2)
        frac = pos - i
        fb = cdf_b[rows, i] * (1 - frac) + cdf_b[rows, i + 1] * frac
        below = (fb * mass_a).sum(axis=1) / mass_a.sum(axis=1) < 0.5
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return np.exp((lo + hi) / 2)


def _out(values: np.ndarray, shape, like_torch: bool):
    values = values.reshape(shape)
    if like_torch:
        return torch.from_numpy(values)
    return float(values) if values.ndim == 0 else values


def predict_median_kappa(n_filters: Any, kernel_size: Any, *, n_fft: Any = None) -> Any:
    r"""Predicted median condition number of a random Gaussian filterbank (stride 1).

    Parameters
    ----------
    n_filters : int or array-like of int >= 1
        Number of filters J (broadcast with the other arguments).
    kernel_size : int or array-like of int >= 2
        Number of taps T.
    n_fft : int or array-like of int >= kernel_size, optional
        Signal length N; default max(1024, 2 T), as in
        :func:`fbinit.analysis.scaling.default_n_fft`.

    Returns
    -------
    float, numpy.ndarray or torch.Tensor
        Median of :math:`\kappa = B/A` under the extreme-value model (module docstring),
        broadcast shape; a tensor if an input is a tensor.

    Notes
    -----
    .. math:: \hat\kappa_{0.5} = \operatorname{median}(B/A),\quad
              P(B/A \le r) = \int P(B \le r a)\, dP(A \le a),

    with the laws of A and B of the extreme-value model and no fitted constant. Much
    closer to the Monte Carlo median than :func:`fbinit.analysis.scaling.kappa_tilde`,
    and defined for every J (docs/scaling.md lists the errors). Costs well under a
    millisecond per cell.

    References
    ----------
    S. O. Rice, "Mathematical analysis of random noise", Bell System Technical Journal,
    1945 (level crossings). D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities
    in Convnets for Raw Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> round(predict_median_kappa(40, 64, n_fft=1024), 2)
    2.22
    """
    like_torch = any(isinstance(v, torch.Tensor) for v in (n_filters, kernel_size, n_fft))
    J, T, N, shape = _cells(n_filters, kernel_size, n_fft)
    if J.size == 0:
        return _out(np.zeros(0), shape, like_torch)
    return _out(_median_ratio(*_laws(J, T, N)), shape, like_torch)


def expected_frame_bounds_model(
    n_filters: Any, kernel_size: Any, *, n_fft: Any = None
) -> tuple[Any, Any]:
    r"""Mean frame bounds (A, B) of random Gaussian filterbanks under the extreme-value model.

    Parameters
    ----------
    n_filters : int or array-like of int >= 1
        Number of filters J (broadcast with the other arguments).
    kernel_size : int or array-like of int >= 2
        Number of taps T.
    n_fft : int or array-like of int >= kernel_size, optional
        Signal length N; default max(1024, 2 T).

    Returns
    -------
    mean_A, mean_B : float, numpy.ndarray or torch.Tensor
        Model expectations of the lower and upper frame bounds, broadcast shape.

    Notes
    -----
    .. math:: \mathbb E A = \int_0^\infty P(A \ge u)\,du, \qquad
              \mathbb E B = \int_0^\infty P(B > u)\,du,

    with the laws of the module docstring (the "chi-square extreme-value model" of
    Figure 5 of Haider et al., with Rice's crossing count for the dependence between
    bins).

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> mean_A, mean_B = expected_frame_bounds_model(40, [8, 1024], n_fft=1024)
    >>> mean_A.round(2).tolist(), mean_B.round(2).tolist()
    ([0.76, 0.59], [1.27, 1.56])
    """
    like_torch = any(isinstance(v, torch.Tensor) for v in (n_filters, kernel_size, n_fft))
    J, T, N, shape = _cells(n_filters, kernel_size, n_fft)
    if J.size == 0:
        return _out(np.zeros(0), shape, like_torch), _out(np.zeros(0), shape, like_torch)
    grid_a, cdf_a, grid_b, cdf_b = _laws(J, T, N)
    mean_a = grid_a[:, 0] + np.trapezoid(1 - cdf_a, grid_a, axis=1)
    mean_b = grid_b[:, 0] + np.trapezoid(1 - cdf_b, grid_b, axis=1)
    return _out(mean_a, shape, like_torch), _out(mean_b, shape, like_torch)
