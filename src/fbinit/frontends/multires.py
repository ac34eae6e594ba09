r"""Multiresolution frontend (MuReNN): a fixed dual-tree complex wavelet transform with a
learnable convolution in each octave.

The dual-tree complex wavelet transform (DTCWT) of murenn splits a signal into J octaves.
Octave j (j = 0 the highest) yields complex coefficients at stride :math:`d_j = 2^{j+1}`,
and the transform is shift-invariant at that stride, so each octave is one complex filter
:math:`g_j` applied by strided correlation; the final low-pass pair of trees is one
complex filter :math:`\phi` at stride :math:`2^J` (real part: tree a, imaginary part:
tree b). :func:`dtcwt_kernels` measures these filters by pushing Diracs through murenn's
``DTCWT``. In octave j, :math:`Q_j` learnable real kernels :math:`v_{jq}` of T taps are
correlated with the coefficient sequence (the same kernel on its real and imaginary parts,
as murenn's ``MuReNNDirect``):

.. math:: y_{jq}[m] = \sum_{s=0}^{T-1} v_{jq}[s]\, c_j[m + s - \lfloor T/2 \rfloor],
          \qquad c_j[m] = \sum_k g_j[k]\, \tilde x[m d_j + k - \lfloor K_j/2 \rfloor].

By the noble identity this is one strided correlation of x with the equivalent filter

.. math:: w_{jq}[n] = \sum_{s} v_{jq}[s]\, g_j[n - s\, d_j]
          \quad (\text{origin } \lfloor T/2 \rfloor d_j + \lfloor K_j/2 \rfloor),

which :meth:`MultiresFrontend.impulse_responses` returns, one row per filter, followed by
the low-pass :math:`\phi`, all centred in one odd length K. The bank is multirate: its
``stride`` is the tuple of the :math:`d_j` (one per row). :meth:`MultiresFrontend.analyze`
computes the two-stage form (cheaper: the T-tap kernels run at the octave's rate); it
equals the strided correlation with the impulse responses exactly for ``"circular"``
padding when :math:`2^J` divides the signal length, and for ``"same"`` padding on every
frame at least :math:`\lfloor T/2 \rfloor` frames from the start and
:math:`T - 1 - \lfloor T/2 \rfloor` from the end (at the edges the two-stage form pads the
coefficients with zeros where the one-stage form sees coefficients of the zero-padded
signal).

References
----------
V. Lostanlen, D. Haider, H. Han, M. Lagrange, P. Balazs, M. Ehler, "Fitting
auditory filterbanks with multiresolution neural networks", IEEE WASPAA 2023.
I. W. Selesnick, R. G. Baraniuk, N. G. Kingsbury, "The dual-tree complex wavelet
transform", IEEE Signal Processing Magazine 22(6), 2005.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from fbinit._validate import check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError
from fbinit.frontends.base import Frontend
from fbinit.frontends.engine import analysis_conv, as_batch
from fbinit.frontends.stages import modulus as apply_modulus

__all__ = ["MultiresFrontend", "dtcwt_kernels"]

# Diracs pushed through the DTCWT at once when measuring its filters
_PROBE_CHUNK = 256


def _murenn() -> Any:
    try:
        import murenn
    except ImportError as exc:  # pragma: no cover - murenn is in the peers extra
        raise ImportError(
            "MultiresFrontend needs murenn and dtcwt==0.13.0: pip install 'fbinit[peers]'"
        ) from exc
    return murenn


def dtcwt_kernels(n_octaves: int) -> list[tuple[torch.Tensor, int]]:
    r"""The correlation kernels of murenn's DTCWT, one per octave and one for the low-pass.

    Parameters
    ----------
    n_octaves : int >= 1
        J, the number of octaves (murenn's ``DTCWT(J=n_octaves)``, its default filters
        ``near_sym_a`` and ``qshift_a``, ``normalize=True``).

    Returns
    -------
    list of (kernel, stride)
        J + 1 pairs: octave j (j = 0..J-1) has stride :math:`2^{j+1}`, the low-pass
        stride :math:`2^J`. Each kernel is complex128 of odd length K with its origin at
        K // 2: the DTCWT's coefficient m of that octave, far from the signal's edges, is
        :math:`\sum_k g[k]\, x[m d + k - \lfloor K/2 \rfloor]`, i.e. ``analysis_conv``
        with ``padding="same"`` reproduces murenn's frames one for one.

    Notes
    -----
    Measured, in float64, by pushing :math:`2^J` Diracs (one per phase modulo the largest
    stride) through ``murenn.DTCWT(J, padding_mode="zeros")`` on a signal long enough
    that no response reaches its edges. The low-pass output of murenn interleaves its two
    trees, ``lp[2m]`` (tree a) and ``lp[2m + 1]`` (tree b); the low-pass kernel is
    :math:`\phi = \phi_a + i\,\phi_b`.

    Examples
    --------
    >>> [(tuple(g.shape), d) for g, d in dtcwt_kernels(2)]
    [((9,), 2), ((27,), 4), ((27,), 4)]
    """
    return [
        (kernel.clone(), stride) for kernel, stride in _measure(check_int("n_octaves", n_octaves))
    ]


@functools.lru_cache(maxsize=16)
def _measure(n_octaves: int) -> tuple[tuple[torch.Tensor, int], ...]:
    """The kernels of :func:`dtcwt_kernels`, measured once per process for each J."""
    murenn = _murenn()
    # murenn casts the filters of dtcwt (float64) to the default dtype when it builds the
    # module: build it in float64 so that no tap is rounded to float32
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        transform = murenn.DTCWT(J=n_octaves, padding_mode="zeros")
    finally:
        torch.set_default_dtype(previous)
    period = 2**n_octaves
    length = 12 * period
    centre = length // 2
    strides = [2 ** (j + 1) for j in range(n_octaves)] + [period]
    parts: list[list[torch.Tensor]] = [[] for _ in strides]
    for start in range(0, period, _PROBE_CHUNK):
        phases = torch.arange(start, min(start + _PROBE_CHUNK, period))
        x = torch.zeros(len(phases), 1, length, dtype=torch.float64)
        x[torch.arange(len(phases)), 0, centre + phases] = 1.0
        with torch.no_grad():
            low, bands = transform(x)
        coeffs = [b[:, 0] for b in bands] + [torch.complex(low[:, 0, 0::2], low[:, 0, 1::2])]
        for part, c in zip(parts, coeffs, strict=True):
            part.append(c)
    kernels = []
    for part, stride in zip(parts, strides, strict=True):
        c = torch.cat(part)  # (period, frames): response m to a Dirac at centre + r
        # tap offset e = (centre + r) - m d of the Dirac from frame m's centre m d
        offset = centre + torch.arange(period)[:, None] - stride * torch.arange(c.shape[-1])
        nonzero = c != 0
        half = int(offset[nonzero].abs().max())
        keep = offset.abs() <= half
        kernel = torch.zeros(2 * half + 1, dtype=torch.complex128)
        kernel[offset[keep] + half] = c[keep]
        kernels.append((kernel, stride))
    return tuple(kernels)


def _level_gain(level: int) -> float:
    """Gain undoing the 1/sqrt(2) per level of murenn's ``normalize=True`` (see the class)."""
    return 2.0 ** (level / 2)


def _octave_sizes(filters_per_octave: Any, n_octaves: int) -> tuple[int, ...]:
    if isinstance(filters_per_octave, Sequence) and not isinstance(filters_per_octave, str):
        sizes = tuple(
            check_int(f"filters_per_octave[{j}]", q) for j, q in enumerate(filters_per_octave)
        )
        if len(sizes) != n_octaves:
            raise ParameterError(
                f"len(filters_per_octave)={len(sizes)} must equal n_octaves={n_octaves}"
            )
        return sizes
    return (check_int("filters_per_octave", filters_per_octave),) * n_octaves


class MultiresFrontend(Frontend):
    r"""MuReNN-style multiresolution frontend: fixed DTCWT octaves, a learnable Conv1d in each.

    Parameters
    ----------
    n_octaves : int >= 1
        J, octaves of the DTCWT (the low-pass channel covers what lies below them).
    filters_per_octave : int >= 1 or sequence of J ints
        :math:`Q_j`, learnable filters in octave j (j = 0 is the highest octave).
    octave_kernel_size : int >= 1
        T, taps of each learnable kernel, at the octave's rate (the equivalent impulse
        responses are longer: see :attr:`kernel_size`).
    sample_rate : float > 0
    padding : {"same", "circular"}
        Signal extension of the DTCWT stage and of the octave convolutions (zeros or
        periodic). ``"valid"`` is refused: the octaves would not share a frame grid.
    modulus : {"abs", "power"}
        Applied before the octaves are brought to a common frame rate.
    compression : "log", torch.nn.Module or None
    log_floor : float > 0
    sigma : float > 0, optional
        Standard deviation of the kernels' taps at initialisation; default
        :math:`\sigma_j^2 = 1/(Q_j T)`, for which each octave keeps its energy in
        expectation, so the bank is close to energy preserving (murenn draws N(0, 1)).
    seed : int >= 0, optional
        Seed of the initialisation (default 0 when ``generator`` is not given).
    generator : torch.Generator, optional

    Notes
    -----
    murenn's DTCWT (``normalize=True``) scales each level's low-pass by
    :math:`1/\sqrt2`, so octave j has a gain of about :math:`2^{-j}` in its band. This
    frontend undoes it: the DTCWT kernels of octave j are multiplied by :math:`2^{j/2}`
    and the low-pass by :math:`2^{(J-1)/2}`, which makes the DTCWT stage nearly a
    Parseval frame (the alias-free Littlewood-Paley sum
    :math:`\sum_j |\hat g_j|^2 / d_j` stays within [0.95, 1.05], tested). The learnable
    kernels are otherwise as murenn's (:meth:`from_murenn` converts).

    ``impulse_responses()`` are the equivalent filters (module docstring), complex, shape
    (:math:`\sum_j Q_j + 1`, K), ordered octave by octave from the highest, then the
    low-pass; ``stride`` gives each row's stride. :meth:`analyze` returns the complex
    coefficients of each octave and of the low-pass at their own rates; the forward pass
    takes their modulus, averages octave j over :math:`2^{J-1-j}` consecutive frames
    (``avg_pool1d``, ceil mode) to the common stride :math:`2^J`, keeps the frames common
    to all octaves (all of them, :math:`\lceil N/2^J \rceil`, when K is odd, which it is),
    and stacks them: (batch, n_filters, frames). murenn's ``MuReNNDirect`` instead smooths
    the modulus by iterated DTCWT low-passes and keeps no low-pass channel; the complex
    coefficients before that are the same (tested, with :meth:`from_murenn`). For even T
    murenn's ``padding="same"`` centres the octave kernels one frame later
    (:math:`\lfloor (T-1)/2 \rfloor` instead of :math:`\lfloor T/2 \rfloor`).

    Examples
    --------
    >>> frontend = MultiresFrontend(4, 3, 16, sample_rate=16000.0)
    >>> frontend.n_filters, frontend.stride[::3]
    (13, (2, 4, 8, 16, 16))
    >>> frontend(torch.zeros(2, 4000)).shape
    torch.Size([2, 13, 250])
    """

    def __init__(
        self,
        n_octaves: int = 8,
        filters_per_octave: int | Sequence[int] = 5,
        octave_kernel_size: int = 40,
        *,
        sample_rate: float = 16000.0,
        padding: str = "same",
        modulus: str = "abs",
        compression: str | torch.nn.Module | None = None,
        log_floor: float = 1e-6,
        sigma: float | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        n_octaves = check_int("n_octaves", n_octaves)
        sizes = _octave_sizes(filters_per_octave, n_octaves)
        taps = check_int("octave_kernel_size", octave_kernel_size)
        if padding not in ("same", "circular"):
            raise ParameterError(
                f"padding={padding!r} must be 'same' or 'circular' (with 'valid' the octaves "
                "would not share a frame grid)"
            )
        if modulus not in ("abs", "power"):
            raise ParameterError(
                f"modulus={modulus!r} must be 'abs' or 'power': the octaves are pooled to a "
                "common rate after the modulus (analyze() gives the complex coefficients)"
            )
        if sigma is not None:
            sigma = check_positive_float("sigma", sigma)
        gen = make_generator(seed, generator)
        super().__init__(
            sample_rate=sample_rate,
            padding=padding,
            modulus=modulus,
            compression=compression,
            log_floor=log_floor,
        )
        self.n_octaves = n_octaves
        self.filters_per_octave = sizes
        self.octave_kernel_size = taps
        dtype = torch.get_default_dtype()
        kernels = dtcwt_kernels(n_octaves)
        self._group_strides = tuple(stride for _, stride in kernels)
        for j, (kernel, _) in enumerate(kernels):
            kernel = kernel * _level_gain(min(j, n_octaves - 1))
            self.register_buffer(f"dtcwt_real_{j}", kernel.real.to(dtype))
            self.register_buffer(f"dtcwt_imag_{j}", kernel.imag.to(dtype))
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(
                torch.randn(q, taps, generator=gen, dtype=torch.float64)
                .mul_(math.sqrt(1.0 / (q * taps)) if sigma is None else sigma)
                .to(dtype)
            )
            for q in sizes
        )
        self.stride = tuple(
            stride
            for q, stride in zip((*sizes, 1), self._group_strides, strict=True)
            for _ in range(q)
        )
        halves = [kernel.shape[-1] // 2 for kernel, _ in kernels]
        for j, d in enumerate(self._group_strides[:-1]):
            length = (taps - 1) * d + kernels[j][0].shape[-1]
            origin = (taps // 2) * d + halves[j]
            halves[j] = max(origin, length - 1 - origin)
        self._kernel_size = 2 * max(halves) + 1

    @classmethod
    def from_murenn(
        cls, model: torch.nn.Module, *, sample_rate: float = 16000.0, **kwargs: Any
    ) -> MultiresFrontend:
        """A frontend computing the octave coefficients of a ``murenn.MuReNNDirect``.

        The model's kernels of octave j are copied divided by :math:`2^{j/2}`, the gain of
        this frontend's DTCWT stage (class Notes), so that the complex coefficients of
        :meth:`analyze` equal murenn's ``conv1d[j]`` applied to its DTCWT output (one input
        channel). Other arguments as in the constructor (``padding``, ``modulus``, ...).
        """
        if int(model.in_channels) != 1:
            raise ParameterError(f"in_channels={model.in_channels} must be 1 (one input signal)")
        frontend = cls(model.dtcwt.J, list(model.Q), model.T, sample_rate=sample_rate, **kwargs)
        with torch.no_grad():
            for j, (weight, conv) in enumerate(zip(frontend.weights, model.conv1d, strict=True)):
                weight.copy_(conv.weight[:, 0, :] / _level_gain(j))
        return frontend

    @property
    def n_filters(self) -> int:
        """Number of rows: the octaves' filters and the low-pass."""
        return sum(self.filters_per_octave) + 1

    @property
    def kernel_size(self) -> int:
        """Length K of the equivalent impulse responses."""
        return self._kernel_size

    def _dtcwt(self, j: int) -> torch.Tensor:
        return torch.complex(getattr(self, f"dtcwt_real_{j}"), getattr(self, f"dtcwt_imag_{j}"))

    def impulse_responses(self) -> torch.Tensor:
        """Equivalent single-rate filters, complex, shape (n_filters, kernel_size)."""
        size = self._kernel_size
        taps = self.octave_kernel_size
        low = self._dtcwt(self.n_octaves)
        out = low.new_zeros(self.n_filters, size)
        row = 0
        for j, weight in enumerate(self.weights):
            g = self._dtcwt(j)
            d = self._group_strides[j]
            # w[b d + p] = sum_r v[b - r] g[r d + p]: g cut into R blocks of d taps
            n_blocks = -(-g.shape[-1] // d)
            parts = F.pad(g, (0, n_blocks * d - g.shape[-1])).reshape(n_blocks, d)
            w = sum(
                F.pad(weight, (r, n_blocks - 1 - r))[..., None] * parts[r] for r in range(n_blocks)
            )
            length = (taps - 1) * d + g.shape[-1]
            left = size // 2 - (taps // 2) * d - g.shape[-1] // 2
            out[row : row + len(weight), left : left + length] = w.flatten(-2)[..., :length]
            row += len(weight)
        left = size // 2 - low.shape[-1] // 2
        out[row, left : left + low.shape[-1]] = low
        return out

    def _octave_conv(self, c: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Correlate complex coefficients (batch, 1, frames) with real kernels (Q, T)."""
        batch, frames = c.shape[0], c.shape[-1]
        z = torch.cat([c.real, c.imag])
        left = self.octave_kernel_size // 2
        right = self.octave_kernel_size - 1 - left
        if self.padding == "same":
            z = F.pad(z, (left, right))
        else:
            z = z[..., torch.arange(-left, frames + right, device=z.device) % frames]
        y = F.conv1d(z, weight[:, None, :].to(z.dtype))
        return torch.complex(y[:batch], y[batch:])

    def analyze(self, x: torch.Tensor) -> list[torch.Tensor]:  # type: ignore[override]
        """Complex coefficients per octave and of the low-pass, each at its own rate.

        Returns
        -------
        list of torch.Tensor
            J + 1 tensors: octave j has shape (batch, Q_j, frames_j) at stride
            :math:`2^{j+1}`; the low-pass (batch, 1, frames_J) at stride :math:`2^J`.
            Row by row they are the strided correlations of x with
            ``impulse_responses()`` (see the module docstring for the edges).
        """
        x = as_batch(x)
        out = []
        for j, weight in enumerate(self.weights):
            c = analysis_conv(
                x, self._dtcwt(j)[None], stride=self._group_strides[j], padding=self.padding
            )
            out.append(self._octave_conv(c, weight))
        low = self._dtcwt(self.n_octaves)
        out.append(
            analysis_conv(x, low[None], stride=self._group_strides[-1], padding=self.padding)
        )
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features (batch, n_filters, frames) at stride :math:`2^J` (see the class Notes)."""
        period = self._group_strides[-1]
        feats = []
        for c, d in zip(self.analyze(x), self._group_strides, strict=True):
            u = apply_modulus(c, self.modulus)
            if d < period:
                u = F.avg_pool1d(u, period // d, period // d, ceil_mode=True)
            feats.append(u)
        frames = min(u.shape[-1] for u in feats)
        y = torch.cat([u[..., :frames] for u in feats], dim=1)
        if self.compression is not None:
            y = self.compression(y)
        return y

    def extra_repr(self) -> str:
        return (
            f"n_octaves={self.n_octaves}, filters_per_octave={self.filters_per_octave}, "
            f"octave_kernel_size={self.octave_kernel_size}, sample_rate={self.sample_rate:g}, "
            f"padding={self.padding!r}, modulus={self.modulus!r}"
        )
