r"""Stages applied after the analysis convolution: modulus, pooling, compression.

A frontend's forward pass is ``compression(pooling(modulus(analysis_conv(x))))``, each
stage optional. Pooling and compression are modules (they may hold parameters); the
modulus is a choice of :data:`MODULI`.
"""

from __future__ import annotations

import torch

from fbinit._validate import check_choice, check_positive_float

__all__ = ["MODULI", "LogCompression", "modulus"]

#: moduli a frontend can apply to its (real or complex) analysis coefficients
MODULI = ("abs", "power")


def modulus(y: torch.Tensor, kind: str) -> torch.Tensor:
    r"""``"power"``: :math:`|y|^2`; ``"abs"``: :math:`|y|`.

    The squared modulus is computed as :math:`\Re^2 + \Im^2`, without a square root, so its
    gradient is finite everywhere; ``"abs"`` has the usual zero subgradient at 0 (no NaN).
    """
    kind = check_choice("modulus", kind, MODULI)
    power = y.real.square() + y.imag.square() if y.is_complex() else y.square()
    if kind == "power":
        return power
    # |y| with a gradient of 0 (not NaN) where y = 0
    safe = torch.where(power > 0, power, torch.ones_like(power))
    return torch.where(power > 0, safe.sqrt(), torch.zeros_like(power))


class LogCompression(torch.nn.Module):
    r"""Logarithmic compression with a floor: :math:`\log(\max(y, \epsilon))`.

    Parameters
    ----------
    floor : float > 0
        :math:`\epsilon`, the smallest value taken before the logarithm.
    """

    def __init__(self, floor: float = 1e-6) -> None:
        super().__init__()
        self.floor = check_positive_float("floor", floor)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.clamp(y, min=self.floor))

    def extra_repr(self) -> str:
        return f"floor={self.floor:g}"
