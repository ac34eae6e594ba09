r"""Frame bounds and condition numbers of filterbanks, for any stride, multirate included.

Conventions
-----------
The analysis operator of a bank whose filter j has stride :math:`d_j` on signals of
length N (circular) is :math:`(\Phi x)[j, m] = (x \circledast w_j)[m d_j]`. Its frame
bounds are the extreme eigenvalues of the frame operator :math:`S = \Phi^H \Phi`. For
d = 1 they are the extreme values of the Littlewood-Paley sum; otherwise the DFT
block-diagonalises S into N/P blocks of size P x P, with P the lcm of the strides (see
:func:`frame_bounds`). With ``real_input=True`` a complex bank is analysed as the real bank
of its real and imaginary parts, which is what real signals see.

Differentiability
-----------------
:func:`frame_bounds`, :func:`condition_number` and
:func:`~fbinit.analysis.response.littlewood_paley` keep autograd when the weights require
grad (a float32 weight is promoted to float64 and its gradient flows back in float32),
and run on the device of their input. A and B are a minimum and a maximum; where several
bins or blocks tie for it, torch's ``amin``/``amax`` split the gradient evenly between
the tied values it computes (a subgradient: the average of their gradients; for a real
bank these are the bins k = 0..N/2 of the half grid, or the blocks k = 0..N/(2P), each
mirror bin or block being the same value). A repeated
eigenvalue inside one block gets the gradient along the eigenvector the eigensolver
returns (:func:`torch.linalg.eigvalsh`), again one subgradient among many. Gradients are
exact away from ties; see :func:`fbinit.tight.kappa_penalty` for a penalty that is
smooth everywhere.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from fbinit._validate import check_bool
from fbinit.analysis._spectral import check_n_fft, check_strides, reduce_eigenvalues
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank

__all__ = ["frame_bounds", "condition_number", "kappa_from_bounds", "analysis_matrix", "band_bins"]


def _prepare_bank(bank: Any, n_fft: Any, stride: Any, real_input: Any) -> tuple[Filterbank, int]:
    """Coerce and validate the arguments shared by the frame analysis and the penalties.

    Returns the bank (autograd kept, on its own device; the real bank of real and
    imaginary parts when ``real_input`` and the bank is complex) and ``n_fft`` as an int,
    every stride dividing it.
    """
    real_input = check_bool("real_input", real_input)
    fb = as_filterbank(bank, stride=stride, keep_grad=True)
    if real_input:
        fb = fb.real_part_bank()
    n_fft = check_n_fft(fb, n_fft)
    check_strides(fb.strides, n_fft)
    return fb, n_fft


def band_bins(
    n_fft: int, sample_rate: float, band: tuple[float, float], *, device: Any = None
) -> torch.Tensor:
    """Boolean mask of the DFT bins k = 0..n_fft-1 whose |frequency| lies in ``band`` (Hz)."""
    fmin, fmax = (float(f) for f in band)
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ParameterError(f"band={band} must satisfy 0 <= fmin < fmax <= sample_rate / 2")
    freqs = torch.fft.fftfreq(n_fft, d=1.0 / sample_rate, dtype=torch.float64, device=device)
    mask = (freqs.abs() >= fmin) & (freqs.abs() <= fmax)
    if not bool(mask.any()):
        raise ParameterError(f"band={band} must contain at least one DFT bin at n_fft={n_fft}")
    return mask


def _bins_of_band(fb: Filterbank, n_fft: int, band: Any) -> torch.Tensor | None:
    """The DFT bins a ``band`` argument selects (None for the full band), validated."""
    if band is None:
        return None
    if fb.stride != 1:
        raise ParameterError(f"band={band} is only defined for stride=1, got {fb.stride}")
    if fb.sample_rate is None:
        raise ParameterError("band needs the bank's sample_rate (sample_rate=None)")
    return band_bins(n_fft, fb.sample_rate, band, device=fb.weights.device)


def _extremes(eig: torch.Tensor, mult: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return eig.amin(dim=-1), eig.amax(dim=-1)


def _normalised_bounds(
    fb: Filterbank, n_fft: int, band: Any = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frame bounds of each bank divided by its largest tap modulus s, and s.

    The bounds of the bank are :math:`s^2` times these; their ratio is kappa. Computing
    them on the normalised bank keeps every square representable at any scale.
    """
    (A, B), scale = reduce_eigenvalues(
        fb.weights, fb.strides, n_fft, _extremes, bins=_bins_of_band(fb, n_fft, band)
    )
    return A, B, scale


def _rescale(bound: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``bound * scale**2``; returns it and a mask of the values that did not fit float64."""
    value = bound * scale * scale
    tiny = value < torch.finfo(torch.float64).tiny
    lost = (bound > 0) & (tiny | torch.isinf(value))
    return torch.where(tiny, torch.zeros_like(value), value), lost


def frame_bounds(
    bank: Any,
    *,
    n_fft: int,
    stride: int | None = None,
    real_input: bool = True,
    band: tuple[float, float] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Optimal frame bounds (A, B) of a filterbank on signals of length ``n_fft``.

    Parameters
    ----------
    bank : filterbank-like, shape (..., n_filters, kernel_size)
        One bank or a batch of banks (an empty batch gives empty results). Differentiable
        in the weights (see the module notes).
    n_fft : int >= kernel_size
        Signal length N (circular convolution).
    stride : int >= 1, or one int >= 1 per filter, each dividing n_fft, optional
        Overrides the bank's stride d (or strides :math:`d_j` of a multirate bank).
    real_input : bool
        Analyse complex banks on real signals (the real and imaginary parts as separate
        real filters). Without it, complex banks are analysed on complex signals.
    band : (fmin, fmax) in Hz, optional
        Restrict the bounds to the DFT bins in this band (stride 1 only; needs the bank's
        sample_rate). The result then bounds :math:`\|\Phi x\|^2` only for signals whose
        spectrum lies in the band.

    Returns
    -------
    A, B : torch.Tensor, float64, shape (...)
        Lower and upper frame bounds, on the input's device. Never clamped, except that
        eigenvalue round-off below zero is clipped to 0 (a singular frame has A = 0).

    Warns
    -----
    RuntimeWarning
        When :math:`s^2 A` or :math:`s^2 B` does not fit in float64 (s the largest tap
        modulus, e.g. a bank scaled by 1e160 or 1e-170): they are reported as inf or 0,
        while :func:`condition_number` stays exact.

    Notes
    -----
    For d = 1, :math:`A = \min_k \mathrm{LP}(k)` and :math:`B = \max_k \mathrm{LP}(k)`.
    For one stride d > 1 (d divides N), S is block-diagonal in the DFT basis with blocks

    .. math:: M(k)_{a,b} = \frac1d \sum_j \hat w_j(k + aN/d)\,\overline{\hat w_j(k + bN/d)},
              \quad k = 0..N/d-1,

    and A, B are the extreme eigenvalues over all blocks. A multirate bank (filter j at
    stride :math:`d_j`) has blocks of size :math:`P = \operatorname{lcm}(d_j)`, each filter
    coupling only the bins :math:`N/d_j` apart:

    .. math:: M(k)_{a,b} = \sum_j \frac{1}{d_j}\,[\,a \equiv b \bmod P/d_j\,]\,
              \hat w_j(k + aN/P)\,\overline{\hat w_j(k + bN/P)},\quad k = 0..N/P-1.

    The bounds are computed on the bank divided by its largest tap modulus s and
    multiplied back by :math:`s^2`, so that no square overflows.

    Examples
    --------
    >>> import torch
    >>> A, B = frame_bounds(torch.eye(4), n_fft=8, stride=4)
    >>> float(A), float(B)
    (1.0, 1.0)
    >>> A, B = frame_bounds(torch.eye(2), n_fft=8, stride=[1, 2])  # multirate
    >>> float(A), float(B)
    (1.0, 2.0)
    """
    fb, n_fft = _prepare_bank(bank, n_fft, stride, real_input)
    A_n, B_n, scale = _normalised_bounds(fb, n_fft, band)
    A, lost_a = _rescale(A_n, scale)
    B, lost_b = _rescale(B_n, scale)
    for kind, lost, shown in (
        ("overflow", (lost_a | lost_b) & torch.isinf(B), "inf"),
        ("underflow", (lost_a | lost_b) & ~torch.isinf(B), "0"),
    ):
        if bool(lost.any()):
            warnings.warn(
                f"frame bounds {kind} float64 at the bank's scale for {int(lost.sum())} of "
                f"{lost.numel()} filterbank(s): reported as {shown} (kappa = B/A is "
                "scale-invariant and stays exact: use condition_number, or rescale the bank)",
                RuntimeWarning,
                stacklevel=2,
            )
    return A, B


def condition_number(
    bank: Any,
    *,
    n_fft: int,
    stride: int | None = None,
    real_input: bool = True,
    band: tuple[float, float] | None = None,
) -> torch.Tensor:
    r"""Condition number :math:`\kappa = B / A` of the frame operator.

    Same parameters as :func:`frame_bounds`. Where A is zero to working precision,
    :math:`A \le N \epsilon B` (a singular frame: some signal is mapped to zero, e.g.
    fewer filters than the stride), kappa is ``inf`` and a warning says so; A itself is
    never clamped. Kappa is scale-invariant and computed on the normalised bank, so it is
    exact at any scale (a bank times 1e160 has the kappa of the bank). Differentiable in
    the weights where it is finite.

    Returns
    -------
    torch.Tensor, float64, shape (...)

    Examples
    --------
    >>> import torch, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     kappa = condition_number(torch.tensor([[1.0, 1.0]]), n_fft=2)
    >>> float(kappa), caught[0].category.__name__
    (inf, 'RuntimeWarning')
    """
    fb, n_fft = _prepare_bank(bank, n_fft, stride, real_input)
    A, B, _ = _normalised_bounds(fb, n_fft, band)
    return kappa_from_bounds(A, B, n_fft=n_fft, stacklevel=3)


def kappa_from_bounds(A: Any, B: Any, *, n_fft: Any, stacklevel: int = 2) -> torch.Tensor:
    r"""Condition number :math:`B/A` from frame bounds, with the singular-frame rule.

    Where :math:`A \le N \epsilon B` the frame is singular to working precision: kappa is
    ``inf`` and one warning counts such banks. ``n_fft`` (N) may be an array broadcasting
    against A and B (one signal length per bank). Used by :func:`condition_number` and by
    every statistic of condition numbers, so they share one rule.

    Examples
    --------
    >>> kappa_from_bounds(torch.tensor(0.5), torch.tensor(2.0), n_fft=8)
    tensor(4., dtype=torch.float64)
    """
    A = torch.as_tensor(A, dtype=torch.float64)
    B = torch.as_tensor(B, dtype=torch.float64, device=A.device)
    n = torch.as_tensor(n_fft, dtype=torch.float64, device=A.device)
    singular = A <= n * torch.finfo(torch.float64).eps * B
    kappa = torch.where(singular, torch.full_like(B, float("inf")), B / A)
    if bool(singular.any()):
        warnings.warn(
            f"{int(singular.sum())} of {singular.numel()} filterbank(s) are singular frames "
            "(lower frame bound A = 0): condition number is inf",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    return kappa


def analysis_matrix(bank: Any, *, n_fft: int, stride: Any = None) -> torch.Tensor:
    r"""Dense analysis operator :math:`\Phi` of one bank on circular signals of length N.

    Meant for checks on small N: the rows of filter j, stacked filter after filter, compute
    :math:`(x \circledast w_j)[m d_j]` for m = 0..N/d_j - 1 (d_j = d for a uniform bank).

    Returns
    -------
    torch.Tensor, shape (sum_j n_fft // stride_j, n_fft)
        ``n_filters * n_fft // stride`` rows for a uniform bank.

    Examples
    --------
    >>> import torch
    >>> analysis_matrix(torch.tensor([[1.0, 2.0]]), n_fft=3)
    tensor([[1., 0., 2.],
            [2., 1., 0.],
            [0., 2., 1.]], dtype=torch.float64)
    >>> analysis_matrix(torch.eye(2), n_fft=2, stride=[1, 2])
    tensor([[1., 0.],
            [0., 1.],
            [0., 1.]], dtype=torch.float64)
    """
    fb, n_fft = _prepare_bank(bank, n_fft, stride, real_input=False)
    if fb.batch_shape:
        raise ParameterError(f"bank batch shape {fb.batch_shape} must be empty (one bank)")
    padded = torch.nn.functional.pad(fb.weights, (0, n_fft - fb.kernel_size))
    n = torch.arange(n_fft, device=padded.device)
    # Phi[j, n, m] = w_j[(n - m) mod N]: circulant of each filter, rows subsampled by d_j.
    circ = padded[:, (n[:, None] - n[None, :]) % n_fft]
    return torch.cat([circ[j, ::d] for j, d in enumerate(fb.strides)])
