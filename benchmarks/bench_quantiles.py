"""Exact quantiles of the energy response vs Monte Carlo at equal accuracy.

The 95% quantile q of E = ||Phi x||^2 for random Gaussian banks (J filters of T taps) on a
signal x, computed two ways in one process:

- exact: ``energy_distribution(x, J, T).ppf(0.95)`` (Imhof's formula inverted);
- Monte Carlo: the empirical quantile of n draws of E.

Equal accuracy, precisely: the Monte Carlo sample size n(eps) whose standard error of the
quantile, relative to q, equals eps. By the asymptotic law of sample quantiles,

    se(q_hat) = sqrt(p (1 - p) / n) / f(q),   so   n(eps) = p (1 - p) / (f(q) q eps)^2,

with f the exact density of E at q (a central difference of the exact cdf), p = 0.95.
The exact method's own error bound is eps_exact = 1e-10 / (f(q) q) + 1e-12: its cdf is
within about 1e-10 (Imhof's truncation bounded by 1e-11, quadrature far below) and the
quantile is solved to a relative tolerance of 1e-12. The Monte Carlo cost is n(eps) times
the cost per draw, measured on ``--draws`` draws of each route of ``energy_monte_carlo``
("fft": drawing banks and convolving, the usual Monte Carlo; "eigen": gamma draws on the
eigenvalues, which needs the exact law's eigenvalues) and scaled linearly. Printed: the
ratio Monte Carlo / exact at eps_exact (the definition above; the target is >= 100), and,
for perspective, at eps = 1e-3 and 1e-4.

Run: ``.venv/bin/python benchmarks/bench_quantiles.py [--kernel-sizes 64 1024]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see analysis/paper_figures.py

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fbinit  # noqa: E402
from fbinit import signals  # noqa: E402

P = 0.95


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-filters", type=int, default=10)
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--draws", type=int, default=2000, help="draws timed per route")
    args = parser.parse_args()
    J = args.n_filters
    x = signals.lazy_walk(1024, seed=0)  # the paper's "Brownian noise" (Fig. 3)
    print(
        f"lazy walk, N = 1024, J = {J}, p = {P}, torch threads={torch.get_num_threads()}, "
        "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())
    )
    for T in args.kernel_sizes:
        t_exact, q = timed(lambda T=T: float(fbinit.energy_distribution(x, J, T).ppf(P)))
        law = fbinit.energy_distribution(x, J, T)
        h = 1e-4 * q
        density = float((law.cdf(q + h) - law.cdf(q - h)) / (2 * h))
        per_draw = {}
        for method in ("fft", "eigen"):
            t, draws = timed(
                lambda method=method, T=T: fbinit.energy_monte_carlo(
                    x, J, T, n_draws=args.draws, method=method, seed=1
                )
            )
            per_draw[method] = t / args.draws
            empirical = float(np.quantile(draws.numpy(), P))
            se = np.sqrt(P * (1 - P) / args.draws) / density
            if abs(empirical - q) > 5 * se:
                raise SystemExit(f"{method}: empirical q95 {empirical} is not the exact {q}")
        eps_exact = 1e-10 / (density * q) + 1e-12
        print(
            f"T={T:5d}: exact q95 = {q:.6f} in {t_exact * 1e3:.1f} ms (within a relative "
            f"{eps_exact:.1e}); density f(q) = {density:.4g}"
        )
        for label, eps in (
            ("exact's accuracy", eps_exact),
            ("eps = 1e-3", 1e-3),
            ("eps = 1e-4", 1e-4),
        ):
            n = P * (1 - P) / (density * q * eps) ** 2
            ratios = ", ".join(
                f"{route}: {n * cost / t_exact:.3g}x" for route, cost in per_draw.items()
            )
            print(f"    {label:16s} n = {n:.3g} draws; Monte Carlo / exact = {ratios}")


if __name__ == "__main__":
    main()
