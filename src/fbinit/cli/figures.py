"""`fbinit figures`: the seven figures of Haider et al. (2024)."""

from __future__ import annotations

import argparse

from rich.console import Console

from fbinit.cli._common import escape, output_dir, progress


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.figures import FIGURES_KIND, write_figures

    output_dir("--out", args.out, FIGURES_KIND)
    with progress(console, "{task.description}") as bar:
        task = bar.add_task("paper figures", total=7)
        paths = write_figures(
            args.out,
            clips=list(args.audio) or None,
            n_draws=args.draws,
            seed=args.seed,
            progress=lambda stage, done, total: bar.update(
                task, completed=done, total=total, description=stage
            ),
        )
    for path in paths:
        console.print(f"wrote {escape(str(path))}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    figures = sub.add_parser(
        "figures", help="the seven figures of Haider et al. (2024) as PNG, PDF and CSV"
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
    figures.set_defaults(func=run)
