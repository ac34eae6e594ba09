r"""Experiments: the discretised gradient flow on data that satisfy or violate the condition.

Setting (details the paper leaves open, chosen here and exposed as parameters): network
:math:`k = (3, 2, 4)`, :math:`s = (2, 1, 3)` (:math:`k_v = 11`, :math:`s_v = 6`);
:math:`N = 16` inputs of length 101 (16 outputs each); realisable teacher
:math:`y = V_\star x` with Gaussian teacher filters (:math:`\mathbb E\|w_i^\star\|^2 = 1`);
inputs scaled so that :math:`\|P\|_2/\sqrt N = 1`; Gaussian initialisation with
:math:`\mathbb E\|w_i\|^2 = 0.25`; gradient descent with step :math:`\eta = 0.05`.

Data sets: ``gaussian`` (condition holds), ``few_samples`` (one input with
:math:`\lfloor k_v/2\rfloor` patches, rank 5 < 11), ``sinusoids`` (two shared sinusoids,
rank 4 < 11), ``audio`` (frames of the bundled recording, condition holds but
:math:`P` is ill-conditioned).

References
----------
D. Diederen, H. Rauhut, U. Terstiege, "Convergence of gradient flow for learning
convolutional neural networks", arXiv:2601.08547, 2026.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from fbinit._io import save_figure, write_csv_columns
from fbinit._validate import check_choice, check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.theory.diederen2026_linear_cnn_flow.data import (
    PatchCondition,
    audio_frames,
    gaussian_inputs,
    normalise_inputs,
    patch_condition,
    sinusoid_inputs,
    teacher_targets,
)
from fbinit.theory.diederen2026_linear_cnn_flow.flow import gradient_descent
from fbinit.theory.diederen2026_linear_cnn_flow.model import (
    end_to_end_filter,
    end_to_end_size,
    random_filters,
)

__all__ = [
    "DATASETS",
    "FlowData",
    "FlowExperiment",
    "drift_experiment",
    "flow_experiment",
    "make_dataset",
    "plot_drift",
    "plot_flow",
    "run",
]

#: data sets of the experiment, in plotting order
DATASETS = ("gaussian", "few_samples", "sinusoids", "audio")


@dataclass(frozen=True)
class FlowData:
    """Inputs ``x`` (N, n_in), targets ``y`` (N, n_out), teacher filter ``v_star`` (k_v,)
    and the patch condition of ``x``."""

    x: torch.Tensor
    y: torch.Tensor
    v_star: torch.Tensor
    condition: PatchCondition


def make_dataset(
    name: str,
    *,
    kernel_sizes: Sequence[int] = (3, 2, 4),
    strides: Sequence[int] = (2, 1, 3),
    n_samples: int = 16,
    n_in: int = 101,
    n_sinusoids: int = 2,
    noise: float = 0.0,
    seed: int = 0,
    signal=None,
) -> FlowData:
    r"""One of :data:`DATASETS`, normalised, with teacher targets.

    Parameters
    ----------
    name : {'gaussian', 'few_samples', 'sinusoids', 'audio'}
    kernel_sizes, strides : sequence of int >= 1
        Architecture of teacher and student.
    n_samples, n_in : int >= 1
        Number and length of the inputs (``few_samples`` ignores both: one input with
        :math:`\lfloor k_v/2 \rfloor` patches, length :math:`k_v + s_v(\lfloor k_v/2\rfloor-1)`).
    n_sinusoids : int >= 1
        Number of shared sinusoids of ``sinusoids``.
    noise : float >= 0
        Standard deviation of label noise.
    seed : int >= 0
        Teacher filters use ``seed``, inputs ``seed + 1``.
    signal : array-like, optional
        Recording for ``audio`` (default ``fbinit.signals.example()``).

    Returns
    -------
    FlowData
        .. math:: y = V_\star x,\qquad x \leftarrow x\,\sqrt N / \|P\|_2 .

    Examples
    --------
    >>> data = make_dataset("sinusoids")
    >>> data.condition.holds, data.condition.rank
    (False, 4)
    """
    check_choice("name", name, DATASETS)
    k_v, s_v = end_to_end_size(kernel_sizes, strides)
    seed = check_int("seed", seed, minimum=0)
    if name == "gaussian":
        x = gaussian_inputs(n_samples, n_in, seed=seed + 1)
    elif name == "few_samples":
        n_patches = max(k_v // 2, 1)
        x = gaussian_inputs(1, k_v + s_v * (n_patches - 1), seed=seed + 1)
    elif name == "sinusoids":
        x = sinusoid_inputs(n_samples, n_in, n_sinusoids=n_sinusoids, seed=seed + 1)
    else:
        x = audio_frames(n_samples, n_in, signal=signal, seed=seed + 1)
    x = normalise_inputs(x, kernel_sizes, strides)
    teacher = random_filters(kernel_sizes, seed=seed)
    y = teacher_targets(x, teacher, strides, noise=noise, seed=seed + 2)
    v_star = end_to_end_filter(teacher, strides)[0]
    return FlowData(x, y, v_star, patch_condition(x, kernel_sizes, strides))


@dataclass(frozen=True)
class FlowExperiment:
    """Curves (long format, one row per data set, run and record) and a per-run summary.

    ``curves`` columns: dataset, run, t, loss, grad_norm, invariant_drift, param_error
    (:math:`\\|v(t) - v_\\star\\|`), max_sq_norm (:math:`\\max_i \\|w_i(t)\\|^2`).
    ``summary`` rows: dataset, run, rank, k_v, sigma_min, condition, final loss, final
    grad_norm, final invariant_drift, final param_error, max_sq_norm over the run.
    """

    curves: dict[str, np.ndarray]
    summary: list[dict]


def flow_experiment(
    *,
    datasets: Sequence[str] = DATASETS,
    kernel_sizes: Sequence[int] = (3, 2, 4),
    strides: Sequence[int] = (2, 1, 3),
    n_samples: int = 16,
    n_in: int = 101,
    n_runs: int = 4,
    init_scale: float = 0.5,
    step: float = 0.05,
    n_steps: int = 10_000,
    record_every: int = 50,
    noise: float = 0.0,
    seed: int = 0,
    signal=None,
) -> FlowExperiment:
    r"""Run the discretised flow from ``n_runs`` initialisations on each data set.

    Parameters
    ----------
    datasets : sequence of names in :data:`DATASETS`
    kernel_sizes, strides, n_samples, n_in, noise, signal
        Passed to :func:`make_dataset`.
    n_runs : int >= 1
        Number of random initialisations (drawn jointly with seed ``seed + 3``; the same
        initialisations are used on every data set).
    init_scale : float > 0
        :math:`\mathbb E\|w_i(0)\|^2 = \text{init\_scale}^2`.
    step, n_steps, record_every
        Passed to :func:`gradient_descent`.
    seed : int >= 0

    Returns
    -------
    FlowExperiment
        .. math:: L(t),\ \|\nabla L(t)\|,\
                  \max_{ij}|\Delta_{ij}(t) - \Delta_{ij}(0)|,\ \|v(t) - v_\star\| .

    Examples
    --------
    >>> res = flow_experiment(datasets=("gaussian",), n_runs=2, n_steps=100, record_every=50)
    >>> len(res.curves["t"]), len(res.summary)
    (6, 2)
    """
    for name in datasets:
        check_choice("datasets[i]", name, DATASETS)
    n_runs = check_int("n_runs", n_runs)
    seed = check_int("seed", seed, minimum=0)
    init = random_filters(kernel_sizes, scale=init_scale, n_runs=n_runs, seed=seed + 3)
    columns: dict[str, list] = {
        k: []
        for k in (
            "dataset",
            "run",
            "t",
            "loss",
            "grad_norm",
            "invariant_drift",
            "param_error",
            "max_sq_norm",
        )
    }
    summary = []
    for name in datasets:
        data = make_dataset(
            name,
            kernel_sizes=kernel_sizes,
            strides=strides,
            n_samples=n_samples,
            n_in=n_in,
            noise=noise,
            seed=seed,
            signal=signal,
        )
        trace = gradient_descent(
            init, strides, data.x, data.y, step=step, n_steps=n_steps, record_every=record_every
        )
        drift = trace.invariant_drift()
        perr = np.linalg.norm(trace.end_to_end - data.v_star.numpy(), axis=-1)
        max_sq = trace.sq_norms.max(-1)
        n_t = trace.t.size
        for r in range(n_runs):
            columns["dataset"] += [name] * n_t
            columns["run"] += [r] * n_t
            columns["t"] += trace.t.tolist()
            columns["loss"] += trace.loss[:, r].tolist()
            columns["grad_norm"] += trace.grad_norm[:, r].tolist()
            columns["invariant_drift"] += drift[:, r].tolist()
            columns["param_error"] += perr[:, r].tolist()
            columns["max_sq_norm"] += max_sq[:, r].tolist()
            summary.append(
                {
                    "dataset": name,
                    "run": r,
                    "rank": data.condition.rank,
                    "k_v": data.condition.k_v,
                    "sigma_min": data.condition.sigma_min,
                    "condition": data.condition.holds,
                    "loss": float(trace.loss[-1, r]),
                    "grad_norm": float(trace.grad_norm[-1, r]),
                    "invariant_drift": float(drift[-1, r]),
                    "param_error": float(perr[-1, r]),
                    "max_sq_norm": float(max_sq[:, r].max()),
                }
            )
    return FlowExperiment({k: np.asarray(v) for k, v in columns.items()}, summary)


def drift_experiment(
    *,
    steps: Sequence[float] = (0.04, 0.02, 0.01),
    horizon: float = 20.0,
    dataset: str = "gaussian",
    kernel_sizes: Sequence[int] = (3, 2, 4),
    strides: Sequence[int] = (2, 1, 3),
    n_runs: int = 4,
    init_scale: float = 0.5,
    seed: int = 0,
    signal=None,
) -> dict[str, np.ndarray]:
    r"""Drift of the conserved quantities at a fixed time, for several step sizes.

    The flow conserves :math:`\Delta_{ij} = \|w_i\|^2 - \|w_j\|^2`; gradient descent with
    step :math:`\eta` changes it by :math:`\eta^2(\|\nabla_i L\|^2 - \|\nabla_j L\|^2)` per
    step, so the drift at time :math:`T` is
    :math:`\approx \eta\int_0^T(\|\nabla_i L\|^2-\|\nabla_j L\|^2)\,dt = O(\eta)`.

    Returns
    -------
    dict of ndarray
        Columns ``step``, ``run``, ``drift`` (:math:`\max_{ij}|\Delta_{ij}(T)-\Delta_{ij}(0)|`).

    Examples
    --------
    >>> d = drift_experiment(steps=(0.02, 0.01), horizon=1.0, n_runs=1)
    >>> bool(1.8 < d["drift"][0] / d["drift"][1] < 2.2)
    True
    """
    horizon = check_positive_float("horizon", horizon)
    data = make_dataset(
        dataset, kernel_sizes=kernel_sizes, strides=strides, seed=seed, signal=signal
    )
    init = random_filters(kernel_sizes, scale=init_scale, n_runs=n_runs, seed=seed + 3)
    out: dict[str, list] = {"step": [], "run": [], "drift": []}
    for eta in steps:
        eta = check_positive_float("steps[i]", eta)
        n_steps = round(horizon / eta)
        if n_steps < 1:
            raise ParameterError(f"steps[i]={eta} must be <= horizon={horizon}")
        trace = gradient_descent(
            init, strides, data.x, data.y, step=eta, n_steps=n_steps, record_every=n_steps
        )
        drift = trace.invariant_drift()[-1]
        out["step"] += [eta] * n_runs
        out["run"] += list(range(n_runs))
        out["drift"] += drift.tolist()
    return {k: np.asarray(v) for k, v in out.items()}


_COLOURS = {"gaussian": "C0", "few_samples": "C1", "sinusoids": "C2", "audio": "C3"}


def plot_flow(result: FlowExperiment, path: str | Path) -> Path:
    """Loss, gradient norm, invariant drift and filter error against flow time (PNG)."""
    c = result.curves
    fig = Figure(figsize=(9, 6))
    axes = fig.subplots(2, 2, sharex=True)
    panels = [
        ("loss", "empirical risk L", True),
        ("grad_norm", "||grad L||", True),
        ("invariant_drift", "max |Δij(t) − Δij(0)|", False),
        ("param_error", "||v(t) − v*||", False),
    ]
    conditions = {row["dataset"]: row for row in result.summary}
    for ax, (key, label, log) in zip(axes.flat, panels, strict=True):
        for name in dict.fromkeys(c["dataset"]):
            row = conditions[name]
            tag = f"{name} (rank {row['rank']}/{row['k_v']})"
            for r in np.unique(c["run"]):
                m = (c["dataset"] == name) & (c["run"] == r)
                vals = np.maximum(c[key][m], 1e-16) if log else c[key][m]
                ax.plot(
                    c["t"][m],
                    vals,
                    color=_COLOURS.get(name, "k"),
                    lw=0.9,
                    alpha=0.8,
                    label=tag if r == 0 else None,
                )
        ax.set_ylabel(label)
        if log:
            ax.set_yscale("log")
    for ax in axes[1]:
        ax.set_xlabel("flow time t = step × iterations")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(
        "Linear CNN k=(3,2,4), s=(2,1,3): gradient descent as a discretised flow", fontsize=10
    )
    fig.tight_layout()
    return save_figure(fig, path)


def plot_drift(drift: dict[str, np.ndarray], path: str | Path) -> Path:
    """Invariant drift at a fixed time against the step size, log-log, with slope 1 (PNG)."""
    fig = Figure(figsize=(4.5, 3.5))
    ax = fig.subplots()
    steps = np.unique(drift["step"])
    for r in np.unique(drift["run"]):
        m = drift["run"] == r
        ax.loglog(drift["step"][m], drift["drift"][m], "o-", lw=0.9, label=f"run {r}")
    ref = drift["drift"][drift["step"] == steps[-1]].mean() * steps / steps[-1]
    ax.loglog(steps, ref, "k--", lw=1, label="slope 1")
    ax.set_xticks(steps, [f"{s:g}" for s in steps])
    ax.minorticks_off()
    ax.set_xlabel("step size η")
    ax.set_ylabel("max |Δij(T) − Δij(0)|")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def run(out_dir: Path, *, quick: bool = False, seed: int = 0) -> list[Path]:
    """Run both experiments and write two PNG figures and two CSV files into ``out_dir``.

    ``quick`` uses fewer runs and steps (a few seconds); the full run records the flow up
    to time 1000.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     paths = run(pathlib.Path(d), quick=True)
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if quick:
        flow = flow_experiment(n_runs=3, n_steps=3000, record_every=30, seed=seed)
        drift = drift_experiment(steps=(0.04, 0.02, 0.01), horizon=5.0, n_runs=3, seed=seed)
    else:
        flow = flow_experiment(n_runs=8, n_steps=20_000, record_every=100, seed=seed)
        drift = drift_experiment(
            steps=(0.08, 0.04, 0.02, 0.01, 0.005), horizon=20.0, n_runs=4, seed=seed
        )
    summary = {k: np.asarray([row[k] for row in flow.summary]) for k in flow.summary[0]}
    return [
        plot_flow(flow, out_dir / "diederen2026_flow.png"),
        plot_drift(drift, out_dir / "diederen2026_drift.png"),
        write_csv_columns(out_dir / "diederen2026_curves.csv", flow.curves),
        write_csv_columns(out_dir / "diederen2026_drift.csv", drift),
        write_csv_columns(out_dir / "diederen2026_summary.csv", summary),
    ]
