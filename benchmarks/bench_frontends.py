"""Speed of every frontend and installed peer: forward plus backward of ``.sum()``.

Protocol (issue 7; EfficientLEAF's): a batch of 8 clips of 1 s at 16 kHz, two threads,
warm-up runs, then the median of repeated runs of ``frontend(x).sum().backward()``, all in
one process, reported as a ratio to the mel reference (``torch.stft`` plus a 40-band mel
matrix product; the registry's ``"mel"`` is a row, whose ratio says how close the
package's mel frontend comes to it). Rows with learnable parameters differentiate with
respect to them; rows without (fixed baselines) with respect to the input, so that every
row runs a backward pass. The timing protocol, the mel reference, the peers and the naive
LEAF live in the package (:mod:`fbinit.bench.throughput`, ``fbinit.bench._peers``), where
the ``bench.throughput`` task of ``fbinit bench`` also uses them (with FLOP counts and
peak memory, each row timed interleaved with the mel reference).

Rows: every registered frontend (:mod:`fbinit.frontends.registry`), the peers installed
(asteroid-filterbanks FreeFB(80, 401, stride 160) and ParamSincFB(80, 251, stride 1),
nnAudio MelSpectrogram and Gammatonegram, murenn MuReNNDirect(J=8, Q=5, T=40)), and a
faithful plain-PyTorch LEAF as the naive baseline (direct complex conv1d, Gaussian
pooling, PCEN with a loop over frames). Also timed: the PCEN smoother as a loop over
frames versus fbinit's block scan.

Each row reports the median wall time and the median CPU time of the process (all
threads): on a loaded machine the CPU time is the steadier measure of the work done.

Run: ``.venv/bin/python benchmarks/bench_frontends.py [--repeat 7] [--out DIR]``; with
``--out`` the table is also written as ``frontends_speed.csv`` and ``frontends_speed.md``.
``--calibrate`` instead times the two algorithms of the convolution engine and prints the
per-unit costs of its cost model (``fbinit.frontends.engine``).
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting for work make torch many times slower on a busy
# machine (see analysis/paper_figures.py); set before torch is imported, unless the user did.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from fbinit._io import atomic_write_text, write_csv  # noqa: E402
from fbinit.bench import _peers  # noqa: E402
from fbinit.bench.throughput import median_time, time_module  # noqa: E402
from fbinit.frontends import registry  # noqa: E402
from fbinit.frontends.engine import analysis_conv, plan  # noqa: E402
from fbinit.frontends.stages import ema  # noqa: E402

SAMPLE_RATE = _peers.SAMPLE_RATE
REFERENCE = _peers.label(_peers.MEL_REFERENCE)


def calibrate(repeat: int) -> None:
    """Time the engine's two algorithms (forward + kernel gradient, CPU time) beside the
    cost model's predictions, on problem sizes around the frontends' (fit on one thread:
    ``--threads 1``)."""
    x = torch.randn(8, 16000)
    for n_kernels, kernel_size, stride in ((80, 401, 1), (80, 251, 1), (40, 64, 1), (80, 401, 4)):
        w = torch.randn(n_kernels, kernel_size, requires_grad=True)
        p = plan(8, n_kernels, kernel_size, 16000, stride=stride)
        measured = {}
        for method in ("direct", "fft"):

            def step(method: str = method, w: torch.Tensor = w, stride: int = stride) -> None:
                analysis_conv(x, w, stride=stride, method=method).sum().backward()

            measured[method] = median_time(step, repeat, clock=time.process_time)
        print(
            f"J={n_kernels} K={kernel_size} d={stride}: direct {measured['direct'] * 1e3:.1f} ms "
            f"(model {p.direct_cost * 1e3:.1f}), fft {measured['fft'] * 1e3:.1f} ms at "
            f"F={p.fft_size} (model {p.fft_cost * 1e3:.1f}); chosen: {p.method}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.calibrate:
        calibrate(args.repeat)
        return
    x = 0.1 * torch.randn(8, SAMPLE_RATE)
    rows: list[tuple[str, float, float, int]] = []
    mel_name = REFERENCE
    candidates: dict[str, Callable[[], torch.nn.Module]] = {}
    candidates[REFERENCE] = _peers.MelReference
    for name in registry.names():
        candidates[name] = lambda name=name: registry.create(name)
    for name in _peers.PEERS:
        if name != _peers.MEL_REFERENCE and _peers.installed(name):
            candidates[_peers.label(name)] = lambda name=name: _peers.make(name)
    for name, factory in candidates.items():
        seconds, cpu, n_params = time_module(factory(), x, args.repeat)
        rows.append((name, seconds, cpu, n_params))
        print(f"{name:40s} {seconds * 1e3:9.1f} ms wall {cpu * 1e3:9.1f} ms CPU", flush=True)
    # the PCEN smoother: a loop over frames versus the block scan (forward + backward),
    # on 1 s (100 frames) and 10 s (1000 frames), CPU time (the steadier on a loaded machine)
    smoother_lines = []
    for n_frames in (100, 1000):
        frames = torch.rand(8, 40, n_frames)
        smooth = torch.full((40,), 0.04, requires_grad=True)

        def loop(frames: torch.Tensor = frames, smooth: torch.Tensor = smooth) -> None:
            state, out = frames[..., 0], []
            for m in range(frames.shape[-1]):
                state = smooth * frames[..., m] + (1 - smooth) * state
                out.append(state)
            torch.stack(out, -1).sum().backward()

        def scan(frames: torch.Tensor = frames, smooth: torch.Tensor = smooth) -> None:
            ema(frames, smooth).sum().backward()

        t_loop = median_time(loop, 3 * args.repeat, clock=time.process_time)
        t_scan = median_time(scan, 3 * args.repeat, clock=time.process_time)
        smoother_lines.append(
            f"- PCEN smoother, 8 x 40 x {n_frames} frames, CPU time: loop over frames "
            f"{t_loop * 1e3:.2f} ms, block scan {t_scan * 1e3:.2f} ms ({t_loop / t_scan:.1f} x)."
        )
    times = {n: s for n, s, _, _ in rows}
    cpu_times = {n: c for n, _, c, _ in rows}
    mel_time, mel_cpu = times[mel_name], cpu_times[mel_name]
    header = ("frontend", "wall ms", "ratio to mel", "CPU ms", "CPU ratio to mel", "parameters")
    table = [
        (n, round(s * 1e3, 2), round(s / mel_time, 2), round(c * 1e3, 2), round(c / mel_cpu, 2), p)
        for n, s, c, p in rows
    ]
    machine = (
        f"{platform.processor() or platform.machine()}, {args.threads} threads, "
        f"torch {torch.__version__}, {platform.python_version()}"
    )
    lines = [
        f"Forward + backward of .sum(), batch 8 x 1 s at 16 kHz, median of {args.repeat} runs "
        f"after warm-up; ratio to `{mel_name}`. Machine: {machine}.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {n} | {ms:.1f} | {r:.2f} | {c:.1f} | {rc:.2f} | {p} |"
            for n, ms, r, c, rc, p in table
        ),
        "",
        f"- LEAF preset: {times['leaf'] / mel_time:.2f} x mel wall, "
        f"{cpu_times['leaf'] / mel_cpu:.2f} x CPU (target <= 3); the plain PyTorch LEAF: "
        f"{times['plain PyTorch LEAF (naive)'] / mel_time:.1f} x wall, "
        f"{cpu_times['plain PyTorch LEAF (naive)'] / mel_cpu:.1f} x CPU.",
    ]
    sinc_peer = "asteroid ParamSincFB(80, 251, 1)"
    if sinc_peer in times:
        lines.append(
            f"- SincNet preset: {times[sinc_peer] / times['sincnet']:.1f} x faster than "
            f"{sinc_peer} wall, {cpu_times[sinc_peer] / cpu_times['sincnet']:.1f} x CPU "
            "(target >= 5)."
        )
    lines.extend(smoother_lines)
    print("\n".join(lines))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_csv(args.out / "frontends_speed.csv", header, table)
        atomic_write_text(args.out / "frontends_speed.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
