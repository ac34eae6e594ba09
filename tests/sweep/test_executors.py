"""Executors: the same rows bit for bit in this process, a process pool and Dask; failures."""

from __future__ import annotations

import dask
import pytest
import torch

from fbinit.errors import ParameterError
from fbinit.signals import random_walk
from fbinit.sweep import (
    DaskExecutor,
    LocalPoolExecutor,
    SerialExecutor,
    SweepError,
    execute_task,
    expand,
    make_executor,
    make_task,
    run_sweep,
)


def mixed_tasks():
    """Scaling and energy cells (strided, inline signal) and toy draws with arrays."""
    tasks = expand(
        "scaling",
        {"n_filters": [4, 9], "kernel_size": [8, 32]},
        {"n_draws": 25, "n_fft": 256, "stride": 2},
        seeds=[0, 1],
    )
    tasks += expand(
        "energy",
        {"signal": ["impulse", random_walk(200, seed=2).tolist()], "kernel_size": [4, 16]},
        {"n_filters": 5, "n_draws": 40, "n_samples": 200},
    )
    tasks += expand("toy.draws", {"n": [3, 50]}, seeds=[0, 5], imports=["sweep_toys"])
    return tasks


def rows(summary):
    return {
        key: (r.status, r.result_json, r.task.run_seed, r.error_type)
        for key, r in summary.results.items()
    }


@pytest.fixture(scope="module")
def dask_local():
    """One local Dask cluster for the module; a task that kills a worker fails at once."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with DaskExecutor(local_workers=2) as executor:
            yield executor


@pytest.fixture(scope="module")
def reference():
    tasks = mixed_tasks()
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the serial executor keeps this process's threads
    try:
        return tasks, rows(run_sweep(tasks, keep_results=True))
    finally:
        torch.set_num_threads(threads)


def test_every_task_is_done(reference):
    tasks, ref = reference
    assert len(ref) == len(tasks) == 8 + 4 + 4
    assert {status for status, *_ in ref.values()} == {"done"}


def test_process_pool_gives_the_same_rows(reference):
    tasks, ref = reference
    with LocalPoolExecutor(2) as pool:
        assert rows(run_sweep(tasks[::-1], executor=pool, keep_results=True)) == ref


def test_dask_gives_the_same_rows(reference, dask_local):
    tasks, ref = reference
    assert dask_local.description == "local Dask cluster of 2 workers (loopback)"
    assert rows(run_sweep(tasks, executor=dask_local, keep_results=True)) == ref


def test_a_failing_task_is_stored_and_the_others_go_on():
    tasks = expand("toy.draws", {"fail": [False, True], "n": [2, 3]}, imports=["sweep_toys"])
    for executor in (SerialExecutor(), LocalPoolExecutor(2)):
        summary = run_sweep(tasks, executor=executor, keep_results=True)
        assert (summary.done, summary.failed) == (2, 2)
        for res in summary.failures:
            assert res.task.params["fail"] is True and res.result_json is None
            assert res.error_type == "builtins.ValueError"
            assert res.error_message == "toy failure at scale=1.0"
            assert "raise ValueError" in res.traceback


@pytest.mark.parametrize(
    ("kind", "error", "match"),
    [
        ("list", "builtins.TypeError", "returned list; it must return a mapping"),
        ("set", "builtins.TypeError", "type set is not JSON-able"),
        ("exit", "builtins.SystemExit", "3"),
        ("other", "builtins.ValueError", "kind='other'"),
    ],
)
def test_bad_experiment_outputs_fail_the_task(kind, error, match):
    res = execute_task(make_task("toy.returns", {"kind": kind}, imports=["sweep_toys"]))
    assert res.status == "failed" and res.error_type == error
    assert match in res.error_message


def test_a_dead_pool_worker_stops_the_sweep_with_a_clear_error():
    tasks = [make_task("toy.crash", {}, imports=["sweep_toys"])]
    with pytest.raises(SweepError, match="a worker process died .* run the sweep again"):
        run_sweep(tasks, executor=LocalPoolExecutor(1))


def test_a_task_that_kills_dask_workers_is_stored_as_failed(dask_local):
    crash = make_task("toy.crash", {}, imports=["sweep_toys"])
    summary = run_sweep([crash], executor=dask_local)
    assert (summary.done, summary.failed) == (0, 1)
    assert summary.failures[0].error_type == "distributed.scheduler.KilledWorker"
    assert "workers died" in summary.failures[0].error_message
    # the cluster goes on (the nanny restarts the worker)
    tasks = expand("toy.draws", {"n": [2, 3]}, imports=["sweep_toys"])
    assert run_sweep(tasks, executor=dask_local).done == 2


def test_make_executor():
    assert isinstance(make_executor(1), SerialExecutor)
    pool = make_executor(3)
    assert isinstance(pool, LocalPoolExecutor) and pool.workers == 3
    assert make_executor().workers >= 1
    assert make_executor(dask_local=2).description.startswith("local Dask cluster of 2")
    assert make_executor(scheduler="tcp://10.0.0.1:8786").description.endswith(":8786")
    with pytest.raises(ParameterError, match="workers and dask_local must not be combined"):
        make_executor(2, dask_local=2)
    with pytest.raises(ParameterError, match="workers=0 must be an integer >= 1"):
        make_executor(0)
    with pytest.raises(ParameterError, match="scheduler='localhost' must be an address"):
        make_executor(scheduler="localhost")
    with pytest.raises(ParameterError, match="exactly one must be given"):
        DaskExecutor()


def test_executors_run_only_when_entered():
    task = make_task("toy.draws", {}, imports=["sweep_toys"])
    for executor in (SerialExecutor(), LocalPoolExecutor(1)):
        with pytest.raises(SweepError, match=r"must be called inside `with executor:`"):
            list(executor.run([task]))


def test_an_unreachable_scheduler_is_a_clear_error():
    executor = DaskExecutor("tcp://127.0.0.1:9", connect_timeout=1.0)
    with pytest.raises(SweepError, match="scheduler='tcp://127.0.0.1:9' cannot be reached"):
        with executor:
            pass
