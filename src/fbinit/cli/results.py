"""`fbinit results STORE`: list, filter and export the rows of a results store."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fbinit.cli._common import output_file
from fbinit.cli.sweep import say
from fbinit.errors import ParameterError

#: scalar results shown per row in the listing
MAX_RESULTS_SHOWN = 4


def parse_where(items: list[str]) -> dict[str, list[Any]]:
    """``KEY=VALUE`` filters: VALUE read as JSON (numbers, true, "text") else as text.

    A key given several times matches any of its values.

    Examples
    --------
    >>> parse_where(["n_filters=5", "n_filters=10", "signal=impulse"])
    {'n_filters': [5, 10], 'signal': ['impulse']}
    """
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise ParameterError(f"--where {item!r} must be KEY=VALUE with a parameter name")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if isinstance(value, (list, dict)):
            raise ParameterError(f"--where {item!r} must compare with a single value")
        out.setdefault(key, []).append(value)
    return out


def _cell(value: Any, width: int = 24) -> str:
    if isinstance(value, list):
        return f"[{len(value)} values]" if len(value) > 4 else json.dumps(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _pairs(mapping: dict[str, Any] | None, limit: int | None = None, skip=()) -> str:
    """``k=v, ...``; with a limit, the first scalar entries whose keys are not in ``skip``."""
    items = list((mapping or {}).items())
    if limit is not None:
        items = [(k, v) for k, v in items if k not in skip and not isinstance(v, (list, dict))][
            :limit
        ]
    return ", ".join(f"{k}={_cell(v)}" for k, v in items)


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.sweep import ResultsStore, export_csv, export_parquet

    where = parse_where(args.where)
    targets = {
        "--csv": output_file("--csv", args.csv),
        "--parquet": output_file("--parquet", args.parquet),
    }
    with ResultsStore(args.store, readonly=True) as store:
        rows = store.rows(experiment=args.experiment, status=args.status, where=where)
    counts = Counter(r.status for r in rows)
    experiments = Counter(r.experiment for r in rows)
    say(
        console,
        f"{args.store}: {len(rows)} rows ({counts['done']} done, {counts['failed']} failed); "
        + (", ".join(f"{e}: {n}" for e, n in sorted(experiments.items())) or "no experiment"),
    )
    for path, write in ((targets["--csv"], export_csv), (targets["--parquet"], export_parquet)):
        if path is not None:
            say(console, f"wrote {write(rows, path)} ({len(rows)} rows)")
    if args.csv is not None or args.parquet is not None or not rows:
        return 0
    shown = rows if args.limit == 0 else rows[: args.limit]
    table = Table(show_lines=False)
    for col in ("experiment", "config", "seed", "status", "parameters", "results / error", "s"):
        table.add_column(col, overflow="fold")
    for row in shown:
        outcome = (
            _pairs(row.result, MAX_RESULTS_SHOWN, skip=row.params)
            if row.status == "done"
            else f"{row.error_type}: {row.error_message}"
        )
        if row.warnings:
            outcome += f" [{len(row.warnings)} warnings: {row.warnings[0]}]"
        table.add_row(
            row.experiment,
            row.config_hash[:8],
            str(row.seed),
            row.status,
            escape(_pairs(row.params)),
            escape(outcome),
            f"{row.wall_s:.2f}",
        )
    console.print(table)
    if len(shown) < len(rows):
        say(console, f"showing {len(shown)} of {len(rows)} rows (--limit 0 shows all)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    results = sub.add_parser(
        "results", help="list, filter and export the rows of a results store (CSV, Parquet)"
    )
    results.add_argument("store", type=Path, help="results store (SQLite file)")
    results.add_argument("--experiment", default=None, help="only this experiment")
    results.add_argument("--status", choices=("done", "failed"), default=None)
    results.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only rows whose parameter KEY equals VALUE (repeat; one key repeated: any value)",
    )
    results.add_argument("--csv", default=None, help="export the rows as CSV")
    results.add_argument(
        "--parquet", default=None, help="export the rows as Parquet (needs pyarrow)"
    )
    results.add_argument("--limit", type=int, default=50, help="rows listed (0: all)")
    results.set_defaults(func=run)
