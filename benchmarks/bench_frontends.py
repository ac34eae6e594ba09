"""Speed of every frontend and installed peer: forward plus backward of ``.sum()``.

Protocol (issue 7; EfficientLEAF's): a batch of 8 clips of 1 s at 16 kHz, two threads,
warm-up runs, then the median of repeated runs of ``frontend(x).sum().backward()``, all in
one process, reported as a ratio to the mel frontend (the registry's ``"mel"`` when it is
registered, else ``torch.stft`` plus a mel matrix product written here; that row stays as
a reference). Rows with learnable parameters differentiate with respect to them; rows
without (fixed baselines) with respect to the input, so that every row runs a backward
pass.

Rows: every registered frontend (:mod:`fbinit.frontends.registry`), the peers installed
(asteroid-filterbanks FreeFB(80, 401, stride 160) and ParamSincFB(80, 251, stride 1),
nnAudio MelSpectrogram and Gammatonegram, murenn MuReNNDirect(J=8, Q=5, T=40)), and a
faithful plain-PyTorch LEAF written here as the naive baseline (direct complex conv1d,
Gaussian pooling, PCEN with a loop over frames). Also timed: the PCEN smoother as a loop
over frames versus fbinit's block scan.

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
import importlib.util  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from fbinit._io import atomic_write_text, write_csv  # noqa: E402
from fbinit.frontends import GaborFrontend, registry  # noqa: E402
from fbinit.frontends.engine import analysis_conv, plan  # noqa: E402
from fbinit.frontends.stages import ema  # noqa: E402

SAMPLE_RATE = 16000


class MelReference(torch.nn.Module):
    """torch.stft (n_fft 512, 25 ms Hann window, hop 160) and a 40-band mel matrix."""

    def __init__(self) -> None:
        super().__init__()
        mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=512, n_mels=40, fmin=60.0, fmax=7800.0)
        self.register_buffer("mel", torch.from_numpy(mel).float())
        self.register_buffer("window", torch.hann_window(400))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            x, 512, hop_length=160, win_length=400, window=self.window, return_complex=True
        )
        return self.mel @ (spec.real.square() + spec.imag.square())


class NaiveLeaf(torch.nn.Module):
    """LEAF as its published code computes it, in plain PyTorch: an 80-channel real conv1d
    (real and imaginary parts), squared modulus, depthwise Gaussian pooling at stride 160,
    max(., 1e-5), PCEN whose smoother loops over frames. Same parameters as the preset."""

    def __init__(self) -> None:
        super().__init__()
        leaf = GaborFrontend.leaf()
        self.center = torch.nn.Parameter(leaf.center_frequency.detach().clone())
        self.sigma = torch.nn.Parameter(leaf.sigma.detach().clone())
        self.pool_sigma = torch.nn.Parameter(torch.full((40,), 0.4))
        for name in ("alpha", "smooth", "delta", "root"):
            value = leaf.compression.parameters_clamped()[name].detach().clone()
            setattr(self, name, torch.nn.Parameter(value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = math.sqrt(2 * math.log(2)) / math.pi
        mu = torch.clamp(self.center, 0, math.pi)
        sigma = torch.clamp(self.sigma, 4 * scale, 401 * scale)
        t = torch.arange(-200, 201, dtype=x.dtype)
        envelope = torch.exp(-(t**2) / (2 * sigma[:, None] ** 2)) / (
            math.sqrt(2 * math.pi) * sigma[:, None]
        )
        kernels = torch.stack(
            [envelope * torch.cos(mu[:, None] * t), envelope * torch.sin(mu[:, None] * t)], 1
        ).reshape(80, 1, 401)
        y = F.conv1d(x[:, None], kernels, padding=200)
        power = y[:, 0::2].square() + y[:, 1::2].square()
        width = torch.clamp(self.pool_sigma, 2 / 401, 0.5)
        window = torch.exp(
            -0.5 * ((torch.arange(401, dtype=x.dtype) - 200) / (width[:, None] * 200)) ** 2
        )
        pooled = F.conv1d(F.pad(power, (200, 200)), window[:, None], stride=160, groups=40)
        pooled = torch.clamp(pooled, min=1e-5)
        w = torch.clamp(self.smooth, 0, 1)[:, None]
        state = pooled[..., 0]
        smoothed = []
        for m in range(pooled.shape[-1]):
            state = w[:, 0] * pooled[..., m] + (1 - w[:, 0]) * state
            smoothed.append(state)
        smoother = torch.stack(smoothed, -1)
        alpha = torch.clamp(self.alpha, max=1.0)[:, None]
        root = torch.clamp(self.root, min=1.0)[:, None]
        delta = self.delta[:, None]
        return (pooled / (1e-12 + smoother) ** alpha + delta) ** (1 / root) - delta ** (1 / root)


def _peers() -> dict[str, Callable[[], torch.nn.Module]]:
    """Factories of the installed peers, each taking (batch, time) input."""
    peers: dict[str, Callable[[], torch.nn.Module]] = {}

    class Wrap(torch.nn.Module):
        def __init__(self, module: torch.nn.Module, channel_axis: bool) -> None:
            super().__init__()
            self.module, self.channel_axis = module, channel_axis

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.module(x[:, None] if self.channel_axis else x)

    if importlib.util.find_spec("asteroid_filterbanks"):
        from asteroid_filterbanks import Encoder, FreeFB, ParamSincFB

        peers["asteroid FreeFB(80, 401, 160)"] = lambda: Wrap(
            Encoder(FreeFB(80, 401, stride=160, sample_rate=SAMPLE_RATE)), True
        )
        peers["asteroid ParamSincFB(80, 251, 1)"] = lambda: Wrap(
            Encoder(ParamSincFB(80, 251, stride=1, sample_rate=SAMPLE_RATE)), True
        )
    if importlib.util.find_spec("nnAudio"):
        from nnAudio import features

        common = {"sr": SAMPLE_RATE, "n_fft": 512, "hop_length": 160, "verbose": False}
        peers["nnAudio MelSpectrogram"] = lambda: Wrap(
            features.MelSpectrogram(win_length=400, n_mels=40, **common), False
        )
        peers["nnAudio Gammatonegram"] = lambda: Wrap(
            features.Gammatonegram(n_bins=40, **common), False
        )
    if importlib.util.find_spec("murenn"):
        import murenn

        peers["murenn MuReNNDirect(J=8, Q=5, T=40)"] = lambda: Wrap(
            murenn.MuReNNDirect(J=8, Q=5, T=40, in_channels=1), True
        )
    peers["plain PyTorch LEAF (naive)"] = NaiveLeaf
    return peers


def median_time(
    fn: Callable[[], object],
    repeat: int,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median time of ``fn`` on ``clock`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def time_module(module: torch.nn.Module, x: torch.Tensor, repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU (all threads) times of forward + backward of .sum(); the
    parameter count."""
    params = [p for p in module.parameters() if p.requires_grad]
    inputs = x.detach().clone().requires_grad_(not params)

    def step() -> None:
        module.zero_grad(set_to_none=True)
        inputs.grad = None
        module(inputs).sum().backward()

    wall = median_time(step, repeat)
    cpu = median_time(step, repeat, warmup=0, clock=time.process_time)
    return wall, cpu, sum(p.numel() for p in params)


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
    mel_name = "mel" if "mel" in registry.names() else "torch.stft + mel matmul (reference)"
    candidates: dict[str, Callable[[], torch.nn.Module]] = {}
    candidates["torch.stft + mel matmul (reference)"] = MelReference
    for name in registry.names():
        candidates[name] = lambda name=name: registry.create(name)
    candidates.update(_peers())
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
