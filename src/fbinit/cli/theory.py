"""`fbinit theory`: the reproduced theory papers' experiments."""

from __future__ import annotations

import argparse

from rich.console import Console

from fbinit.cli._common import output_dir


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit import theory

    output_dir("--out", args.out, None)
    with console.status(f"running {args.name} ({'quick' if args.quick else 'full'})"):
        paths = theory.run(args.name, args.out, quick=args.quick, seed=args.seed)
    for path in paths:
        console.print(f"wrote {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    from fbinit.theory import EXPERIMENTS

    theory = sub.add_parser("theory", help="run a reproduced theory paper's experiments")
    theory.add_argument("name", choices=sorted(EXPERIMENTS))
    theory.add_argument("--quick", action="store_true", help="small configuration (< 1 min)")
    theory.add_argument("--out", required=True, help="folder the files are written into")
    theory.add_argument("--seed", type=int, default=0)
    theory.set_defaults(func=run)
