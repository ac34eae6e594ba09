r"""What an adapter returns: the analysis stage of a module as a filterbank, and its padding.

Every adapter reads a third-party module as an :class:`Adapted` record: a
:class:`~fbinit.Filterbank` whose rows are the module's analysis kernels (in
``conv1d``'s correlation orientation, at each filter's stride), the padding the module
applies to its input, and, for frontends that apply a nonnegative matrix to a power
spectrogram (mel, gammatonegram), that matrix. :func:`analysis_coefficients` computes what
such a bank predicts on a finite signal:

.. math:: y_j[m] = \sum_{t=0}^{K-1} w_j[t]\, \tilde x[m d_j + t]

where :math:`\tilde x` is the input extended by the module's padding steps, each
``(left, right, mode)`` (a negative amount crops). The adapters' tests compare these
predictions with each module's own forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

import torch
import torch.nn.functional as F

from fbinit._validate import check_choice
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends.engine import analysis_conv, as_batch

__all__ = ["PAD_MODES", "Adapted", "analysis_coefficients"]

#: padding modes of :func:`analysis_coefficients` (those of ``torch.nn.functional.pad``)
PAD_MODES = ("constant", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class Adapted:
    """The analysis stage of a module, as an adapter reads it.

    Attributes
    ----------
    bank : Filterbank
        The analysis kernels at their strides, in the module's dtype; they keep autograd
        when read from parameters (probed responses are detached).
    padding : tuple of (left, right, mode)
        The steps by which the module extends its input, applied in order: ``left`` and
        ``right`` samples (a negative amount crops) in a ``torch.nn.functional.pad`` mode
        ("constant" for zeros, "reflect", "replicate", "circular").
    projection : torch.Tensor, shape (n_outputs, n_filters), or None
        Matrix the module applies to :math:`|y_j[m]|^p` of its coefficients (mel,
        gammatonegram); None when it returns the coefficients (or their modulus).
    power : float or None
        The exponent p of that modulus (2 for a power spectrogram); None without a
        projection.
    """

    bank: Filterbank
    padding: tuple[tuple[int, int, str], ...] = ()
    projection: torch.Tensor | None = None
    power: float | None = None

    def coefficients(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """The coefficients this reading predicts for ``x`` (see :func:`analysis_coefficients`)."""
        return analysis_coefficients(self.bank, x, padding=self.padding)


def analysis_coefficients(
    bank: Filterbank,
    x: torch.Tensor,
    *,
    padding: tuple[tuple[int, int, str], ...] = (),
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    r"""Strided correlation of padded signals with a bank's kernels (see the module docstring).

    Parameters
    ----------
    bank : Filterbank, shape (n_filters, kernel_size)
        One bank; its stride may differ between filters (a multirate bank).
    x : torch.Tensor, shape (batch, time) or (batch, 1, time)
        Real signals; the computation runs in their dtype and on their device.
    padding : sequence of (left, right, mode)
        Extensions applied in order: ``left`` and ``right`` samples in a
        ``torch.nn.functional.pad`` mode ("constant", "reflect", "replicate", "circular");
        negative amounts crop (with "constant" only).

    Returns
    -------
    torch.Tensor, shape (batch, n_filters, frames), or a tuple of them
        Complex for complex kernels. A multirate bank gives one tensor per run of
        consecutive filters with the same stride, in filter order.

    Examples
    --------
    >>> bank = Filterbank(torch.tensor([[1.0, 1.0], [1.0, -1.0]]), stride=2)
    >>> analysis_coefficients(bank, torch.arange(4.0)[None])
    tensor([[[ 1.,  5.],
             [-1., -1.]]])
    """
    if not isinstance(bank, Filterbank):
        raise TypeError(f"bank must be a Filterbank, got {type(bank).__name__}")
    if bank.batch_shape:
        raise ParameterError(f"bank batch shape {bank.batch_shape} must be empty (one bank)")
    x = as_batch(x)
    for left, right, mode in padding:
        check_choice("padding mode", mode, PAD_MODES)
        if mode != "constant" and min(left, right) < 0:
            raise ParameterError(f"padding=({left}, {right}, {mode!r}) must not crop with {mode!r}")
        x = F.pad(x[:, None], (int(left), int(right)), mode=mode)[:, 0]
    kernels = bank.weights.to(x.device)
    runs, start = [], 0
    for stride, group in groupby(bank.strides):
        stop = start + len(list(group))
        runs.append(analysis_conv(x, kernels[start:stop], stride=stride, padding="valid"))
        start = stop
    return runs[0] if len(runs) == 1 else tuple(runs)


def module_dtype(module: Any, default: torch.dtype = torch.float32) -> torch.dtype:
    """The real floating dtype of a module's first floating parameter or buffer."""
    for tensor in _tensors(module):
        if tensor.is_complex():
            return tensor.real.dtype
        if tensor.dtype.is_floating_point:
            return tensor.dtype
    return default


def module_device(module: Any) -> torch.device:
    """The device of a module's first parameter or buffer (the CPU if it has none)."""
    for tensor in _tensors(module):
        return tensor.device
    return torch.device("cpu")


def _tensors(module: Any):
    if isinstance(module, torch.nn.Module):
        yield from module.parameters()
        yield from module.buffers()
