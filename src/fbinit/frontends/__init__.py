"""Audio frontends as ``torch.nn.Module``: one analysis convolution, then optional stages.

Every frontend has ``impulse_responses()``, ``stride``, ``sample_rate`` and ``band``, so the
analysis functions of fbinit and ``fbinit report`` accept it as it is.
"""

from fbinit.frontends.base import Frontend
from fbinit.frontends.engine import analysis_conv
from fbinit.frontends.stages import LogCompression, modulus

__all__ = ["Frontend", "LogCompression", "analysis_conv", "modulus"]
