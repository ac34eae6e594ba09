"""Audio frontends as ``torch.nn.Module``: one analysis convolution, then optional stages.

Every frontend has ``impulse_responses()``, ``stride``, ``sample_rate`` and ``band``, so the
analysis functions of fbinit and ``fbinit report`` accept it as it is. Every registered
frontend and preset is listed in :mod:`fbinit.frontends.registry`.
"""

from fbinit.frontends.base import Frontend
from fbinit.frontends.conv import ConvFrontend
from fbinit.frontends.engine import analysis_conv, plan
from fbinit.frontends.fixed import GammatoneFrontend, WaveletFrontend
from fbinit.frontends.gabor import GaborFrontend, leaf_mel_parameters
from fbinit.frontends.monitor import ConditionMonitor
from fbinit.frontends.multires import MultiresFrontend
from fbinit.frontends.sinc import SincFrontend
from fbinit.frontends.stages import (
    PCEN,
    FIRPooling,
    GaussianLowpass,
    LogCompression,
    ema,
    modulus,
)
from fbinit.frontends.stft import MelFrontend, STFTFrontend

__all__ = [
    "PCEN",
    "ConditionMonitor",
    "ConvFrontend",
    "FIRPooling",
    "Frontend",
    "GaborFrontend",
    "GammatoneFrontend",
    "GaussianLowpass",
    "LogCompression",
    "MelFrontend",
    "MultiresFrontend",
    "STFTFrontend",
    "SincFrontend",
    "WaveletFrontend",
    "analysis_conv",
    "ema",
    "leaf_mel_parameters",
    "modulus",
    "plan",
]
