r"""Shared helpers of the fixed-bank constructors: validation, centring, truncation warnings.

Conventions shared by every constructor of :mod:`fbinit.banks`:

- **Centring.** A zero-phase (or symmetric) response is placed with its time origin
  :math:`t = 0` at tap ``kernel_size // 2``, so tap ``n`` holds time
  :math:`t = n - \lfloor T/2 \rfloor`. For odd ``kernel_size`` this is the middle tap; for
  even ``kernel_size`` it is the tap right of the middle, as in ``numpy.fft.fftshift`` and
  ``librosa.util.pad_center``. Causal responses (gammatone) start at tap 0 instead.
- **Truncation.** A response longer than the kernel is cropped, never renormalised, and a
  UserWarning names the filters concerned when the energy fraction outside the kernel
  exceeds a tolerance: :data:`TRUNCATION_TOLERANCE` (1%) of the ideal response for
  gammatone and mel (n_fft > kernel_size), erfc(3) (an envelope cut within 3 sigma) for
  Gabor, and zero (any nonzero tap) for librosa's finite wavelets.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
import torch

from fbinit._memory import check_memory
from fbinit._validate import check_int, check_positive_float
from fbinit.errors import ParameterError

__all__ = [
    "BUILD_BYTES",
    "TRUNCATION_TOLERANCE",
    "check_bank_args",
    "check_bank_memory",
    "check_band",
    "check_real",
    "real_tensor",
    "centered_time",
    "place_centered",
    "zero_phase_hann",
    "warn_truncated",
]

#: Fraction of a filter's energy that may lie outside the kernel before a warning is issued.
TRUNCATION_TOLERANCE = 0.01

#: Peak bytes per filter and per tap (or DFT bin, or wavelet sample, whichever is more) that
#: building each family takes, measured with ru_maxrss on 40 filters of 1e5 taps (mel 69,
#: gabor 97, wavelet 79, sinc 42, gammatone 17) and rounded up.
BUILD_BYTES = {"mel": 80, "gabor": 112, "wavelet": 96, "sinc": 56, "gammatone": 32}


def check_bank_args(
    n_filters: Any, kernel_size: Any, sample_rate: Any, stride: Any
) -> tuple[int, int, float, int]:
    """Validate the arguments every fixed bank takes."""
    return (
        check_int("n_filters", n_filters),
        check_int("kernel_size", kernel_size),
        check_positive_float("sample_rate", sample_rate),
        check_int("stride", stride),
    )


def check_bank_memory(family: str, rows: int, width: int, /, **arguments: Any) -> None:
    """Refuse, before building it, a bank whose construction would exceed the memory limit.

    The estimate is ``BUILD_BYTES[family] * rows * width``, with ``rows`` the number of
    filters and ``width`` the longest of the kernel, the DFT size and the raw responses;
    ``arguments`` are named in the message (see :func:`fbinit._memory.check_memory`).
    """
    shown = ", ".join(f"{k}={v}" for k, v in arguments.items())
    check_memory(shown, float(BUILD_BYTES[family]) * rows * width, f"the {family} bank")


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{name}={value} must be finite")
    return value


def real_tensor(name: str, value: Any) -> torch.Tensor:
    """``value`` as a real floating tensor (autograd kept), finite, or raise naming ``name``.

    Tensors keep their dtype and device (integers become float64); arrays and sequences are
    converted. Complex, text or object values and meta tensors (which hold no numbers)
    raise TypeError.
    """
    if isinstance(value, torch.Tensor):
        if value.device.type == "meta":
            raise TypeError(f"{name} must hold numbers (a meta tensor holds none)")
        tensor = value
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
        tensor = torch.as_tensor(array)
    if not tensor.dtype.is_floating_point:
        if tensor.is_complex():
            raise TypeError(f"{name} must be real, got dtype {tensor.dtype}")
        tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor.detach()).all()):
        raise ParameterError(f"{name} must hold only finite values (found NaN or Inf)")
    return tensor


def check_band(fmin: Any, fmax: Any, sample_rate: float) -> tuple[float, float]:
    """Validate ``0 <= fmin < fmax <= sample_rate / 2``; ``fmax=None`` means Nyquist."""
    nyquist = sample_rate / 2
    fmin = check_real("fmin", fmin)
    fmax = nyquist if fmax is None else check_real("fmax", fmax)
    if fmin < 0:
        raise ParameterError(f"fmin={fmin} must be >= 0")
    if fmax > nyquist:
        raise ParameterError(f"fmax={fmax} must be <= sample_rate / 2 = {nyquist}")
    if not fmin < fmax:
        raise ParameterError(f"fmin={fmin} must be < fmax={fmax}")
    return fmin, fmax


def centered_time(
    kernel_size: int, *, dtype: torch.dtype = torch.float64, device: Any = None
) -> torch.Tensor:
    r"""Time of each tap, :math:`t_n = n - \lfloor T/2 \rfloor`, n = 0..T-1."""
    return torch.arange(kernel_size, dtype=dtype, device=device) - (kernel_size // 2)


def place_centered(
    rows: np.ndarray, center: int | np.ndarray, kernel_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Move responses whose origin is at column ``center`` to column ``kernel_size // 2``.

    Parameters
    ----------
    rows : numpy.ndarray, shape (n_filters, length)
    center : int or numpy.ndarray of int, shape (n_filters,)
        Column of each row holding t = 0.
    kernel_size : int

    Returns
    -------
    kernel : numpy.ndarray, shape (n_filters, kernel_size)
        Cropped or zero-padded responses.
    lost : numpy.ndarray, shape (n_filters,)
        Fraction of each row's energy that fell outside the kernel (0 for zero rows).
    """
    n_rows, length = rows.shape
    first = np.broadcast_to(np.asarray(center), (n_rows,))[:, None] - kernel_size // 2
    source = first + np.arange(kernel_size)  # column of rows feeding each kernel tap
    inside = (source >= 0) & (source < length)
    kernel = np.where(inside, np.take_along_axis(rows, np.clip(source, 0, length - 1), 1), 0)
    energy = np.abs(rows) ** 2
    column = np.arange(length)
    outside = (column < first) | (column >= first + kernel_size)
    total = energy.sum(axis=-1)
    dropped = np.where(outside, energy, 0).sum(axis=-1)
    lost = np.divide(dropped, total, out=np.zeros_like(total), where=total > 0)
    return kernel.astype(rows.dtype, copy=False), lost


def zero_phase_hann(length: int) -> np.ndarray:
    r"""Hann window centred on tap ``length // 2``.

    .. math:: w[t] = \tfrac12 + \tfrac12 \cos\frac{2\pi t}{L}, \quad
              t = -\lfloor L/2 \rfloor, \dots, L - 1 - \lfloor L/2 \rfloor.

    Circularly, multiplying by :math:`w` convolves the length-L DFT with the three taps
    (1/4, 1/2, 1/4). For even L the unpaired first tap is zeroed, so the window is
    symmetric about its centre for every L.
    """
    t = np.arange(length) - length // 2
    return 0.5 + 0.5 * np.cos(2 * np.pi * t / length)


def warn_truncated(
    family: str,
    lost: np.ndarray,
    frequencies: np.ndarray,
    kernel_size: int,
    *,
    tolerance: float = TRUNCATION_TOLERANCE,
    stacklevel: int = 3,
) -> None:
    """Warn when the fraction ``lost`` of some filters' energy exceeds ``tolerance``.

    ``stacklevel=3`` points at the caller of the public constructor that calls this helper.
    """
    bad = np.flatnonzero(lost > tolerance)
    if bad.size == 0:
        return
    shown = ", ".join(f"{frequencies[i]:.4g}" for i in bad[:5])
    more = ", ..." if bad.size > 5 else ""
    warnings.warn(
        f"{family}: {bad.size} of {lost.size} filters do not fit kernel_size={kernel_size} "
        f"(centre frequencies {shown}{more} Hz); up to {100 * lost[bad].max():.3g}% of a "
        "filter's energy lies outside the kernel and is cropped. Increase kernel_size or "
        "raise fmin.",
        UserWarning,
        stacklevel=stacklevel,
    )
