"""`fbinit bench --quick --out DIR`: the frontend benchmark, resumable, and its page.

Each record (task x frontend x seed) is a sweep task stored in ``DIR.sqlite`` (or
``--store``) as it finishes: running the same command again after a crash or an
interrupt runs only the records not stored yet, then writes the page from all of them.
The executor options are those of ``fbinit sweep`` (local processes or a Dask cluster).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from fbinit.cli.sweep import (
    ProgressDisplay,
    _failure_lines,
    add_executor_arguments,
    executor_from_args,
    say,
)

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.bench.run import default_store, plan, run_bench
    from fbinit.errors import ParameterError
    from fbinit.sweep.progress import format_duration

    mode = "quick" if args.quick else "full" if args.full else args.mode
    tasks = None if args.tasks is None else [t.strip() for t in args.tasks.split(",") if t]
    if tasks == []:
        raise ParameterError(f"--tasks={args.tasks!r} must name at least one task")
    planned = plan(mode, tasks)  # checks mode and tasks before any work
    executor = executor_from_args(args)
    store = args.store if args.store is not None else default_store(args.out)
    n = sum(len(ts) for ts in planned.values())
    counts = ", ".join(f"{name} {len(ts)}" for name, ts in planned.items())
    where = (
        "running nothing (--report-only)"
        if args.report_only
        else f"training tasks on {executor.description}, throughput timed alone"
    )
    say(console, f"bench ({mode}): {n} records ({counts}); store {store}; {where}")
    displays: dict[str, ProgressDisplay] = {}

    def progress(phase, state):
        if phase not in displays:
            for d in displays.values():
                d.__exit__(None, None, None)
            displays[phase] = ProgressDisplay(console, phase, every=args.progress_every).__enter__()
        displays[phase](state)

    try:
        summary = run_bench(
            args.out,
            mode=mode,
            tasks=tasks,
            store=store,
            executor=executor,
            retry_failed=args.retry_failed,
            progress=progress,
            report_only=args.report_only,
        )
    finally:
        for d in displays.values():
            d.__exit__(None, None, None)
    say(
        console,
        f"ran {summary.done + summary.failed} records in {format_duration(summary.wall_s)}: "
        f"{summary.done} done, {summary.failed} failed; {summary.skipped} were stored before",
    )
    for line in _failure_lines(summary.failures):
        say(console, line)
    if summary.page is None:
        say(console, "no records stored yet: no page written")
    else:
        say(console, f"wrote {summary.page} (and {Path(summary.page).with_suffix('.md').name})")
    if summary.failures:
        say(console, f"see `fbinit results {store} --status failed`; --retry-failed reruns them")
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    bench = sub.add_parser(
        "bench",
        help="benchmark the frontends: distillation, conditioning, classification, speed",
        description="Run the frontend benchmark's records not stored yet and write its page"
        " (bench.html, bench.md). Exit status: 0 done, 1 some records failed (stored), 2 bad"
        " input, 130 interrupted (finished records are kept).",
    )
    bench.add_argument("--out", type=Path, required=True, help="folder of the benchmark page")
    which = bench.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="every task in under 5 minutes")
    which.add_argument("--full", action="store_true", help="seeds, sizes, epochs of the papers")
    which.add_argument(
        "--mode", choices=("tiny", "quick", "full"), default="quick", help="default: quick"
    )
    bench.add_argument(
        "--tasks",
        default=None,
        help="comma-separated subset of distill,conditioning,classify,throughput",
    )
    bench.add_argument(
        "--store", type=Path, default=None, help="results store (default: OUT.sqlite)"
    )
    bench.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the page from the records stored so far",
    )
    add_executor_arguments(bench)
    bench.set_defaults(func=run)
