"""Condition-number and energy-response summary of random Gaussian banks on clips."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from fbinit._validate import as_signal, check_int
from fbinit.analysis import energy_response, frame_bounds
from fbinit.banks import gaussian
from fbinit.errors import ParameterError

__all__ = ["RandomBankSummary", "summarize_random_banks"]

#: draws per chunk: bounds the memory of one batch of banks
_DRAWS_PER_CHUNK = 50


@dataclass
class RandomBankSummary:
    """Frame bounds of M random banks and their energy responses on each clip.

    ``frames`` holds per-draw statistics of A, B and kappa = B/A (median and mean of the
    per-draw kappa, and mean(B)/mean(A), each labelled). ``clips`` maps a clip name to the
    mean, standard deviation and 5%/95% quantiles of :math:`\\|\\Phi x\\|^2 / \\|x\\|^2`.
    """

    config: dict[str, Any]
    frames: dict[str, float]
    clips: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_random_banks(
    n_filters: int,
    kernel_size: int,
    *,
    n_draws: int = 200,
    stride: int = 1,
    n_fft: int | None = None,
    sigma: float | None = None,
    seed: int = 0,
    signals: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RandomBankSummary:
    r"""Draw ``n_draws`` Gaussian banks, compute their frame bounds and clip energies.

    Parameters
    ----------
    n_filters, kernel_size : int >= 1
    n_draws : int >= 1
    stride : int >= 1 dividing n_fft
    n_fft : int >= kernel_size, optional
        Signal length of the frame bounds; default ``max(1024, kernel_size)`` rounded up
        to a multiple of the stride.
    sigma : float > 0, optional
        Tap standard deviation (default :math:`1/\sqrt{JT}`).
    seed : int >= 0
    signals : mapping of name -> 1-D array, optional
        Clips on which the energy response is measured (circular mode, normalised by the
        clip energy, so 1 means energy preserved).
    progress : callable(done, total), optional
        Called after each chunk of draws.

    Returns
    -------
    RandomBankSummary

    Examples
    --------
    >>> s = summarize_random_banks(8, 16, n_draws=10, signals={"noise": [1.0, -1.0] * 32})
    >>> sorted(s.clips["noise"])
    ['mean', 'q05', 'q95', 'sd']
    """
    n_filters = check_int("n_filters", n_filters)
    kernel_size = check_int("kernel_size", kernel_size)
    n_draws = check_int("n_draws", n_draws)
    stride = check_int("stride", stride)
    if n_fft is None:
        n_fft = -(-max(1024, kernel_size) // stride) * stride
    clips = {name: as_signal(x, name) for name, x in (signals or {}).items()}
    for name, x in clips.items():
        if x.ndim != 1:
            raise ParameterError(f"signals[{name!r}] must be one-dimensional (one channel)")
        if float(x.abs().square().sum()) == 0.0:
            raise ParameterError(f"signals[{name!r}] has zero energy; it cannot be normalised")
    gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    bounds, energies = [], {name: [] for name in clips}
    done = 0
    while done < n_draws:
        m = min(_DRAWS_PER_CHUNK, n_draws - done)
        bank = gaussian(
            n_filters, kernel_size, sigma=sigma, stride=stride, n_draws=m, generator=gen
        )
        bounds.append(torch.stack(frame_bounds(bank, n_fft=n_fft), dim=-1))
        for name, x in clips.items():
            energies[name].append(energy_response(bank, x) / x.abs().square().sum())
        done += m
        if progress is not None:
            progress(done, n_draws)
    ab = torch.cat(bounds).numpy()
    A, B = ab[:, 0], ab[:, 1]
    with np.errstate(divide="ignore"):
        kappa = np.where(A > 0, B / np.where(A > 0, A, 1.0), np.inf)
    frames = {
        "mean_A": float(A.mean()),
        "mean_B": float(B.mean()),
        "median_kappa": float(np.median(kappa)),
        "mean_kappa": float(kappa.mean()),
        "kappa_q05": float(np.quantile(kappa, 0.05)),
        "kappa_q95": float(np.quantile(kappa, 0.95)),
        "ratio_of_means": float(B.mean() / A.mean()),
    }
    clip_stats = {}
    for name, chunks in energies.items():
        e = torch.cat(chunks).numpy()
        clip_stats[name] = {
            "mean": float(e.mean()),
            "sd": float(e.std(ddof=1)) if e.size > 1 else 0.0,
            "q05": float(np.quantile(e, 0.05)),
            "q95": float(np.quantile(e, 0.95)),
        }
    config = {
        "n_filters": n_filters,
        "kernel_size": kernel_size,
        "stride": stride,
        "n_fft": n_fft,
        "n_draws": n_draws,
        "sigma": sigma,
        "seed": seed,
    }
    return RandomBankSummary(config=config, frames=frames, clips=clip_stats)
