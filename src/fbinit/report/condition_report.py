r"""The condition-number report: how well a filterbank preserves energy, in numbers and plots.

:func:`build_report` computes everything the report shows for one bank specification (a
random Gaussian configuration, a fixed bank, or the Conv1d weight of a saved model) and a
few audio clips; :func:`write_report` writes it as a self-contained HTML page and a Markdown
twin (:mod:`fbinit.report.html`). The sections are:

- frame bounds A, B and :math:`\kappa = B/A` over the full band and, when the bank has one,
  in its band; for a random configuration the statistics over the draws (the median and
  quantiles of the per-draw :math:`\kappa`, and mean(B)/mean(A), each labelled);
- the Littlewood-Paley sum over frequency;
- per clip, the histogram of :math:`\|\Phi x\|^2/\|x\|^2` over random draws against its
  exact density (:func:`fbinit.analysis.distribution.energy_distribution`);
- per clip, the deviation bounds over kernel size against the exact quantile;
- the median :math:`\kappa` of random banks over kernel size with the heuristic
  :func:`~fbinit.analysis.scaling.kappa_tilde` and this configuration marked;
- plain-language findings generated from these numbers.

Energy histograms, deviation bounds and the scaling law concern random banks: for a fixed
or saved bank they refer to the random Gaussian bank with the same n_filters and
kernel_size (default sigma), drawn as a reference point, and the page says so.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.optimize
import torch

import fbinit
from fbinit._memory import check_memory, total_bytes
from fbinit._validate import check_int, check_positive_float, check_probability
from fbinit.analysis import energy_response, frame_bounds, littlewood_paley
from fbinit.analysis.autocorrelation import nonzero_signal
from fbinit.analysis.deviation import deviation_bound, exact_deviation
from fbinit.analysis.distribution import energy_distribution
from fbinit.analysis.extremes import predict_median_kappa
from fbinit.analysis.frames import kappa_from_bounds
from fbinit.analysis.scaling import (
    condition_number_stats,
    default_n_fft,
    draw_banks,
    draw_seeds,
    kappa_tilde,
)
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank
from fbinit.report.bank_spec import BankSpec

__all__ = [
    "BoundCurves",
    "ClipEnergy",
    "ReportData",
    "ScalingCurve",
    "build_report",
    "findings",
    "fmt",
    "write_report",
]

#: quantile levels of the energy response shown in the tables
_LEVELS = (0.05, 0.5, 0.95)
#: deviation alpha whose exceedance probability the findings quote
_ALPHA = 0.1
#: the deviation bounds drawn (fbinit.analysis.deviation methods); "reference" is the
#: notebooks' curve, which is not a bound
_BOUND_METHODS = ("chebyshev", "cantelli", "bernstein", "reference")
_VALID_BOUNDS = ("chebyshev", "cantelli", "bernstein")
#: draws per kernel size of the scaling-law curve (at most; fewer if n_draws is smaller)
SCALING_MAX_DRAWS = 100


@dataclass
class ClipEnergy:
    r"""Energy response :math:`e = \|\Phi x\|^2 / \|x\|^2` of random banks on one clip.

    Attributes
    ----------
    name : str
    sample_rate : float
    n_samples : int
    energies : numpy.ndarray, shape (n_draws,)
        Monte Carlo values of e, one per random draw (circular convolution, stride 1).
    grid, density : numpy.ndarray, shape (n_grid,)
        Exact density of e (a finite difference of the exact distribution function).
    exact_quantiles, mc_quantiles : dict of float -> float
        Quantiles of e at the levels 0.05, 0.5, 0.95: exact and over the draws.
    deviation : float
        The :math:`\alpha` with :math:`P(|e - 1| > \alpha) = p` (exact; relative to the mean
        energy, which is 1 with the default sigma).
    prob_alpha : float
        :math:`P(|e - m| > 0.1\, m)`, m the mean of e (exact).
    mean : float
        Exact mean of e (1 with the default sigma).
    bank_energy : float or None
        e of the analysed fixed bank on this clip (None for random configurations, or when
        the clip's sample rate differs from the bank's).
    """

    name: str
    sample_rate: float
    n_samples: int
    energies: np.ndarray
    grid: np.ndarray
    density: np.ndarray
    exact_quantiles: dict[float, float]
    mc_quantiles: dict[float, float]
    deviation: float
    prob_alpha: float
    mean: float
    bank_energy: float | None = None


@dataclass
class BoundCurves:
    r"""Deviation bounds on one clip over kernel size, at level p (upper tail).

    ``alphas[label][i]`` is the bound's :math:`\alpha` with
    :math:`P(e \ge 1 + \alpha) \le p` at ``kernel_sizes[i]``; ``exact[i]`` is the exact
    :math:`(1-p)` quantile of e minus 1.
    """

    clip: str
    p: float
    kernel_sizes: np.ndarray
    alphas: dict[str, np.ndarray]
    exact: np.ndarray


@dataclass
class ScalingCurve:
    r"""Monte Carlo median :math:`\kappa` of random banks over kernel size, with predictions."""

    n_filters: int
    n_draws: int
    kernel_sizes: np.ndarray
    median: np.ndarray
    q05: np.ndarray
    q95: np.ndarray
    kappa_tilde: np.ndarray
    predicted: np.ndarray
    marker: dict[str, float]


@dataclass
class ReportData:
    """Everything the condition-number report shows; see :func:`build_report`.

    ``frames`` maps a row label (which bank, which band) to its quantities; ``lp`` holds
    ``freqs`` (Hz, or cycles per sample without a sample rate) and the curves to plot.
    """

    title: str
    bank: dict[str, Any]
    settings: dict[str, Any]
    frames: dict[str, dict[str, float]]
    lp: dict[str, np.ndarray]
    clips: list[ClipEnergy]
    bounds: list[BoundCurves]
    scaling: ScalingCurve
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ inputs


def _as_clips(clips: Any, kernel_size: int) -> dict[str, tuple[torch.Tensor, float]]:
    if not isinstance(clips, Mapping):
        raise TypeError(f"clips must be a mapping of name -> (signal, sample_rate), got {clips!r}")
    if not clips:
        raise ParameterError("clips={} must hold at least one clip")
    out = {}
    for name, value in clips.items():
        if not (isinstance(value, tuple) and len(value) == 2):
            raise TypeError(f"clips[{name!r}] must be a (signal, sample_rate) pair")
        x = nonzero_signal(value[0])
        if x.ndim != 1:
            raise ParameterError(f"clips[{name!r}].ndim={x.ndim} must be 1 (one channel)")
        if x.shape[0] < kernel_size:
            raise ParameterError(
                f"clips[{name!r}] has n_samples={x.shape[0]}; it must be >= "
                f"kernel_size={kernel_size} (circular convolution)"
            )
        out[str(name)] = (x, check_positive_float(f"clips[{name!r}] sample_rate", value[1]))
    return out


def _describe(bank: Filterbank, spec: BankSpec | None) -> dict[str, Any]:
    random = spec is not None and spec.is_random
    if spec is not None:
        label = spec.label()
    else:
        label = bank.name or "filterbank"
    return {
        "label": label,
        "kind": spec.kind if spec is not None else "filterbank",
        "is_random": random,
        "n_filters": bank.n_filters,
        "kernel_size": bank.kernel_size,
        "stride": bank.stride,
        "sample_rate": bank.sample_rate,
        "band": bank.band,
        "complex": bank.is_complex,
        "sigma": spec.params.get("sigma") if random else None,
    }


# ---------------------------------------------------------------------------- numbers


def _random_energies(weights: torch.Tensor, x: torch.Tensor) -> np.ndarray:
    r"""Normalised energies :math:`\|\Phi x\|^2/\|x\|^2` of stride-1 banks, one per draw."""
    return (energy_response(weights, x) / x.square().sum()).numpy()


def _kappa_stats(A: np.ndarray, B: np.ndarray, kappa: np.ndarray) -> dict[str, float]:
    q05, q95 = np.quantile(kappa, [0.05, 0.95])
    return {
        "median kappa": float(np.median(kappa)),
        "mean kappa": float(kappa.mean()),
        "kappa 5%": float(q05),
        "kappa 95%": float(q95),
        "mean A": float(A.mean()),
        "mean B": float(B.mean()),
        "mean B / mean A": float(B.mean() / A.mean()),
    }


def _frames(bank: Filterbank, n_fft: int, band: tuple[float, float] | None):
    """(A, B, kappa) as numpy arrays over the bank's batch, full band or in ``band``."""
    A, B = frame_bounds(bank, n_fft=n_fft, band=band)
    kappa = kappa_from_bounds(A, B, n_fft=n_fft, stacklevel=3)
    return A.numpy(), B.numpy(), kappa.numpy()


def _band_label(band: tuple[float, float]) -> str:
    return f"in band {band[0]:g}-{band[1]:g} Hz"


def _two_sided_deviation(law, energy0: float, mean: float, p: float) -> float:
    r"""The :math:`\alpha` with :math:`P(|e - m| > \alpha m) = p`, e = E / energy0 (exact)."""

    def excess(alpha: float) -> float:
        lo, hi = (1.0 - alpha) * mean * energy0, (1.0 + alpha) * mean * energy0
        below = float(law.cdf(lo)) if lo > 0 else 0.0
        return below + float(law.sf(hi)) - p

    upper = float(law.ppf(1.0 - p / 2)) / (energy0 * mean) - 1.0
    top = max(2 * upper, 1e-6)
    while excess(top) > 0:
        top *= 2
    return float(scipy.optimize.brentq(excess, 0.0, top, xtol=1e-6 * top))


def _clip_energy(
    name: str,
    x: torch.Tensor,
    sample_rate: float,
    weights: torch.Tensor,
    sigma: float | None,
    p: float,
) -> ClipEnergy:
    n_filters, kernel_size = weights.shape[-2:]
    energy0 = float(x.square().sum())
    energies = _random_energies(weights, x)
    law = energy_distribution(x, n_filters, kernel_size, sigma=sigma)
    mean = float(law.mean) / energy0
    levels = [0.001, *_LEVELS, 0.999]
    qs = law.ppf(levels).numpy() / energy0
    exact_q = {lv: float(q) for lv, q in zip(_LEVELS, qs[1:-1], strict=True)}
    lo, hi = min(qs[0], energies.min()), max(qs[-1], energies.max())
    edges = np.linspace(lo, hi, 241)
    cdf = law.cdf(torch.from_numpy(edges * energy0)).numpy()
    grid = 0.5 * (edges[1:] + edges[:-1])
    density = np.diff(cdf) / np.diff(edges)
    below = float(law.cdf((1 - _ALPHA) * mean * energy0))
    prob = below + float(law.sf((1 + _ALPHA) * mean * energy0))
    return ClipEnergy(
        name=name,
        sample_rate=sample_rate,
        n_samples=int(x.shape[0]),
        energies=energies,
        grid=grid,
        density=density,
        exact_quantiles=exact_q,
        mc_quantiles={lv: float(np.quantile(energies, lv)) for lv in _LEVELS},
        deviation=_two_sided_deviation(law, energy0, mean, p),
        prob_alpha=prob,
        mean=mean,
    )


def _kernel_grid(kernel_size: int, limit: int) -> np.ndarray:
    """Powers of two from 8 to max(1024, T) that fit ``limit``, plus T itself."""
    top = min(max(1024, kernel_size), limit)
    sizes = {2**k for k in range(3, 31) if 2**k <= top}
    sizes.add(kernel_size)
    return np.array(sorted(sizes))


def _bound_curves(name: str, x: torch.Tensor, n_filters: int, kernel_size: int, p: float):
    sizes = _kernel_grid(kernel_size, x.shape[0])
    alphas = {
        method: deviation_bound(x, n_filters, sizes.tolist(), p, method=method).numpy()
        for method in _BOUND_METHODS
    }
    exact = exact_deviation(x, n_filters, sizes.tolist(), p).numpy()
    return BoundCurves(clip=name, p=p, kernel_sizes=sizes, alphas=alphas, exact=exact)


def _scaling(
    n_filters: int, kernel_size: int, n_draws: int, seed: int, marker: dict[str, float]
) -> ScalingCurve:
    sizes = _kernel_grid(kernel_size, 2**30)
    n_draws = min(n_draws, SCALING_MAX_DRAWS)
    stats = condition_number_stats(
        n_filters, sizes.tolist(), n_fft=None, n_draws=n_draws, seed=seed, quantiles=(0.05, 0.95)
    )
    predicted = np.full(sizes.shape, np.nan)  # the model needs kernel_size >= 2
    predicted[sizes >= 2] = predict_median_kappa(n_filters, sizes[sizes >= 2])
    with warnings.catch_warnings():  # inf outside the law's domain, said on the page
        warnings.simplefilter("ignore", RuntimeWarning)
        tilde = np.asarray(kappa_tilde(n_filters, sizes), dtype=float)
    return ScalingCurve(
        n_filters=n_filters,
        n_draws=n_draws,
        kernel_sizes=sizes,
        median=stats.median_kappa,
        q05=stats.kappa_quantiles[:, 0],
        q95=stats.kappa_quantiles[:, 1],
        kappa_tilde=tilde,
        predicted=predicted,
        marker=marker,
    )


def _energy_rows(power: Any, n_fft: int, notes: list[str]) -> dict[str, dict[str, float]]:
    """The energy bounds of a projected power frontend as a frame-bounds row, with notes."""
    from fbinit.frontends.adapters import energy_bounds

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        bounds = energy_bounds(power, n_fft=n_fft)
    notes.append(
        "Energy of the projected power spectrogram: A ||x||² ≤ Σ_j Σ_t Y[j, t] ≤ B ||x||², "
        "the frame bounds of the atoms weighted by the column sums of the projection. They "
        "bound the total over bands and frames, not each band, and do not make the features "
        "invertible (the phase is discarded)."
    )
    notes.extend(str(w.message).capitalize() + "." for w in caught)
    return {ENERGY_ROW: {"A": bounds.A, "B": bounds.B, "kappa": bounds.kappa}}


#: the frames row of the energy bounds of a projected power frontend
ENERGY_ROW = "projected power energy, full band"


# ---------------------------------------------------------------------------- building


def build_report(
    bank: Any,
    clips: Mapping[str, tuple[Any, float]],
    *,
    n_draws: int = 200,
    seed: int = 0,
    sample_rate: float | None = None,
    n_fft: int | None = None,
    p: float = 0.05,
) -> ReportData:
    r"""Compute the condition-number report of a bank on audio clips.

    Parameters
    ----------
    bank : BankSpec or filterbank-like
        A :class:`~fbinit.report.bank_spec.BankSpec` (``"gaussian"``: a random
        configuration, analysed over ``n_draws`` draws; other kinds: one bank), or one
        bank (a :class:`~fbinit.filterbank.Filterbank`, a Conv1d, a tensor of shape
        (n_filters, kernel_size)).
    clips : mapping of name -> (signal, sample_rate)
        One-channel clips with nonzero energy and at least kernel_size samples.
    n_draws : int >= 1
        Random draws: of the configuration itself, or of the random Gaussian reference
        bank with the same n_filters and kernel_size for a fixed bank. Also the draws per
        kernel size of the scaling-law curve.
    seed : int >= 0
        Draw d of size (J, T) uses seed ``draw_seeds(seed, J, T, n_draws)[d]``
        (:func:`fbinit.analysis.scaling.draw_seeds`), so the numbers equal those of
        :func:`~fbinit.analysis.scaling.condition_number_stats` with the same seed.
    sample_rate : float > 0, optional
        Sample rate of the frequency axis for banks without one (default: the first
        clip's). Must equal the bank's own when it has one.
    n_fft : int >= kernel_size, multiple of the stride, optional
        Signal length N of the frame bounds and the Littlewood-Paley sum; default
        :func:`~fbinit.analysis.scaling.default_n_fft` (max(1024, 2T)) rounded up to a
        multiple of the stride.
    p : float in (0, 1)
        Level of the deviation bounds and of the findings' deviation sentences.

    Returns
    -------
    ReportData

    Notes
    -----
    Per draw (or for the one bank), :math:`A = \min \mathrm{LP}`, :math:`B = \max
    \mathrm{LP}` (stride 1; the block eigenvalues for a larger stride) and
    :math:`\kappa = B/A`; in band, the extremes over the DFT bins in the band. The energy
    histograms show :math:`e = \|\Phi x\|^2 / \|x\|^2` of stride-1 random banks on the
    clip, whose exact law is :math:`\sigma^2 \sum_i \lambda_i \chi^2_{J} / \|x\|^2`
    (:func:`~fbinit.analysis.distribution.energy_distribution`); the findings quote
    :math:`\alpha` with :math:`P(|e - \mathbb E e| > \alpha\, \mathbb E e) = p`.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from fbinit.report.bank_spec import BankSpec
    >>> noise = np.random.default_rng(0).standard_normal(256)
    >>> spec = BankSpec("gaussian", {"n_filters": 10, "kernel_size": 32})
    >>> data = build_report(spec, {"noise": (noise, 8000)}, n_draws=20)
    >>> data.settings["n_fft"], fmt(data.frames["full band"]["median kappa"])
    (1024, '5.11')
    """
    spec = bank if isinstance(bank, BankSpec) else None
    n_draws = check_int("n_draws", n_draws)
    seed = check_int("seed", seed, minimum=0)
    p = check_probability("p", p)
    power = None  # what has energy bounds: a projected power frontend, if any
    if spec is not None and spec.kind == "module":
        meta, power = spec.resolve_module()
    else:
        meta = spec.resolve() if spec is not None else as_filterbank(bank)
    if meta.batch_shape:
        raise ParameterError(f"bank batch shape {meta.batch_shape} must be empty (one bank)")
    n_filters, kernel_size, stride = meta.n_filters, meta.kernel_size, meta.stride
    clip_data = _as_clips(clips, kernel_size)
    rate = meta.sample_rate
    if sample_rate is not None:
        sample_rate = check_positive_float("sample_rate", sample_rate)
        if rate is not None and rate != sample_rate:
            raise ParameterError(
                f"sample_rate={sample_rate:g} must equal the bank's sample_rate={rate:g} "
                "(or be None)"
            )
        rate = sample_rate
    if rate is None:
        rate = next(iter(clip_data.values()))[1]
    meta = dataclasses.replace(meta, sample_rate=rate)
    period = meta.period  # the stride, or the lcm of a multirate bank's strides
    if n_fft is None:
        n_fft = default_n_fft(kernel_size, period)
    n_fft = check_int("n_fft", n_fft)
    if n_fft < kernel_size or n_fft % period:
        raise ParameterError(
            f"n_fft={n_fft} must be >= kernel_size={kernel_size} and a multiple of "
            f"stride={stride}" + (f" (of their lcm {period})" if meta.is_multirate else "")
        )
    _check_report_memory(n_filters, kernel_size, n_fft, n_draws)
    random = spec is not None and spec.is_random
    sigma = spec.params.get("sigma") if random else None
    notes: list[str] = []
    band = meta.band
    strided = meta.is_multirate or stride != 1
    if band is not None and strided:
        notes.append(
            f"In-band bounds are defined for stride 1 only; this bank has stride {stride}, "
            "so only full-band bounds are shown."
        )
        band = None
    if meta.is_multirate:
        notes.append(
            f"This is a multirate bank (strides {stride}): its frame bounds come from the "
            f"blocks of the frame operator of period {period}, the lcm of the strides."
        )
    seeds = draw_seeds(seed, n_filters, kernel_size, n_draws)
    weights = draw_banks(n_filters, kernel_size, seeds, sigma=sigma)
    frames: dict[str, dict[str, float]] = {}
    half = n_fft // 2 + 1
    freqs = np.arange(half) * rate / n_fft
    if random:
        draws = dataclasses.replace(meta, weights=weights)
        A, B, kappa = _frames(draws, n_fft, None)
        frames["full band"] = _kappa_stats(A, B, kappa)
        if band is not None:
            frames[_band_label(band)] = _kappa_stats(*_frames(draws, n_fft, band))
        lp_all = littlewood_paley(draws, n_fft=n_fft)[..., :half].numpy()
        lp = {
            "freqs": freqs,
            "median": np.median(lp_all, axis=0),
            "q05": np.quantile(lp_all, 0.05, axis=0),
            "q95": np.quantile(lp_all, 0.95, axis=0),
            "draw": lp_all[0],
        }
        marker = {
            "kernel_size": float(kernel_size),
            "median kappa": frames["full band"]["median kappa"],
            "kappa 5%": frames["full band"]["kappa 5%"],
            "kappa 95%": frames["full band"]["kappa 95%"],
        }
    else:
        A, B, kappa = _frames(meta, n_fft, None)
        frames["this bank, full band"] = {"A": float(A), "B": float(B), "kappa": float(kappa)}
        if band is not None:
            A_b, B_b, kappa_b = _frames(meta, n_fft, band)
            frames[f"this bank, {_band_label(band)}"] = {
                "A": float(A_b),
                "B": float(B_b),
                "kappa": float(kappa_b),
            }
        if power is not None:
            frames.update(_energy_rows(power, n_fft, notes))
        reference = Filterbank(weights, stride=stride, sample_rate=rate)
        frames["random Gaussian reference, full band"] = _kappa_stats(
            *_frames(reference, n_fft, None)
        )
        lp = {"freqs": freqs, "bank": littlewood_paley(meta, n_fft=n_fft)[:half].numpy()}
        marker = {
            "kernel_size": float(kernel_size),
            "this bank kappa": float(kappa),
            "median kappa": frames["random Gaussian reference, full band"]["median kappa"],
        }
    clip_reports = []
    for name, (x, clip_rate) in clip_data.items():
        report = _clip_energy(name, x, clip_rate, weights, sigma, p)
        if not random and clip_rate == rate:
            report.bank_energy = float(energy_response(meta, x)) / float(x.square().sum())
        clip_reports.append(report)
    if not random and any(c.bank_energy is None for c in clip_reports):
        notes.append(
            f"The bank's own energy is given only on clips at its sample rate ({rate:g} Hz)."
        )
    bounds = [_bound_curves(n, x, n_filters, kernel_size, p) for n, (x, _) in clip_data.items()]
    if strided:
        notes.append(
            f"The scaling-law curve is for stride 1; the marked configuration has stride {stride}."
        )
    scaling = _scaling(n_filters, kernel_size, n_draws, seed, marker)
    info = _describe(meta, spec)
    data = ReportData(
        title=f"Condition-number report: {info['label']}",
        bank=info,
        settings={
            "n_draws": n_draws,
            "seed": seed,
            "n_fft": n_fft,
            "p": p,
            "sample_rate": rate,
            "fbinit": fbinit.__version__,
        },
        frames=frames,
        lp=lp,
        clips=clip_reports,
        bounds=bounds,
        scaling=scaling,
        notes=notes,
    )
    data.findings = findings(data)
    return data


def _check_report_memory(n_filters: int, kernel_size: int, n_fft: int, n_draws: int) -> None:
    """Refuse up front a report whose draws cannot be held in memory.

    The report keeps every draw's weights (8 J T bytes) and Littlewood-Paley sum (taken in
    full, then halved, plus its median and quantiles: about 48 N bytes), and the spectrum of
    one bank at a time (16 J N bytes).
    """
    check_memory(
        f"n_draws={n_draws} (n_filters={n_filters}, kernel_size={kernel_size}, n_fft={n_fft})",
        total_bytes(n_draws * (8 * n_filters * kernel_size + 48 * n_fft), 16 * n_filters * n_fft),
        "the report's draws",
    )


# ---------------------------------------------------------------------------- findings


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for the page: ``digits`` significant digits, no exponent between 1e-4 and 1e6.

    Examples
    --------
    >>> fmt(5308.0), fmt(2.71828), fmt(0.000110492), fmt(3.2e-7), fmt(float("inf"))
    ('5308', '2.72', '0.000110', '3.20e-07', 'inf')
    """
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -4 <= magnitude < 6:
        return f"{value:.{max(digits - 1 - magnitude, 0)}f}"
    return f"{value:.{digits - 1}e}"


def _percent(value: float) -> str:
    """A fraction as a percentage: 0.3104 -> '31%', 0.0123 -> '1.2%'."""
    pct = 100.0 * value
    return f"{pct:.0f}%" if pct >= 10 else f"{pct:.2g}%"


def findings(data: ReportData) -> list[str]:
    """Plain-language sentences with the report's main numbers.

    Parameters
    ----------
    data : ReportData

    Returns
    -------
    list of str
    """
    out: list[str] = []
    info, frames, settings = data.bank, data.frames, data.settings
    J, T = info["n_filters"], info["kernel_size"]
    size = f"n_filters={J}, kernel_size={T}"
    band_rows = [k for k in frames if "in band" in k]
    if info["is_random"]:
        full = frames["full band"]
        text = (
            f"Over {settings['n_draws']} random draws of this configuration, the median "
            f"condition number kappa is {fmt(full['median kappa'])} over the full band "
            f"(90% of draws between {fmt(full['kappa 5%'])} and {fmt(full['kappa 95%'])})"
        )
        if band_rows:
            text += f" and {fmt(frames[band_rows[0]]['median kappa'])} {band_rows[0]}"
        out.append(text + ".")
        median = full["median kappa"]
    else:
        full = frames["this bank, full band"]
        if math.isinf(full["kappa"]):
            out.append(
                "This bank is a singular frame over the full band (lower frame bound A = 0): "
                "some signal is mapped to zero, so kappa is infinite."
            )
        else:
            text = f"kappa of this bank is {fmt(full['kappa'])} over the full band"
            if band_rows:
                inband = frames[band_rows[0]]["kappa"]
                text += f" and {fmt(inband)} {band_rows[0].removeprefix('this bank, ')}"
                if full["kappa"] > 10 * inband:
                    text += ": most of the ill-conditioning comes from frequencies outside the band"
            out.append(text + ".")
        lp, freqs = data.lp["bank"], data.lp["freqs"]
        out.append(
            f"Its Littlewood-Paley sum is lowest at {fmt(freqs[np.argmin(lp)], 4)} Hz "
            f"({fmt(lp.min())}) and highest at {fmt(freqs[np.argmax(lp)], 4)} Hz "
            f"({fmt(lp.max())})."
        )
        if ENERGY_ROW in frames:
            energy = frames[ENERGY_ROW]
            out.append(
                f"The total energy of its projected power spectrogram lies between "
                f"{fmt(energy['A'])} and {fmt(energy['B'])} times ||x||^2 (kappa "
                f"{fmt(energy['kappa'])}); this bounds the sum over bands, not each band."
            )
        reference = frames["random Gaussian reference, full band"]["median kappa"]
        if math.isfinite(full["kappa"]):
            ratio = full["kappa"] / reference
            verdict = (
                f"{fmt(ratio, 2)} times worse conditioned"
                if ratio > 1
                else f"{fmt(1 / ratio, 2)} times better conditioned"
            )
            shape = size if info["stride"] == 1 else f"{size}, stride={info['stride']}"
            out.append(
                f"A random Gaussian bank of the same size ({shape}) has median kappa "
                f"{fmt(reference)} over {settings['n_draws']} draws: this bank is {verdict}."
            )
        median = reference
    sc = data.scaling
    i = int(np.flatnonzero(sc.kernel_sizes == T)[0])
    if math.isfinite(sc.kappa_tilde[i]):
        text = f"The heuristic kappa_tilde predicts {fmt(sc.kappa_tilde[i])} for {size}"
    else:
        text = (
            f"The heuristic kappa_tilde is undefined for {size} (it needs n_filters > "
            f"4 ln kernel_size = {4 * math.log(T):.1f})"
        )
    text += f", the extreme-value model predicts {fmt(sc.predicted[i])}"
    subject = "" if info["is_random"] else " of random Gaussian banks"
    if info["stride"] != 1:  # the predictions are for stride 1
        median, subject = float(sc.median[i]), f"{subject} at stride 1"
    out.append(f"{text}; the Monte Carlo median{subject} is {fmt(median)}.")
    who = "initialisations" if info["is_random"] else "random Gaussian initialisations"
    p = settings["p"]
    for clip in data.clips:
        out.append(
            f"On {clip.name}, {_percent(p)} of {who} change the energy by more than "
            f"{_percent(clip.deviation)}, and {_percent(clip.prob_alpha)} change it by more "
            f"than {_percent(_ALPHA)}."
        )
    if len(data.clips) > 1:
        spreads = {c.name: c.exact_quantiles[0.95] - c.exact_quantiles[0.05] for c in data.clips}
        wide, narrow = max(spreads, key=spreads.get), min(spreads, key=spreads.get)
        out.append(
            f"The energy spreads most on {wide} (90% interval of width {fmt(spreads[wide])}) "
            f"and least on {narrow} ({fmt(spreads[narrow])})."
        )
    for curves in data.bounds:
        j = int(np.flatnonzero(curves.kernel_sizes == T)[0])
        exact = curves.exact[j]
        valid = {
            name: a[j] for name, a in curves.alphas.items() if name in _VALID_BOUNDS and a[j] >= 0
        }
        if valid and exact > 0:
            best = min(valid, key=valid.get)
            out.append(
                f"On {curves.clip} at kernel_size={T}, the tightest bound "
                f"({best.capitalize()}) allows a "
                f"deviation of {fmt(valid[best])} at p={p:g}, {fmt(valid[best] / exact, 2)} "
                f"times the exact {fmt(exact)}."
            )
    for clip in data.clips:
        if clip.bank_energy is not None:
            out.append(
                f"On {clip.name}, this bank keeps {_percent(clip.bank_energy)} of the energy "
                f"(||Phi x||^2 / ||x||^2 = {fmt(clip.bank_energy)})."
            )
    return out


def write_report(data: ReportData, out_dir: str | Path) -> Path:
    """Write the report as ``out_dir/report.html`` (self-contained) and ``report.md``.

    Parameters
    ----------
    data : ReportData
        From :func:`build_report`.
    out_dir : str or os.PathLike
        Created if missing; the PNG figures of the Markdown twin go to ``out_dir/img/``.
        Writes are atomic (:func:`fbinit.report.html.write_report_files`): an interrupted
        run leaves the previous report, or none, never a half-written file.

    Returns
    -------
    pathlib.Path
        The HTML page.
    """
    from fbinit.report.html import write_report_files

    return write_report_files(data, out_dir)
