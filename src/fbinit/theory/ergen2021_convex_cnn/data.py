r"""Small regression and classification sets for the two-layer CNN and its convex program.

A data set is ``x`` of shape (n, d) (n one-dimensional signals of length d) and ``y`` of
shape (n,). The network sees the patches :math:`X_k \in \mathbb R^{n\times h}`,
:math:`X_k[i] = x_i[ks : ks + h]`, :math:`k = 0, \dots, K-1`,
:math:`K = \lfloor (d - h)/s \rfloor + 1`.

Generators: :func:`teacher_data` (targets of a random two-layer teacher CNN, or their
signs for classification) and :func:`audio_prediction_data` (frames of the bundled
recording, target the next sample: one-step prediction).

References
----------
T. Ergen, M. Pilanci, "Implicit Convex Regularizers of CNN Architectures: Convex
Optimization of Two- and Three-Layer Networks in Polynomial Time", ICLR 2021.
"""

from __future__ import annotations

import numpy as np
import torch

from fbinit._validate import as_double_tensor, check_choice, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError

__all__ = ["audio_prediction_data", "patches", "teacher_data"]


def patches(x, kernel_size: int, *, stride: int = 1) -> np.ndarray:
    r"""Patch matrices of a batch of signals.

    Parameters
    ----------
    x : array-like, shape (n, d)
        Signals, one per row.
    kernel_size : int >= 1
        Patch width :math:`h` (the filter length of the first layer).
    stride : int >= 1
        Patch stride :math:`s`.

    Returns
    -------
    numpy.ndarray, shape (K, n, h), float64
        .. math:: X_k[i, :] = x_i[ks : ks + h],\qquad K = \lfloor (d-h)/s \rfloor + 1 .

    Examples
    --------
    >>> patches([[0.0, 1.0, 2.0, 3.0]], 2).tolist()
    [[[0.0, 1.0]], [[1.0, 2.0]], [[2.0, 3.0]]]
    """
    x = as_double_tensor("x", x)
    if x.ndim != 2:
        raise ParameterError(f"x.ndim={x.ndim} must be 2 (shape (n_samples, d))")
    kernel_size = check_int("kernel_size", kernel_size)
    stride = check_int("stride", stride)
    if kernel_size > x.shape[1]:
        raise ParameterError(f"kernel_size={kernel_size} must be <= d={x.shape[1]}")
    return x.unfold(1, kernel_size, stride).permute(1, 0, 2).contiguous().numpy()


def teacher_data(
    n_samples: int,
    d: int,
    kernel_size: int,
    *,
    n_teacher: int = 2,
    noise: float = 0.1,
    task: str = "regression",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gaussian signals with targets of a random two-layer teacher CNN (stride 1).

    .. math:: y_i = \sum_{j=1}^{m_\star}\sum_k (X_k u_j^\star)_{i,+}\, w_j^\star
              + \sigma\varepsilon_i\quad\text{(regression)},\qquad
              y_i = \operatorname{sign}(\cdot)\quad\text{(classification)},

    :math:`x_i \sim \mathcal N(0, I_d)`, :math:`u_j^\star \sim \mathcal N(0, I_h/h)`,
    :math:`w_j^\star = \pm 1` alternating. Regression targets are scaled to unit RMS
    before the noise is added.

    Parameters
    ----------
    n_samples, d, kernel_size : int >= 1
        :math:`n`, signal length :math:`d`, teacher filter length :math:`h`.
    n_teacher : int >= 1
        Number of teacher filters :math:`m_\star`.
    noise : float >= 0
        Label noise :math:`\sigma` (regression only).
    task : {'regression', 'classification'}
    seed : int >= 0

    Returns
    -------
    x : numpy.ndarray, shape (n_samples, d)
    y : numpy.ndarray, shape (n_samples,)

    Examples
    --------
    >>> x, y = teacher_data(6, 6, 3, task="classification")
    >>> x.shape, sorted(set(y.tolist())) == [-1.0, 1.0]
    ((6, 6), True)
    """
    n_samples = check_int("n_samples", n_samples)
    d = check_int("d", d)
    kernel_size = check_int("kernel_size", kernel_size)
    if kernel_size > d:
        raise ParameterError(f"kernel_size={kernel_size} must be <= d={d}")
    n_teacher = check_int("n_teacher", n_teacher)
    noise = check_positive_float("noise", noise, allow_zero=True)
    check_choice("task", task, ("regression", "classification"))
    gen = make_generator(seed)
    x = torch.randn(n_samples, d, generator=gen, dtype=torch.float64)
    u = torch.randn(n_teacher, kernel_size, generator=gen, dtype=torch.float64)
    u = u / np.sqrt(kernel_size)
    w = torch.tensor([(-1.0) ** j for j in range(n_teacher)], dtype=torch.float64)
    X = torch.from_numpy(patches(x, kernel_size))
    clean = (torch.relu(torch.einsum("kih,jh->kij", X, u)).sum(0) * w).sum(-1)
    eps = torch.randn(n_samples, generator=gen, dtype=torch.float64)
    if task == "classification":
        y = torch.where(clean >= clean.median(), 1.0, -1.0).to(torch.float64)
    else:
        rms = clean.pow(2).mean().sqrt()
        y = clean / rms if rms > 0 else clean
        y = y + noise * eps
    return x.numpy(), y.numpy()


def audio_prediction_data(
    n_samples: int,
    d: int,
    *,
    signal=None,
    decimation: int = 2,
    min_rms_ratio: float = 0.1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""One-step prediction from frames of a recording.

    The signal is decimated by ``decimation`` (every other sample by default: 8 kHz for
    the bundled 16 kHz speech), cut into non-overlapping frames of :math:`d + 1` samples,
    silent frames (RMS below ``min_rms_ratio`` times the loudest) are dropped, and
    ``n_samples`` frames are drawn. Each frame is scaled to unit RMS.

    .. math:: x_i = (s_i[0], \dots, s_i[d-1]),\qquad y_i = s_i[d].

    Parameters
    ----------
    n_samples, d : int >= 1
    signal : array-like, shape (n,), optional
        Mono recording (default ``fbinit.signals.example()``).
    decimation : int >= 1
    min_rms_ratio : float >= 0
    seed : int >= 0

    Returns
    -------
    x : numpy.ndarray, shape (n_samples, d)
    y : numpy.ndarray, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> sig = np.sin(0.3 * np.arange(2000.0))
    >>> x, y = audio_prediction_data(4, 6, signal=sig)
    >>> x.shape, y.shape
    ((4, 6), (4,))
    """
    n_samples = check_int("n_samples", n_samples)
    d = check_int("d", d)
    decimation = check_int("decimation", decimation)
    min_rms_ratio = check_positive_float("min_rms_ratio", min_rms_ratio, allow_zero=True)
    if signal is None:
        from fbinit.signals import example

        signal, _ = example()
    signal = as_double_tensor("signal", signal)
    if signal.ndim != 1:
        raise ParameterError(f"signal.ndim={signal.ndim} must be 1 (a mono signal)")
    signal = signal[::decimation]
    n_frames = signal.numel() // (d + 1)
    frames = signal[: n_frames * (d + 1)].reshape(n_frames, d + 1)
    rms = frames.pow(2).mean(1).sqrt()
    loud = torch.nonzero((rms > 0) & (rms >= min_rms_ratio * rms.max())).flatten()
    if loud.numel() < n_samples:
        raise ParameterError(
            f"n_samples={n_samples} must be <= {loud.numel()} (the number of non-silent "
            f"frames of length d+1={d + 1} in the decimated signal)"
        )
    pick = torch.randperm(loud.numel(), generator=make_generator(seed))[:n_samples]
    frames = frames[loud[pick.sort().values]]
    frames = frames / frames.pow(2).mean(1, keepdim=True).sqrt()
    return frames[:, :d].numpy().copy(), frames[:, d].numpy().copy()
