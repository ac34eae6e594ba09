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

Two algorithms compute the same output (to rounding), and ``method="auto"`` picks the
cheaper by a cost model (:func:`plan`):

- ``"direct"``: ``conv1d`` at the stride, :math:`K` multiply-adds per output and kernel;
  only the kept outputs are computed.
- ``"fft"``: blocked FFT convolution (overlap-save: each block of F input samples gives
  F - K' + 1 outputs, no overlapping sums to add). A stride d is handled by the polyphase
  identity

  .. math:: y[m] = \sum_{r=0}^{d-1} \sum_{s} w[s d + r]\; \tilde x[(m + s) d + r],

  a stride-1 correlation of d polyphase signals with d polyphase kernels of
  :math:`K' = \lceil K/d \rceil` taps, summed in the Fourier domain: the outputs that a
  stride would throw away are never computed, and the inverse transforms shrink by d.

Complex kernels are correlated as their real and imaginary parts. Both algorithms are
differentiable in ``x`` and ``kernels``: through ``conv1d``'s autograd, or, for the FFT
algorithm, a backward pass written in the Fourier domain (a correlation of the input with
the output's gradient for the kernels, a convolution of that gradient with the kernels
for the input), kernels processed a few at a time so that their spectra stay in cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fbinit._validate import check_choice, check_int
from fbinit.errors import ParameterError

__all__ = ["METHODS", "PADDINGS", "Plan", "analysis_conv", "as_batch", "n_frames", "plan"]

#: padding modes of :func:`analysis_conv`
PADDINGS = ("same", "valid", "circular")
#: algorithms of :func:`analysis_conv`
METHODS = ("auto", "direct", "fft")

# Cost model of forward + backward (kernel gradient), seconds per unit on one thread,
# fitted to CPU times measured with ``bench_frontends.py --calibrate --threads 1``. Only
# the ratio of the direct to the FFT costs matters for the choice.
_DIRECT_MAC = 100e-12  # per multiply-add of the forward conv1d
_FFT_FLOP = 3.2e-10  # per unit of 2.5 N log2 N for a real FFT of size N
_PRODUCT = 1.1e-8  # per complex product in the Fourier domain (and its memory traffic)


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
    if x.shape[-1] < 1:
        raise ParameterError(f"x.shape={tuple(x.shape)} must have time >= 1")
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


@dataclass(frozen=True)
class Plan:
    """The algorithm :func:`analysis_conv` uses for one problem size, and its modelled costs.

    Attributes
    ----------
    method : {"direct", "fft"}
        The cheaper algorithm under the cost model.
    fft_size : int
        Block size F of the FFT algorithm (the cheapest under the model).
    direct_cost, fft_cost : float
        Modelled times in seconds of forward plus backward on one thread of the machine
        the model was fitted on (comparable with each other, not a prediction elsewhere).
    """

    method: str
    fft_size: int
    direct_cost: float
    fft_cost: float


def _fft_cost(batch: int, n_real: int, phases: int, taps: int, outputs: int, size: int) -> float:
    """Modelled cost of the blocked FFT correlation with block size ``size``."""
    per_block = size - taps + 1
    blocks = -(-outputs // per_block)
    unit = 2.5 * size * math.log2(size)
    transforms = (batch * phases * blocks + n_real * phases + batch * n_real * blocks) * unit
    products = batch * n_real * phases * blocks * (size // 2 + 1)
    return _FFT_FLOP * transforms + _PRODUCT * products


def _fft_sizes(taps: int, outputs: int) -> list[int]:
    """Candidate block sizes: powers of two from 2 K' up to one block for all outputs."""
    need = outputs + taps - 1
    size = 1 << max(int(math.ceil(math.log2(max(2 * taps, 16)))), 4)
    sizes = []
    while True:
        sizes.append(size)
        if size >= need:
            break
        size *= 2
    return sizes


def plan(
    batch: int,
    n_kernels: int,
    kernel_size: int,
    n_samples: int,
    *,
    stride: int = 1,
    padding: str = "same",
    complex_kernels: bool = False,
) -> Plan:
    r"""The algorithm and FFT block size :func:`analysis_conv` uses for a problem size.

    Modelled times of forward plus backward (fitted on this package's benchmark) for B
    signals, J kernels (2J real ones when complex), M output frames, stride d and
    :math:`K' = \lceil K/d\rceil` polyphase taps:

    .. math:: C_\text{direct} = c_1\, B J M K, \qquad
              C_\text{fft}(F) = c_2 (n_F B d + J d + n_F B J)\, \tfrac52 F \log_2 F
              + c_3\, n_F B J d\, (F/2 + 1),

    with :math:`n_F = \lceil M / (F - K' + 1)\rceil` blocks; F ranges over powers of two
    from :math:`2K'` to one block holding every output.

    Examples
    --------
    >>> plan(8, 80, 401, 16000).method, plan(8, 80, 401, 16000, stride=160).method
    ('fft', 'direct')
    """
    padding = check_choice("padding", padding, PADDINGS)
    n_real = n_kernels * (2 if complex_kernels else 1)
    outputs = n_frames(n_samples, kernel_size, stride, padding)
    taps = -(-kernel_size // stride)
    direct = _DIRECT_MAC * batch * n_real * max(outputs, 0) * kernel_size
    if outputs <= 0:
        return Plan("direct", 0, direct, math.inf)
    costs = {
        size: _fft_cost(batch, n_real, stride, taps, outputs, size)
        for size in _fft_sizes(taps, outputs)
    }
    size = min(costs, key=costs.__getitem__)
    method = "fft" if costs[size] < direct else "direct"
    return Plan(method, size, direct, costs[size])


#: complex values per chunk of kernels in the FFT algorithm (a few MB: stays in cache)
_CHUNK_VALUES = 1 << 20


class _FFTCorrelation(torch.autograd.Function):
    """Valid correlation of (B, L) with real (J, K) at a stride d, by blocked FFTs.

    Forward: the polyphase signals (B, d, L/d) are cut into overlapping blocks of F
    samples (hop P = F - K' + 1), transformed once; block n of output j is
    irfft(sum_r X_r conj(W_jr))[:P]. Backward, from the gradient's blocks G (zero-padded
    to F): the kernels' gradient is irfft(sum_{b,n} conj(G) X)[:K'] (a correlation of the
    input with the gradient) and the input's is irfft(sum_j G W), overlap-added (a
    convolution). Kernels are processed a few at a time, so that each chunk's spectra stay
    in cache and every output sample is written once.
    """

    @staticmethod
    def forward(ctx, xe: torch.Tensor, kernels: torch.Tensor, stride: int, size: int, pairs: bool):
        batch, length = xe.shape
        n_kernels, kernel_size = kernels.shape
        q = 2 if pairs else 1  # pairs: rows 2j, 2j + 1 are the real, imaginary parts
        d = stride
        outputs = (length - kernel_size) // d + 1
        taps = -(-kernel_size // d)
        per_block = size - taps + 1
        blocks = -(-outputs // per_block)
        need = (blocks * per_block + taps - 1) * d
        # polyphase: x_r[n] = xe[n d + r], w_r[s] = w[s d + r]  (zero padded to whole phases)
        w_poly = F.pad(kernels, (0, taps * d - kernel_size)).reshape(n_kernels, taps, d)
        w_poly = w_poly.transpose(1, 2)  # (J, d, K')
        x = F.pad(xe, (0, need - length)) if need > length else xe[:, :need]
        x_poly = x.reshape(batch, need // d, d).transpose(1, 2)  # (B, d, L')
        spec_x = torch.fft.rfft(x_poly.unfold(-1, size, per_block), n=size)  # (B, d, n, F/2+1)
        spec_w = torch.fft.rfft(w_poly, n=size)  # (J, d, F/2+1)
        chunk = q * max(1, _CHUNK_VALUES // (q * spec_x.numel()))
        # output layout (B, J/q, blocks, P, q): complex pairs end up interleaved
        y = xe.new_empty(batch, n_kernels // q, blocks, per_block, q)
        for j in range(0, n_kernels, chunk):
            conj_w = spec_w[j : j + chunk].conj()
            if d == 1:
                spec_y = spec_x[:, 0, None] * conj_w[None, :, 0, None]
            else:
                spec_y = torch.einsum("brnf,jrf->bjnf", spec_x, conj_w)
            part = torch.fft.irfft(spec_y, n=size)[..., :per_block]
            part = part.unflatten(1, (-1, q)).permute(0, 1, 3, 4, 2)
            y[:, j // q : (j + chunk) // q] = part
        ctx.save_for_backward(spec_x, spec_w)
        ctx.shape = (batch, length, n_kernels, kernel_size, d, outputs, taps, per_block, blocks)
        ctx.size, ctx.chunk, ctx.q = size, chunk, q
        y = y.flatten(2, 3)[:, :, :outputs]
        return y if pairs else y[..., 0]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        spec_x, spec_w = ctx.saved_tensors
        batch, length, n_kernels, kernel_size, d, outputs, taps, per_block, blocks = ctx.shape
        size, chunk, q = ctx.size, ctx.chunk, ctx.q
        want_x, want_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad = grad if q == 2 else grad[..., None]  # (B, J/q, M, q)
        spec_acc = None
        grad_w = grad.new_empty(n_kernels, d, taps) if want_w else None
        for j in range(0, n_kernels, chunk):
            # the chunk's gradient as (B, c, blocks, P), zero past the last output: one copy
            part = grad[:, j // q : (j + chunk) // q].transpose(2, 3)  # (B, c/q, q, M)
            g = grad.new_empty(batch, part.shape[1], q, blocks * per_block)
            g[..., :outputs] = part
            g[..., outputs:] = 0
            spec_g = torch.fft.rfft(g.flatten(1, 2).unflatten(-1, (blocks, per_block)), n=size)
            if want_w:
                spec = torch.einsum("bjnf,brnf->jrf", spec_g.conj(), spec_x)
                grad_w[j : j + chunk] = torch.fft.irfft(spec, n=size)[..., :taps]
            if want_x:
                part = torch.einsum("bjnf,jrf->brnf", spec_g, spec_w[j : j + chunk])
                spec_acc = part if spec_acc is None else spec_acc + part
        grad_x = None
        if want_x:
            segments = torch.fft.irfft(spec_acc, n=size)  # (B, d, n, F)
            poly_length = blocks * per_block + taps - 1
            folded = F.fold(
                segments.reshape(batch * d, blocks, size).transpose(1, 2),
                output_size=(1, poly_length),
                kernel_size=(1, size),
                stride=(1, per_block),
            ).reshape(batch, d, poly_length)
            x = folded.transpose(1, 2).reshape(batch, poly_length * d)
            grad_x = x[:, :length] if x.shape[-1] >= length else F.pad(x, (0, length - x.shape[-1]))
        if want_w:
            grad_w = grad_w.transpose(1, 2).reshape(n_kernels, taps * d)[:, :kernel_size]
        return grad_x, grad_w, None, None, None


def analysis_conv(
    x: torch.Tensor,
    kernels: torch.Tensor,
    *,
    stride: int = 1,
    padding: str = "same",
    method: str = "auto",
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
    method : {"auto", "direct", "fft"}
        ``"auto"`` takes the cheaper under :func:`plan`'s cost model; the two agree to
        rounding (measured: 9e-7 of the output's largest value in float32, 1e-15 in
        float64, for 40 kernels of 401 taps on 16000 samples).

    Returns
    -------
    torch.Tensor, shape (batch, n_filters, frames)
        Complex when the kernels are complex; differentiable in ``x`` and ``kernels``.
        Computed in ``x``'s dtype.

    Examples
    --------
    >>> x = torch.arange(5.0)[None]
    >>> analysis_conv(x, torch.tensor([[0.0, 1.0, 0.0]]))
    tensor([[[0., 1., 2., 3., 4.]]])
    """
    x = as_batch(x)
    stride = check_int("stride", stride)
    padding = check_choice("padding", padding, PADDINGS)
    method = check_choice("method", method, METHODS)
    if not isinstance(kernels, torch.Tensor):
        raise TypeError(f"kernels must be a torch.Tensor, got {type(kernels).__name__}")
    if kernels.ndim != 2 or 0 in kernels.shape:
        raise ParameterError(
            f"kernels.shape={tuple(kernels.shape)} must be (n_filters, kernel_size), both >= 1"
        )
    n_filters, kernel_size = kernels.shape
    xe = _extend(x, kernel_size, stride, padding)
    complex_kernels = kernels.is_complex()
    chosen = plan(
        x.shape[0],
        n_filters,
        kernel_size,
        x.shape[-1],
        stride=stride,
        padding=padding,
        complex_kernels=complex_kernels,
    )
    if method == "auto":
        method = chosen.method
    if method == "fft":
        # complex kernels as interleaved (real, imaginary) rows; the output's last axis
        # holds the pairs, so it is viewed as complex without a copy
        real = torch.view_as_real(kernels).transpose(1, 2) if complex_kernels else kernels
        real = real.reshape(-1, kernel_size).to(x.dtype)
        y = _FFTCorrelation.apply(xe, real, stride, chosen.fft_size, complex_kernels)
        return torch.view_as_complex(y) if complex_kernels else y
    real = torch.cat([kernels.real, kernels.imag]) if complex_kernels else kernels
    y = F.conv1d(xe[:, None, :], real.to(x.dtype)[:, None, :], stride=stride)
    if complex_kernels:
        return torch.complex(y[:, :n_filters], y[:, n_filters:])
    return y
