r"""The exact law of the energy response of a random Gaussian filterbank.

For a bank of J filters with i.i.d. :math:`\mathcal N(0, \sigma^2)` taps,
:math:`E(x) = \sum_j w_j^\top Q_T w_j` is a weighted sum of independent chi-squares,
:math:`\sigma^2 \sum_i \lambda_i \chi^2_{J,i}`, with :math:`\lambda_i` the eigenvalues of the
Toeplitz autocorrelation matrix :math:`Q_T` of x. :class:`WeightedChiSquare` holds such a law
(batched) and gives its exact distribution function by Imhof's inversion formula, a
saddle-point approximation, quantiles and samples; :func:`energy_distribution` builds it
from a signal.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.optimize
import scipy.special
import torch

from fbinit._validate import as_double_tensor, check_choice, check_int, check_positive_float
from fbinit.analysis.autocorrelation import (
    DENSE_MAX_KERNEL_SIZE,
    autocorrelation,
    autocorrelation_eigenvalues,
    frobenius_norm2,
    kernel_sizes,
    nonzero_signal,
    scaled_signal,
)
from fbinit.errors import ParameterError

__all__ = ["WeightedChiSquare", "energy_distribution", "sigma2_per_size"]

#: absolute error targeted by the truncation of Imhof's integral (the quadrature error is
#: far smaller: 20-point Gauss-Legendre panels well inside the integrand's analytic strip)
IMHOF_TOLERANCE = 1e-11
# nodes of the Imhof quadrature beyond which the truncation target is given up (warning)
_MAX_NODES = 2**20
# elements of the node x weight and node x quantile products formed at once
_CHUNK = 2**22
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
# weights with lambda * U below this enter Imhof's phase and modulus through power sums
_SMALL = 1e-3


def sigma2_per_size(sigma: Any, n_filters: int, sizes: Sequence[int]) -> torch.Tensor:
    r"""Tap variance per kernel size: :math:`\sigma^2`, or the default :math:`1/(J T)`."""
    if sigma is None:
        return 1.0 / (float(n_filters) * torch.tensor(sizes, dtype=torch.float64))
    sigma = check_positive_float("sigma", sigma)
    return torch.full((len(sizes),), sigma**2, dtype=torch.float64)


# ----------------------------------------------------------------------------- Imhof


class _ImhofGrid:
    r"""Imhof's integral on a fixed quadrature grid, valid for q in [q_lo, q_hi].

    .. math:: P(Q > q) = \frac12 + \frac1\pi \int_0^\infty
              \frac{\sin\theta(u)}{u \rho(u)}\,du, \quad
              \theta(u) = \tfrac12 \sum_i h_i \arctan(\lambda_i u) - \tfrac12 q u, \quad
              \rho(u) = \prod_i (1 + \lambda_i^2 u^2)^{h_i / 4}.

    Weights are scaled to mean 1. The integral is truncated at U where a bound on the
    remainder is below ``IMHOF_TOLERANCE``: the smaller of :math:`1 / (\pi m(U) \rho(U))`,
    :math:`m(u) = \tfrac12\sum_i h_i \lambda_i^2u^2/(1+\lambda_i^2u^2)` (a bound on the
    modulus), and, after one integration by parts when :math:`\theta' < 0` beyond U,
    :math:`4 / (\pi U \rho(U) (q_{lo} - s(U)))` with
    :math:`s(u) = \sum_i h_i\lambda_i/(1+\lambda_i^2u^2)`. [0, U] is cut into panels no
    wider than one oscillation of the integrand nor than the distance
    :math:`1/\lambda_{max}` of its nearest singularity, each with 20 Gauss-Legendre nodes.
    """

    def __init__(self, lam: np.ndarray, dof: np.ndarray, q_lo: float, q_hi: float):
        self.scale = float(np.sum(dof * lam))
        lam = lam / self.scale
        q_lo, q_hi = q_lo / self.scale, q_hi / self.scale
        upper = self._truncation(lam, dof, q_lo)
        width = min(1.0 / lam.max(), 4.0 * math.pi / max(q_hi, 1.0))
        n_panels = max(1, math.ceil(upper / width))
        if n_panels * _GL_X.size > _MAX_NODES:
            n_panels = _MAX_NODES // _GL_X.size
            upper = n_panels * width
            bound = self._bounds(lam, dof, q_lo, np.array([upper]))[0]
            warnings.warn(
                f"Imhof's integral truncated at u={upper:.3g}: the truncation error bound is "
                f"{bound:.2g} (weights with few degrees of freedom decay slowly)",
                stacklevel=4,
            )
        width = upper / n_panels
        left = np.arange(n_panels)[:, None] * width
        u = (left + (_GL_X[None, :] + 1.0) * (width / 2)).reshape(-1)
        w = np.broadcast_to(_GL_W * (width / 2), (n_panels, _GL_X.size)).reshape(-1)
        phase, log_rho = self._phase_modulus(lam, dof, u, upper)
        self.u = u
        self.phase = phase
        self.coef = w * np.exp(-log_rho) / u

    @staticmethod
    def _bounds(lam, dof, q_lo, upper):
        x2 = (lam[None, :] * upper[:, None]) ** 2
        log_rho = 0.25 * (dof * np.log1p(x2)).sum(-1)
        m = 0.5 * (dof * x2 / (1.0 + x2)).sum(-1)
        s = (dof * lam / (1.0 + x2)).sum(-1)
        with np.errstate(divide="ignore", over="ignore"):
            env = np.exp(-log_rho) / (math.pi * m)
            gap = q_lo - s
            ibp = np.where(
                gap > 0,
                4.0 * np.exp(-log_rho) / (math.pi * upper * np.where(gap > 0, gap, 1)),
                np.inf,
            )
        return np.minimum(env, ibp)

    def _truncation(self, lam, dof, q_lo):
        candidates = 2.0 ** (np.arange(-16, 8 * 48) / 8.0)
        bound = self._bounds(lam, dof, q_lo, candidates)
        ok = np.nonzero(bound <= IMHOF_TOLERANCE)[0]
        return float(candidates[ok[0]] if ok.size else candidates[-1])

    @staticmethod
    def _phase_modulus(lam, dof, u, upper):
        """theta(u) + q u / 2 and log rho(u) at the nodes, small weights by power series."""
        small = lam * upper <= _SMALL
        phase = np.zeros_like(u)
        log_rho = np.zeros_like(u)
        if small.any():
            ls, hs = lam[small], dof[small]
            p = [np.sum(hs * ls**k) for k in range(1, 7)]
            # arctan y = y - y^3/3 + y^5/5, log1p(y^2) = y^2 - y^4/2 + y^6/3 (|y| <= 1e-3)
            phase += 0.5 * (p[0] * u - p[2] * u**3 / 3 + p[4] * u**5 / 5)
            log_rho += 0.25 * (p[1] * u**2 - p[3] * u**4 / 2 + p[5] * u**6 / 3)
        lb, hb = lam[~small], dof[~small]
        step = max(1, _CHUNK // max(lb.size, 1))
        for i in range(0, u.size, step):
            y = u[i : i + step, None] * lb[None, :]
            phase[i : i + step] += 0.5 * (np.arctan(y) @ hb)
            log_rho[i : i + step] += 0.25 * (np.log1p(y * y) @ hb)
        return phase, log_rho

    def integral(self, q: np.ndarray) -> np.ndarray:
        """(1/pi) times the integral, for q in the grid's range: sf = 1/2 + it, cdf = 1/2 - it."""
        q = np.asarray(q, dtype=np.float64).reshape(-1) / self.scale
        out = np.empty(q.size)
        step = max(1, _CHUNK // self.u.size)
        for i in range(0, q.size, step):
            arg = self.phase[None, :] - 0.5 * q[i : i + step, None] * self.u[None, :]
            out[i : i + step] = np.sin(arg) @ self.coef
        return out / math.pi


# ----------------------------------------------------------------------- saddle point


def _psi(y: np.ndarray) -> np.ndarray:
    r"""(y/(1-y) + log(1-y)) / 2 for y < 1, without cancellation near 0."""
    out = np.empty_like(y)
    near = np.abs(y) < 0.05
    yn = y[near]
    series = np.zeros_like(yn)
    for k in range(12, 1, -1):
        series = (series + (1.0 - 1.0 / k)) * yn
    out[near] = 0.5 * series * yn
    yf = y[~near]
    out[~near] = 0.5 * (yf / (1.0 - yf) + np.log1p(-yf))
    return out


def _saddlepoint(lam: np.ndarray, dof: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lugannani-Rice (sf, cdf) at q > 0 (weights scaled to mean 1 internally)."""
    scale = float(np.sum(dof * lam))
    lam, q = lam / scale, np.asarray(q, dtype=np.float64) / scale
    n = float(dof.sum())
    hi = np.full(q.shape, 0.5 / lam.max())
    lo = -n / (2.0 * q)
    t = np.zeros(q.shape)
    for _ in range(200):
        den = 1.0 - 2.0 * np.outer(t, lam)
        k1 = (dof * lam / den).sum(-1)
        k2 = 2.0 * (dof * lam**2 / den**2).sum(-1)
        f = k1 - q
        lo = np.where(f < 0, t, lo)
        hi = np.where(f > 0, t, hi)
        t_new = t - f / k2
        outside = ~((t_new > lo) & (t_new < hi))
        t_new = np.where(outside, 0.5 * (lo + hi), t_new)
        done = np.abs(t_new - t) <= 1e-15 * np.maximum(np.abs(t), 1e-300)
        t = t_new
        if done.all():
            break
    y = 2.0 * np.outer(t, lam)
    k2 = 2.0 * (dof * lam**2 / (1.0 - y) ** 2).sum(-1)
    w = np.sign(t) * np.sqrt(2.0 * (dof * _psi(y)).sum(-1))
    v = t * np.sqrt(k2)
    tiny = np.abs(w) < 1e-7
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(tiny, 0.0, 1.0 / v - 1.0 / w)
    # at the mean: 1/v - 1/w -> -kappa_3 / (6 kappa_2^(3/2))
    kappa2, kappa3 = 2.0 * np.sum(dof * lam**2), 8.0 * np.sum(dof * lam**3)
    corr = np.where(tiny, -kappa3 / (6.0 * kappa2**1.5), corr)
    dens = np.exp(-0.5 * w * w) / math.sqrt(2.0 * math.pi)
    sf = scipy.special.ndtr(-w) + dens * corr
    cdf = scipy.special.ndtr(w) - dens * corr
    return sf, cdf


# ----------------------------------------------------------------------------- the law


def _merge(lam: np.ndarray, dof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge equal weights, adding their degrees of freedom."""
    lam, inverse = np.unique(lam, return_inverse=True)
    return lam, np.bincount(inverse.reshape(-1), weights=dof, minlength=lam.size)


def _check_method(method: str) -> str:
    return check_choice("method", method, ("imhof", "saddlepoint"))


class WeightedChiSquare:
    r"""Law of :math:`Q = \sum_i a_i \chi^2_{h_i, i}` with independent chi-squares, batched.

    Parameters
    ----------
    weights : array-like of float >= 0, shape (..., n_weights)
        The :math:`a_i`; leading axes index independent laws. Zero weights (padding) are
        allowed, but every law needs one positive weight.
    dof : float > 0 or array-like broadcastable to ``weights``
        Degrees of freedom :math:`h_i` (need not be integers).

    Attributes
    ----------
    weights, dof : torch.Tensor, float64, shape (..., n_weights)
    batch_shape : tuple of int
    mean, var : torch.Tensor, float64, shape batch_shape

    Notes
    -----
    .. math:: \mathbb E Q = \sum_i h_i a_i, \qquad \operatorname{Var} Q = 2 \sum_i h_i a_i^2.

    ``cdf``/``sf`` use Imhof's inversion of the characteristic function (absolute error
    about 1e-10: truncation bounded by 1e-11, quadrature error far below) or, with
    ``method="saddlepoint"``, the Lugannani-Rice approximation (no quadrature; relative
    error of a few parts in 1e3 or less in the tails). ``ppf`` inverts them with Brent's
    method inside a bracket around the saddle-point quantile, widened to Cantelli's
    guaranteed bracket :math:`\mu \pm \sigma \sqrt{1/p' - 1}` when needed.
    Equal weights are merged (their degrees of freedom add up); a law with a single distinct
    weight is a scaled chi-square and is evaluated exactly (incomplete gamma function) by
    either method.

    References
    ----------
    J. P. Imhof, "Computing the distribution of quadratic forms in normal variables",
    Biometrika 48, 1961. R. Lugannani, S. Rice, "Saddle point approximation for the
    distribution of the sum of independent random variables", Adv. Appl. Prob. 12, 1980.

    Examples
    --------
    >>> law = WeightedChiSquare([0.5, 0.5], dof=2)  # (chi2_2 + chi2_2) / 2 = chi2_4 / 2
    >>> round(float(law.cdf(2.0)), 8)  # P(chi2_4 <= 4)
    0.59399415
    """

    def __init__(self, weights: Any, dof: Any = 1) -> None:
        weights = as_double_tensor("weights", weights)
        if weights.is_complex():
            raise TypeError("weights must be real, got complex values")
        if weights.ndim < 1 or weights.shape[-1] < 1:
            raise ParameterError(
                f"weights.shape={tuple(weights.shape)} must be (..., n_weights) with n_weights >= 1"
            )
        if bool((weights < 0).any()):
            raise ParameterError(f"weights min={float(weights.min()):g} must be >= 0")
        if bool((weights.amax(-1) <= 0).any()):
            raise ParameterError("weights must hold a positive entry in every law (all zero)")
        if isinstance(dof, numbers.Real) and not isinstance(dof, bool):
            dof = check_positive_float("dof", dof)
        dof = as_double_tensor("dof", dof)
        if dof.is_complex() or bool((dof <= 0).any()):
            raise ParameterError("dof must be > 0 (degrees of freedom of each chi-square)")
        try:
            dof = torch.broadcast_to(dof, weights.shape).clone()
        except RuntimeError as err:
            raise ParameterError(
                f"dof.shape={tuple(dof.shape)} must broadcast to weights.shape="
                f"{tuple(weights.shape)}"
            ) from err
        self.weights = weights
        self.dof = dof
        flat_w = weights.reshape(-1, weights.shape[-1]).numpy()
        flat_h = dof.reshape(-1, weights.shape[-1]).numpy()
        self._laws = [_merge(w[w > 0], h[w > 0]) for w, h in zip(flat_w, flat_h, strict=True)]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading dimensions indexing independent laws."""
        return tuple(self.weights.shape[:-1])

    @property
    def mean(self) -> torch.Tensor:
        r""":math:`\sum_i h_i a_i`."""
        return (self.dof * self.weights).sum(-1)

    @property
    def var(self) -> torch.Tensor:
        r""":math:`2 \sum_i h_i a_i^2`."""
        return 2.0 * (self.dof * self.weights.square()).sum(-1)

    def __repr__(self) -> str:
        return (
            f"WeightedChiSquare(batch_shape={self.batch_shape}, n_weights={self.weights.shape[-1]})"
        )

    # -- evaluation helpers -------------------------------------------------------------

    def _per_law(self, values: Any, name: str):
        """Broadcast ``values`` against the batch; yield (law index, positions, values)."""
        values = as_double_tensor(name, values).numpy()
        batch = self.batch_shape
        try:
            shape = np.broadcast_shapes(values.shape, batch)
        except ValueError as err:
            raise ParameterError(
                f"{name}.shape={values.shape} must broadcast with batch_shape={batch}"
            ) from err
        law = np.broadcast_to(np.arange(len(self._laws)).reshape(batch), shape).reshape(-1)
        flat = np.broadcast_to(values, shape).reshape(-1).copy()
        return shape, law, flat

    def _tails(self, q: Any, method: str) -> tuple[torch.Tensor, torch.Tensor]:
        method = _check_method(method)
        shape, law, q = self._per_law(q, "q")
        sf = np.where(q > 0, np.nan, 1.0)
        cdf = 1.0 - sf
        for b in np.unique(law):
            sel = (law == b) & (q > 0)
            if not sel.any():
                continue
            lam, dof = self._laws[b]
            qb = q[sel]
            if lam.size == 1:  # a scaled chi-square: exact by the incomplete gamma function
                sf[sel] = scipy.special.gammaincc(dof[0] / 2, qb / (2 * lam[0]))
                cdf[sel] = scipy.special.gammainc(dof[0] / 2, qb / (2 * lam[0]))
            elif method == "imhof":
                grid = _ImhofGrid(lam, dof, float(qb.min()), float(qb.max()))
                integral = grid.integral(qb)
                sf[sel], cdf[sel] = 0.5 + integral, 0.5 - integral
            else:
                sf[sel], cdf[sel] = _saddlepoint(lam, dof, qb)
        return (torch.from_numpy(sf.reshape(shape)), torch.from_numpy(cdf.reshape(shape)))

    def cdf(self, q: Any, *, method: str = "imhof") -> torch.Tensor:
        r"""Distribution function :math:`P(Q \le q)`.

        Parameters
        ----------
        q : array-like, broadcastable with ``batch_shape``
        method : {"imhof", "saddlepoint"}
            Exact inversion (absolute error ~1e-10) or the Lugannani-Rice approximation.

        Returns
        -------
        torch.Tensor, float64, shape broadcast(q.shape, batch_shape)
        """
        return self._tails(q, method)[1]

    def sf(self, q: Any, *, method: str = "imhof") -> torch.Tensor:
        r"""Survival function :math:`P(Q > q)` (same arguments as :meth:`cdf`)."""
        return self._tails(q, method)[0]

    def ppf(self, p: Any, *, method: str = "imhof") -> torch.Tensor:
        r"""Quantile function: the q with :math:`P(Q \le q) = p`.

        Parameters
        ----------
        p : array-like of floats in (0, 1), broadcastable with ``batch_shape``
        method : {"imhof", "saddlepoint"}

        Returns
        -------
        torch.Tensor, float64, shape broadcast(p.shape, batch_shape)
            Solved to a relative tolerance of 1e-12 in q.
        """
        method = _check_method(method)
        shape, law, p = self._per_law(p, "p")
        if not bool(((p > 0) & (p < 1)).all()):
            bad = p[~((p > 0) & (p < 1))][0]
            raise ParameterError(f"p={bad} must be in the open interval (0, 1)")
        out = np.empty(p.size)
        for b in np.unique(law):
            sel = law == b
            out[sel] = self._ppf_law(b, p[sel], method)
        return torch.from_numpy(out.reshape(shape))

    def _ppf_law(self, b: int, p: np.ndarray, method: str) -> np.ndarray:
        lam, dof = self._laws[b]
        if lam.size == 1:
            return 2 * lam[0] * scipy.special.gammaincinv(dof[0] / 2, p)
        mean = float(np.sum(dof * lam))
        sd = math.sqrt(2.0 * float(np.sum(dof * lam**2)))
        # Cantelli: P(Q <= mean - k sd) and P(Q >= mean + k sd) are <= 1 / (1 + k^2)
        lo = np.maximum(mean - 1.01 * sd * np.sqrt(1.0 / p - 1.0), 0.0)
        hi = mean + 1.01 * sd * np.sqrt(1.0 / (1.0 - p) - 1.0)
        if method == "saddlepoint":

            def cdf(q):
                return float(_saddlepoint(lam, dof, np.array([q]))[1][0]) if q > 0 else 0.0

            for _ in range(60):  # an approximation need not respect Cantelli's bracket
                bad_lo = np.array([cdf(q) > pk for q, pk in zip(lo, p, strict=True)])
                bad_hi = np.array([cdf(q) < pk for q, pk in zip(hi, p, strict=True)])
                if not (bad_lo.any() or bad_hi.any()):
                    break
                lo, hi = np.where(bad_lo, lo / 2, lo), np.where(bad_hi, 2 * hi, hi)
            return np.array(
                [_brent(cdf, pk, a, c, mean) for pk, a, c in zip(p, lo, hi, strict=True)]
            )
        guess = self._ppf_law(b, p, "saddlepoint")
        near_lo = np.maximum(guess - 0.5 * sd, lo)
        near_hi = np.minimum(guess + 0.5 * sd, hi)
        grid = _ImhofGrid(lam, dof, float(near_lo.min()), float(near_hi.max()))

        def exact_cdf(q, grid=grid):
            return float(0.5 - grid.integral(np.array([q]))[0]) if q > 0 else 0.0

        ok = np.array(
            [
                exact_cdf(a) <= pk <= exact_cdf(c)
                for pk, a, c in zip(p, near_lo, near_hi, strict=True)
            ]
        )
        if not ok.all():  # fall back to Cantelli's bracket, which always holds
            near_lo, near_hi = np.where(ok, near_lo, lo), np.where(ok, near_hi, hi)
            grid = _ImhofGrid(lam, dof, float(near_lo.min()), float(near_hi.max()))
        return np.array(
            [
                _brent(lambda q, grid=grid: exact_cdf(q, grid), pk, a, c, mean)
                for pk, a, c in zip(p, near_lo, near_hi, strict=True)
            ]
        )

    def sample(
        self, n: int, *, seed: int | None = None, generator: np.random.Generator | None = None
    ) -> torch.Tensor:
        r"""Independent draws of Q.

        Parameters
        ----------
        n : int >= 1
            Number of draws.
        seed : int >= 0, optional
            Seed of a fresh ``numpy.random.default_rng`` (0 when ``generator`` is None too).
        generator : numpy.random.Generator, optional
            Source of randomness (exclusive with ``seed``).

        Returns
        -------
        torch.Tensor, float64, shape (n, *batch_shape)

        Notes
        -----
        .. math:: Q = \sum_i 2 a_i G_i, \qquad G_i \sim \Gamma(h_i / 2, 1).
        """
        n = check_int("n", n)
        if generator is not None and seed is not None:
            raise ParameterError("seed and generator must not both be given (pass one of them)")
        if generator is None:
            generator = np.random.default_rng(
                0 if seed is None else check_int("seed", seed, minimum=0)
            )
        elif not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"generator must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        out = np.empty((n, len(self._laws)))
        for b, (lam, dof) in enumerate(self._laws):
            step = max(1, _CHUNK // lam.size)
            for i in range(0, n, step):
                m = min(step, n - i)
                out[i : i + m, b] = generator.standard_gamma(dof / 2, size=(m, lam.size)) @ (
                    2 * lam
                )
        return torch.from_numpy(out.reshape(n, *self.batch_shape))


def _brent(cdf, p: float, lo: float, hi: float, scale: float) -> float:
    """The q in [lo, hi] with cdf(q) = p (cdf(lo) <= p <= cdf(hi)), by Brent's method."""
    f_lo, f_hi = cdf(lo) - p, cdf(hi) - p
    if f_lo >= 0:
        return lo
    if f_hi <= 0:
        return hi
    return scipy.optimize.brentq(
        lambda q: cdf(q) - p, lo, hi, xtol=1e-14 * scale, rtol=1e-12, maxiter=200
    )


# ---------------------------------------------------------------------- from a signal


def energy_distribution(
    x: Any,
    n_filters: int,
    kernel_size: int | Sequence[int],
    *,
    sigma: float | None = None,
    mode: str = "circular",
    method: str = "auto",
    n_top: int = 64,
) -> WeightedChiSquare:
    r"""Exact law of the energy response of a random Gaussian filterbank (stride 1) on signals.

    Parameters
    ----------
    x : array-like of real numbers, shape (..., n_samples)
        Signals with nonzero energy (leading axes are a batch).
    n_filters : int >= 1
        J.
    kernel_size : int >= 1 or sequence of them
        T (at most n_samples in circular mode). A sequence adds a trailing batch axis.
    sigma : float > 0, optional
        Standard deviation of the taps; default :math:`\sigma^2 = 1/(J T)` for each T.
    mode : {"circular", "full"}
        Circular convolution of length N, or linear convolution ("full"): the law is the
        same with the linear autocorrelation.
    method : {"auto", "exact", "lumped"}
        "exact": all T eigenvalues of :math:`Q_T` (dense solver). "lumped": the ``n_top``
        largest eigenvalues exactly (Lanczos above
        :data:`~fbinit.analysis.autocorrelation.DENSE_MAX_KERNEL_SIZE`) and the rest lumped
        into one chi-square with the same mean and variance (Satterthwaite), so the mean,
        variance and largest weights of the law are exact. "auto": "exact" for T <=
        ``DENSE_MAX_KERNEL_SIZE``, "lumped" above.
    n_top : int >= 1
        Eigenvalues kept exactly by "lumped".

    Returns
    -------
    WeightedChiSquare
        batch_shape (..., [n_kernel_sizes]); weights :math:`\sigma^2 \lambda_i` with
        ``n_filters`` degrees of freedom each (zero weights are padding), plus, for
        "lumped", a last weight :math:`\sigma^2 S_2 / S_1` with :math:`J S_1^2 / S_2`
        degrees of freedom, :math:`S_k` the sum of the remaining :math:`\lambda_i^k`.

    Notes
    -----
    .. math:: E(x) = \sum_{j=1}^J w_j^\top Q_T w_j \sim
              \sigma^2 \sum_{i=1}^T \lambda_i\, \chi^2_{J, i}, \qquad
              \mathbb E E = J T \sigma^2 R(0), \qquad
              \operatorname{Var} E = 2 J \sigma^4 \sum_{|\tau|<T} (T-|\tau|) R(\tau)^2.

    The lumped remainder has weights at most :math:`\lambda_{n_{top}}` and underestimates
    only its own third and higher cumulants. Measured relative error of the 95 %, 99 % and
    99.9 % quantiles of E / E[E] - 1 (J = 10): white noise, the worst case (flat spectrum),
    1.6e-3 at T = 512 and 1024 with ``n_top`` = T / 16, 6e-4 at T = 2048 with ``n_top=64``;
    random walks and noisy sinusoids below 1e-6 (see the tests).

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros(64); x[0] = 1.0  # impulse: E ~ chi2_{JT} / (JT)
    >>> law = energy_distribution(x, 10, 8)
    >>> round(float(law.ppf(0.95)) - 1, 4)
    0.2735
    """
    n_filters = check_int("n_filters", n_filters)
    mode = check_choice("mode", mode, ("circular", "full"))
    method = check_choice("method", method, ("auto", "exact", "lumped"))
    n_top = check_int("n_top", n_top)
    x, exponent = scaled_signal(nonzero_signal(x))  # the weights scale with 2^(2e)
    sizes, is_seq = kernel_sizes(kernel_size, x.shape[-1], mode)
    sigma2 = sigma2_per_size(sigma, n_filters, sizes)
    r = autocorrelation(x, mode=mode, max_lag=max(sizes) - 1)
    lumped = [method == "lumped" or (method == "auto" and t > DENSE_MAX_KERNEL_SIZE) for t in sizes]
    lumped_any = any(lumped)
    width = max(min(t, n_top) if lump else t for t, lump in zip(sizes, lumped, strict=True))
    weights, dofs = [], []
    for t, s2, lump in zip(sizes, sigma2.tolist(), lumped, strict=True):
        lam = autocorrelation_eigenvalues(x, t, mode=mode, n_top=n_top if lump else None)
        k = lam.shape[-1]
        dof = torch.full_like(lam, float(n_filters))
        if lumped_any:
            s1 = t * r[..., 0] - lam.sum(-1)
            s2_rest = frobenius_norm2(r, t) - lam.square().sum(-1)
            # remainders at round-off level of the totals are zero (rank <= n_top)
            keep = (s1 > 1e-12 * t * r[..., 0]) & (s2_rest > 1e-12 * frobenius_norm2(r, t))
            extra = torch.where(keep, s2_rest / torch.where(keep, s1, 1.0), 0.0)
            extra_dof = torch.where(
                keep, float(n_filters) * s1.square() / torch.where(keep, s2_rest, 1.0), 1.0
            )
            lam = torch.cat([torch.nn.functional.pad(lam, (0, width - k)), extra[..., None]], -1)
            dof = torch.cat(
                [torch.nn.functional.pad(dof, (0, width - k), value=1.0), extra_dof[..., None]],
                -1,
            )
        else:
            lam = torch.nn.functional.pad(lam, (0, width - k))
            dof = torch.nn.functional.pad(dof, (0, width - k), value=1.0)
        weights.append(s2 * lam)
        dofs.append(dof)
    weights_t, dofs_t = torch.stack(weights, -2), torch.stack(dofs, -2)
    with np.errstate(over="ignore"):
        shift = (2 * exponent).numpy()[..., None, None]
        weights_t = torch.from_numpy(np.ldexp(weights_t.numpy(), shift))
    if not bool(torch.isfinite(weights_t).all()):
        raise ParameterError(
            "x has an energy beyond the float64 range (about 1.8e308); scale it down: the "
            "law of the energy of c x is that of x scaled by c^2"
        )
    if not is_seq:
        weights_t, dofs_t = weights_t[..., 0, :], dofs_t[..., 0, :]
    return WeightedChiSquare(weights_t, dofs_t)
