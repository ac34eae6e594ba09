"""The seven paper figures at 1000 draws: fbinit's write_figures vs the notebooks' approach.

fbinit: ``fbinit.report.figures.write_figures`` (batched draws, seeded, exact laws, files
written). Baseline: a re-implementation of the reference notebooks' approach computing the
same quantities for Figs. 1-7 (numbers only, no plotting):

- unseeded global RNG (``np.random.randn``), a Python loop over draws, and inside it a loop
  over filters with one FFT of the signal, one of the zero-padded filter and one inverse FFT
  per filter (the notebooks' ``random_filterbank_energy``) for Figs. 2-4;
- Chebyshev and Cantelli deviations from the variance summed lag by lag with ``np.roll``,
  the notebooks' "Chernoff" curve by ``scipy.optimize.fsolve`` with the eigenvalues of
  :math:`Q_T` recomputed at every evaluation, as in the notebooks, and Bernstein's bound
  from the same eigenvalues (the notebooks had none; added so the baseline computes the same
  curves). The notebooks build :math:`Q_T = C_T^\\top C_T` from the N x N circulant of x; for
  the 1 s clips (N = 22 050) that matrix takes 3.9 GB, so the baseline fills the same T x T
  matrix from the lags instead (cheaper than the notebooks);
- per draw, the FFT of the (J, N) zero-padded bank and the min and max of its
  Littlewood-Paley sum for every (J, T) cell of Figs. 5-7, and the notebooks'
  extreme-value model (per draw, min and max of T chi-square samples) for Fig. 5.

The baseline computes no exact quantile (the notebooks had none), so it does less than
fbinit. Each (clip, T) and (J, T) cell is computed once in both, as write_figures does.

Run: ``.venv/bin/python benchmarks/bench_paper_figures.py [--full] [--draws 1000] [AUDIO ...]``
(the default, kernel sizes 8..64, 100 draws and a baseline measured at 20 draws, is the
quick run of ``make bench``; ``--full --draws 1000`` is the paper's configuration, about
half an hour for the baseline on a loaded 2-core machine).
"""

from __future__ import annotations

import os

# as in analysis/paper_figures.py: OpenMP threads must not spin-wait on a busy machine
# (set OMP_WAIT_POLICY=ACTIVE to measure torch's default behaviour)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.optimize  # noqa: E402
import scipy.signal  # noqa: E402
import torch  # noqa: E402

from fbinit import signals  # noqa: E402
from fbinit.report.figures import (  # noqa: E402
    ENERGY_N_FILTERS,
    FIG5_N_FILTERS,
    FIG6_N_FILTERS,
    FIG7_N_FILTERS,
    N_SAMPLES,
    SAMPLE_RATE,
    TAIL_PROBABILITY,
    paper_clips,
    write_figures,
)
from fbinit.report.figures import (
    KERNEL_SIZES as PAPER_KERNEL_SIZES,
)

#: kernel sizes of the run (set by main: the quick default, or the paper's with --full)
KERNEL_SIZES: tuple[int, ...] = (8, 16, 32, 64)

# ------------------------------------------------------------ the notebooks' approach


def nb_energy(x: np.ndarray, n_filters: int, kernel_size: int) -> float:
    """One draw of ||Phi x||^2: a fresh unseeded bank, one FFT triple per filter."""
    n = x.size
    # the notebooks' unseeded global RNG, reproduced on purpose
    w = np.random.randn(n_filters, kernel_size) / np.sqrt(kernel_size * n_filters)  # noqa: NPY002
    w_pad = np.pad(w, ((0, 0), (0, n - kernel_size)))
    y = 0.0
    for j in range(n_filters):
        y += np.linalg.norm(np.fft.ifft(np.fft.fft(x) * np.fft.fft(w_pad[j]))) ** 2
    return y


def nb_circ_autocorr(x: np.ndarray, lag: int) -> float:
    return float(np.dot(x, np.roll(x, lag)))


def nb_variance_sum(x: np.ndarray, kernel_size: int) -> float:
    """sum_{|tau| <= T} (T - |tau|) R(tau)^2, lag by lag."""
    return float(
        sum(
            (kernel_size - abs(t)) * nb_circ_autocorr(x, t) ** 2
            for t in range(-kernel_size, kernel_size + 1)
        )
    )


def nb_eig_qt(x: np.ndarray, kernel_size: int) -> np.ndarray:
    """Eigenvalues of Q_T: from the circulant of x (small N) or from its lags (large N)."""
    if x.size <= 4096:
        c = scipy.linalg.circulant(x)[:, :kernel_size]
        q = c.T @ c
    else:
        r = np.array([nb_circ_autocorr(x, t) for t in range(kernel_size)])
        q = scipy.linalg.toeplitz(r)
    return np.linalg.eigvals(q)


def nb_chernoff_curve(x, n_filters, kernel_size, alpha) -> float:
    lams = nb_eig_qt(x, kernel_size)
    nx2 = float(np.linalg.norm(x) ** 2)
    return math.exp(
        -(alpha**2 * n_filters * kernel_size**2 * nx2**2)
        / (2 * alpha * kernel_size * np.max(np.abs(lams)) * nx2 + 2 * np.linalg.norm(lams) ** 2)
    )


def nb_alpha_chernoff(x, n_filters, kernel_size, p) -> float:
    start = 0.1 if kernel_size < 256 else 0.01
    root = scipy.optimize.fsolve(
        lambda a: nb_chernoff_curve(x, n_filters, kernel_size, float(a[0])) - p, start
    )
    return float(root[0])


def nb_deviation_curves(x, n_filters, kernel_size, p) -> dict[str, float]:
    r0 = nb_circ_autocorr(x, 0)
    var_sum = nb_variance_sum(x, kernel_size)
    cheb = math.sqrt(2 * var_sum / (p * n_filters * (kernel_size * r0) ** 2))
    cant = math.sqrt(2 * (1 / p - 1) * var_sum / (n_filters * kernel_size**2)) / r0
    lams = np.abs(nb_eig_qt(x, kernel_size))
    sigma2 = 1.0 / (n_filters * kernel_size)
    u = math.log(1 / p)
    a2 = math.sqrt(n_filters) * sigma2 * float(np.linalg.norm(lams))
    bern = (2 * a2 * math.sqrt(u) + 2 * sigma2 * float(lams.max()) * u) / r0
    return {
        "chebyshev": cheb,
        "cantelli": cant,
        "bernstein": bern,
        "reference": nb_alpha_chernoff(x, n_filters, kernel_size, p),
    }


def nb_energy_draws(sigs: dict[str, np.ndarray], n_draws: int) -> dict:
    """Empirical mean, 95% quantile and histogram of E - 1 per (signal, T)."""
    out = {}
    for name, x in sigs.items():
        for T in KERNEL_SIZES:
            e = np.array([nb_energy(x, ENERGY_N_FILTERS, T) for _ in range(n_draws)])
            dev = e / np.dot(x, x) - 1
            out[name, T] = (dev.mean(), np.quantile(dev, 1 - TAIL_PROBABILITY), np.histogram(e, 40))
    return out


def nb_energy_curves(sigs: dict[str, np.ndarray]) -> dict:
    """Deviation curves per (signal, T) (independent of the number of draws)."""
    return {
        (name, T): nb_deviation_curves(x, ENERGY_N_FILTERS, T, TAIL_PROBABILITY)
        for name, x in sigs.items()
        for T in KERNEL_SIZES
    }


def nb_frame_bounds(n_filters: int, kernel_size: int, n_fft: int) -> tuple[float, float]:
    # the notebooks' unseeded global RNG, reproduced on purpose
    w = np.random.randn(n_filters, kernel_size) / np.sqrt(kernel_size * n_filters)  # noqa: NPY002
    w = np.pad(w, ((0, 0), (0, n_fft - kernel_size)))
    lp = np.sum(np.abs(np.fft.fft(w, axis=1)) ** 2, axis=0)
    return float(lp.min()), float(lp.max())


def nb_frame_figures(n_draws: int) -> dict:
    out = {}
    for J in sorted(set(FIG7_N_FILTERS) | set(FIG6_N_FILTERS) | {FIG5_N_FILTERS}):
        for T in KERNEL_SIZES:
            ab = np.array([nb_frame_bounds(J, T, N_SAMPLES) for _ in range(n_draws)])
            kappa = ab[:, 1] / ab[:, 0]
            out[J, T] = {
                "mean_A": ab[:, 0].mean(),
                "sd_A": ab[:, 0].std(),
                "mean_B": ab[:, 1].mean(),
                "sd_B": ab[:, 1].std(),
                "median_kappa": np.median(kappa),
                "mean_kappa": kappa.mean(),
                "ratio_of_means": ab[:, 1].mean() / ab[:, 0].mean(),
            }
    for T in KERNEL_SIZES:  # the notebooks' chi-square extreme-value model (Fig. 5)
        J = FIG5_N_FILTERS
        lo = [np.min(np.random.chisquare(J, T)) for _ in range(n_draws)]  # noqa: NPY002
        hi = [np.max(np.random.chisquare(J, T)) for _ in range(n_draws)]  # noqa: NPY002
        out["model", T] = (np.mean(lo) / J, np.mean(hi) / J)
    return out


def baseline(clips: dict[str, np.ndarray], n_draws: int) -> dict[str, tuple[float, float]]:
    """Run the notebooks' approach; (wall, CPU) seconds of its draw loops and of the rest."""
    paper = signals.make_paper_signals(N_SAMPLES, seed=0)
    synthetic = {k: paper[k] for k in ("impulse", "lazy_walk", "sine")}

    def fixed():
        for x in clips.values():  # Fig. 1
            scipy.signal.spectrogram(x, fs=SAMPLE_RATE, window="hann", nperseg=512, noverlap=256)
        nb_energy_curves(clips)  # Figs. 2 and 4
        nb_energy_curves(synthetic)  # Fig. 3

    def draws():
        nb_energy_draws(clips, n_draws)  # Figs. 2 and 4
        nb_energy_draws(synthetic, n_draws)  # Fig. 3
        nb_frame_figures(n_draws)  # Figs. 5-7

    return {"per-cell curves": timed(fixed), "draw loops": timed(draws)}


# ----------------------------------------------------------------------------- main


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", nargs="*", type=Path, help="clips (default: bundled speech)")
    parser.add_argument(
        "--draws", type=int, default=100, help="random banks per cell (the paper: 1000)"
    )
    parser.add_argument(
        "--baseline-draws",
        type=int,
        default=20,
        help="draws of the baseline (default 20); its time is scaled to --draws",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--full",
        action="store_true",
        help="the paper's kernel sizes 8..1024 (default: 8..64, the quick run of make bench)",
    )
    args = parser.parse_args()
    global KERNEL_SIZES
    KERNEL_SIZES = tuple(PAPER_KERNEL_SIZES) if args.full else KERNEL_SIZES
    paths = [str(p) for p in args.audio] or None
    print(
        f"{os.cpu_count()} CPUs, torch {torch.get_num_threads()} threads, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, load average "
        + " ".join(f"{v:.1f}" for v in os.getloadavg())
    )

    with tempfile.TemporaryDirectory() as tmp:
        t_pkg, c_pkg = timed(
            lambda: write_figures(tmp, clips=paths, n_draws=args.draws, kernel_sizes=KERNEL_SIZES)
        )
    print(
        f"fbinit write_figures, {args.draws} draws, T = {', '.join(map(str, KERNEL_SIZES))}: "
        f"{t_pkg:.1f} s wall, {c_pkg:.1f} s CPU"
    )
    if args.skip_baseline:
        return
    n_base = args.baseline_draws or args.draws
    clips = paper_clips(paths)
    parts = baseline(clips, n_base)
    scale = args.draws / n_base
    t_base = c_base = 0.0
    for name, (wall, cpu) in parts.items():
        k = scale if name == "draw loops" else 1.0
        t_base, c_base = t_base + k * wall, c_base + k * cpu
        print(f"  baseline {name}: {wall:.1f} s wall, {cpu:.1f} s CPU at {n_base} draws")
    note = "" if scale == 1 else f" (draw loops measured at {n_base} draws, scaled x{scale:g})"
    print(f"notebooks' approach, {args.draws} draws: {t_base:.1f} s wall, {c_base:.1f} s CPU{note}")
    print(f"speed-up: {t_base / t_pkg:.1f}x wall, {c_base / c_pkg:.1f}x CPU")


if __name__ == "__main__":
    main()
