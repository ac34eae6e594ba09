r"""Key-pattern data of Yu, Zhang and Zhu (2019) in 1-D (audio-like) form.

A signal of ``n_patches`` consecutive patches of ``patch_size`` samples carries exactly one
key pattern :math:`p_y` (unit norm), the one of its class :math:`y`, in a random patch
slot :math:`j^*`; every other slot holds, with probability ``distractor_prob``, a
distractor pattern drawn uniformly from a dictionary shared by all classes (so it carries
no information about the label); everything is added to a background of per-sample RMS
``noise``:

.. math:: x[jd : (j+1)d] = \mathbb 1\{j = j^*\}\,p_y
          + \mathbb 1\{j \ne j^*,\ b_j = 1\}\,q_{c_j} + \sigma\,\xi_j,
          \qquad y \sim \mathcal U\{0..K-1\},\ j^* \sim \mathcal U\{0..J-1\}.

The background :math:`\xi` is white Gaussian noise (``background="noise"``), or frames of a
real recording scaled to unit RMS (``background="audio"``; default recording
:func:`fbinit.signals.example`), i.e. the key pattern is planted into speech. Patterns are
aligned to the patch grid (the paper's non-overlapping patch model); a convolution of
kernel size and stride ``patch_size`` sees each patch whole.

Dictionaries: :func:`tone_patterns` (Hann-windowed tones, the audio-like choice) or
:func:`random_patterns` (random unit vectors).

References
----------
B. Yu, J. Zhang, Z. Zhu, "On the Learning Dynamics of Two-layer Nonlinear Convolutional
Neural Networks", arXiv:1905.10157, 2019.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fbinit._validate import as_double_tensor, check_choice, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = ["KeyPatternData", "tone_patterns", "random_patterns", "key_pattern_data"]


def tone_patterns(
    n_patterns: int,
    patch_size: int,
    *,
    sample_rate: float = 16_000.0,
    fmin: float = 500.0,
    fmax: float = 6_000.0,
) -> torch.Tensor:
    r"""Hann-windowed tones at geometrically spaced frequencies, unit norm.

    Parameters
    ----------
    n_patterns : int >= 1
        Number of tones.
    patch_size : int >= 2
        Samples per tone.
    sample_rate : float > 0
        Sample rate in Hz.
    fmin, fmax : float, 0 < fmin <= fmax < sample_rate / 2
        Lowest and highest frequency in Hz.

    Returns
    -------
    torch.Tensor, shape (n_patterns, patch_size), float64
        .. math:: p_j[t] \propto \mathrm{hann}[t]\,\sin(2\pi f_j t / f_s),\quad
                  f_j = f_\min (f_\max / f_\min)^{j/(K-1)}.

    Examples
    --------
    >>> P = tone_patterns(3, 64)
    >>> torch.allclose(P.norm(dim=1), torch.ones(3, dtype=torch.float64))
    True
    """
    n_patterns = check_int("n_patterns", n_patterns)
    patch_size = check_int("patch_size", patch_size, minimum=2)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    fmin = check_positive_float("fmin", fmin)
    fmax = check_positive_float("fmax", fmax)
    if not fmin <= fmax < sample_rate / 2:
        raise ParameterError(f"fmax={fmax} must satisfy fmin <= fmax < sample_rate / 2")
    ratio = torch.arange(n_patterns, dtype=torch.float64) / max(n_patterns - 1, 1)
    freqs = fmin * (fmax / fmin) ** ratio
    t = torch.arange(patch_size, dtype=torch.float64)
    window = torch.hann_window(patch_size, periodic=False, dtype=torch.float64)
    tones = window * torch.sin(2 * math.pi * freqs[:, None] * t / sample_rate)
    return tones / tones.norm(dim=1, keepdim=True)


def random_patterns(
    n_patterns: int, patch_size: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Random unit vectors (uniform on the sphere).

    Parameters
    ----------
    n_patterns : int >= 1
        Number of patterns.
    patch_size : int >= 1
        Samples per pattern.
    generator : torch.Generator, optional
        Source of randomness (default: a generator seeded with 0).

    Returns
    -------
    torch.Tensor, shape (n_patterns, patch_size), float64
        .. math:: p_j = g_j / \|g_j\|,\quad g_j \sim \mathcal N(0, I).

    Examples
    --------
    >>> random_patterns(2, 8, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([2, 8])
    """
    n_patterns = check_int("n_patterns", n_patterns)
    patch_size = check_int("patch_size", patch_size)
    generator = make_generator(None, generator)
    g = torch.randn(n_patterns, patch_size, generator=generator, dtype=torch.float64)
    return g / g.norm(dim=1, keepdim=True)


@dataclass(frozen=True)
class KeyPatternData:
    """A labelled set of key-pattern signals.

    Attributes
    ----------
    x : torch.Tensor, shape (n, n_patches * patch_size), float64
        Signals.
    y : torch.Tensor, shape (n,), int64
        Class = index of the key pattern present.
    position : torch.Tensor, shape (n,), int64
        Patch slot of the key pattern.
    """

    x: torch.Tensor
    y: torch.Tensor
    position: torch.Tensor


def key_pattern_data(
    n: int,
    patterns,
    *,
    n_patches: int = 8,
    noise: float = 0.1,
    distractors=None,
    distractor_prob: float = 0.5,
    background: str = "noise",
    signal=None,
    generator: torch.Generator | None = None,
) -> KeyPatternData:
    r"""Draw ``n`` labelled signals, each with one key pattern at a random patch slot.

    Parameters
    ----------
    n : int >= 1
        Number of signals.
    patterns : array-like, shape (K, patch_size)
        Key patterns, one per class (e.g. :func:`tone_patterns`).
    n_patches : int >= 1
        Patch slots per signal.
    noise : float >= 0
        Per-sample RMS :math:`\sigma` of the background.
    distractors : array-like, shape (M, patch_size), optional
        Distractor dictionary shared by every class (None: no distractors).
    distractor_prob : float in [0, 1]
        Probability that a non-key slot holds a distractor.
    background : {"noise", "audio"}
        White Gaussian noise, or frames of a real recording scaled to unit RMS.
    signal : array-like, optional
        Recording for ``background="audio"`` (default :func:`fbinit.signals.example`).
    generator : torch.Generator, optional
        Source of randomness (default: a generator seeded with 0).

    Returns
    -------
    KeyPatternData
        Signals of length ``n_patches * patch_size``, labels and key positions.

    Examples
    --------
    >>> P = tone_patterns(2, 16)
    >>> data = key_pattern_data(3, P, n_patches=4, noise=0.0,
    ...                         generator=torch.Generator().manual_seed(0))
    >>> tuple(data.x.shape), data.y.tolist()
    ((3, 64), [0, 1, 1])
    """
    n = check_int("n", n)
    n_patches = check_int("n_patches", n_patches)
    generator = make_generator(None, generator)
    noise = check_positive_float("noise", noise, allow_zero=True)
    check_choice("background", background, ("noise", "audio"))
    patterns = as_double_tensor("patterns", patterns)
    if patterns.ndim != 2:
        raise ParameterError(f"patterns.ndim={patterns.ndim} must be 2 (shape (K, patch_size))")
    n_classes, patch_size = patterns.shape
    if isinstance(distractor_prob, bool) or not isinstance(distractor_prob, (int, float)):
        raise TypeError(f"distractor_prob={distractor_prob!r} must be a real number")
    if not 0.0 <= distractor_prob <= 1.0:
        raise ParameterError(f"distractor_prob={distractor_prob} must be in [0, 1]")

    y = torch.randint(n_classes, (n,), generator=generator)
    position = torch.randint(n_patches, (n,), generator=generator)
    slots = torch.zeros(n, n_patches, patch_size, dtype=torch.float64)
    rows = torch.arange(n)
    slots[rows, position] = patterns[y]
    if distractors is not None:
        distractors = as_double_tensor("distractors", distractors)
        if distractors.ndim != 2 or distractors.shape[1] != patch_size:
            raise ParameterError(
                f"distractors.shape={tuple(distractors.shape)} must be (M, {patch_size})"
            )
        present = torch.rand(n, n_patches, generator=generator, dtype=torch.float64)
        present = (present < distractor_prob) & (torch.arange(n_patches) != position[:, None])
        which = torch.randint(distractors.shape[0], (n, n_patches), generator=generator)
        slots = slots + present[..., None] * distractors[which]
    x = slots.reshape(n, n_patches * patch_size)
    if background == "noise":
        xi = torch.randn(x.shape, generator=generator, dtype=torch.float64)
    else:
        from fbinit.theory.du2018_conv_filter.data import audio_frames

        xi = audio_frames(n, x.shape[1], signal=signal, generator=generator)
    return KeyPatternData(x=x + noise * xi, y=y, position=position)
