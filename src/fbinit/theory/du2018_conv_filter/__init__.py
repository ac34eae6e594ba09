r"""Du, Lee and Tian (2018), "When is a Convolutional Filter Easy to Learn?".

Teacher-student learning of one convolutional ReLU filter averaged over ``k`` patches,

.. math:: f(Z, w) = \frac1k\sum_{i=1}^k \mathrm{relu}(w^\top Z_i),\qquad
          \ell(w) = \tfrac12\,\mathbb E\big[(f(Z, w) - f(Z, w^*))^2\big],

by gradient descent on the population or empirical loss, or SGD. The package holds the
Gaussian closed forms (:mod:`.closed_forms`), the model (:mod:`.model`), the patch
generators with controllable overlap (:mod:`.data`), the training loops and step-size
schedules (:mod:`.training`) and the experiments (:mod:`.experiment`); :func:`run` writes
the figures and a CSV of the curves. Paper notation: filter length ``p``, ``k`` patches,
stride ``s``, angle ``theta``.

References
----------
S. S. Du, J. D. Lee, Y. Tian, "When is a Convolutional Filter Easy to Learn?", ICLR 2018,
arXiv:1709.06129.
"""

from __future__ import annotations

from pathlib import Path

import torch

from fbinit._validate import check_int
from fbinit.theory.du2018_conv_filter.closed_forms import (
    angle,
    hessian_at_optimum,
    population_gradient,
    population_loss,
    relu_kernel,
    single_neuron_gradient,
    wedge_eigenvalues,
    wedge_second_moment,
)
from fbinit.theory.du2018_conv_filter.data import (
    DISTRIBUTIONS,
    audio_frames,
    extract_patches,
    patch_sampler,
    sample_patches,
    sample_signals,
)
from fbinit.theory.du2018_conv_filter.experiment import (
    distribution_experiment,
    overlap_experiment,
    plot_overlap,
    plot_trajectories,
    schedule_experiment,
    write_curves,
)
from fbinit.theory.du2018_conv_filter.model import (
    SingleFilterCNN,
    empirical_gradient,
    empirical_loss,
    gauss_newton,
    student_output,
)
from fbinit.theory.du2018_conv_filter.training import (
    StepSchedule,
    Trajectory,
    constant_schedule,
    empirical_gd,
    initial_filter,
    population_gd,
    two_stage_schedule,
)

__all__ = [
    "DISTRIBUTIONS",
    "SingleFilterCNN",
    "StepSchedule",
    "Trajectory",
    "angle",
    "audio_frames",
    "constant_schedule",
    "distribution_experiment",
    "empirical_gd",
    "empirical_gradient",
    "empirical_loss",
    "extract_patches",
    "gauss_newton",
    "hessian_at_optimum",
    "initial_filter",
    "overlap_experiment",
    "patch_sampler",
    "plot_overlap",
    "plot_trajectories",
    "population_gd",
    "population_gradient",
    "population_loss",
    "relu_kernel",
    "run",
    "sample_patches",
    "sample_signals",
    "schedule_experiment",
    "single_neuron_gradient",
    "student_output",
    "two_stage_schedule",
    "wedge_eigenvalues",
    "wedge_second_moment",
    "write_curves",
]


def run(out_dir: Path, *, quick: bool = False, seed: int = 0) -> list[Path]:
    """Run the three experiments; write ``du2018_*.png`` and ``du2018_curves.csv``.

    Parameters
    ----------
    out_dir : Path
        Existing or new folder for the outputs.
    quick : bool
        Fewer iterations and smaller batches (seconds instead of about a minute).
    seed : int >= 0
        Seed of every random draw.

    Returns
    -------
    list of Path
        ``du2018_schedules.png``, ``du2018_distributions.png``, ``du2018_overlap.png``,
        ``du2018_curves.csv``.

    Notes
    -----
    Torch runs single-threaded during the call (faster for these small tensors); the
    previous thread count is restored afterwards. The audio runs use
    :func:`fbinit.signals.example`.
    """
    seed = check_int("seed", seed, minimum=0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        size = dict(n_iter=400, batch_size=1024, curvature_samples=20_000)
        theta0s = (1.0, 2.0, 2.5, 3.0)
    else:
        size = dict(n_iter=1500, batch_size=2048, curvature_samples=100_000)
        theta0s = (0.5, 1.0, 1.5, 1.75, 2.0, 2.5, 3.0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        schedules = {
            "population GD, Gaussian patches (closed form)": schedule_experiment(seed=seed, **size),
            "large-batch GD, Laplace patches": schedule_experiment(
                distribution="laplace", seed=seed, **size
            ),
        }
        distributions = distribution_experiment(seed=seed, **size)
        overlap = overlap_experiment(theta0s=theta0s, seed=seed, **size)
        paths = [
            plot_trajectories(schedules, out / "du2018_schedules.png"),
            plot_trajectories(
                {"large-batch GD, non-overlapping patches, eta = 1/lambda_max(H*)": distributions},
                out / "du2018_distributions.png",
            ),
            plot_overlap(
                overlap,
                out / "du2018_overlap.png",
                title="large-batch GD, Gaussian signal, k = 4 patches of p = 10 at stride s",
            ),
        ]
        results = {f"schedules/{name}": curves for name, curves in schedules.items()}
        results["distributions"] = distributions
        results["overlap"] = overlap
        paths.append(write_curves(results, out / "du2018_curves.csv"))
    finally:
        torch.set_num_threads(threads)
    return paths
