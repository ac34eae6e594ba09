r"""Inputs that satisfy or violate the data condition, and teacher targets.

The condition used here (the natural candidate for the paper's mild assumption on the
data) is that the patch matrix :math:`P` of the inputs at width :math:`k_v` and stride
:math:`s_v` has full column rank, i.e. the square loss is strictly convex in the
end-to-end filter :math:`v`. It holds for generic inputs with enough patches
(:math:`N\,n_{\text{out}} \ge k_v`); it fails for

* too few samples: fewer patches than :math:`k_v` (:func:`gaussian_inputs` with a small
  ``n_samples`` and ``n_in``), rank :math:`N n_{\text{out}}`;
* inputs in a shift-invariant subspace: sums of :math:`r` sinusoids with frequencies
  shared by all samples (:func:`sinusoid_inputs`), rank :math:`\min(2r, k_v)`.

Real audio frames of the bundled recording (:func:`audio_frames`) satisfy it, with a small
smallest singular value (speech is low-pass), which slows the flow down.

References
----------
D. Diederen, H. Rauhut, U. Terstiege, "Convergence of gradient flow for learning
convolutional neural networks", arXiv:2601.08547, 2026.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from fbinit._validate import as_double_tensor, check_int, check_positive_float, check_probability
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError
from fbinit.theory.diederen2026_linear_cnn_flow.model import (
    end_to_end_size,
    network_forward,
    patch_matrix,
)

__all__ = [
    "PatchCondition",
    "audio_frames",
    "gaussian_inputs",
    "normalise_inputs",
    "patch_condition",
    "sinusoid_inputs",
    "teacher_targets",
]


@dataclass(frozen=True)
class PatchCondition:
    """Rank of the patch matrix at width ``k_v`` and stride ``s_v``.

    Attributes
    ----------
    rank : int
        Numerical rank of :math:`P`.
    k_v, s_v : int
        End-to-end filter length and stride.
    sigma_min, sigma_max : float
        Extreme singular values of :math:`P / \\sqrt N`.
    holds : bool
        ``rank == k_v`` (full column rank).
    """

    rank: int
    k_v: int
    s_v: int
    sigma_min: float
    sigma_max: float
    holds: bool


def patch_condition(
    x, kernel_sizes: Sequence[int], strides: Sequence[int], *, rtol: float = 1e-9
) -> PatchCondition:
    r"""Check whether the inputs satisfy the full-column-rank patch condition.

    Parameters
    ----------
    x : array-like, shape (N, n_in)
    kernel_sizes, strides : sequence of int >= 1
        The architecture, which fixes :math:`k_v` and :math:`s_v`.
    rtol : float in (0, 1)
        Singular values below ``rtol * sigma_max`` count as zero.

    Returns
    -------
    PatchCondition
        .. math:: \operatorname{rank} P = k_v,\qquad P = [x_n[s_v m : s_v m + k_v]]_{n,m}.

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(4, 101, generator=torch.Generator().manual_seed(0))
    >>> patch_condition(x, (3, 2, 4), (2, 1, 3)).holds
    True
    """
    rtol = check_probability("rtol", rtol)
    k_v, s_v = end_to_end_size(kernel_sizes, strides)
    x = as_double_tensor("x", x)
    sv = torch.linalg.svdvals(patch_matrix(x, k_v, s_v)) / math.sqrt(x.shape[0])
    sv = torch.cat([sv, sv.new_zeros(k_v - sv.numel())])
    rank = int((sv > rtol * sv[0]).sum())
    return PatchCondition(rank, k_v, s_v, float(sv[-1]), float(sv[0]), rank == k_v)


def normalise_inputs(x, kernel_sizes: Sequence[int], strides: Sequence[int]) -> torch.Tensor:
    r"""Scale the inputs so that the largest singular value of :math:`P/\sqrt N` is 1.

    Then the Hessian of the loss in :math:`v` has largest eigenvalue 1, and one step size
    suits every data set.

    Examples
    --------
    >>> import torch
    >>> x = normalise_inputs(torch.ones(2, 11), (3, 2, 4), (2, 1, 3))
    >>> round(patch_condition(x, (3, 2, 4), (2, 1, 3)).sigma_max, 12)
    1.0
    """
    x = as_double_tensor("x", x)
    sigma_max = patch_condition(x, kernel_sizes, strides).sigma_max
    if sigma_max == 0.0:
        raise ParameterError("x must not be identically zero (cannot normalise)")
    return x / sigma_max


def gaussian_inputs(n_samples: int, n_in: int, *, seed: int = 0) -> torch.Tensor:
    r"""I.i.d. standard Gaussian signals, shape (n_samples, n_in).

    Satisfies the condition almost surely when :math:`N n_{\text{out}} \ge k_v`; violates
    it (rank :math:`N n_{\text{out}}`) otherwise.

    Examples
    --------
    >>> tuple(gaussian_inputs(3, 50).shape)
    (3, 50)
    """
    gen = make_generator(seed)
    shape = (check_int("n_samples", n_samples), check_int("n_in", n_in))
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def sinusoid_inputs(
    n_samples: int, n_in: int, *, n_sinusoids: int = 2, seed: int = 0
) -> torch.Tensor:
    r"""Sums of sinusoids with frequencies shared by all samples.

    .. math:: x_n[t] = \sum_{r=1}^{R} a_{n,r}\cos(\omega_r t + \phi_{n,r}),

    :math:`\omega_r \sim U(0.05\pi, 0.95\pi)`, :math:`a_{n,r}\sim\mathcal N(0,1)`,
    :math:`\phi_{n,r}\sim U(0, 2\pi)`. Every patch lies in the span of
    :math:`\cos\omega_r t, \sin\omega_r t`, so the patch matrix has rank
    :math:`\le 2R`: the condition fails when :math:`2R < k_v`.

    Examples
    --------
    >>> x = sinusoid_inputs(8, 101, n_sinusoids=2)
    >>> from fbinit.theory.diederen2026_linear_cnn_flow import patch_condition
    >>> patch_condition(x, (3, 2, 4), (2, 1, 3)).rank
    4
    """
    n_samples = check_int("n_samples", n_samples)
    n_in = check_int("n_in", n_in)
    n_sinusoids = check_int("n_sinusoids", n_sinusoids)
    gen = make_generator(seed)
    omega = math.pi * (0.05 + 0.9 * torch.rand(n_sinusoids, generator=gen, dtype=torch.float64))
    amp = torch.randn(n_samples, n_sinusoids, 1, generator=gen, dtype=torch.float64)
    phase = 2 * math.pi * torch.rand(n_samples, n_sinusoids, 1, generator=gen, dtype=torch.float64)
    t = torch.arange(n_in, dtype=torch.float64)
    return (amp * torch.cos(omega[:, None] * t + phase)).sum(1)


def audio_frames(
    n_samples: int,
    n_in: int,
    *,
    signal=None,
    min_rms_ratio: float = 0.1,
    seed: int = 0,
) -> torch.Tensor:
    r"""Frames of a recording as input signals.

    The signal is cut into non-overlapping frames of ``n_in`` samples; frames with RMS at
    least ``min_rms_ratio`` times the loudest frame's are kept (silence is skipped) and
    ``n_samples`` of them are drawn without replacement.

    Parameters
    ----------
    n_samples : int >= 1
        Number of frames :math:`N`.
    n_in : int >= 1
        Frame length.
    signal : array-like, shape (n,), optional
        Mono signal; default: the bundled recording, ``fbinit.signals.example()``.
    min_rms_ratio : float in (0, 1)
        Silence threshold relative to the loudest frame.
    seed : int >= 0
        Seed of the frame draw.

    Returns
    -------
    torch.Tensor, shape (n_samples, n_in), float64

    Examples
    --------
    >>> import torch
    >>> sig = torch.sin(0.05 * torch.arange(4000.0))
    >>> tuple(audio_frames(5, 101, signal=sig).shape)
    (5, 101)
    """
    n_samples = check_int("n_samples", n_samples)
    n_in = check_int("n_in", n_in)
    min_rms_ratio = check_probability("min_rms_ratio", min_rms_ratio)
    if signal is None:
        from fbinit.signals import example

        signal, _ = example()
    signal = as_double_tensor("signal", signal)
    if signal.ndim != 1:
        raise ParameterError(f"signal.ndim={signal.ndim} must be 1 (a mono signal)")
    n_frames = signal.numel() // n_in
    if n_frames < 1:
        raise ParameterError(f"n_in={n_in} must be <= len(signal)={signal.numel()}")
    frames = signal[: n_frames * n_in].reshape(n_frames, n_in)
    rms = frames.pow(2).mean(1).sqrt()
    loud = torch.nonzero(rms >= min_rms_ratio * rms.max()).flatten()
    if loud.numel() < n_samples:
        raise ParameterError(
            f"n_samples={n_samples} must be <= {loud.numel()} (the number of non-silent "
            f"frames of length n_in={n_in} in the signal)"
        )
    pick = torch.randperm(loud.numel(), generator=make_generator(seed))[:n_samples]
    return frames[loud[pick.sort().values]].clone()


def teacher_targets(
    x,
    teacher_filters,
    strides: Sequence[int],
    *,
    noise: float = 0.0,
    seed: int = 0,
) -> torch.Tensor:
    r"""Targets of a teacher network, optionally with Gaussian label noise.

    .. math:: y_n = V_\star x_n + \sigma\,\varepsilon_n,\qquad
              \varepsilon_n \sim \mathcal N(0, I).

    Examples
    --------
    >>> import torch
    >>> y = teacher_targets(torch.ones(2, 9), [torch.ones(3), torch.ones(2)], (2, 1))
    >>> y.tolist()
    [[6.0, 6.0, 6.0], [6.0, 6.0, 6.0]]
    """
    noise = check_positive_float("noise", noise, allow_zero=True)
    y = network_forward(
        [as_double_tensor("teacher_filters[i]", w) for w in teacher_filters], strides, x
    )
    if noise > 0:
        gen = make_generator(seed)
        y = y + noise * torch.randn(y.shape, generator=gen, dtype=torch.float64)
    return y
