"""Analysis of filterbanks: responses, frame bounds, condition numbers, energy responses."""

from fbinit.analysis.autocorrelation import autocorrelation, autocorrelation_eigenvalues
from fbinit.analysis.deviation import deviation_bound, energy_moments, exact_deviation
from fbinit.analysis.distribution import WeightedChiSquare, energy_distribution
from fbinit.analysis.energy import energy_response
from fbinit.analysis.frames import analysis_matrix, condition_number, frame_bounds
from fbinit.analysis.montecarlo import energy_monte_carlo
from fbinit.analysis.response import frequency_response, littlewood_paley

__all__ = [
    "WeightedChiSquare",
    "analysis_matrix",
    "autocorrelation",
    "autocorrelation_eigenvalues",
    "condition_number",
    "deviation_bound",
    "energy_distribution",
    "energy_moments",
    "energy_monte_carlo",
    "energy_response",
    "exact_deviation",
    "frame_bounds",
    "frequency_response",
    "littlewood_paley",
]
