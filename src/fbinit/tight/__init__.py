"""Act on conditioning: penalties for training, tight frames, a tightener, duals.

Built on :mod:`fbinit.analysis` (one spectral kernel for both): every function accepts what
:func:`fbinit.as_filterbank` accepts, and the penalties keep autograd.
"""

from fbinit.tight.canonical import canonical_tight, uniform_expansion
from fbinit.tight.duals import Dual, canonical_dual, fir_dual, reconstruct
from fbinit.tight.penalties import alias_penalty, kappa_penalty
from fbinit.tight.tighten import TightenResult, tighten

__all__ = [
    "Dual",
    "TightenResult",
    "alias_penalty",
    "canonical_dual",
    "canonical_tight",
    "fir_dual",
    "kappa_penalty",
    "reconstruct",
    "tighten",
    "uniform_expansion",
]
