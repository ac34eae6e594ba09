r"""Two-layer CNN of Yu, Zhang and Zhu (2019): Conv1d filters, ReLU, pooling, linear output.

.. math:: h_j(x) = \operatorname{pool}_i\ \mathrm{relu}(w_j^\top x_i),\qquad
          \mathrm{logits}(x) = V h(x) + c,

with :math:`x_i` the patches seen by the convolution (kernel size :math:`d`, stride
:math:`d` by default: the non-overlapping patches of the data model), pooling ``"max"``
(default: the key pattern occupies one slot, and max pooling lets a filter report it
wherever it is) or ``"mean"``, and a cross-entropy loss on the ``K`` classes. The filters
start small, :math:`w_j \sim \mathcal N(0, (s^2/d) I)` with ``init_scale`` :math:`s`, so
that growth of the norm is learned, not inherited.

References
----------
B. Yu, J. Zhang, Z. Zhu, "On the Learning Dynamics of Two-layer Nonlinear Convolutional
Neural Networks", arXiv:1905.10157, 2019.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fbinit._validate import as_double_tensor, check_choice, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = ["TwoLayerCNN", "filter_pattern_cosines"]


class TwoLayerCNN(nn.Module):
    r"""Conv1d (``n_filters`` filters, no bias) -> ReLU -> pooling -> Linear.

    Parameters
    ----------
    n_filters : int >= 1
        Number of convolutional filters.
    kernel_size : int >= 1
        Filter length (the patch size d).
    n_classes : int >= 2
        Number of outputs.
    stride : int >= 1, optional
        Convolution stride (default ``kernel_size``: non-overlapping patches).
    pooling : {"max", "mean"}
        Pooling over positions.
    init_scale : float > 0
        Expected filter norm at initialisation (taps :math:`\mathcal N(0, s^2/d)`).
    generator : torch.Generator, optional
        Source of the initial weights (the linear layer uses PyTorch's default uniform
        initialisation, drawn from the same generator; default: a generator seeded with 0).

    Examples
    --------
    >>> net = TwoLayerCNN(4, 8, 3, generator=torch.Generator().manual_seed(0))
    >>> tuple(net(torch.zeros(5, 32)).shape), tuple(net.filters().shape)
    ((5, 3), (4, 8))
    """

    def __init__(
        self,
        n_filters: int,
        kernel_size: int,
        n_classes: int,
        *,
        stride: int | None = None,
        pooling: str = "max",
        init_scale: float = 0.1,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        n_filters = check_int("n_filters", n_filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        self.stride = self.kernel_size if stride is None else check_int("stride", stride)
        self.pooling = check_choice("pooling", pooling, ("max", "mean"))
        init_scale = check_positive_float("init_scale", init_scale)
        generator = make_generator(None, generator)
        conv = torch.randn(n_filters, 1, self.kernel_size, generator=generator)
        self.conv = nn.Parameter(conv * init_scale / math.sqrt(self.kernel_size))
        bound = 1 / math.sqrt(n_filters)
        uniform = torch.rand(n_classes, n_filters + 1, generator=generator) * 2 - 1
        self.linear = nn.Linear(n_filters, n_classes)
        with torch.no_grad():
            self.linear.weight.copy_(bound * uniform[:, :-1])
            self.linear.bias.copy_(bound * uniform[:, -1])

    def filters(self) -> torch.Tensor:
        """The convolution filters, shape (n_filters, kernel_size)."""
        return self.conv[:, 0, :]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled ReLU responses, shape (n, n_filters), of signals of shape (n, length)."""
        if x.ndim != 2 or x.shape[1] < self.kernel_size:
            raise ParameterError(
                f"x.shape={tuple(x.shape)} must be (n, length) with length >= {self.kernel_size}"
            )
        h = torch.relu(F.conv1d(x[:, None, :].to(self.conv.dtype), self.conv, stride=self.stride))
        return h.amax(-1) if self.pooling == "max" else h.mean(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (n, n_classes)."""
        return self.linear(self.features(x))


def filter_pattern_cosines(filters, patterns) -> torch.Tensor:
    r"""Cosine between every filter and every key pattern.

    Parameters
    ----------
    filters : array-like, shape (n_filters, d)
    patterns : array-like, shape (K, d)

    Returns
    -------
    torch.Tensor, shape (n_filters, K), float64
        .. math:: \cos(w_j, p_k) = \frac{w_j^\top p_k}{\|w_j\|\,\|p_k\|}.

    Examples
    --------
    >>> filter_pattern_cosines([[1.0, 0.0], [1.0, 1.0]], [[2.0, 0.0]]).flatten().tolist()
    [1.0, 0.7071067811865475]
    """
    w = as_double_tensor("filters", filters)
    p = as_double_tensor("patterns", patterns)
    if w.ndim != 2 or p.ndim != 2 or w.shape[1] != p.shape[1]:
        raise ParameterError(
            f"filters.shape={tuple(w.shape)} and patterns.shape={tuple(p.shape)} must be "
            "(n_filters, d) and (K, d)"
        )
    return F.normalize(w, dim=1) @ F.normalize(p, dim=1).T
