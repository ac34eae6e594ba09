"""The ``fbinit`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fbinit._io import atomic_write_text
from fbinit.errors import FbinitError

__all__ = ["main"]


def _progress(console: Console, label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _load_clips(paths: Sequence[str]) -> dict:
    from fbinit import signals

    if not paths:
        return {name: signals.example(name)[0] for name in signals.list_examples()}
    return {Path(p).stem: signals.load(p)[0] for p in paths}


def _cmd_analyze(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.summary import summarize_random_banks

    clips = _load_clips(args.audio)
    with _progress(console, "random banks") as bar:
        task = bar.add_task("draws", total=args.draws)
        summary = summarize_random_banks(
            args.n_filters,
            args.kernel_size,
            n_draws=args.draws,
            stride=args.stride,
            n_fft=args.n_fft,
            seed=args.seed,
            signals=clips,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    cfg, fr = summary.config, summary.frames
    frames = Table(
        title=f"Frame bounds of {cfg['n_draws']} Gaussian banks: J={cfg['n_filters']}, "
        f"T={cfg['kernel_size']}, stride={cfg['stride']}, N={cfg['n_fft']}"
    )
    for col in ("mean A", "mean B", "median κ", "mean κ", "κ 5%", "κ 95%", "mean B / mean A"):
        frames.add_column(col, justify="right")
    frames.add_row(
        *(
            f"{fr[k]:.4g}"
            for k in (
                "mean_A",
                "mean_B",
                "median_kappa",
                "mean_kappa",
                "kappa_q05",
                "kappa_q95",
                "ratio_of_means",
            )
        )
    )
    console.print(frames)
    energy = Table(title="Energy response ‖Φx‖² / ‖x‖² on each clip (circular convolution)")
    for col in ("clip", "mean", "sd", "5%", "95%"):
        energy.add_column(col, justify="right" if col != "clip" else "left")
    for name, st in summary.clips.items():
        energy.add_row(name, *(f"{st[k]:.4f}" for k in ("mean", "sd", "q05", "q95")))
    console.print(energy)
    if args.json:
        atomic_write_text(args.json, json.dumps(summary.to_dict(), indent=2))
        console.print(f"wrote {args.json}")
    return 0


def _cmd_theory(args: argparse.Namespace, console: Console) -> int:
    from fbinit import theory

    with console.status(f"running {args.name} ({'quick' if args.quick else 'full'})"):
        paths = theory.run(args.name, args.out, quick=args.quick, seed=args.seed)
    for path in paths:
        console.print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fbinit`` command."""
    parser = argparse.ArgumentParser(
        prog="fbinit", description="Conditioning of convolutional audio frontends."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    analyze = sub.add_parser(
        "analyze", help="frame bounds of random banks and their energy responses on clips"
    )
    analyze.add_argument("audio", nargs="*", help="audio files (default: bundled examples)")
    analyze.add_argument("--n-filters", "-J", type=int, default=40)
    analyze.add_argument("--kernel-size", "-T", type=int, default=1024)
    analyze.add_argument("--stride", type=int, default=1)
    analyze.add_argument("--n-fft", type=int, default=None, help="signal length of the bounds")
    analyze.add_argument("--draws", "-M", type=int, default=200)
    analyze.add_argument("--seed", type=int, default=0)
    analyze.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    analyze.set_defaults(func=_cmd_analyze)

    from fbinit.theory import EXPERIMENTS

    theory = sub.add_parser("theory", help="run a reproduced theory paper's experiments")
    theory.add_argument("name", choices=sorted(EXPERIMENTS))
    theory.add_argument("--quick", action="store_true", help="small configuration (< 1 min)")
    theory.add_argument("--out", type=Path, required=True)
    theory.add_argument("--seed", type=int, default=0)
    theory.set_defaults(func=_cmd_theory)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fbinit`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    console = Console()
    err = Console(stderr=True)
    try:
        return args.func(args, console)
    except (FbinitError, TypeError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
