"""How well kappa_tilde and the extreme-value model predict the median condition number.

Runs the Monte Carlo grid n_filters in {5, 8, ..., 256} x kernel_size in {8, 16, ..., 4096}
(n_fft = max(1024, 2 kernel_size), default sigma, stride 1) as a sweep of ``scaling`` cells,
writes the statistics with both predictions to a CSV file, prints a Markdown table of the
relative errors, and draws docs/img/scaling_predictor.png.

    python analysis/scaling_predictor_accuracy.py [--n-draws 200] [--seed 0]
        [--store build/scaling_predictor.sqlite] [--workers N | --dask-local N | --scheduler ADDR]

With ``--store`` the cells are kept as they finish: an interrupted run resumes, and a rerun
only redraws the figure and the table. The cells run on a local process pool by default.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fbinit.analysis.experiments import condition_number_grid  # noqa: E402
from fbinit.analysis.extremes import predict_median_kappa  # noqa: E402
from fbinit.analysis.scaling import kappa_tilde  # noqa: E402
from fbinit.sweep import ResultsStore, SweepRunner, make_executor  # noqa: E402

N_FILTERS = [5, 8, 16, 32, 64, 128, 256]
KERNEL_SIZES = [2**k for k in range(3, 13)]
ROOT = Path(__file__).resolve().parents[1]


def run(n_draws: int, seed: int, runner: SweepRunner | None = None):
    """Monte Carlo statistics, both predictions and the standard error of the MC median."""
    start = time.perf_counter()
    stats = condition_number_grid(
        N_FILTERS,
        KERNEL_SIZES,
        n_fft=None,
        n_draws=n_draws,
        seed=seed,
        quantiles=(0.25, 0.5, 0.75),
        runner=runner,
    )
    wall = time.perf_counter() - start
    t0 = time.perf_counter()
    predicted = predict_median_kappa(stats.n_filters, stats.kernel_size, n_fft=stats.n_fft)
    predictor_s = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf outside its domain, expected
        tilde = kappa_tilde(stats.n_filters, stats.kernel_size)
    iqr = stats.kappa_quantiles[:, 2] - stats.kappa_quantiles[:, 0]
    se_median = 0.93 * iqr / np.sqrt(n_draws)  # normal-shape approximation of the median's SE
    return stats, predicted, tilde, se_median, wall, predictor_s


def write_csv(path: Path, stats, predicted, tilde, se_median) -> None:
    records = stats.to_records()
    for rec, p, t, se in zip(records, predicted, tilde, se_median, strict=True):
        rec["median_kappa_se"] = float(se)
        rec["predicted_median_kappa"] = float(p)
        rec["kappa_tilde"] = float(t)
        rec["rel_error_predicted"] = float(p) / rec["median_kappa"] - 1
        rec["rel_error_kappa_tilde"] = float(t) / rec["median_kappa"] - 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fh.write(",".join(records[0]) + "\n")
        for rec in records:
            fh.write(",".join(repr(v) if isinstance(v, float) else str(v) for v in rec.values()))
            fh.write("\n")


def summary(name: str, err: np.ndarray) -> str:
    finite = np.isfinite(err)
    abs_err = np.abs(err)
    return (
        f"| {name} | {np.median(abs_err):.1%} | {abs_err.max():.1%} | "
        f"{finite.sum()}/{err.size} | "
        f"{np.median(abs_err[finite]):.1%} | {abs_err[finite].max():.1%} |"
    )


def markdown(stats, predicted, tilde, se_median) -> str:
    err_p = predicted / stats.median_kappa - 1
    err_t = tilde / stats.median_kappa - 1
    lines = [
        "| predictor | median abs. rel. error | max | finite cells | median (finite) |"
        " max (finite) |",
        "|---|---|---|---|---|---|",
        summary("kappa_tilde", err_t),
        summary("predict_median_kappa", err_p),
        "",
        "Relative error of predict_median_kappa (%), rows n_filters, columns kernel_size; "
        "in brackets the Monte Carlo standard error of the median (%):",
        "",
        "| J \\ T | " + " | ".join(map(str, KERNEL_SIZES)) + " |",
        "|---" * (len(KERNEL_SIZES) + 1) + "|",
    ]
    err_grid = err_p.reshape(len(N_FILTERS), -1)
    se_grid = (se_median / stats.median_kappa).reshape(len(N_FILTERS), -1)
    for j, row, se_row in zip(N_FILTERS, err_grid, se_grid, strict=True):
        cells = [f"{100 * e:+.1f} ({100 * s:.1f})" for e, s in zip(row, se_row, strict=True)]
        lines.append(f"| {j} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(path: Path, stats, predicted, tilde, se_median) -> None:
    median = stats.as_grid("median_kappa")
    pred = predicted.reshape(median.shape)
    tl = tilde.reshape(median.shape)
    se = (se_median).reshape(median.shape)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(N_FILTERS)))
    for i, (j, c) in enumerate(zip(N_FILTERS, colors, strict=True)):
        ax0.errorbar(
            KERNEL_SIZES, median[i], yerr=2 * se[i], fmt="o", ms=3, color=c, lw=1, label=f"J = {j}"
        )
        ax0.plot(KERNEL_SIZES, pred[i], "-", color=c, lw=1.2)
        ok = np.isfinite(tl[i])
        ax0.plot(np.array(KERNEL_SIZES)[ok], tl[i][ok], ":", color=c, lw=1.2)
        ax1.plot(KERNEL_SIZES, 100 * (pred[i] / median[i] - 1), "o-", color=c, ms=3, lw=1)
        ax1.fill_between(
            KERNEL_SIZES,
            -200 * se[i] / median[i],
            200 * se[i] / median[i],
            color=c,
            alpha=0.08,
            lw=0,
        )
    for ax in (ax0, ax1):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("kernel_size T")
    ax0.set_yscale("log")
    ax0.set_ylabel("median condition number")
    ax0.set_title("dots: Monte Carlo (±2 SE), solid: model,\ndotted: kappa_tilde", fontsize=9)
    ax0.legend(fontsize=7, ncol=2)
    ax1.axhline(0, color="k", lw=0.6)
    ax1.set_ylabel("model error vs Monte Carlo median (%)")
    ax1.set_title(
        "relative error of predict_median_kappa\n(shaded: ±2 MC standard errors)", fontsize=9
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--csv", type=Path, default=ROOT / "docs/data/scaling_predictor_accuracy.csv"
    )
    parser.add_argument("--figure", type=Path, default=ROOT / "docs/img/scaling_predictor.png")
    parser.add_argument("--store", type=Path, default=None, help="results store (resumable)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="local processes (1: serial)")
    where.add_argument("--dask-local", type=int, default=None, help="local Dask workers")
    where.add_argument("--scheduler", default=None, help="Dask scheduler, tcp://HOST:PORT")
    args = parser.parse_args()
    executor = make_executor(args.workers, scheduler=args.scheduler, dask_local=args.dask_local)
    store = None if args.store is None else ResultsStore(args.store)
    try:
        runner = SweepRunner(executor, store)
        stats, predicted, tilde, se_median, wall, predictor_s = run(args.n_draws, args.seed, runner)
    finally:
        if store is not None:
            store.close()
    write_csv(args.csv, stats, predicted, tilde, se_median)
    figure(args.figure, stats, predicted, tilde, se_median)
    print(markdown(stats, predicted, tilde, se_median))
    print(
        f"\nMonte Carlo: {len(stats)} cells x {args.n_draws} draws in {wall:.0f} s on "
        f"{executor.description}; "
        f"predictor: {1000 * predictor_s:.0f} ms for the {len(stats)} cells"
    )
    print(f"wrote {args.csv} and {args.figure}")


if __name__ == "__main__":
    main()
