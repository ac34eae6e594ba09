"""`fbinit report`: the condition-number report of a filterbank."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from fbinit.cli._common import escape, load_clip_pairs, output_dir
from fbinit.errors import ParameterError

#: kernel size when --kernel-size is not given (sinc filters need an odd one)
DEFAULT_KERNEL_SIZE = {"sinc": 1025}


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.bank_spec import BankSpec
    from fbinit.report.condition_report import build_report, write_report
    from fbinit.report.html import REPORT_KIND

    output_dir("--out", args.out, REPORT_KIND)
    if args.bank == "sinc" and args.kernel_size is not None and args.kernel_size % 2 == 0:
        raise ParameterError(
            f"--kernel-size={args.kernel_size} must be odd with --bank sinc (a symmetric "
            "sinc filter has a centre tap)"
        )
    clips = load_clip_pairs(args.audio, args.sample_rate)
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
        default_size = DEFAULT_KERNEL_SIZE.get(args.bank, 1024)
        params["n_filters"] = 40 if args.n_filters is None else args.n_filters
        params["kernel_size"] = default_size if args.kernel_size is None else args.kernel_size
    spec = BankSpec(args.bank, params)  # rejects parameters that the bank does not take
    with console.status(f"report of {escape(spec.label())}: {args.draws} draws"):
        data = build_report(spec, clips, n_draws=args.draws, seed=args.seed)
        page = write_report(data, args.out)
    for line in data.findings:
        console.print(f"- {escape(line)}")
    console.print(f"wrote {escape(str(page))}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    from fbinit.report.bank_spec import BANK_KINDS

    report = sub.add_parser(
        "report", help="condition-number report of a filterbank: HTML page and Markdown twin"
    )
    report.add_argument("audio", nargs="*", help="audio files (default: bundled examples)")
    report.add_argument(
        "--out",
        required=True,
        help="folder of the report: new, empty or holding a previous report (replaced whole)",
    )
    report.add_argument("--bank", choices=BANK_KINDS, default="gaussian")
    report.add_argument("--n-filters", "-J", type=int, default=None, help="default 40")
    report.add_argument(
        "--kernel-size", "-T", type=int, default=None, help="default 1024 (sinc: 1025, odd)"
    )
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
    report.set_defaults(func=run)
