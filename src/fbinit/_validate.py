"""Validation helpers shared by every entry point (raise, never assert, never fix)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch

from fbinit.errors import ParameterError

__all__ = [
    "check_int",
    "check_positive_float",
    "check_probability",
    "check_choice",
    "check_bool",
    "check_finite",
    "as_double_tensor",
    "as_signal",
]


def check_int(name: str, value: Any, *, minimum: int | None = 1) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the rule."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r} must be an integer")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ParameterError(f"{name}={value} must be an integer >= {minimum}")
    return value


def check_positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0), or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and ok):
        rule = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"{name}={value} must be a finite number {rule}")
    return value


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in the open interval (0, 1), or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number")
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ParameterError(f"{name}={value} must be in the open interval (0, 1)")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise listing them."""
    if value not in choices:
        raise ParameterError(f"{name}={value!r} must be one of {', '.join(map(repr, choices))}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool if it is one (numpy bools included), or raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} must be a bool (True or False)")
    return bool(value)


def check_finite(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Raise if ``tensor`` holds NaN or Inf (a cheap sum first; the full check only if needed)."""
    if (
        tensor.numel()
        and not bool(torch.isfinite(tensor.sum()))
        and not bool(torch.isfinite(tensor).all())
    ):
        raise ParameterError(f"{name} must hold only finite values (found NaN or Inf)")
    return tensor


def as_double_tensor(name: str, value: Any, *, keep_grad: bool = False) -> torch.Tensor:
    """Convert an array-like to a float64 (or complex128) torch tensor, checking finiteness.

    Tensors stay on their device. With ``keep_grad`` a tensor that requires grad stays in
    the autograd graph (the conversion to float64 is differentiable); otherwise it is
    detached.
    """
    if isinstance(value, torch.Tensor):
        tensor = value if keep_grad else value.detach()
        if tensor.device.type == "meta":
            raise ParameterError(
                f"{name}.device=meta must be a device that holds values (cpu, cuda, ...): "
                "a meta tensor has a shape but no numbers to analyse"
            )
    elif isinstance(value, (np.ndarray, list, tuple, numbers.Number)):
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"{name} must hold real or complex numbers, got dtype {array.dtype}")
        tensor = torch.as_tensor(array)
    else:
        raise TypeError(
            f"{name} must be a numpy array or a torch tensor, got {type(value).__name__}"
        )
    if tensor.is_complex():
        tensor = tensor.to(torch.complex128)
    elif tensor.dtype.is_floating_point or tensor.dtype in (
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.uint8,
    ):
        tensor = tensor.to(torch.float64)
    else:
        raise TypeError(f"{name} must hold real or complex numbers, got dtype {tensor.dtype}")
    return check_finite(name, tensor)


def as_signal(x: Any, name: str = "x") -> torch.Tensor:
    """Coerce signals of shape (..., n_samples) to a float64/complex128 tensor, validated."""
    x = as_double_tensor(name, x)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ParameterError(f"{name}.shape={tuple(x.shape)} must have n_samples >= 1")
    return x
