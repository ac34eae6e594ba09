r"""Experiments: convex program versus SGD/Adam, pattern counts, circular CNN penalty.

Setting (the reference check of the paper's claims; details chosen here are parameters):
:math:`n = 6` signals of length :math:`d = 6`, filters of length :math:`h = 3`, stride 1
(:math:`K = 4` patches), :math:`\beta = 0.01`; data from a random two-layer teacher CNN
(two filters, label noise 0.1) and, from real audio, one-step prediction on frames of the
bundled recording (decimated to 8 kHz). Sign patterns: 2000 sampled directions
(deduplicated). Non-convex runs: :math:`m = 16` filters, full-batch SGD with step
:math:`0.25/\|\sum_k X_k\|_2^2` (larger steps diverge on the audio data) and Adam with
step 0.01, from several seeds. The full run adds a larger problem (:math:`n = 20`,
:math:`d = 12`) where the patterns can only be sampled.

References
----------
T. Ergen, M. Pilanci, "Implicit Convex Regularizers of CNN Architectures: Convex
Optimization of Two- and Three-Layer Networks in Polynomial Time", ICLR 2021.
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
from fbinit.theory.ergen2021_convex_cnn.circular import (
    fourier_l1_penalty,
    min_norm_factorization,
    nonconvex_factorization,
)
from fbinit.theory.ergen2021_convex_cnn.convex import (
    MAX_CONSTRAINTS,
    arrangement_bound,
    constraint_violation,
    enumerate_sign_patterns,
    reconstruct,
    sample_sign_patterns,
    solve_convex,
)
from fbinit.theory.ergen2021_convex_cnn.data import audio_prediction_data, patches, teacher_data
from fbinit.theory.ergen2021_convex_cnn.model import primal_objective, train_nonconvex

__all__ = [
    "Comparison",
    "circular_experiment",
    "convex_vs_nonconvex",
    "make_dataset",
    "pattern_growth",
    "plot_circular",
    "plot_comparison",
    "plot_pattern_growth",
    "run",
]

#: learning rates of the non-convex runs (full batch); SGD's is relative to the data:
#: lr = DEFAULT_LR["sgd"] / ||sum_k X_k||_2^2, Adam's is absolute
DEFAULT_LR = {"sgd": 0.25, "adam": 0.01}


def make_dataset(
    name: str,
    *,
    n_samples: int = 6,
    d: int = 6,
    kernel_size: int = 3,
    seed: int = 0,
    signal=None,
) -> tuple[np.ndarray, np.ndarray]:
    """``teacher`` (:func:`teacher_data`, noise 0.1) or ``audio``
    (:func:`audio_prediction_data`) as ``(x, y)``.

    Examples
    --------
    >>> x, y = make_dataset("teacher")
    >>> x.shape, y.shape
    ((6, 6), (6,))
    """
    check_choice("name", name, ("teacher", "audio"))
    if name == "teacher":
        return teacher_data(n_samples, d, kernel_size, seed=seed)
    return audio_prediction_data(n_samples, d, signal=signal, seed=seed)


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`convex_vs_nonconvex`.

    Attributes
    ----------
    curves : dict of ndarray
        Long format: ``optimizer``, ``run``, ``iteration``, ``objective``.
    convex : dict
        ``objective`` (solver optimum), ``reconstructed`` (non-convex objective of the
        reconstructed network), ``n_directions``, ``n_patterns``, ``status``,
        ``solver``, ``solve_time``, ``n_neurons`` (reconstructed filters), ``violation``
        (largest constraint violation), and with ``exact_check`` ``objective_exact`` and
        ``n_patterns_exact``.
    final : dict of ndarray
        Final objective of every run, per optimizer.
    """

    curves: dict[str, np.ndarray]
    convex: dict
    final: dict[str, np.ndarray]


def convex_vs_nonconvex(
    x,
    y,
    *,
    kernel_size: int = 3,
    stride: int = 1,
    beta: float = 0.01,
    n_directions: int | None = 2000,
    optimizers: Sequence[str] = ("sgd", "adam"),
    lr: dict | None = None,
    n_filters: int = 16,
    n_iter: int = 4000,
    n_runs: int = 4,
    record_every: int = 20,
    max_constraints: int = MAX_CONSTRAINTS,
    exact_check: bool = False,
    seed: int = 0,
) -> Comparison:
    r"""Solve the convex program, rebuild the network, and train the non-convex problem.

    Parameters
    ----------
    x : array-like, shape (n, d)
    y : array-like, shape (n,)
    kernel_size, stride : int >= 1
        Filter length :math:`h` and patch stride.
    beta : float > 0
        Weight decay.
    n_directions : int >= 1 or None
        Number of sampled directions :math:`u \sim \mathcal N(0, I)`; None enumerates every
        pattern (:func:`enumerate_sign_patterns`, small :math:`h` only).
    optimizers : sequence of {'sgd', 'adam'}
    lr : dict, optional
        Learning rate per optimizer (default :data:`DEFAULT_LR`); the SGD entry is
        multiplied by :math:`1/\|\sum_k X_k\|_2^2`.
    n_filters, n_iter, n_runs, record_every
        Passed to :func:`train_nonconvex`.
    max_constraints : int
        Passed to :func:`solve_convex`.
    exact_check : bool
        Also solve over all enumerated patterns and report ``objective_exact`` and
        ``n_patterns_exact`` (small :math:`h` and :math:`nK` only).
    seed : int >= 0

    Returns
    -------
    Comparison
        .. math:: p^\star_{\text{cvx}} \le p(U_t, w_t)\ \text{for all runs and } t
                  \text{ (when the patterns are complete)}.

    Examples
    --------
    >>> x, y = make_dataset("teacher")
    >>> res = convex_vs_nonconvex(x, y, n_iter=100, n_runs=2)
    >>> gap = res.convex["reconstructed"] - res.convex["objective"]
    >>> res.convex["status"], bool(abs(gap) < 1e-6)
    ('optimal', True)
    """
    beta = check_positive_float("beta", beta)
    lr = dict(DEFAULT_LR if lr is None else lr)
    X = patches(x, kernel_size, stride=stride)
    y = np.asarray(y, dtype=np.float64)
    if n_directions is None:
        pats = enumerate_sign_patterns(X)
    else:
        pats = sample_sign_patterns(X, n_directions, seed=seed)
    sol = solve_convex(X, y, beta, pats, max_constraints=max_constraints)
    U, w = reconstruct(sol)
    recon = float(primal_objective(torch.from_numpy(U), torch.from_numpy(w), X, y, beta))
    convex = {
        "objective": sol.objective,
        "reconstructed": recon,
        "n_directions": -1 if n_directions is None else int(n_directions),
        "n_patterns": sol.n_patterns,
        "status": sol.status,
        "solver": sol.solver,
        "solve_time": sol.solve_time,
        "n_neurons": int(len(w)),
        "violation": max(
            constraint_violation(sol.C, X, pats), constraint_violation(sol.C_prime, X, pats)
        ),
    }
    if exact_check:
        exact = solve_convex(
            X, y, beta, enumerate_sign_patterns(X), max_constraints=max_constraints
        )
        convex["objective_exact"] = exact.objective
        convex["n_patterns_exact"] = exact.n_patterns
    columns: dict[str, list] = {"optimizer": [], "run": [], "iteration": [], "objective": []}
    final = {}
    scale = {"sgd": 1.0 / np.linalg.norm(X.sum(0), 2) ** 2, "adam": 1.0}
    for opt in optimizers:
        check_choice("optimizers[i]", opt, ("sgd", "adam"))
        trace = train_nonconvex(
            X,
            y,
            beta,
            n_filters=n_filters,
            optimizer=opt,
            lr=lr[opt] * scale[opt],
            n_iter=n_iter,
            n_runs=n_runs,
            record_every=record_every,
            seed=seed,
        )
        for r in range(n_runs):
            columns["optimizer"] += [opt] * len(trace.iteration)
            columns["run"] += [r] * len(trace.iteration)
            columns["iteration"] += trace.iteration.tolist()
            columns["objective"] += trace.objective[:, r].tolist()
        final[opt] = trace.objective[-1].copy()
    return Comparison({k: np.asarray(v) for k, v in columns.items()}, convex, final)


def pattern_growth(
    *,
    n_values: Sequence[int] = (2, 3, 4, 6, 8, 12, 16, 24),
    d: int = 6,
    kernel_size: int = 3,
    n_directions: int = 20_000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    r"""Number of distinct sign patterns against the number of samples :math:`n`.

    Returns
    -------
    dict of ndarray
        ``n``, ``n_hyperplanes`` (:math:`nK`), ``sampled`` (distinct patterns among
        ``n_directions`` draws), ``exact`` (:func:`enumerate_sign_patterns`), ``bound``
        (:math:`2\sum_{l<h}\binom{nK-1}{l}`, :math:`O(n^{h-1})`).

    Examples
    --------
    >>> g = pattern_growth(n_values=(2, 4), n_directions=1000)
    >>> bool((g["exact"] == g["bound"]).all())
    True
    """
    n_directions = check_int("n_directions", n_directions)
    out: dict[str, list] = {k: [] for k in ("n", "n_hyperplanes", "sampled", "exact", "bound")}
    for n in n_values:
        n = check_int("n_values[i]", n)
        x, _ = teacher_data(n, d, kernel_size, seed=seed)
        X = patches(x, kernel_size)
        N = X.shape[0] * X.shape[1]
        out["n"].append(n)
        out["n_hyperplanes"].append(N)
        out["sampled"].append(len(sample_sign_patterns(X, n_directions, seed=seed)))
        out["exact"].append(len(enumerate_sign_patterns(X)))
        out["bound"].append(arrangement_bound(N, kernel_size))
    return {k: np.asarray(v) for k, v in out.items()}


def circular_experiment(
    *,
    d: int = 16,
    n_filters_z: int = 4,
    n_runs: int = 8,
    n_iter: int = 2000,
    seed: int = 0,
    signal=None,
) -> dict[str, np.ndarray]:
    r"""Closed form, explicit factorisation and Adam for several end-to-end filters z.

    The filters are ``n_filters_z - 1`` Gaussian vectors and one frame of the bundled
    recording (length ``d``).

    Returns
    -------
    dict of ndarray
        ``z`` (index), ``kind``, ``penalty`` (:math:`2\|Fz\|_1/\sqrt d`),
        ``constructed`` (:math:`\|u\|^2+\|w\|^2` of :func:`min_norm_factorization`),
        ``run``, ``nonconvex`` (final :math:`g(u)` of each Adam run).

    Examples
    --------
    >>> c = circular_experiment(d=8, n_filters_z=2, n_runs=2, n_iter=50, signal=[1.0] * 64)
    >>> bool((c["nonconvex"] >= c["penalty"] - 1e-9).all())
    True
    """
    d = check_int("d", d)
    n_filters_z = check_int("n_filters_z", n_filters_z)
    rng = np.random.default_rng(seed)
    zs = [rng.standard_normal(d) for _ in range(n_filters_z - 1)]
    kinds = ["gaussian"] * (n_filters_z - 1)
    x, _ = audio_prediction_data(1, d - 1, signal=signal, seed=seed)
    zs.append(np.concatenate([x[0], [0.0]]))
    kinds.append("audio")
    out: dict[str, list] = {
        k: [] for k in ("z", "kind", "penalty", "constructed", "run", "nonconvex")
    }
    for i, (z, kind) in enumerate(zip(zs, kinds, strict=True)):
        pen = float(fourier_l1_penalty(z))
        u, w = min_norm_factorization(z)
        constructed = float((u**2).sum() + (w**2).sum())
        g = nonconvex_factorization(z, n_runs=n_runs, n_iter=n_iter, seed=seed + i)[-1]
        for r in range(n_runs):
            out["z"].append(i)
            out["kind"].append(kind)
            out["penalty"].append(pen)
            out["constructed"].append(constructed)
            out["run"].append(r)
            out["nonconvex"].append(float(g[r]))
    return {k: np.asarray(v) for k, v in out.items()}


def plot_comparison(results: dict[str, Comparison], path: str | Path) -> Path:
    """Objective gap to the convex optimum along SGD/Adam training, one panel per data set."""
    fig = Figure(figsize=(4.6 * len(results), 3.6))
    axes = fig.subplots(1, len(results), squeeze=False)
    colours = {"sgd": "C0", "adam": "C1"}
    for ax, (name, res) in zip(axes[0], results.items(), strict=True):
        c, opt_val = res.curves, res.convex["objective"]
        for opt in dict.fromkeys(c["optimizer"]):
            for r in np.unique(c["run"]):
                m = (c["optimizer"] == opt) & (c["run"] == r)
                ax.plot(
                    c["iteration"][m],
                    c["objective"][m],
                    color=colours[opt],
                    lw=0.9,
                    alpha=0.8,
                    label=opt if r == 0 else None,
                )
        ax.axhline(
            opt_val,
            color="k",
            ls="--",
            lw=1.2,
            label=f"convex optimum {opt_val:.4g}\n({res.convex['n_patterns']} patterns, "
            f"{res.convex['solve_time']:.2f} s)",
        )
        ax.set_yscale("log")
        ax.set_ylim(opt_val * 0.8, None)
        ax.set_xlabel("iteration")
        ax.set_ylabel("objective p(U, w)")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_pattern_growth(growth: dict[str, np.ndarray], path: str | Path) -> Path:
    """Number of sign patterns against n (log-log) with the arrangement bound."""
    fig = Figure(figsize=(4.6, 3.6))
    ax = fig.subplots()
    ax.loglog(growth["n"], growth["bound"], "k--", label="bound 2 Σ C(nK−1, l)")
    ax.loglog(growth["n"], growth["exact"], "o", mfc="none", label="enumerated")
    ax.loglog(growth["n"], growth["sampled"], "s-", ms=4, label="sampled (distinct)")
    ax.set_xticks(growth["n"], [str(n) for n in growth["n"]])
    ax.minorticks_off()
    ax.set_xlabel("number of samples n")
    ax.set_ylabel("number of sign patterns")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_circular(circ: dict[str, np.ndarray], path: str | Path) -> Path:
    """Adam's final weight decay over the closed form 2||Fz||_1/sqrt(d), per filter z."""
    fig = Figure(figsize=(4.6, 3.6))
    ax = fig.subplots()
    ratio = circ["nonconvex"] / circ["penalty"]
    ax.scatter(circ["z"] + 0.05 * circ["run"], ratio, s=12, label="Adam runs")
    ax.scatter(
        np.unique(circ["z"]),
        [1.0] * len(np.unique(circ["z"])),
        marker="_",
        s=400,
        color="k",
        label="closed form",
    )
    ax.set_xticks(np.unique(circ["z"]))
    ax.set_xticklabels([circ["kind"][circ["z"] == i][0] for i in np.unique(circ["z"])])
    ax.set_ylabel("(||u||² + ||w||²) / (2||Fz||₁/√d)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def run(out_dir: Path, *, quick: bool = False, seed: int = 0) -> list[Path]:
    """Run the experiments and write three PNG figures and four CSV files to ``out_dir``.

    ``quick``: the reference problem (n = d = 6, h = 3) on teacher and audio data, 2000
    directions, 3 runs of 1500 steps per optimizer. Full: 5 runs of 6000 steps, 20000
    directions, plus a sampled-pattern problem with n = 20, d = 12.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     paths = run(pathlib.Path(d), quick=True)
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if quick:
        cfg = {"n_directions": 2000, "n_iter": 1500, "n_runs": 3, "record_every": 15}
        problems = {"teacher n=6 d=6 h=3": ("teacher", 6, 6), "audio n=6 d=6 h=3": ("audio", 6, 6)}
        growth = pattern_growth(n_values=(2, 3, 4, 6, 8, 12, 16), n_directions=5000, seed=seed)
        circ = circular_experiment(n_runs=4, n_iter=1000, seed=seed)
    else:
        cfg = {"n_directions": 20_000, "n_iter": 6000, "n_runs": 5, "record_every": 30}
        problems = {
            "teacher n=6 d=6 h=3": ("teacher", 6, 6),
            "audio n=6 d=6 h=3": ("audio", 6, 6),
            "teacher n=20 d=12 h=3": ("teacher", 20, 12),
        }
        growth = pattern_growth(n_values=(2, 3, 4, 6, 8, 12, 16, 24, 32), seed=seed)
        circ = circular_experiment(n_runs=8, n_iter=3000, seed=seed)
    results = {}
    for label, (name, n, d) in problems.items():
        x, y = make_dataset(name, n_samples=n, d=d, seed=seed)
        kw = dict(cfg)
        if n > 6:  # larger problem: fewer directions keep the program under the size cap
            kw["n_directions"] = 1000
        results[label] = convex_vs_nonconvex(x, y, seed=seed, exact_check=n <= 6, **kw)
    curves: dict[str, list] = {
        "problem": [],
        "optimizer": [],
        "run": [],
        "iteration": [],
        "objective": [],
        "convex_optimum": [],
    }
    summary: dict[str, list] = {"problem": []}
    for label, res in results.items():
        k = len(res.curves["iteration"])
        curves["problem"] += [label] * k
        for key in ("optimizer", "run", "iteration", "objective"):
            curves[key] += res.curves[key].tolist()
        curves["convex_optimum"] += [res.convex["objective"]] * k
        summary["problem"].append(label)
        for key in (
            "objective",
            "objective_exact",
            "reconstructed",
            "n_directions",
            "n_patterns",
            "n_patterns_exact",
            "status",
            "solver",
            "solve_time",
            "n_neurons",
            "violation",
        ):
            summary.setdefault(key, []).append(res.convex.get(key, ""))
        for opt, vals in res.final.items():
            summary.setdefault(f"{opt}_best", []).append(float(vals.min()))
            summary.setdefault(f"{opt}_worst", []).append(float(vals.max()))
    return [
        plot_comparison(results, out_dir / "ergen2021_convex_vs_sgd.png"),
        plot_pattern_growth(growth, out_dir / "ergen2021_patterns.png"),
        plot_circular(circ, out_dir / "ergen2021_circular.png"),
        write_csv_columns(out_dir / "ergen2021_curves.csv", curves),
        write_csv_columns(out_dir / "ergen2021_summary.csv", summary),
        write_csv_columns(out_dir / "ergen2021_patterns.csv", growth),
        write_csv_columns(out_dir / "ergen2021_circular.csv", circ),
    ]
