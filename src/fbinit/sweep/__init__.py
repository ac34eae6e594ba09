"""Sweeps: grids of experiment configurations run as tasks, stored as they finish.

- :mod:`~fbinit.sweep.registry`: experiments register themselves (:func:`register`);
- :mod:`~fbinit.sweep.grid`: grids expand into :class:`Task` s, each keyed and seeded by
  a stable hash of its configuration (:func:`expand`, :func:`make_task`);
- :mod:`~fbinit.sweep.config`: the TOML sweep file (:func:`load_config`);
- :mod:`~fbinit.sweep.store`: the SQLite results store (:class:`ResultsStore`);
- :mod:`~fbinit.sweep.executors`: serial, local process pool, Dask (:func:`make_executor`);
- :mod:`~fbinit.sweep.run`: the engine (:func:`run_sweep`, :class:`SweepRunner`);
- :mod:`~fbinit.sweep.export`: CSV and Parquet exports of stored rows.

The engine knows no experiment by name; see docs/sweeps.md.
"""

from fbinit.sweep.config import SweepConfig, load_config
from fbinit.sweep.executors import (
    DaskExecutor,
    LocalPoolExecutor,
    SerialExecutor,
    SweepError,
    TaskResult,
    execute_task,
    make_executor,
    to_json,
)
from fbinit.sweep.export import export_csv, export_parquet, flatten_rows
from fbinit.sweep.grid import Task, canonical_json, config_hash, expand, make_task, task_seed
from fbinit.sweep.progress import SweepProgress
from fbinit.sweep.registry import (
    Experiment,
    get_experiment,
    import_modules,
    list_experiments,
    register,
)
from fbinit.sweep.run import SweepRunner, SweepSummary, run_sweep
from fbinit.sweep.store import ResultsStore, Row, StoreError

__all__ = [
    "DaskExecutor",
    "Experiment",
    "LocalPoolExecutor",
    "ResultsStore",
    "Row",
    "SerialExecutor",
    "StoreError",
    "SweepConfig",
    "SweepError",
    "SweepProgress",
    "SweepRunner",
    "SweepSummary",
    "Task",
    "TaskResult",
    "canonical_json",
    "config_hash",
    "execute_task",
    "expand",
    "export_csv",
    "export_parquet",
    "flatten_rows",
    "get_experiment",
    "import_modules",
    "list_experiments",
    "load_config",
    "make_executor",
    "make_task",
    "register",
    "run_sweep",
    "task_seed",
    "to_json",
]
