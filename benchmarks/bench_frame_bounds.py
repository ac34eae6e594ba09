"""Frame bounds of 1000 random banks (J = 40, T = 1024, N = 1024): fbinit vs baselines.

Baselines, run in the same process on the same weights:
- naive: a Python loop over draws and filters, one numpy rfft per filter (the reference
  notebooks' approach);
- bare rfft: one batched ``torch.fft.rfft`` of all weights, the machine's limit for any
  method that needs the spectra.

Run: ``.venv/bin/python benchmarks/bench_frame_bounds.py [--draws 1000]``
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import best_of  # benchmarks/_timing.py

from fbinit import frame_bounds
from fbinit.banks import gaussian


def naive_frame_bounds(weights: np.ndarray, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw, per-filter FFT loop."""
    A = np.empty(len(weights))
    B = np.empty(len(weights))
    for m, bank in enumerate(weights):
        lp = np.zeros(n_fft // 2 + 1)
        for filt in bank:
            lp += np.abs(np.fft.rfft(filt, n=n_fft)) ** 2
        A[m], B[m] = lp.min(), lp.max()
    return A, B


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--n-filters", type=int, default=40)
    parser.add_argument("--kernel-size", type=int, default=1024)
    parser.add_argument("--n-fft", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bank = gaussian(args.n_filters, args.kernel_size, n_draws=args.draws, seed=0)
    weights = bank.weights
    A, B = frame_bounds(bank, n_fft=args.n_fft)
    A0, B0 = naive_frame_bounds(weights.numpy(), args.n_fft)
    if not (np.allclose(A.numpy(), A0, rtol=1e-10) and np.allclose(B.numpy(), B0, rtol=1e-10)):
        raise SystemExit("fbinit and the naive loop disagree")
    t_pkg = best_of(lambda: frame_bounds(bank, n_fft=args.n_fft), args.repeat)
    t_rfft = best_of(lambda: torch.fft.rfft(weights, n=args.n_fft), args.repeat)
    t_naive = best_of(lambda: naive_frame_bounds(weights.numpy(), args.n_fft), 1)
    print(
        f"{args.draws} banks, J={args.n_filters}, T={args.kernel_size}, N={args.n_fft}, "
        f"torch threads={torch.get_num_threads()}"
    )
    print(f"fbinit.frame_bounds   {t_pkg * 1e3:9.1f} ms")
    print(f"bare batched rfft     {t_rfft * 1e3:9.1f} ms   fbinit / rfft  = {t_pkg / t_rfft:.2f}")
    print(f"naive per-filter loop {t_naive * 1e3:9.1f} ms   naive / fbinit = {t_naive / t_pkg:.1f}")


if __name__ == "__main__":
    main()
