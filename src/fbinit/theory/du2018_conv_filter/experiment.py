r"""Experiments of Du, Lee and Tian (2018): schedules, input distributions, patch overlap.

Common setting (all parameters): filter length :math:`p = 10`, :math:`k = 4` patches, a
random unit teacher :math:`w^*`, and :math:`w_0` of norm 1 at angle
:math:`\theta_0 = \pi - 0.1` from :math:`w^*` (a worst-case start). Step sizes are set
from the curvature at the optimum: :math:`\eta_\text{large} = 1/\lambda_\max(H^*)` with
:math:`H^*` the Hessian at :math:`w^*` (closed form for Gaussian patches, a Monte Carlo
Gauss-Newton estimate otherwise) and :math:`\eta_\text{small} = \eta_\text{large} / 4`.
The population gradient of overlapping or non-Gaussian patches has no closed form, so
those runs use a fresh large batch per step (an unbiased estimate of it).

- :func:`schedule_experiment`: constant small, constant large and two-stage steps
  (small until :math:`\theta_t < \pi/4`, then large), on the closed-form Gaussian
  population loss or on sampled patches.
- :func:`distribution_experiment`: Gaussian, uniform, Laplace, AR(1) and real audio frames.
- :func:`overlap_experiment`: strides :math:`s = p, p/2, \dots, 1` and a grid of
  :math:`\theta_0`; the final angle against :math:`\theta_0` shows from where GD recovers
  :math:`w^*`.

References
----------
S. S. Du, J. D. Lee, Y. Tian, "When is a Convolutional Filter Easy to Learn?", ICLR 2018.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from matplotlib.figure import Figure

from fbinit._io import save_figure, write_csv
from fbinit._validate import check_int, check_positive_float
from fbinit.theory.du2018_conv_filter.closed_forms import hessian_at_optimum
from fbinit.theory.du2018_conv_filter.data import DISTRIBUTIONS, patch_sampler
from fbinit.theory.du2018_conv_filter.model import gauss_newton
from fbinit.theory.du2018_conv_filter.training import (
    StepSchedule,
    Trajectory,
    empirical_gd,
    initial_filter,
    population_gd,
)

__all__ = [
    "schedule_experiment",
    "distribution_experiment",
    "overlap_experiment",
    "plot_trajectories",
    "plot_overlap",
    "write_curves",
]

THETA0 = math.pi - 0.1


def _teacher(p: int, generator: torch.Generator) -> torch.Tensor:
    w_star = torch.randn(p, generator=generator, dtype=torch.float64)
    return w_star / w_star.norm()


def _large_step(sampler, w_star: torch.Tensor, n: int, generator: torch.Generator) -> float:
    """1 / lambda_max of the Monte Carlo Hessian at the optimum."""
    return 1.0 / float(torch.linalg.eigvalsh(gauss_newton(sampler(n, generator), w_star))[-1])


def _split(traj: Trajectory, labels: list[str]) -> dict[str, Trajectory]:
    return {
        label: Trajectory(
            angle=traj.angle[:, j],
            distance=traj.distance[:, j],
            loss=traj.loss[:, j],
            eta=traj.eta[:, j],
            w=traj.w[j],
        )
        for j, label in enumerate(labels)
    }


def schedule_experiment(
    *,
    distribution: str | None = None,
    p: int = 10,
    k: int = 4,
    theta0: float = THETA0,
    switch_angle: float = math.pi / 4,
    ratio: float = 4.0,
    n_iter: int = 1000,
    batch_size: int = 2048,
    curvature_samples: int = 50_000,
    seed: int = 0,
) -> dict[str, Trajectory]:
    r"""Constant small, constant large and two-stage step sizes from the same start.

    Parameters
    ----------
    distribution : str, optional
        None: GD on the closed-form population loss (Gaussian, non-overlapping patches).
        Otherwise one of :data:`~fbinit.theory.du2018_conv_filter.data.DISTRIBUTIONS`,
        trained with fresh batches of non-overlapping patches.
    p, k : int >= 1
        Patch length and number of patches.
    theta0 : float in [0, pi]
        Initial angle.
    switch_angle : float > 0
        The two-stage schedule switches when :math:`\theta_t` first drops below it.
    ratio : float > 0
        :math:`\eta_\text{large} / \eta_\text{small}`.
    n_iter, batch_size, curvature_samples : int >= 1
        Steps, samples per step, samples of the curvature estimate.
    seed : int >= 0
        Seed of the teacher, the initial filter and the batches.

    Returns
    -------
    dict[str, Trajectory]
        Keys ``"constant small"``, ``"constant large"``, ``"two-stage"``.

    Examples
    --------
    >>> out = schedule_experiment(n_iter=300)
    >>> sorted(round(float(t.distance[-1]), 6) for t in out.values())[0]
    0.0
    """
    n_iter = check_int("n_iter", n_iter)
    ratio = check_positive_float("ratio", ratio)
    gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    w_star = _teacher(p, gen)
    w0 = initial_filter(w_star, theta0=theta0, generator=gen)
    if distribution is None:
        large = 1.0 / float(torch.linalg.eigvalsh(hessian_at_optimum(w_star, k))[-1])
    else:
        sampler = patch_sampler(p=p, k=k, distribution=distribution)
        large = _large_step(sampler, w_star, curvature_samples, gen)
    small = large / ratio
    schedule = StepSchedule(
        eta_small=torch.tensor([small, large, small]),
        eta_large=torch.tensor([small, large, large]),
        switch_angle=torch.tensor([0.0, 0.0, switch_angle]),
        name="schedules",
    )
    if distribution is None:
        traj = population_gd(w0, w_star, k=k, schedule=schedule, n_iter=n_iter)
    else:
        traj = empirical_gd(
            w0,
            w_star,
            sampler=sampler,
            schedule=schedule,
            n_iter=n_iter,
            batch_size=batch_size,
            generator=gen,
        )
    return _split(traj, ["constant small", "constant large", "two-stage"])


def distribution_experiment(
    *,
    distributions: tuple[str, ...] = DISTRIBUTIONS,
    p: int = 10,
    k: int = 4,
    stride: int | None = None,
    theta0: float = THETA0,
    n_iter: int = 1000,
    batch_size: int = 2048,
    curvature_samples: int = 50_000,
    seed: int = 0,
    **options,
) -> dict[str, Trajectory]:
    r"""Large-batch GD with step :math:`1/\lambda_\max(H^*)` for each input distribution.

    Parameters
    ----------
    distributions : tuple of str
        Names from :data:`~fbinit.theory.du2018_conv_filter.data.DISTRIBUTIONS`.
    p, k : int >= 1
        Patch length and number of patches.
    stride : int >= 1, optional
        Hop between patches (default ``p``: non-overlapping).
    theta0 : float in [0, pi]
        Initial angle.
    n_iter, batch_size, curvature_samples : int >= 1
        Steps, samples per step, samples of the curvature estimate.
    seed : int >= 0
        Seed (the same teacher and start for every distribution).
    **options
        ``rho``, ``signal``, ``min_rms`` of the samplers.

    Returns
    -------
    dict[str, Trajectory]
        One trajectory per distribution.

    Examples
    --------
    >>> out = distribution_experiment(distributions=("uniform",), n_iter=50, batch_size=256,
    ...                               curvature_samples=2000)
    >>> float(out["uniform"].angle[-1]) < float(out["uniform"].angle[0])
    True
    """
    out = {}
    for name in distributions:
        gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        w_star = _teacher(p, gen)
        w0 = initial_filter(w_star, theta0=theta0, generator=gen)
        sampler = patch_sampler(p=p, k=k, stride=stride, distribution=name, **options)
        eta = _large_step(sampler, w_star, curvature_samples, gen)
        out[name] = empirical_gd(
            w0,
            w_star,
            sampler=sampler,
            schedule=StepSchedule(eta, eta, 0.0, name),
            n_iter=n_iter,
            batch_size=batch_size,
            generator=gen,
        )
    return out


def overlap_experiment(
    *,
    strides: tuple[int, ...] = (10, 5, 2, 1),
    distribution: str = "gaussian",
    p: int = 10,
    k: int = 4,
    theta0s: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 2.5, THETA0),
    n_iter: int = 1000,
    batch_size: int = 2048,
    curvature_samples: int = 50_000,
    seed: int = 0,
    **options,
) -> dict[str, Trajectory]:
    r"""Large-batch GD for several strides (patch overlaps) and initial angles.

    Parameters
    ----------
    strides : tuple of int >= 1
        Hops between the ``k`` patches; :math:`s < p` makes neighbouring patches share
        :math:`p - s` samples.
    distribution : str
        Distribution of the underlying signal.
    p, k : int >= 1
        Patch length and number of patches.
    theta0s : tuple of float in [0, pi]
        Initial angles (one parallel run each, same teacher, same batches).
    n_iter, batch_size, curvature_samples : int >= 1
        Steps, samples per step, samples of the curvature estimate.
    seed : int >= 0
        Seed.
    **options
        ``rho``, ``signal``, ``min_rms`` of the samplers.

    Returns
    -------
    dict[str, Trajectory]
        Keys ``"s=<stride> theta0=<angle:.2f>"``.

    Examples
    --------
    >>> out = overlap_experiment(strides=(3,), p=3, k=2, theta0s=(1.0,), n_iter=100,
    ...                          batch_size=256, curvature_samples=2000)
    >>> list(out)
    ['s=3 theta0=1.00']
    """
    out = {}
    for stride in strides:
        gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        w_star = _teacher(p, gen)
        w0 = torch.stack([initial_filter(w_star, theta0=th, generator=gen) for th in theta0s])
        sampler = patch_sampler(p=p, k=k, stride=stride, distribution=distribution, **options)
        eta = _large_step(sampler, w_star, curvature_samples, gen)
        traj = empirical_gd(
            w0,
            w_star,
            sampler=sampler,
            schedule=StepSchedule(eta, eta, 0.0, f"s={stride}"),
            n_iter=n_iter,
            batch_size=batch_size,
            generator=gen,
        )
        out.update(_split(traj, [f"s={stride} theta0={th:.2f}" for th in theta0s]))
    return out


def _axes_curves(ax_angle, ax_dist, curves: dict[str, Trajectory]) -> None:
    for label, traj in curves.items():
        (line,) = ax_angle.plot(traj.angle.numpy(), label=label, lw=1.2)
        ax_dist.semilogy(traj.distance.clamp_min(1e-12).numpy(), color=line.get_color(), lw=1.2)
    ax_angle.set_ylabel(r"angle $\theta_t$ (rad)")
    ax_dist.set_ylabel(r"$\|w_t - w^*\|$")
    for ax in (ax_angle, ax_dist):
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)


def plot_trajectories(groups: dict[str, dict[str, Trajectory]], path) -> Path:
    """Plot angle and distance against iterations, one row per group; save a PNG.

    Parameters
    ----------
    groups : dict[str, dict[str, Trajectory]]
        Row title -> curves (label -> trajectory).
    path : str or Path
        Output PNG.

    Returns
    -------
    Path
        The written file.
    """
    fig = Figure(figsize=(9, 2.8 * len(groups)))
    axes = fig.subplots(len(groups), 2, squeeze=False)
    for row, (title, curves) in zip(axes, groups.items(), strict=True):
        _axes_curves(row[0], row[1], curves)
        row[0].set_title(title, fontsize=9, loc="left")
        row[0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_overlap(curves: dict[str, Trajectory], path, *, title: str = "") -> Path:
    """Plot the runs of :func:`overlap_experiment`: curves from the largest initial angle
    and the final angle against the initial angle, per stride; save a PNG.

    Returns
    -------
    Path
        The written file.
    """
    by_stride: dict[str, dict[float, Trajectory]] = {}
    for label, traj in curves.items():
        stride, theta = label.split(" ")
        by_stride.setdefault(stride, {})[float(theta.split("=")[1])] = traj
    fig = Figure(figsize=(12, 3.2))
    axes = fig.subplots(1, 3)
    worst = {s: runs[max(runs)] for s, runs in by_stride.items()}
    _axes_curves(axes[0], axes[1], worst)
    axes[0].legend(fontsize=7, title=r"from max $\theta_0$", title_fontsize=7)
    for stride, runs in by_stride.items():
        thetas = sorted(runs)
        axes[2].plot(thetas, [float(runs[t].angle[-1]) for t in thetas], "o-", label=stride)
    axes[2].set_xlabel(r"initial angle $\theta_0$")
    axes[2].set_ylabel(r"final angle $\theta_T$")
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def write_curves(results: dict[str, dict[str, Trajectory]], path) -> Path:
    """Write every curve as CSV rows ``experiment,label,iteration,angle,distance,loss,eta``.

    ``eta`` is the step taken from iteration t (empty on the last row of a curve).

    Returns
    -------
    Path
        The written file.
    """
    header = ["experiment", "label", "iteration", "angle", "distance", "loss", "eta"]
    return write_csv(path, header, _curve_rows(results))


def _curve_rows(results: dict[str, dict[str, Trajectory]]):
    for experiment, curves in results.items():
        for label, traj in curves.items():
            eta = traj.eta.tolist() + [""]
            columns = zip(
                traj.angle.tolist(), traj.distance.tolist(), traj.loss.tolist(), eta, strict=True
            )
            for t, (a, d, l, e) in enumerate(columns):
                yield [
                    experiment,
                    label,
                    t,
                    f"{a:.9g}",
                    f"{d:.9g}",
                    f"{l:.9g}",
                    e if e == "" else f"{e:.6g}",
                ]
