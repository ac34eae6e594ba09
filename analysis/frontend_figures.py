"""Impulse and frequency responses of the learnable frontends at initialisation.

One PNG per frontend for the documentation (docs/img/frontends/<name>.png): a few impulse
responses (real part, and the imaginary part of complex filters) on the left; on the right
every filter's magnitude response in dB over 0 .. sample_rate / 2 and the Littlewood-Paley
sum (the energy gain that real signals see), with the condition number in band and over the
full band in the title.

Run: ``.venv/bin/python analysis/frontend_figures.py [--out docs/img/frontends]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

import fbinit
from fbinit._io import save_figure
from fbinit.frontends import registry

#: frontends drawn for the documentation pages (conv.md, gabor.md, sinc.md)
DRAWN = ("conv-gaussian", "conv-kaiming", "td-filterbank", "gabor", "leaf", "sinc", "sincnet")
N_FFT = 4096


def draw(name: str, out: Path) -> Path:
    frontend = registry.create(name)
    bank = frontend.filterbank()
    weights = bank.weights.numpy()
    sample_rate = bank.sample_rate
    spectrum = np.abs(fbinit.frequency_response(bank, n_fft=N_FFT).numpy())
    half = N_FFT // 2 + 1
    freqs = np.arange(half) * sample_rate / N_FFT
    lp = fbinit.littlewood_paley(bank, n_fft=N_FFT).numpy()[:half]
    kappa_full = float(fbinit.condition_number(bank, n_fft=N_FFT))
    title = f"{name}: J={bank.n_filters}, T={bank.kernel_size}, kappa full band {kappa_full:.3g}"
    if bank.band is not None:
        kappa_band = float(fbinit.condition_number(bank, n_fft=N_FFT, band=bank.band))
        title += f", in band {bank.band[0]:g}-{bank.band[1]:g} Hz {kappa_band:.3g}"
    fig = Figure(figsize=(11, 3.6))
    left, right = fig.subplots(1, 2)
    t = (np.arange(bank.kernel_size) - bank.kernel_size // 2) / sample_rate * 1e3
    for j in np.linspace(0, bank.n_filters - 1, 4).round().astype(int):
        (line,) = left.plot(t, weights[j].real, lw=0.8, label=f"filter {j}")
        if np.iscomplexobj(weights):
            left.plot(t, weights[j].imag, lw=0.6, ls="--", color=line.get_color())
    left.set(xlabel="time (ms)", ylabel="tap", title="impulse responses (dashed: imaginary)")
    left.legend(fontsize=7, loc="upper right")
    floor = 1e-6 * spectrum.max()
    right.plot(freqs, 20 * np.log10(np.maximum(spectrum[:, :half].T, floor)), lw=0.5, alpha=0.7)
    right.plot(freqs, 10 * np.log10(np.maximum(lp, floor**2)), color="k", lw=1.5, label="LP sum")
    right.set(xlabel="frequency (Hz)", ylabel="dB", title="frequency responses")
    right.legend(fontsize=7, loc="lower center")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out / f"{name}.png", dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img/frontends"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name in DRAWN:
        print(draw(name, args.out))


if __name__ == "__main__":
    main()
