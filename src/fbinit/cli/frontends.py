"""`fbinit frontends`: every frontend at initialisation, at a glance.

For each frontend and preset of :mod:`fbinit.frontends.registry`, at its own sample rate
(clips are resampled to it): its frame bounds and condition number over the full band
and in its band, its energy on each clip, and its number of learnable parameters.

Energy on a clip x (the ``E/‖x‖²`` columns):

- a deterministic frontend (every fixed frontend, and a seeded draw of a composite random
  one such as MultiresFrontend) has one value, the measured ratio ``‖Φx‖² / ‖x‖²`` of its
  analysis stage on the clip extended periodically (``padding="circular"``), each filter
  at its stride. It lies between the frame bounds
  A and B whenever the bounds are computed at the clip's length; the table's bounds use
  their own signal length N, so the ratio may leave [A, B] by the difference.
- a frontend with i.i.d. Gaussian taps (``conv-gaussian``: J filters of T taps, variance
  sigma^2) has a known law over the draws (fbinit.energy_distribution). The cell
  reads ``mu ± alpha``: mu = J T sigma^2 is the mean ratio and alpha the two-sided
  deviation at level p, alpha = max(alpha_up(p/2), alpha_down(p/2)) from
  fbinit.exact_deviation, so that P(|E/mu - 1| >= alpha) <= p for the clip.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from fbinit._io import atomic_write_text
from fbinit._validate import check_int, check_probability
from fbinit.cli._common import load_clip_pairs, progress
from fbinit.errors import ParameterError

__all__ = ["analysis_energy", "gaussian_law", "summarize_frontend"]


def gaussian_law(frontend: Any) -> tuple[int, int, float] | None:
    """``(n_filters, kernel_size, sigma)`` of a ConvFrontend with i.i.d. N(0, sigma^2) taps."""
    from fbinit.frontends.conv import ConvFrontend

    if isinstance(frontend, ConvFrontend) and frontend.init == "gaussian":
        n_filters, kernel_size = frontend.weight.shape
        return n_filters, kernel_size, 1 / math.sqrt(n_filters * kernel_size)
    return None


def _parameters(frontend: Any) -> int:
    if isinstance(frontend, torch.nn.Module):
        return sum(p.numel() for p in frontend.parameters() if p.requires_grad)
    return 0


def analysis_energy(bank: Any, x: torch.Tensor) -> torch.Tensor:
    r"""Energy of a frontend's analysis coefficients on a clip with circular padding.

    .. math:: E = \sum_j \sum_{m < \lceil N/d_j \rceil} \Big|\sum_t w_j[t]\,
              x[(m d_j + t - \lfloor K/2 \rfloor) \bmod N]\Big|^2,

    the coefficients of ``analysis_conv(x, w, stride=d_j, padding="circular")`` (the
    engine's correlation, centred), each filter at its own stride, computed by FFTs of
    length N (a kernel longer than the clip wraps around it).
    """
    from fbinit.filterbank import as_filterbank

    fb = as_filterbank(bank)
    n = x.shape[-1]
    half = fb.kernel_size // 2
    # r = x (*) v with v[(half - t) mod N] = w[t]: the correlation as a circular convolution
    index = (half - torch.arange(fb.kernel_size)) % n
    v = torch.zeros(fb.n_filters, n, dtype=fb.weights.dtype)
    v.index_add_(1, index, fb.weights)
    r = torch.fft.ifft(torch.fft.fft(v) * torch.fft.fft(x.to(torch.float64)))
    power = r.real.square() + r.imag.square()
    return sum(power[j, ::d].sum() for j, d in enumerate(fb.strides))


def summarize_frontend(
    frontend: Any,
    clips: dict[str, Any],
    *,
    p: float = 0.05,
    n_fft: int | None = None,
    gaussian_law: tuple[int, int, float] | None = None,
) -> dict[str, Any]:
    """The row of one frontend: bounds, energies on the clips, parameter count.

    Parameters
    ----------
    frontend : filterbank-like
    clips : dict of name -> 1-d array
        Signals at the frontend's sample rate.
    p : float in (0, 1)
        Level of the two-sided deviation of Gaussian-initialised frontends.
    n_fft : int, optional
        Signal length of the bounds (default :func:`~fbinit.frontends.monitor.default_n_fft`).
    gaussian_law : (n_filters, kernel_size, sigma), optional
        The frontend's taps are i.i.d. N(0, sigma^2): report the law instead of the ratio.

    Returns
    -------
    dict
        ``name, n_filters, kernel_size, stride, sample_rate, band, n_fft, parameters``,
        the six bounds of :func:`~fbinit.frontends.monitor.frame_summary` (None where not
        defined) and ``energy``: clip name -> ``{"kind": "measured", "ratio": r}`` or
        ``{"kind": "exact law", "mean": mu, "alpha": alpha, "p": p}``.
    """
    from fbinit.analysis import exact_deviation
    from fbinit.filterbank import as_filterbank
    from fbinit.frontends.monitor import default_n_fft, frame_summary

    p = check_probability("p", p)
    with torch.no_grad():
        fb = as_filterbank(frontend)
    n_fft = default_n_fft(fb) if n_fft is None else check_int("n_fft", n_fft)
    bounds = frame_summary(fb, n_fft=n_fft, band=fb.band)
    energy: dict[str, Any] = {}
    for name, x in clips.items():
        x = torch.as_tensor(x, dtype=torch.float64)
        if gaussian_law is not None:
            n_filters, kernel_size, sigma = gaussian_law
            kw = {"sigma": sigma, "mode": "circular"}
            up = exact_deviation(x, n_filters, kernel_size, p / 2, tail="upper", **kw)
            down = exact_deviation(x, n_filters, kernel_size, p / 2, tail="lower", **kw)
            energy[name] = {
                "kind": "exact law",
                "mean": n_filters * kernel_size * sigma**2,
                "alpha": max(float(up), float(down)),
                "p": p,
            }
        else:
            ratio = analysis_energy(fb, x) / x.square().sum()
            energy[name] = {"kind": "measured", "ratio": float(ratio)}
    return {
        "name": fb.name,
        "n_filters": fb.n_filters,
        "kernel_size": fb.kernel_size,
        "stride": fb.stride if isinstance(fb.stride, int) else list(fb.stride),
        "sample_rate": fb.sample_rate,
        "band": None if fb.band is None else list(fb.band),
        "n_fft": n_fft,
        "parameters": _parameters(frontend),
        **{k: (None if math.isnan(float(v)) else float(v)) for k, v in bounds.items()},
        "energy": energy,
    }


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.4g}"


def _energy_cell(cell: dict[str, Any]) -> str:
    if cell["kind"] == "measured":
        return f"{cell['ratio']:.4g}"
    return f"{cell['mean']:.4g} ± {cell['alpha']:.3g}"


def _stride(stride: Any) -> str:
    if isinstance(stride, int):
        return str(stride)
    return f"{min(stride)}–{max(stride)}"


def _tables(rows: dict[str, dict[str, Any]], clips: list[str], rates: list[int]) -> list[Table]:
    """The three tables: the frontends, their frame bounds, their energy on each clip."""
    hz = ", ".join(f"{rate} Hz" for rate in rates)
    sizes = Table(title=f"Frontends at initialisation ({hz})")
    bounds = Table(title="Frame bounds")
    energy = Table(title="Energy ratio E/‖x‖² on each clip")
    heads = {
        sizes: ("frontend", "class", "filters", "taps", "stride", "params"),
        bounds: ("frontend", "N", "A", "B", "κ", "A band", "B band", "κ band"),
        energy: ("frontend", *clips),
    }
    for table, cols in heads.items():
        for col in cols:
            table.add_column(col, justify="left" if col in ("frontend", "class") else "right")
    for name, row in rows.items():
        sizes.add_row(
            name,
            row["name"],
            str(row["n_filters"]),
            str(row["kernel_size"]),
            _stride(row["stride"]),
            str(row["parameters"]),
        )
        bounds.add_row(
            name,
            str(row["n_fft"]),
            *(_fmt(row[k]) for k in ("A", "B", "kappa", "A_band", "B_band", "kappa_band")),
        )
        energy.add_row(name, *(_energy_cell(row["energy"][c]) for c in clips))
    return [sizes, bounds, energy]


def run(args: argparse.Namespace, console: Console) -> int:
    from fbinit.frontends import registry

    p = check_probability("p", args.p)
    names = args.only or registry.names()
    for name in names:
        if name not in registry.FRONTENDS:
            raise ParameterError(f"--only {name!r} must be one of {', '.join(registry.names())}")
    clips_at: dict[int, dict[str, Any]] = {}  # clips resampled to each frontend's rate
    rows, notes = {}, []
    with progress(console, "frontends") as bar:
        task = bar.add_task("frontends", total=len(names))
        for name in names:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frontend = registry.create(name)
                rate = int(frontend.sample_rate)
                if rate not in clips_at:
                    pairs = load_clip_pairs(args.audio, rate)
                    clips_at[rate] = {clip: x for clip, (x, _) in pairs.items()}
                rows[name] = summarize_frontend(
                    frontend,
                    clips_at[rate],
                    p=p,
                    n_fft=args.n_fft,
                    gaussian_law=gaussian_law(frontend),
                )
            notes += [f"{name}: {m}" for m in dict.fromkeys(str(w.message) for w in caught)]
            bar.update(task, advance=1)
    clips = next(iter(clips_at.values()))
    rates = sorted(clips_at)
    for table in _tables(rows, list(clips), rates):
        console.print(table)
    console.print(
        "A, B, κ: frame bounds of the analysis stage on real signals of N samples; in band: "
        "over the frontend's band, defined for stride 1 only (— otherwise). E/‖x‖²: the "
        f"measured ratio, or μ ± α with P(|E/μ - 1| ≥ α) ≤ {p:g} for Gaussian-initialised "
        "taps (`fbinit frontends --help`)."
    )
    for note in notes:
        console.print(f"[dim]note, {note}[/]", highlight=False)
    if args.json:
        settings = {
            "sample_rates": rates,
            "p": p,
            "clips": {c: len(x) for c, x in clips.items()},
        }
        atomic_write_text(
            args.json, json.dumps({"settings": settings, "frontends": rows}, indent=2)
        )
        console.print(f"wrote {args.json}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the command."""
    cmd = sub.add_parser(
        "frontends",
        help="frame bounds, energy on clips and parameter count of every frontend at init",
        description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("audio", nargs="*", help="audio files (default: bundled examples)")
    cmd.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="registered names (default: all)",
    )
    cmd.add_argument("--p", type=float, default=0.05, help="level of the deviation (0.05)")
    cmd.add_argument("--n-fft", type=int, default=None, help="signal length of the bounds")
    cmd.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    cmd.set_defaults(func=run)
