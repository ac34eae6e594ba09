"""Convex training of two-layer CNNs with weight decay.

Reproduces T. Ergen, M. Pilanci, "Implicit Convex Regularizers of CNN Architectures:
Convex Optimization of Two- and Three-Layer Networks in Polynomial Time", ICLR 2021: the
two-layer ReLU CNN with global sum pooling and weight decay, its equivalent convex program
over sampled (or enumerated) sign patterns solved with CVXPY (Clarabel, SCS fallback), the
reconstruction of the network, SGD/Adam from several seeds for comparison, the polynomial
growth of the number of patterns, and the Fourier l1 penalty of circular CNNs.
CVXPY is optional: ``pip install fbinit[convex]``.
"""

from fbinit.theory.ergen2021_convex_cnn.circular import (
    circular_conv,
    factorization_cost,
    fourier_l1_penalty,
    min_norm_factorization,
    nonconvex_factorization,
)
from fbinit.theory.ergen2021_convex_cnn.convex import (
    MAX_CONSTRAINTS,
    ConvexSolution,
    arrangement_bound,
    constraint_violation,
    convex_objective,
    enumerate_sign_patterns,
    problem_size,
    reconstruct,
    sample_sign_patterns,
    solve_convex,
)
from fbinit.theory.ergen2021_convex_cnn.data import audio_prediction_data, patches, teacher_data
from fbinit.theory.ergen2021_convex_cnn.experiment import (
    DEFAULT_LR,
    Comparison,
    circular_experiment,
    convex_vs_nonconvex,
    make_dataset,
    pattern_growth,
    plot_circular,
    plot_comparison,
    plot_pattern_growth,
    run,
)
from fbinit.theory.ergen2021_convex_cnn.model import (
    TrainTrace,
    TwoLayerCNN,
    cnn_forward,
    primal_objective,
    train_nonconvex,
)

__all__ = [
    "DEFAULT_LR",
    "MAX_CONSTRAINTS",
    "Comparison",
    "ConvexSolution",
    "TrainTrace",
    "TwoLayerCNN",
    "arrangement_bound",
    "audio_prediction_data",
    "circular_conv",
    "circular_experiment",
    "cnn_forward",
    "constraint_violation",
    "convex_objective",
    "convex_vs_nonconvex",
    "enumerate_sign_patterns",
    "factorization_cost",
    "fourier_l1_penalty",
    "make_dataset",
    "min_norm_factorization",
    "nonconvex_factorization",
    "patches",
    "pattern_growth",
    "plot_circular",
    "plot_comparison",
    "plot_pattern_growth",
    "primal_objective",
    "problem_size",
    "reconstruct",
    "run",
    "sample_sign_patterns",
    "solve_convex",
    "teacher_data",
    "train_nonconvex",
]
