"""`fbinit report`: the condition-number report of a filterbank."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from fbinit.cli._common import escape, load_clip_pairs, output_dir
from fbinit.errors import ParameterError

#: kernel size when --kernel-size is not given (sinc filters need an odd one)
DEFAULT_KERNEL_SIZE = {"sinc": 1025}

_MODULE_HELP = (
    "a frontend module to analyse: an import path 'package.module:factory' (called with "
    "--module-kwargs), or a file holding a whole module saved with torch.save (needs "
    "--trust-pickle)"
)


def _params(args: argparse.Namespace, kind: str, rate: float) -> dict:
    """The BankSpec parameters of a kind from the options (None: not given)."""
    if kind == "module":
        return {
            "module": args.module,
            "module_kwargs": args.module_kwargs,
            "weights": args.weights,
            "trust_pickle": args.trust_pickle or None,
            "sample_rate": args.sample_rate,  # default: the module's own, else the clips'
            "fmin": args.fmin,
            "fmax": args.fmax,
        }
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
        "trust_pickle": args.trust_pickle or None,
    }
    if kind != "torch":  # a saved bank has its own size
        default_size = DEFAULT_KERNEL_SIZE.get(kind, 1024)
        params["n_filters"] = 40 if args.n_filters is None else args.n_filters
        params["kernel_size"] = default_size if args.kernel_size is None else args.kernel_size
    return params


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.report.bank_spec import BankSpec
    from fbinit.report.condition_report import build_report, write_report
    from fbinit.report.html import REPORT_KIND

    output_dir("--out", args.out, REPORT_KIND)
    kind = args.bank or ("module" if args.module is not None else "gaussian")
    if kind == "sinc" and args.kernel_size is not None and args.kernel_size % 2 == 0:
        raise ParameterError(
            f"--kernel-size={args.kernel_size} must be odd with --bank sinc (a symmetric "
            "sinc filter has a centre tap)"
        )
    if args.module is not None and kind != "module":
        raise ParameterError(f"--bank {kind} must not be given with --module")
    if args.module_kwargs is not None and kind != "module":
        raise ParameterError("--module-kwargs must be given with --module")
    if kind == "module":
        for option in ("n_filters", "kernel_size", "stride", "sigma", "key"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise ParameterError(f"{flag} must not be given with --module (it has its own)")
    if args.trust_pickle:
        Console(stderr=True).print(
            "[bold yellow]warning:[/] --trust-pickle: a pickled file is unpickled, which runs "
            "code from it; use it only for files you trust"
        )
    clips = load_clip_pairs(args.audio, args.sample_rate)
    rate = args.sample_rate if args.sample_rate is not None else next(iter(clips.values()))[1]
    spec = BankSpec(kind, _params(args, kind, rate))  # rejects parameters the kind does not take
    with console.status(f"report of {escape(spec.label())}: {args.draws} draws"):
        data = build_report(spec, clips, n_draws=args.draws, seed=args.seed)
        page = write_report(data, args.out)
    for line in data.findings:
        console.print(f"- {line}")
    console.print(f"wrote {page}")
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
    report.add_argument(
        "--bank", choices=BANK_KINDS, default=None, help="default gaussian (module with --module)"
    )
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
    report.add_argument("--module", default=None, metavar="SPEC", help=_MODULE_HELP)
    report.add_argument(
        "--module-kwargs",
        default=None,
        metavar="JSON",
        help="keyword arguments of the --module factory, a JSON object: '{\"n_filters\": 80}'",
    )
    report.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="torch.save file: the Conv1d weights (--bank torch) or a state dict loaded into "
        "--module; read with weights_only=True",
    )
    report.add_argument("--key", default=None, help="which Conv1d weight in --weights")
    report.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow unpickling a whole saved module (runs code from the file)",
    )
    report.add_argument("--draws", "-M", type=int, default=200)
    report.add_argument("--seed", type=int, default=0)
    report.set_defaults(func=run)
