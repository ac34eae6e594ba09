"""Overhead of ConditionMonitor on a realistic small training step, measured in one process.

Two models, each a learnable frontend and a small back end trained with Adam on a batch of
8 one-second clips at 16 kHz (float32, two threads):

- td: a free Conv1d frontend of 40 filters x 401 taps (stride 1, LEAF-sized), squared
  modulus, average pooling to 10 ms, log compression;
- multires: MultiresFrontend(J=8, Q=5, T=40) with log compression (the monitor records
  no frame bounds for it while fbinit's frame bounds refuse multirate banks).

Back end: Conv1d(n_filters, 64, 3) - ReLU - mean over time - Linear(64, 10), cross-entropy.
The overhead at ``every=10`` is the time of one recording call divided by ten training
steps: the ratio of the medians over ``--rounds`` pairs of a step and a record, and the
median of the ratios within each adjacent pair (which a changing machine load affects
less).

Run: ``.venv/bin/python benchmarks/bench_monitor.py [--rounds 30]``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
import torch.nn.functional as F

from fbinit.frontends import ConditionMonitor, Frontend, MultiresFrontend


class FreeConv(Frontend):
    """A free Conv1d frontend (the benchmark's stand-in for a learnable TD filterbank)."""

    def __init__(self, n_filters: int, kernel_size: int) -> None:
        super().__init__(sample_rate=16000.0, modulus="power", compression="log")
        gen = torch.Generator().manual_seed(0)
        scale = (n_filters * kernel_size) ** -0.5
        self.weight = torch.nn.Parameter(torch.randn(n_filters, kernel_size, generator=gen) * scale)
        self.pooling = torch.nn.AvgPool1d(160, 160)

    def impulse_responses(self) -> torch.Tensor:
        return self.weight


def model(name: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    frontend = FreeConv(40, 401) if name == "td" else MultiresFrontend(8, 5, 40, compression="log")
    head = torch.nn.Sequential(
        torch.nn.Conv1d(frontend.n_filters, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool1d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 10),
    )
    return frontend, head


def measure(name: str, x: torch.Tensor, labels: torch.Tensor, rounds: int) -> None:
    """Time training steps and recording calls of one model; print the overhead."""
    frontend, head = model(name)
    opt = torch.optim.Adam([*frontend.parameters(), *head.parameters()], lr=1e-3)

    def train_step() -> None:
        opt.zero_grad()
        F.cross_entropy(head(frontend(x)), labels).backward()
        opt.step()

    monitor = ConditionMonitor(frontend, every=1)
    for _ in range(3):  # warm-up
        train_step()
        monitor.step(1)
    steps, records = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        train_step()
        steps.append(time.perf_counter() - start)
        start = time.perf_counter()
        monitor.step(1)
        records.append(time.perf_counter() - start)
    t_step, t_record = statistics.median(steps), statistics.median(records)
    # adjacent pairs see the same load: the median of their ratios resists load changes
    paired = statistics.median(r / (10 * s) for r, s in zip(records, steps, strict=True))
    print(
        f"{name:9s} step {t_step * 1e3:8.1f} ms  record {t_record * 1e3:7.2f} ms  "
        f"overhead at every=10: {t_record / (10 * t_step):6.2%} (ratio of medians), "
        f"{paired:6.2%} (median of adjacent pairs), n_fft={monitor.n_fft}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(8, 16000, generator=gen)
    labels = torch.randint(0, 10, (8,), generator=gen)
    warnings.simplefilter("ignore", RuntimeWarning)  # multirate bounds recorded as NaN
    print(f"batch 8 x 1 s at 16 kHz, {args.threads} threads, monitor every 10 steps")
    for name in ("td", "multires"):
        measure(name, x, labels, args.rounds)


if __name__ == "__main__":
    main()
