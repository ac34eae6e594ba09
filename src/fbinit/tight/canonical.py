r"""The canonical tight frame :math:`S^{-1/2}\Phi` of a filterbank, through the frame blocks.

The frame operator S of a bank at stride d is block-diagonal in the DFT basis (see
:mod:`fbinit.analysis._spectral`): functions of S, such as :math:`S^{-1/2}` (canonical
tight frame) or :math:`S^{-1}` (canonical dual), act on each filter's polyphase spectrum
vector :math:`(\hat w_j(k + aN/d))_{a}` as the matrix :math:`M(k)^{p}`. A multirate bank
(filter j at stride :math:`d_j`) is, as a frame, the uniform bank at stride
:math:`P = \operatorname{lcm}(d_j)` of the :math:`P/d_j` copies of each filter delayed by
:math:`r d_j` (its *uniform expansion*); the functions of S are applied to that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from fbinit._validate import check_bool
from fbinit.analysis._spectral import frame_blocks, normalise
from fbinit.analysis.frames import _prepare_bank
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank

__all__ = ["canonical_tight", "uniform_expansion"]


def _expansion_delays(strides: Sequence[int]) -> tuple[list[int], list[int]]:
    """For each row of the uniform expansion: the filter it copies and its delay."""
    period = math.lcm(*strides)
    rows, delays = [], []
    for j, d in enumerate(strides):
        for r in range(period // d):
            rows.append(j)
            delays.append(r * d)
    return rows, delays


def _expand_spectrum(spec: torch.Tensor, strides: Sequence[int]) -> torch.Tensor:
    """Spectra (..., J, N) of a multirate bank -> spectra of its uniform expansion."""
    rows, delays = _expansion_delays(strides)
    if len(rows) == len(strides):  # uniform: nothing to expand
        return spec
    n_fft = spec.shape[-1]
    k = torch.arange(n_fft, device=spec.device, dtype=torch.float64)
    delay = torch.tensor(delays, device=spec.device, dtype=torch.float64)
    phase = torch.polar(torch.ones_like(k), -2 * math.pi * delay[:, None] * k[None, :] / n_fft)
    return spec[..., rows, :] * phase


def uniform_expansion(bank: Any, *, stride: Any = None) -> Filterbank:
    r"""The uniform bank at stride P = lcm(strides) with the same frame as a multirate bank.

    Filter j at stride :math:`d_j` keeps the outputs :math:`m d_j`; splitting m by its
    residue r modulo :math:`P/d_j` gives :math:`P/d_j` filters at stride P, the copies of
    :math:`w_j` delayed by :math:`r d_j` (kernel_size grows by P - 1 at most). The two banks
    have the same frame elements, so the same frame bounds, tight frame and duals.

    Returns
    -------
    Filterbank
        Weights of shape (..., sum_j P / d_j, kernel_size + P - min_j d_j), stride P;
        a uniform bank is returned unchanged.

    Examples
    --------
    >>> import torch
    >>> uniform_expansion(torch.tensor([[1.0], [2.0]]), stride=[1, 2]).weights
    tensor([[1., 0.],
            [0., 1.],
            [2., 0.]], dtype=torch.float64)
    """
    fb = as_filterbank(bank, stride=stride, keep_grad=True)
    if not fb.is_multirate:
        return fb
    rows, delays = _expansion_delays(fb.strides)
    length = fb.kernel_size + max(delays)
    weights = torch.stack(
        [
            torch.nn.functional.pad(fb.weights[..., j, :], (delay, length - fb.kernel_size - delay))
            for j, delay in zip(rows, delays, strict=True)
        ],
        dim=-2,
    )
    return Filterbank(weights, fb.period, fb.sample_rate, fb.band, fb.name)


def _block_power(
    spec: torch.Tensor, stride: int, power: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Apply :math:`M(k)^{p}` to the spectra (..., J, N) of a bank at one stride d.

    Returns the new spectra (..., J, N) and the eigenvalues (..., N/d, d) of the blocks.
    """
    n_filters, n_fft = spec.shape[-2:]
    poly = spec.reshape(*spec.shape[:-1], stride, n_fft // stride)
    eig, vecs = torch.linalg.eigh(frame_blocks(poly, (stride,) * n_filters))
    scaled = vecs * eig.clamp(min=torch.finfo(eig.dtype).tiny).pow(power)[..., None, :]
    matrix = scaled @ vecs.mH
    new = torch.einsum("...kab,...jbk->...jak", matrix, poly)
    return new.reshape(spec.shape), eig


def _check_nonsingular(eig: torch.Tensor, n_fft: int, what: str) -> None:
    """Raise when the frame is singular to working precision (A <= N eps B)."""
    A = eig.amin(dim=(-2, -1))
    B = eig.amax(dim=(-2, -1))
    singular = A <= n_fft * torch.finfo(torch.float64).eps * B
    if bool(singular.any()):
        raise ParameterError(
            f"bank must be a frame (A > 0) to have {what}: {int(singular.sum())} of "
            f"{singular.numel()} bank(s) are singular at n_fft={n_fft} (some signal is mapped "
            "to zero); use more filters, longer filters or a smaller stride"
        )


def _real_frame(
    bank: Any, n_fft: Any, stride: Any, real_input: Any
) -> tuple[Filterbank, int, bool]:
    """The bank as the frame seen by the signals, n_fft, and whether it was split from a
    complex bank (real and imaginary parts as separate real filters)."""
    real_input = check_bool("real_input", real_input)
    fb = as_filterbank(bank, stride=stride, keep_grad=True)
    frame, n_fft = _prepare_bank(fb, n_fft, None, real_input)
    return frame, n_fft, fb.is_complex and real_input


def _from_spectrum(spec: torch.Tensor, like: Filterbank, split: bool) -> torch.Tensor:
    """Impulse responses from spectra: real for real frames, recombined as re + i im when
    the frame was split from a complex bank."""
    weights = torch.fft.ifft(spec)
    if like.is_complex:
        return weights
    weights = weights.real
    if split:
        half = weights.shape[-2] // 2
        weights = torch.complex(weights[..., :half, :], weights[..., half:, :])
    return weights


def canonical_tight(
    bank: Any, *, n_fft: int, stride: Any = None, real_input: bool = True
) -> Filterbank:
    r"""The canonical tight frame :math:`S^{-1/2} w_j` of a bank, with filters of length N.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
    n_fft : int >= kernel_size
        Signal length N: the tight filters are circular, of length N.
    stride : int >= 1 or one int per filter, each dividing n_fft, optional
        Default: the bank's own.
    real_input : bool
        Tight for real signals (a complex bank's real and imaginary parts form the frame;
        the result is complex again) or, with False, for complex signals.

    Returns
    -------
    Filterbank
        Weights of shape (..., n_filters, n_fft) with the bank's stride, sample rate and
        band: A = B = 1 up to round-off. For a multirate bank, the tight frame is not a
        multirate bank any more (S commutes only with shifts by P): the result is then the
        tight version of :func:`uniform_expansion`, at stride P (real filters when
        ``real_input``, a complex bank's real and imaginary parts kept apart).

    Raises
    ------
    ParameterError
        If the bank is a singular frame (A = 0), which has no tight version.

    Notes
    -----
    For d = 1 each filter's spectrum is divided by the square root of the LP sum; for a
    stride d, with the blocks M(k) of :func:`~fbinit.analysis.frames.frame_bounds`,

    .. math:: (\hat w'_j(k + aN/d))_a = M(k)^{-1/2}\,(\hat w_j(k + aN/d))_a,

    so that the new blocks are :math:`M^{-1/2} M M^{-1/2} = I`. The frame is tight under
    both conventions of fbinit (convolution, as in the frame bounds, and the
    correlation of :func:`fbinit.frontends.engine.analysis_conv`): they differ by a time
    reversal and a shift, which are unitary. Differentiable in the weights.

    Examples
    --------
    >>> import torch
    >>> from fbinit import frame_bounds
    >>> tight = canonical_tight(torch.tensor([[1.0, 0.5], [0.0, 1.0]]), n_fft=8)
    >>> A, B = frame_bounds(tight, n_fft=8)
    >>> round(float(A), 12), round(float(B), 12)
    (1.0, 1.0)
    """
    fb, n_fft, split = _real_frame(bank, n_fft, stride, real_input)
    strides = fb.strides
    weights, _ = normalise(fb.weights)
    spec = _expand_spectrum(torch.fft.fft(weights, n=n_fft), strides)
    tight, eig = _block_power(spec, fb.period, -0.5)
    _check_nonsingular(eig, n_fft, "a canonical tight frame")
    if fb.is_multirate:
        split = False  # the expansion's rows are no longer (real, imag) pairs of filters
    out = _from_spectrum(tight, fb, split)
    return Filterbank(
        out,
        stride=fb.period,
        sample_rate=fb.sample_rate,
        band=fb.band,
        name=f"canonical tight {fb.name}".strip(),
    )
