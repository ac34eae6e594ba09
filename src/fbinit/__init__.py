"""fbinit: conditioning of convolutional audio frontends at initialisation.

The analysis functions are exported here; fixed banks live in :mod:`fbinit.banks`,
signals in :mod:`fbinit.signals`, reports in :mod:`fbinit.report` and the reproduced
theory papers in :mod:`fbinit.theory`.
"""

from fbinit import analysis
from fbinit.analysis import *  # noqa: F403 (the analysis API is the top-level API)
from fbinit.errors import AudioError, FbinitError, ParameterError
from fbinit.filterbank import Filterbank, FilterbankLike, as_filterbank, impulse_responses_of

__version__ = "0.1.0"

__all__ = [
    "AudioError",
    "FbinitError",
    "Filterbank",
    "FilterbankLike",
    "ParameterError",
    "as_filterbank",
    "impulse_responses_of",
    *analysis.__all__,
]
