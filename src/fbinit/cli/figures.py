"""`fbinit figures`: the seven figures of Haider et al. (2024).

By default the Monte Carlo runs batched in this process. With ``--store`` (or an executor
option: ``--workers``, ``--scheduler``, ``--dask-local``) each of its cells is a sweep task
(experiments ``energy`` and ``scaling``): cells run on that executor and are stored as they
finish, so a long run (e.g. ``--draws 100000``) resumes where it stopped.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from fbinit.cli._common import escape, output_dir, progress
from fbinit.cli.sweep import ProgressDisplay, add_executor_arguments, executor_from_args


def _write(args: argparse.Namespace, console: Console, runner) -> list:
    from fbinit.report.figures import write_figures

    with progress(console, "{task.description}") as bar:
        task = bar.add_task("paper figures", total=7)
        return write_figures(
            args.out,
            clips=list(args.audio) or None,
            n_draws=args.draws,
            seed=args.seed,
            runner=runner,
            progress=lambda stage, done, total: bar.update(
                task, completed=done, total=total, description=stage
            ),
        )


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.figures import FIGURES_KIND
    from fbinit.sweep import ResultsStore, SweepRunner

    output_dir("--out", args.out, FIGURES_KIND)
    as_sweep = args.store is not None or any(
        v is not None for v in (args.workers, args.scheduler, args.dask_local)
    )
    if not as_sweep:
        paths = _write(args, console, None)
    else:
        store = None if args.store is None else ResultsStore(args.store)
        try:
            executor = executor_from_args(args)
            with ProgressDisplay(console, "Monte Carlo cells", every=args.progress_every) as show:
                paths = _write(args, console, SweepRunner(executor, store, args.retry_failed, show))
        finally:
            if store is not None:
                store.close()
    for path in paths:
        console.print(f"wrote {escape(str(path))}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    figures = sub.add_parser(
        "figures",
        help="the seven figures of Haider et al. (2024) as PNG, PDF and CSV",
        description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    figures.add_argument(
        "audio",
        nargs="*",
        help="clips for Figs. 1, 2 and 4 (default: synthetic snare and flute, bundled speech)",
    )
    figures.add_argument(
        "--out",
        required=True,
        help="output folder: new, empty or holding figures written before (replaced whole)",
    )
    figures.add_argument("--draws", "-M", type=int, default=1000, help="random banks per (J, T)")
    figures.add_argument("--seed", type=int, default=0)
    figures.add_argument(
        "--store", default=None, help="results store: keep the Monte Carlo cells, resume a run"
    )
    add_executor_arguments(figures)
    figures.set_defaults(func=run)
