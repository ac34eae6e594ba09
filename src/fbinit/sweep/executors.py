"""Where tasks run: in this process, in a local process pool, or on a Dask cluster.

Every executor runs :func:`execute_task` on each task and yields the
:class:`TaskResult` s as they finish, in whatever order. The experiment sees the same
parameters and seed whichever executor runs it; worker processes run one torch thread
each (the parallelism is in the processes), the serial executor keeps this process's
threads. The package's experiments give the same rows bit for bit on every executor
(tested); an experiment of your own does too unless its reductions depend on torch's
thread count (then run it with ``--workers 1`` and ``OMP_NUM_THREADS=1``, or on workers).

- :class:`SerialExecutor`: one task after the other in this process.
- :class:`LocalPoolExecutor`: a pool of worker processes on this machine (default: one
  per core).
- :class:`DaskExecutor`: a Dask distributed cluster, either one already running
  (``scheduler="tcp://HOST:PORT"``, workers started with ``dask worker``) or a local one
  of ``local_workers`` processes on the loopback interface. When a worker dies, the
  scheduler runs its task again elsewhere; a task that kills three workers is stored as
  failed (``KilledWorker``).

An experiment that raises makes a failed result (error type, message and traceback); the
other tasks go on.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import functools
import importlib
import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fbinit._validate import check_int
from fbinit.errors import FbinitError, ParameterError
from fbinit.sweep.grid import Task
from fbinit.sweep.registry import get_experiment, import_modules

__all__ = [
    "DaskExecutor",
    "LocalPoolExecutor",
    "SerialExecutor",
    "SweepError",
    "TaskResult",
    "execute_task",
    "make_executor",
]


class SweepError(FbinitError):
    """A sweep cannot go on: an executor failed (not a task: failed tasks are stored)."""


@dataclass(frozen=True)
class TaskResult:
    """What running one task produced: its results or its error, and where and how long.

    Attributes
    ----------
    task : Task
    status : {"done", "failed"}
    result_json : str or None
        The experiment's results as JSON text (Python's ``json``: floats written exactly,
        NaN and infinities as ``NaN``/``Infinity``); None for a failed task.
    error_type, error_message, traceback : str or None
        The exception of a failed task (type qualified by its module).
    wall_s : float
        Seconds the experiment ran.
    host : str
    package_version : str
    git_revision : str or None
        Commit of the fbinit checkout that ran the task (``+dirty`` if it had changes),
        None for an installed package.
    started_at, finished_at : str
        ISO 8601 UTC times.
    warnings_json : str or None
        The warnings the experiment raised, a JSON list of ``"Category: message"`` (None if
        there were none): a degenerate configuration says so in its row.
    """

    task: Task
    status: str
    result_json: str | None
    error_type: str | None
    error_message: str | None
    traceback: str | None
    wall_s: float
    host: str
    package_version: str
    git_revision: str | None
    started_at: str
    finished_at: str
    warnings_json: str | None = None

    @functools.cached_property
    def result(self) -> dict[str, Any] | None:
        """The parsed results (None for a failed task)."""
        return None if self.result_json is None else json.loads(self.result_json)

    @property
    def warnings(self) -> list[str]:
        """The warnings the experiment raised, ``"Category: message"`` each."""
        return [] if self.warnings_json is None else json.loads(self.warnings_json)

    def rewarn(self, stacklevel: int = 2) -> None:
        """Raise the recorded warnings again here (builtin categories kept, else UserWarning)."""
        for text in self.warnings:
            name, _, message = text.partition(": ")
            category = getattr(builtins, name, None)
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category, message = UserWarning, text
            warnings.warn(message, category, stacklevel=stacklevel + 1)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def to_json(value: Any) -> Any:
    """``value`` with arrays, tensors and numpy scalars made JSON values (``tolist``).

    Raises
    ------
    TypeError
        For a value JSON cannot hold (a set, an object, a mapping with non-string keys).

    Examples
    --------
    >>> import numpy as np
    >>> to_json({"x": np.arange(3), "m": np.float64(0.5), "t": (1, 2)})
    {'x': [0, 1, 2], 'm': 0.5, 't': [1, 2]}
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    for kind in (bool, int, float, str):  # subclasses, e.g. numpy.float64
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"result key {key!r} must be a string")
            out[key] = to_json(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu()
            tolist = value.tolist
        return to_json(tolist())
    raise TypeError(f"result value {value!r:.80} of type {type(value).__name__} is not JSON-able")


@functools.cache
def _provenance() -> tuple[str, str, str | None]:
    """(host, package version, git revision or None) of this process."""
    from fbinit import __version__

    return socket.gethostname(), __version__, _git_revision(Path(__file__).resolve().parents[1])


def _git_revision(package_dir: Path) -> str | None:
    """HEAD of the git checkout holding this package's files (+dirty), or None."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "-C", str(package_dir), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    try:
        if git("ls-files", "--error-unmatch", "__init__.py").returncode != 0:
            return None  # an installed copy, not a checkout (or no git)
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


@contextmanager
def _torch_threads(threads: int | None):
    """Run with this many torch threads (restored after); None leaves them as they are."""
    torch = sys.modules.get("torch")
    if torch is None or threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def execute_task(task: Task, threads: int | None = 1) -> TaskResult:
    """Run one task; never raises for an error of the experiment (it is in the result).

    Imports the task's modules, looks its experiment up, calls it with the task's
    parameters and seed and converts its return value with :func:`to_json`.

    Parameters
    ----------
    task : Task
    threads : int >= 1 or None, default 1
        torch threads while the experiment runs (None: as they are).

    Examples
    --------
    >>> from fbinit.sweep import make_task
    >>> res = execute_task(make_task("scaling", {"n_filters": 5, "kernel_size": 8, "n_draws": 4}))
    >>> res.status, round(res.result["median_kappa"], 3)
    ('done', 3.438)
    """
    host, version, revision = _provenance()
    started = _now()
    t0 = time.perf_counter()
    result_json = error_type = error_message = trace = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import_modules(task.imports)
            experiment = get_experiment(task.experiment)
            with _torch_threads(threads):
                out = experiment.function(**task.params, seed=task.run_seed)
            if not isinstance(out, Mapping):
                raise TypeError(
                    f"experiment {task.experiment!r} returned {type(out).__name__}; it must return "
                    "a mapping of results"
                )
            result_json = json.dumps(to_json(out), separators=(",", ":"))
            status = "done"
        except (Exception, SystemExit) as exc:  # stored with the task; the sweep goes on
            status = "failed"
            error_type = f"{type(exc).__module__}.{type(exc).__qualname__}"
            error_message = str(exc)
            trace = traceback.format_exc()
    wall = time.perf_counter() - t0
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return TaskResult(
        task,
        status,
        result_json,
        error_type,
        error_message,
        trace,
        wall,
        host,
        version,
        revision,
        started,
        _now(),
        json.dumps(messages) if messages else None,
    )


# ----------------------------------------------------------------------- executors


class _Executor:
    """Base of the executors: a re-entrant context that starts its workers once.

    ``with executor:`` may nest (a command holds the executor open across several
    sweeps); the workers start at the outermost entry and stop at its exit, at once (the
    running tasks abandoned) when it exits on an exception.
    """

    workers = 1
    description = ""
    _depth = 0

    def _start(self) -> None:
        """Start the workers."""

    def _stop(self, failed: bool) -> None:
        """Stop the workers (without waiting for running tasks if ``failed``)."""

    def __enter__(self):
        if self._depth == 0:
            self._start()
        self._depth += 1
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._stop(exc_type is not None)

    def _check_started(self) -> None:
        if self._depth == 0:
            raise SweepError(f"{type(self).__name__}.run must be called inside `with executor:`")

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:  # pragma: no cover
        """Yield the result of each task as it finishes (in any order)."""
        raise NotImplementedError


class SerialExecutor(_Executor):
    """Runs the tasks one after the other in this process (with its torch threads).

    Examples
    --------
    >>> from fbinit.sweep import expand
    >>> tasks = expand("scaling", {"n_filters": [5, 6]}, {"kernel_size": 8, "n_draws": 4})
    >>> with SerialExecutor() as ex:
    ...     sorted(r.task.params["n_filters"] for r in ex.run(tasks))
    [5, 6]
    """

    description = "serial (this process)"

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        """Yield the result of each task as it finishes."""
        self._check_started()
        for task in tasks:
            yield execute_task(task, threads=None)


#: the Dask setting of the glibc trim threshold in the workers it starts
_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _pool_worker_init() -> None:
    # Ctrl-C goes to the parent, which stops the pool; a worker must not die of it alone
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready(seconds: float) -> int:
    """A worker's first call: proves it started (and keeps it busy a moment)."""
    time.sleep(seconds)
    return os.getpid()


class LocalPoolExecutor(_Executor):
    """A pool of worker processes on this machine.

    Parameters
    ----------
    workers : int >= 1, optional
        Processes (default: the number of cores, ``os.cpu_count()``).

    Raises
    ------
    SweepError
        From :meth:`run`, if a worker process dies (killed, out of memory): the finished
        results have been yielded; running the sweep again resumes.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers)
        self.description = f"local process pool of {self.workers} workers"
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _start(self) -> None:
        # workers fork from a server process that imported fbinit once (and started no
        # threads), rather than each importing it anew
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_pool_worker_init
        )
        # start every worker now, so the first tasks do not pay for the start-up
        for future in [self._pool.submit(_ready, 0.05) for _ in range(self.workers)]:
            future.result()

    def _stop(self, failed: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if failed:  # interrupted: do not wait for the running tasks
            processes = getattr(pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        """Yield the result of each task as it finishes (in any order)."""
        self._check_started()
        futures = [self._pool.submit(execute_task, task) for task in tasks]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        except concurrent.futures.process.BrokenProcessPool:
            raise SweepError(
                "a worker process died (killed, or out of memory) while running a task; the "
                "finished tasks are stored: run the sweep again to resume"
            ) from None


class DaskExecutor(_Executor):
    """Tasks on a Dask distributed cluster: an existing one, or a local one on loopback.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, ``tcp://HOST:PORT`` (workers started there with
        ``dask worker tcp://HOST:PORT``; each needs fbinit and the experiments' modules).
    local_workers : int >= 1, optional
        Instead of ``scheduler``: start a cluster of this many single-threaded worker
        processes on 127.0.0.1 for the duration of the sweep.
    connect_timeout : float > 0
        Seconds to wait for the scheduler.

    Raises
    ------
    SweepError
        If Dask is not installed (the ``dist`` extra), the scheduler cannot be reached,
        or the cluster is lost during the sweep.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        local_workers: int | None = None,
        connect_timeout: float = 20.0,
    ) -> None:
        if (scheduler is None) == (local_workers is None):
            raise ParameterError(
                f"scheduler={scheduler!r}, local_workers={local_workers!r}: exactly one must "
                "be given"
            )
        if scheduler is not None:
            if not isinstance(scheduler, str) or "://" not in scheduler:
                raise ParameterError(
                    f"scheduler={scheduler!r} must be an address like tcp://HOST:PORT"
                )
            self.description = f"Dask cluster at {scheduler}"
        else:
            local_workers = check_int("local_workers", local_workers)
            self.description = f"local Dask cluster of {local_workers} workers (loopback)"
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.connect_timeout = connect_timeout
        self.workers = local_workers or 0
        self.client: Any = None
        self._cluster: Any = None

    def _start(self) -> None:
        try:
            import dask
            import distributed
        except ImportError:
            raise SweepError(
                "Dask executors need dask.distributed: pip install 'fbinit[dist]'"
            ) from None
        try:
            if self.scheduler is not None:
                self.client = distributed.Client(
                    self.scheduler, timeout=self.connect_timeout, set_as_default=False
                )
                self.workers = len(self.client.scheduler_info()["workers"])
            else:
                # Dask's default MALLOC_TRIM_THRESHOLD_ for its workers pins glibc's mmap
                # threshold, so every large temporary tensor is mapped and unmapped: the
                # Monte Carlo cells ran twice as slowly (benchmarks/bench_sweep.py)
                with dask.config.set({_TRIM: None}):
                    self._cluster = distributed.LocalCluster(
                        n_workers=self.local_workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        scheduler_port=0,
                        dashboard_address=None,
                        # the sweep reports failures itself; a closing cluster's
                        # heartbeat errors are noise
                        silence_logs=logging.CRITICAL,
                    )
                self.client = distributed.Client(self._cluster, set_as_default=False)
        except OSError as exc:
            self._stop(True)
            raise SweepError(f"scheduler={self.scheduler!r} cannot be reached ({exc})") from None
        try:  # every worker imports fbinit now: a worker without it fails here, at once
            self.client.run(importlib.import_module, __name__)
        except ImportError as exc:
            self._stop(True)
            raise SweepError(
                f"a Dask worker cannot import fbinit ({exc}): install fbinit (and the modules "
                "of your experiments) on every worker"
            ) from None

    def _stop(self, failed: bool) -> None:
        client, self.client = self.client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        """Yield the result of each task as it finishes (in any order)."""
        import distributed

        self._check_started()
        tasks = list(tasks)
        keys = [f"fbinit-{t.experiment}-{t.config_hash[:20]}-{t.seed}" for t in tasks]
        futures = self.client.map(execute_task, tasks, key=keys, pure=False)
        by_key = dict(zip(keys, tasks, strict=True))
        try:
            for future in distributed.as_completed(futures, loop=self.client.loop):
                try:
                    yield future.result()
                except distributed.KilledWorker as exc:
                    yield _killed(by_key[future.key], exc)
                finally:
                    future.release()
        except (OSError, distributed.client.FuturesCancelledError) as exc:
            raise SweepError(
                f"lost the Dask cluster ({type(exc).__name__}: {exc}); the finished tasks are "
                "stored: run the sweep again to resume"
            ) from None


def _killed(task: Task, exc: BaseException) -> TaskResult:
    """A failed result for a task whose workers kept dying."""
    host, version, revision = _provenance()
    now = _now()
    return TaskResult(
        task,
        "failed",
        None,
        f"{type(exc).__module__}.{type(exc).__qualname__}",
        str(exc),
        None,
        0.0,
        host,
        version,
        revision,
        now,
        now,
    )


def make_executor(
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    dask_local: int | None = None,
) -> SerialExecutor | LocalPoolExecutor | DaskExecutor:
    """The executor of the command-line options.

    Parameters
    ----------
    workers : int >= 1, optional
        Local processes: 1 runs in this process, more a process pool; default one per
        core.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://HOST:PORT``).
    dask_local : int >= 1, optional
        Workers of a local Dask cluster.

    Examples
    --------
    >>> make_executor(1).description
    'serial (this process)'
    """
    chosen = [n for n, v in (("workers", workers), ("scheduler", scheduler)) if v is not None]
    if dask_local is not None:
        chosen.append("dask_local")
    if len(chosen) > 1:
        raise ParameterError(f"{' and '.join(chosen)} must not be combined: choose one executor")
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    if workers is not None and check_int("workers", workers) == 1:
        return SerialExecutor()
    return LocalPoolExecutor(workers)
