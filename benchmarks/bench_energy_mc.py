"""Energy Monte Carlo: sampling the exact law (eigenvalues) vs drawing banks (convolutions).

Both routes of ``fbinit.energy_monte_carlo`` produce draws of ||Phi x||^2 for random
Gaussian banks, in one process on the same signals:

- "fft": draw the banks and convolve them with the signals (FFTs of autocorrelations);
- "eigen": eigenvalues of the T x T Toeplitz autocorrelation matrix once, then gamma draws
  (sigma^2 sum_i lambda_i chi^2_J).

Prints the time of each and their ratio per kernel size, and a two-sample
Kolmogorov-Smirnov p-value as a check that they sample the same law.

Run: ``.venv/bin/python benchmarks/bench_energy_mc.py [--draws 2000] [--kernel-sizes 64 1024]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see analysis/paper_figures.py

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402
import torch  # noqa: E402
from _timing import best_of  # noqa: E402  (benchmarks/_timing.py)

import fbinit  # noqa: E402
from fbinit import signals  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--n-filters", type=int, default=10)
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    speech, _ = signals.example()
    x = np.stack(
        [signals.impulse(4096), signals.lazy_walk(4096, seed=0), signals.normalize(speech[:4096])]
    )
    print(
        f"{x.shape[0]} signals of {x.shape[1]} samples, J={args.n_filters}, "
        f"{args.draws} draws, torch threads={torch.get_num_threads()}, load average "
        + " ".join(f"{v:.1f}" for v in os.getloadavg())
    )
    for T in args.kernel_sizes:

        def route(method: str, T: int = T):
            return fbinit.energy_monte_carlo(
                x, args.n_filters, T, n_draws=args.draws, method=method, seed=0
            )

        fft, eig = route("fft"), route("eigen")
        p_min = min(
            scipy.stats.ks_2samp(fft[:, s].numpy(), eig[:, s].numpy()).pvalue
            for s in range(x.shape[0])
        )
        t_fft = best_of(lambda: route("fft"), args.repeat)
        t_eig = best_of(lambda: route("eigen"), args.repeat)
        print(
            f"T={T:5d}: by convolutions {t_fft * 1e3:8.1f} ms, by eigenvalues "
            f"{t_eig * 1e3:8.1f} ms, convolutions / eigenvalues = {t_fft / t_eig:6.1f}  "
            f"(same law: smallest KS p-value {p_min:.2f})"
        )


if __name__ == "__main__":
    main()
