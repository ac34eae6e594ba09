r"""The seven figures of Haider et al. (2024), reproduced with the notebooks' defects fixed.

Each ``figure_N`` computes the numbers of one figure of "Instabilities in Convnets for Raw
Audio" and returns a :class:`FigureResult`: the matplotlib figure and the table of the
plotted numbers (one CSV row per plotted point). :func:`write_figures` writes all seven as
``fig{N}_<slug>.png``, ``.pdf`` and ``.csv`` into one output folder that appears whole or
not at all (:func:`fbinit._io.output_set`). Every CSV starts with ``# key: value`` lines
recording the settings that produced it (figure, seed, draws, kernel sizes, clips, package
version), read back by :func:`fbinit._io.read_csv`.

What differs from the authors' notebooks (reference/random-filterbanks.md, "Defects"):

- every random bank comes from an explicit seed, and all draws of one (J, T) cell are made
  and analysed at once (no Python loop over draws or filters): the banks of the cell are
  ``gaussian(J, T, n_draws=n_draws, seed=cell_seed(seed, J, T))`` for the energy figures
  (2-4, through :func:`fbinit.analysis.energy_monte_carlo`) and those of
  :func:`fbinit.analysis.scaling.condition_number_stats` for the frame figures (5-7);
- the periodic signal of Fig. 3 is a sinusoid (the notebooks' "sine" was
  :math:`(-1)^n`, a constant up to modulation); its "Brownian noise" is the authors' own
  generator, a lazy walk on {-1, 0, 1} (:func:`fbinit.signals.lazy_walk`), seeded;
- the exact law of the energy response (a weighted chi-square, Imhof's formula) is drawn
  beside the empirical histogram and quantiles;
- the notebooks' "Chernoff" curve, whose constant is off by a factor 2 and which is not a
  bound, is drawn only as a labelled reference beside Bernstein's, Cantelli's and
  Chebyshev's bounds;
- the condition number is reported as the median and the mean of the per-draw
  :math:`B/A` and, apart, as :math:`\bar B / \bar A` (the notebooks plotted a running mean
  over T of the latter).

Settings (the paper's): clips of 1 s at 22 050 Hz, unit norm; J = 10 filters and
T = 2^3..2^10 taps for the energy figures, p = 0.05; N = 1024 for the synthetic signals
and the frame bounds; J = 40 in Fig. 5, J in {5, 10, 40} in Fig. 6 and J = 3..10 in Fig. 7.

References
----------
D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw Audio",
IEEE Signal Processing Letters, 2024 (arXiv 2309.05855).
"""

from __future__ import annotations

import inspect
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker
import numpy as np
import scipy.signal
from matplotlib.figure import Figure

from fbinit import signals
from fbinit._io import atomic_write_text, check_output_dir, csv_text, output_set, save_figure
from fbinit._memory import check_memory, total_bytes
from fbinit._validate import check_int
from fbinit.analysis.deviation import deviation_bound
from fbinit.analysis.distribution import WeightedChiSquare, energy_distribution
from fbinit.analysis.experiments import condition_number_grid, energy_ratio_grid
from fbinit.analysis.extremes import (
    expected_frame_bounds_model,
    predict_median_kappa,
)
from fbinit.analysis.montecarlo import cell_seed
from fbinit.analysis.scaling import kappa_tilde
from fbinit.errors import ParameterError
from fbinit.sweep import SweepRunner

__all__ = [
    "FIGURES_KIND",
    "FigureResult",
    "cell_seed",
    "figure_1",
    "figure_2",
    "figure_3",
    "figure_4",
    "figure_5",
    "figure_6",
    "figure_7",
    "paper_clips",
    "write_figures",
]

#: sample rate (Hz) and length (s) of the paper's clips
SAMPLE_RATE = 22050
CLIP_SECONDS = 1.0
#: filters and kernel sizes of the energy figures (2-4), tail probability of Figs. 3-4
ENERGY_N_FILTERS = 10
KERNEL_SIZES = tuple(2**k for k in range(3, 11))
TAIL_PROBABILITY = 0.05
#: signal length of the synthetic signals (Fig. 3) and of the frame bounds (Figs. 5-7)
N_SAMPLES = 1024
#: filters of the frame-bound figures
FIG5_N_FILTERS = 40
FIG6_N_FILTERS = (5, 10, 40)
FIG7_N_FILTERS = tuple(range(3, 11))
#: bins of the histograms of Fig. 2, resolution of the PNGs
HISTOGRAM_BINS = 40
PNG_DPI = 110
#: the kind of output set the figures' folder is (recorded in its manifest.json)
FIGURES_KIND = "fbinit figures"

#: legend label of each deviation_bound method (shared with the report)
BOUND_LABELS = {
    "bernstein": "Bernstein (Laurent-Massart) bound",
    "cantelli": "Cantelli bound",
    "chebyshev": "Chebyshev bound",
    "reference": "notebooks' 'Chernoff' curve (not a bound)",
}
_SYNTHETIC_LABELS = {
    "impulse": "impulse",
    "lazy_walk": "lazy walk (the paper's 'Brownian noise')",
    "sine": "sinusoid (8 periods in N)",
}


@dataclass(frozen=True)
class FigureResult:
    """One reproduced figure: the matplotlib figure and the numbers it plots.

    Attributes
    ----------
    number : int
        Figure number in the paper (1-7).
    slug : str
        Short file-name part: files are ``fig{number}_{slug}.png/.pdf/.csv``.
    figure : matplotlib.figure.Figure
        Built without pyplot (nothing to close).
    table : dict of str -> numpy.ndarray
        Columns of equal length, one row per plotted point; written as the CSV.
    settings : dict
        What produced the numbers (figure, seed, n_draws, kernel sizes, clips, ...),
        written as the CSV's ``# key: value`` header with the package version.
    """

    number: int
    slug: str
    figure: Figure
    table: dict[str, np.ndarray]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """File name without extension, ``fig{number}_{slug}``."""
        return f"fig{self.number}_{self.slug}"

    def to_csv(self) -> str:
        """The table as CSV text: the settings header, a header row, floats at full precision."""
        from fbinit import __version__

        columns = list(self.table)
        n_rows = {len(v) for v in self.table.values()}
        if len(n_rows) > 1:
            raise ParameterError(f"table columns have lengths {sorted(n_rows)}; must be equal")
        cols = [_csv_cells(self.table[c]) for c in columns]
        settings = {"fbinit": __version__, "figure": self.number, **self.settings}
        return csv_text(columns, zip(*cols, strict=True), settings=settings)

    def with_settings(self, **settings: Any) -> FigureResult:
        """The same result with ``settings`` recorded (added to those it has)."""
        return replace(self, settings={**self.settings, **settings})

    def save(self, out_dir: str | os.PathLike) -> list[Path]:
        """Write the PNG, PDF and CSV into the folder ``out_dir``; return their paths.

        Each file is written atomically (a temporary file renamed into place); the folder
        may hold other files. :func:`write_figures` writes all seven as one output set.
        """
        out = _check_out_dir(out_dir)
        paths = []
        for fmt in ("png", "pdf"):
            metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
            paths.append(
                save_figure(self.figure, out / f"{self.stem}.{fmt}", dpi=PNG_DPI, metadata=metadata)
            )
        paths.append(atomic_write_text(out / f"{self.stem}.csv", self.to_csv()))
        return paths


def _csv_cells(values: np.ndarray) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return [repr(float(v)) for v in arr]
    if arr.dtype.kind == "b":
        return ["1" if v else "0" for v in arr]
    return [str(v) for v in arr.tolist()]


def _check_out_dir(out_dir: Any) -> Path:
    out = check_output_dir(out_dir, kind=None)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _settings(**values: Any) -> dict[str, Any]:
    """Settings of a figure: the given values and the paper's fixed parameters they imply."""
    out = dict(values)
    if "kernel_sizes" in out:
        out["kernel_sizes"] = [int(t) for t in out["kernel_sizes"]]
    if "clips" in out:
        out["clips"] = [str(c) for c in out["clips"]]
        out.update(sample_rate=SAMPLE_RATE, clip_seconds=CLIP_SECONDS)
    return out


# ----------------------------------------------------------------------------- clips


def _warn(message: str) -> None:
    """Warn at the first caller outside this module (the public entry points nest)."""
    frame, level = inspect.currentframe(), 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _excerpt(x: Any, name: str) -> np.ndarray:
    """The loudest CLIP_SECONDS of a signal at SAMPLE_RATE, unit norm."""
    x = np.asarray(x)
    if x.dtype.kind not in "iuf":
        raise TypeError(f"clips[{name!r}] must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ParameterError(f"clips[{name!r}].shape={x.shape} must be (n_samples,), n >= 1")
    n = int(round(CLIP_SECONDS * SAMPLE_RATE))
    if x.size < n:
        _warn(
            f"clip {name!r} is shorter than {CLIP_SECONDS:g} s ({x.size} samples at "
            f"{SAMPLE_RATE} Hz): using all of it"
        )
    elif x.size > n:
        energy = np.concatenate([[0.0], np.cumsum(x * x)])
        start = int(np.argmax(energy[n:] - energy[:-n]))
        x = x[start : start + n]
    return signals.normalize(x)


def paper_clips(paths: Sequence[str | os.PathLike] | None = None) -> dict[str, np.ndarray]:
    """The clips of Figs. 1, 2 and 4: 1 s at 22 050 Hz, unit norm.

    Parameters
    ----------
    paths : sequence of str or os.PathLike, optional
        Audio files to use instead of the defaults (any number, any sample rate: they are
        resampled to 22 050 Hz). Default: a synthetic snare hit, the bundled speech
        recording (CMU ARCTIC ``arctic_a0007``, resampled from 16 kHz) and a synthetic
        flute tone, in the paper's order.

    Returns
    -------
    dict of str -> numpy.ndarray of float64, shape (n_samples,)
        Name (for files, :func:`fbinit.signals.clip_names`: the stem, longer where stems
        repeat) to the loudest second of the clip (its whole length if shorter, with a
        warning), scaled to unit norm.

    Raises
    ------
    AudioError
        If a file cannot be read.
    ParameterError
        If a clip is silent.

    Examples
    --------
    >>> clips = paper_clips()
    >>> list(clips), {x.shape for x in clips.values()}
    (['snare (synthetic)', 'speech (arctic_a0007)', 'flute (synthetic)'], {(22050,)})
    """
    n = int(round(CLIP_SECONDS * SAMPLE_RATE))
    if paths is None:
        speech, _ = signals.example("arctic_a0007", sample_rate=SAMPLE_RATE)
        return {
            "snare (synthetic)": signals.snare(n, sample_rate=SAMPLE_RATE),
            "speech (arctic_a0007)": _excerpt(speech, "arctic_a0007"),
            "flute (synthetic)": signals.flute(n, sample_rate=SAMPLE_RATE),
        }
    if isinstance(paths, (str, bytes, os.PathLike)) or not isinstance(paths, Sequence):
        raise TypeError(f"paths={paths!r} must be a sequence of audio file paths")
    if not paths:
        raise ParameterError("paths=[] must hold at least one audio file")
    clips: dict[str, np.ndarray] = {}
    for name, path in zip(signals.clip_names(paths), paths, strict=True):
        x, _ = signals.load(path, sample_rate=SAMPLE_RATE)
        clips[name] = _excerpt(x, name)
    return clips


def _resolve_clips(clips: Any, min_samples: int = 1) -> dict[str, np.ndarray]:
    """None -> the default clips; a mapping of name -> signal; else a sequence of paths."""
    if clips is None:
        out = paper_clips()
    elif isinstance(clips, Mapping):
        if not clips:
            raise ParameterError("clips={} must hold at least one clip")
        out = {str(name): _excerpt(x, str(name)) for name, x in clips.items()}
    else:
        out = paper_clips(clips)
    for name, x in out.items():
        if x.size < min_samples:
            raise ParameterError(
                f"clips[{name!r}] has {x.size} samples; must have >= {min_samples} "
                "(the longest kernel size)"
            )
    return out


def _check_draws(n_draws: Any, seed: Any) -> tuple[int, int]:
    return check_int("n_draws", n_draws), check_int("seed", seed, minimum=0)


def _check_kernel_sizes(kernel_sizes: Any) -> tuple[int, ...]:
    """Distinct ints in [2, N_SAMPLES], returned sorted."""
    if isinstance(kernel_sizes, (str, bytes)) or not isinstance(kernel_sizes, Sequence):
        raise TypeError(f"kernel_sizes={kernel_sizes!r} must be a sequence of integers")
    sizes = [check_int("kernel_sizes", t, minimum=2) for t in kernel_sizes]
    if not sizes or len(set(sizes)) != len(sizes) or max(sizes) > N_SAMPLES:
        raise ParameterError(
            f"kernel_sizes={list(kernel_sizes)} must be distinct integers in [2, {N_SAMPLES}]"
            " (at least one)"
        )
    return tuple(sorted(sizes))


# ---------------------------------------------------------------------- plot helpers


def _new_figure(n_panels: int, *, height: float = 3.2, sharey: bool = False, width=None):
    width = 3.6 * n_panels + 0.6 if width is None else width
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, n_panels, sharey=sharey, squeeze=False)[0]
    return fig, axes


def _plain_log_y(ax) -> None:
    """Log y axis with plain-number tick labels (2, 5, 10 rather than 2 x 10^0)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def log2_axis(ax, sizes: Sequence[int]) -> None:
    """Log2 x axis with one labelled tick per kernel size (shared with the report)."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes))
    ax.set_xticklabels([str(t) for t in sizes])
    ax.set_xlabel("kernel size T (taps)")
    ax.grid(True, which="major", linestyle="--", alpha=0.4)


# ---------------------------------------------------------------------------- Fig. 1


def figure_1(clips: Any = None) -> FigureResult:
    r"""Fig. 1: spectrograms of the clips (snare, speech, flute by default).

    Parameters
    ----------
    clips : None, sequence of paths, or mapping of name -> 1-D signal at 22 050 Hz
        See :func:`paper_clips`; a mapping's signals are cut to their loudest second and
        scaled to unit norm like files.

    Returns
    -------
    FigureResult
        Table columns ``clip, time_s, frequency_hz, power_db``: the power spectral density
        (Hann window of 512 samples, hop 256) in dB relative to each clip's maximum,
        floored at -80 dB, rounded to 0.01 dB; frame centres rounded to 1 microsecond.

    Notes
    -----
    .. math:: P_{dB}(t, f) = 10 \log_{10} \frac{S(t, f)}{\max_{t, f} S}

    The figure shows no randomness: the synthetic clips are fixed (seed 0).

    Examples
    --------
    >>> res = figure_1()
    >>> sorted(set(res.table["clip"].tolist()))[0], float(res.table["power_db"].max())
    ('flute (synthetic)', 0.0)
    """
    clips = _resolve_clips(clips)
    settings = _settings(clips=list(clips))
    fig, axes = _new_figure(len(clips), height=3.0, sharey=True)
    rows: dict[str, list] = {"clip": [], "time_s": [], "frequency_hz": [], "power_db": []}
    mesh = None
    for ax, (name, x) in zip(axes, clips.items(), strict=True):
        f, t, s = scipy.signal.spectrogram(
            x, fs=SAMPLE_RATE, window="hann", nperseg=512, noverlap=256, mode="psd"
        )
        with np.errstate(divide="ignore"):
            db = np.maximum(10 * np.log10(s / s.max()), -80.0).round(2)
        mesh = ax.pcolormesh(
            t, f / 1000, db, shading="nearest", vmin=-80, vmax=0, cmap="magma", rasterized=True
        )
        ax.set_title(name)
        ax.set_xlabel("time (s)")
        tt, ff = np.meshgrid(t, f)
        rows["clip"] += [name] * db.size
        rows["time_s"].append(tt.ravel().round(6))
        rows["frequency_hz"].append(ff.ravel())
        rows["power_db"].append(db.ravel())
    axes[0].set_ylabel("frequency (kHz)")
    fig.colorbar(mesh, ax=list(axes), label="power (dB re max)")
    fig.suptitle(f"Unit-norm clips, {CLIP_SECONDS:g} s at {SAMPLE_RATE} Hz")
    table = {
        "clip": np.array(rows["clip"]),
        "time_s": np.concatenate(rows["time_s"]),
        "frequency_hz": np.concatenate(rows["frequency_hz"]),
        "power_db": np.concatenate(rows["power_db"]),
    }
    return FigureResult(1, "spectrograms", fig, table, settings)


# ------------------------------------------------------------ energy figures (2-4)


@dataclass
class _EnergyStudy:
    """Energies of random banks on signals, their exact laws and deviation bounds."""

    names: list[str]
    kernel_sizes: tuple[int, ...]
    n_draws: int
    energies: np.ndarray  # (n_signals, n_sizes, n_draws): E / ||x||^2
    laws: list[WeightedChiSquare]  # per signal, batch (n_sizes,), of E / ||x||^2
    exact_upper: np.ndarray  # (n_signals, n_sizes): F^{-1}(1 - p) / E[E] - 1
    bounds: dict[str, np.ndarray]  # method -> (n_signals, n_sizes)


def _energy_study(
    sigs: Mapping[str, np.ndarray],
    kernel_sizes: Sequence[int],
    n_draws: int,
    seed: int,
    runner: SweepRunner | None = None,
) -> _EnergyStudy:
    names = list(sigs)
    J = ENERGY_N_FILTERS
    sizes = tuple(kernel_sizes)
    energies = _energy_ratios(sigs, sizes, n_draws, seed, runner)
    laws: list[WeightedChiSquare] = [None] * len(names)  # type: ignore[list-item]
    exact = np.empty((len(names), len(sizes)))
    bounds = {m: np.empty((len(names), len(sizes))) for m in BOUND_LABELS}
    groups: dict[int, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(sigs[name].size, []).append(i)
    for idx in groups.values():
        xs = np.stack([sigs[names[i]] for i in idx])
        norm2 = (xs * xs).sum(axis=-1)
        law = energy_distribution(xs, J, list(sizes))  # batch (n_group, n_sizes)
        q = law.ppf(1.0 - TAIL_PROBABILITY).numpy()
        mean = law.mean.numpy()
        exact[idx] = q / mean - 1.0
        for g, i in enumerate(idx):
            # the law of E / ||x||^2: weights scaled by 1 / ||x||^2
            laws[i] = WeightedChiSquare(law.weights[g] / norm2[g], law.dof[g])
        for method in BOUND_LABELS:
            b = deviation_bound(xs, J, list(sizes), TAIL_PROBABILITY, method=method)
            bounds[method][idx] = b.numpy()
    return _EnergyStudy(names, sizes, n_draws, energies, laws, exact, bounds)


def _energy_ratios(sigs, sizes, n_draws: int, seed: int, runner) -> np.ndarray:
    """E / ||x||^2 per (signal, kernel size, draw): the Monte Carlo, run as a sweep.

    One ``energy`` task per (signal, T); its banks are those of
    :func:`fbinit.analysis.energy_monte_carlo` (seeded by :func:`cell_seed`).
    """
    return energy_ratio_grid(
        sigs, ENERGY_N_FILTERS, list(sizes), n_draws=n_draws, seed=seed, runner=runner
    )


def _deviation_table(study: _EnergyStudy, column: str, labels: Mapping[str, str]):
    rows: dict[str, list] = {column: [], "kernel_size": []}
    dev = study.energies - 1.0
    n = study.n_draws
    stats = {
        "mean_deviation": dev.mean(axis=-1),
        "mean_deviation_se": (
            dev.std(axis=-1, ddof=1) / math.sqrt(n) if n > 1 else np.full(dev.shape[:2], np.nan)
        ),
        "empirical_q95": np.quantile(dev, 1.0 - TAIL_PROBABILITY, axis=-1),
        "exact_q95": study.exact_upper,
    }
    stats.update(
        {
            f"{m}_bound" if m != "reference" else "reference_curve": v
            for m, v in study.bounds.items()
        }
    )
    for name in study.names:
        rows[column] += [labels.get(name, name)] * len(study.kernel_sizes)
        rows["kernel_size"] += list(study.kernel_sizes)
    table = {column: np.array(rows[column]), "kernel_size": np.array(rows["kernel_size"])}
    table.update({k: v.reshape(-1) for k, v in stats.items()})
    return table


def _plot_deviations(table, column: str, title: str, n_draws: int) -> Figure:
    names = list(dict.fromkeys(table[column].tolist()))
    fig, axes = _new_figure(len(names), height=3.4)
    for ax, name in zip(axes, names, strict=True):
        sel = table[column] == name
        T = table["kernel_size"][sel]
        ax.plot(T, table["exact_q95"][sel], "k-", lw=2, label="exact 95% quantile of E - 1")
        ax.plot(
            T,
            table["empirical_q95"][sel],
            "ko",
            ms=5,
            mfc="none",
            label=f"empirical 95% quantile ({n_draws} draws)",
        )
        ax.plot(T, table["mean_deviation"][sel], "x", color="0.45", label="mean of E - 1")
        styles = {"bernstein": "C0", "cantelli": "C1", "chebyshev": "C2"}
        for method, color in styles.items():
            ax.plot(T, table[f"{method}_bound"][sel], "--", color=color, label=BOUND_LABELS[method])
        ax.plot(
            T,
            table["reference_curve"][sel],
            ":",
            color="C3",
            lw=2,
            label=BOUND_LABELS["reference"],
        )
        ax.axhline(0.0, color="k", lw=0.6)
        log2_axis(ax, sorted(set(T.tolist())))
        ax.set_title(name)
    axes[0].set_ylabel(r"relative deviation $\alpha$ at $p = 0.05$")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle(title)
    return fig


def _figure_2_from(study: _EnergyStudy) -> FigureResult:
    T = study.kernel_sizes[-1]
    fig, axes = _new_figure(len(study.names), height=3.2, sharey=False)
    cols: dict[str, list] = {
        k: []
        for k in (
            "clip",
            "bin_left",
            "bin_right",
            "empirical_density",
            "exact_density",
            "empirical_q05",
            "empirical_q95",
            "exact_q05",
            "exact_q95",
        )
    }
    for i, (ax, name) in enumerate(zip(axes, study.names, strict=True)):
        e = study.energies[i, -1]
        law = study.laws[i]
        sub = WeightedChiSquare(law.weights[-1], law.dof[-1])
        q_exact = sub.ppf(np.array([0.001, 0.05, 0.95, 0.999])).numpy()
        lo, hi = min(e.min(), q_exact[0]), max(e.max(), q_exact[-1])
        edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
        emp, _ = np.histogram(e, bins=edges, density=True)
        exact = np.diff(sub.cdf(edges).numpy()) / np.diff(edges)
        q_emp = np.quantile(e, [0.05, 0.95])
        ax.stairs(
            emp,
            edges,
            fill=True,
            color="C0",
            alpha=0.45,
            label=f"histogram ({study.n_draws} draws)",
        )
        centres = 0.5 * (edges[1:] + edges[:-1])
        ax.plot(centres, exact, "k-", lw=1.5, label="exact density (bin average)")
        for v in q_emp:
            ax.axvline(v, color="C0", ls="--", lw=1.2)
        for v in q_exact[1:3]:
            ax.axvline(v, color="k", ls=":", lw=1.5)
        ax.axvline(np.nan, color="C0", ls="--", label="empirical 5% / 95% quantiles")
        ax.axvline(np.nan, color="k", ls=":", label="exact 5% / 95% quantiles")
        ax.set_title(name)
        ax.set_xlabel(r"$\|\Phi x\|^2$ (unit-norm x)")
        ax.grid(True, linestyle="--", alpha=0.4)
        n_bins = HISTOGRAM_BINS
        cols["clip"] += [name] * n_bins
        cols["bin_left"].append(edges[:-1])
        cols["bin_right"].append(edges[1:])
        cols["empirical_density"].append(emp)
        cols["exact_density"].append(exact)
        cols["empirical_q05"].append(np.full(n_bins, q_emp[0]))
        cols["empirical_q95"].append(np.full(n_bins, q_emp[1]))
        cols["exact_q05"].append(np.full(n_bins, q_exact[1]))
        cols["exact_q95"].append(np.full(n_bins, q_exact[2]))
    axes[0].set_ylabel("density")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle(f"Energy response of random banks, J = {ENERGY_N_FILTERS}, T = {T}")
    table = {"clip": np.array(cols["clip"])}
    table.update({k: np.concatenate(v) for k, v in cols.items() if k != "clip"})
    return FigureResult(2, "energy_histograms", fig, table)


def figure_2(
    clips: Any = None, *, n_draws: int = 1000, seed: int = 0, kernel_size: int = 1024
) -> FigureResult:
    r"""Fig. 2: histograms of :math:`\|\Phi x\|^2` on the clips, with the exact law.

    Parameters
    ----------
    clips : None, sequence of paths, or mapping of name -> 1-D signal at 22 050 Hz
        See :func:`paper_clips`.
    n_draws : int >= 1
        Random banks (J = 10, default sigma), the same for every clip.
    seed : int >= 0
        Master seed (see :func:`cell_seed`).
    kernel_size : int in [2, 1024]
        T (the paper: 1024).

    Returns
    -------
    FigureResult
        Table columns ``clip, bin_left, bin_right, empirical_density, exact_density,
        empirical_q05, empirical_q95, exact_q05, exact_q95`` (one row per histogram bin).
        ``exact_density`` is the exact probability of the bin divided by its width.

    Notes
    -----
    .. math:: \|\Phi x\|^2 \sim \sigma^2 \sum_i \lambda_i \chi^2_{J,i}, \qquad
              \text{exact density} = \frac{F(b_{k+1}) - F(b_k)}{b_{k+1} - b_k}

    with F from Imhof's formula (:func:`fbinit.analysis.distribution.energy_distribution`).

    Examples
    --------
    >>> res = figure_2(n_draws=20, kernel_size=64)
    >>> sorted(res.table)[:3]
    ['bin_left', 'bin_right', 'clip']
    """
    n_draws, seed = _check_draws(n_draws, seed)
    (T,) = _check_kernel_sizes([kernel_size])
    study = _energy_study(_resolve_clips(clips, T), (T,), n_draws, seed)
    return _figure_2_from(study).with_settings(**_energy_settings(study, seed, clips=True))


def figure_3(
    *, n_draws: int = 1000, seed: int = 0, kernel_sizes: Sequence[int] = KERNEL_SIZES
) -> FigureResult:
    r"""Fig. 3: deviation of the energy response on synthetic signals, N = 1024.

    Parameters
    ----------
    n_draws : int >= 1
        Random banks per kernel size (J = 10, default sigma), the same for every signal.
    seed : int >= 0
        Master seed (see :func:`cell_seed`).
    kernel_sizes : sequence of distinct int in [2, 1024]
        T values (the paper: 8, 16, ..., 1024).

    Returns
    -------
    FigureResult
        Table columns ``signal, kernel_size, mean_deviation, mean_deviation_se,
        empirical_q95, exact_q95, bernstein_bound, cantelli_bound, chebyshev_bound,
        reference_curve``, all relative deviations :math:`\alpha` of :math:`E = \|\Phi
        x\|^2` from :math:`\|x\|^2 = 1` at p = 0.05 (upper tail).

    Notes
    -----
    .. math:: P\big(E \ge (1 + \alpha)\|x\|^2\big) \le p

    for the bounds; the exact quantile is :math:`F^{-1}(1 - p) - 1`. The signals are an
    impulse, the authors' "Brownian noise" (a lazy walk on {-1, 0, 1} with p = 0.15,
    :func:`fbinit.signals.lazy_walk`) and a genuine sinusoid
    (:func:`fbinit.signals.make_paper_signals`).

    Examples
    --------
    >>> res = figure_3(n_draws=20, kernel_sizes=[8, 16])
    >>> [round(v, 4) for v in res.table["exact_q95"][:2].tolist()]  # impulse, T = 8, 16
    [0.2735, 0.1907]
    """
    n_draws, seed = _check_draws(n_draws, seed)
    study = _energy_study(_synthetic(), _check_kernel_sizes(kernel_sizes), n_draws, seed)
    return _figure_3_from(study).with_settings(**_energy_settings(study, seed, clips=False))


def _synthetic() -> dict[str, np.ndarray]:
    paper = signals.make_paper_signals(N_SAMPLES, seed=0)
    return {k: paper[k] for k in _SYNTHETIC_LABELS}


def _figure_3_from(study: _EnergyStudy) -> FigureResult:
    table = _deviation_table(study, "signal", _SYNTHETIC_LABELS)
    title = f"Synthetic signals, N = {N_SAMPLES}, J = {ENERGY_N_FILTERS}"
    fig = _plot_deviations(table, "signal", title, study.n_draws)
    return FigureResult(3, "deviation_synthetic", fig, table)


def _figure_4_from(study: _EnergyStudy) -> FigureResult:
    table = _deviation_table(study, "clip", {})
    title = f"Clips of {CLIP_SECONDS:g} s at {SAMPLE_RATE} Hz, J = {ENERGY_N_FILTERS}"
    fig = _plot_deviations(table, "clip", title, study.n_draws)
    return FigureResult(4, "deviation_clips", fig, table)


def figure_4(
    clips: Any = None,
    *,
    n_draws: int = 1000,
    seed: int = 0,
    kernel_sizes: Sequence[int] = KERNEL_SIZES,
) -> FigureResult:
    r"""Fig. 4: deviation of the energy response on the clips (N = 22 050).

    Parameters
    ----------
    clips : None, sequence of paths, or mapping of name -> 1-D signal at 22 050 Hz
        See :func:`paper_clips`.
    n_draws : int >= 1
    seed : int >= 0
    kernel_sizes : sequence of distinct int in [2, 1024]

    Returns
    -------
    FigureResult
        The columns of :func:`figure_3`, with ``clip`` in place of ``signal``.

    Examples
    --------
    >>> res = figure_4(n_draws=10, kernel_sizes=[8, 16])
    >>> sorted(set(res.table["clip"].tolist()))[0], int(res.table["kernel_size"].max())
    ('flute (synthetic)', 16)
    """
    n_draws, seed = _check_draws(n_draws, seed)
    sizes = _check_kernel_sizes(kernel_sizes)
    study = _energy_study(_resolve_clips(clips, max(sizes)), sizes, n_draws, seed)
    return _figure_4_from(study).with_settings(**_energy_settings(study, seed, clips=True))


# ------------------------------------------------------------ frame figures (5-7)


def _frame_stats(n_filters: Sequence[int], n_draws: int, seed: int, kernel_sizes, runner=None):
    """Frame-bound statistics of the (J, T) cells, run as a sweep (one task per cell)."""
    return condition_number_grid(
        list(n_filters),
        list(kernel_sizes),
        n_fft=N_SAMPLES,
        n_draws=n_draws,
        seed=seed,
        runner=runner,
    )


def _rows(stats, n_filters: int) -> np.ndarray:
    return np.nonzero(stats.n_filters == n_filters)[0]


def _figure_5_from(stats) -> FigureResult:
    J = FIG5_N_FILTERS
    sel = _rows(stats, J)
    T = stats.kernel_size[sel]
    model_A, model_B = expected_frame_bounds_model(J, T, n_fft=N_SAMPLES)
    spread = 2.0 * np.sqrt(np.log(T) / J)
    table = {
        "kernel_size": T,
        "mean_A": stats.mean_A[sel],
        "sd_A": stats.sd_A[sel],
        "mean_B": stats.mean_B[sel],
        "sd_B": stats.sd_B[sel],
        "model_mean_A": np.asarray(model_A, dtype=np.float64),
        "model_mean_B": np.asarray(model_B, dtype=np.float64),
        "heuristic_A": 1.0 - spread,
        "heuristic_B": 1.0 + spread,
    }
    fig, axes = _new_figure(1, height=3.6, width=8.0)
    ax = axes[0]
    n = int(stats.n_draws[sel][0])
    for bound, color in (("A", "C0"), ("B", "C3")):
        mean, sd = table[f"mean_{bound}"], table[f"sd_{bound}"]
        ax.plot(T, mean, "-o", color=color, ms=4, label=f"mean {bound} ({n} draws)")
        ax.fill_between(
            T, mean - sd, mean + sd, color=color, alpha=0.2, label=f"mean {bound} +- 1 sd"
        )
        ax.plot(
            T,
            table[f"model_mean_{bound}"],
            "--",
            color="k" if bound == "A" else "0.35",
            lw=1.3,
            label=f"extreme-value model of mean {bound}",
        )
    ax.plot(T, table["heuristic_B"], "k:", label=r"$1 \pm 2\sqrt{\ln T / J}$")
    ax.plot(T, table["heuristic_A"], "k:")
    ax.axhline(1.0, color="k", lw=0.6)
    log2_axis(ax, T.tolist())
    ax.set_ylabel("frame bound")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    ax.set_title(f"Frame bounds of random banks, J = {J}, N = {N_SAMPLES}")
    return FigureResult(5, "frame_bounds", fig, table)


def figure_5(
    *, n_draws: int = 1000, seed: int = 0, kernel_sizes: Sequence[int] = KERNEL_SIZES
) -> FigureResult:
    r"""Fig. 5: mean frame bounds of random banks, J = 40, N = 1024, T = 8..1024.

    Parameters
    ----------
    n_draws : int >= 1
        Banks per kernel size (drawn by
        :func:`fbinit.analysis.scaling.condition_number_stats`).
    seed : int >= 0
    kernel_sizes : sequence of distinct int in [2, 1024]
        T values (the paper: 8, 16, ..., 1024).

    Returns
    -------
    FigureResult
        Table columns ``kernel_size, mean_A, sd_A, mean_B, sd_B, model_mean_A,
        model_mean_B, heuristic_A, heuristic_B``.

    Notes
    -----
    The model is :func:`fbinit.analysis.extremes.expected_frame_bounds_model`; the
    heuristic is the paper's

    .. math:: 1 \pm 2\sqrt{\ln T / J}.

    Examples
    --------
    >>> res = figure_5(n_draws=10, kernel_sizes=[8, 1024])
    >>> [round(v, 2) for v in res.table["model_mean_A"].tolist()]
    [0.76, 0.59]
    """
    n_draws, seed = _check_draws(n_draws, seed)
    sizes = _check_kernel_sizes(kernel_sizes)
    stats = _frame_stats([FIG5_N_FILTERS], n_draws, seed, sizes)
    return _figure_5_from(stats).with_settings(**_frame_settings(stats, seed, [FIG5_N_FILTERS]))


def _energy_settings(study: _EnergyStudy, seed: int, *, clips: bool) -> dict[str, Any]:
    where = {"clips": study.names} if clips else {"signals": study.names, "n_samples": N_SAMPLES}
    return _settings(
        seed=seed,
        n_draws=study.n_draws,
        n_filters=ENERGY_N_FILTERS,
        kernel_sizes=study.kernel_sizes,
        p=TAIL_PROBABILITY,
        **where,
    )


def _frame_settings(stats, seed: int, n_filters: Sequence[int]) -> dict[str, Any]:
    return _settings(
        seed=seed,
        n_draws=int(stats.n_draws[0]),
        n_filters=[int(j) for j in n_filters],
        kernel_sizes=sorted(set(stats.kernel_size.tolist())),
        n_fft=N_SAMPLES,
        stride=1,
    )


def _kappa_tilde(J: int, T: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf outside J > 4 ln T: expected
        return np.asarray(kappa_tilde(J, T), dtype=np.float64)


def _figure_6_from(stats) -> FigureResult:
    cols: dict[str, list] = {
        k: []
        for k in (
            "n_filters",
            "kernel_size",
            "median_kappa",
            "mean_kappa",
            "ratio_of_means",
            "kappa_tilde",
            "model_median_kappa",
        )
    }
    fig, axes = _new_figure(len(FIG6_N_FILTERS), height=3.4, sharey=True)
    n = int(stats.n_draws[0])
    for ax, J in zip(axes, FIG6_N_FILTERS, strict=True):
        sel = _rows(stats, J)
        T = stats.kernel_size[sel]
        tilde = _kappa_tilde(J, T)
        ax.plot(T, stats.mean_kappa[sel], "-s", color="C1", ms=4, mfc="none", label="mean of B/A")
        ax.plot(
            T,
            stats.ratio_of_means[sel],
            "-^",
            color="C2",
            ms=5,
            mfc="none",
            label="mean(B) / mean(A)",
        )
        ax.plot(
            T,
            stats.median_kappa[sel],
            "-o",
            color="C0",
            ms=3,
            lw=1.2,
            label=f"median of B/A ({n} draws)",
        )
        model = np.asarray(predict_median_kappa(J, T, n_fft=N_SAMPLES), dtype=np.float64)
        ax.plot(
            T, model, "-", color="0.5", lw=3, alpha=0.5, label="extreme-value model of the median"
        )
        finite = np.isfinite(tilde)
        ax.plot(
            T[finite],
            tilde[finite],
            "k--d",
            ms=4,
            label=r"$\tilde\kappa(J, T)$ (where $J > 4 \ln T$)",
        )
        _plain_log_y(ax)
        log2_axis(ax, T.tolist())
        ax.set_title(f"J = {J}")
        cols["n_filters"].append(np.full(T.size, J))
        cols["kernel_size"].append(T)
        cols["median_kappa"].append(stats.median_kappa[sel])
        cols["mean_kappa"].append(stats.mean_kappa[sel])
        cols["ratio_of_means"].append(stats.ratio_of_means[sel])
        cols["kappa_tilde"].append(tilde)
        cols["model_median_kappa"].append(model)
    axes[0].set_ylabel(r"condition number $\kappa = B / A$")
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle(f"Condition numbers of random banks, N = {N_SAMPLES}")
    table = {k: np.concatenate(v) for k, v in cols.items()}
    return FigureResult(6, "condition_vs_kernel_size", fig, table)


def figure_6(
    *, n_draws: int = 1000, seed: int = 0, kernel_sizes: Sequence[int] = KERNEL_SIZES
) -> FigureResult:
    r"""Fig. 6: condition numbers over T for J in {5, 10, 40}, with the scaling law.

    Parameters
    ----------
    n_draws : int >= 1
        Banks per (J, T) cell (:func:`fbinit.analysis.scaling.condition_number_stats`).
    seed : int >= 0
    kernel_sizes : sequence of distinct int in [2, 1024]

    Returns
    -------
    FigureResult
        Table columns ``n_filters, kernel_size, median_kappa, mean_kappa,
        ratio_of_means, kappa_tilde, model_median_kappa``: the median and the mean of
        the per-draw :math:`B/A`, :math:`\bar B / \bar A`, the paper's heuristic (inf
        where :math:`J \le 4 \ln T`, not drawn) and the median predicted by
        :func:`fbinit.analysis.extremes.predict_median_kappa`.

    Notes
    -----
    .. math:: \tilde\kappa(J, T) = \frac{1 + 2\sqrt{\ln T / J}}{1 - 2\sqrt{\ln T / J}}

    Examples
    --------
    >>> res = figure_6(n_draws=10, kernel_sizes=[8, 16])
    >>> sorted(set(res.table["n_filters"].tolist()))
    [5, 10, 40]
    """
    n_draws, seed = _check_draws(n_draws, seed)
    sizes = _check_kernel_sizes(kernel_sizes)
    stats = _frame_stats(FIG6_N_FILTERS, n_draws, seed, sizes)
    return _figure_6_from(stats).with_settings(**_frame_settings(stats, seed, FIG6_N_FILTERS))


def _figure_7_from(stats) -> FigureResult:
    Js = np.array(FIG7_N_FILTERS)
    cols: dict[str, list] = {
        k: []
        for k in (
            "kernel_size",
            "n_filters",
            "median_kappa",
            "mean_kappa",
            "ratio_of_means",
            "on_diagonal",
        )
    }
    fig, axes = _new_figure(1, height=3.8, width=7.5)
    ax = axes[0]
    diagonal = []
    sizes = sorted(set(stats.kernel_size.tolist()), reverse=True)
    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(sizes)))
    for color, T in zip(colors, sizes, strict=True):
        sel = np.array(
            [np.nonzero((stats.n_filters == J) & (stats.kernel_size == T))[0][0] for J in Js]
        )
        med = stats.median_kappa[sel]
        ax.plot(Js, med, "-", color=color, lw=1.8, label=f"T = {T}")
        on = Js == math.log2(T)
        diagonal += [(J, m) for J, m in zip(Js[on], med[on], strict=True)]
        cols["kernel_size"].append(np.full(Js.size, T))
        cols["n_filters"].append(Js)
        cols["median_kappa"].append(med)
        cols["mean_kappa"].append(stats.mean_kappa[sel])
        cols["ratio_of_means"].append(stats.ratio_of_means[sel])
        cols["on_diagonal"].append(on)
    diagonal.sort()
    ax.plot(
        [d[0] for d in diagonal],
        [d[1] for d in diagonal],
        "ko-",
        lw=1.5,
        ms=5,
        label=r"diagonal $J = \log_2 T$",
    )
    _plain_log_y(ax)
    ax.set_xticks(Js)
    ax.set_xlabel("number of filters J")
    ax.set_ylabel(rf"median of $\kappa = B/A$ ({int(stats.n_draws[0])} draws)")
    ax.grid(True, linestyle="--", alpha=0.4)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    ax.set_title(f"Condition numbers over J for each T, N = {N_SAMPLES}")
    table = {k: np.concatenate(v) for k, v in cols.items()}
    return FigureResult(7, "condition_vs_n_filters", fig, table)


def figure_7(
    *, n_draws: int = 1000, seed: int = 0, kernel_sizes: Sequence[int] = KERNEL_SIZES
) -> FigureResult:
    r"""Fig. 7: median condition number over J = 3..10 for each T, diagonal J = log2 T.

    Parameters
    ----------
    n_draws : int >= 1
        Banks per (J, T) cell (:func:`fbinit.analysis.scaling.condition_number_stats`).
    seed : int >= 0
    kernel_sizes : sequence of distinct int in [2, 1024]

    Returns
    -------
    FigureResult
        Table columns ``kernel_size, n_filters, median_kappa, mean_kappa,
        ratio_of_means, on_diagonal`` (1 where :math:`J = \log_2 T`). The figure draws
        the median of the per-draw :math:`B/A`.

    Notes
    -----
    Along the diagonal :math:`J = \log_2 T` the filters grow like :math:`\ln T`, the
    regime where the scaling law :math:`\tilde\kappa` is constant.

    Examples
    --------
    >>> res = figure_7(n_draws=10, kernel_sizes=[8, 16, 32])
    >>> res.table["n_filters"][res.table["on_diagonal"]].tolist()  # J = log2 T
    [5, 4, 3]
    """
    n_draws, seed = _check_draws(n_draws, seed)
    sizes = _check_kernel_sizes(kernel_sizes)
    stats = _frame_stats(FIG7_N_FILTERS, n_draws, seed, sizes)
    return _figure_7_from(stats).with_settings(**_frame_settings(stats, seed, FIG7_N_FILTERS))


# ----------------------------------------------------------------------- all seven

_TITLES = {
    1: "spectrograms of the clips",
    2: "histograms of the energy response",
    3: "deviation bounds, synthetic signals",
    4: "deviation bounds, clips",
    5: "frame bounds",
    6: "condition numbers over T",
    7: "condition numbers over J",
}


def write_figures(
    out_dir: str | os.PathLike,
    *,
    clips: Any = None,
    n_draws: int = 1000,
    seed: int = 0,
    kernel_sizes: Sequence[int] = KERNEL_SIZES,
    progress: Callable[[str, int, int], None] | None = None,
    runner: SweepRunner | None = None,
) -> list[Path]:
    """Compute the seven figures and write each as PNG, PDF and CSV.

    Parameters
    ----------
    out_dir : str or os.PathLike
        The figures' folder, ``fig{N}_<slug>.png/.pdf/.csv`` and ``manifest.json`` (the
        settings): one output set of kind :data:`FIGURES_KIND`
        (:func:`fbinit._io.output_set`), built in a temporary folder and swapped in whole
        when all seven are done, so an interrupted run leaves the previous figures or none.
        It must be new, empty or hold figures written before (replaced whole; files a user
        added are kept); this is checked before anything is computed.
    clips : None, sequence of paths, or mapping of name -> 1-D signal at 22 050 Hz
        Clips of Figs. 1, 2 and 4 (see :func:`paper_clips`).
    n_draws : int >= 1
        Random banks per (J, T) cell (the paper: 1000).
    seed : int >= 0
        Master seed; the same seed gives the same numbers.
    kernel_sizes : sequence of distinct int in [2, 1024]
        T values of Figs. 3-7 (the paper: 8, 16, ..., 1024); Fig. 2 uses the largest. A
        short list makes a quick run.
    progress : callable(stage, done, total), optional
        Called before each figure with its description, the number of figures done and
        7, and once at the end with ``("done", 7, 7)``.
    runner : fbinit.sweep.SweepRunner, optional
        Where the Monte Carlo cells run (one sweep task per (signal, T) energy cell and
        per (J, T) frame cell; default serially in this process) and, with a store,
        where they are kept, so an interrupted run resumes.

    Returns
    -------
    list of pathlib.Path
        The 21 files, in figure order (the manifest is not listed).

    Notes
    -----
    The banks of the energy figures are shared (Fig. 2 is the largest-T column of Fig. 4)
    and the frame statistics of Figs. 5-7 are computed in one grid, so each (J, T) cell is
    drawn once.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_figures(tmp, n_draws=5, kernel_sizes=[8, 16])
    ...     len(paths), paths[0].name
    (21, 'fig1_spectrograms.png')
    """
    n_draws, seed = _check_draws(n_draws, seed)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress={progress!r} must be a callable(stage, done, total) or None")
    sizes = _check_kernel_sizes(kernel_sizes)
    check_output_dir(out_dir, kind=FIGURES_KIND)
    clip_signals = _resolve_clips(clips, max(sizes))
    # up front, before Fig. 1: the energies of Figs. 2-4 (held three times while the
    # studies are assembled) and the per-draw frame bounds of one cell of Figs. 5-7
    n_signals = max(len(clip_signals), len(_SYNTHETIC_LABELS))
    check_memory(
        f"n_draws={n_draws}",
        total_bytes(3 * 8 * n_draws * len(sizes) * n_signals, 80 * n_draws),
        f"the figures' draws ({len(sizes)} kernel sizes, {n_signals} signals)",
    )
    total = len(_TITLES)
    cache: dict[str, Any] = {}

    def clip_study():
        if "clips" not in cache:
            cache["clips"] = _energy_study(clip_signals, sizes, n_draws, seed, runner)
        return cache["clips"]

    def frame_stats():
        if "frames" not in cache:
            js = sorted(set(FIG7_N_FILTERS) | set(FIG6_N_FILTERS) | {FIG5_N_FILTERS})
            cache["frames"] = _frame_stats(js, n_draws, seed, sizes, runner)
        return cache["frames"]

    def energy(from_study, study, *, with_clips):
        return from_study(study).with_settings(**_energy_settings(study, seed, clips=with_clips))

    def frames(from_stats, n_filters):
        return from_stats(frame_stats()).with_settings(
            **_frame_settings(frame_stats(), seed, n_filters)
        )

    builders = {
        1: lambda: figure_1(clip_signals),
        2: lambda: energy(_figure_2_from, _slice_last(clip_study()), with_clips=True),
        3: lambda: energy(
            _figure_3_from,
            _energy_study(_synthetic(), sizes, n_draws, seed, runner),
            with_clips=False,
        ),
        4: lambda: energy(_figure_4_from, clip_study(), with_clips=True),
        5: lambda: frames(_figure_5_from, [FIG5_N_FILTERS]),
        6: lambda: frames(_figure_6_from, FIG6_N_FILTERS),
        7: lambda: frames(_figure_7_from, FIG7_N_FILTERS),
    }
    names: list[str] = []
    settings = _settings(seed=seed, n_draws=n_draws, kernel_sizes=sizes, clips=list(clip_signals))
    with output_set(out_dir, kind=FIGURES_KIND, settings=settings) as folder:
        for number, build in builders.items():
            if progress is not None:
                progress(f"figure {number}: {_TITLES[number]}", number - 1, total)
            names += [p.name for p in build().save(folder)]
    if progress is not None:
        progress("done", total, total)
    return [Path(out_dir) / name for name in names]


def _slice_last(study: _EnergyStudy) -> _EnergyStudy:
    """The study restricted to its largest kernel size (Fig. 2 from Fig. 4's draws)."""
    laws = [WeightedChiSquare(law.weights[-1:], law.dof[-1:]) for law in study.laws]
    return _EnergyStudy(
        study.names,
        study.kernel_sizes[-1:],
        study.n_draws,
        study.energies[:, -1:],
        laws,
        study.exact_upper[:, -1:],
        {m: b[:, -1:] for m, b in study.bounds.items()},
    )
