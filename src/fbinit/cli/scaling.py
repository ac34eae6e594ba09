"""`fbinit scaling`: condition numbers of random banks over a (J, T) grid, run as a sweep.

Each (J, T) cell is a task of the ``scaling`` experiment: cells run on the chosen executor
(``--workers``, ``--scheduler``, ``--dask-local``) and, with ``--store``, are stored as
they finish, so an interrupted grid resumes where it stopped.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fbinit.cli._common import output_file
from fbinit.cli.sweep import ProgressDisplay, add_executor_arguments, executor_from_args


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.analysis import kappa_tilde, predict_median_kappa
    from fbinit.analysis.experiments import condition_number_grid
    from fbinit.sweep import ResultsStore, SweepRunner

    csv_path = output_file("--csv", args.csv)
    executor = executor_from_args(args)
    store = None if args.store is None else ResultsStore(args.store)
    try:
        with ProgressDisplay(console, "condition numbers", every=args.progress_every) as show:
            runner = SweepRunner(executor, store, args.retry_failed, show)
            stats = condition_number_grid(
                args.n_filters,
                args.kernel_size,
                n_fft=args.n_fft,
                n_draws=args.draws,
                stride=args.stride,
                seed=args.seed,
                runner=runner,
            )
    finally:
        if store is not None:
            store.close()
    table = Table(title=f"Condition number of Gaussian banks ({args.draws} draws per cell)")
    for col in ("J", "T", "N", "median κ", "mean κ", "mean B / mean A", "κ̃(J, T)", "model"):
        table.add_column(col, justify="right")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # kappa_tilde is inf off its domain
        heuristic = kappa_tilde(stats.n_filters, stats.kernel_size)
    model = (
        predict_median_kappa(stats.n_filters, stats.kernel_size, n_fft=stats.n_fft)
        if args.stride == 1
        else [float("nan")] * len(stats)
    )
    for i in range(len(stats)):
        table.add_row(
            *(str(int(v[i])) for v in (stats.n_filters, stats.kernel_size, stats.n_fft)),
            *(
                f"{float(v[i]):.4g}"
                for v in (stats.median_kappa, stats.mean_kappa, stats.ratio_of_means)
            ),
            f"{float(heuristic[i]):.4g}",
            f"{float(model[i]):.4g}",
        )
    console.print(table)
    if csv_path is not None:
        console.print(f"wrote {stats.to_csv(csv_path)}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    scaling = sub.add_parser(
        "scaling", help="Monte Carlo condition numbers of random banks over a (J, T) grid"
    )
    scaling.add_argument("--n-filters", "-J", type=int, nargs="+", default=[5, 10, 40])
    scaling.add_argument(
        "--kernel-size", "-T", type=int, nargs="+", default=[8, 16, 32, 64, 128, 256, 512, 1024]
    )
    scaling.add_argument(
        "--n-fft",
        type=int,
        default=None,
        help="default max(1024, 2T), rounded up to a multiple of the stride",
    )
    scaling.add_argument("--stride", type=int, default=1)
    scaling.add_argument("--draws", "-M", type=int, default=200)
    scaling.add_argument("--seed", type=int, default=0)
    scaling.add_argument("--csv", default=None, help="also write the table here")
    scaling.add_argument(
        "--store", type=Path, default=None, help="results store: keep the cells, resume a grid"
    )
    add_executor_arguments(scaling)
    scaling.set_defaults(func=run)
