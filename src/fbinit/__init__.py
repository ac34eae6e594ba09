"""fbinit: conditioning of convolutional audio frontends at initialisation."""

from fbinit.analysis import (
    analysis_matrix,
    condition_number,
    energy_response,
    frame_bounds,
    frequency_response,
    littlewood_paley,
)
from fbinit.errors import AudioError, FbinitError, ParameterError
from fbinit.filterbank import Filterbank, FilterbankLike, as_filterbank

__version__ = "0.1.0"

__all__ = [
    "AudioError",
    "FbinitError",
    "Filterbank",
    "FilterbankLike",
    "ParameterError",
    "analysis_matrix",
    "as_filterbank",
    "condition_number",
    "energy_response",
    "frame_bounds",
    "frequency_response",
    "littlewood_paley",
]
