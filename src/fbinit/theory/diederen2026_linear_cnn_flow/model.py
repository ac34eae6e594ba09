r"""Deep linear 1-D convolutional networks with strides and their end-to-end filter.

Layer :math:`i` of depth-:math:`L` network is the non-circular ("valid"), single-channel
convolution of a filter :math:`w_i \in \mathbb R^{k_i}` with stride :math:`s_i`,

.. math:: (W_i x)[m] = \sum_{j=0}^{k_i - 1} w_i[j]\, x[s_i m + j],

the convention of ``torch.nn.functional.conv1d`` (a cross-correlation). The network is
:math:`f(x) = W_L \cdots W_1 x`. The end-to-end map is again such a convolution, with
stride :math:`s_v = \prod_i s_i`, length
:math:`k_v = k_1 + \sum_{i \ge 2} (k_i - 1)\, s_1 \cdots s_{i-1}` and filter :math:`v` whose
generating polynomial is

.. math:: v(z) = \prod_{i=1}^{L} w_i\bigl(z^{s_1 \cdots s_{i-1}}\bigr),
          \qquad w(z) = \sum_j w[j] z^j .

Every function is batched: filters may carry leading "run" dimensions (several networks
trained at once), inputs carry a leading sample dimension.

References
----------
D. Diederen, H. Rauhut, U. Terstiege, "Convergence of gradient flow for learning
convolutional neural networks", arXiv:2601.08547, 2026.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from fbinit._validate import as_double_tensor, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = [
    "LinearConvNet",
    "conv_matrix",
    "empirical_risk",
    "end_to_end_filter",
    "end_to_end_size",
    "network_forward",
    "output_length",
    "patch_matrix",
    "random_filters",
]


def _check_architecture(kernel_sizes: Sequence[int], strides: Sequence[int]) -> tuple:
    kernel_sizes = tuple(check_int("kernel_sizes[i]", k) for k in kernel_sizes)
    strides = tuple(check_int("strides[i]", s) for s in strides)
    if len(kernel_sizes) == 0:
        raise ParameterError("kernel_sizes=() must hold at least one layer")
    if len(kernel_sizes) != len(strides):
        raise ParameterError(
            f"strides={strides} must have one entry per layer (len(kernel_sizes)="
            f"{len(kernel_sizes)})"
        )
    return kernel_sizes, strides


def end_to_end_size(kernel_sizes: Sequence[int], strides: Sequence[int]) -> tuple[int, int]:
    r"""Length and stride of the end-to-end filter.

    Parameters
    ----------
    kernel_sizes : sequence of int >= 1
        Filter lengths :math:`k_1, \dots, k_L`.
    strides : sequence of int >= 1
        Strides :math:`s_1, \dots, s_L`.

    Returns
    -------
    k_v, s_v : int
        .. math:: k_v = k_1 + \sum_{i\ge 2}(k_i - 1)\prod_{l<i} s_l,\qquad
                  s_v = \prod_i s_i .

    Examples
    --------
    >>> end_to_end_size((3, 2, 4), (2, 1, 3))
    (11, 6)
    """
    kernel_sizes, strides = _check_architecture(kernel_sizes, strides)
    k_v, dilation = kernel_sizes[0], strides[0]
    for k, s in zip(kernel_sizes[1:], strides[1:], strict=True):
        k_v += (k - 1) * dilation
        dilation *= s
    return k_v, dilation


def output_length(n_in: int, kernel_sizes: Sequence[int], strides: Sequence[int]) -> int:
    r"""Output length of the network on an input of length ``n_in`` (0 if too short).

    .. math:: n_i = \lfloor (n_{i-1} - k_i) / s_i \rfloor + 1,\qquad n_0 = n_{\text{in}},

    which equals :math:`\lfloor (n_{\text{in}} - k_v)/s_v \rfloor + 1`.

    Examples
    --------
    >>> output_length(101, (3, 2, 4), (2, 1, 3))
    16
    """
    n = check_int("n_in", n_in)
    kernel_sizes, strides = _check_architecture(kernel_sizes, strides)
    for k, s in zip(kernel_sizes, strides, strict=True):
        n = (n - k) // s + 1 if n >= k else 0
    return n


def conv_matrix(w, stride: int, n_in: int) -> torch.Tensor:
    r"""Matrix of the valid, strided convolution with filter ``w``.

    Parameters
    ----------
    w : array-like, shape (..., k)
        Filter(s); leading dimensions give a batch of matrices.
    stride : int >= 1
        Stride :math:`s`.
    n_in : int >= 1
        Input length :math:`n`.

    Returns
    -------
    torch.Tensor, shape (..., n_out, n_in), float64
        .. math:: W[m, sm + j] = w[j],\qquad n_{\text{out}} = \lfloor (n-k)/s \rfloor + 1 .

        Has zero rows (with a warning) when :math:`k > n`.

    Examples
    --------
    >>> conv_matrix([1.0, 2.0], 2, 5)
    tensor([[1., 2., 0., 0., 0.],
            [0., 0., 1., 2., 0.]], dtype=torch.float64)
    """
    w = as_double_tensor("w", w)
    if w.ndim == 0:
        raise ParameterError("w must have at least one dimension (the taps)")
    stride = check_int("stride", stride)
    n_in = check_int("n_in", n_in)
    k = w.shape[-1]
    if k > n_in:
        warnings.warn(
            f"kernel_size={k} exceeds n_in={n_in}: the convolution has no output",
            stacklevel=2,
        )
        return w.new_zeros((*w.shape[:-1], 0, n_in))
    n_out = (n_in - k) // stride + 1
    rows = torch.arange(n_out).unsqueeze(1)
    cols = stride * rows + torch.arange(k).unsqueeze(0)
    onehot = torch.zeros(n_out, k, n_in, dtype=torch.float64)
    onehot[rows.expand(-1, k), torch.arange(k).expand(n_out, -1), cols] = 1.0
    return torch.einsum("...j,mjn->...mn", w, onehot)


def patch_matrix(x, kernel_size: int, stride: int) -> torch.Tensor:
    r"""Stacked patches of the inputs at a given width and stride.

    Parameters
    ----------
    x : array-like, shape (N, n_in)
        Input signals.
    kernel_size : int >= 1
        Patch width :math:`k` (for the condition of the paper, :math:`k_v`).
    stride : int >= 1
        Patch stride :math:`s` (for the condition, :math:`s_v`).

    Returns
    -------
    torch.Tensor, shape (N * n_out, kernel_size), float64
        Row :math:`(n, m)` is :math:`x_n[sm : sm + k]`, so that

        .. math:: \operatorname{vec}(V x_1, \dots, V x_N) = P v .

    Examples
    --------
    >>> patch_matrix([[0.0, 1.0, 2.0, 3.0, 4.0]], 3, 2)
    tensor([[0., 1., 2.],
            [2., 3., 4.]], dtype=torch.float64)
    """
    x = x if isinstance(x, torch.Tensor) and x.dtype == torch.float64 else as_double_tensor("x", x)
    if x.ndim != 2:
        raise ParameterError(f"x.ndim={x.ndim} must be 2 (shape (n_samples, n_in))")
    kernel_size = check_int("kernel_size", kernel_size)
    stride = check_int("stride", stride)
    if kernel_size > x.shape[1]:
        raise ParameterError(f"kernel_size={kernel_size} must be <= n_in={x.shape[1]}")
    return x.unfold(1, kernel_size, stride).reshape(-1, kernel_size)


def _zeros(like, shape):
    """Zeros of ``shape`` in the array library of ``like`` (torch tensor or numpy array)."""
    if isinstance(like, torch.Tensor):
        return like.new_zeros(shape)
    return np.zeros(shape)


def _poly_mul(a, b):
    """Product of polynomials with coefficients (..., p) and (..., q) (torch or numpy)."""
    p, q = a.shape[-1], b.shape[-1]
    lead = np.broadcast_shapes(tuple(a.shape[:-1]), tuple(b.shape[:-1]))
    out = _zeros(a, (*lead, p + q - 1))
    for j in range(q):
        out[..., j : j + p] = out[..., j : j + p] + a * b[..., j : j + 1]
    return out


def _upsample(w, factor: int):
    """Coefficients of w(z**factor): factor - 1 zeros between taps (torch or numpy)."""
    if factor == 1:
        return w
    out = _zeros(w, (*w.shape[:-1], (w.shape[-1] - 1) * factor + 1))
    out[..., ::factor] = w
    return out


def _as_filter_list(filters) -> list[torch.Tensor]:
    if isinstance(filters, torch.Tensor) or not isinstance(filters, Sequence):
        raise TypeError("filters must be a sequence (list or tuple) of one tensor per layer")
    out = []
    for i, w in enumerate(filters):
        if isinstance(w, torch.Tensor) and w.dtype == torch.float64:
            t = w  # keep the autograd graph
        else:
            t = as_double_tensor(f"filters[{i}]", w)
        if t.ndim == 0:
            raise ParameterError(f"filters[{i}] must have at least one dimension (the taps)")
        out.append(t)
    if not out:
        raise ParameterError("filters=[] must hold at least one layer")
    return out


def end_to_end_filter(filters, strides: Sequence[int]) -> tuple[torch.Tensor, int]:
    r"""End-to-end filter and stride of a linear convolutional network.

    Parameters
    ----------
    filters : sequence of tensors, each of shape (..., k_i)
        One filter per layer; leading (run) dimensions broadcast.
    strides : sequence of int >= 1
        One stride per layer.

    Returns
    -------
    v : torch.Tensor, shape (..., k_v)
        .. math:: v(z) = \prod_i w_i\bigl(z^{s_1\cdots s_{i-1}}\bigr).
    s_v : int
        :math:`\prod_i s_i`.

    Examples
    --------
    >>> import torch
    >>> v, s_v = end_to_end_filter([torch.ones(3), torch.ones(2)], (2, 1))
    >>> v.tolist(), s_v
    ([1.0, 1.0, 2.0, 1.0, 1.0], 2)
    """
    filters = _as_filter_list(filters)
    _check_architecture([w.shape[-1] for w in filters], strides)
    v, dilation = filters[0], 1
    for w, s_prev in zip(filters[1:], strides[:-1], strict=True):
        dilation *= int(s_prev)
        v = _poly_mul(v, _upsample(w, dilation))
    return v, math.prod(int(s) for s in strides)


def network_forward(filters, strides: Sequence[int], x) -> torch.Tensor:
    r"""Apply the linear convolutional network(s) to a batch of signals.

    Parameters
    ----------
    filters : sequence of tensors, each of shape (*B, k_i)
        One filter per layer with a common run shape ``B`` (possibly empty).
    strides : sequence of int >= 1
        One stride per layer.
    x : array-like, shape (N, n_in)
        Input signals.

    Returns
    -------
    torch.Tensor, shape (*B, N, n_out)
        .. math:: f(x) = W_L \cdots W_1 x = V x .

    Examples
    --------
    >>> import torch
    >>> y = network_forward([torch.ones(3), torch.ones(2)], (2, 1), torch.ones(4, 9))
    >>> tuple(y.shape)
    (4, 3)
    """
    filters = _as_filter_list(filters)
    kernel_sizes, strides = _check_architecture([w.shape[-1] for w in filters], strides)
    x = x if isinstance(x, torch.Tensor) and x.dtype == torch.float64 else as_double_tensor("x", x)
    if x.ndim != 2:
        raise ParameterError(f"x.ndim={x.ndim} must be 2 (shape (n_samples, n_in))")
    batch = filters[0].shape[:-1]
    if any(w.shape[:-1] != batch for w in filters):
        raise ParameterError("filters must share their leading (run) shape")
    k_v, _ = end_to_end_size(kernel_sizes, strides)
    if output_length(x.shape[1], kernel_sizes, strides) < 1:
        raise ParameterError(f"n_in={x.shape[1]} must be >= k_v={k_v} (the network has no output)")
    n_runs = math.prod(batch)
    h = x.unsqueeze(1).expand(-1, n_runs, -1)
    for w, s in zip(filters, strides, strict=True):
        h = torch.nn.functional.conv1d(h, w.reshape(n_runs, 1, -1), stride=s, groups=n_runs)
    return h.permute(1, 0, 2).reshape(*batch, x.shape[0], h.shape[-1])


def empirical_risk(filters, strides: Sequence[int], x, y) -> torch.Tensor:
    r"""Square-loss empirical risk of the network(s).

    Parameters
    ----------
    filters : sequence of tensors, each of shape (*B, k_i)
    strides : sequence of int >= 1
    x : array-like, shape (N, n_in)
    y : array-like, shape (N, n_out)
        Targets.

    Returns
    -------
    torch.Tensor, shape B
        .. math:: L(w_1,\dots,w_L) = \frac{1}{2N}\sum_{n=1}^{N} \|W_L\cdots W_1 x_n - y_n\|^2 .

    Examples
    --------
    >>> import torch
    >>> float(empirical_risk([torch.ones(2)], (1,), torch.ones(1, 3), torch.zeros(1, 2)))
    4.0
    """
    pred = network_forward(filters, strides, x)
    y = y if isinstance(y, torch.Tensor) and y.dtype == torch.float64 else as_double_tensor("y", y)
    if y.shape != pred.shape[-2:]:
        raise ParameterError(f"y.shape={tuple(y.shape)} must be {tuple(pred.shape[-2:])}")
    return 0.5 * ((pred - y) ** 2).sum(dim=(-2, -1)) / y.shape[0]


def random_filters(
    kernel_sizes: Sequence[int],
    *,
    scale: float = 1.0,
    n_runs: int | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    r"""Gaussian filters, one per layer: :math:`w_i[j] \sim \mathcal N(0, \text{scale}^2/k_i)`.

    Parameters
    ----------
    kernel_sizes : sequence of int >= 1
    scale : float > 0
        Expected norm of each filter (:math:`\mathbb E\|w_i\|^2 = \text{scale}^2`).
    n_runs : int >= 1, optional
        Number of independent draws; filters then have shape (n_runs, k_i).
    seed, generator
        Source of randomness (one of them; default seed 0).

    Returns
    -------
    list of torch.Tensor, float64

    Examples
    --------
    >>> [tuple(w.shape) for w in random_filters((3, 2), n_runs=4, seed=0)]
    [(4, 3), (4, 2)]
    """
    scale = check_positive_float("scale", scale)
    gen = make_generator(seed, generator)
    lead = () if n_runs is None else (check_int("n_runs", n_runs),)
    return [
        torch.randn((*lead, check_int("kernel_sizes[i]", k)), generator=gen, dtype=torch.float64)
        * (scale / math.sqrt(k))
        for k in kernel_sizes
    ]


class LinearConvNet(nn.Module):
    r"""A deep linear 1-D convolutional network (one channel per layer, valid convolutions).

    Parameters
    ----------
    kernel_sizes : sequence of int >= 1
        Filter lengths :math:`k_i`.
    strides : sequence of int >= 1
        Strides :math:`s_i`.
    init_scale : float > 0
        :math:`w_i[j] \sim \mathcal N(0, \text{init\_scale}^2 / k_i)`.
    seed : int >= 0
        Seed of the initialisation.

    Notes
    -----
    .. math:: f(x) = W_L\cdots W_1 x = V x,\qquad V = \text{conv\_matrix}(v, s_v, n).

    Examples
    --------
    >>> net = LinearConvNet((3, 2, 4), (2, 1, 3), seed=0)
    >>> net.end_to_end()[0].shape[-1], net.end_to_end()[1]
    (11, 6)
    """

    def __init__(
        self,
        kernel_sizes: Sequence[int],
        strides: Sequence[int],
        *,
        init_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        kernel_sizes, strides = _check_architecture(kernel_sizes, strides)
        self.strides = strides
        self.filters = nn.ParameterList(
            nn.Parameter(w) for w in random_filters(kernel_sizes, scale=init_scale, seed=seed)
        )

    def forward(self, x) -> torch.Tensor:
        """Network output, shape (N, n_out) for ``x`` of shape (N, n_in)."""
        return network_forward(list(self.filters), self.strides, x)

    def end_to_end(self) -> tuple[torch.Tensor, int]:
        """End-to-end filter ``v`` (shape (k_v,)) and stride ``s_v``."""
        return end_to_end_filter(list(self.filters), self.strides)

    def layer_matrices(self, n_in: int) -> list[torch.Tensor]:
        """Convolution matrices :math:`W_1, \\dots, W_L` for inputs of length ``n_in``."""
        mats, n = [], check_int("n_in", n_in)
        for w, s in zip(self.filters, self.strides, strict=True):
            mats.append(conv_matrix(w.detach(), s, n))
            n = mats[-1].shape[0]
        return mats
