r"""Energy bounds of frontends that apply a nonnegative matrix to a power spectrogram.

A mel spectrogram, a gammatonegram (nnAudio's ``MelSpectrogram``, ``Gammatonegram``,
asteroid's ``MelGramFB``, torchaudio's ``MelSpectrogram``, an fbinit ``Frontend`` with a
``projection`` and ``modulus="power"``) computes

.. math:: Y[j, t] = \sum_k M[j, k]\, |X[k, t]|^2

from the coefficients :math:`X[k, t] = \langle x, \varphi_{k,t} \rangle` of an analysis
bank (the STFT atoms :math:`\varphi_k` at the hop) and a nonnegative matrix M. Its total
energy is a weighted sum of the bins' energies,

.. math:: \sum_j \sum_t Y[j, t] = \sum_k c_k \sum_t |X[k, t]|^2 = \|\Phi_c x\|^2,
          \qquad c_k = \sum_j M[j, k],

the squared norm of the analysis by the weighted bank :math:`\sqrt{c_k}\,\varphi_k`.
Hence :math:`A_c \|x\|^2 \le \sum_{j,t} Y[j,t] \le B_c \|x\|^2` with :math:`A_c, B_c` the
frame bounds of the weighted bank, and these bounds are optimal: on circular signals of
length N they are attained (at stride 1 by the cosines at the bins where the weighted
Littlewood-Paley sum is smallest and largest; at a larger hop by the extreme eigenvectors
of the stride blocks).

What they do not bound: each band separately (a band's energy can vanish while the total
stays above :math:`A_c \|x\|^2`), and the invertibility of the features: Y discards the
phase and mixes bins, so a positive :math:`A_c` does not make x recoverable from Y. Bins
that no row of M covers (:math:`c_k = 0`, e.g. below ``fmin``) pull :math:`A_c` down: the
weighted Littlewood-Paley sum there comes only from the window's leakage out of
neighbouring bins, and can be 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch

from fbinit._validate import check_int
from fbinit.analysis.frames import frame_bounds
from fbinit.analysis.scaling import default_n_fft
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank

__all__ = ["EnergyBounds", "energy_bounds", "power_frontend", "weighted_bank"]


@dataclass(frozen=True)
class EnergyBounds:
    r"""Bounds :math:`A \|x\|^2 \le \sum_{j,t} Y[j,t] \le B \|x\|^2` of a projected power frontend.

    Attributes
    ----------
    A, B : float
        Optimal bounds on circular signals of length ``n_fft``.
    weights : torch.Tensor, float64, shape (n_atoms,)
        :math:`c_k = \sum_j M[j, k]`, the weight of each atom.
    bank : Filterbank
        The weighted bank :math:`\sqrt{c_k}\,\varphi_k` (float64), whose frame bounds A, B are.
    n_fft : int
    exact : bool
        Whether the module's own output sums to the bounded quantity: False when it applies
        M to :math:`|X|^p` with p != 2 (e.g. asteroid's ``MelGramFB``, a magnitude), or
        pools or compresses after M; the bounds then concern M applied to the power
        spectrogram of the same atoms.
    """

    A: float
    B: float
    weights: torch.Tensor
    bank: Filterbank
    n_fft: int
    exact: bool

    @property
    def kappa(self) -> float:
        """B / A (inf when A = 0)."""
        return self.B / self.A if self.A > 0 else float("inf")


def power_frontend(module: Any):
    """The :class:`~fbinit.frontends.adapters.base.Adapted` reading of a projected power frontend.

    Accepts an fbinit ``Frontend`` with a ``projection`` and a modulus, or any module whose
    adapter reads a projection (nnAudio ``MelSpectrogram``/``Gammatonegram``, asteroid
    ``MelGramFB`` or its ``Encoder``, torchaudio ``MelSpectrogram``).

    Returns
    -------
    (Adapted, bool)
        The reading, and whether a pooling or compression stage follows the projection.

    Raises
    ------
    ParameterError
        If the module applies no matrix to a power or magnitude spectrogram.
    """
    from fbinit.frontends.adapters import adapt
    from fbinit.frontends.adapters.base import Adapted
    from fbinit.frontends.base import Frontend

    if isinstance(module, Frontend):
        if module.projection is None:
            raise ParameterError(
                f"module={type(module).__name__} must have a projection (a nonnegative matrix "
                "applied to its modulus) for energy bounds"
            )
        bank = module.filterbank()
        size = bank.kernel_size
        pads = {
            "same": ((size // 2, size // 2, "constant"),),
            "valid": (),
            "circular": ((size // 2, size - 1 - size // 2, "circular"),),
        }[module.padding]
        power = {"power": 2.0, "abs": 1.0}[module.modulus]
        after = module.pooling is not None or module.compression is not None
        return Adapted(bank, padding=pads, projection=module.projection, power=power), after
    adapted = adapt(module)
    if adapted.projection is None:
        raise ParameterError(
            f"module={type(module).__name__} must apply a nonnegative matrix to a power "
            "spectrogram (a mel or gammatone frontend) for energy bounds"
        )
    return adapted, False


def weighted_bank(bank: Any, projection: Any) -> tuple[Filterbank, torch.Tensor]:
    r"""The bank :math:`\sqrt{c_k}\,\varphi_k`, :math:`c_k = \sum_j M[j, k]`, and c (float64).

    Parameters
    ----------
    bank : filterbank-like, shape (n_atoms, kernel_size)
    projection : array-like, shape (n_outputs, n_atoms), nonnegative

    Examples
    --------
    >>> weighted, c = weighted_bank(torch.eye(3), torch.tensor([[1.0, 1.0, 0.0], [0.0, 3.0, 0.0]]))
    >>> c.tolist(), weighted.weights.diagonal().tolist()
    ([1.0, 4.0, 0.0], [1.0, 2.0, 0.0])
    """
    fb = as_filterbank(bank)
    matrix = torch.as_tensor(projection).detach().to(torch.float64)
    if matrix.ndim != 2 or matrix.shape[1] != fb.n_filters:
        raise ParameterError(
            f"projection.shape={tuple(matrix.shape)} must be (n_outputs, n_atoms={fb.n_filters})"
        )
    if bool((matrix < 0).any()):
        raise ParameterError("projection must be nonnegative (found negative entries)")
    weights = matrix.sum(dim=0)
    scale = weights.sqrt().to(fb.weights.dtype)[:, None]
    return Filterbank(fb.weights * scale, fb.stride, fb.sample_rate, fb.band, fb.name), weights


def energy_bounds(module: Any, *, n_fft: int | None = None) -> EnergyBounds:
    r"""Optimal bounds of the total energy :math:`\sum_{j,t} Y[j,t]` of a mel-like frontend.

    Parameters
    ----------
    module : projected power frontend
        See :func:`power_frontend`.
    n_fft : int >= kernel_size, multiple of the hop, optional
        Length N of the circular signals. Default: max(1024, 2 kernel_size) rounded up to
        a multiple of the hop.

    Returns
    -------
    EnergyBounds

    Notes
    -----
    .. math:: A_c \|x\|^2 \le \sum_j \sum_t Y[j, t] \le B_c \|x\|^2,

    with :math:`A_c, B_c` the frame bounds of :math:`\sqrt{c_k}\,\varphi_k` (see the module
    docstring for what they do and do not bound). When the module's output is not that
    sum (``exact`` False), a warning says so.

    Examples
    --------
    >>> from fbinit.frontends.adapters.base import Adapted
    >>> atoms = torch.fft.fft(torch.eye(8, dtype=torch.float64))[:5] / 8**0.5  # one-sided DFT
    >>> mel = torch.tensor([[1.0, 1, 1, 0, 0], [0, 0, 1, 1, 1]], dtype=torch.float64)
    >>> bounds = energy_bounds(Adapted(Filterbank(atoms), projection=mel, power=2.0), n_fft=8)
    >>> bounds.weights.tolist(), round(bounds.A, 6), round(bounds.B, 6)
    ([1.0, 1.0, 2.0, 1.0, 1.0], 4.0, 8.0)
    """
    from fbinit.frontends.adapters.base import Adapted

    if isinstance(module, Adapted):
        adapted, after = module, False
    else:
        adapted, after = power_frontend(module)
    if adapted.projection is None:
        raise ParameterError("module must have a projection for energy bounds")
    bank, weights = weighted_bank(adapted.bank, adapted.projection)
    if bank.is_multirate:
        raise ParameterError(f"stride={bank.stride} must be one hop for a spectrogram")
    if n_fft is None:
        n_fft = -(-default_n_fft(bank.kernel_size) // bank.stride) * bank.stride
    n_fft = check_int("n_fft", n_fft)
    exact = adapted.power == 2 and not after
    if not exact:
        warnings.warn(
            f"the module applies its matrix to |X|^{adapted.power:g}"
            + (" and pools or compresses after it" if after else "")
            + ": the bounds are those of the same matrix on the power spectrogram |X|^2, "
            "not of the module's output",
            UserWarning,
            stacklevel=2,
        )
    A, B = frame_bounds(bank, n_fft=n_fft)
    return EnergyBounds(float(A), float(B), weights, bank, n_fft, exact)
