"""Condition-number and energy-response summary of random Gaussian banks on clips."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from fbinit._memory import chunk_count
from fbinit._validate import as_signal, check_choice, check_int
from fbinit.analysis import condition_number_stats, energy_response
from fbinit.analysis.scaling import default_n_fft, draw_banks, draw_seeds
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["RandomBankSummary", "summarize_random_banks"]


@dataclass
class RandomBankSummary:
    """Frame bounds of M random banks and their energy responses on each clip.

    ``frames`` holds the statistics of :class:`fbinit.analysis.ConditionNumberStats` for
    this configuration (median and mean of the per-draw kappa = B/A, its quantiles, and
    mean(B)/mean(A), each labelled). ``clips`` maps a clip name to the mean, standard
    deviation and 5%/95% quantiles of :math:`\\|\\Phi x\\|^2 / \\|x\\|^2` over the same draws,
    at the same stride (``config["stride"]``) and in ``config["mode"]`` convolution.
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
    mode: str = "circular",
    sigma: float | None = None,
    seed: int = 0,
    signals: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RandomBankSummary:
    r"""Frame bounds of ``n_draws`` Gaussian banks and their energy responses on clips.

    Draw d is the bank of seed ``draw_seeds(seed, J, T, n_draws)[d]``, so the frame
    statistics are exactly those of :func:`fbinit.analysis.condition_number_stats` (and of
    ``fbinit report``) at the same seed.

    Parameters
    ----------
    n_filters, kernel_size : int >= 1
    n_draws : int >= 1
    stride : int >= 1 dividing n_fft
        Stride of the banks, for the frame bounds and the energy responses alike.
    n_fft : int >= kernel_size, optional
        Signal length of the frame bounds; default
        :func:`~fbinit.analysis.scaling.default_n_fft` (``max(1024, 2 kernel_size)``
        rounded up to a multiple of the stride).
    mode : {"circular", "full"}
        Convolution of the energy responses (:func:`fbinit.energy_response`): circular
        (every clip at least kernel_size samples long) or linear.
    sigma : float > 0, optional
        Tap standard deviation of the energy responses (default :math:`1/\sqrt{JT}`;
        kappa does not depend on it).
    seed : int >= 0
    signals : mapping of name -> 1-D array, optional
        Clips on which the energy response is measured (normalised by the clip energy, so
        1 means energy preserved at stride 1; at stride d the expected ratio is about 1/d).
    progress : callable(done, total), optional
        Called after each chunk of work, counted in draws (frame bounds, then clips).

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
    seed = check_int("seed", seed, minimum=0)
    mode = check_choice("mode", mode, ("circular", "full"))
    if n_fft is None:
        n_fft = default_n_fft(kernel_size, stride)
    clips = {name: as_signal(x, name) for name, x in (signals or {}).items()}
    # the ratios do not depend on the clips' scale: scale each to peak 1 (no overflow)
    clips = {
        name: x / x.abs().amax() if x.numel() and x.abs().amax() > 0 else x
        for name, x in clips.items()
    }
    for name, x in clips.items():
        if x.ndim != 1:
            raise ParameterError(f"signals[{name!r}] must be one-dimensional (one channel)")
        if float(x.abs().amax()) == 0.0:
            raise ParameterError(f"signals[{name!r}] has zero energy; it cannot be normalised")
        if mode == "circular" and x.shape[0] < kernel_size:
            raise ParameterError(
                f"signals[{name!r}] has n_samples={x.shape[0]}; it must be >= "
                f'kernel_size={kernel_size} in circular mode (or use mode="full")'
            )
    total = n_draws * (1 + bool(clips))
    stats = condition_number_stats(
        n_filters,
        kernel_size,
        n_fft=n_fft,
        n_draws=n_draws,
        stride=stride,
        seed=seed,
        quantiles=(0.05, 0.95),
        progress=None if progress is None else lambda done, _: progress(done, total),
    )
    record = stats.to_records()[0]
    frames = {
        "mean_A": record["mean_A"],
        "mean_B": record["mean_B"],
        "median_kappa": record["median_kappa"],
        "mean_kappa": record["mean_kappa"],
        "kappa_q05": record["kappa_q0.05"],
        "kappa_q95": record["kappa_q0.95"],
        "ratio_of_means": record["ratio_of_means"],
    }
    seeds = draw_seeds(seed, n_filters, kernel_size, n_draws)
    per_chunk = chunk_count(8 * n_filters * kernel_size)
    energies: dict[str, list[torch.Tensor]] = {name: [] for name in clips}
    for start in range(0, n_draws if clips else 0, per_chunk):
        weights = draw_banks(n_filters, kernel_size, seeds[start : start + per_chunk], sigma=sigma)
        bank = Filterbank(weights, stride=stride)
        for name, x in clips.items():
            energies[name].append(energy_response(bank, x, mode=mode) / x.abs().square().sum())
        if progress is not None:
            progress(n_draws + min(start + per_chunk, n_draws), total)
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
        "mode": mode,
        "n_draws": n_draws,
        "sigma": sigma,
        "seed": seed,
    }
    return RandomBankSummary(config=config, frames=frames, clips=clip_stats)
