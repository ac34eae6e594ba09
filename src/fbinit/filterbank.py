"""The canonical filterbank: a tensor of FIR impulse responses with a stride.

Every analysis function of fbinit accepts a :class:`Filterbank`, a bare tensor or array of
shape ``(..., n_filters, kernel_size)``, or any object following :class:`FilterbankLike`
(an ``impulse_responses()`` method, optional ``stride``, ``sample_rate`` and ``band``
attributes), and any ``torch.nn.Module`` that :mod:`fbinit.frontends.adapters` reads
(a one-input-channel ``Conv1d``, the peers' frontends, any linear shift-invariant module).
:func:`as_filterbank` is the one coercion used everywhere; :func:`impulse_responses_of`
is the same reading without the conversion to float64, keeping autograd.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from fbinit._validate import as_double_tensor, check_finite, check_int, check_positive_float
from fbinit.errors import ParameterError

__all__ = ["Filterbank", "FilterbankLike", "as_filterbank", "impulse_responses_of"]


@runtime_checkable
class FilterbankLike(Protocol):
    """Anything that can hand out FIR impulse responses of shape (..., n_filters, kernel_size)."""

    def impulse_responses(self) -> Any: ...


@dataclass(frozen=True)
class Filterbank:
    """A bank of FIR filters, possibly a batch of banks.

    Parameters
    ----------
    weights : torch.Tensor, shape (..., n_filters, kernel_size)
        Impulse responses, one filter per row, real or complex. Leading dimensions index
        independent banks (for example random draws).
    stride : int >= 1, or a sequence of ints >= 1 (one per filter)
        Hop between consecutive outputs of each filter. A sequence gives a multirate bank
        (each filter keeps every ``stride[j]``-th output, as in per-octave downsampling);
        one with all entries equal is stored as that int.
    sample_rate : float > 0 or None
        Sample rate in Hz, needed only for frequencies in Hz.
    band : (float, float) or None
        Frequency band (fmin, fmax) in Hz that the bank is designed to cover, used for
        in-band condition numbers. ``None`` means the full band.
    name : str
        Short description used in reports.

    Examples
    --------
    >>> import torch
    >>> bank = Filterbank(torch.eye(4))
    >>> bank.n_filters, bank.kernel_size, bank.stride
    (4, 4, 1)
    >>> Filterbank(torch.eye(4), stride=[1, 2, 4, 4]).strides
    (1, 2, 4, 4)
    """

    weights: torch.Tensor
    stride: int | tuple[int, ...] = 1
    sample_rate: float | None = None
    band: tuple[float, float] | None = None
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        weights = self.weights
        if not isinstance(weights, torch.Tensor):
            weights = torch.as_tensor(np.asarray(weights))
            object.__setattr__(self, "weights", weights)
        if weights.ndim < 2:
            raise ParameterError(
                f"weights.ndim={weights.ndim} must be >= 2 (shape (..., n_filters, kernel_size))"
            )
        if weights.shape[-1] < 1 or weights.shape[-2] < 1:
            raise ParameterError(
                f"weights.shape={tuple(weights.shape)} must have n_filters >= 1 and "
                "kernel_size >= 1"
            )
        object.__setattr__(self, "stride", _check_stride(self.stride, int(weights.shape[-2])))
        if self.sample_rate is not None:
            object.__setattr__(
                self, "sample_rate", check_positive_float("sample_rate", self.sample_rate)
            )
        if weights.device.type != "meta":
            check_finite("weights", weights.detach())
        if self.band is not None:
            fmin, fmax = _check_band_pair(self.band)
            nyquist = self.sample_rate / 2 if self.sample_rate else float("inf")
            if not 0 <= fmin < fmax <= nyquist:
                raise ParameterError(
                    f"band={self.band} must satisfy 0 <= fmin < fmax <= sample_rate / 2"
                )
            object.__setattr__(self, "band", (fmin, fmax))

    def impulse_responses(self) -> torch.Tensor:
        """Return the impulse responses, shape (..., n_filters, kernel_size)."""
        return self.weights

    @property
    def n_filters(self) -> int:
        """Number of filters in each bank."""
        return int(self.weights.shape[-2])

    @property
    def kernel_size(self) -> int:
        """Number of taps of each filter."""
        return int(self.weights.shape[-1])

    @property
    def strides(self) -> tuple[int, ...]:
        """The stride of each filter (length n_filters)."""
        if isinstance(self.stride, tuple):
            return self.stride
        return (self.stride,) * self.n_filters

    @property
    def is_multirate(self) -> bool:
        """Whether the filters have different strides."""
        return isinstance(self.stride, tuple)

    @property
    def period(self) -> int:
        """Least common multiple of the strides: the shift under which the frame is invariant."""
        return math.lcm(*self.strides)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading dimensions indexing independent banks."""
        return tuple(self.weights.shape[:-2])

    @property
    def is_complex(self) -> bool:
        """Whether the impulse responses are complex (analytic filters)."""
        return bool(self.weights.is_complex())

    def __getitem__(self, index: Any) -> Filterbank:
        """Select banks along the leading (batch) dimensions."""
        if not self.batch_shape:
            raise IndexError("a single filterbank has no batch dimension to index")
        weights = self.weights[index]
        if weights.ndim < 2:
            raise IndexError("indexing must keep the (n_filters, kernel_size) dimensions")
        return Filterbank(weights, self.stride, self.sample_rate, self.band, self.name)

    def with_stride(self, stride: int) -> Filterbank:
        """Return the same filters with another stride."""
        return Filterbank(self.weights, stride, self.sample_rate, self.band, self.name)

    def real_part_bank(self) -> Filterbank:
        """The real bank seen by real signals: real and imaginary parts as separate filters.

        For real input x and complex filters w = u + iv, ``|x * w|^2 = (x * u)^2 + (x * v)^2``,
        so on real signals a complex bank acts like the real bank ``[u; v]`` of 2 n_filters
        filters. Real banks are returned unchanged.
        """
        if not self.is_complex:
            return self
        weights = torch.cat([self.weights.real, self.weights.imag], dim=-2)
        stride = self.strides * 2 if self.is_multirate else self.stride
        return Filterbank(weights, stride, self.sample_rate, self.band, self.name)


def _check_band_pair(band: Any) -> tuple[float, float]:
    """``(fmin, fmax)`` as two floats, or the rule the band breaks."""
    try:
        fmin, fmax = band
        return float(fmin), float(fmax)
    except (TypeError, ValueError):
        raise ParameterError(
            f"band={band!r} must be a pair of numbers (fmin, fmax) in Hz"
        ) from None


def _check_stride(stride: Any, n_filters: int) -> int | tuple[int, ...]:
    """One int for a uniform bank, a tuple of n_filters ints for a multirate one."""
    if isinstance(stride, (torch.Tensor, np.ndarray)):
        stride = stride.tolist()
    if isinstance(stride, numbers.Integral) and not isinstance(stride, bool):
        return check_int("stride", stride)
    if not isinstance(stride, Sequence) or isinstance(stride, str):
        raise TypeError(f"stride={stride!r} must be an integer or a sequence of integers")
    strides = tuple(check_int(f"stride[{j}]", s) for j, s in enumerate(stride))
    if len(strides) == 1:
        return strides[0]
    if len(strides) != n_filters:
        raise ParameterError(
            f"len(stride)={len(strides)} must be 1 or n_filters={n_filters} (one per filter)"
        )
    return strides[0] if len(set(strides)) == 1 else strides


def impulse_responses_of(obj: Any, **options: Any) -> Filterbank:
    """The analysis stage of any filterbank-like object or module, as a :class:`Filterbank`.

    Unlike :func:`as_filterbank`, the weights keep the object's dtype and device and stay
    attached to autograd where the object computes them from parameters (probed responses
    are detached), so a penalty on them trains the module.

    Parameters
    ----------
    obj : Filterbank, FilterbankLike, torch.nn.Module, torch.Tensor or numpy.ndarray
        Arrays and tensors are impulse responses of shape (..., n_filters, kernel_size).
        An object with ``impulse_responses()`` (an fbinit ``Frontend``) gives those, with
        its ``stride``, ``sample_rate`` and ``band``. Any other ``torch.nn.Module`` (a
        ``Conv1d``, an asteroid-filterbanks, nnAudio, murenn, hybra or torchaudio
        frontend, or any linear shift-invariant module) is read by its adapter in
        :mod:`fbinit.frontends.adapters`, or probed with Diracs.
    **options
        Passed to the module's adapter (e.g. ``sample_rate``, ``lowpass`` for MuReNNDirect).

    Returns
    -------
    Filterbank

    Examples
    --------
    >>> conv = torch.nn.Conv1d(1, 8, 32, stride=4)
    >>> bank = impulse_responses_of(conv)
    >>> bank.stride, bank.weights.requires_grad
    (4, True)
    """
    if isinstance(obj, Filterbank):
        return obj
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        return Filterbank(obj)
    if isinstance(obj, FilterbankLike):
        return Filterbank(
            obj.impulse_responses(),
            stride=getattr(obj, "stride", 1),
            sample_rate=getattr(obj, "sample_rate", None),
            band=getattr(obj, "band", None),
            name=type(obj).__name__,
        )
    if isinstance(obj, torch.nn.Module):
        from fbinit.frontends.adapters import adapt  # lazily: adapters build on this module

        return adapt(obj, **options).bank
    raise TypeError(
        "bank must be a Filterbank, a tensor or array of shape (..., n_filters, "
        "kernel_size), a torch.nn.Module, or have an impulse_responses() method; got "
        f"{type(obj).__name__}"
    )


def as_filterbank(
    bank: Any, *, stride: int | Sequence[int] | None = None, keep_grad: bool = False
) -> Filterbank:
    """Coerce a filterbank-like object to a float64/complex128 :class:`Filterbank`.

    Parameters
    ----------
    bank : Filterbank, FilterbankLike, torch.nn.Module, torch.Tensor or numpy.ndarray
        Read by :func:`impulse_responses_of`: arrays and tensors are impulse responses of
        shape (..., n_filters, kernel_size); a module is read by its adapter (a ``Conv1d``
        must have one input channel) or probed.
    stride : int >= 1, sequence of ints (one per filter), or None
        Overrides the object's stride (default: the object's own, or 1). An object's
        ``stride`` attribute may be an int, a 1-tuple (as in ``Conv1d``) or one int per
        filter (a multirate bank).
    keep_grad : bool
        Keep weights that require grad in the autograd graph (the differentiable analysis
        functions and penalties use this); by default they are detached.

    Returns
    -------
    Filterbank
        Weights converted to float64 (complex128 when complex), on their own device,
        detached from autograd unless ``keep_grad``.
    """
    if isinstance(bank, (torch.Tensor, np.ndarray)):  # validated before any conversion
        fb = Filterbank(as_double_tensor("bank", bank, keep_grad=keep_grad))
    else:
        fb = impulse_responses_of(bank)
    weights = as_double_tensor("bank", fb.weights, keep_grad=keep_grad)
    return Filterbank(
        weights,
        stride=fb.stride if stride is None else stride,
        sample_rate=fb.sample_rate,
        band=fb.band,
        name=fb.name,
    )
