r"""Circular CNNs: weight decay on a circular convolution becomes a Fourier l1 penalty.

A linear circular CNN :math:`x \mapsto \langle x \circledast u, w\rangle` with weight decay
:math:`\|u\|^2 + \|w\|^2` depends on :math:`(u, w)` only through the end-to-end filter
:math:`z = u \circledast w` (up to a flip of :math:`u`, which keeps its norm). With the
unitary DFT :math:`F` (``numpy.fft.fft(., norm="ortho")``),
:math:`F(u \circledast w) = \sqrt d\,(Fu)\odot(Fw)`, and the AM-GM inequality per
frequency gives

.. math:: \min_{u \circledast w = z}\ \|u\|^2 + \|w\|^2 = \frac{2}{\sqrt d}\,\|F z\|_1,

attained by :math:`|\hat u_k| = |\hat w_k| = \sqrt{|\hat z_k|/\sqrt d}` with phases split
evenly (conjugate-symmetric, so :math:`u, w` are real). The non-convex check minimises
:math:`g(u) = \|u\|^2 + \|w(u)\|^2`, :math:`\hat w = \hat z / (\sqrt d\,\hat u)`, over
:math:`u` from random starts with Adam: it never goes below the closed form.

References
----------
T. Ergen, M. Pilanci, "Implicit Convex Regularizers of CNN Architectures: Convex
Optimization of Two- and Three-Layer Networks in Polynomial Time", ICLR 2021.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = [
    "circular_conv",
    "factorization_cost",
    "fourier_l1_penalty",
    "min_norm_factorization",
    "nonconvex_factorization",
]


def _as_signal(name: str, z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    if z.ndim < 1 or z.shape[-1] < 1:
        raise ParameterError(f"{name} must have at least one dimension of length >= 1")
    if not np.isfinite(z).all():
        raise ParameterError(f"{name} must hold only finite values (found NaN or Inf)")
    return z


def circular_conv(u, w) -> np.ndarray:
    r"""Circular convolution along the last axis.

    .. math:: (u \circledast w)[t] = \sum_s u[s]\, w[(t - s) \bmod d].

    Examples
    --------
    >>> circular_conv([1.0, 2.0, 0.0], [0.0, 1.0, 0.0]).round(12).tolist()
    [0.0, 1.0, 2.0]
    """
    u, w = _as_signal("u", u), _as_signal("w", w)
    if u.shape[-1] != w.shape[-1]:
        raise ParameterError(f"w.shape[-1]={w.shape[-1]} must equal u.shape[-1]={u.shape[-1]}")
    return np.fft.ifft(np.fft.fft(u) * np.fft.fft(w)).real


def fourier_l1_penalty(z) -> np.ndarray:
    r"""The implicit regulariser of a circular convolution layer.

    .. math:: R(z) = \frac{2}{\sqrt d}\,\|F z\|_1,\qquad F = \text{unitary DFT}.

    Examples
    --------
    >>> float(fourier_l1_penalty([1.0, 0.0, 0.0, 0.0]))  # |Fz_k| = 1/2 for all k
    2.0
    """
    z = _as_signal("z", z)
    d = z.shape[-1]
    return 2.0 / math.sqrt(d) * np.abs(np.fft.fft(z, norm="ortho")).sum(-1)


def min_norm_factorization(z) -> tuple[np.ndarray, np.ndarray]:
    r"""Real :math:`u, w` with :math:`u \circledast w = z` and the least :math:`\|u\|^2+\|w\|^2`.

    .. math:: \hat u_k = \hat w_k = \sqrt{|\hat z_k|/\sqrt d}\;e^{i\theta_k/2},\quad
              \theta_{d-k} = -\theta_k,

    except at the self-conjugate frequencies (0 and :math:`d/2`), where :math:`\hat z_k`
    is real and :math:`\hat u_k = \sqrt{|\hat z_k|/\sqrt d}`,
    :math:`\hat w_k = \operatorname{sign}(\hat z_k)\,\hat u_k`.

    Returns
    -------
    u, w : ndarray, same shape as ``z``

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).standard_normal(8)
    >>> u, w = min_norm_factorization(z)
    >>> bool(np.allclose(circular_conv(u, w), z))
    True
    """
    z = _as_signal("z", z)
    d = z.shape[-1]
    zh = np.fft.fft(z, norm="ortho")
    mag = np.sqrt(np.abs(zh) / math.sqrt(d))
    angle = np.angle(zh)
    k = np.arange(d)
    first = (k > 0) & (k < d - k)  # one member of each conjugate pair (k, d - k)
    second = (k > 0) & (k > d - k)
    theta = np.where(first, angle, np.where(second, -angle[..., (-k) % d], 0.0))
    self_conj = ~(first | second)  # k = 0 and k = d/2: real coefficients
    uh = mag * np.exp(0.5j * theta)
    wh = np.where(self_conj, np.sign(zh.real) * mag + 0j, uh)
    u = np.fft.ifft(uh, norm="ortho").real
    w = np.fft.ifft(wh, norm="ortho").real
    return u, w


def factorization_cost(u, z) -> np.ndarray:
    r"""Weight decay of :math:`(u, w(u))` where :math:`w(u)` is the unique solution of
    :math:`u \circledast w = z` (infinite when some :math:`\hat u_k = 0 \ne \hat z_k`).

    .. math:: g(u) = \|u\|^2 + \sum_k \frac{|\hat z_k|^2}{d\,|\hat u_k|^2}.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).standard_normal(8)
    >>> u, _ = min_norm_factorization(z)
    >>> bool(np.isclose(factorization_cost(u, z), fourier_l1_penalty(z)))
    True
    """
    u, z = _as_signal("u", u), _as_signal("z", z)
    d = z.shape[-1]
    uh = np.fft.fft(u, norm="ortho")
    zh = np.fft.fft(z, norm="ortho")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.abs(zh) > 0, np.abs(zh) ** 2 / (d * np.abs(uh) ** 2), 0.0)
    return (u**2).sum(-1) + ratio.sum(-1)


def nonconvex_factorization(
    z,
    *,
    n_runs: int = 8,
    n_iter: int = 2000,
    lr: float = 0.02,
    seed: int = 0,
) -> np.ndarray:
    r"""Minimise :math:`g(u)` (see :func:`factorization_cost`) with Adam from random starts.

    Parameters
    ----------
    z : array-like, shape (d,)
        End-to-end filter.
    n_runs : int >= 1
        Number of random starts :math:`u \sim \mathcal N(0, I_d/d)`, optimised jointly.
    n_iter : int >= 1
    lr : float > 0
    seed : int >= 0

    Returns
    -------
    ndarray, shape (n_iter + 1, n_runs)
        :math:`g(u_t)` along the runs (never below :math:`2\|Fz\|_1/\sqrt d`).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(1).standard_normal(8)
    >>> g = nonconvex_factorization(z, n_runs=2, n_iter=300)
    >>> bool((g[-1] >= fourier_l1_penalty(z) - 1e-9).all())
    True
    """
    z = _as_signal("z", z)
    if z.ndim != 1:
        raise ParameterError(f"z.ndim={z.ndim} must be 1")
    n_runs = check_int("n_runs", n_runs)
    n_iter = check_int("n_iter", n_iter)
    lr = check_positive_float("lr", lr)
    d = z.shape[0]
    gen = make_generator(seed)
    u = torch.randn(n_runs, d, generator=gen, dtype=torch.float64).numpy() / math.sqrt(d)
    c = np.abs(np.fft.fft(z, norm="ortho")) ** 2 / d
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # Adam (Kingma and Ba), written out in numpy
    m1, m2 = np.zeros_like(u), np.zeros_like(u)
    out = np.empty((n_iter + 1, n_runs))
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(n_iter + 1):
            uh = np.fft.fft(u, norm="ortho")
            p = np.abs(uh) ** 2
            out[it] = (u**2).sum(-1) + np.where(c > 0, c / p, 0.0).sum(-1)
            if it == n_iter:
                break
            # grad of sum_k c_k / |uh_k|^2 for real u: -2 Re F^H (c / |uh|^4 * uh)
            grad = 2 * u - 2 * np.fft.ifft(np.where(c > 0, c / p**2, 0.0) * uh, norm="ortho").real
            m1 = beta1 * m1 + (1 - beta1) * grad
            m2 = beta2 * m2 + (1 - beta2) * grad**2
            hat1 = m1 / (1 - beta1 ** (it + 1))
            hat2 = m2 / (1 - beta2 ** (it + 1))
            u = u - lr * hat1 / (np.sqrt(hat2) + eps)
    return out
