"""`fbinit sweep CONFIG.toml`: run a grid of experiment tasks into a results store.

Tasks the store holds are skipped, so running the same command again after a crash or an
interrupt resumes the sweep. The executor options (``--workers``, ``--scheduler``,
``--dask-local``) and the progress display are shared with the other commands that run
their grids as sweeps (``fbinit scaling``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fbinit.sweep.progress import SweepProgress, format_duration

__all__ = ["ProgressDisplay", "add_executor_arguments", "executor_from_args", "say"]

#: failures listed by name at the end of a sweep
MAX_FAILURES_SHOWN = 10


def say(console: Console, text: str) -> None:
    """Print plain text as one line (no markup, no highlighting, no wrapping)."""
    console.print(escape(text), highlight=False, soft_wrap=True)


class ProgressDisplay:
    """Shows a sweep's progress: a bar with the time left on a terminal, plain lines else.

    Parameters
    ----------
    console : rich.console.Console
    label : str
    every : float
        Seconds between plain lines when the output is not a terminal (a log file, a
        pipe, a batch job); the last state is always printed.
    """

    def __init__(self, console: Console, label: str, *, every: float = 10.0) -> None:
        self.console = console
        self.label = label
        self.every = every
        self._bar: Progress | None = None
        self._task: Any = None
        self._last = -float("inf")

    def __enter__(self) -> ProgressDisplay:
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn(escape(self.label)),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} tasks, {task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("left ~{task.fields[eta]}"),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=None, failed=0, eta="?")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, state: SweepProgress) -> None:
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=state.completed,
                total=state.total,
                failed=state.failed,
                eta=format_duration(state.eta()),
            )
            return
        now = time.monotonic()
        last = state.completed == state.total
        if last or now - self._last >= self.every:
            self._last = now
            say(self.console, f"{self.label}: {state.line()}")


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """The options choosing where tasks run, and the store options."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: one per core; 1 runs in this process)",
    )
    where.add_argument(
        "--scheduler", default=None, help="run on the Dask cluster at this address, tcp://HOST:PORT"
    )
    where.add_argument(
        "--dask-local",
        type=int,
        default=None,
        metavar="N",
        help="run on a local Dask cluster of N workers (loopback only)",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="run the tasks stored as failed again"
    )
    parser.add_argument(
        "--progress-every",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="interval of the progress lines when output is not a terminal",
    )


def executor_from_args(args: argparse.Namespace) -> Any:
    from fbinit.sweep import make_executor

    return make_executor(args.workers, scheduler=args.scheduler, dask_local=args.dask_local)


def _failure_lines(failures: list) -> list[str]:
    lines = []
    for res in failures[:MAX_FAILURES_SHOWN]:
        params = ", ".join(f"{k}={_short(v)}" for k, v in res.task.params.items())
        lines.append(f"  {res.task.label} ({params}): {res.error_type}: {res.error_message}")
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"  ... and {len(failures) - MAX_FAILURES_SHOWN} more")
    return lines


def _short(value: Any, width: int = 40) -> str:
    if isinstance(value, list) and len(value) > 8:
        return f"[{len(value)} values]"
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.sweep import ResultsStore, load_config, run_sweep

    config = load_config(args.config)
    store_path = args.store if args.store is not None else config.store
    executor = executor_from_args(args)
    with ResultsStore(store_path) as store:
        stored = store.statuses(config.tasks)
        n_done = sum(s == "done" for s in stored.values())
        n_failed = len(stored) - n_done
        say(
            console,
            f"sweep {args.config}: experiment {config.experiment!r}, {len(config.tasks)} tasks;"
            f" store {store_path} holds {n_done} done and {n_failed} failed; running on "
            f"{executor.description}",
        )
        if args.dry_run:
            for task in config.tasks:
                state = stored.get(task.key, "to run")
                params = ", ".join(f"{k}={_short(v)}" for k, v in task.params.items())
                say(console, f"  {task.label} [{state}] {params}")
            return 0
        with ProgressDisplay(console, "sweep", every=args.progress_every) as display:
            summary = run_sweep(
                config.tasks,
                store=store,
                executor=executor,
                retry_failed=args.retry_failed,
                progress=display,
            )
    ran = summary.done + summary.failed
    extra = (
        f" ({summary.duplicates} already stored by another process)" if summary.duplicates else ""
    )
    if summary.warned:
        extra += f"; {summary.warned} raised warnings (kept in their rows)"
    say(
        console,
        f"ran {ran} tasks in {format_duration(summary.wall_s)}: {summary.done} done, "
        f"{summary.failed} failed{extra}; {summary.skipped} were stored before",
    )
    held_failed = n_failed if not args.retry_failed else 0
    if summary.failures:
        say(console, f"{summary.failed} tasks failed (stored with their traceback):")
        for line in _failure_lines(summary.failures):
            say(console, line)
    if summary.failures or held_failed:
        say(
            console,
            f"see `fbinit results {store_path} --status failed`; run again with "
            "--retry-failed to retry them",
        )
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    sweep = sub.add_parser(
        "sweep",
        help="run a grid of experiment tasks (TOML file) into a results store; resumes",
        description="Run a sweep file's tasks that the store does not hold yet. Exit status:"
        " 0 all done, 1 some tasks failed (stored), 2 bad input, 130 interrupted.",
    )
    sweep.add_argument("config", type=Path, help="sweep file (TOML; see docs/sweeps.md)")
    sweep.add_argument(
        "--store", type=Path, default=None, help="results store (overrides the file's)"
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="list the tasks and what the store holds only"
    )
    add_executor_arguments(sweep)
    sweep.set_defaults(func=run)
