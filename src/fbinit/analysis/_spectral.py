r"""The one spectral kernel: Littlewood-Paley sums and the blocks of the frame operator.

Everything that needs the spectrum of a filterbank's frame operator goes through this
module: the analysis (:mod:`fbinit.analysis.frames`, :mod:`fbinit.analysis.response`, the
energy response) and the penalties and tight frames of :mod:`fbinit.tight`. The kernels are
plain torch operations: they run on the device of their input and keep autograd when the
weights require grad.

Banks are processed a few at a time so that each chunk's working set (spectrum, frame
blocks and their eigen-decompositions) stays near ``CHUNK_BYTES``: memory is bounded
whatever the batch size, and the working set stays in cache (measured on 1000 banks of
40 x 1024 taps this is as fast as one bare batched rfft of all of them,
benchmarks/bench_frame_bounds.py).

Frame operator of a multirate bank
----------------------------------
Filter j keeps every :math:`d_j`-th output. With :math:`P = \operatorname{lcm}(d_j)`
dividing N, the DFT block-diagonalises :math:`S = \Phi^H\Phi` into N/P blocks of size
P x P: with :math:`f_a = k + aN/P`,

.. math:: M(k)_{a,b} = \sum_j \frac{1}{d_j}\,[\,a \equiv b \bmod P/d_j\,]\,
          \hat w_j(f_a)\,\overline{\hat w_j(f_b)}, \qquad k = 0..N/P-1,

since filter j couples frequencies N/d_j apart. For one stride d this is the usual d x d
block, and for d = 1 the 1 x 1 block is the Littlewood-Paley sum. For real filters
:math:`M(N/P - k)` is the conjugate of :math:`M(k)` with its indices reversed, so only
k = 0..N/(2P) is computed and each block counted with its multiplicity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from fbinit._memory import check_memory
from fbinit._validate import check_int
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = [
    "CHUNK_BYTES",
    "check_n_fft",
    "check_strides",
    "frame_blocks",
    "frame_eigenvalues",
    "hermitian_multiplicity",
    "lp_full",
    "lp_half",
    "map_banks",
    "normalise",
    "polyphase_spectrum",
    "reduce_eigenvalues",
    "weighted_blocks",
]

#: bytes of working set (spectra, blocks, eigen-decompositions) processed at once
CHUNK_BYTES = 4 * 2**20

_COMPLEX_BYTES = 16

#: LP sums whose largest value is at least this are computed without normalisation
_SAFE_LOW = 1e-200


def check_n_fft(bank: Filterbank, n_fft: int) -> int:
    """Validate ``n_fft`` (any integer type) against the bank's kernel size and memory.

    The spectrum of one bank (complex128, held with one temporary) is never split into
    chunks, so an ``n_fft`` whose spectrum exceeds the memory limit is refused up front.
    """
    n_fft = check_int("n_fft", n_fft)
    if n_fft < bank.kernel_size:
        raise ParameterError(
            f"n_fft={n_fft} must be >= kernel_size={bank.kernel_size} "
            "(the filters are zero-padded to n_fft points)"
        )
    check_memory(f"n_fft={n_fft}", 32.0 * bank.n_filters * n_fft, "the spectrum of one bank")
    return n_fft


def check_strides(strides: Sequence[int], n_fft: int) -> int:
    """Return the period lcm(strides), checking that every stride divides ``n_fft``."""
    for j, d in enumerate(strides):
        if n_fft % d:
            name = "stride" if len(set(strides)) == 1 else f"stride[{j}]"
            raise ParameterError(f"{name}={d} must divide n_fft={n_fft}")
    return math.lcm(*strides)


def map_banks(
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, ...]],
    weights: torch.Tensor,
    bytes_per_bank: int,
) -> tuple[torch.Tensor, ...]:
    """Apply ``fn`` to chunks of a batch of banks and concatenate its outputs.

    ``fn`` maps weights (b, n_filters, kernel_size) to tensors of leading dimension b; the
    outputs are reshaped to the batch shape of ``weights``. Chunks hold about CHUNK_BYTES
    of working set (``bytes_per_bank`` each). An empty batch gives empty outputs.
    """
    batch = weights.shape[:-2]
    flat = weights.reshape(-1, *weights.shape[-2:])
    if flat.shape[0] == 0:  # FFT libraries refuse empty batches: shape the outputs on one bank
        outs = tuple(out[:0] for out in fn(flat.new_zeros((1, *flat.shape[1:]))))
    else:
        step = max(1, CHUNK_BYTES // max(1, bytes_per_bank))
        parts = [fn(flat[start : start + step]) for start in range(0, flat.shape[0], step)]
        outs = tuple(torch.cat(chunk) for chunk in zip(*parts, strict=True))
    return tuple(out.reshape((*batch, *out.shape[1:])) for out in outs)


def normalise(weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Divide each bank by its largest tap modulus s (detached); return (weights / s, s).

    Frame bounds are homogeneous of degree 2 (:math:`A(c w) = c^2 A(w)`), so the bounds of
    the normalised bank times :math:`s^2` are the bounds of the bank, and kappa needs no
    rescaling at all: squaring never overflows or underflows. An all-zero bank keeps s = 1.
    """
    scale = weights.detach().abs().amax(dim=(-2, -1))
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return weights / scale[..., None, None], scale


def _abs2(spec: torch.Tensor) -> torch.Tensor:
    """Squared modulus without the square root of ``abs``."""
    return spec.real.square() + spec.imag.square()


def hermitian_multiplicity(n: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """Multiplicity of each bin k = 0..n//2 in the full grid of n (1 at DC and Nyquist, else 2)."""
    c = torch.full((n // 2 + 1,), 2.0, dtype=torch.float64, device=device)
    c[0] = 1.0
    if n % 2 == 0:
        c[-1] = 1.0
    return c


def _lp_chunk(weights: torch.Tensor, n_fft: int, half: bool) -> torch.Tensor:
    spec = torch.fft.rfft(weights, n=n_fft) if half else torch.fft.fft(weights, n=n_fft)
    return _abs2(spec).sum(dim=-2)


def lp_half(weights: torch.Tensor, n_fft: int) -> torch.Tensor:
    r"""Littlewood-Paley sum of real filters on the rfft grid k = 0..n_fft//2.

    .. math:: \mathrm{LP}(k) = \sum_j |\hat w_j(k)|^2
    """
    per_bank = weights.shape[-2] * (n_fft // 2 + 1) * _COMPLEX_BYTES
    return map_banks(lambda w: (_lp_chunk(w, n_fft, True),), weights, per_bank)[0]


def lp_full(weights: torch.Tensor, n_fft: int) -> torch.Tensor:
    """Littlewood-Paley sum of real or complex filters on the full grid k = 0..n_fft-1."""
    per_bank = weights.shape[-2] * n_fft * _COMPLEX_BYTES
    return map_banks(lambda w: (_lp_chunk(w, n_fft, False),), weights, per_bank)[0]


def polyphase_spectrum(weights: torch.Tensor, n_fft: int, period: int) -> torch.Tensor:
    """DFT of each filter arranged as (..., n_filters, P, N/P): entry [a, k] is bin k + a N/P."""
    spec = torch.fft.fft(weights, n=n_fft)
    return spec.reshape(*spec.shape[:-1], period, n_fft // period)


def frame_blocks(poly: torch.Tensor, strides: Sequence[int]) -> torch.Tensor:
    """Blocks M(k) of the frame operator from a polyphase spectrum (see the module notes).

    Parameters
    ----------
    poly : complex tensor, shape (..., n_filters, P, K)
        ``polyphase_spectrum`` output, possibly restricted to some k (K of them).
    strides : sequence of n_filters ints, each dividing P

    Returns
    -------
    torch.Tensor, shape (..., K, P, P), Hermitian
    """
    period = poly.shape[-2]
    groups: dict[int, list[int]] = {}
    for j, d in enumerate(strides):
        groups.setdefault(int(d), []).append(j)
    blocks = None
    for d, rows in sorted(groups.items()):
        sub = poly if len(rows) == len(strides) else poly[..., rows, :, :]
        part = torch.einsum("...jak,...jck->...kac", sub, sub.conj()) / d
        if d != period:  # filter j only couples bins N/d apart: a = b mod P/d
            a = torch.arange(period, device=poly.device)
            part = part * ((a[:, None] - a[None, :]) % (period // d) == 0)
        blocks = part if blocks is None else blocks + part
    return blocks


def weighted_blocks(
    weights: torch.Tensor, strides: Sequence[int], n_fft: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct blocks M(k) of the frame operator and the multiplicity of each.

    Real banks give the blocks k = 0..N/(2P) (block N/P - k mirrors block k), complex
    banks all N/P of them.

    Returns
    -------
    blocks : complex tensor, shape (..., K, P, P)
    mult : float64 tensor, shape (K,), summing to N/P
    """
    period = math.lcm(*strides)
    n_blocks = n_fft // period
    poly = polyphase_spectrum(weights, n_fft, period)
    if weights.is_complex():
        mult = torch.ones(n_blocks, dtype=torch.float64, device=weights.device)
    else:
        poly = poly[..., : n_blocks // 2 + 1]
        mult = hermitian_multiplicity(n_blocks, device=weights.device)
    return frame_blocks(poly, strides), mult


def _eigen_bytes(n_filters: int, n_fft: int, period: int) -> int:
    """Working set per bank of frame_eigenvalues: spectrum, blocks, eigen-decomposition."""
    if period == 1:
        return n_filters * (n_fft // 2 + 1) * _COMPLEX_BYTES
    return (n_filters * n_fft + 3 * n_fft * period) * _COMPLEX_BYTES


def frame_eigenvalues(
    weights: torch.Tensor,
    strides: Sequence[int],
    n_fft: int,
    *,
    bins: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues of the frame operator, each with its multiplicity.

    Parameters
    ----------
    weights : tensor, shape (b, n_filters, kernel_size)
        Real banks use the half grid (each block once, with its multiplicity).
    strides : sequence of n_filters ints whose lcm P divides ``n_fft``
    bins : bool tensor of shape (n_fft,), optional
        Keep only these DFT bins (stride 1 only).

    Returns
    -------
    eig : tensor, float64, shape (b, n_values)
        Eigenvalues of the blocks, round-off below zero clipped to 0.
    mult : tensor, float64, shape (n_values,)
        Multiplicity of each value in the spectrum of S (they sum to N, or to the number
        of bins kept).
    """
    period = math.lcm(*strides)
    real = not weights.is_complex()
    device = weights.device
    if bins is not None:
        lp = _lp_chunk(weights, n_fft, half=False)[..., bins]
        return lp, torch.ones(lp.shape[-1], dtype=torch.float64, device=device)
    if period == 1:
        lp = _lp_chunk(weights, n_fft, half=real)
        mult = hermitian_multiplicity(n_fft, device=device) if real else torch.ones_like(lp[0])
        return lp, mult
    blocks, mult = weighted_blocks(weights, strides, n_fft)
    eig = torch.linalg.eigvalsh(blocks).clamp(min=0.0)
    return eig.flatten(start_dim=-2), mult.repeat_interleave(period)


def reduce_eigenvalues(
    weights: torch.Tensor,
    strides: Sequence[int],
    n_fft: int,
    reduce: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, ...]],
    *,
    bins: torch.Tensor | None = None,
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Reduce the frame operator's eigenvalues of each normalised bank, chunk by chunk.

    ``reduce(eig, mult)`` maps the eigenvalues (b, n_values) of a chunk of banks, each
    divided by its largest tap modulus s (see :func:`normalise`), to tensors of leading
    dimension b. Returns the outputs (batch shape leading) and s (batch shape): the
    eigenvalues of the bank itself are :math:`s^2` times those reduced.
    """
    period = math.lcm(*strides)
    per_bank = _eigen_bytes(weights.shape[-2], n_fft, period)

    def chunk(w: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if period == 1 and bins is None:
            # LP sums: normalise only a chunk whose squares left the safe range (the
            # normalisation would cost almost as much as the FFT)
            eig, mult = frame_eigenvalues(w, strides, n_fft)
            top = eig.amax(dim=-1)
            if bool(torch.isfinite(top).all()) and bool((top >= _SAFE_LOW).all()):
                return (*reduce(eig, mult), torch.ones_like(top))
        normalised, scale = normalise(w)  # per chunk, while the chunk is in cache
        return (*reduce(*frame_eigenvalues(normalised, strides, n_fft, bins=bins)), scale)

    *outs, scale = map_banks(chunk, weights, per_bank)
    return tuple(outs), scale
