"""Random Gaussian FIR filterbanks."""

from __future__ import annotations

import math

import torch

from fbinit._memory import check_memory
from fbinit._validate import check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["gaussian", "make_generator"]


def make_generator(seed: int | None = None, generator: torch.Generator | None = None):
    """Return ``generator`` or a new CPU generator seeded with ``seed`` (0 when both are None).

    Passing both is an error: the randomness must have one source.
    """
    if generator is not None and seed is not None:
        raise ParameterError("seed and generator must not both be given (pass one of them)")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    seed = 0 if seed is None else check_int("seed", seed, minimum=0)
    if seed >= 2**64:
        raise ParameterError(f"seed={seed} must be < 2**64 (a torch.Generator seed)")
    return torch.Generator().manual_seed(seed)


def gaussian(
    n_filters: int,
    kernel_size: int,
    *,
    sigma: float | None = None,
    stride: int = 1,
    n_draws: int | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    sample_rate: float | None = None,
) -> Filterbank:
    r"""I.i.d. Gaussian FIR filterbank(s).

    Parameters
    ----------
    n_filters : int >= 1
        Number of filters J.
    kernel_size : int >= 1
        Number of taps T.
    sigma : float > 0, optional
        Standard deviation of each tap; default :math:`\sigma^2 = 1/(J T)`, for which the
        expected energy response equals the input energy and E[LP(k)] = 1.
    stride : int >= 1
        Stride of the bank.
    n_draws : int >= 1, optional
        Number of independent banks drawn at once; the weights then have shape
        (n_draws, n_filters, kernel_size).
    seed : int >= 0, optional
        Seed of a fresh generator (default 0 when ``generator`` is not given).
    generator : torch.Generator, optional
        Source of randomness (exclusive with ``seed``).
    sample_rate : float > 0, optional
        Sample rate attached to the bank.

    Returns
    -------
    Filterbank
        float64 weights of shape (n_filters, kernel_size) or (n_draws, n_filters,
        kernel_size).

    Notes
    -----
    .. math:: w_j[k] \sim \mathcal N(0, \sigma^2)\ \text{i.i.d.},\qquad
              \mathbb E\,\|\Phi x\|^2 = J T \sigma^2 \|x\|^2.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> bank = gaussian(10, 64, n_draws=3, seed=0)
    >>> tuple(bank.weights.shape)
    (3, 10, 64)
    """
    n_filters = check_int("n_filters", n_filters)
    kernel_size = check_int("kernel_size", kernel_size)
    if sigma is None:
        sigma = 1.0 / math.sqrt(n_filters * kernel_size)
    sigma = check_positive_float("sigma", sigma)
    shape: tuple[int, ...] = (n_filters, kernel_size)
    if n_draws is not None:
        shape = (check_int("n_draws", n_draws), *shape)
    check_memory(
        ", ".join(
            f"{k}={v}"
            for k, v in zip(
                ("n_draws", "n_filters", "kernel_size")[-len(shape) :], shape, strict=True
            )
        ),
        16.0 * math.prod(shape),
        "the Gaussian weights",
    )
    gen = make_generator(seed, generator)
    weights = torch.randn(shape, generator=gen, dtype=torch.float64) * sigma
    return Filterbank(
        weights,
        stride=stride,
        sample_rate=sample_rate,
        name=f"gaussian J={n_filters} T={kernel_size}",
    )
