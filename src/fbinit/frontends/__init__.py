"""Audio frontends as ``torch.nn.Module``: one analysis convolution, then optional stages.

Every frontend has ``impulse_responses()``, ``stride``, ``sample_rate`` and ``band``, so the
analysis functions of fbinit and ``fbinit report`` accept it as it is.
"""

from fbinit.frontends.base import Frontend
from fbinit.frontends.engine import analysis_conv
from fbinit.frontends.fixed import GammatoneFrontend, WaveletFrontend
from fbinit.frontends.monitor import ConditionMonitor
from fbinit.frontends.multires import MultiresFrontend
from fbinit.frontends.stages import LogCompression, modulus
from fbinit.frontends.stft import MelFrontend, STFTFrontend

__all__ = [
    "ConditionMonitor",
    "Frontend",
    "GammatoneFrontend",
    "LogCompression",
    "MelFrontend",
    "MultiresFrontend",
    "STFTFrontend",
    "WaveletFrontend",
    "analysis_conv",
    "modulus",
]
