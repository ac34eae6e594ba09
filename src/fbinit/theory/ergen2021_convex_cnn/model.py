r"""The non-convex problem: a two-layer ReLU CNN with global sum pooling and weight decay.

.. math:: f(x_i) = \sum_{j=1}^{m}\sum_{k=1}^{K} (X_k u_j)_{i,+}\; w_j,\qquad
          p(U, w) = \tfrac12\|f(X) - y\|^2
                    + \tfrac\beta2\sum_j \bigl(\|u_j\|^2 + w_j^2\bigr),

with filters :math:`u_j \in \mathbb R^h` (one channel), patches :math:`X_k` of stride
:math:`s` and output weights :math:`w_j`. Trained with SGD or Adam from several seeds at
once (a leading run dimension).

Details not fixed by the paper and chosen here (all parameters): initialisation
:math:`u_j \sim \mathcal N(0, I_h/h)`, :math:`w_j \sim \mathcal N(0, 1/m)`; full-batch
steps unless ``batch_size`` is given (then each run draws its own mini-batch and the data
term is rescaled by :math:`n/B`).

References
----------
T. Ergen, M. Pilanci, "Implicit Convex Regularizers of CNN Architectures: Convex
Optimization of Two- and Three-Layer Networks in Polynomial Time", ICLR 2021.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fbinit._validate import check_choice, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = ["TrainTrace", "TwoLayerCNN", "cnn_forward", "primal_objective", "train_nonconvex"]


def _as_patches(X) -> torch.Tensor:
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
    X = X.to(torch.float64)
    if X.ndim != 3:
        raise ParameterError(f"X.ndim={X.ndim} must be 3 (patches of shape (K, n, h))")
    return X


def cnn_forward(U, w, X) -> torch.Tensor:
    r"""Output of the two-layer CNN(s).

    Parameters
    ----------
    U : torch.Tensor, shape (*R, m, h)
        First-layer filters :math:`u_j`.
    w : torch.Tensor, shape (*R, m)
        Output weights :math:`w_j`.
    X : array-like, shape (K, n, h)
        Patches.

    Returns
    -------
    torch.Tensor, shape (*R, n)
        .. math:: f_i = \sum_j \sum_k (X_k u_j)_{i,+}\, w_j .

    Examples
    --------
    >>> import torch
    >>> X = torch.ones(2, 3, 1)
    >>> cnn_forward(torch.tensor([[1.0], [-1.0]]), torch.tensor([2.0, 5.0]), X).tolist()
    [4.0, 4.0, 4.0]
    """
    X = _as_patches(X)
    act = torch.relu(torch.einsum("kih,...jh->...kij", X, U.to(torch.float64)))
    return torch.einsum("...kij,...j->...i", act, w.to(torch.float64))


def primal_objective(U, w, X, y, beta: float) -> torch.Tensor:
    r"""Weight-decay regularised square loss of the CNN(s), shape R.

    .. math:: p(U, w) = \tfrac12\|f(X) - y\|^2 + \tfrac\beta2(\|U\|_F^2 + \|w\|^2).

    Examples
    --------
    >>> import torch
    >>> X, y = torch.ones(1, 2, 1), torch.zeros(2)
    >>> float(primal_objective(torch.ones(1, 1), torch.ones(1), X, y, 0.5))
    1.5
    """
    beta = check_positive_float("beta", beta, allow_zero=True)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).double()
    pred = cnn_forward(U, w, X)
    if pred.shape[-1] != y.shape[-1]:
        raise ParameterError(f"y.shape={tuple(y.shape)} must be ({pred.shape[-1]},)")
    fit = 0.5 * ((pred - y) ** 2).sum(-1)
    return fit + 0.5 * beta * ((U.double() ** 2).sum((-2, -1)) + (w.double() ** 2).sum(-1))


class TwoLayerCNN(nn.Module):
    r"""Two-layer ReLU CNN with global sum pooling (one network; see :func:`cnn_forward`).

    Parameters
    ----------
    kernel_size : int >= 1
        Filter length :math:`h`.
    n_filters : int >= 1
        Number of filters :math:`m`.
    seed : int >= 0

    Examples
    --------
    >>> net = TwoLayerCNN(3, 4)
    >>> tuple(net(torch.zeros(4, 6, 3)).shape)
    (6,)
    """

    def __init__(self, kernel_size: int, n_filters: int, *, seed: int = 0) -> None:
        super().__init__()
        kernel_size = check_int("kernel_size", kernel_size)
        n_filters = check_int("n_filters", n_filters)
        gen = make_generator(seed)
        self.U = nn.Parameter(
            torch.randn(n_filters, kernel_size, generator=gen, dtype=torch.float64)
            / math.sqrt(kernel_size)
        )
        self.w = nn.Parameter(
            torch.randn(n_filters, generator=gen, dtype=torch.float64) / math.sqrt(n_filters)
        )

    def forward(self, X) -> torch.Tensor:
        """Outputs :math:`f(x_i)`, shape (n,), for patches ``X`` of shape (K, n, h)."""
        return cnn_forward(self.U, self.w, X)


@dataclass(frozen=True)
class TrainTrace:
    """Objective along training (numpy) and the final weights.

    Attributes
    ----------
    iteration : ndarray, shape (T,)
    objective : ndarray, shape (T, n_runs)
        Full-batch primal objective :math:`p(U, w)` at each record.
    U : ndarray, shape (n_runs, m, h)
    w : ndarray, shape (n_runs, m)
    """

    iteration: np.ndarray
    objective: np.ndarray
    U: np.ndarray
    w: np.ndarray


def _gradients(U, w, X, y, beta, weights=None):
    r"""Closed-form gradient of the (mini-batch weighted) primal objective.

    .. math:: \partial_{w_j} p = \sum_{k,i} r_i\,(X_k u_j)_{i,+} + \beta w_j,\qquad
              \partial_{u_j} p = w_j\sum_{k,i} r_i\,1[(X_k u_j)_i > 0]\,X_k[i] + \beta u_j,

    with residuals :math:`r = f(X) - y`, multiplied by ``weights`` (shape (R, n)) if given.
    """
    Z = torch.einsum("kih,...jh->...kij", X, U)
    act = torch.relu(Z)
    resid = torch.einsum("...kij,...j->...i", act, w) - y
    if weights is not None:
        resid = resid * weights
    grad_w = torch.einsum("...kij,...i->...j", act, resid) + beta * w
    gate = (Z > 0).to(torch.float64) * resid.unsqueeze(-2).unsqueeze(-1)
    grad_U = torch.einsum("...kij,kih->...jh", gate, X) * w.unsqueeze(-1) + beta * U
    return grad_U, grad_w


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """Tiny tensors: one thread avoids thread start-up costs dominating each step."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_nonconvex(
    X,
    y,
    beta: float,
    *,
    n_filters: int = 16,
    optimizer: str = "adam",
    lr: float = 1e-2,
    n_iter: int = 5000,
    n_runs: int = 4,
    batch_size: int | None = None,
    record_every: int = 10,
    seed: int = 0,
) -> TrainTrace:
    r"""Minimise the primal objective with SGD or Adam from ``n_runs`` seeds at once.

    Parameters
    ----------
    X : array-like, shape (K, n, h)
        Patches.
    y : array-like, shape (n,)
    beta : float >= 0
        Weight decay :math:`\beta`.
    n_filters : int >= 1
        Width :math:`m` (the equivalence needs :math:`m \ge m^\star`, the number of
        nonzero blocks of the convex solution).
    optimizer : {'sgd', 'adam'}
        ``torch.optim.SGD`` (no momentum) or ``torch.optim.Adam`` (elementwise, so the
        runs stay independent).
    lr : float > 0
        Learning rate.
    n_iter : int >= 1
        Number of steps.
    n_runs : int >= 1
        Number of random initialisations (run ``r`` depends only on ``seed`` and ``r``).
    batch_size : int in [1, n], optional
        Mini-batch size; None for full-batch steps.
    record_every : int >= 1
        Record the full objective every this many steps (and at the end).
    seed : int >= 0

    Returns
    -------
    TrainTrace
        .. math:: \theta \leftarrow \theta - \mathrm{step}(\nabla_\theta\, p(U, w)).

    Examples
    --------
    >>> from fbinit.theory.ergen2021_convex_cnn import patches, teacher_data
    >>> x, y = teacher_data(6, 6, 3)
    >>> tr = train_nonconvex(patches(x, 3), y, 0.01, n_iter=200, n_runs=2)
    >>> tr.objective.shape, bool((tr.objective[-1] < tr.objective[0]).all())
    ((21, 2), True)
    """
    X = _as_patches(X)
    y = torch.as_tensor(np.asarray(y)).double()
    n = X.shape[1]
    if y.shape != (n,):
        raise ParameterError(f"y.shape={tuple(y.shape)} must be ({n},)")
    beta = check_positive_float("beta", beta, allow_zero=True)
    n_filters = check_int("n_filters", n_filters)
    check_choice("optimizer", optimizer, ("sgd", "adam"))
    lr = check_positive_float("lr", lr)
    n_iter = check_int("n_iter", n_iter)
    n_runs = check_int("n_runs", n_runs)
    record_every = check_int("record_every", record_every)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size)
        if batch_size > n:
            raise ParameterError(f"batch_size={batch_size} must be <= n_samples={n}")
    h = X.shape[2]
    inits = [TwoLayerCNN(h, n_filters, seed=seed + r) for r in range(n_runs)]
    U = torch.stack([net.U.detach() for net in inits])
    w = torch.stack([net.w.detach() for net in inits])
    opt_cls = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_cls([U, w], lr=lr)
    gen = make_generator(seed + 10_000)
    iters, values = [], []
    with _single_thread(), torch.no_grad():
        for it in range(n_iter + 1):
            if it % record_every == 0 or it == n_iter:
                obj = primal_objective(U, w, X, y, beta)
                if not bool(torch.isfinite(obj).all()):
                    raise ParameterError(f"lr={lr} must be smaller: {optimizer} diverged")
                iters.append(it)
                values.append(obj.numpy().copy())
            if it == n_iter:
                break
            weights = None
            if batch_size is not None:
                idx = torch.rand(n_runs, n, generator=gen).argsort(-1)[:, :batch_size]
                weights = torch.zeros(n_runs, n, dtype=torch.float64)
                weights.scatter_(1, idx, n / batch_size)
            U.grad, w.grad = _gradients(U, w, X, y, beta, weights)
            opt.step()
    return TrainTrace(np.asarray(iters), np.stack(values), U.detach().numpy(), w.detach().numpy())
