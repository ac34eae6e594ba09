r"""Adapters for ``torch.nn.Conv1d`` and ``torch.nn.ConvTranspose1d``.

A ``Conv1d(1, F, K, stride=d, dilation=r)`` correlates its input with F kernels: its
analysis bank is its weight, with r - 1 zeros between taps when dilated, at stride d. Its
bias is an affine offset, not part of the linear analysis operator, and is left out.

A ``ConvTranspose1d(F, 1, K, stride=d)`` is a synthesis operator
:math:`D c = \sum_j \sum_m c_j[m]\, w_j[\cdot - m d]`: the adjoint of the ``Conv1d`` with
the same weight. Its analysis meaning is that frame: :math:`\|D^\top x\|^2` lies between
A and B times :math:`\|x\|^2`, and :math:`\|D c\|^2 \le B \|c\|^2` for all coefficients c
(with :math:`\ge A \|c\|^2` for c in the range of :math:`D^\top`).
"""

from __future__ import annotations

import torch

from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted

__all__ = ["conv1d", "conv_transpose1d"]

_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def _dilated(weight: torch.Tensor, dilation: int) -> torch.Tensor:
    """Kernels (F, K) with dilation - 1 zeros between taps: (F, (K - 1) dilation + 1)."""
    if dilation == 1:
        return weight
    n_filters, size = weight.shape
    out = weight.new_zeros(n_filters, (size - 1) * dilation + 1)
    out[:, ::dilation] = weight
    return out


def conv1d(module: torch.nn.Conv1d, *, sample_rate: float | None = None) -> Adapted:
    """A one-input-channel ``Conv1d`` as its bank (dilation, stride and padding included)."""
    if module.in_channels != 1:
        raise ParameterError(
            f"in_channels={module.in_channels} must be 1 to read a Conv1d as a filterbank"
        )
    weights = _dilated(module.weight[:, 0, :], int(module.dilation[0]))
    if module.padding == "same":
        total = weights.shape[-1] - 1
        left, right = total // 2, total - total // 2
    elif module.padding == "valid":
        left = right = 0
    else:
        left = right = int(module.padding[0])
    bank = Filterbank(weights, stride=int(module.stride[0]), sample_rate=sample_rate, name="Conv1d")
    padding = ((left, right, _MODES[module.padding_mode]),) if left or right else ()
    return Adapted(bank, padding=padding)


def conv_transpose1d(
    module: torch.nn.ConvTranspose1d, *, sample_rate: float | None = None
) -> Adapted:
    """A one-output-channel ``ConvTranspose1d`` as the analysis bank of its adjoint.

    The record's padding is that of the adjoint ``Conv1d`` (``padding`` zeros each side).
    """
    if module.out_channels != 1 or module.groups != 1:
        raise ParameterError(
            f"out_channels={module.out_channels} must be 1 (and groups={module.groups} 1) to "
            "read a ConvTranspose1d as the synthesis operator of a filterbank"
        )
    if int(module.output_padding[0]):
        raise ParameterError(
            f"output_padding={module.output_padding[0]} must be 0: an output padding has no "
            "adjoint analysis frame"
        )
    weights = _dilated(module.weight[:, 0, :], int(module.dilation[0]))
    pad = int(module.padding[0])
    bank = Filterbank(
        weights, stride=int(module.stride[0]), sample_rate=sample_rate, name="ConvTranspose1d"
    )
    return Adapted(bank, padding=((pad, pad, "constant"),) if pad else ())


ADAPTERS = {"Conv1d": conv1d, "ConvTranspose1d": conv_transpose1d}
