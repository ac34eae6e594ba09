"""Crashes and interrupts, through real processes on loopback, each bounded in time.

A sweep killed with SIGKILL, a Dask worker killed mid-task, two sweeps writing one store,
and Ctrl-C: the store stays intact (``PRAGMA integrity_check``) and, once the sweep has
been run to the end, holds exactly the rows of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fbinit.sweep import ResultsStore, load_config, run_sweep

FBINIT = [sys.executable, "-m", "fbinit.cli"]
TIMEOUT = 120  # seconds any one process may take


def config(tmp_path: Path, n_tasks: int) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(
        'experiment = "toy.draws"\nimports = ["sweep_toys"]\nstore = "runs.sqlite"\n'
        f"[grid]\nn = {list(range(2, 2 + n_tasks))}\n"
    )
    return path


def slow(env: dict, seconds: float) -> dict:
    """The environment of processes whose toy tasks take ``seconds`` each."""
    return {**env, "SWEEP_TOYS_SLEEP": str(seconds)}


def table(path: Path) -> list[tuple]:
    """Everything of the rows that must not depend on how the sweep ran."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT experiment, config_hash, seed, params, run_seed, status, result "
            "FROM tasks ORDER BY experiment, config_hash, seed"
        ).fetchall()
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def count(path: Path) -> int:
    try:
        return len(table(path))
    except sqlite3.Error:  # not created yet
        return 0


def reference(cfg: Path, tmp_path: Path) -> list[tuple]:
    """The rows of an uninterrupted serial run of the same sweep file."""
    path = tmp_path / "reference.sqlite"
    with ResultsStore(path) as store:
        run_sweep(load_config(cfg).tasks, store=store)
    return table(path)


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start(argv: list[str], env: dict, tmp_path: Path, name: str) -> subprocess.Popen:
    """A process in its own session (its group is killed at the end of the test)."""
    return subprocess.Popen(
        argv,
        env=env,
        cwd=tmp_path,
        stdout=(tmp_path / f"{name}.out").open("w"),
        stderr=(tmp_path / f"{name}.err").open("w"),
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def resume(cfg: Path, env: dict) -> subprocess.CompletedProcess:
    """Run the sweep to its end in one process (quick tasks)."""
    return subprocess.run(
        [*FBINIT, "sweep", str(cfg), "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_sigkill_then_resume_gives_the_rows_of_an_uninterrupted_run(tmp_path, env):
    cfg = config(tmp_path, n_tasks=16)
    store = tmp_path / "runs.sqlite"
    argv = [*FBINIT, "sweep", str(cfg), "--workers", "2"]
    proc = start(argv, slow(env, 0.25), tmp_path, "killed")
    try:
        wait_for(lambda: count(store) >= 3, what="the first rows")
        os.kill(proc.pid, signal.SIGKILL)  # the sweep process, mid-run
        proc.wait(timeout=30)
    finally:
        kill_group(proc)  # its orphaned pool workers
    kept = count(store)
    assert 3 <= kept < 16 and integrity(store) == "ok"
    done = resume(cfg, env)
    assert done.returncode == 0, done.stderr
    assert f"{16 - kept} done, 0 failed; {kept} were stored before" in done.stdout
    assert integrity(store) == "ok"
    assert table(store) == reference(cfg, tmp_path)


def test_a_dask_worker_killed_mid_task_changes_no_row(tmp_path, env):
    cfg = config(tmp_path, n_tasks=12)
    store = tmp_path / "runs.sqlite"
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
    scheduler += ["--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)]
    procs = [start(scheduler, env, tmp_path, "scheduler")]
    try:
        wait_for(
            lambda: scheduler_file.exists() and "address" in scheduler_file.read_text(),
            what="the scheduler",
        )
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", address]
        worker += ["--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"]
        procs += [start(worker, slow(env, 0.4), tmp_path, f"worker{i}") for i in range(2)]
        sweep = start([*FBINIT, "sweep", str(cfg), "--scheduler", address], env, tmp_path, "sweep")
        procs.append(sweep)
        wait_for(lambda: count(store) >= 3, timeout=90, what="the first rows")
        procs[1].kill()  # a busy worker: the scheduler gives its task to the other
        assert sweep.wait(timeout=TIMEOUT) == 0, (tmp_path / "sweep.err").read_text()
    finally:
        for proc in procs:
            kill_group(proc)
    assert "Dask cluster at tcp://127.0.0.1:" in (tmp_path / "sweep.out").read_text()
    assert integrity(store) == "ok"
    assert table(store) == reference(cfg, tmp_path)


def test_two_sweeps_write_one_store_at_once(tmp_path, env):
    cfg = config(tmp_path, n_tasks=16)
    store = tmp_path / "runs.sqlite"
    argv = [*FBINIT, "sweep", str(cfg), "--workers", "1"]
    procs = [start(argv, slow(env, 0.05), tmp_path, f"sweep{i}") for i in range(2)]
    try:
        codes = [p.wait(timeout=TIMEOUT) for p in procs]
    finally:
        for proc in procs:
            kill_group(proc)
    assert codes == [0, 0], [(tmp_path / f"sweep{i}.err").read_text() for i in range(2)]
    rows = table(store)
    assert len(rows) == 16 and len({r[:3] for r in rows}) == 16  # none lost, none twice
    assert integrity(store) == "ok"
    assert rows == reference(cfg, tmp_path)


def test_ctrl_c_stops_a_sweep_with_one_line_and_keeps_its_rows(tmp_path, env):
    cfg = config(tmp_path, n_tasks=16)
    store = tmp_path / "runs.sqlite"
    argv = [*FBINIT, "sweep", str(cfg), "--workers", "2"]
    proc = start(argv, slow(env, 0.25), tmp_path, "sweep")
    try:
        wait_for(lambda: count(store) >= 3, what="the first rows")
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        wait_for(lambda: group_gone(proc.pid), timeout=15, what="the pool workers to stop")
    finally:
        kill_group(proc)
    assert (tmp_path / "sweep.err").read_text() == "interrupted: what was finished is kept\n"
    kept = table(store)
    assert 3 <= len(kept) < 16 and integrity(store) == "ok"
    assert set(kept) <= set(reference(cfg, tmp_path))  # whole rows, resumable (test above)


def test_ctrl_c_ends_another_command_with_one_line(tmp_path, env):
    argv = [*FBINIT, "scaling", "-J", "40", "-T", "1024", "--draws", "1000000", "--workers", "1"]
    proc = start(argv, env, tmp_path, "cmd")
    try:
        # interrupt once the command runs: its first progress line is out
        wait_for(lambda: (tmp_path / "cmd.out").stat().st_size > 0, what="the command to start")
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        kill_group(proc)
    assert (tmp_path / "cmd.err").read_text() == "interrupted: what was finished is kept\n"
