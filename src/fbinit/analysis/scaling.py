r"""How the condition number of random Gaussian filterbanks scales with n_filters and kernel_size.

Three things live here:

- :func:`kappa_tilde`, the heuristic scaling law of Haider et al. (2024);
- :func:`condition_number_stats`, Monte Carlo statistics of the frame bounds and of
  :math:`\kappa = B / A` over a grid of (n_filters, kernel_size), each statistic labelled
  for what it is (the median and mean of B/A per draw, and mean(B)/mean(A), apart);
- :class:`ConditionNumberStats`, the table they come back in.

The extreme-value model that predicts these statistics without drawing any filter is in
:mod:`fbinit.analysis.extremes`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fbinit._io import write_csv_columns
from fbinit._memory import CHUNK_BYTES, check_memory, chunk_count, total_bytes
from fbinit._validate import check_int, check_positive_float, check_probability
from fbinit.analysis.frames import frame_bounds, kappa_from_bounds
from fbinit.errors import ParameterError

__all__ = [
    "ConditionNumberStats",
    "condition_number_stats",
    "default_n_fft",
    "draw_seeds",
    "frame_bounds_bytes",
    "kappa_tilde",
]

#: bytes of working set of one chunk of draws in :func:`condition_number_stats`
DRAW_CHUNK_BYTES = CHUNK_BYTES
#: bytes per draw held until a cell's statistics are taken: its seed, A, B, kappa and the
#: temporaries of the statistics (the working set of kappa_from_bounds, a sorted copy)
_BYTES_PER_STORED_DRAW = 80


def kappa_tilde(n_filters: Any, kernel_size: Any) -> Any:
    r"""Heuristic scaling law of the condition number of a random Gaussian filterbank.

    Parameters
    ----------
    n_filters : int or array-like of int >= 1
        Number of filters J (broadcast against ``kernel_size``).
    kernel_size : int or array-like of int >= 1
        Number of taps T.

    Returns
    -------
    float, numpy.ndarray or torch.Tensor
        :math:`\tilde\kappa(J, T)`, broadcast; a float for scalar inputs, a tensor when an
        input is a tensor. ``inf`` (with a warning) where :math:`J \le 4 \ln T`, outside
        the law's domain.

    Notes
    -----
    .. math:: \tilde\kappa(J, T) = \frac{1 + 2\sqrt{\ln T / J}}{1 - 2\sqrt{\ln T / J}},
              \qquad J > 4 \ln T \ (\text{natural log}).

    A heuristic, neither a bound nor an estimate of a stated statistic: it reads the frame
    bounds as :math:`1 \mp 2\sqrt{\ln T / J}`, Gaussian-like extremes of about T bins of
    variance of order 1/J. It is constant when J grows like ln T, undefined for few
    filters, and well above the Monte Carlo median of B/A wherever it is finite (by 18% to
    more than 20 times over the grid of docs/scaling.md).
    :func:`fbinit.analysis.extremes.predict_median_kappa` predicts that median within a
    few percent.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> round(kappa_tilde(40, 64), 4)
    4.6321
    """
    is_torch = isinstance(n_filters, torch.Tensor) or isinstance(kernel_size, torch.Tensor)
    J = _as_int_array("n_filters", n_filters, 1)
    T = _as_int_array("kernel_size", kernel_size, 1)
    try:
        J, T = np.broadcast_arrays(J, T)
    except ValueError as err:
        raise ParameterError(
            f"n_filters.shape={J.shape} and kernel_size.shape={T.shape} must broadcast"
        ) from err
    root = 2.0 * np.sqrt(np.log(T) / J)
    valid = root < 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(valid, (1.0 + root) / (1.0 - root), np.inf)
    if not bool(valid.all()):
        warnings.warn(
            f"kappa_tilde is inf at {int((~valid).sum())} of {valid.size} (n_filters, "
            "kernel_size) pair(s): the law needs n_filters > 4 ln(kernel_size)",
            RuntimeWarning,
            stacklevel=2,
        )
    if is_torch:
        return torch.from_numpy(np.asarray(out, dtype=np.float64))
    return float(out) if out.ndim == 0 else out


def _as_int_array(name: str, value: Any, minimum: int) -> np.ndarray:
    """Float array of integer values >= ``minimum`` from an int, sequence, array or tensor."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name}={value!r} must be integers")
    if arr.size and not (
        np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)) and arr.min() >= minimum
    ):
        raise ParameterError(f"{name}={value!r} must be integers >= {minimum}")
    return arr.astype(np.float64)


def default_n_fft(kernel_size: int, stride: int = 1) -> int:
    r"""Signal length used when ``n_fft=None``: :math:`N = \max(1024, 2T)`, rounded up to a
    multiple of the stride.

    1024 is the paper's signal length; 2T keeps at least two DFT bins per degree of freedom
    of the Littlewood-Paley sum (a trigonometric polynomial of degree T - 1) for long
    kernels, so N/T never drops below 2 and the whole autocorrelation of each filter fits
    in N points. A stride d must divide N (the frame operator is periodic with period d),
    so N is rounded up to the next multiple of d: every command and function that picks N
    by default (``fbinit analyze``, ``fbinit scaling``, ``fbinit report``) uses this rule.

    Examples
    --------
    >>> default_n_fft(64), default_n_fft(4096), default_n_fft(64, stride=3)
    (1024, 8192, 1026)
    """
    n = max(1024, 2 * check_int("kernel_size", kernel_size))
    stride = check_int("stride", stride)
    return -(-n // stride) * stride


def draw_seeds(seed: int, n_filters: int, kernel_size: int, n_draws: int) -> list[int]:
    r"""Seeds of the draws of one grid cell of :func:`condition_number_stats`.

    Draw d of cell (J, T) is ``gaussian(J, T, seed=draw_seeds(seed, J, T, n)[d])``, where
    the seeds are the first words of ``numpy.random.SeedSequence(seed, spawn_key=(J, T))``.
    They depend on the cell and not on the rest of the grid, the chunking or n_draws (the
    first n seeds of a longer run are the same).

    Examples
    --------
    >>> draw_seeds(0, 10, 64, 2) == draw_seeds(0, 10, 64, 5)[:2]
    True
    """
    return [int(s) for s in _seed_array(seed, n_filters, kernel_size, n_draws)]


def _seed_array(seed: int, n_filters: int, kernel_size: int, n_draws: int) -> np.ndarray:
    """:func:`draw_seeds` as a uint64 array (8 bytes per draw)."""
    key = (check_int("n_filters", n_filters), check_int("kernel_size", kernel_size))
    seq = np.random.SeedSequence(check_int("seed", seed, minimum=0), spawn_key=key)
    return seq.generate_state(check_int("n_draws", n_draws), np.uint64)


def draw_banks(
    n_filters: int, kernel_size: int, seeds: Sequence[int], *, sigma: float | None = None
) -> torch.Tensor:
    """Weights of the draws with the given seeds, shape (len(seeds), n_filters, kernel_size).

    Draw d is ``gaussian(n_filters, kernel_size, sigma=sigma, seed=seeds[d])``; with the
    seeds of :func:`draw_seeds` these are the banks of :func:`condition_number_stats`.
    """
    n_filters = check_int("n_filters", n_filters)
    kernel_size = check_int("kernel_size", kernel_size)
    if sigma is None:  # as fbinit.banks.gaussian
        sigma = 1.0 / math.sqrt(n_filters * kernel_size)
    sigma = check_positive_float("sigma", sigma)
    weights = torch.empty(len(seeds), n_filters, kernel_size, dtype=torch.float64)
    generator = torch.Generator()
    shape = (n_filters, kernel_size)
    for i, s in enumerate(seeds):  # the draws of gaussian(..., seed=s), without its checks
        generator.manual_seed(check_int("seed", s, minimum=0))
        torch.randn(shape, generator=generator, dtype=torch.float64, out=weights[i])
    return weights.mul_(sigma)


def frame_bounds_bytes(
    n_filters: int, kernel_size: int, n_fft: int, stride: int = 1
) -> tuple[int, int]:
    """Working set of :func:`fbinit.frame_bounds` on drawn banks: (bytes per bank, fixed).

    Per bank: its weights and, at stride 1, its Littlewood-Paley sum (held twice while the
    chunks are joined); fixed: the spectrum of one bank (at stride d > 1 also its d x d
    blocks and their eigenvalue workspace), which the spectral kernel never splits. Used to
    size the chunks of draws and to refuse up front what cannot fit.

    Examples
    --------
    >>> frame_bounds_bytes(40, 1024, 1024)
    (335888, 328320)
    """
    per_bank = 8 * n_filters * kernel_size
    if stride == 1:
        return per_bank + 16 * (n_fft // 2 + 1), 16 * n_filters * (n_fft // 2 + 1)
    return per_bank + 16, 16 * n_filters * n_fft + 48 * n_fft * stride


@dataclass(frozen=True)
class ConditionNumberStats:
    r"""Monte Carlo statistics of the frame bounds of random Gaussian filterbanks.

    One entry per grid cell (J, T), in the order of :attr:`n_filters`, :attr:`kernel_size`.
    Each statistic says what it is: the median, mean and quantiles of :math:`\kappa = B/A`
    are taken over the draws of B/A; :attr:`ratio_of_means` is mean(B) / mean(A), a
    different (typically smaller) number that is *not* a mean condition number.

    Attributes
    ----------
    n_filters, kernel_size, n_fft, stride, n_draws : numpy.ndarray of int, shape (n_cells,)
    median_kappa : numpy.ndarray, shape (n_cells,)
        :math:`\mathrm{median}_d(B_d / A_d)`.
    mean_kappa : numpy.ndarray, shape (n_cells,)
        :math:`\frac1M \sum_d B_d / A_d` (inf if any draw is singular).
    ratio_of_means : numpy.ndarray, shape (n_cells,)
        :math:`\bar B / \bar A`.
    kappa_quantiles : numpy.ndarray, shape (n_cells, n_quantiles)
        Empirical quantiles of B/A (linear interpolation, numpy's default) at
        :attr:`quantile_levels`; inf where they reach singular draws.
    mean_A, mean_B, sd_A, sd_B : numpy.ndarray, shape (n_cells,)
        Mean and standard deviation (ddof=1; nan for one draw) of the frame bounds.
    quantile_levels : tuple of float
    seed : int
        Master seed of the draws (recorded in the CSV's settings header).
    """

    n_filters: np.ndarray
    kernel_size: np.ndarray
    n_fft: np.ndarray
    stride: np.ndarray
    n_draws: np.ndarray
    median_kappa: np.ndarray
    mean_kappa: np.ndarray
    ratio_of_means: np.ndarray
    kappa_quantiles: np.ndarray
    mean_A: np.ndarray
    mean_B: np.ndarray
    sd_A: np.ndarray
    sd_B: np.ndarray
    quantile_levels: tuple[float, ...]
    seed: int = 0

    def __len__(self) -> int:
        return int(self.n_filters.shape[0])

    def _columns(self) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        for f in fields(self):
            if f.name in ("kappa_quantiles", "quantile_levels", "seed"):
                continue
            cols[f.name] = getattr(self, f.name)
            if f.name == "ratio_of_means":
                for i, q in enumerate(self.quantile_levels):
                    cols[f"kappa_q{q:g}"] = self.kappa_quantiles[:, i]
        return cols

    def to_records(self) -> list[dict[str, float | int]]:
        """One dict per cell, with a ``kappa_q<level>`` entry per quantile."""
        cols = self._columns()
        return [{k: v[i].item() for k, v in cols.items()} for i in range(len(self))]

    def to_csv(self, path: str | Path) -> Path:
        """Write one row per cell (full float precision) atomically; return the path.

        The file starts with ``# key: value`` lines (:func:`fbinit._io.read_csv`): the
        package version, the seed, the draws per cell and the quantile levels.
        """
        from fbinit import __version__

        settings = {
            "fbinit": __version__,
            "experiment": "condition_number_stats",
            "seed": self.seed,
            "n_draws": sorted(set(self.n_draws.tolist())),
            "quantile_levels": list(self.quantile_levels),
        }
        return write_csv_columns(path, self._columns(), settings=settings)

    def as_grid(self, name: str) -> np.ndarray:
        """A per-cell field reshaped to (len(unique n_filters), len(unique kernel_size)).

        Cells come in the order of :func:`condition_number_stats` (n_filters outer).
        """
        values = self._columns()[name]
        n_j = len(np.unique(self.n_filters))
        return values.reshape(n_j, len(self) // n_j)


def _as_grid_axis(name: str, value: Any) -> list[int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return [check_int(name, value)]
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name}={value!r} must be an integer or a sequence of integers")
    out = [check_int(name, v) for v in value]
    if not out:
        raise ParameterError(f"{name}={value!r} must not be empty")
    if len(set(out)) != len(out):
        raise ParameterError(f"{name}={value!r} must not repeat values")
    return out


def condition_number_stats(
    n_filters: int | Sequence[int],
    kernel_size: int | Sequence[int],
    *,
    n_fft: int | None,
    n_draws: int,
    stride: int = 1,
    seed: int | None = None,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
    progress: Callable[[int, int], Any] | None = None,
) -> ConditionNumberStats:
    r"""Monte Carlo statistics of the frame bounds and condition number of Gaussian banks.

    Parameters
    ----------
    n_filters : int >= 1 or sequence of distinct ints
        Number(s) of filters J.
    kernel_size : int >= 1 or sequence of distinct ints
        Number(s) of taps T. Every (J, T) pair is a cell (J outer, T inner).
    n_fft : int >= every kernel_size, or None
        Signal length N; ``None`` uses :func:`default_n_fft` per cell: max(1024, 2T)
        rounded up to a multiple of the stride.
    n_draws : int >= 1
        Number of independent banks per cell (default sigma, :func:`fbinit.banks.gaussian`).
    stride : int >= 1 dividing n_fft
        Stride of the banks (frame bounds from :func:`fbinit.analysis.frame_bounds`).
    seed : int >= 0, optional
        Master seed (default 0). Each draw has its own seed from :func:`draw_seeds`, so
        a cell's numbers do not depend on the grid, its order or the chunking.
    quantiles : sequence of float in (0, 1)
        Levels of the reported quantiles of B/A.
    progress : callable(done, total), optional
        Called after each chunk of draws with the numbers of draws done and to do over the
        whole grid (for a progress bar).

    Returns
    -------
    ConditionNumberStats
        One entry per cell; ``.to_csv``, ``.to_records``, ``.as_grid``.

    Notes
    -----
    Per draw d, :math:`(A_d, B_d)` are the optimal frame bounds and
    :math:`\kappa_d = B_d / A_d` (inf with a warning where :math:`A_d \le N\epsilon B_d`,
    the rule of :func:`fbinit.analysis.condition_number`). Reported per cell:

    .. math:: \mathrm{median}_d\,\kappa_d,\quad \frac1M\sum_d \kappa_d,\quad
              \frac{\bar B}{\bar A},\quad \bar A,\ \bar B,\ s_A,\ s_B.

    Draws are made in chunks whose working set (weights and Littlewood-Paley sums,
    :func:`frame_bounds_bytes`) is about ``DRAW_CHUNK_BYTES`` and analysed with batched
    FFTs; a cell keeps about 80 bytes per draw until its statistics are taken. The peak is
    estimated before any draw, and a grid whose estimate exceeds the memory limit
    (:func:`fbinit._memory.memory_limit`) is refused with the estimate.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024 (Figures 5-7).

    Examples
    --------
    >>> stats = condition_number_stats([10, 40], 64, n_fft=256, n_draws=20, seed=0)
    >>> stats.median_kappa.round(2).tolist()
    [4.96, 2.24]
    """
    js = _as_grid_axis("n_filters", n_filters)
    ts = _as_grid_axis("kernel_size", kernel_size)
    n_draws = check_int("n_draws", n_draws)
    stride = check_int("stride", stride)
    seed = 0 if seed is None else check_int("seed", seed, minimum=0)
    levels = tuple(check_probability("quantiles", q) for q in quantiles)
    if not levels:
        raise ParameterError(f"quantiles={quantiles!r} must not be empty")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress={progress!r} must be a callable(done, total) or None")
    if n_fft is not None:
        n_fft = check_int("n_fft", n_fft)
    cells = []
    for J in js:
        for T in ts:
            N = default_n_fft(T, stride) if n_fft is None else n_fft
            if T > N:
                raise ParameterError(f"kernel_size={T} must be <= n_fft={N}")
            if N % stride:
                raise ParameterError(f"stride={stride} must divide n_fft={N}")
            cells.append((J, T, N))
    for J, T, N in cells:
        _check_cell_memory(J, T, N, stride, n_draws)

    total = n_draws * len(cells)
    rows = []
    n_singular = 0
    for i, (J, T, N) in enumerate(cells):
        A, B = _draw_bounds(J, T, N, stride, n_draws, seed, total, i * n_draws, progress)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # counted and said once below
            kappa = kappa_from_bounds(A, B, n_fft=N).numpy()
        n_singular += int(np.isinf(kappa).sum())
        rows.append(_cell_statistics(A, B, kappa, levels))
        del A, B, kappa
    if n_singular:
        warnings.warn(
            f"{n_singular} of {total} filterbank(s) are singular frames (lower frame bound "
            "A = 0): condition number is inf",
            RuntimeWarning,
            stacklevel=2,
        )
    column = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    with np.errstate(divide="ignore"):  # mean A = 0 for singular frames (warned above)
        ratio_of_means = column["mean_B"] / column["mean_A"]
    return ConditionNumberStats(
        n_filters=np.array([c[0] for c in cells]),
        kernel_size=np.array([c[1] for c in cells]),
        n_fft=np.array([c[2] for c in cells]),
        stride=np.full(len(cells), stride),
        n_draws=np.full(len(cells), n_draws),
        median_kappa=column["median_kappa"],
        mean_kappa=column["mean_kappa"],
        ratio_of_means=ratio_of_means,
        kappa_quantiles=column["quantiles"].reshape(len(cells), len(levels)),
        mean_A=column["mean_A"],
        mean_B=column["mean_B"],
        sd_A=column["sd_A"],
        sd_B=column["sd_B"],
        quantile_levels=levels,
        seed=seed,
    )


def _check_cell_memory(J: int, T: int, N: int, stride: int, n_draws: int) -> None:
    """Refuse a cell whose draws cannot be analysed within the memory limit."""
    per_bank, fixed = frame_bounds_bytes(J, T, N, stride)
    check_memory(
        f"n_filters={J}, kernel_size={T}, n_fft={N}",
        total_bytes(per_bank, fixed),
        "the frame bounds of one bank",
    )
    per_chunk = min(n_draws, chunk_count(per_bank, DRAW_CHUNK_BYTES))
    check_memory(
        f"n_draws={n_draws}",
        total_bytes(_BYTES_PER_STORED_DRAW * n_draws, per_chunk * per_bank, fixed),
        f"the statistics of {n_draws} draws of (n_filters={J}, kernel_size={T}, n_fft={N})",
    )


def _cell_statistics(
    A: np.ndarray, B: np.ndarray, kappa: np.ndarray, levels: tuple[float, ...]
) -> dict[str, Any]:
    """The statistics of one cell from its per-draw bounds and condition numbers."""
    n = A.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf in a mean of inf kappas
        return {
            "median_kappa": float(np.median(kappa)),
            "mean_kappa": float(kappa.mean()),
            "quantiles": _quantiles(kappa[None, :], levels)[0],
            "mean_A": float(A.mean()),
            "mean_B": float(B.mean()),
            "sd_A": float(A.std(ddof=1)) if n > 1 else math.nan,
            "sd_B": float(B.std(ddof=1)) if n > 1 else math.nan,
        }


def _quantiles(values: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """numpy's default (linear) quantiles along axis 1, with inf handled (no inf - inf)."""
    srt = np.sort(values, axis=1)
    pos = np.asarray(levels) * (srt.shape[1] - 1)
    lo = np.floor(pos).astype(int)
    frac = pos - lo
    v_lo = srt[:, lo]
    v_hi = srt[:, np.minimum(lo + 1, srt.shape[1] - 1)]
    with np.errstate(invalid="ignore"):
        out = v_lo + (v_hi - v_lo) * frac
    return np.where(frac == 0, v_lo, np.where(np.isinf(v_hi), np.inf, out))


def _draw_bounds(J, T, N, stride, n_draws, seed, total, done, progress):
    """Frame bounds (A, B) of the n_draws banks of one cell, as numpy arrays."""
    seeds = _seed_array(seed, J, T, n_draws)
    per_chunk = chunk_count(frame_bounds_bytes(J, T, N, stride)[0], DRAW_CHUNK_BYTES)
    A = np.empty(n_draws)
    B = np.empty(n_draws)
    for start in range(0, n_draws, per_chunk):
        stop = min(n_draws, start + per_chunk)
        a, b = frame_bounds(draw_banks(J, T, seeds[start:stop]), n_fft=N, stride=stride)
        A[start:stop] = a.numpy()
        B[start:stop] = b.numpy()
        if progress is not None:
            progress(done + stop, total)
    return A, B
