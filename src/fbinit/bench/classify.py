r"""Classification with every frontend and a tiny CNN: where mel is too coarse, where it is good.

Two offline tasks at 8 kHz (:mod:`fbinit.bench.classify_data`): ``"tones"``, six tones 150
Hz apart at 3.15-3.9 kHz in pink noise with low-frequency distractors (mel bands there
are about 200 Hz apart and 400 Hz wide), and ``"digits"``, spoken digits rendered by
espeak-ng with held-out speaker combinations (mel's home ground). Every frontend of
:data:`FRONTENDS` is built at 8 kHz with about 40 filters (:func:`build_frontend`); its
log-power features, at about 10 ms per frame, feed the same back end (:class:`Backend`,
about 18k parameters), trained jointly with the frontend when it is learnable.

Each record (:func:`run_classify`, experiment :data:`EXPERIMENT`) carries the test and
validation accuracies, the frame bounds of the frontend's analysis bank before and after
training, and, for the tones, how much of the bank's response lies in the discriminative
band :data:`~fbinit.bench.classify_data.TONE_BAND` before and after.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from fbinit._validate import check_choice, check_int, check_positive_float
from fbinit.analysis.frames import frame_bounds, kappa_from_bounds
from fbinit.bench import classify_data as data
from fbinit.bench.section import Section, Table, mean_sd
from fbinit.bench.training import finite
from fbinit.errors import ParameterError
from fbinit.frontends import (
    ConvFrontend,
    Frontend,
    GaborFrontend,
    GammatoneFrontend,
    LogCompression,
    MelFrontend,
    MultiresFrontend,
    SincFrontend,
    WaveletFrontend,
)
from fbinit.frontends.monitor import centre_and_bandwidth, default_n_fft, response_power
from fbinit.sweep import register

__all__ = [
    "EXPERIMENT",
    "FIXED",
    "FRONTENDS",
    "LEARNABLE",
    "Backend",
    "bank_summary",
    "build_frontend",
    "plan",
    "run_classify",
    "section",
]

EXPERIMENT = "bench.classify"
#: learnable frontends (trained jointly with the back end)
LEARNABLE = ("conv-gaussian", "conv-kaiming", "conv-tight", "gabor", "sinc", "multires")
#: fixed baselines (only the back end trains)
FIXED = ("mel", "cqt", "gammatone")
#: every frontend of the benchmark
FRONTENDS = LEARNABLE + FIXED
#: in-band kappa and band energy: the tones' discriminative band, the digits' speech band
BANDS = {"tones": data.TONE_BAND, "digits": (60.0, 3900.0)}
#: analysis stride (samples) of the learnable single-rate frontends; x 10 pooling = 10 ms
STRIDE = 8
#: filters of the single-rate frontends (multires: 6 octaves x 7 + the low-pass = 43)
N_FILTERS = 40
#: taps of the learnable single-rate frontends (16 ms at 8 kHz)
KERNEL_SIZE = 129
#: floor of the log compression (features of the quietest bands stay above it)
LOG_FLOOR = 1e-10


class _DropLast(torch.nn.Module):
    """Drop the last ``n`` frames of (batch, filters, frames)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return y[..., : -self.n]


def build_frontend(name: str, *, seed: int = 0) -> Frontend:
    """A frontend of :data:`FRONTENDS` at 8 kHz giving log power at about 10 ms per frame.

    - ``conv-*``: :class:`~fbinit.frontends.ConvFrontend`, 40 filters of 129 taps at
      stride 8, gaussian, kaiming or tight initialisation;
    - ``gabor``: :class:`~fbinit.frontends.GaborFrontend`, 40 filters of 129 taps, mel
      initialisation over 60-3900 Hz (n_fft 256), stride 8;
    - ``sinc``: :class:`~fbinit.frontends.SincFrontend`, 40 filters of 129 taps, stride 8;
    - ``multires``: :class:`~fbinit.frontends.MultiresFrontend`, 6 octaves x 7 filters of
      32 taps + the low-pass, frames at its stride 64 (8 ms);
    - ``mel``: :class:`~fbinit.frontends.MelFrontend`, 40 bands over 60-3900 Hz, n_fft 256
      (32 ms), hop 80 (10 ms);
    - ``cqt``: :class:`~fbinit.frontends.WaveletFrontend`, 40 bins at 8 per octave from
      126 Hz (top bin 3.7 kHz), stride 8;
    - ``gammatone``: :class:`~fbinit.frontends.GammatoneFrontend`, 40 filters of 512 taps
      over 60-3800 Hz, stride 8; its last 4 frames (beyond the signal's end, for causal
      filters read half a kernel late) are dropped.

    The stride-8 frontends take the power, then average 10 frames (80 samples, 10 ms);
    mel takes the power of its STFT at hop 80 (its 32 ms window smooths). All compress by
    log(max(y, 1e-10)).
    """
    name = check_choice("frontend", name, FRONTENDS)
    sr = float(data.SAMPLE_RATE)
    strided: dict[str, Any] = {
        "stride": STRIDE,
        "modulus": "power",
        "pooling": torch.nn.AvgPool1d(10, 10),
        "compression": LogCompression(LOG_FLOOR),
    }
    if name.startswith("conv-"):
        return ConvFrontend(
            N_FILTERS,
            KERNEL_SIZE,
            init=name[5:],
            seed=seed,
            sample_rate=sr,
            band=(0.0, sr / 2),
            **strided,
        )
    if name == "gabor":
        return GaborFrontend(
            N_FILTERS, KERNEL_SIZE, sample_rate=sr, fmin=60.0, fmax=3900.0, n_fft=256, **strided
        )
    if name == "sinc":
        return SincFrontend(N_FILTERS, KERNEL_SIZE, sample_rate=sr, band=(0.0, sr / 2), **strided)
    if name == "multires":
        return MultiresFrontend(
            6,
            7,
            32,
            sample_rate=sr,
            modulus="power",
            compression=LogCompression(LOG_FLOOR),
            seed=seed,
        )
    if name == "mel":
        return MelFrontend(
            N_FILTERS,
            256,
            sample_rate=sr,
            stride=80,
            fmin=60.0,
            fmax=3900.0,
            compression=LogCompression(LOG_FLOOR),
        )
    fixed: dict[str, Any] = {"sample_rate": sr, "stride": STRIDE, "modulus": "power"}
    if name == "cqt":
        bank: Frontend = WaveletFrontend(
            N_FILTERS, fmin=126.0, bins_per_octave=8, compression=LogCompression(LOG_FLOOR), **fixed
        )
    else:
        bank = GammatoneFrontend(
            N_FILTERS, 512, fmin=60.0, fmax=3800.0, compression=LogCompression(LOG_FLOOR), **fixed
        )
    # their constructors take no pooling; gammatone frame m is the causal filters' output
    # 255 samples after m * 8 (fbinit.frontends.fixed), so its last 32 ms see only the
    # zero padding: drop those 4 pooled frames
    pool = torch.nn.AvgPool1d(10, 10)
    bank.pooling = torch.nn.Sequential(pool, _DropLast(4)) if name == "gammatone" else pool
    bank.method = "fft"  # "auto" picks direct for the 512-tap gammatones, 12x slower here
    return bank


class Backend(torch.nn.Module):
    r"""The tiny CNN over (filters, frames): per-filter normalisation, two temporal
    convolutions, global mean and max pooling over time, one linear layer.

    .. math:: F \xrightarrow{\text{BN}} F \xrightarrow{\text{conv}_5,\ \text{ReLU},\
              \text{maxpool}_2} 48 \xrightarrow{\text{conv}_3,\ \text{ReLU}} 48
              \xrightarrow{[\text{mean}_t, \max_t]} 96 \xrightarrow{\text{linear}} C

    The filters are the input channels, so the back end knows which filter fired (the
    class of a tone is a frequency). Parameters: :math:`2F + 240F + 48 + 6960 + 97C`, i.e.
    17,698 for F = 40 filters and C = 10 classes.
    """

    def __init__(self, n_filters: int, n_classes: int, *, width: int = 48) -> None:
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(n_filters)
        self.conv1 = torch.nn.Conv1d(n_filters, width, 5, padding=2)
        self.conv2 = torch.nn.Conv1d(width, width, 3, padding=1)
        self.linear = torch.nn.Linear(2 * width, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_classes) of features (batch, n_filters, frames)."""
        h = torch.relu(self.conv1(self.norm(features)))
        h = torch.nn.functional.max_pool1d(h, 2, ceil_mode=True)
        h = torch.relu(self.conv2(h))
        return self.linear(torch.cat([h.mean(-1), h.amax(-1)], dim=1))


def bank_summary(frontend: Frontend, band: tuple[float, float]) -> dict[str, Any]:
    r"""Frame bounds, band energy and centre frequencies of a frontend's analysis bank.

    - ``kappa``: :math:`B/A` of the analysis bank at its stride (multirate bounds for the
      multires bank) on signals of :func:`~fbinit.frontends.monitor.default_n_fft`
      samples; None when singular (A = 0: e.g. fewer filters than the hop).
    - ``kappa_band``: :math:`B/A` of the same bank at stride 1 restricted to ``band``
      (fbinit defines in-band bounds at stride 1 only), i.e. the ratio of the extreme
      Littlewood-Paley sums in the band.
    - ``band_energy``: :math:`\sum_j \sum_{k \in \text{band}} P_j[k] / \sum_j \sum_k
      P_j[k]` with :math:`P_j` the power response real signals see
      (:func:`~fbinit.frontends.monitor.response_power`), after the projection for mel
      (the mel filters' effective responses :math:`\sum_a M_{ja} P_a`); a flat bank has
      the band's share of the bins. Filters that narrow lose energy (a Gabor filter keeps
      its L1 norm), so ``band_share``, the mean over filters of each filter's own in-band
      share :math:`\sum_{k \in \text{band}} P_j[k] / \sum_k P_j[k]`, tells where the
      filters point regardless of their gains.
    - ``centre_hz``: each filter's centre frequency
      (:func:`~fbinit.frontends.monitor.centre_and_bandwidth` of the same :math:`P_j`),
      and ``n_in_band``, how many lie in ``band``.
    """
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fb = frontend.filterbank()
        n_fft = default_n_fft(fb)
        A, B = frame_bounds(fb, n_fft=n_fft)
        kappa = kappa_from_bounds(A, B, n_fft=n_fft)
        A, B = frame_bounds(fb, n_fft=n_fft, stride=1, band=band)
        kappa_band = kappa_from_bounds(A, B, n_fft=n_fft)
        power = response_power(fb, n_fft=n_fft)
        projection = frontend.projection
        if isinstance(projection, torch.Tensor):  # mel: the mel filters' responses
            power = projection.to(power) @ power
        sample_rate = float(frontend.sample_rate)
        freqs = torch.arange(power.shape[-1], dtype=torch.float64) * sample_rate / n_fft
        inside = (freqs >= band[0]) & (freqs <= band[1])
        energy = power[:, inside].sum() / power.sum()
        share = (power[:, inside].sum(-1) / power.sum(-1)).nanmean()
        centre, _ = centre_and_bandwidth(power, sample_rate=sample_rate)
    in_band = (centre >= band[0]) & (centre <= band[1])
    return {
        "kappa": finite(kappa),
        "kappa_band": finite(kappa_band),
        "band_energy": finite(energy),
        "band_share": finite(share),
        "n_in_band": int(in_band.sum()),
        "centre_hz": [round(float(c), 1) if math.isfinite(float(c)) else None for c in centre],
    }


def _features(frontend: Frontend, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([frontend(x[i : i + batch]) for i in range(0, len(x), batch)])


def _accuracy(
    frontend: Frontend, backend: Backend, x: torch.Tensor, y: torch.Tensor, fixed: bool
) -> float:
    frontend.eval()
    backend.eval()
    with torch.no_grad():
        feats = x if fixed else _features(frontend, x)
        pred = backend(feats).argmax(-1)
    return float((pred == y).float().mean())


def _model_seed(seed: int, frontend: str) -> int:
    return zlib.crc32(f"{EXPERIMENT}:{frontend}:{seed}".encode()) & 0x7FFFFFFF


def _check_ints(name: str, values: Any, minimum: int, maximum: int) -> tuple[int, ...]:
    if isinstance(values, str | bytes) or not hasattr(values, "__len__") or not len(values):
        raise ParameterError(f"{name}={values!r} must be a non-empty list of integers")
    out = tuple(check_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(values))
    if max(out) > maximum or len(set(out)) != len(out):
        raise ParameterError(f"{name}={list(out)} must be distinct integers <= {maximum}")
    return out


def _validate(params: dict[str, Any]) -> dict[str, Any]:
    """Check and canonicalise a task's parameters (lists for the speaker grid)."""
    p = dict(params)
    check_choice("task", p["task"], data.TASKS)
    check_choice("frontend", p["frontend"], FRONTENDS)
    for name, minimum in (("epochs", 1), ("n_train", 1), ("n_val", 1), ("n_test", 1)):
        p[name] = check_int(name, p[name], minimum=minimum)
    p["batch_size"] = check_int("batch_size", p["batch_size"])
    p["lr"] = check_positive_float("lr", p["lr"])
    p["frontend_lr"] = check_positive_float("frontend_lr", p["frontend_lr"], allow_zero=True)
    p["pitches"] = list(_check_ints("pitches", p["pitches"], 0, 99))
    p["speeds"] = list(_check_ints("speeds", p["speeds"], 80, 450))
    p["val_combos"] = check_int("val_combos", p["val_combos"])
    p["test_combos"] = check_int("test_combos", p["test_combos"])
    n_combos = len(data.DIGIT_VOICES) * len(p["pitches"]) * len(p["speeds"])
    if p["task"] == "digits" and p["val_combos"] + p["test_combos"] >= n_combos:
        raise ParameterError(
            f"val_combos + test_combos = {p['val_combos'] + p['test_combos']} must be below "
            f"the {n_combos} speaker combinations (voices x pitches x speeds) to leave some "
            "for training"
        )
    return p


@register(EXPERIMENT, validate=_validate, derive_seed=False)
def run_classify(
    *,
    task: str,
    frontend: str,
    epochs: int = 8,
    n_train: int = 600,
    n_val: int = 120,
    n_test: int = 300,
    batch_size: int = 32,
    lr: float = 3e-3,
    frontend_lr: float = 1.0,
    pitches: list[int] | tuple[int, ...] = (40, 60),
    speeds: list[int] | tuple[int, ...] = (150, 190),
    val_combos: int = 3,
    test_combos: int = 4,
    seed: int,
) -> dict[str, Any]:
    r"""Train a frontend and the tiny CNN on a task; test accuracy and the bank's changes.

    Data (:func:`fbinit.bench.classify_data.make_splits`) come from ``seed`` alone, so
    every frontend of one seed sees the same examples; the frontend's and back end's
    initialisation and the batch order come from ``seed`` and the frontend's name (the
    experiment is registered with ``derive_seed=False`` for this pairing). Adam, batch
    ``batch_size``, cross-entropy; the back end at learning rate ``lr``, each learnable
    frontend tensor p at :math:`\text{lr} \cdot \text{frontend\_lr} \cdot
    \text{rms}(p_0)` (its RMS at initialisation), so that taps (about 0.01), Gabor centres
    (radians) and sinc cutoffs (Hz) move at the same relative rate. The model of the
    epoch with the best validation accuracy is tested. Fixed frontends compute their
    features once.

    Returns
    -------
    dict
        ``task, frontend, learnable, accuracy`` (test), ``val_accuracy, train_accuracy,
        chance, n_params`` (learnable frontend parameters), ``backend_params,
        best_epoch, kappa_init, kappa_final`` (full band at the frontend's stride; None
        when singular), ``kappa_band_init, kappa_band_final`` (stride 1, in
        :data:`BANDS` [task]), ``band_energy_init, band_energy_final, band_share_init,
        band_share_final, n_in_band_init, n_in_band_final`` (tones only, else None;
        :func:`bank_summary`),
        ``centre_hz_init, centre_hz_final, band, wall_s``.
    """
    start = time.perf_counter()
    p = _validate({k: v for k, v in locals().items() if k not in ("seed", "start")})
    seed = check_int("seed", seed, minimum=0)
    splits = data.make_splits(
        task,
        p["n_train"],
        p["n_val"],
        p["n_test"],
        seed,
        tuple(p["pitches"]),
        tuple(p["speeds"]),
        p["val_combos"],
        p["test_combos"],
    )
    model_seed = _model_seed(seed, frontend)
    torch.manual_seed(model_seed)
    front = build_frontend(frontend, seed=model_seed)
    learnable = frontend in LEARNABLE
    band = BANDS[task]
    before = bank_summary(front, band)
    x = {k: torch.from_numpy(v[0]) for k, v in splits.items()}
    y = {k: torch.from_numpy(v[1]) for k, v in splits.items()}
    if not learnable:
        x = {k: _features(front, v) for k, v in x.items()}
    n_filters = int(_features(front, x["val"][:1]).shape[1]) if learnable else x["val"].shape[1]
    backend = Backend(n_filters, data.n_classes(task))
    groups: list[dict[str, Any]] = [{"params": list(backend.parameters()), "lr": lr}]
    front_params = [q for q in front.parameters() if q.requires_grad]
    for q in front_params:
        rms = float(q.detach().pow(2).mean().sqrt()) or 1.0
        groups.append({"params": [q], "lr": lr * frontend_lr * rms})
    optimiser = torch.optim.Adam(groups)
    generator = torch.Generator().manual_seed(model_seed)
    best: tuple[float, int, Any] = (-1.0, 0, None)
    for epoch in range(p["epochs"]):
        front.train()
        backend.train()
        order = torch.randperm(len(y["train"]), generator=generator)
        for i in range(0, len(order), p["batch_size"]):
            idx = order[i : i + p["batch_size"]]
            if len(idx) < 2:  # batch norm needs two examples
                continue
            feats = front(x["train"][idx]) if learnable else x["train"][idx]
            loss = torch.nn.functional.cross_entropy(backend(feats), y["train"][idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        val = _accuracy(front, backend, x["val"], y["val"], not learnable)
        if val > best[0]:
            state = (copy.deepcopy(front.state_dict()), copy.deepcopy(backend.state_dict()))
            best = (val, epoch + 1, state)
    front.load_state_dict(best[2][0])
    backend.load_state_dict(best[2][1])
    after = bank_summary(front, band)
    tones = task == "tones"
    return {
        "task": task,
        "frontend": frontend,
        "learnable": learnable,
        "seed": seed,
        "accuracy": _accuracy(front, backend, x["test"], y["test"], not learnable),
        "val_accuracy": best[0],
        "train_accuracy": _accuracy(front, backend, x["train"], y["train"], not learnable),
        "chance": data.chance(task),
        "n_params": sum(q.numel() for q in front_params),
        "backend_params": sum(q.numel() for q in backend.parameters()),
        "best_epoch": best[1],
        "epochs": p["epochs"],
        "n_train": p["n_train"],
        "n_test": p["n_test"],
        "kappa_init": before["kappa"],
        "kappa_final": after["kappa"],
        "kappa_band_init": before["kappa_band"],
        "kappa_band_final": after["kappa_band"],
        "band": list(band),
        "band_energy_init": before["band_energy"] if tones else None,
        "band_energy_final": after["band_energy"] if tones else None,
        "band_share_init": before["band_share"] if tones else None,
        "band_share_final": after["band_share"] if tones else None,
        "n_in_band_init": before["n_in_band"] if tones else None,
        "n_in_band_final": after["n_in_band"] if tones else None,
        "centre_hz_init": before["centre_hz"],
        "centre_hz_final": after["centre_hz"],
        "wall_s": time.perf_counter() - start,
    }


#: sizes of each mode: (n_train, n_val, n_test, epochs, pitches, speeds, val/test combos)
_MODES: dict[str, dict[str, Any]] = {
    "tiny": {"epochs": 1, "n_train": 40, "n_val": 20, "n_test": 20},
    "quick": {"epochs": 12, "n_train": 500, "n_val": 100, "n_test": 200},
    "full": {
        "epochs": 30,
        "n_train": 3000,
        "n_val": 500,
        "n_test": 1000,
        "pitches": [30, 45, 60, 75],
        "speeds": [130, 160, 190, 220],
        "val_combos": 8,
        "test_combos": 12,
    },
}


def plan(mode: str) -> list[tuple[dict[str, Any], list[int]]]:
    """(params, seeds) for ``mode``: every task x frontend.

    - ``tiny`` (tests): 40 training examples, 1 epoch, seed 0 (about 10 s for all 18);
    - ``quick``: 500 training examples, 12 epochs, seed 0 (about 60 s on one core);
    - ``full``: 3000 training examples, 30 epochs, 5 seeds; digits over 5 voices x 4
      pitches x 4 speeds with 12 test and 8 validation combinations held out. Measured
      here for seed 0 on one core: tones 30 s per free convolution, 31 s sinc, 50 s
      gabor, 91 s multires, 10-13 s per fixed bank; digits 45-54 s per free
      convolution, 12 s mel (gabor, sinc, multires and the other fixed banks about 1.5x
      their tones times). About 13 min per seed, 65 min for the 5 seeds on one core,
      33 min on 2 workers, about 65/N min on N Dask workers down to the longest run
      (multires on digits, about 2.5 min).
    """
    mode = check_choice("mode", mode, ("tiny", "quick", "full"))
    seeds = [0, 1, 2, 3, 4] if mode == "full" else [0]
    return [
        ({"task": task, "frontend": name, **_MODES[mode]}, seeds)
        for task in data.TASKS
        for name in FRONTENDS
    ]


def _groups(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault((r["task"], r["frontend"]), []).append(r)
    order = {name: i for i, name in enumerate(FRONTENDS)}
    tasks = {name: i for i, name in enumerate(data.TASKS)}
    return dict(
        sorted(out.items(), key=lambda kv: (tasks.get(kv[0][0], 9), order.get(kv[0][1], 99)))
    )


def _mean(values: list[Any]) -> float | None:
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return float(np.mean(v)) if v else None


def _kappa_cell(values: list[Any]) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return "inf"
    text = mean_sd(v, digits=3 if max(v) < 10 else 1)
    return text + (f" ({len(values) - len(v)} inf)" if len(v) < len(values) else "")


def _accuracy_figure(groups: Mapping[tuple[str, str], list[dict[str, Any]]]) -> Figure:
    fig = Figure(figsize=(9, 3.4))
    axes = fig.subplots(1, len(data.TASKS), sharey=True)
    for ax, task in zip(np.atleast_1d(axes), data.TASKS, strict=True):
        items = [(name, rs) for (t, name), rs in groups.items() if t == task]
        if not items:
            ax.set_visible(False)
            continue
        acc = [[100 * r["accuracy"] for r in rs] for _, rs in items]
        means = [np.mean(a) for a in acc]
        sds = [np.std(a, ddof=1) if len(a) > 1 else 0.0 for a in acc]
        colours = ["C0" if name in LEARNABLE else "C1" for name, _ in items]
        ax.bar(range(len(items)), means, yerr=sds, color=colours, capsize=3)
        ax.bar([0], [0], color="C0", label="learnable")
        ax.bar([0], [0], color="C1", label="fixed")
        ax.axhline(100 * items[0][1][0]["chance"], color="k", ls="--", lw=1, label="chance")
        ax.set_xticks(range(len(items)), [name for name, _ in items], rotation=45, ha="right")
        ax.set_title(task)
        ax.set_ylim(0, 100)
        ax.legend(loc="lower right", fontsize=8)
    np.atleast_1d(axes)[0].set_ylabel("test accuracy (%)")
    fig.tight_layout()
    return fig


def _centre_figure(groups: Mapping[tuple[str, str], list[dict[str, Any]]]) -> Figure | None:
    items = [
        (name, rs[0])
        for (task, name), rs in groups.items()
        if task == "tones" and name in LEARNABLE
    ]
    if not items:
        return None
    fig = Figure(figsize=(9, 1.9 * math.ceil(len(items) / 3) + 0.6))
    axes = np.atleast_1d(fig.subplots(math.ceil(len(items) / 3), 3, squeeze=False)).ravel()
    for ax, (name, r) in zip(axes, items, strict=False):
        for key, style in (("centre_hz_init", "o"), ("centre_hz_final", "x")):
            c = np.sort([v for v in r[key] if v is not None])
            ax.plot(c, style, ms=3, label=key.split("_")[-1])
        ax.axhspan(*r["band"], color="C2", alpha=0.2)
        ax.set_title(f"{name} (seed {r.get('seed', 0)})", fontsize=9)
        ax.set_ylim(0, data.SAMPLE_RATE / 2)
    for ax in axes[len(items) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    axes[0].set_ylabel("centre (Hz)")
    fig.suptitle("tones: sorted filter centres before (o) and after (x) training; band shaded")
    fig.tight_layout()
    return fig


def section(records: list[dict[str, Any]]) -> Section:
    """Accuracy per task and frontend (mean ± sd over seeds), kappa and band energy before
    and after training, the accuracy bars and the centre frequencies of the learnable
    filters on the tones, and findings."""
    groups = _groups([r for r in records if r.get("task") in data.TASKS])
    rows, kappa_rows, band_rows = [], [], []
    for (task, name), rs in groups.items():
        rows.append(
            [
                task,
                name,
                mean_sd([r["accuracy"] for r in rs], 100, 1),
                mean_sd([r["val_accuracy"] for r in rs], 100, 1),
                f"{100 * rs[0]['chance']:.1f}",
                str(rs[0]["n_params"]),
                str(len(rs)),
            ]
        )
        kappa_rows.append(
            [
                task,
                name,
                _kappa_cell([r["kappa_init"] for r in rs]),
                _kappa_cell([r["kappa_final"] for r in rs]),
                _kappa_cell([r["kappa_band_init"] for r in rs]),
                _kappa_cell([r["kappa_band_final"] for r in rs]),
            ]
        )
        if task == "tones":
            band_rows.append(
                [
                    name,
                    mean_sd([r["band_energy_init"] for r in rs], 100, 1),
                    mean_sd([r["band_energy_final"] for r in rs], 100, 1),
                    mean_sd([r["band_share_init"] for r in rs], 100, 1),
                    mean_sd([r["band_share_final"] for r in rs], 100, 1),
                    mean_sd([r["n_in_band_init"] for r in rs], 1, 1),
                    mean_sd([r["n_in_band_final"] for r in rs], 1, 1),
                ]
            )
    tables = [
        Table(
            [
                "task",
                "frontend",
                "test accuracy (%)",
                "val accuracy (%)",
                "chance (%)",
                "frontend params",
                "seeds",
            ],
            rows,
            "Test accuracy of the best-validation epoch, mean ± sd over seeds; the same tiny "
            "CNN back end for every frontend.",
        ),
        Table(
            [
                "task",
                "frontend",
                "kappa init",
                "kappa final",
                "kappa in band init",
                "kappa in band final",
            ],
            kappa_rows,
            "Condition number B/A of the analysis bank at its stride (inf: singular, e.g. "
            "fewer filters than the hop), and at stride 1 within the task band "
            f"(tones {data.TONE_BAND[0]:g}-{data.TONE_BAND[1]:g} Hz, digits "
            f"{BANDS['digits'][0]:g}-{BANDS['digits'][1]:g} Hz).",
        ),
    ]
    if band_rows:
        share = (data.TONE_BAND[1] - data.TONE_BAND[0]) / (data.SAMPLE_RATE / 2)
        tables.append(
            Table(
                [
                    "frontend",
                    "band energy init (%)",
                    "band energy final (%)",
                    "mean filter share init (%)",
                    "mean filter share final (%)",
                    "filters in band init",
                    "filters in band final",
                ],
                band_rows,
                "Tones: share of the filters' summed power response inside the "
                f"discriminative band (a flat bank: {100 * share:.0f}%), the mean over filters "
                "of each filter's own share (blind to gains), and the number of filters "
                "whose centre frequency lies in it.",
            )
        )
    figures: list[tuple[str, Figure]] = []
    if groups:
        figures.append(("classify_accuracy", _accuracy_figure(groups)))
    centres = _centre_figure(groups)
    if centres is not None:
        figures.append(("classify_centres", centres))
    return Section(
        key="classify",
        title="Classification: tones near 3.5 kHz and spoken digits",
        findings=_findings(groups),
        tables=tables,
        figures=figures,
    )


def _findings(groups: Mapping[tuple[str, str], list[dict[str, Any]]]) -> list[str]:
    acc = {key: _mean([r["accuracy"] for r in rs]) for key, rs in groups.items()}
    out = []
    for task in data.TASKS:
        here = {name: a for (t, name), a in acc.items() if t == task and a is not None}
        if not here:
            continue
        chance = 100 * data.chance(task)
        best = max(here, key=lambda name: here[name])
        ranked = ", ".join(
            f"{n} {100 * a:.1f}%" for n, a in sorted(here.items(), key=lambda kv: -kv[1])
        )
        out.append(f"{task}: test accuracy (chance {chance:.0f}%): {ranked}; best {best}.")
        if "mel" in here:
            m = here["mel"]
            better, worse = [], []
            for name, a in here.items():
                rs = groups[(task, name)]
                n = sum(r.get("n_test", 0) for r in rs) or 1
                n_mel = sum(r.get("n_test", 0) for r in groups[(task, "mel")]) or 1
                se = math.sqrt(a * (1 - a) / n + m * (1 - m) / n_mel)
                if a - m > 2 * se:
                    better.append(name)
                elif m - a > 2 * se:
                    worse.append(name)
            out.append(
                f"{task}: mel ({100 * m:.1f}%) is beaten by "
                f"{', '.join(better) or 'no frontend'} and beats {', '.join(worse) or 'none'} "
                "(differences over twice their binomial standard error on the pooled test "
                "examples; the rest are ties)."
            )
    moved = []
    for (task, name), rs in groups.items():
        if task != "tones" or name not in LEARNABLE:
            continue
        e0 = _mean([r["band_share_init"] for r in rs])
        e1 = _mean([r["band_share_final"] for r in rs])
        n0 = _mean([r["n_in_band_init"] for r in rs])
        n1 = _mean([r["n_in_band_final"] for r in rs])
        if e0 is not None and e1 is not None and n0 is not None and n1 is not None:
            moved.append(
                f"{name} {100 * e0:.1f}% -> {100 * e1:.1f}% ({n0:.1f} -> {n1:.1f} filters)"
            )
    kappas = []
    for (task, name), rs in groups.items():
        k0 = _mean([r["kappa_band_init"] for r in rs])
        k1 = _mean([r["kappa_band_final"] for r in rs])
        if name in LEARNABLE and k0 is not None and k1 is not None:
            kappas.append(f"{task}/{name} {k0:.3g} -> {k1:.3g}")
    if kappas:
        out.append(
            "in-band kappa (stride 1) of the learnable banks before -> after training (mean "
            "over seeds): " + "; ".join(kappas) + "."
        )
    if moved:
        out.append(
            "tones, mean share of a learnable filter's power in the discriminative band "
            "before -> after training (filters centred in it): " + "; ".join(moved) + "."
        )
    return out
