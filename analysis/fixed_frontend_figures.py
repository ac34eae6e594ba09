"""Figures of the frontend pages: impulse and frequency responses at initialisation.

Draws, into docs/img/frontends/, one PNG per frontend (stft, mel, wavelet, gammatone,
multires) with a few impulse responses and every filter's power response, and monitor.png,
the ConditionMonitor of a MultiresFrontend trained for 300 steps on a synthetic task.

    python analysis/fixed_frontend_figures.py [NAME ...] [--out docs/img/frontends]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from fbinit._io import save_figure
from fbinit.banks import gammatone, mel
from fbinit.frontends import (
    ConditionMonitor,
    GammatoneFrontend,
    MelFrontend,
    MultiresFrontend,
    STFTFrontend,
    WaveletFrontend,
)
from fbinit.frontends.monitor import response_power
from fbinit.signals import chirp, harmonic

ROOT = Path(__file__).resolve().parents[1]
SR = 16000.0
N_FFT = 1 << 15


def db(power: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(power, 1e-12 * power.max()))


def response_figure(
    title, weights, power, shown, *, strides=None, log_freq=False, origin=None, sample_rate=SR
):
    """Left: the impulse responses of the rows ``shown``; right: every power response.

    The Littlewood-Paley sum weighs row j by 1/strides[j] when ``strides`` is given (the
    alias-free sum of a multirate bank).
    """
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    origin = weights.shape[-1] // 2 if origin is None else origin
    t = (np.arange(weights.shape[-1]) - origin) / sample_rate * 1e3
    for j in shown:
        w = weights[j]
        (line,) = left.plot(t, w.real, lw=0.8, label=f"filter {j}")
        if np.iscomplexobj(w):
            left.plot(t, np.abs(w), lw=0.6, ls="--", color=line.get_color())
    support = np.flatnonzero(np.abs(weights[shown]).max(axis=0) > 1e-3 * np.abs(weights).max())
    left.set_xlim(t[support[0]], t[support[-1]])
    left.set(xlabel=f"time (ms), tap {origin} at 0", title=f"{title}: impulse responses")
    left.legend(fontsize=7)
    f = np.arange(power.shape[-1]) * sample_rate / (2 * (power.shape[-1] - 1))
    right.plot(f, db(power).T, lw=0.5, color="tab:blue", alpha=0.6)
    if strides is None:
        lp, label = power.sum(axis=0), "Littlewood-Paley sum"
    else:
        lp, label = (power / np.asarray(strides)[:, None]).sum(axis=0), "alias-free LP sum"
    right.plot(f, db(lp), lw=1.2, color="black", label=label)
    right.legend(fontsize=7, loc="lower center")
    right.set(xlabel="frequency (Hz)", ylabel="dB", title="power responses (real input)")
    right.set_ylim(db(power).max() - 60, db(power).max() + 10)
    if log_freq:
        right.set_xscale("log")
        right.set_xlim(20, sample_rate / 2)
    return fig


def bank_figure(title, frontend, shown, *, log_freq=True, causal=False):
    """Responses of a frontend's kernels; ``causal``: the kernels are causal taps reversed."""
    with torch.no_grad():
        w = frontend.double().impulse_responses()
    if causal:
        w = torch.flip(w, dims=(-1,))
    power = response_power(w, n_fft=max(N_FFT, w.shape[-1])).numpy()
    strides = frontend.stride if isinstance(frontend.stride, tuple) else None
    return response_figure(
        title,
        w.numpy(),
        power,
        shown,
        strides=strides,
        log_freq=log_freq,
        origin=0 if causal else None,
    )


def mel_figure():
    """The mel channels' effective power responses: M applied to the STFT atoms' responses."""
    mel = MelFrontend(40, 512, stride=160, sample_rate=SR, fmin=60.0, fmax=7800.0).double()
    with torch.no_grad():
        atoms = mel.impulse_responses()
        power = mel.projection @ response_power(atoms, n_fft=N_FFT)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    f_bins = np.arange(257) * SR / 512
    left.plot(f_bins, mel.projection.numpy().T, lw=0.7)
    left.set(xlabel="frequency (Hz)", title="mel matrix M (librosa, Slaney)")
    f = np.arange(power.shape[-1]) * SR / N_FFT
    right.plot(f, db(power.numpy()).T, lw=0.5, color="tab:blue", alpha=0.6)
    right.set_ylim(db(power.numpy()).max() - 60, db(power.numpy()).max() + 10)
    right.set(xlabel="frequency (Hz)", ylabel="dB", title="mel channels through the STFT")
    return fig


def monitor_figure():
    """A mel-initialised Conv1d learning the log energies of a gammatone bank (from 200 Hz)."""
    torch.manual_seed(0)
    student = torch.nn.Conv1d(1, 40, 401, bias=False, padding=200)
    with torch.no_grad():
        init = mel(40, 401, sample_rate=SR, fmin=60.0, fmax=7800.0).weights
        student.weight.copy_(init[:, None, :] / init.norm(dim=-1).max())
    teacher = torch.nn.Conv1d(1, 40, 401, bias=False, padding=200)
    with torch.no_grad():
        teacher.weight.copy_(gammatone(40, 401, sample_rate=SR, fmin=200.0).weights[:, None, :])
    f0s = [110.0, 150.0, 220.0, 300.0, 440.0, 600.0, 880.0, 1200.0]
    tones = [harmonic(4096, f0=f0, n_harmonics=5, sample_rate=SR) for f0 in f0s]
    sweep = chirp(4096, f0=100.0, f1=7000.0, sample_rate=SR)
    x = torch.tensor(np.stack([tone + 0.1 * sweep for tone in tones]))
    x = x.float()[:, None]

    def features(conv):
        return torch.log(conv(x).square().mean(dim=-1) + 1e-6)

    with torch.no_grad():
        target = features(teacher)
    opt = torch.optim.Adam(student.parameters(), lr=1e-3)
    monitor = ConditionMonitor(student, every=10, sample_rate=SR, band=(60.0, 7800.0))
    for step in range(1, 301):
        opt.zero_grad()
        (features(student) - target).square().mean().backward()
        opt.step()
        monitor(step)
    return monitor.plot()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="figures to draw (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "frontends")
    args = parser.parse_args()
    figures = {
        "stft": lambda: bank_figure(
            "STFT (n_fft 512)", STFTFrontend().double(), [0, 16, 64], log_freq=False
        ),
        "mel": mel_figure,
        "wavelet": lambda: bank_figure("CQT (72 bins from 110 Hz)", WaveletFrontend(), [0, 36, 71]),
        "gammatone": lambda: bank_figure(
            "gammatone (64, ERB)", GammatoneFrontend(), [0, 32, 63], causal=True
        ),
        "multires": lambda: bank_figure(
            "MultiresFrontend (J=8, Q=5, T=40)", MultiresFrontend(), [0, 20, 35, 40]
        ),
        "monitor": monitor_figure,
    }
    for name, draw in figures.items():
        if args.names and name not in args.names:
            continue
        path = save_figure(draw(), args.out / f"{name}.png", dpi=80)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
