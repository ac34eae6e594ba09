r"""Input distributions for Du, Lee and Tian (2018): patches of a random signal.

A signal :math:`X` of length :math:`(k-1)s + p` is cut into :math:`k` windows of length
:math:`p` at hop :math:`s` (the stride): :math:`Z_i = X[(i-1)s : (i-1)s + p]`. With
i.i.d. samples and :math:`s \ge p` the patches are independent; :math:`s < p` makes them
overlap (share samples), so the stride controls how close the patches are. Every
distribution is normalised to zero mean and unit variance per sample:

- ``"gaussian"``: i.i.d. :math:`\mathcal N(0, 1)`.
- ``"uniform"``: i.i.d. :math:`\mathcal U(-\sqrt3, \sqrt3)`.
- ``"laplace"``: i.i.d. Laplace with scale :math:`1/\sqrt2` (heavy-ish tails).
- ``"ar1"``: stationary AR(1), :math:`X_t = \rho X_{t-1} + \sqrt{1-\rho^2}\,\varepsilon_t`,
  an audio-like correlated (low-pass) signal.
- ``"audio"``: frames of a real recording (default: the bundled example of
  :func:`fbinit.signals.example`) at uniformly random offsets, see :func:`audio_frames`.

References
----------
S. S. Du, J. D. Lee, Y. Tian, "When is a Convolutional Filter Easy to Learn?", ICLR 2018.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.signal
import torch

from fbinit._validate import as_double_tensor, check_choice, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = [
    "DISTRIBUTIONS",
    "sample_signals",
    "audio_frames",
    "extract_patches",
    "sample_patches",
    "patch_sampler",
]

DISTRIBUTIONS = ("gaussian", "uniform", "laplace", "ar1", "audio")


def audio_frames(
    n: int,
    length: int,
    *,
    signal=None,
    min_rms: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Frames of a real recording at uniformly random offsets, unit mean power.

    Parameters
    ----------
    n : int >= 1
        Number of frames.
    length : int >= 1
        Samples per frame.
    signal : array-like, shape (n_samples,), optional
        Mono recording; default is the bundled example of :func:`fbinit.signals.example`.
    min_rms : float >= 0
        Frames whose RMS is below ``min_rms`` times the RMS of the recording (silence) are
        never drawn.
    generator : torch.Generator, optional
        Source of the offsets (default: a generator seeded with 0).

    Returns
    -------
    torch.Tensor, shape (n, length), float64
        Frames scaled so that the mean power over all admissible frames is 1:

        .. math:: \frac{1}{|\mathcal O|}\sum_{o \in \mathcal O}\frac1L\|x[o:o+L]\|^2 = 1.

    Examples
    --------
    >>> sig = torch.sin(torch.arange(1000.0))
    >>> tuple(audio_frames(4, 16, signal=sig, generator=torch.Generator().manual_seed(0)).shape)
    (4, 16)
    """
    n = check_int("n", n)
    length = check_int("length", length)
    min_rms = check_positive_float("min_rms", min_rms, allow_zero=True)
    generator = make_generator(None, generator)
    if signal is None:
        from fbinit.signals import example

        signal = example()[0]
    x = as_double_tensor("signal", signal)
    if x.is_complex() or x.ndim != 1:
        raise ParameterError(f"signal.shape={tuple(x.shape)} must be one real channel (n_samples,)")
    if x.numel() < length:
        raise ParameterError(f"length={length} must be <= the signal length {x.numel()}")
    power = torch.cat([x.new_zeros(1), torch.cumsum(x**2, 0)])
    frame_power = (power[length:] - power[:-length]) / length
    total = float((x**2).mean())
    if total == 0:
        raise ParameterError("signal must not be all zeros")
    offsets = torch.nonzero(frame_power >= min_rms**2 * total).flatten()
    if offsets.numel() == 0:
        raise ParameterError(f"min_rms={min_rms} must leave at least one frame of the signal")
    x = x / math.sqrt(float(frame_power[offsets].mean()))
    pick = offsets[torch.randint(offsets.numel(), (n,), generator=generator)]
    return x[pick[:, None] + torch.arange(length)]


def sample_signals(
    n: int,
    length: int,
    *,
    distribution: str = "gaussian",
    rho: float = 0.9,
    signal=None,
    min_rms: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Draw ``n`` unit-variance signals from one of :data:`DISTRIBUTIONS`.

    Parameters
    ----------
    n : int >= 1
        Number of signals.
    length : int >= 1
        Samples per signal.
    distribution : {"gaussian", "uniform", "laplace", "ar1", "audio"}
        See the module docstring.
    rho : float in (-1, 1)
        AR(1) coefficient (``"ar1"`` only).
    signal, min_rms
        Recording and silence threshold (``"audio"`` only), see :func:`audio_frames`.
    generator : torch.Generator, optional
        Source of randomness (default: a generator seeded with 0).

    Returns
    -------
    torch.Tensor, shape (n, length), float64
        .. math:: \mathbb E[X_t] = 0,\quad \mathbb E[X_t^2] = 1
                  \quad(\text{for "audio": on average over frames}).

    Examples
    --------
    >>> x = sample_signals(4000, 3, distribution="laplace",
    ...                    generator=torch.Generator().manual_seed(0))
    >>> abs(float(x.var()) - 1) < 0.1
    True
    """
    n = check_int("n", n)
    length = check_int("length", length)
    check_choice("distribution", distribution, DISTRIBUTIONS)
    generator = make_generator(None, generator)
    shape = (n, length)
    if distribution == "gaussian":
        return torch.randn(shape, generator=generator, dtype=torch.float64)
    if distribution == "uniform":
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        return (2 * u - 1) * math.sqrt(3)
    if distribution == "laplace":
        u = torch.rand((2, *shape), generator=generator, dtype=torch.float64)
        return (torch.log1p(-u[0]) - torch.log1p(-u[1])) / math.sqrt(2)
    if distribution == "ar1":
        if isinstance(rho, bool) or not isinstance(rho, (int, float)):
            raise TypeError(f"rho={rho!r} must be a real number")
        if not -1.0 < rho < 1.0:
            raise ParameterError(f"rho={rho} must be in the open interval (-1, 1)")
        eps = torch.randn(shape, generator=generator, dtype=torch.float64).numpy()
        # X_0 = eps_0 (stationary start), then X_t = rho X_{t-1} + sqrt(1 - rho^2) eps_t.
        rest = scipy.signal.lfilter(
            [math.sqrt(1 - rho**2)], [1.0, -rho], eps[:, 1:], axis=1, zi=rho * eps[:, :1]
        )[0]
        return torch.from_numpy(np.concatenate([eps[:, :1], rest], axis=1))
    return audio_frames(n, length, signal=signal, min_rms=min_rms, generator=generator)


def extract_patches(x, kernel_size: int, *, stride: int = 1) -> torch.Tensor:
    r"""Cut signals into windows: :math:`Z_i = X[(i-1)s : (i-1)s + p]`.

    Parameters
    ----------
    x : array-like, shape (n, length)
        Signals.
    kernel_size : int >= 1
        Patch length p.
    stride : int >= 1
        Hop s.

    Returns
    -------
    torch.Tensor, shape (n, k, p), k = (length - p) // s + 1
        The patches (a view on ``x`` when it is already float64).

    Examples
    --------
    >>> extract_patches(torch.arange(5.0)[None], 3, stride=2).tolist()
    [[[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]]]
    """
    x = as_double_tensor("x", x)
    kernel_size = check_int("kernel_size", kernel_size)
    stride = check_int("stride", stride)
    if x.ndim != 2:
        raise ParameterError(f"x.ndim={x.ndim} must be 2 (shape (n, length))")
    if x.shape[1] < kernel_size:
        raise ParameterError(f"kernel_size={kernel_size} must be <= the signal length {x.shape[1]}")
    return x.unfold(1, kernel_size, stride)


def sample_patches(
    n: int,
    *,
    p: int,
    k: int,
    stride: int | None = None,
    distribution: str = "gaussian",
    generator: torch.Generator | None = None,
    **options,
) -> torch.Tensor:
    r"""Draw ``n`` inputs of ``k`` patches of length ``p`` at hop ``stride``.

    Parameters
    ----------
    n : int >= 1
        Number of inputs.
    p : int >= 1
        Patch length.
    k : int >= 1
        Patches per input.
    stride : int >= 1, optional
        Hop between patches (default ``p``: adjacent, non-overlapping patches).
    distribution : str
        One of :data:`DISTRIBUTIONS`.
    generator : torch.Generator, optional
        Source of randomness (default: a generator seeded with 0).
    **options
        ``rho``, ``signal``, ``min_rms`` passed to :func:`sample_signals`.

    Returns
    -------
    torch.Tensor, shape (n, k, p), float64
        Patches of signals of length :math:`(k-1)s + p`.

    Examples
    --------
    >>> Z = sample_patches(2, p=4, k=3, stride=2, generator=torch.Generator().manual_seed(0))
    >>> tuple(Z.shape), bool((Z[:, 0, 2:] == Z[:, 1, :2]).all())
    ((2, 3, 4), True)
    """
    p = check_int("p", p)
    k = check_int("k", k)
    stride = p if stride is None else check_int("stride", stride)
    length = (k - 1) * stride + p
    x = sample_signals(n, length, distribution=distribution, generator=generator, **options)
    return extract_patches(x, p, stride=stride)


def patch_sampler(
    *,
    p: int,
    k: int,
    stride: int | None = None,
    distribution: str = "gaussian",
    **options,
) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Return ``sampler(n, generator) -> Z`` drawing patches as :func:`sample_patches` does.

    The recording of ``distribution="audio"`` is loaded once, when the sampler is built.

    Examples
    --------
    >>> sampler = patch_sampler(p=4, k=2, distribution="uniform")
    >>> tuple(sampler(3, torch.Generator().manual_seed(0)).shape)
    (3, 2, 4)
    """
    check_choice("distribution", distribution, DISTRIBUTIONS)
    if distribution == "audio" and options.get("signal") is None:
        from fbinit.signals import example

        options["signal"] = as_double_tensor("signal", example()[0])

    def sampler(n: int, generator: torch.Generator) -> torch.Tensor:
        return sample_patches(
            n, p=p, k=k, stride=stride, distribution=distribution, generator=generator, **options
        )

    return sampler
