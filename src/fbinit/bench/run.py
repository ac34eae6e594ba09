"""Running the benchmark: every task's records as sweep tasks in a results store, then the page.

:func:`plan` collects the ``(params, seeds)`` of each task module (:data:`TASKS`) at a
mode (``"tiny"`` for the tests, ``"quick"``, ``"full"``) as sweep tasks; :func:`run_bench`
runs those the store does not hold yet, one record per task x frontend x seed stored as
it finishes (so a benchmark killed at any point resumes where it stopped, and runs on a
Dask cluster with a :class:`fbinit.sweep.DaskExecutor`), and writes the benchmark page
from every stored record of the plan (:func:`fbinit.bench.report.write_bench_report`).

The throughput task is timed apart from the others, in this process after them and one
record at a time, whatever the executor, so that no other task shares the cores while it
measures: its figures describe the machine the command runs on.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fbinit.errors import ParameterError
from fbinit.sweep import ResultsStore, SerialExecutor, Task, make_task, run_sweep
from fbinit.sweep.progress import SweepProgress

__all__ = ["MODES", "TASKS", "BenchSummary", "default_store", "plan", "run_bench", "task_module"]

#: task name -> module with EXPERIMENT, plan(mode) and section(records)
TASKS = {
    "distill": "fbinit.bench.distill",
    "conditioning": "fbinit.bench.conditioning",
    "classify": "fbinit.bench.classify",
    "throughput": "fbinit.bench.throughput",
}
#: benchmark modes: tiny (the tests), quick (under 5 minutes), full (close to the papers)
MODES = ("tiny", "quick", "full")
#: tasks timed apart, alone on the machine
_TIMED_ALONE = ("throughput",)


def task_module(name: str) -> Any:
    """The module of task ``name`` (a key of :data:`TASKS`)."""
    if name not in TASKS:
        raise ParameterError(f"tasks entry {name!r} must be one of {', '.join(TASKS)}")
    return importlib.import_module(TASKS[name])


def _check_tasks(tasks: Sequence[str] | None) -> list[str]:
    if tasks is None:
        return list(TASKS)
    if isinstance(tasks, str) or not tasks:
        raise ParameterError(f"tasks={tasks!r} must be a non-empty list of {', '.join(TASKS)}")
    for name in tasks:
        task_module(name)
    return list(dict.fromkeys(tasks))


def plan(mode: str = "quick", tasks: Sequence[str] | None = None) -> dict[str, list[Task]]:
    """The sweep tasks of each benchmark task at ``mode``.

    Examples
    --------
    >>> tasks = plan("tiny", ["distill"])
    >>> all(t.experiment == "bench.distill" for t in tasks["distill"])
    True
    """
    if mode not in MODES:
        raise ParameterError(f"mode={mode!r} must be one of {MODES}")
    out = {}
    for name in _check_tasks(tasks):
        module = task_module(name)
        out[name] = [
            make_task(module.EXPERIMENT, params, seed, imports=(TASKS[name],))
            for params, seeds in module.plan(mode)
            for seed in seeds
        ]
    return out


def default_store(out_dir: str | Path) -> Path:
    """The results store beside the page folder: ``<out_dir>.sqlite``.

    It lives outside ``out_dir`` because the page is swapped in whole, while the store
    grows a record at a time.
    """
    out = Path(out_dir)
    return out.with_name(out.name + ".sqlite")


@dataclass
class BenchSummary:
    """What :func:`run_bench` did: tasks, done, failed, skipped (stored before), wall time,
    the page written (None when nothing to report), and the failures."""

    total: int
    done: int
    failed: int
    skipped: int
    wall_s: float
    page: Path | None
    failures: list


def run_bench(
    out_dir: str | Path,
    *,
    mode: str = "quick",
    tasks: Sequence[str] | None = None,
    store: str | Path | None = None,
    executor: Any = None,
    retry_failed: bool = False,
    progress: Callable[[str, SweepProgress], Any] | None = None,
    report_only: bool = False,
) -> BenchSummary:
    """Run the benchmark's tasks not stored yet, then write the benchmark page.

    Parameters
    ----------
    out_dir : path
        The page folder (``bench.html``, ``bench.md``, ``img/``, ``records.csv``,
        ``manifest.json``), written whole (an output set of kind ``"fbinit bench"``).
    mode : {"tiny", "quick", "full"}
    tasks : list of str, optional
        Subset of :data:`TASKS` (default: all).
    store : path, optional
        The results store (default :func:`default_store`). Records of earlier runs with the
        same settings are reused, not repeated.
    executor : optional
        Where the training tasks run (serial, local pool, Dask); see
        :func:`fbinit.sweep.make_executor`.
    retry_failed : bool
        Run the tasks stored as failed again.
    progress : callable(phase, SweepProgress), optional
    report_only : bool
        Run nothing: write the page from the records stored so far (a long run in
        progress, or one stopped on purpose); the page says how many are missing.

    Returns
    -------
    BenchSummary
    """
    from fbinit._io import check_output_dir
    from fbinit.bench.report import BENCH_KIND, write_bench_report

    planned = plan(mode, tasks)
    out = check_output_dir(out_dir, kind=BENCH_KIND, name="out_dir")  # before any work
    store_path = default_store(out) if store is None else Path(store)
    start = time.monotonic()
    executor = SerialExecutor() if executor is None else executor
    phases = [
        (
            "training",
            [t for n, ts in planned.items() if n not in _TIMED_ALONE for t in ts],
            executor,
        ),
        (
            "timing",
            [t for n, ts in planned.items() if n in _TIMED_ALONE for t in ts],
            SerialExecutor(),
        ),
    ]
    totals = {"total": 0, "done": 0, "failed": 0, "skipped": 0}
    failures: list = []
    with ResultsStore(store_path) as results:
        for phase, phase_tasks, phase_executor in phases:
            if not phase_tasks or report_only:
                continue
            summary = run_sweep(
                phase_tasks,
                store=results,
                executor=phase_executor,
                retry_failed=retry_failed,
                progress=None if progress is None else (lambda s, p=phase: progress(p, s)),
            )
            totals["total"] += summary.total
            totals["done"] += summary.done
            totals["failed"] += summary.failed
            totals["skipped"] += summary.skipped
            failures.extend(summary.failures)
        keys = [t.key for ts in planned.values() for t in ts]
        rows = results.rows(status="done", keys=keys)
        stored_failed = results.rows(status="failed", keys=keys)
    records = {name: [] for name in planned}
    experiment_to_name = {task_module(n).EXPERIMENT: n for n in planned}
    for row in rows:
        records[experiment_to_name[row.experiment]].append(row.result)
    settings = {
        "mode": mode,
        "tasks": list(planned),
        "store": str(store_path),
        "records": {n: len(r) for n, r in records.items()},
        "missing": len(keys) - len(rows) - len(stored_failed),
        "failed": len(stored_failed),
        "executor": getattr(executor, "description", type(executor).__name__),
    }
    page = write_bench_report(records, out, settings=settings) if rows else None
    return BenchSummary(
        total=totals["total"],
        done=totals["done"],
        failed=totals["failed"],
        skipped=totals["skipped"],
        wall_s=time.monotonic() - start,
        page=page,
        failures=failures,
    )
