r"""Model of Du, Lee and Tian (2018): one shared ReLU filter averaged over k patches.

.. math:: f(Z, w) = \frac1k \sum_{i=1}^k \mathrm{relu}(w^\top Z_i),\qquad
          \ell(w) = \tfrac12\,\mathbb E\big[(f(Z, w) - f(Z, w^*))^2\big].

Patches ``Z`` have shape (n, k, p); filters ``w`` have shape (..., p), the leading
dimensions indexing independent runs trained on the same data.

References
----------
S. S. Du, J. D. Lee, Y. Tian, "When is a Convolutional Filter Easy to Learn?", ICLR 2018.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fbinit._validate import as_double_tensor, check_int
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = [
    "student_output",
    "empirical_loss",
    "empirical_gradient",
    "gauss_newton",
    "SingleFilterCNN",
]


def _patches(Z) -> torch.Tensor:
    Z = as_double_tensor("Z", Z)
    if Z.ndim != 3:
        raise ParameterError(f"Z.ndim={Z.ndim} must be 3 (shape (n, k, p))")
    return Z


def student_output(Z, w) -> torch.Tensor:
    r"""Network output :math:`f(Z, w)` for every sample and every filter.

    Parameters
    ----------
    Z : array-like, shape (n, k, p)
        Patches.
    w : array-like, shape (..., p)
        Filters.

    Returns
    -------
    torch.Tensor, shape (..., n)
        .. math:: f(Z_n, w) = \frac1k \sum_i \mathrm{relu}(w^\top Z_{n,i}).

    Examples
    --------
    >>> Z = torch.ones(2, 3, 4, dtype=torch.float64)
    >>> student_output(Z, torch.ones(4)).tolist()
    [4.0, 4.0]
    """
    Z = _patches(Z)
    w = as_double_tensor("w", w)
    return torch.relu(_pre_activations(Z, w)).mean(-1)


def _pre_activations(Z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """w^T Z_{n,i} as a tensor of shape (..., n, k), through one matrix product."""
    flat = w.reshape(-1, w.shape[-1])
    pre = (Z.reshape(-1, Z.shape[-1]) @ flat.T).T
    return pre.reshape(*w.shape[:-1], Z.shape[0], Z.shape[1])


def empirical_loss(Z, w, w_star) -> torch.Tensor:
    r"""Empirical square loss against the teacher :math:`w^*`.

    Parameters
    ----------
    Z : array-like, shape (n, k, p)
        Patches.
    w : array-like, shape (..., p)
        Student filters.
    w_star : array-like, shape (p,)
        Teacher filter.

    Returns
    -------
    torch.Tensor, shape (...)
        .. math:: \hat\ell(w) = \frac1{2n}\sum_n (f(Z_n, w) - f(Z_n, w^*))^2.

    Examples
    --------
    >>> Z = torch.randn(5, 2, 3, generator=torch.Generator().manual_seed(0))
    >>> float(empirical_loss(Z, [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]))
    0.0
    """
    Z = _patches(Z)
    return _empirical_loss(Z, as_double_tensor("w", w), as_double_tensor("w_star", w_star))


def _empirical_loss(Z: torch.Tensor, w: torch.Tensor, w_star: torch.Tensor) -> torch.Tensor:
    residual = torch.relu(_pre_activations(Z, w)).mean(-1)
    residual = residual - torch.relu(_pre_activations(Z, w_star)).mean(-1)
    return 0.5 * (residual**2).mean(-1)


def empirical_gradient(Z, w, w_star) -> torch.Tensor:
    r"""Gradient of :func:`empirical_loss` with respect to ``w``.

    Parameters
    ----------
    Z : array-like, shape (n, k, p)
        Patches.
    w : array-like, shape (..., p)
        Student filters.
    w_star : array-like, shape (p,)
        Teacher filter.

    Returns
    -------
    torch.Tensor, shape (..., p)
        .. math:: \frac1n \sum_n \big(f(Z_n, w) - f(Z_n, w^*)\big)\,
                  \frac1k \sum_i Z_{n,i}\,\mathbb 1\{w^\top Z_{n,i} \ge 0\}.

    Examples
    --------
    >>> Z = torch.randn(5, 2, 3, generator=torch.Generator().manual_seed(0))
    >>> empirical_gradient(Z, [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]).abs().max().item()
    0.0
    """
    Z = _patches(Z)
    return _empirical_gradient(Z, as_double_tensor("w", w), as_double_tensor("w_star", w_star))


def _empirical_gradient(Z: torch.Tensor, w: torch.Tensor, w_star: torch.Tensor) -> torch.Tensor:
    pre = _pre_activations(Z, w)
    residual = torch.relu(pre).mean(-1) - torch.relu(_pre_activations(Z, w_star)).mean(-1)
    weights = residual[..., None] * (pre >= 0).to(Z.dtype)
    flat = weights.reshape(-1, Z.shape[0] * Z.shape[1])
    grad = flat @ Z.reshape(-1, Z.shape[-1]) / (Z.shape[0] * Z.shape[1])
    return grad.reshape(w.shape)


def gauss_newton(Z, w) -> torch.Tensor:
    r"""Empirical Gauss-Newton matrix; at :math:`w = w^*` it is the Hessian of the loss.

    Parameters
    ----------
    Z : array-like, shape (n, k, p)
        Patches.
    w : array-like, shape (p,)
        Filter.

    Returns
    -------
    torch.Tensor, shape (p, p)
        .. math:: \frac1n\sum_n J_n J_n^\top,\quad
                  J_n = \frac1k\sum_i Z_{n,i}\,\mathbb 1\{w^\top Z_{n,i} \ge 0\}.

        Its largest eigenvalue at :math:`w^*` bounds the locally stable step,
        :math:`\eta < 2/\lambda_\max`.

    Examples
    --------
    >>> Z = torch.eye(2, dtype=torch.float64)[None]  # one input, patches e1 and e2
    >>> gauss_newton(Z, [1.0, 1.0]).tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    Z = _patches(Z)
    w = as_double_tensor("w", w)
    if w.ndim != 1 or w.shape[0] != Z.shape[-1]:
        raise ParameterError(f"w.shape={tuple(w.shape)} must be ({Z.shape[-1]},)")
    J = (Z * (Z @ w >= 0).to(Z.dtype)[..., None]).mean(1)
    return J.T @ J / Z.shape[0]


class SingleFilterCNN(nn.Module):
    r"""One-filter convolutional network on raw signals: conv, ReLU, mean pooling.

    Parameters
    ----------
    kernel_size : int >= 1
        Filter length p.
    stride : int >= 1
        Hop s between patches; s < p makes the patches overlap.
    w : array-like, shape (kernel_size,), optional
        Initial filter (default: standard Gaussian drawn from ``generator``).
    generator : torch.Generator, optional
        Source of the default initialisation (default: a generator seeded with 0).

    Notes
    -----
    For a signal :math:`X` of length :math:`(k-1)s + p`, the patches are
    :math:`Z_i = X[(i-1)s : (i-1)s + p]` and

    .. math:: \mathrm{forward}(X) = \frac1k \sum_i \mathrm{relu}(w^\top Z_i) = f(Z, w).

    Examples
    --------
    >>> net = SingleFilterCNN(4, stride=2, w=torch.ones(4))
    >>> net(torch.ones(3, 8, dtype=torch.float64)).tolist()
    [4.0, 4.0, 4.0]
    """

    def __init__(
        self,
        kernel_size: int,
        *,
        stride: int = 1,
        w=None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.stride = check_int("stride", stride)
        if w is None:
            gen = make_generator(None, generator)
            w = torch.randn(self.kernel_size, generator=gen, dtype=torch.float64)
        w = as_double_tensor("w", w)
        if tuple(w.shape) != (self.kernel_size,):
            raise ParameterError(f"w.shape={tuple(w.shape)} must be ({self.kernel_size},)")
        self.w = nn.Parameter(w.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map signals of shape (n, length) to outputs of shape (n,)."""
        out = F.conv1d(x[:, None, :].to(self.w.dtype), self.w[None, None, :], stride=self.stride)
        return torch.relu(out[:, 0, :]).mean(-1)
