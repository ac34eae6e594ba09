"""Wall time of one sweep on each executor: serial, local process pool, Dask on 1, 2, 4 workers.

The sweep is a grid of ``scaling`` cells (frame bounds of random Gaussian banks):
n_filters in {5, 10, 20, 40} x kernel_size in {64, 128, 256, 512}, n_fft = 1024, 1000 draws
per cell (16 tasks). Each executor runs the same tasks (twice; the faster sweep is kept),
without a store; the rows are
checked to be identical bit for bit. Start-up (the pool's server process and workers, the
Dask cluster, each worker's import of fbinit) is timed apart from the sweep itself, both in
this one process.

What the ratios mean on a machine of C cores: a worker process runs one torch thread, so
W workers use min(W, C) cores; more workers than cores (4 workers on 2 cores) only add
switching and memory. The serial executor runs in this process with torch's own threads
(here all the cores, for the batched FFTs of each cell).

The last column, the sum of the tasks' own wall times, tells computing (it grows when
workers share cores) from overhead (the sweep time beyond it divided by the workers).

``--default-trim`` adds one Dask worker started with Dask's default environment
(``MALLOC_TRIM_THRESHOLD_=65536``), which fbinit's local clusters unset.

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--draws 1000] [--repeat 2] [--quick]
[--default-trim]``
"""

from __future__ import annotations

import os

# as in the other benchmarks: OpenMP threads must not spin-wait on a busy machine
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from fbinit.sweep import (  # noqa: E402
    DaskExecutor,
    LocalPoolExecutor,
    SerialExecutor,
    execute_task,
    expand,
    run_sweep,
)

N_FILTERS = [5, 10, 20, 40]
KERNEL_SIZES = [64, 128, 256, 512]


def timed(executor, tasks, repeat):
    """(start-up s, best sweep s, task seconds of the best sweep, rows) of one executor."""
    t0 = time.perf_counter()
    with executor:
        startup = time.perf_counter() - t0
        best = None
        for _ in range(repeat):
            t1 = time.perf_counter()
            summary = run_sweep(tasks, executor=executor, keep_results=True)
            wall = time.perf_counter() - t1
            if summary.failed:
                raise RuntimeError(f"task failed: {summary.failures[0].error_message}")
            if best is None or wall < best[0]:
                best = (wall, summary)
    wall, summary = best
    rows = {k: r.result_json for k, r in summary.results.items()}
    busy = sum(r.wall_s for r in summary.results.values())
    return startup, wall, busy, rows


def dask_default_trim(tasks, repeat):
    """One worker of a LocalCluster with Dask's default settings (MALLOC_TRIM_THRESHOLD_ set)."""
    import distributed

    t0 = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(__import__, "fbinit.sweep.executors")
        startup = time.perf_counter() - t0
        best = None
        for _ in range(repeat):
            t1 = time.perf_counter()
            results = client.gather(client.map(execute_task, tasks, pure=False))
            wall = time.perf_counter() - t1
            if best is None or wall < best[0]:
                best = (wall, results)
    wall, results = best
    rows = {r.task.key: r.result_json for r in results}
    return startup, wall, sum(r.wall_s for r in results), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000, help="draws per cell")
    parser.add_argument("--repeat", type=int, default=2, help="sweeps per executor (best kept)")
    parser.add_argument("--quick", action="store_true", help="20 draws per cell (a smoke run)")
    parser.add_argument(
        "--default-trim",
        action="store_true",
        help="also one Dask worker with Dask's default MALLOC_TRIM_THRESHOLD_ (what fbinit avoids)",
    )
    args = parser.parse_args()
    draws = 20 if args.quick else args.draws
    tasks = expand(
        "scaling",
        {"n_filters": N_FILTERS, "kernel_size": KERNEL_SIZES},
        {"n_draws": draws, "n_fft": 1024},
    )
    executors = [
        ("serial (this process)", SerialExecutor()),
        ("local process pool, 2 workers", LocalPoolExecutor(2)),
        ("Dask local, 1 worker", DaskExecutor(local_workers=1)),
        ("Dask local, 2 workers", DaskExecutor(local_workers=2)),
        ("Dask local, 4 workers", DaskExecutor(local_workers=4)),
    ]
    cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{len(tasks)} scaling cells x {draws} draws; {platform.processor() or platform.machine()}"
        f", {cores} cores, torch {torch.__version__} with {torch.get_num_threads()} threads "
        f"in this process; load average {load:.1f} at the start"
    )
    print("\n| executor | start-up (s) | sweep (s) | sweep time / serial | sum of task times (s) |")
    print("|---|---|---|---|---|")
    reference = None
    serial_s = None
    for name, executor in executors:
        startup, sweep, busy, rows = timed(executor, tasks, args.repeat)
        if reference is None:
            reference, serial_s = rows, sweep
        elif rows != reference:
            raise RuntimeError(f"{name}: rows differ from the serial run")
        print(f"| {name} | {startup:.1f} | {sweep:.1f} | {sweep / serial_s:.2f} | {busy:.1f} |")
    if args.default_trim:
        startup, sweep, busy, rows = dask_default_trim(tasks, args.repeat)
        if rows != reference:
            raise RuntimeError("Dask with the default trim threshold: rows differ")
        name = "Dask local, 1 worker, Dask's default MALLOC_TRIM_THRESHOLD_"
        print(f"| {name} | {startup:.1f} | {sweep:.1f} | {sweep / serial_s:.2f} | {busy:.1f} |")
    print("\nrows identical bit for bit on every executor")


if __name__ == "__main__":
    main()
