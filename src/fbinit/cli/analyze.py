"""`fbinit analyze`: frame bounds of random banks and their energy responses on clips."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from fbinit._io import atomic_write_text
from fbinit.cli._common import escape, load_clips, output_file, progress
from fbinit.errors import ParameterError


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.summary import summarize_random_banks

    json_path = output_file("--json", args.json)
    clips = load_clips(args.audio)
    if args.mode == "circular":
        for name, x in clips.items():
            if x.shape[-1] < args.kernel_size:
                raise ParameterError(
                    f"--kernel-size={args.kernel_size} must be <= the length of clip "
                    f"{name!r} ({x.shape[-1]} samples) with --mode circular; use --mode full "
                    "for filters longer than a clip"
                )
    with progress(console, "random banks") as bar:
        task = bar.add_task("draws", total=None)
        summary = summarize_random_banks(
            args.n_filters,
            args.kernel_size,
            n_draws=args.draws,
            stride=args.stride,
            n_fft=args.n_fft,
            mode=args.mode,
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
    energy = Table(
        title=f"Energy response ‖Φx‖² / ‖x‖² on each clip ({cfg['mode']} convolution, "
        f"stride {cfg['stride']})"
    )
    for col in ("clip", "mean", "sd", "5%", "95%"):
        energy.add_column(col, justify="right" if col != "clip" else "left")
    for name, st in summary.clips.items():
        energy.add_row(escape(name), *(f"{st[k]:.4f}" for k in ("mean", "sd", "q05", "q95")))
    console.print(energy)
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(summary.to_dict(), indent=2))
        console.print(f"wrote {escape(str(json_path))}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    analyze = sub.add_parser(
        "analyze", help="frame bounds of random banks and their energy responses on clips"
    )
    analyze.add_argument("audio", nargs="*", help="audio files (default: bundled examples)")
    analyze.add_argument("--n-filters", "-J", type=int, default=40)
    analyze.add_argument("--kernel-size", "-T", type=int, default=1024)
    analyze.add_argument(
        "--stride", type=int, default=1, help="stride of the banks (frame bounds and energies)"
    )
    analyze.add_argument(
        "--n-fft",
        type=int,
        default=None,
        help="signal length of the bounds (default max(1024, 2T), rounded up to a multiple "
        "of the stride)",
    )
    analyze.add_argument(
        "--mode",
        choices=("circular", "full"),
        default="circular",
        help="convolution of the energy responses (full: linear, for clips shorter than T)",
    )
    analyze.add_argument("--draws", "-M", type=int, default=200)
    analyze.add_argument("--seed", type=int, default=0)
    analyze.add_argument("--json", default=None, help="also write the numbers here")
    analyze.set_defaults(func=run)
