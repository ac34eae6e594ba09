"""Gradient flow of deep linear 1-D convolutional networks with strides.

Reproduces the setting of D. Diederen, H. Rauhut, U. Terstiege, "Convergence of gradient
flow for learning convolutional neural networks", arXiv:2601.08547, 2026: the end-to-end
filter of a strided linear CNN, the square-loss empirical risk, gradient descent with a
small step as a discretised gradient flow, its conserved quantities
:math:`\\|w_i\\|^2 - \\|w_j\\|^2`, and data that satisfy or violate the full-rank patch
condition (including frames of the bundled recording).
"""

from fbinit.theory.diederen2026_linear_cnn_flow.data import (
    PatchCondition,
    audio_frames,
    gaussian_inputs,
    normalise_inputs,
    patch_condition,
    sinusoid_inputs,
    teacher_targets,
)
from fbinit.theory.diederen2026_linear_cnn_flow.experiment import (
    DATASETS,
    FlowData,
    FlowExperiment,
    drift_experiment,
    flow_experiment,
    make_dataset,
    plot_drift,
    plot_flow,
    run,
)
from fbinit.theory.diederen2026_linear_cnn_flow.flow import (
    FlowTrace,
    flow_gradient,
    gradient_descent,
    invariants,
    norm_rates,
)
from fbinit.theory.diederen2026_linear_cnn_flow.model import (
    LinearConvNet,
    conv_matrix,
    empirical_risk,
    end_to_end_filter,
    end_to_end_size,
    network_forward,
    output_length,
    patch_matrix,
    random_filters,
)

__all__ = [
    "DATASETS",
    "FlowData",
    "FlowExperiment",
    "FlowTrace",
    "LinearConvNet",
    "PatchCondition",
    "audio_frames",
    "conv_matrix",
    "drift_experiment",
    "empirical_risk",
    "end_to_end_filter",
    "end_to_end_size",
    "flow_experiment",
    "flow_gradient",
    "gaussian_inputs",
    "gradient_descent",
    "invariants",
    "make_dataset",
    "network_forward",
    "norm_rates",
    "normalise_inputs",
    "output_length",
    "patch_condition",
    "patch_matrix",
    "plot_drift",
    "plot_flow",
    "random_filters",
    "run",
    "sinusoid_inputs",
    "teacher_targets",
]
