"""Monte Carlo of energy responses: draws x kernel sizes x signals, two independent routes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from fbinit._memory import CHUNK_BYTES, check_memory, chunk_count, total_bytes
from fbinit._validate import as_signal, check_choice, check_int
from fbinit.analysis.autocorrelation import kernel_sizes
from fbinit.analysis.distribution import energy_distribution
from fbinit.analysis.energy import energy_response
from fbinit.banks.random import gaussian, make_generator

__all__ = ["cell_seed", "energy_monte_carlo"]


def cell_seed(seed: int, n_filters: int, kernel_size: int) -> int:
    """Seed of the draws of one (J, T) cell: depends on the master seed, J and T only.

    The "fft" route of :func:`energy_monte_carlo` draws
    ``gaussian(n_filters, kernel_size, n_draws=n_draws, seed=cell_seed(seed, J, T))``, so
    a cell gets the same banks whatever else is requested with it.

    Examples
    --------
    >>> cell_seed(0, 10, 64) == cell_seed(0, 10, 64) != cell_seed(1, 10, 64)
    True
    """
    seed = check_int("seed", seed, minimum=0)
    state = np.random.SeedSequence([seed, n_filters, kernel_size]).generate_state(1, np.uint64)
    return int(state[0])


def energy_monte_carlo(
    x: Any,
    n_filters: int,
    kernel_size: int | Sequence[int],
    *,
    n_draws: int,
    sigma: float | None = None,
    mode: str = "circular",
    method: str = "fft",
    seed: int = 0,
) -> torch.Tensor:
    r"""Energies :math:`\|\Phi x\|^2` of ``n_draws`` random Gaussian banks per kernel size.

    Parameters
    ----------
    x : array-like of real numbers, shape (..., n_samples)
        Signals (leading axes are a batch).
    n_filters : int >= 1
    kernel_size : int >= 1 or sequence of them
    n_draws : int >= 1
    sigma : float > 0, optional
        Tap standard deviation; default :math:`\sigma^2 = 1/(JT)` for each T.
    mode : {"circular", "full"}
    method : {"fft", "eigen"}
        "fft": draw the banks of one kernel size from one generator seeded with
        ``cell_seed(seed, J, T)`` (the banks of ``gaussian(J, T, n_draws=n_draws,
        seed=cell_seed(seed, J, T))``, drawn in chunks) and convolve them with every signal
        through :func:`fbinit.energy_response` (FFTs of autocorrelations). "eigen": sample
        the exact law
        :math:`\sigma^2\sum_i\lambda_i\chi^2_{J,i}` from the eigenvalues of the Toeplitz
        autocorrelation matrix. The two routes share no code beyond the autocorrelation
        and agree in distribution (tested).
    seed : int >= 0
        Master seed; kernel size T uses ``cell_seed(seed, n_filters, T)``, so a size's
        draws do not depend on the other sizes requested.

    Returns
    -------
    torch.Tensor, float64, shape (n_draws, [n_kernel_sizes], ...)
        One energy per draw, kernel size and signal. A sequence of kernel sizes adds the
        second axis; the signal batch axes follow.

    Raises
    ------
    ParameterError
        If the result (8 bytes per draw, kernel size and signal) and the working set of
        one chunk of draws exceed the memory limit (:mod:`fbinit._memory`): checked before
        any draw.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros(256); x[0] = 1.0
    >>> e = energy_monte_carlo(x, 10, [8, 64], n_draws=500, seed=1)
    >>> tuple(e.shape)
    (500, 2)
    """
    n_filters = check_int("n_filters", n_filters)
    n_draws = check_int("n_draws", n_draws)
    method = check_choice("method", method, ("fft", "eigen"))
    mode = check_choice("mode", mode, ("circular", "full"))
    x = as_signal(x)
    seed = check_int("seed", seed, minimum=0)
    sizes, is_seq = kernel_sizes(kernel_size, x.shape[-1], mode)
    n_signals = math.prod(x.shape[:-1])
    per_draw = [8 * n_filters * t + 8 * n_signals for t in sizes]
    check_memory(
        f"n_draws={n_draws}",
        total_bytes(8 * n_draws * len(sizes) * n_signals, CHUNK_BYTES, 16 * x.numel()),
        f"the energies of {n_draws} draws x {len(sizes)} kernel sizes x {n_signals} signals",
    )
    energies = torch.empty((n_draws, len(sizes), *x.shape[:-1]), dtype=torch.float64)
    for k, size in enumerate(sizes):
        child_seed = cell_seed(seed, n_filters, size)
        if method == "fft":
            generator = make_generator(child_seed)
            for start, stop in _draw_chunks(n_draws, n_filters * size, per_draw[k]):
                bank = gaussian(
                    n_filters, size, sigma=sigma, n_draws=stop - start, generator=generator
                )
                energies[start:stop, k] = energy_response(bank, x, mode=mode)
        else:
            law = energy_distribution(x, n_filters, size, sigma=sigma, mode=mode)
            energies[:, k] = law.sample(n_draws, seed=child_seed)
    return energies if is_seq else energies[:, 0]


def _draw_chunks(n_draws: int, taps_per_draw: int, bytes_per_draw: int) -> list[tuple]:
    """(start, stop) of chunks of draws that one generator draws as one call would.

    torch draws normal numbers of 16 values or more in blocks of 16 from consecutive
    uniforms (an incomplete last block is redrawn over the last 16 values). Chunks whose tap
    counts are multiples of 16, and a last chunk of at least 16 taps, therefore continue one
    generator's stream exactly as a single draw of all banks would (tested).
    """
    unit = 16 // math.gcd(16, taps_per_draw)
    step = max(unit, chunk_count(bytes_per_draw) // unit * unit)
    bounds = [(start, min(n_draws, start + step)) for start in range(0, n_draws, step)]
    if len(bounds) > 1 and (bounds[-1][1] - bounds[-1][0]) * taps_per_draw < 16:
        bounds[-2:] = [(bounds[-2][0], n_draws)]
    return bounds
