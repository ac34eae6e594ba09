r"""Throughput of the frontends and their peers, with FLOP counts against the matmul rate.

Protocol (issue 7; EfficientLEAF's): forward plus backward of ``frontend(x).sum()`` on a
batch of B clips (full mode: 8 clips of 1 s at 16 kHz, two threads), warm-up runs, then
the median of repeated runs. Rows with learnable parameters differentiate with respect to
them, fixed rows with respect to the input, so every row runs a backward pass. Each task
times its frontend and the mel reference (``torch.stft`` plus a 40-band mel matrix,
:class:`fbinit.bench._peers.MelReference`) interleaved, run for run, in the same process,
so the record carries its own ratio to mel whatever the machine's load.

Cost model (forward FLOP per input sample, one FLOP per multiply or add):

- direct convolution of J real kernels of K taps at stride d: :math:`2 J K M / N`
  (M output frames for N samples, about :math:`2 J K / d`); complex kernels count twice;
- FFT convolution (the engine's blocked overlap-save, block F, P = F - K' + 1 outputs per
  block, :math:`n_F = \lceil M/P \rceil` blocks, d polyphase phases): per block a real FFT
  of each phase of the input and an inverse one per kernel, each :math:`2.5 F \log_2 F`,
  the kernels' FFTs once per step, and :math:`8 (F/2 + 1)` per kernel, phase and block for
  the complex products: about :math:`(J + 1)\, c \log_2 F` per sample with
  :math:`c = 2.5 F / P` (the reference's :math:`(J + 1) c \log_2 L`);
- ``torch.stft``: the window product and a real FFT of n_fft per frame;
- stages: squared modulus 3 per complex coefficient (1 real), modulus 4 (1 real),
  projection :math:`2 J' J` per frame, pooling :math:`2 C K_p` per pooled frame, log
  compression 2 and PCEN 10 per output value.

The engine's :func:`~fbinit.frontends.engine.plan` says which algorithm runs. A step
(forward plus backward) is counted as twice the forward cost: the backward pass computes
one gradient (of the kernels, or of the input for fixed rows), each as costly as the
forward correlation. ``gflops_achieved`` is that step cost over the median wall time;
``fraction_of_matmul_rate`` divides it by the float32 rate of a square matrix product
measured in the same process with the same threads.

Peak memory: the torch profiler's CPU allocation events (``profile_memory=True``) over one
extra step: the largest net number of bytes allocated during the step (tensors alive
before it, such as the parameters and the input, not counted).
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from fbinit._validate import check_bool, check_int, check_positive_float
from fbinit.bench import _peers
from fbinit.bench.section import Section, Table
from fbinit.errors import ParameterError
from fbinit.frontends import registry
from fbinit.frontends.base import Frontend
from fbinit.frontends.engine import n_frames
from fbinit.frontends.engine import plan as engine_plan
from fbinit.frontends.multires import MultiresFrontend
from fbinit.frontends.stages import PCEN, FIRPooling, GaussianLowpass, LogCompression
from fbinit.frontends.stft import STFTFrontend
from fbinit.sweep import register

__all__ = [
    "EXPERIMENT",
    "PUBLISHED",
    "frontend_flops",
    "matmul_gflops",
    "median_time",
    "names",
    "peak_memory_mb",
    "plan",
    "run_throughput",
    "section",
    "time_interleaved",
    "time_module",
]

EXPERIMENT = "bench.throughput"

#: the issue-7 protocol (full mode)
FULL = {"batch": 8, "seconds": 1.0, "sample_rate": 16000, "repeats": 7, "warmup": 2, "threads": 2}

#: published / peer figures of the reference (forward + backward of .sum(), batch 8 x 1 s
#: at 16 kHz, 2 threads, best of many rounds on a loaded machine): label -> (ms, ratio to
#: mel or None when the reference gives none, our row or None)
PUBLISHED: dict[str, tuple[float, float | None, str | None]] = {
    "torch.stft + mel matmul": (7.6, 1.0, _peers.MEL_REFERENCE),
    "nnAudio Mel": (6.8, None, "peer:nnaudio-mel"),
    "asteroid FreeFB(80, 401, 160)": (1.1, None, "peer:asteroid-free"),
    "asteroid ParamSincFB(80, 251, stride 1)": (108.5, None, "peer:asteroid-paramsinc"),
    "asteroid ParamSincFB(80, 251, stride 160)": (2.4, None, None),
    "murenn MuReNNDirect(J=8, Q=5, T=40)": (67.6, None, "peer:murenn"),
    "hybra ISAC stride 16": (95.7, None, None),
    "faithful PyTorch LEAF": (364.5, 58.0, "naive-leaf"),
    "EfficientLEAF defaults": (71.7, None, None),
    "EfficientLEAF fastest (8 groups, window x6, stride x16)": (16.3, 2.6, None),
}


def names() -> list[str]:
    """Every frontend name this task accepts: the registry's, the mel reference, the peers."""
    return [*registry.names(), *_peers.PEERS]


def _validate(params: dict[str, Any]) -> dict[str, Any]:
    frontend = params["frontend"]
    if not isinstance(frontend, str):
        raise TypeError(f"frontend must be a string, got {type(frontend).__name__}")
    if frontend not in names():
        choices = ", ".join(map(repr, names()))
        raise ParameterError(f"frontend={frontend!r} must be one of {choices}")
    if frontend in _peers.PEERS and not _peers.installed(frontend):
        raise ParameterError(
            f"frontend={frontend!r} needs the optional package {_peers.PEERS[frontend][0]!r}, "
            "which is not installed: install it or choose another frontend"
        )
    out = dict(params)
    out["batch"] = check_int("batch", params["batch"])
    out["seconds"] = check_positive_float("seconds", params["seconds"])
    rate = check_positive_float("sample_rate", params["sample_rate"])
    if rate != _peers.SAMPLE_RATE:
        raise ParameterError(
            f"sample_rate={params['sample_rate']!r} must be {_peers.SAMPLE_RATE}: the registry's "
            "frontends and the peers are built at their default 16 kHz"
        )
    out["sample_rate"] = int(rate)
    if round(out["seconds"] * rate) < 512:
        raise ParameterError(
            f"seconds={out['seconds']!r} must give >= 512 samples (one STFT frame)"
        )
    out["repeats"] = check_int("repeats", params["repeats"])
    out["warmup"] = check_int("warmup", params["warmup"], minimum=0)
    out["threads"] = check_int("threads", params["threads"])
    out["matmul_size"] = check_int("matmul_size", params["matmul_size"], minimum=16)
    out["profile_memory"] = check_bool("profile_memory", params["profile_memory"])
    return out


def build(name: str) -> torch.nn.Module:
    """A fresh module for a row name (registry frontend, mel reference or peer)."""
    if name in registry.names():
        return registry.create(name)
    return _peers.make(name)


# --------------------------------------------------------------------------- timing


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


def training_step(module: torch.nn.Module, x: torch.Tensor) -> tuple[Callable[[], None], int]:
    """The timed step ``module(x).sum().backward()`` and the number of learnable parameters.

    With learnable parameters the gradient is taken with respect to them, else with
    respect to the input (so that every row runs a backward pass).
    """
    params = [p for p in module.parameters() if p.requires_grad]
    inputs = x.detach().clone().requires_grad_(not params)

    def step() -> None:
        module.zero_grad(set_to_none=True)
        inputs.grad = None
        module(inputs).sum().backward()

    return step, sum(p.numel() for p in params)


def time_interleaved(
    steps: dict[str, Callable[[], object]], repeats: int, warmup: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and process-CPU seconds of each step, run in turn ``repeats`` times.

    Every step runs ``warmup`` times first; then each round runs every step once, so
    slow drifts of the machine's load hit all steps alike. Returns name -> (walls, cpus).
    """
    for _ in range(warmup):
        for step in steps.values():
            step()
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            out[name][1].append(time.process_time() - cpu)
            out[name][0].append(time.perf_counter() - wall)
    return out


def time_module(
    module: torch.nn.Module, x: torch.Tensor, repeat: int, warmup: int = 2
) -> tuple[float, float, int]:
    """Median wall and CPU (all threads) seconds of forward + backward of .sum(); the
    number of learnable parameters."""
    step, n_params = training_step(module, x)
    walls, cpus = time_interleaved({"row": step}, repeat, warmup)["row"]
    return statistics.median(walls), statistics.median(cpus), n_params


def matmul_gflops(size: int = 1024, repeats: int = 5) -> float:
    """The float32 rate of a square matrix product (GFLOP/s, :math:`2 n^3` per product)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen)
    b = torch.randn(size, size, generator=gen)
    seconds = median_time(lambda: a @ b, repeats, warmup=1)
    return 2.0 * size**3 / seconds / 1e9


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C++ side's standard error (the profiler's start/stop trace lines)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_memory_mb(step: Callable[[], object]) -> float | None:
    """Peak net CPU memory allocated during one call of ``step`` (MiB), from the torch
    profiler's allocation events; None where the profiler gives none."""
    try:
        from torch._C._profiler import _EventType
        from torch.profiler import ProfilerActivity, profile

        with (
            _quiet_stderr(),
            profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof,
        ):
            step()
        events = []
        stack = list(prof.profiler.kineto_results.experimental_event_tree())
        while stack:
            node = stack.pop()
            if node.tag == _EventType.Allocation and str(node.extra_fields.device) == "cpu":
                events.append((node.start_time_ns, node.extra_fields.alloc_size))
            stack.extend(node.children)
    except Exception:  # noqa: BLE001 - a private profiler API: no figure rather than a crash
        return None
    if not events:
        return None
    events.sort()
    net = np.cumsum([size for _, size in events])
    return float(max(net.max(), 0)) / 2**20


# --------------------------------------------------------------------------- FLOP model


def _conv_flops(
    batch: int,
    n_samples: int,
    n_kernels: int,
    kernel_size: int,
    *,
    stride: int,
    padding: str,
    complex_kernels: bool,
    method: str = "auto",
) -> tuple[float, str, int]:
    """Forward FLOP per input sample of one ``analysis_conv``, its algorithm, its frames."""
    n_real = n_kernels * (2 if complex_kernels else 1)
    frames = n_frames(n_samples, kernel_size, stride, padding)
    chosen = engine_plan(
        batch,
        n_kernels,
        kernel_size,
        n_samples,
        stride=stride,
        padding=padding,
        complex_kernels=complex_kernels,
    )
    method = chosen.method if method == "auto" else method
    if method == "direct":
        return 2.0 * n_real * kernel_size * frames / n_samples, "direct", frames
    size = chosen.fft_size
    taps = -(-kernel_size // stride)
    per_block = size - taps + 1
    blocks = -(-frames // per_block)
    unit = 2.5 * size * math.log2(size)
    transforms = (batch * stride * blocks + n_real * stride + batch * n_real * blocks) * unit
    products = 8.0 * batch * n_real * stride * blocks * (size // 2 + 1)
    return (transforms + products) / (batch * n_samples), f"fft(F={size})", frames


def _stage_flops(module: torch.nn.Module | None, channels: int, frames: int) -> tuple[float, int]:
    """FLOP of a pooling or compression stage on (channels, frames); frames after it."""
    if module is None:
        return 0.0, frames
    if isinstance(module, GaussianLowpass | FIRPooling):
        size = module.kernel_size if isinstance(module, GaussianLowpass) else module.taps.shape[-1]
        pad = "same" if module.padding == "same" else "valid"
        out = n_frames(frames, size, module.stride, pad)
        return 2.0 * channels * size * out, out
    if isinstance(module, PCEN):
        return 10.0 * channels * frames, frames
    if isinstance(module, LogCompression):
        return 2.0 * channels * frames, frames
    return 1.0 * channels * frames, frames  # an unknown elementwise stage


def _modulus_flops(kind: str | None, complex_values: bool) -> float:
    if kind is None:
        return 0.0
    if complex_values:
        return 3.0 if kind == "power" else 4.0
    return 1.0


def frontend_flops(
    frontend: torch.nn.Module, batch: int, n_samples: int, name: str | None = None
) -> tuple[dict[str, float], list[str]]:
    """Forward FLOP per input sample of a frontend or peer, by stage, and the algorithms
    of its convolutions (see the module docstring for the conventions).

    Parameters
    ----------
    frontend : Frontend or peer module
    batch, n_samples : int
        The problem size (the engine's choice of algorithm depends on it).
    name : str, optional
        The peer's row name when ``frontend`` is not an fbinit frontend.

    Returns
    -------
    terms : dict of str -> float
        "analysis", "modulus", "projection", "pooling", "compression" (those present).
    algorithms : list of str
        "direct", "fft(F=...)" or "stft", one per convolution.
    """
    if not isinstance(frontend, Frontend):
        if name is None or name not in _peers.PEERS:
            raise ParameterError(f"name={name!r} must name a peer row for a non-fbinit module")
        terms = _peers.peer_flops(name, frontend)
        direct = name not in (_peers.MEL_REFERENCE,)
        return terms, ["direct" if direct else "stft"]
    n = float(n_samples)
    terms: dict[str, float] = {}
    if isinstance(frontend, MultiresFrontend):
        return _multires_flops(frontend, batch, n_samples)
    kernels = frontend.impulse_responses()
    n_atoms, kernel_size = kernels.shape
    complex_kernels = kernels.is_complex()
    if isinstance(frontend, STFTFrontend) and frontend.padding != "circular":
        frames = n_frames(n_samples, kernel_size, frontend.stride, frontend.padding)
        size = frontend.n_fft
        terms["analysis"] = frames * (size + 2.5 * size * math.log2(size)) / n
        algorithms = ["stft"]
    else:
        flops, algorithm, frames = _conv_flops(
            batch,
            n_samples,
            n_atoms,
            kernel_size,
            stride=frontend.stride,
            padding=frontend.padding,
            complex_kernels=complex_kernels,
            method=frontend.method,
        )
        terms["analysis"] = flops
        algorithms = [algorithm]
    channels = n_atoms
    if frontend.modulus is not None:
        terms["modulus"] = _modulus_flops(frontend.modulus, complex_kernels) * n_atoms * frames / n
    if frontend.projection is not None:
        channels = int(frontend.projection.shape[0])
        terms["projection"] = 2.0 * channels * n_atoms * frames / n
    if frontend.pooling is not None:
        flops, frames = _stage_flops(frontend.pooling, channels, frames)
        terms["pooling"] = flops / n
    if frontend.compression is not None:
        terms["compression"] = _stage_flops(frontend.compression, channels, frames)[0] / n
    return terms, algorithms


def _multires_flops(
    frontend: MultiresFrontend, batch: int, n_samples: int
) -> tuple[dict[str, float], list[str]]:
    """Per octave: the complex DTCWT filter at its stride, the octave's Q real kernels of
    T taps on the real and imaginary parts, the modulus and the average pooling; then the
    complex low-pass at stride :math:`2^J`."""
    n = float(n_samples)
    analysis = modulus = pooling = 0.0
    algorithms = []
    strides = frontend._group_strides
    for j, weight in enumerate(frontend.weights):
        g = frontend._dtcwt(j)
        flops, algorithm, frames = _conv_flops(
            batch,
            n_samples,
            1,
            g.shape[-1],
            stride=strides[j],
            padding=frontend.padding,
            complex_kernels=True,
        )
        q, taps = weight.shape
        analysis += flops + 2.0 * 2.0 * q * taps * frames / n
        modulus += _modulus_flops(frontend.modulus, True) * q * frames / n
        pooling += q * frames / n
        algorithms.append(algorithm)
    low = frontend._dtcwt(frontend.n_octaves)
    flops, algorithm, frames = _conv_flops(
        batch,
        n_samples,
        1,
        low.shape[-1],
        stride=strides[-1],
        padding=frontend.padding,
        complex_kernels=True,
    )
    analysis += flops
    modulus += _modulus_flops(frontend.modulus, True) * frames / n
    algorithms.append(algorithm)
    terms = {"analysis": analysis, "modulus": modulus, "pooling": pooling}
    if frontend.compression is not None:
        terms["compression"] = _stage_flops(frontend.compression, frontend.n_filters, frames)[0] / n
    return terms, algorithms


# --------------------------------------------------------------------------- the task


def _protocol(
    batch: int, seconds: float, sample_rate: int, threads: int, warmup: int, repeats: int
) -> tuple[str, bool]:
    text = (
        f"batch {batch} x {seconds:g} s at {sample_rate / 1000:g} kHz, {threads} thread"
        f"{'s' if threads > 1 else ''}, {warmup} warm-up, median of {repeats}"
    )
    full = (batch, seconds, sample_rate, threads) == (
        FULL["batch"],
        FULL["seconds"],
        FULL["sample_rate"],
        FULL["threads"],
    ) and repeats >= 5
    return text, full


@register(EXPERIMENT, validate=_validate)
def run_throughput(
    *,
    frontend: str,
    batch: int = 8,
    seconds: float = 1.0,
    sample_rate: int = 16000,
    repeats: int = 7,
    warmup: int = 2,
    threads: int = 2,
    matmul_size: int = 1024,
    profile_memory: bool = True,
    seed: int,
) -> dict:
    """Time forward + backward of ``frontend(x).sum()`` beside the mel reference.

    Parameters
    ----------
    frontend : str
        A registry name (:func:`fbinit.frontends.registry.names`), ``"mel-reference"``,
        a peer (``"peer:asteroid-paramsinc"``, ``"peer:asteroid-free"``,
        ``"peer:nnaudio-mel"``, ``"peer:nnaudio-gammatone"``, ``"peer:murenn"``) or
        ``"naive-leaf"``.
    batch : int >= 1
    seconds : float > 0
        Clip length (at least 512 samples).
    sample_rate : 16000
    repeats : int >= 1
        Timed runs (median, interquartile range).
    warmup : int >= 0
    threads : int >= 1
        torch threads while timing (restored afterwards): part of the protocol.
    matmul_size : int >= 16
        Side of the square float32 matrix product that measures the machine's rate.
    profile_memory : bool
        Run one more step under the torch profiler for the peak memory.
    seed : int
        Seeds the input batch (white noise of standard deviation 0.1).

    Returns
    -------
    dict
        JSON-able record: times (``ms_median``, ``ms_iqr``, ``cpu_ms_median``, the mel
        reference's ``mel_ms_median`` and ``mel_cpu_ms_median``, ``ratio_to_mel``,
        ``cpu_ratio_to_mel``, ``clips_per_s``), ``n_params``, ``peak_memory_mb``, the
        cost (``flops_per_sample``, ``flop_terms``, ``algorithms``, ``step_flops``),
        ``matmul_gflops``, ``gflops_achieved``, ``fraction_of_matmul_rate``, and the
        setting (``protocol``, ``full_protocol``, ``threads``, ``load_average``).
    """
    params = _validate(
        {
            "frontend": frontend,
            "batch": batch,
            "seconds": seconds,
            "sample_rate": sample_rate,
            "repeats": repeats,
            "warmup": warmup,
            "threads": threads,
            "matmul_size": matmul_size,
            "profile_memory": profile_memory,
        }
    )
    start = time.perf_counter()
    before = torch.get_num_threads()
    torch.set_num_threads(params["threads"])
    try:
        torch.manual_seed(seed)
        n_samples = round(params["seconds"] * params["sample_rate"])
        gen = torch.Generator().manual_seed(seed)
        x = 0.1 * torch.randn(params["batch"], n_samples, generator=gen)
        module = build(frontend)
        reference = _peers.MelReference()
        step, n_params = training_step(module, x)
        mel_step, _ = training_step(reference, x)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        rate = matmul_gflops(params["matmul_size"])
        runs = time_interleaved({"row": step, "mel": mel_step}, params["repeats"], params["warmup"])
        peak = peak_memory_mb(step) if params["profile_memory"] else None
        threads_used = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    walls, cpus = (1e3 * np.asarray(v) for v in runs["row"])
    mel_walls, mel_cpus = (1e3 * np.asarray(v) for v in runs["mel"])
    ms = float(np.median(walls))
    terms, algorithms = frontend_flops(module, params["batch"], n_samples, name=frontend)
    per_sample = float(sum(terms.values()))
    step_flops = 2.0 * per_sample * params["batch"] * n_samples
    achieved = step_flops / (ms * 1e-3) / 1e9
    protocol, full = _protocol(
        params["batch"],
        params["seconds"],
        params["sample_rate"],
        params["threads"],
        params["warmup"],
        params["repeats"],
    )
    label = _peers.label(frontend) if frontend in _peers.PEERS else frontend
    return {
        "task": "throughput",
        "frontend": frontend,
        "label": label,
        "kind": "fbinit" if frontend in registry.names() else "peer",
        "n_params": int(n_params),
        "batch": params["batch"],
        "seconds": params["seconds"],
        "n_samples": n_samples,
        "sample_rate": params["sample_rate"],
        "threads": threads_used,
        "repeats": params["repeats"],
        "warmup": params["warmup"],
        "protocol": protocol,
        "full_protocol": full,
        "ms_median": ms,
        "ms_iqr": float(np.subtract(*np.percentile(walls, [75, 25]))),
        "cpu_ms_median": float(np.median(cpus)),
        "mel_ms_median": float(np.median(mel_walls)),
        "mel_cpu_ms_median": float(np.median(mel_cpus)),
        "ratio_to_mel": ms / float(np.median(mel_walls)),
        "cpu_ratio_to_mel": float(np.median(cpus) / np.median(mel_cpus)),
        "ms_runs": walls.tolist(),
        "clips_per_s": params["batch"] / (ms * 1e-3),
        "peak_memory_mb": peak,
        "peak_memory_method": "torch.profiler CPU allocation events (profile_memory=True), "
        "peak net allocation during one step",
        "flops_per_sample": per_sample,
        "flop_terms": terms,
        "algorithms": algorithms,
        "step_flops": step_flops,
        "matmul_gflops": rate,
        "matmul_size": params["matmul_size"],
        "gflops_achieved": achieved,
        "fraction_of_matmul_rate": achieved / rate,
        "load_average": load,
        "machine": f"{platform.machine()}, torch {torch.__version__}",
        "wall_s": time.perf_counter() - start,
    }


# --------------------------------------------------------------------------- plan


def _rows() -> list[str]:
    """The registry's frontends, the mel reference and the installed peers."""
    return [name for name in names() if name not in _peers.PEERS or _peers.installed(name)]


def plan(mode: str) -> list[tuple[dict, list[int]]]:
    """(params, seeds) pairs for mode in {"tiny", "quick", "full"}.

    - tiny (tests, a few seconds): batch 1 x 0.1 s, one thread, one warm-up, one repeat;
      four rows (a direct conv, LEAF, mel, naive LEAF).
    - quick (about 15 s for the 20 rows on this 2-core machine; one thread, as the two
      worker processes share the cores): batch 8 x 0.25 s, 2 warm-ups, median of 5.
    - full (the issue-7 protocol: batch 8 x 1 s at 16 kHz, 2 threads, 2 warm-ups, median
      of 7; about 2 min for every row): run it with one worker, the rows time 2 threads.
    """
    if mode == "tiny":
        setting = {"batch": 1, "seconds": 0.1, "repeats": 1, "warmup": 1, "threads": 1}
        setting |= {"matmul_size": 128, "profile_memory": True}
        rows = ["conv-kaiming", "leaf", "mel", "naive-leaf"]
    elif mode == "quick":
        setting = {"batch": 8, "seconds": 0.25, "repeats": 5, "warmup": 2, "threads": 1}
        setting |= {"matmul_size": 512, "profile_memory": True}
        rows = _rows()
    elif mode == "full":
        setting = {k: v for k, v in FULL.items() if k != "sample_rate"}
        setting |= {"matmul_size": 1024, "profile_memory": True}
        rows = _rows()
    else:
        raise ParameterError(f"mode={mode!r} must be one of 'tiny', 'quick', 'full'")
    return [({"frontend": row, **setting}, [0]) for row in rows]


# --------------------------------------------------------------------------- section


def _by_frontend(records: Sequence[dict]) -> dict[str, dict]:
    """One summary per frontend: medians over its records (seeds)."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["frontend"], []).append(r)

    def med(rs: list[dict], key: str) -> float | None:
        values = [r[key] for r in rs if r.get(key) is not None]
        return float(np.median(values)) if values else None

    out = {}
    for name, rs in groups.items():
        keys = (
            "ms_median",
            "ms_iqr",
            "cpu_ms_median",
            "ratio_to_mel",
            "cpu_ratio_to_mel",
            "clips_per_s",
            "peak_memory_mb",
            "flops_per_sample",
            "gflops_achieved",
            "fraction_of_matmul_rate",
            "matmul_gflops",
            "mel_ms_median",
        )
        summary = {key: med(rs, key) for key in keys}
        summary |= {k: rs[0][k] for k in ("label", "kind", "n_params", "protocol", "algorithms")}
        summary["full_protocol"] = all(r.get("full_protocol") for r in rs)
        out[name] = summary
    return out


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _flop(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1e3:.1f} k" if value >= 1e3 else f"{value:.0f}"


def _ratio_figure(rows: dict[str, dict]) -> Figure:
    order = sorted(rows, key=lambda n: rows[n]["ratio_to_mel"] or 0.0)
    fig = Figure(figsize=(7.0, 0.28 * len(order) + 1.2))
    ax = fig.add_subplot()
    colours = {"fbinit": "#1f77b4", "peer": "#ff7f0e"}
    values = [rows[n]["ratio_to_mel"] or float("nan") for n in order]
    ax.barh(range(len(order)), values, color=[colours[rows[n]["kind"]] for n in order])
    ax.set_yticks(range(len(order)), [rows[n]["label"] for n in order], fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.axvline(3.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("wall time / mel reference (log scale); dashed: 3x (LEAF target)")
    handles = [Patch(color=colour, label=kind) for kind, colour in colours.items()]
    ax.legend(handles=handles, labels=["fbinit", "peers and references"], fontsize=7)
    ax.set_title("Forward + backward of .sum(), ratio to torch.stft + mel matmul", fontsize=9)
    fig.tight_layout()
    return fig


def section(records: list[dict]) -> Section:
    """The throughput table, the published figures beside it, the ratio figure, findings."""
    records = [r for r in records if r.get("task") == "throughput"]
    sec = Section("throughput", "Throughput")
    if not records:
        sec.findings.append("No throughput records.")
        return sec
    rows = _by_frontend(records)
    protocols = sorted({r["protocol"] for r in rows.values()})
    header = [
        "frontend",
        "wall ms (IQR)",
        "x mel",
        "CPU ms",
        "CPU x mel",
        "clips/s",
        "params",
        "peak MiB",
        "FLOP/sample",
        "GFLOP/s",
        "% matmul",
        "algorithm",
    ]
    table_rows = []
    for name in sorted(rows, key=lambda n: rows[n]["ratio_to_mel"] or 0.0):
        r = rows[name]
        fraction = r["fraction_of_matmul_rate"]
        table_rows.append(
            [
                r["label"],
                f"{_fmt(r['ms_median'])} ({_fmt(r['ms_iqr'])})",
                _fmt(r["ratio_to_mel"], 2),
                _fmt(r["cpu_ms_median"]),
                _fmt(r["cpu_ratio_to_mel"], 2),
                _fmt(r["clips_per_s"], 0),
                str(r["n_params"]),
                _fmt(r["peak_memory_mb"]),
                _flop(r["flops_per_sample"]),
                _fmt(r["gflops_achieved"], 2),
                "–" if fraction is None else f"{100 * fraction:.1f}",
                ", ".join(sorted(set(r["algorithms"]))),
            ]
        )
    rates = [r["matmul_gflops"] for r in rows.values() if r["matmul_gflops"]]
    sec.tables.append(
        Table(
            header,
            table_rows,
            caption=(
                f"Forward + backward of .sum(); {'; '.join(protocols)}; each row timed "
                "interleaved with torch.stft + mel matmul in the same process. FLOP/sample: "
                "analytic forward cost per input sample (a step counts twice that); % matmul: "
                f"achieved step rate over the measured float32 matmul rate "
                f"({_fmt(float(np.median(rates)), 1) if rates else '–'} GFLOP/s). Peak memory: "
                "torch profiler CPU allocations during one step."
            ),
        )
    )
    published_rows = []
    for text, (ms, ratio, ours) in PUBLISHED.items():
        mine = rows.get(ours) if ours else None
        published_rows.append(
            [
                text,
                f"{ms:g}",
                "–" if ratio is None else f"{ratio:g}",
                f"{ms / PUBLISHED['torch.stft + mel matmul'][0]:.1f}",
                _fmt(mine["ms_median"]) if mine else "–",
                _fmt(mine["ratio_to_mel"], 2) if mine else "–",
            ]
        )
    sec.tables.append(
        Table(
            ["published / peer", "ms", "stated x mel", "ms / 7.6", "ours ms", "ours x mel"],
            published_rows,
            caption=(
                "Reference figures (batch 8 x 1 s at 16 kHz, 2 threads, best of many rounds on "
                "a loaded machine; EfficientLEAF's and the faithful LEAF's ratios as stated). "
                "The LEAF paper reports LEAF about 300x slower than a mel spectrogram."
            ),
        )
    )
    sec.figures.append(("throughput_ratio", _ratio_figure(rows)))
    sec.findings.extend(_findings(rows, protocols))
    return sec


def _ratio(rows: dict[str, dict], a: str, b: str, key: str = "ratio_to_mel") -> float | None:
    """Time of row a over row b, each first divided by the mel reference timed beside it
    (records may come from different processes and moments of the machine's load)."""
    if a in rows and b in rows and rows[a][key] and rows[b][key]:
        return rows[a][key] / rows[b][key]
    return None


def _times(speed: float) -> str:
    return f"{speed:.1f}x faster" if speed >= 1 else f"{1 / speed:.1f}x slower"


def _findings(rows: dict[str, dict], protocols: list[str]) -> list[str]:
    out = []
    out.append(
        "Ratios between rows are taken between their ratios to the mel reference, each "
        "timed interleaved with its own mel run, so that load shared by the machine cancels."
    )
    if not all(r["full_protocol"] for r in rows.values()):
        out.append(
            f"Measured at a reduced setting ({'; '.join(protocols)}), not the full protocol "
            "(batch 8 x 1 s, 2 threads): ratios indicate, absolute times do not transfer."
        )
    if "leaf" in rows:
        leaf = rows["leaf"]
        verdict = "met" if leaf["ratio_to_mel"] <= 3 else "missed"
        text = (
            f"LEAF preset: {leaf['ratio_to_mel']:.1f}x the mel reference's wall time "
            f"({leaf['cpu_ratio_to_mel']:.1f}x its CPU time); target <= 3x: {verdict}."
        )
        if "naive-leaf" in rows:
            text += (
                f" The plain PyTorch LEAF: {rows['naive-leaf']['ratio_to_mel']:.1f}x (reference: "
                f"58x); the preset is {_times(_ratio(rows, 'naive-leaf', 'leaf'))}."
            )
        if verdict == "missed":
            # the floor: the full-rate complex output must be written, 2 J N floats per
            # clip, against the mel reference's STFT of 2 x 257 x N / 160
            text += (
                " Why: LEAF's exact output needs its 40 complex filters' coefficients at every "
                "sample, 80 floats per input sample, 25x the 3.2 of the mel reference's STFT, "
                "written and read back by the modulus and the pooling, forward and backward; "
                "the FFT engine cuts the arithmetic "
                f"({_flop(leaf['flops_per_sample'])} FLOP/sample against "
                f"{_flop(rows.get('naive-leaf', {}).get('flops_per_sample'))} for the direct "
                "conv) but not that full-rate floor. EfficientLEAF's 2.6x computes something "
                "else (strided, grouped filters)."
            )
        out.append(text)
    speed = _ratio(rows, "peer:asteroid-paramsinc", "sincnet")
    if speed is not None:
        cpu = _ratio(rows, "peer:asteroid-paramsinc", "sincnet", "cpu_ratio_to_mel")
        verdict = "met" if speed >= 5 else "missed"
        text = (
            f"SincNet preset: {_times(speed)} than asteroid ParamSincFB(80, 251, 1) in wall "
            f"time ({_times(cpu)} in CPU time); target >= 5x faster: {verdict}."
        )
        if verdict == "missed":
            peer = rows["peer:asteroid-paramsinc"]
            text += (
                " Both compute the same 80 x 251 correlation at stride 1 and must write the "
                "80 full-rate outputs; ParamSincFB runs it as one direct conv1d at "
                f"{100 * (peer['fraction_of_matmul_rate'] or 0):.0f}% of the matmul rate, "
                f"fbinit by blocked FFTs with {_flop(peer['flops_per_sample'])} / "
                f"{_flop(rows['sincnet']['flops_per_sample'])} = "
                f"{peer['flops_per_sample'] / rows['sincnet']['flops_per_sample']:.0f}x fewer "
                "FLOP but more memory traffic per output."
            )
        out.append(text)
    speed = _ratio(rows, "multires", "peer:murenn")
    if speed is not None:
        verdict = "met" if speed <= 1 else "missed"
        out.append(
            f"Multires: {speed:.2f}x MuReNNDirect's wall time "
            f"({_ratio(rows, 'multires', 'peer:murenn', 'cpu_ratio_to_mel'):.2f}x CPU); "
            f"target no slower: {verdict}."
        )
    if "mel" in rows:
        ratio = rows["mel"]["ratio_to_mel"]
        verdict = "met" if ratio <= 1.2 else "missed"
        out.append(
            f"Mel frontend: {ratio:.2f}x torch.stft + mel matmul in wall time "
            f"({rows['mel']['cpu_ratio_to_mel']:.2f}x CPU); target within 1.2x: {verdict}."
        )
    fractions = {
        n: r["fraction_of_matmul_rate"] for n, r in rows.items() if r["fraction_of_matmul_rate"]
    }
    if fractions:
        best = max(fractions, key=fractions.__getitem__)
        worst = min(fractions, key=fractions.__getitem__)
        out.append(
            f"Arithmetic efficiency: from {100 * fractions[worst]:.1f}% ({rows[worst]['label']}) "
            f"to {100 * fractions[best]:.1f}% ({rows[best]['label']}) of the measured matmul "
            "rate; the FFT and STFT rows do few FLOP per byte moved, so their fraction is low "
            "even when they are fast."
        )
    return out
