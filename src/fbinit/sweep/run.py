"""Running tasks: skip what the store holds, run the rest, store each as it finishes.

:func:`run_sweep` is the engine behind ``fbinit sweep``; :class:`SweepRunner` bundles an
executor and an optional store for the package's own grids (``fbinit scaling``, the
paper figures), which need every task's results back in task order.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fbinit.sweep.executors import SerialExecutor, SweepError, TaskResult
from fbinit.sweep.grid import Task
from fbinit.sweep.progress import SweepProgress
from fbinit.sweep.store import ResultsStore

__all__ = ["SweepRunner", "SweepSummary", "run_sweep"]


@dataclass
class SweepSummary:
    """What a sweep did.

    Attributes
    ----------
    total, skipped, done, failed : int
        Tasks of the sweep; already stored (done, or failed without ``retry_failed``) when
        it started; run by it and done; run by it and failed.
    duplicates : int
        Of the tasks it ran, those another process stored first (its row was kept).
    warned : int
        Of the tasks it ran, those whose experiment raised warnings (kept in their rows).
    failures : list of TaskResult
        The failed tasks of this run (error type, message, traceback).
    wall_s : float
    results : dict of key -> TaskResult, or None
        Every task's result (stored ones read back) when ``keep_results``.
    """

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    duplicates: int = 0
    warned: int = 0
    failures: list[TaskResult] = field(default_factory=list)
    wall_s: float = 0.0
    results: dict[tuple[str, str, int], TaskResult] | None = None


@contextmanager
def _atomic_against_sigint() -> Iterator[None]:
    """Hold SIGINT back until the block ends, so a row is committed whole or not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.default_int_handler or previous == signal.SIG_DFL:
                raise KeyboardInterrupt


def run_sweep(
    tasks: Sequence[Task],
    *,
    store: ResultsStore | None = None,
    executor: Any = None,
    retry_failed: bool = False,
    keep_results: bool = False,
    progress: Callable[[SweepProgress], Any] | None = None,
) -> SweepSummary:
    """Run the tasks the store does not hold yet; store each result as it finishes.

    Parameters
    ----------
    tasks : sequence of Task
        From :func:`fbinit.sweep.expand` or :func:`fbinit.sweep.load_config`.
    store : ResultsStore, optional
        Where results go, one transaction per task; tasks it holds are skipped (failed
        ones too, unless ``retry_failed``). Without a store nothing persists.
    executor : SerialExecutor, LocalPoolExecutor or DaskExecutor, optional
        Default: serial in this process. Entered and left here if not entered yet.
    retry_failed : bool
        Run the tasks stored as failed again (a success replaces the failed row).
    keep_results : bool
        Return every task's result in :attr:`SweepSummary.results`.
    progress : callable(SweepProgress), optional
        Called at the start and after each finished task.

    Returns
    -------
    SweepSummary

    Notes
    -----
    A row is committed whole or not at all: SIGINT (Ctrl-C) is held back while a row is
    written and raised as ``KeyboardInterrupt`` right after. A sweep killed at any moment
    therefore leaves exactly the rows of the tasks finished before, and running it again
    runs only the others.

    Examples
    --------
    >>> from fbinit.sweep import expand
    >>> tasks = expand("scaling", {"n_filters": [5, 6]}, {"kernel_size": 8, "n_draws": 4})
    >>> s = run_sweep(tasks, keep_results=True)
    >>> s.done, s.failed, len(s.results)
    (2, 0, 2)
    """
    tasks = list(tasks)
    if len({t.key for t in tasks}) != len(tasks):
        raise SweepError("tasks must be distinct (the same experiment, config and seed twice)")
    start = time.monotonic()
    stored = store.statuses(tasks) if store is not None else {}
    skip = {k for k, s in stored.items() if s == "done" or not retry_failed}
    to_run = [t for t in tasks if t.key not in skip]
    summary = SweepSummary(total=len(tasks), skipped=len(tasks) - len(to_run))
    state = SweepProgress(total=len(tasks), skipped=summary.skipped, started=start)
    results: dict[tuple[str, str, int], TaskResult] = {}
    if keep_results and store is not None and skip:
        results.update((r.task.key, r) for r in store.results([t for t in tasks if t.key in skip]))
    if progress is not None:
        progress(state)
    executor = SerialExecutor() if executor is None else executor
    with executor:
        for res in executor.run(to_run):
            with _atomic_against_sigint():
                if store is not None and not store.put(res):
                    summary.duplicates += 1
            summary.warned += res.warnings_json is not None
            if res.status == "done":
                summary.done += 1
            else:
                summary.failed += 1
                summary.failures.append(res)
            if keep_results:
                results[res.task.key] = res
            state.finished += 1
            state.failed = summary.failed
            if progress is not None:
                progress(state)
    summary.wall_s = time.monotonic() - start
    if keep_results:
        summary.results = results
    return summary


@dataclass
class SweepRunner:
    """An executor and an optional store, for functions that run their grid as a sweep.

    Attributes
    ----------
    executor : optional
        Default: serial in this process.
    store : ResultsStore, optional
        Results persist there and a rerun reuses them.
    retry_failed : bool
    progress : callable(SweepProgress), optional

    Examples
    --------
    >>> from fbinit.sweep import expand
    >>> tasks = expand("scaling", {"n_filters": [5, 6]}, {"kernel_size": 8, "n_draws": 4})
    >>> [round(r["median_kappa"], 3) for r in SweepRunner().results(tasks)]
    [3.438, 5.019]
    """

    executor: Any = None
    store: ResultsStore | None = None
    retry_failed: bool = False
    progress: Callable[[SweepProgress], Any] | None = None

    def results(self, tasks: Sequence[Task]) -> list[dict[str, Any]]:
        """Each task's results, in the order of ``tasks``.

        The warnings the experiments raised (recorded in their rows, wherever they ran) are
        raised again here, in task order.

        Raises
        ------
        SweepError
            If a task failed (its error is stored too when there is a store).
        """
        summary = run_sweep(
            tasks,
            store=self.store,
            executor=self.executor,
            retry_failed=self.retry_failed,
            keep_results=True,
            progress=self.progress,
        )
        results = summary.results or {}
        failed = [r for r in results.values() if r.status == "failed"]
        if failed:
            first = failed[0]
            hint = "" if self.store is None else " (retry them with retry_failed=True)"
            raise SweepError(
                f"{len(failed)} of {len(tasks)} tasks failed{hint}; first, {first.task.label}: "
                f"{first.error_type}: {first.error_message}"
            )
        for task in tasks:
            results[task.key].rewarn(stacklevel=2)
        return [results[t.key].result for t in tasks]  # type: ignore[misc]
