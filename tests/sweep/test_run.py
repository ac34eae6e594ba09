"""The sweep engine: resume, retry, progress, results in task order, atomic rows."""

from __future__ import annotations

import os
import signal

import pytest

from fbinit.sweep import (
    ResultsStore,
    SweepError,
    SweepProgress,
    SweepRunner,
    expand,
    make_task,
    run_sweep,
)
from fbinit.sweep.progress import format_duration
from fbinit.sweep.run import _atomic_against_sigint


def toys(**grid):
    return expand("toy.draws", grid or {"n": [2, 3, 4, 5]}, imports=["sweep_toys"])


def test_a_second_run_skips_what_the_store_holds(tmp_path):
    tasks = toys()
    with ResultsStore(tmp_path / "s.sqlite") as store:
        first = run_sweep(tasks[:2], store=store)
        assert (first.total, first.skipped, first.done) == (2, 0, 2)
        stamps = {r.key: r.finished_at for r in store.rows()}
        second = run_sweep(tasks, store=store, keep_results=True)
        assert (second.total, second.skipped, second.done, second.failed) == (4, 2, 2, 0)
        assert {r.key: r.finished_at for r in store.rows() if r.key in stamps} == stamps
        # results of the skipped tasks are read back
        direct = run_sweep(tasks, keep_results=True)
        assert {k: r.result_json for k, r in second.results.items()} == {
            k: r.result_json for k, r in direct.results.items()
        }


def test_failed_tasks_are_skipped_until_retried(tmp_path):
    flag = tmp_path / "broken"
    flag.touch()
    tasks = toys(n=[2, 3], fail_while=[str(flag)])
    with ResultsStore(tmp_path / "s.sqlite") as store:
        first = run_sweep(tasks, store=store)
        assert (first.done, first.failed, len(first.failures)) == (0, 2, 2)
        flag.unlink()
        assert run_sweep(tasks, store=store).skipped == 2  # failures are results too
        retried = run_sweep(tasks, store=store, retry_failed=True)
        assert (retried.skipped, retried.done) == (0, 2)
        assert {(r.status, r.attempts) for r in store.rows()} == {("done", 2)}


def test_progress_reports_each_task():
    states = []
    run_sweep(toys(), progress=lambda s: states.append((s.completed, s.total, s.failed)))
    assert states == [(0, 4, 0), (1, 4, 0), (2, 4, 0), (3, 4, 0), (4, 4, 0)]


def test_progress_estimate_and_line():
    p = SweepProgress(total=12, skipped=2, started=100.0)
    assert p.eta(now=101.0) is None and "left ~?" in p.line(now=101.0)
    p.finished, p.failed = 5, 1
    assert p.eta(now=110.0) == pytest.approx(10.0)  # 2 s per task, 5 left
    assert p.line(now=110.0) == (
        "7/12 tasks (2 stored before), 1 failed, elapsed 0:00:10, left ~0:00:10"
    )
    assert SweepProgress(total=3, skipped=3).eta() == 0.0
    assert format_duration(59.6) == "0:01:00"


def test_runner_returns_results_in_task_order_or_raises():
    tasks = toys()
    results = SweepRunner().results(tasks[::-1])
    assert [len(r["draws"]) for r in results] == [5, 4, 3, 2]
    bad = tasks + [make_task("toy.draws", {"fail": True}, imports=["sweep_toys"])]
    with pytest.raises(SweepError, match=r"1 of 5 tasks failed; first, toy.draws\[.*ValueError"):
        SweepRunner().results(bad)


def test_duplicate_tasks_are_refused():
    task = toys()[0]
    with pytest.raises(SweepError, match="tasks must be distinct"):
        run_sweep([task, task])


def test_sigint_waits_for_the_row_to_be_committed():
    seen = []
    with pytest.raises(KeyboardInterrupt):
        with _atomic_against_sigint():
            os.kill(os.getpid(), signal.SIGINT)
            seen.append("still writing")  # not interrupted inside the block
    assert seen == ["still writing"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with _atomic_against_sigint():  # no signal: nothing raised
        pass


def test_warnings_are_stored_and_raised_again_by_the_runner(tmp_path):
    task = make_task("toy.warns", {}, imports=["sweep_toys"])
    with ResultsStore(tmp_path / "s.sqlite") as store:
        with pytest.warns(RuntimeWarning, match="a degenerate toy"):
            with pytest.warns(UserWarning, match="ToyWarning: a toy of its own kind"):
                assert SweepRunner(store=store).results([task]) == [{"ok": True}]
        (row,) = store.rows()
        assert row.warnings == [
            "RuntimeWarning: a degenerate toy",
            "ToyWarning: a toy of its own kind",
        ]
        with pytest.warns(RuntimeWarning, match="a degenerate toy"):  # read back: again
            with pytest.warns(UserWarning, match="ToyWarning"):
                SweepRunner(store=store).results([task])
