"""The ``fbinit`` command line: one module per command, each with ``add_parser`` and ``run``.

A command module registers its sub-parser in :data:`COMMANDS` order; ``run(args, console)``
returns the exit status. Errors of the fbinit family (and wrong types) print one line and
exit with status 2; an interrupt (Ctrl-C, SIGINT) prints one line and exits with status
130, keeping what was finished (results already written, sweep rows already committed).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from fbinit.errors import FbinitError

__all__ = ["COMMANDS", "build_parser", "main"]

#: command modules of fbinit.cli, in the order ``fbinit --help`` lists them
COMMANDS = (
    "analyze",
    "report",
    "figures",
    "scaling",
    "theory",
    "frontends",
    "sweep",
    "results",
    "bench",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fbinit`` command."""
    parser = argparse.ArgumentParser(
        prog="fbinit", description="Conditioning of convolutional audio frontends."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"fbinit.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fbinit`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    console = Console()
    err = Console(stderr=True)
    try:
        return args.func(args, console)
    except (FbinitError, TypeError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)  # one line
        return 2
    except KeyboardInterrupt:
        err.print("interrupted: what was finished is kept", highlight=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
