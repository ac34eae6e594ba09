r"""The package's Monte Carlo cells as sweep experiments, and the grids built from them.

Three experiments are registered with :mod:`fbinit.sweep` (entry points ``scaling``,
``energy`` and ``frame``):

- ``scaling``: the frame-bound statistics of one (n_filters, kernel_size) cell of
  :func:`fbinit.analysis.condition_number_stats`;
- ``energy``: the energy ratios :math:`\|\Phi x\|^2 / \|x\|^2` of the random banks of one
  (signal, kernel_size) cell of :func:`fbinit.analysis.energy_monte_carlo`;
- ``frame``: the frame bounds and condition number of one bank of any family of
  :mod:`fbinit.banks` (a random one drawn from the task's derived seed).

The first two take the listed seed as their master seed and derive each cell's draws
from it and the cell (:func:`fbinit.analysis.scaling.draw_seeds`,
:func:`fbinit.analysis.montecarlo.cell_seed`), so a cell computed as a sweep task has the
numbers it has in the functions above, whatever else is in the grid.
:func:`condition_number_grid` and :func:`energy_ratio_grid` run their grids as sweeps
(serially, on a process pool or on Dask; stored and resumable with a store): ``fbinit
scaling``, the paper figures and ``analysis/scaling_predictor_accuracy.py`` use them.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fbinit import banks, signals
from fbinit._validate import check_choice, check_int, check_positive_float, check_probability
from fbinit.analysis.energy import energy_response
from fbinit.analysis.frames import frame_bounds, kappa_from_bounds
from fbinit.analysis.montecarlo import cell_seed, energy_monte_carlo
from fbinit.analysis.scaling import ConditionNumberStats, condition_number_stats, default_n_fft
from fbinit.errors import ParameterError
from fbinit.sweep import SweepRunner, expand, register

__all__ = [
    "BANK_FAMILIES",
    "condition_number_grid",
    "energy_cell",
    "frame_cell",
    "energy_ratio_grid",
    "resolve_signal",
    "scaling_cell",
]

#: quantile levels of the scaling cell by default (those of condition_number_stats)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


# ------------------------------------------------------------------ scaling cell


def _check_sizes(p: dict[str, Any]) -> tuple[int, int, int]:
    """(kernel_size, stride, n_fft) of a cell: n_fft defaults to :func:`default_n_fft`."""
    T = check_int("kernel_size", p["kernel_size"])
    stride = check_int("stride", p["stride"])
    N = default_n_fft(T, stride) if p["n_fft"] is None else check_int("n_fft", p["n_fft"])
    if T > N:
        raise ParameterError(f"kernel_size={T} must be <= n_fft={N}")
    if N % stride:
        raise ParameterError(f"stride={stride} must divide n_fft={N}")
    return T, stride, N


def _check_scaling(p: dict[str, Any]) -> dict[str, Any]:
    T, stride, N = _check_sizes(p)
    levels = p["quantiles"]
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not levels:
        raise ParameterError(f"quantiles={levels!r} must be a non-empty list of levels")
    return {
        "n_filters": check_int("n_filters", p["n_filters"]),
        "kernel_size": T,
        "n_fft": N,
        "stride": stride,
        "n_draws": check_int("n_draws", p["n_draws"]),
        "quantiles": [check_probability("quantiles", q) for q in levels],
    }


@register("scaling", validate=_check_scaling, derive_seed=False)
def scaling_cell(
    *,
    n_filters: int,
    kernel_size: int,
    n_draws: int = 200,
    n_fft: int | None = None,
    stride: int = 1,
    quantiles: Sequence[float] = QUANTILES,
    seed: int,
) -> dict[str, Any]:
    r"""Frame-bound statistics of one (n_filters, kernel_size) cell of random Gaussian banks.

    Parameters
    ----------
    n_filters, kernel_size : int >= 1
    n_draws : int >= 1
    n_fft : int >= kernel_size, optional
        Default max(1024, 2 kernel_size) (resolved in the task's parameters).
    stride : int >= 1 dividing n_fft
    quantiles : list of float in (0, 1)
    seed : int >= 0
        Master seed: the draws are those of ``condition_number_stats(..., seed=seed)``.

    Returns
    -------
    dict
        The cell's row of :meth:`ConditionNumberStats.to_records`: ``n_filters,
        kernel_size, n_fft, stride, n_draws, median_kappa, mean_kappa, ratio_of_means,
        kappa_q<level>..., mean_A, mean_B, sd_A, sd_B``.

    Examples
    --------
    >>> round(scaling_cell(n_filters=10, kernel_size=64, n_fft=256, n_draws=20,
    ...                    seed=0)["median_kappa"], 2)
    4.96
    """
    stats = condition_number_stats(
        n_filters,
        kernel_size,
        n_fft=n_fft,
        n_draws=n_draws,
        stride=stride,
        seed=seed,
        quantiles=quantiles,
    )
    return stats.to_records()[0]


def condition_number_grid(
    n_filters: int | Sequence[int],
    kernel_size: int | Sequence[int],
    *,
    n_fft: int | None,
    n_draws: int,
    stride: int = 1,
    seed: int = 0,
    quantiles: Sequence[float] = QUANTILES,
    runner: SweepRunner | None = None,
) -> ConditionNumberStats:
    """:func:`fbinit.analysis.condition_number_stats` run as a sweep, one task per cell.

    Parameters
    ----------
    n_filters, kernel_size, n_fft, n_draws, stride, seed, quantiles
        As in :func:`fbinit.analysis.condition_number_stats` (the same numbers).
    runner : fbinit.sweep.SweepRunner, optional
        Executor and store (default: serially in this process, nothing stored). With a
        store, cells it holds are read back rather than drawn again.

    Returns
    -------
    ConditionNumberStats
        Cells in the order of condition_number_stats (n_filters outer).

    Examples
    --------
    >>> stats = condition_number_grid([10, 40], 64, n_fft=256, n_draws=20, seed=0)
    >>> stats.median_kappa.round(2).tolist()
    [4.96, 2.24]
    """
    grid = {"n_filters": _axis(n_filters), "kernel_size": _axis(kernel_size)}
    fixed = {"n_fft": n_fft, "n_draws": n_draws, "stride": stride, "quantiles": list(quantiles)}
    tasks = expand("scaling", grid, fixed, [check_int("seed", seed, minimum=0)])
    records = (runner or SweepRunner()).results(tasks)
    levels = tuple(tasks[0].params["quantiles"])
    return stats_from_records(records, levels)


def _axis(value: Any) -> list[Any]:
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value


def stats_from_records(
    records: Sequence[Mapping[str, Any]], quantile_levels: Sequence[float]
) -> ConditionNumberStats:
    """The :class:`ConditionNumberStats` of scaling-cell results, one cell per record."""
    if not records:
        raise ParameterError("records=[] must hold at least one scaling cell")

    def column(name: str, dtype: Any = np.float64) -> np.ndarray:
        return np.array([r[name] for r in records], dtype=dtype)

    return ConditionNumberStats(
        **{k: column(k, np.int64) for k in ("n_filters", "kernel_size", "n_fft", "stride")},
        n_draws=column("n_draws", np.int64),
        median_kappa=column("median_kappa"),
        mean_kappa=column("mean_kappa"),
        ratio_of_means=column("ratio_of_means"),
        kappa_quantiles=np.stack([column(f"kappa_q{q:g}") for q in quantile_levels], axis=1),
        mean_A=column("mean_A"),
        mean_B=column("mean_B"),
        sd_A=column("sd_A"),
        sd_B=column("sd_B"),
        quantile_levels=tuple(float(q) for q in quantile_levels),
    )


# ------------------------------------------------------------------- energy cell


def resolve_signal(
    signal: str | Sequence[float],
    *,
    n_samples: int = 1024,
    sample_rate: int | None = None,
    signal_seed: int = 0,
) -> np.ndarray:
    """The samples a sweep's ``signal`` parameter names.

    Parameters
    ----------
    signal : str or list of float
        A synthetic signal (a key of :data:`fbinit.signals.SYNTHETIC`: ``impulse``,
        ``random_walk``, ``sine``, ...), ``example:NAME`` (a bundled recording),
        ``file:PATH`` (an audio file), or the samples themselves.
    n_samples : int >= 1
        Length of a synthetic signal.
    sample_rate : int >= 1, optional
        Resampling rate of a recording (default: its own).
    signal_seed : int >= 0
        Seed of a random synthetic signal.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)

    Examples
    --------
    >>> resolve_signal("impulse", n_samples=4).tolist(), resolve_signal([0.5, 1]).tolist()
    ([1.0, 0.0, 0.0, 0.0], [0.5, 1.0])
    """
    if isinstance(signal, str):
        if signal.startswith("example:"):
            return signals.example(signal[len("example:") :], sample_rate=sample_rate)[0]
        if signal.startswith("file:"):
            return signals.load(signal[len("file:") :], sample_rate=sample_rate)[0]
        if signal not in signals.SYNTHETIC:
            raise ParameterError(
                f"signal={signal!r} must be a synthetic signal ({', '.join(signals.SYNTHETIC)}),"
                " example:NAME, file:PATH or a list of samples"
            )
        return signals.synthetic(signal, n_samples, seed=signal_seed)
    return np.asarray(signal, dtype=np.float64)


def _check_energy(p: dict[str, Any]) -> dict[str, Any]:
    signal = p["signal"]
    if isinstance(signal, str):
        if not signal:
            raise ParameterError("signal='' must name a signal")
    else:
        samples = np.asarray(signal) if isinstance(signal, Sequence) else np.array(None)
        if samples.ndim != 1 or samples.size == 0 or samples.dtype.kind not in "iuf":
            raise ParameterError(
                f"signal={signal!r:.80} must be a signal name or a non-empty list of numbers"
            )
        signal = samples.astype(np.float64).tolist()
    rate = p["sample_rate"]
    return {
        "signal": signal,
        "n_filters": check_int("n_filters", p["n_filters"]),
        "kernel_size": check_int("kernel_size", p["kernel_size"]),
        "n_draws": check_int("n_draws", p["n_draws"]),
        "n_samples": check_int("n_samples", p["n_samples"]),
        "sample_rate": None if rate is None else check_int("sample_rate", rate),
        "signal_seed": check_int("signal_seed", p["signal_seed"], minimum=0),
        "sigma": None if p["sigma"] is None else check_positive_float("sigma", p["sigma"]),
        "mode": check_choice("mode", p["mode"], ("circular", "full")),
        "method": check_choice("method", p["method"], ("fft", "eigen")),
    }


@register("energy", validate=_check_energy, derive_seed=False)
def energy_cell(
    *,
    signal: str | Sequence[float],
    n_filters: int,
    kernel_size: int,
    n_draws: int = 1000,
    n_samples: int = 1024,
    sample_rate: int | None = None,
    signal_seed: int = 0,
    sigma: float | None = None,
    mode: str = "circular",
    method: str = "fft",
    seed: int,
) -> dict[str, Any]:
    r"""Energy ratios of the random banks of one (signal, kernel_size) cell.

    Parameters
    ----------
    signal : str or list of float
        See :func:`resolve_signal` (with ``n_samples``, ``sample_rate``, ``signal_seed``).
    n_filters, kernel_size, n_draws : int >= 1
    sigma, mode, method
        As in :func:`fbinit.analysis.energy_monte_carlo`.
    seed : int >= 0
        Master seed: the banks are those of ``energy_monte_carlo(..., seed=seed)``.

    Returns
    -------
    dict
        ``energy_ratios`` (one :math:`\|\Phi x\|^2 / \|x\|^2` per draw, a list),
        ``signal_energy`` :math:`\|x\|^2`, and their ``mean``, ``sd`` (ddof 1), ``q05``
        and ``q95``.

    Notes
    -----
    .. math:: r_d = \frac{\|\Phi_d x\|^2}{\|x\|^2}, \qquad \mathbb E\, r_d = 1
              \text{ for the default } \sigma^2 = 1/(JT) \text{ (circular mode)}.

    Examples
    --------
    >>> out = energy_cell(signal="impulse", n_filters=10, kernel_size=8, n_draws=2000, seed=0)
    >>> abs(out["mean"] - 1) < 0.02
    True
    """
    x = resolve_signal(
        signal, n_samples=n_samples, sample_rate=sample_rate, signal_seed=signal_seed
    )
    norm2 = float(x @ x)
    if norm2 == 0.0:
        raise ParameterError(f"signal={signal!r:.80} has zero energy; must not be silent")
    if method == "fft":  # the draws of energy_monte_carlo, shared by consecutive signals
        bank = _cell_banks(
            n_filters, kernel_size, n_draws, sigma, cell_seed(seed, n_filters, kernel_size)
        )
        energies = energy_response(bank, x, mode=mode).numpy()
    else:
        energies = energy_monte_carlo(
            x,
            n_filters,
            kernel_size,
            n_draws=n_draws,
            sigma=sigma,
            mode=mode,
            method=method,
            seed=seed,
        ).numpy()
    ratios = energies / norm2
    return {
        "energy_ratios": ratios,
        "signal_energy": norm2,
        "mean": float(ratios.mean()),
        "sd": float(ratios.std(ddof=1)) if n_draws > 1 else float("nan"),
        "q05": float(np.quantile(ratios, 0.05)),
        "q95": float(np.quantile(ratios, 0.95)),
    }


@functools.lru_cache(maxsize=1)
def _cell_banks(n_filters: int, kernel_size: int, n_draws: int, sigma, seed: int):
    """The random banks of one energy cell; the last cell is kept, so the tasks of several
    signals on one cell (in a row, as :func:`energy_ratio_grid` orders them) draw it once."""
    return banks.gaussian(n_filters, kernel_size, sigma=sigma, n_draws=n_draws, seed=seed)


def energy_ratio_grid(
    sigs: Mapping[str, Any],
    n_filters: int,
    kernel_sizes: Sequence[int],
    *,
    n_draws: int,
    seed: int = 0,
    runner: SweepRunner | None = None,
) -> np.ndarray:
    r"""Energy ratios of random banks on each signal and kernel size, run as a sweep.

    Parameters
    ----------
    sigs : mapping of name -> 1-D array
        The signals (passed to the tasks as samples).
    n_filters : int >= 1
    kernel_sizes : sequence of distinct int >= 1
    n_draws : int >= 1
    seed : int >= 0
        Master seed (the banks of :func:`fbinit.analysis.energy_monte_carlo`).
    runner : fbinit.sweep.SweepRunner, optional

    Returns
    -------
    numpy.ndarray, shape (n_signals, n_kernel_sizes, n_draws)
        :math:`\|\Phi_d x\|^2 / \|x\|^2`.

    Examples
    --------
    >>> from fbinit.signals import impulse
    >>> energy_ratio_grid({"impulse": impulse(64)}, 10, [8, 16], n_draws=5).shape
    (1, 2, 5)
    """
    samples = [np.asarray(x, dtype=np.float64).tolist() for x in sigs.values()]
    # signals innermost: the tasks of one kernel size follow each other and share its banks
    grid = {"kernel_size": list(kernel_sizes), "signal": samples}
    fixed = {"n_filters": n_filters, "n_draws": n_draws}
    tasks = expand("energy", grid, fixed, [check_int("seed", seed, minimum=0)])
    records = (runner or SweepRunner()).results(tasks)
    out = np.array([r["energy_ratios"] for r in records], dtype=np.float64)
    return out.reshape(len(kernel_sizes), len(samples), n_draws).transpose(1, 0, 2)


# -------------------------------------------------------------------- frame cell

#: bank families of the ``frame`` experiment: name -> constructor of :mod:`fbinit.banks`
BANK_FAMILIES = {
    "gaussian": banks.gaussian,
    "mel": banks.mel,
    "gammatone": banks.gammatone,
    "wavelet": banks.wavelet,
    "gabor": banks.gabor,
    "sinc": banks.sinc,
}


def _check_frame(p: dict[str, Any]) -> dict[str, Any]:
    bank = check_choice("bank", p["bank"], tuple(BANK_FAMILIES))
    T, stride, N = _check_sizes(p)
    fmin = p["fmin"]
    if bank == "wavelet" and fmin is None:
        raise ParameterError("fmin=None must be given (in Hz) for bank='wavelet'")
    if bank == "gaussian" and fmin is not None:
        raise ParameterError(f"fmin={fmin!r} must not be given for bank='gaussian'")
    return {
        "bank": bank,
        "n_filters": check_int("n_filters", p["n_filters"]),
        "kernel_size": T,
        "stride": stride,
        "n_fft": N,
        "sample_rate": check_int("sample_rate", p["sample_rate"]),
        "fmin": None if fmin is None else check_positive_float("fmin", fmin, allow_zero=True),
    }


@register("frame", validate=_check_frame)
def frame_cell(
    *,
    bank: str,
    n_filters: int,
    kernel_size: int,
    stride: int = 1,
    n_fft: int | None = None,
    sample_rate: int = 16000,
    fmin: float | None = None,
    seed: int,
) -> dict[str, Any]:
    r"""Frame bounds and condition number of one bank of a family of :mod:`fbinit.banks`.

    Parameters
    ----------
    bank : {"gaussian", "mel", "gammatone", "wavelet", "gabor", "sinc"}
        The constructor, called as ``constructor(n_filters, kernel_size,
        sample_rate=sample_rate, stride=stride[, fmin=fmin])`` (``gaussian`` with
        ``seed=seed`` and no fmin).
    n_filters, kernel_size : int >= 1
    stride : int >= 1 dividing n_fft
    n_fft : int >= kernel_size, optional
        Signal length; default max(1024, 2 kernel_size).
    sample_rate : int >= 1
    fmin : float >= 0, optional
        Lowest frequency (Hz) for the families that take one (required for ``wavelet``).
    seed : int
        The task's seed, derived from its configuration: each listed seed of a
        ``gaussian`` configuration is another random bank.

    Returns
    -------
    dict
        ``A``, ``B`` (optimal frame bounds) and ``kappa`` = B / A (inf for a singular
        frame, with a warning).

    Notes
    -----
    .. math:: A\|x\|^2 \le \sum_j \|(\phi_j * x)\downarrow_d\|^2 \le B\|x\|^2,
              \qquad \kappa = B / A.

    Examples
    --------
    >>> out = frame_cell(bank="mel", n_filters=40, kernel_size=512, stride=1, seed=0)
    >>> out["kappa"] > 1
    True
    """
    kwargs: dict[str, Any] = {"sample_rate": sample_rate, "stride": stride}
    if bank == "gaussian":
        kwargs["seed"] = seed
    elif fmin is not None:
        kwargs["fmin"] = fmin
    fb = BANK_FAMILIES[bank](n_filters, kernel_size, **kwargs)
    N = default_n_fft(kernel_size, stride) if n_fft is None else n_fft
    A, B = frame_bounds(fb, n_fft=N)
    return {"A": float(A), "B": float(B), "kappa": float(kappa_from_bounds(A, B, n_fft=N))}
