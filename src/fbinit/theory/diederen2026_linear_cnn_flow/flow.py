r"""Gradient flow of the square loss, discretised as gradient descent with a small step.

The flow :math:`\dot w_i = -\nabla_{w_i} L` is integrated by explicit Euler steps
:math:`w_i \leftarrow w_i - \eta \nabla_{w_i} L` (plain gradient descent), so time is
:math:`t = \eta \times \text{step count}`. All runs (a leading run dimension of the
filters) are integrated at once.

Conserved quantities. The network output is linear in each filter, so
:math:`L(\dots, c\,w_i, \dots, w_j / c, \dots) = L` for every :math:`c \neq 0`;
differentiating at :math:`c = 1` gives
:math:`\langle w_i, \nabla_{w_i} L\rangle = \langle w_j, \nabla_{w_j} L\rangle`, hence along
the flow

.. math:: \frac{d}{dt}\|w_i\|^2 = -2\langle w_i, \nabla_{w_i} L\rangle
          \ \text{is the same for every layer, and}\ \|w_i(t)\|^2 - \|w_j(t)\|^2
          \ \text{is constant.}

This is the exact (scalar) form for single-channel convolutions; it is checked to machine
precision by :func:`norm_rates`. An Euler step changes the difference by
:math:`\eta^2(\|\nabla_{w_i}L\|^2 - \|\nabla_{w_j}L\|^2)`, so up to a fixed time the drift
is :math:`O(\eta)`.

References
----------
D. Diederen, H. Rauhut, U. Terstiege, "Convergence of gradient flow for learning
convolutional neural networks", arXiv:2601.08547, 2026.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fbinit._validate import as_double_tensor, check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.theory.diederen2026_linear_cnn_flow.model import (
    _as_filter_list,
    _check_architecture,
    _poly_mul,
    _upsample,
    end_to_end_size,
    patch_matrix,
)

__all__ = ["FlowTrace", "flow_gradient", "gradient_descent", "invariants", "norm_rates"]


def _dilations(strides) -> list[int]:
    out, d = [], 1
    for s in strides:
        out.append(d)
        d *= int(s)
    return out


def _closed_form(filters, strides, patches, y_flat, n_samples):
    """Risk, per-layer gradients and v through the end-to-end filter (see flow_gradient).

    numpy float64 throughout: the arrays are tiny and per-operation overhead dominates.
    """
    dil = _dilations(strides)
    ups = [_upsample(w, d) for w, d in zip(filters, dil, strict=True)]
    v = ups[0]
    for u in ups[1:]:
        v = _poly_mul(v, u)
    resid = v @ patches.T - y_flat
    risk = 0.5 * (resid**2).sum(-1) / n_samples
    grad_v = resid @ patches / n_samples
    grads = []
    for i, (w, d) in enumerate(zip(filters, dil, strict=True)):
        q = np.ones((*w.shape[:-1], 1))
        for j, u in enumerate(ups):
            if j != i:
                q = _poly_mul(q, u)
        index = d * np.arange(w.shape[-1])[:, None] + np.arange(q.shape[-1])
        grads.append(np.einsum("...at,...t->...a", grad_v[..., index], q))
    return risk, grads, v


def _prepare(filters, strides, x, y):
    filters = _as_filter_list(filters)
    kernel_sizes, strides = _check_architecture([w.shape[-1] for w in filters], strides)
    batch = filters[0].shape[:-1]
    if any(w.shape[:-1] != batch for w in filters):
        raise ParameterError("filters must share their leading (run) shape")
    k_v, s_v = end_to_end_size(kernel_sizes, strides)
    x = as_double_tensor("x", x)
    patches = patch_matrix(x, k_v, s_v)
    y = as_double_tensor("y", y)
    n_out = patches.shape[0] // x.shape[0]
    if y.shape != (x.shape[0], n_out):
        raise ParameterError(f"y.shape={tuple(y.shape)} must be {(x.shape[0], n_out)}")
    arrays = [w.detach().numpy().copy() for w in filters]
    return arrays, strides, patches.numpy(), y.reshape(-1).numpy(), x.shape[0]


def flow_gradient(filters, strides: Sequence[int], x, y) -> tuple[torch.Tensor, list]:
    r"""Empirical risk and its gradient in every filter, in closed form.

    The square loss depends on the filters only through :math:`v`:
    :math:`L = \frac{1}{2N}\|P v - \operatorname{vec}(y)\|^2` with :math:`P` the patch
    matrix at width :math:`k_v` and stride :math:`s_v`. Writing
    :math:`v(z) = w_i(z^{D_i})\,Q_i(z)`, :math:`D_i = s_1\cdots s_{i-1}`,

    .. math:: \nabla_{w_i} L\,[a] = \sum_u (\nabla_v L)[u + a D_i]\; Q_i[u],\qquad
              \nabla_v L = \tfrac1N P^\top (P v - \operatorname{vec}(y)).

    Parameters
    ----------
    filters : sequence of tensors, each of shape (*R, k_i)
    strides : sequence of int >= 1
    x : array-like, shape (N, n_in)
    y : array-like, shape (N, n_out)

    Returns
    -------
    risk : torch.Tensor, shape R
    grads : list of torch.Tensor, each of shape (*R, k_i)

    Examples
    --------
    >>> import torch
    >>> risk, grads = flow_gradient([torch.ones(2), torch.ones(2)], (1, 1), torch.ones(1, 4),
    ...                             torch.zeros(1, 2))
    >>> float(risk), grads[0].tolist()
    (16.0, [16.0, 16.0])
    """
    arrays, strides, patches, y_flat, n = _prepare(filters, strides, x, y)
    risk, grads, _ = _closed_form(arrays, strides, patches, y_flat, n)
    return torch.as_tensor(risk), [torch.as_tensor(g) for g in grads]


def invariants(filters) -> torch.Tensor:
    r"""Pairwise differences of squared filter norms.

    Parameters
    ----------
    filters : sequence of tensors, each of shape (*B, k_i)

    Returns
    -------
    torch.Tensor, shape (*B, L, L)
        .. math:: \Delta_{ij} = \|w_i\|^2 - \|w_j\|^2 .

    Examples
    --------
    >>> import torch
    >>> invariants([torch.ones(3), torch.ones(2)])[0, 1].item()
    1.0
    """
    sq = torch.stack([(w**2).sum(-1) for w in _as_filter_list(filters)], dim=-1)
    return sq.unsqueeze(-1) - sq.unsqueeze(-2)


def norm_rates(filters, strides: Sequence[int], x, y) -> torch.Tensor:
    r"""Rate of change of each squared filter norm under the gradient flow.

    Returns
    -------
    torch.Tensor, shape (*B, L)
        .. math:: \frac{d}{dt}\|w_i\|^2 = -2\langle w_i, \nabla_{w_i} L\rangle,

        equal across layers (the reason :math:`\|w_i\|^2 - \|w_j\|^2` is conserved).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> w = [torch.randn(3, generator=g, dtype=torch.float64) for _ in range(2)]
    >>> x, y = torch.randn(4, 9, generator=g), torch.zeros(4, 2)
    >>> r = norm_rates(w, (2, 1), x, y)
    >>> bool(torch.allclose(r[0], r[1]))
    True
    """
    filters = _as_filter_list(filters)
    _, grads = flow_gradient(filters, strides, x, y)
    return torch.stack(
        [-2.0 * (w * g).sum(-1) for w, g in zip(filters, grads, strict=True)], dim=-1
    )


@dataclass(frozen=True)
class FlowTrace:
    """Recorded gradient-descent trajectory (numpy, float64; ``R`` = run shape).

    Attributes
    ----------
    t : ndarray, shape (T,)
        Flow time :math:`\\eta k` of each record.
    loss : ndarray, shape (T, *R)
    grad_norm : ndarray, shape (T, *R)
        Euclidean norm of the full gradient over all layers.
    sq_norms : ndarray, shape (T, *R, L)
        :math:`\\|w_i\\|^2`.
    end_to_end : ndarray, shape (T, *R, k_v)
        End-to-end filter :math:`v(t)`.
    filters : list of ndarray
        Final filters, each of shape (*R, k_i).
    """

    t: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    sq_norms: np.ndarray
    end_to_end: np.ndarray
    filters: list

    def invariant_drift(self) -> np.ndarray:
        r""":math:`\max_{i,j} |\Delta_{ij}(t) - \Delta_{ij}(0)|`, shape (T, *R)."""
        diff = self.sq_norms[..., :, None] - self.sq_norms[..., None, :]
        return np.abs(diff - diff[:1]).max(axis=(-2, -1))


def gradient_descent(
    filters,
    strides: Sequence[int],
    x,
    y,
    *,
    step: float = 1e-2,
    n_steps: int = 1000,
    record_every: int = 1,
) -> FlowTrace:
    r"""Integrate the gradient flow of the empirical risk with explicit Euler steps.

    Parameters
    ----------
    filters : sequence of tensors, each of shape (*R, k_i)
        Initial filters (not modified); a leading run shape ``R`` trains several
        networks at once.
    strides : sequence of int >= 1
    x : array-like, shape (N, n_in)
    y : array-like, shape (N, n_out)
    step : float > 0
        Step size :math:`\eta` (small: the iteration approximates the flow).
    n_steps : int >= 1
        Number of steps; the final time is :math:`\eta\, n_{\text{steps}}`.
    record_every : int >= 1
        Record the state every this many steps (the first and last are always recorded).

    Returns
    -------
    FlowTrace
        .. math:: w_i^{(k+1)} = w_i^{(k)} - \eta\,\nabla_{w_i} L(w^{(k)}).

    Examples
    --------
    >>> import torch
    >>> from fbinit.theory.diederen2026_linear_cnn_flow import random_filters
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(8, 20, generator=g, dtype=torch.float64)
    >>> y = torch.randn(8, 8, generator=g, dtype=torch.float64)
    >>> tr = gradient_descent(random_filters((3, 2), seed=0), (2, 1), x, y, n_steps=50)
    >>> bool(tr.loss[-1] < tr.loss[0])
    True
    """
    filters, strides, patches, y_flat, n = _prepare(filters, strides, x, y)
    step = check_positive_float("step", step)
    n_steps = check_int("n_steps", n_steps)
    record_every = check_int("record_every", record_every)
    records: dict[str, list] = {k: [] for k in ("t", "loss", "grad_norm", "sq", "v")}
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        _descend(filters, strides, patches, y_flat, n, step, n_steps, record_every, records)
    return FlowTrace(
        t=np.asarray(records["t"]),
        loss=np.stack(records["loss"]),
        grad_norm=np.stack(records["grad_norm"]),
        sq_norms=np.stack(records["sq"]),
        end_to_end=np.stack(records["v"]),
        filters=records["filters"],
    )


def _descend(filters, strides, patches, y_flat, n, step, n_steps, record_every, records):
    for k in range(n_steps + 1):
        risk, grads, v = _closed_form(filters, strides, patches, y_flat, n)
        if not np.isfinite(risk).all():
            raise ParameterError(
                f"step={step} must be smaller: gradient descent diverged at step {k}"
            )
        if k % record_every == 0 or k == n_steps:
            records["t"].append(k * step)
            records["loss"].append(risk)
            records["grad_norm"].append(np.sqrt(sum((g**2).sum(-1) for g in grads)))
            records["sq"].append(np.stack([(w**2).sum(-1) for w in filters], -1))
            records["v"].append(v)
        if k < n_steps:
            filters = [w - step * g for w, g in zip(filters, grads, strict=True)]
    records["filters"] = filters
