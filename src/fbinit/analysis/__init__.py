"""Analysis of filterbanks: responses, frame bounds, condition numbers, energy responses."""

from fbinit.analysis.energy import energy_response
from fbinit.analysis.frames import analysis_matrix, condition_number, frame_bounds
from fbinit.analysis.response import frequency_response, littlewood_paley

__all__ = [
    "analysis_matrix",
    "condition_number",
    "energy_response",
    "frame_bounds",
    "frequency_response",
    "littlewood_paley",
]
