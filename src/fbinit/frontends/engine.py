r"""The one convolution engine of the frontends.

Every frontend's analysis stage is :func:`analysis_conv`: the cross-correlation of a batch
of real signals with a bank of real or complex kernels (as ``torch.nn.functional.conv1d``
computes it), at a stride, with one of three paddings:

.. math:: y[b, j, m] = \sum_{t=0}^{K-1} w_j[t]\, \tilde x_b[m d + t - c]

where :math:`\tilde x` is the signal extended by zeros (``"same"``) or periodically
(``"circular"``), and the offset is :math:`c = \lfloor K/2 \rfloor` for these two (frame m
is centred on sample :math:`m d`) and :math:`c = 0` for ``"valid"``.

- ``"same"``: zeros, K//2 on each side (``torch.stft(center=True)``);
  :math:`\lfloor (N + 2\lfloor K/2\rfloor - K)/d \rfloor + 1` frames.
- ``"valid"``: no extension, frame m starts at sample m d (no centring);
  :math:`\lfloor (N - K)/d \rfloor + 1` frames.
- ``"circular"``: periodic extension with period N; :math:`\lceil N/d \rceil` frames.

For odd K and d = 1, ``"same"`` keeps N frames (PyTorch's ``padding="same"``); for even K
it gives one more, like a centred STFT.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fbinit._validate import check_choice, check_int
from fbinit.errors import ParameterError

__all__ = ["PADDINGS", "analysis_conv", "as_batch", "n_frames"]

#: padding modes of :func:`analysis_conv`
PADDINGS = ("same", "valid", "circular")


def as_batch(x: torch.Tensor) -> torch.Tensor:
    """Return a real signal batch of shape (batch, time) from (batch, time) or (batch, 1, time)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim == 3:
        if x.shape[1] != 1:
            raise ParameterError(
                f"x.shape={tuple(x.shape)} must be (batch, time) or (batch, 1, time)"
            )
        x = x[:, 0]
    if x.ndim != 2:
        raise ParameterError(f"x.shape={tuple(x.shape)} must be (batch, time) or (batch, 1, time)")
    if not x.dtype.is_floating_point:
        raise TypeError(f"x must hold real floating-point samples, got dtype {x.dtype}")
    return x


def n_frames(n_samples: int, kernel_size: int, stride: int, padding: str) -> int:
    """Number of output frames of :func:`analysis_conv` (see the module table)."""
    if padding == "same":
        return (n_samples + 2 * (kernel_size // 2) - kernel_size) // stride + 1
    if padding == "valid":
        return (n_samples - kernel_size) // stride + 1
    return -(-n_samples // stride)


def _extend(x: torch.Tensor, kernel_size: int, stride: int, padding: str) -> torch.Tensor:
    """The extended signal whose plain ('valid') correlation is the requested output."""
    n = x.shape[-1]
    if padding == "valid":
        if n < kernel_size:
            raise ParameterError(
                f"n_samples={n} must be >= kernel_size={kernel_size} with padding='valid'"
            )
        return x
    half = kernel_size // 2
    if padding == "same":
        return F.pad(x, (half, half))
    # circular: x~[i] = x[i mod N] for i = -half .. (frames - 1) d + K - 1 - half
    frames = n_frames(n, kernel_size, stride, padding)
    index = torch.arange(-half, (frames - 1) * stride + kernel_size - half, device=x.device) % n
    return x[..., index]


def analysis_conv(
    x: torch.Tensor, kernels: torch.Tensor, *, stride: int = 1, padding: str = "same"
) -> torch.Tensor:
    r"""Correlate real signals with real or complex kernels (see the module docstring).

    Parameters
    ----------
    x : torch.Tensor, shape (batch, time) or (batch, 1, time)
        Real signals.
    kernels : torch.Tensor, shape (n_filters, kernel_size)
        Impulse responses, real or complex, in ``conv1d``'s (correlation) orientation.
    stride : int >= 1
    padding : {"same", "valid", "circular"}

    Returns
    -------
    torch.Tensor, shape (batch, n_filters, frames)
        Complex when the kernels are complex; differentiable in ``x`` and ``kernels``.

    Examples
    --------
    >>> x = torch.arange(5.0)[None]
    >>> analysis_conv(x, torch.tensor([[0.0, 1.0, 0.0]]))
    tensor([[[0., 1., 2., 3., 4.]]])
    """
    x = as_batch(x)
    stride = check_int("stride", stride)
    padding = check_choice("padding", padding, PADDINGS)
    if kernels.ndim != 2:
        raise ParameterError(
            f"kernels.shape={tuple(kernels.shape)} must be (n_filters, kernel_size)"
        )
    n_filters, kernel_size = kernels.shape
    xe = _extend(x, kernel_size, stride, padding)[:, None, :]
    if kernels.is_complex():
        both = torch.cat([kernels.real, kernels.imag]).to(x.dtype)
        y = F.conv1d(xe, both[:, None, :], stride=stride)
        return torch.complex(y[:, :n_filters], y[:, n_filters:])
    return F.conv1d(xe, kernels.to(x.dtype)[:, None, :], stride=stride)
