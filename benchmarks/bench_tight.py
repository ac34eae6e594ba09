"""Tightening FIR banks: fbinit.tight.tighten against the two methods it replaces.

Targets (issue 8): random Gaussian banks J = 40, T = 128 at stride 1 and 4 (n_fft = 1024)
and a 40-channel gammatone bank of 400 taps at stride 16, 16 kHz, all to kappa <= 1.01.
Run in one process on the same banks:

- ``tighten``: L-BFGS on the frame potential, then on the smooth kappa (fbinit);
- alternating projections: canonical tight frame S^{-1/2} w, truncated back to T taps,
  until kappa <= 1 + tol (the reference notebooks' and hybra's ``fir_tightener3000``);
- Adam on B/A for a fixed number of steps (hybra's ``tight``, which never stops early),
  here on fbinit's ``kappa_penalty``, on the bank scaled to a largest tap of 1.

Times are the best of ``--repeat`` runs; kappa is re-measured with ``condition_number``.
Run: ``.venv/bin/python benchmarks/bench_tight.py [--quick]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from fbinit import condition_number
from fbinit.banks import gammatone, gaussian
from fbinit.filterbank import Filterbank
from fbinit.tight import canonical_tight, kappa_penalty, tighten


def alternating_projections(bank: Filterbank, n_fft: int, tol: float, max_iter: int):
    """Canonical tight frame then truncation to kernel_size, until kappa <= 1 + tol."""
    weights = bank.weights
    for iteration in range(max_iter + 1):
        kappa = condition_number(weights, n_fft=n_fft, stride=bank.stride).item()
        if kappa <= 1 + tol or iteration == max_iter:
            return weights, kappa, iteration
        tight = canonical_tight(weights, n_fft=n_fft, stride=bank.stride)
        weights = tight.weights[:, : bank.kernel_size]
    raise AssertionError("unreachable")


def adam_on_kappa(bank: Filterbank, n_fft: int, steps: int, lr: float):
    """Adam on the exact penalty B/A - 1 for a fixed number of steps."""
    weights = (bank.weights / bank.weights.abs().max()).clone().requires_grad_()
    optimizer = torch.optim.Adam([weights], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        kappa_penalty(weights, n_fft=n_fft, stride=bank.stride).backward()
        optimizer.step()
    kappa = condition_number(weights.detach(), n_fft=n_fft, stride=bank.stride).item()
    return weights.detach(), kappa, steps


def timed(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=0.01)
    parser.add_argument("--adam-steps", type=int, default=1000)
    parser.add_argument("--adam-lr", type=float, default=1e-3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 Adam steps, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.adam_steps, args.repeat = 100, 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gammatone's cropped low channels
        auditory = gammatone(40, 400, sample_rate=16000.0, stride=16)
    cases = [
        ("gaussian J=40 T=128 stride 1", gaussian(40, 128, seed=0), 1024),
        ("gaussian J=40 T=128 stride 4", gaussian(40, 128, stride=4, seed=0), 1024),
        ("gammatone J=40 T=400 stride 16", auditory, 1024),
    ]
    tighten(cases[0][1], n_fft=1024)  # warm-up
    print(
        f"tol={args.tol}, torch threads={torch.get_num_threads()}, best of {args.repeat} "
        "(machine shared: compare ratios, not seconds)"
    )
    for name, bank, n_fft in cases:
        kappa0 = condition_number(bank, n_fft=n_fft).item()
        t_fb, result = timed(lambda b=bank, n=n_fft: tighten(b, n_fft=n, tol=args.tol), args.repeat)
        kappa_fb = condition_number(result.bank, n_fft=n_fft).item()
        t_alt, (_, kappa_alt, it_alt) = timed(
            lambda b=bank, n=n_fft: alternating_projections(b, n, args.tol, 1000), args.repeat
        )
        t_adam, (_, kappa_adam, _) = timed(
            lambda b=bank, n=n_fft: adam_on_kappa(b, n, args.adam_steps, args.adam_lr), 1
        )
        print(f"\n{name}, n_fft={n_fft}: initial kappa {kappa0:.4g}")
        print(
            f"  fbinit tighten          {t_fb:8.2f} s  kappa {kappa_fb:.5f}  "
            f"({result.iterations} iterations, {result.evaluations} evaluations)"
        )
        print(
            f"  alternating projections {t_alt:8.2f} s  kappa {kappa_alt:.5f}  "
            f"({it_alt} steps)  time ratio {t_alt / t_fb:5.1f}"
        )
        print(
            f"  Adam on B/A, lr={args.adam_lr:g}    {t_adam:8.2f} s  kappa {kappa_adam:.5f}  "
            f"({args.adam_steps} steps)  time ratio {t_adam / t_fb:5.1f}"
        )


if __name__ == "__main__":
    main()
