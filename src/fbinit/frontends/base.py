r"""The base class of every frontend: one analysis convolution, then optional stages.

A :class:`Frontend` is a ``torch.nn.Module`` whose ``impulse_responses()`` (real or complex,
shape (n_atoms, kernel_size)) are computed from its parameters and buffers. Its forward pass
is

.. math:: x \mapsto C\Big(P\big(M\, |\,\Phi x\,|^{p}\big)\Big),

the analysis convolution :math:`\Phi` of :func:`~fbinit.frontends.engine.analysis_conv` with
exactly those responses, then, each optional, a modulus (``"abs"``: p = 1, ``"power"``:
p = 2), a nonnegative projection matrix M (mel or gammatone weights applied to a power
spectrogram), a pooling module P and a compression module C. Because the responses are the
analysis stage, every analysis function of fbinit and ``fbinit report`` accept a frontend
as it is (:func:`fbinit.as_filterbank` reads ``impulse_responses()``, ``stride``,
``sample_rate`` and ``band``).
"""

from __future__ import annotations

from typing import Any

import torch

from fbinit._validate import check_choice, check_positive_float
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, _check_stride, as_filterbank
from fbinit.frontends.engine import METHODS, PADDINGS, analysis_conv
from fbinit.frontends.stages import MODULI, LogCompression, modulus

__all__ = ["Frontend"]


class Frontend(torch.nn.Module):
    """Base class: subclasses implement :meth:`impulse_responses`.

    Parameters
    ----------
    sample_rate : float > 0
        Sample rate in Hz.
    stride : int >= 1
        Hop of the analysis convolution.
    padding : {"same", "valid", "circular"}
        How the signal is extended (see :mod:`fbinit.frontends.engine`).
    modulus : {"abs", "power"} or None
        Applied to the analysis coefficients (complex ones included); None keeps them.
    projection : torch.Tensor, shape (n_filters, n_atoms), nonnegative, optional
        Matrix applied to the modulus over the atom axis (e.g. mel weights on a power
        spectrogram); needs a modulus. Stored as a buffer.
    pooling : torch.nn.Module or None
        Maps (batch, n_filters, frames) to (batch, n_filters, frames'), e.g. a Gaussian
        low-pass at a stride.
    compression : "log", torch.nn.Module or None
        ``"log"`` is :class:`~fbinit.frontends.stages.LogCompression` with ``log_floor``.
    log_floor : float > 0
        Floor of the ``"log"`` compression.
    band : (fmin, fmax) in Hz, optional
        Band the frontend is designed to cover (for in-band condition numbers).
    method : {"auto", "direct", "fft"}
        Algorithm of the analysis convolution (see :func:`~fbinit.frontends.engine.plan`);
        every choice gives the same output to rounding.
    """

    def __init__(
        self,
        *,
        sample_rate: float,
        stride: int = 1,
        padding: str = "same",
        modulus: str | None = None,
        projection: torch.Tensor | None = None,
        pooling: torch.nn.Module | None = None,
        compression: str | torch.nn.Module | None = None,
        log_floor: float = 1e-6,
        band: tuple[float, float] | None = None,
        method: str = "auto",
    ) -> None:
        super().__init__()
        self.method = check_choice("method", method, METHODS)
        self.sample_rate = check_positive_float("sample_rate", sample_rate)
        self.stride = _check_stride(stride, 1)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.modulus = None if modulus is None else check_choice("modulus", modulus, MODULI)
        if projection is not None:
            if self.modulus is None:
                raise ParameterError("projection needs a modulus ('abs' or 'power'), got None")
            if not isinstance(projection, torch.Tensor):
                raise TypeError(
                    f"projection must be a torch.Tensor, got {type(projection).__name__}"
                )
            if projection.ndim != 2 or bool((projection < 0).any()):
                raise ParameterError(
                    "projection must be a nonnegative matrix of shape (n_filters, n_atoms)"
                )
        self.register_buffer("projection", projection)
        self.pooling = pooling
        if isinstance(compression, str):
            check_choice("compression", compression, ("log",))
            compression = LogCompression(log_floor)
        self.compression = compression
        if band is not None:
            fmin, fmax = (float(f) for f in band)
            if not 0 <= fmin < fmax <= self.sample_rate / 2:
                raise ParameterError(
                    f"band={band} must satisfy 0 <= fmin < fmax <= sample_rate / 2"
                )
            band = (fmin, fmax)
        self.band = band

    def impulse_responses(self) -> torch.Tensor:
        """The analysis stage's impulse responses, shape (n_atoms, kernel_size)."""
        raise NotImplementedError

    @property
    def n_filters(self) -> int:
        """Number of output channels (the projection's rows, else the number of atoms)."""
        if self.projection is not None:
            return int(self.projection.shape[0])
        return int(self.impulse_responses().shape[0])

    @property
    def kernel_size(self) -> int:
        """Number of taps of the analysis stage."""
        return int(self.impulse_responses().shape[-1])

    def filterbank(self) -> Filterbank:
        """The analysis stage as a float64 :class:`~fbinit.Filterbank` (detached)."""
        return as_filterbank(self)

    def analyze(self, x: torch.Tensor) -> torch.Tensor:
        """The analysis coefficients, shape (batch, n_atoms, frames), complex for complex atoms."""
        return analysis_conv(
            x,
            self.impulse_responses(),
            stride=self.stride,
            padding=self.padding,
            method=self.method,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features of shape (batch, n_filters, frames) from (batch, time) or (batch, 1, time)."""
        y = self.analyze(x)
        if self.modulus is not None:
            y = modulus(y, self.modulus)
        if self.projection is not None:
            y = torch.einsum("fk,bkt->bft", self.projection.to(y.dtype), y)
        if self.pooling is not None:
            y = self.pooling(y)
        if self.compression is not None:
            y = self.compression(y)
        return y

    def extra_repr(self) -> str:
        parts: list[Any] = [f"sample_rate={self.sample_rate:g}", f"stride={self.stride}"]
        parts.append(f"padding={self.padding!r}")
        if self.modulus is not None:
            parts.append(f"modulus={self.modulus!r}")
        if self.band is not None:
            parts.append(f"band={self.band}")
        return ", ".join(parts)
