r"""Adapters for nnAudio: ``CQT1992v2``, ``STFT``, ``MelSpectrogram`` and ``Gammatonegram``.

- ``CQT1992v2``: its ``cqt_kernels_real`` and ``cqt_kernels_imag`` are true impulse
  responses. The forward pass computes
  :math:`\sqrt{L_j}\,(\mathrm{conv}(x, k^{re}_j) - i\, \mathrm{conv}(x, k^{im}_j))` with
  :math:`L_j` the kernel lengths (the buffer ``lenghts``) under the default
  ``normalization_type="librosa"`` (no factor under ``"convolutional"``, 2 under
  ``"wrap"``), so the bank is :math:`c\,(k^{re} - i k^{im})`, at ``hop_length``, on the
  input extended by ``kernel_width // 2`` samples each side in ``pad_mode`` when
  ``center``.
- ``STFT``: the first ``freq_bins`` rows of ``wcos - i wsin`` (its "Complex" output is
  ``(real, -imag)``), at ``hop_length``, padded by ``n_fft // 2`` each side when
  ``center``.
- ``MelSpectrogram`` and ``Gammatonegram``: that STFT, and the matrix (``mel_basis``,
  ``gammatone_basis``) applied to its magnitude raised to ``power`` (2 by default: a
  power spectrogram). They are spectral matrices, not per-band impulse responses.
"""

from __future__ import annotations

from typing import Any

import torch

from fbinit._validate import check_choice
from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted

__all__ = ["cqt1992v2", "gammatonegram", "melspectrogram", "stft"]

_PAD = {"constant": "constant", "reflect": "reflect"}
#: scale of the CQT kernels under each of nnAudio's normalization types
_NORMALIZATIONS = ("librosa", "convolutional", "wrap")


def _centre(module: Any, width: int) -> tuple[tuple[int, int, str], ...]:
    if not module.center:
        return ()
    mode = check_choice("pad_mode", module.pad_mode, tuple(_PAD))
    return ((width // 2, width // 2, _PAD[mode]),)


def cqt1992v2(
    module: Any, *, normalization_type: str = "librosa", sample_rate: float | None = None
) -> Adapted:
    """The complex CQT kernels of ``CQT1992v2``, scaled as its forward pass scales them."""
    check_choice("normalization_type", normalization_type, _NORMALIZATIONS)
    real, imag = module.cqt_kernels_real[:, 0, :], module.cqt_kernels_imag[:, 0, :]
    weights = torch.complex(real, -imag)
    if normalization_type == "librosa":
        weights = weights * module.lenghts.to(real.dtype).sqrt()[:, None]
    elif normalization_type == "wrap":
        weights = 2 * weights
    bank = Filterbank(
        weights, stride=int(module.hop_length), sample_rate=sample_rate, name="CQT1992v2"
    )
    return Adapted(bank, padding=_centre(module, int(module.kernel_width)))


def stft(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """The windowed Fourier atoms of nnAudio's ``STFT`` (its first ``freq_bins`` rows)."""
    bins = module.wcos.shape[0] if module.freq_bins is None else int(module.freq_bins)
    weights = torch.complex(module.wcos[:bins, 0, :], -module.wsin[:bins, 0, :])
    bank = Filterbank(weights, stride=int(module.stride), sample_rate=sample_rate, name="STFT")
    return Adapted(bank, padding=_centre(module, int(module.n_fft)))


def _projected(module: Any, matrix: torch.Tensor, name: str, sample_rate: float | None):
    inner = stft(module.stft, sample_rate=sample_rate)
    bank = Filterbank(
        inner.bank.weights, stride=inner.bank.stride, sample_rate=sample_rate, name=name
    )
    return Adapted(bank, padding=inner.padding, projection=matrix, power=float(module.power))


def melspectrogram(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """nnAudio's ``MelSpectrogram``: its STFT and ``mel_basis`` on ``|STFT|^power``."""
    return _projected(module, module.mel_basis, "MelSpectrogram", sample_rate)


def gammatonegram(module: Any, *, sample_rate: float | None = None) -> Adapted:
    """nnAudio's ``Gammatonegram``: its STFT and ``gammatone_basis`` on ``|STFT|^power``."""
    return _projected(module, module.gammatone_basis, "Gammatonegram", sample_rate)


ADAPTERS = {
    "CQT1992v2": cqt1992v2,
    "STFT": stft,
    "MelSpectrogram": melspectrogram,
    "Gammatonegram": gammatonegram,
}
