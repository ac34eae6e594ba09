"""Analysis of filterbanks: responses, frame bounds, condition numbers, energy responses."""

from fbinit.analysis.autocorrelation import autocorrelation, autocorrelation_eigenvalues
from fbinit.analysis.deviation import deviation_bound, energy_moments, exact_deviation
from fbinit.analysis.distribution import WeightedChiSquare, energy_distribution
from fbinit.analysis.energy import energy_response
from fbinit.analysis.extremes import expected_frame_bounds_model, predict_median_kappa
from fbinit.analysis.frames import analysis_matrix, condition_number, frame_bounds
from fbinit.analysis.montecarlo import energy_monte_carlo
from fbinit.analysis.response import frequency_response, littlewood_paley
from fbinit.analysis.scaling import ConditionNumberStats, condition_number_stats, kappa_tilde

__all__ = [
    "ConditionNumberStats",
    "WeightedChiSquare",
    "analysis_matrix",
    "autocorrelation",
    "autocorrelation_eigenvalues",
    "condition_number",
    "condition_number_stats",
    "deviation_bound",
    "energy_distribution",
    "energy_moments",
    "energy_monte_carlo",
    "energy_response",
    "exact_deviation",
    "expected_frame_bounds_model",
    "frame_bounds",
    "frequency_response",
    "kappa_tilde",
    "littlewood_paley",
    "predict_median_kappa",
]
