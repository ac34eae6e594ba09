"""The ``fbinit`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
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
        task = bar.add_task("draws", total=None)
        summary = summarize_random_banks(
            args.n_filters,
            args.kernel_size,
            n_draws=args.draws,
            stride=args.stride,
            n_fft=args.n_fft,
            seed=args.seed,
            signals=clips,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
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


def _load_clip_pairs(paths: Sequence[str], sample_rate: int | None) -> dict:
    from fbinit import signals

    if not paths:
        return {
            name: signals.example(name, sample_rate=sample_rate) for name in signals.list_examples()
        }
    return {Path(p).stem: signals.load(p, sample_rate=sample_rate) for p in paths}


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.bank_spec import BankSpec
    from fbinit.report.condition_report import build_report, write_report

    clips = _load_clip_pairs(args.audio, args.sample_rate)
    rate = args.sample_rate if args.sample_rate is not None else next(iter(clips.values()))[1]
    params = {
        "n_filters": args.n_filters,
        "kernel_size": args.kernel_size,
        "stride": args.stride,
        "sigma": args.sigma,
        "sample_rate": rate,
        "fmin": args.fmin,
        "fmax": args.fmax,
        "weights": args.weights,
        "key": args.key,
    }
    if args.bank != "torch":  # a saved bank has its own size
        params["n_filters"] = 40 if args.n_filters is None else args.n_filters
        params["kernel_size"] = 1024 if args.kernel_size is None else args.kernel_size
    spec = BankSpec(args.bank, params)  # rejects parameters that the bank does not take
    with console.status(f"report of {spec.label()}: {args.draws} draws"):
        data = build_report(spec, clips, n_draws=args.draws, seed=args.seed)
        page = write_report(data, args.out)
    for line in data.findings:
        console.print(f"- {line}")
    console.print(f"wrote {page}")
    return 0


def _cmd_figures(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.figures import write_figures

    with _progress(console, "{task.description}") as bar:
        task = bar.add_task("paper figures", total=7)
        paths = write_figures(
            args.out,
            clips=[str(p) for p in args.audio] or None,
            n_draws=args.draws,
            seed=args.seed,
            progress=lambda stage, done, total: bar.update(
                task, completed=done, total=total, description=stage
            ),
        )
    for path in paths:
        console.print(f"wrote {path}")
    return 0


def _cmd_scaling(args: argparse.Namespace, console: Console) -> int:
    from fbinit.analysis import condition_number_stats, kappa_tilde, predict_median_kappa

    with _progress(console, "condition numbers") as bar:
        task = bar.add_task("draws", total=None)
        stats = condition_number_stats(
            args.n_filters,
            args.kernel_size,
            n_fft=args.n_fft,
            n_draws=args.draws,
            stride=args.stride,
            seed=args.seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
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
    if args.csv:
        console.print(f"wrote {stats.to_csv(args.csv)}")
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

    from fbinit.report.bank_spec import BANK_KINDS

    report = sub.add_parser(
        "report", help="condition-number report of a filterbank: HTML page and Markdown twin"
    )
    report.add_argument("audio", nargs="*", help="audio files (default: bundled examples)")
    report.add_argument("--out", type=Path, required=True, help="folder of the report")
    report.add_argument("--bank", choices=BANK_KINDS, default="gaussian")
    report.add_argument("--n-filters", "-J", type=int, default=None, help="default 40")
    report.add_argument("--kernel-size", "-T", type=int, default=None, help="default 1024")
    report.add_argument("--stride", type=int, default=None, help="default 1 (torch: its own)")
    report.add_argument("--sigma", type=float, default=None, help="gaussian tap std")
    report.add_argument(
        "--sample-rate", type=int, default=None, help="Hz; clips are resampled to it"
    )
    report.add_argument("--fmin", type=float, default=None, help="band low edge (Hz)")
    report.add_argument("--fmax", type=float, default=None, help="band high edge (Hz)")
    report.add_argument("--weights", type=Path, default=None, help="torch.save file (torch)")
    report.add_argument("--key", default=None, help="which Conv1d weight in --weights")
    report.add_argument("--draws", "-M", type=int, default=200)
    report.add_argument("--seed", type=int, default=0)
    report.set_defaults(func=_cmd_report)

    figures = sub.add_parser(
        "figures", help="the seven figures of Haider et al. (2024) as PNG, PDF and CSV"
    )
    figures.add_argument(
        "audio",
        nargs="*",
        type=Path,
        help="clips for Figs. 1, 2 and 4 (default: synthetic snare and flute, bundled speech)",
    )
    figures.add_argument("--out", type=Path, required=True, help="output folder")
    figures.add_argument("--draws", "-M", type=int, default=1000, help="random banks per (J, T)")
    figures.add_argument("--seed", type=int, default=0)
    figures.set_defaults(func=_cmd_figures)

    scaling = sub.add_parser(
        "scaling", help="Monte Carlo condition numbers of random banks over a (J, T) grid"
    )
    scaling.add_argument("--n-filters", "-J", type=int, nargs="+", default=[5, 10, 40])
    scaling.add_argument(
        "--kernel-size", "-T", type=int, nargs="+", default=[8, 16, 32, 64, 128, 256, 512, 1024]
    )
    scaling.add_argument("--n-fft", type=int, default=None, help="default max(1024, 2T)")
    scaling.add_argument("--stride", type=int, default=1)
    scaling.add_argument("--draws", "-M", type=int, default=200)
    scaling.add_argument("--seed", type=int, default=0)
    scaling.add_argument("--csv", type=Path, default=None, help="also write the table here")
    scaling.set_defaults(func=_cmd_scaling)

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
