r"""Targets and data of the conditioning task (private to :mod:`fbinit.bench.conditioning`).

The authors' notebooks ("Stability of random filterbanks under gradient descent") fit a
learnable bank to the response of a fixed target bank given by its N-point frequency
responses :math:`\hat h_j[k]` (LTFAT designs stored as pickles). Here the targets are
fbinit's fixed banks, periodised to N samples:

- ``"cqt"``: :func:`fbinit.banks.wavelet` (librosa's CQT wavelets, as
  :class:`~fbinit.frontends.WaveletFrontend` uses), 58 bins, 8 per octave, from 50 Hz
  (highest centre 6977 Hz, passbands 47-7432 Hz; 64 Hz as in the notebook would put the
  58th bin's passband above Nyquist), kernel N = 4092; input: sines.
- ``"mel"``: :func:`fbinit.banks.mel`, 42 Slaney mel triangles over 45-8000 Hz realised as
  zero-phase FIR filters of N = 4095 taps (Hann window); input: speech.
- ``"vqt"``: :func:`fbinit.banks.wavelet` with librosa's ERB-like bandwidth offset
  (:meth:`~fbinit.frontends.WaveletFrontend.vqt`), 96 bins, 14 per octave, from 64 Hz
  (passbands 56-7329 Hz), kernel N = 4096; input: sines (the notebook used music, which
  is not available offline).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from fbinit.banks import mel, wavelet

#: the notebooks' settings per target (J filters of T taps, stride, signal length N)
SETTINGS = {
    "cqt": {"n_filters": 58, "kernel_size": 1024, "stride": 341, "n_fft": 4092, "data": "sines"},
    "mel": {"n_filters": 42, "kernel_size": 1024, "stride": 585, "n_fft": 4095, "data": "speech"},
    "vqt": {"n_filters": 96, "kernel_size": 1024, "stride": 512, "n_fft": 4096, "data": "sines"},
}

#: the target banks' descriptions (for the records and the page)
DESCRIPTIONS = {
    "cqt": "fbinit.banks.wavelet: 58 CQT wavelets (librosa), 8 bins/octave from 50 Hz, 4092 taps",
    "mel": "fbinit.banks.mel: 42 Slaney mel triangles 45-8000 Hz as zero-phase FIR "
    "(Hann window), 4095 taps",
    "vqt": "fbinit.banks.wavelet: 96 VQT wavelets (librosa, gamma = 24.7 alpha / 0.108), "
    "14 bins/octave from 64 Hz, 4096 taps",
}

#: sample rate of every target (Hz)
SAMPLE_RATE = 16000
#: band of the sine inputs (Hz), log-uniform, below Nyquist as in the notebook
SINE_BAND = (64.0, 8000.0)


@functools.lru_cache(maxsize=4)
def target_bank(target: str) -> np.ndarray:
    """The target's impulse responses, complex128 (n_filters, n_fft) (periodised to N)."""
    s = SETTINGS[target]
    n = s["n_fft"]
    if target == "mel":
        w = mel(s["n_filters"], n, sample_rate=SAMPLE_RATE, fmin=45.0, fmax=8000.0).weights
    else:
        kwargs = {"fmin": 50.0, "bins_per_octave": 8}
        if target == "vqt":
            ratio = 2.0 ** (2.0 / 14)
            alpha = (ratio - 1) / (ratio + 1)
            kwargs = {"fmin": 64.0, "bins_per_octave": 14, "gamma": 24.7 * alpha / 0.108}
        w = wavelet(s["n_filters"], n, sample_rate=SAMPLE_RATE, **kwargs).weights
    return np.asarray(w.numpy(), dtype=np.complex128)


@dataclass(frozen=True)
class Target:
    r"""The target response: circular convolution, modulus, every d-th sample, mean.

    :math:`Y_j(x) = \frac{d}{N} \sum_{m < M} |(x \circledast h_j)[m d]|`, M = N/d (the
    notebooks' ``filterbank_response_fft``). Only the M subsampled outputs are computed:
    with :math:`P_j[r] = \sum_{q<d} \hat x[r + qM]\,\hat h_j[r + qM]` (the spectrum folded
    onto M bins), :math:`(x \circledast h_j)[m d] = \frac MN\,\mathrm{IDFT}_M(P_j)[m]`.
    """

    name: str
    spectra: torch.Tensor  # complex64 (d, M, n_filters): the DFT of h_j at bin r + qM
    stride: int

    @classmethod
    def build(cls, target: str) -> Target:
        w = target_bank(target)
        n_filters, n_fft = w.shape
        stride = SETTINGS[target]["stride"]
        spectra = np.fft.fft(w, axis=-1).reshape(n_filters, stride, n_fft // stride)
        spectra = torch.from_numpy(spectra.transpose(1, 2, 0).copy()).to(torch.complex64)
        return cls(target, spectra, stride)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n_fft) -> (batch, n_filters, 1)."""
        d, m, _ = self.spectra.shape
        spectrum = torch.fft.fft(x.to(torch.complex64), dim=-1).reshape(x.shape[0], d, m)
        folded = torch.einsum("bqr,qrj->bjr", spectrum, self.spectra)
        y = torch.fft.ifft(folded, dim=-1) / d  # M / N = 1 / d
        return y.abs().mean(dim=-1, keepdim=True)


def sines(generator: torch.Generator, batch_size: int, n_fft: int) -> torch.Tensor:
    r"""A batch of unit sines :math:`\sin(2\pi f t)`, log2 f uniform on SINE_BAND (float32).

    As the notebooks' ``generate_random_sine``: zero phase, :math:`f < 8000` Hz.
    """
    lo, hi = np.log2(SINE_BAND[0]), np.log2(SINE_BAND[1])
    f = 2.0 ** (
        lo + (hi - lo) * torch.rand(batch_size, 1, generator=generator, dtype=torch.float64)
    )
    t = torch.arange(n_fft, dtype=torch.float64) / SAMPLE_RATE
    return torch.sin(2 * torch.pi * f * t).float()


#: sentences rendered with espeak-ng for the speech pool
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Seven silver swans swam silently seaward.",
    "Please call Stella and ask her to bring these things with her from the store.",
)


@functools.lru_cache(maxsize=1)
def speech_pool() -> tuple[np.ndarray, str]:
    """Concatenated speech at 16 kHz: the bundled ARCTIC utterance plus espeak-ng renders.

    Returns the samples and a description of what they contain (espeak-ng is skipped
    when it is not installed).
    """
    from fbinit.bench import speech
    from fbinit.signals.audio import example

    x, _ = example(sample_rate=SAMPLE_RATE)
    parts = [np.asarray(x, dtype=np.float64)]
    what = "bundled arctic_a0007 (4 s)"
    if speech.available():
        voices = speech.VOICES[:3]
        for text, voice in zip(SENTENCES, voices, strict=True):
            parts.append(speech.render(text, sample_rate=SAMPLE_RATE, voice=voice).astype(float))
        what += f" + espeak-ng ({len(SENTENCES)} sentences, voices {', '.join(voices)})"
    return np.concatenate(parts), what


@functools.lru_cache(maxsize=4)
def _voiced_starts(n_fft: int) -> torch.Tensor:
    """Starts of the N-sample crops whose RMS is at least 5% of the pool's (no silence)."""
    pool, _ = speech_pool()
    energy = np.concatenate([[0.0], np.cumsum(pool**2)])
    frame_ms = (energy[n_fft:] - energy[:-n_fft]) / n_fft
    return torch.from_numpy(np.flatnonzero(frame_ms > 0.05**2 * np.mean(pool**2)))


def speech_crops(generator: torch.Generator, batch_size: int, n_fft: int) -> torch.Tensor:
    """Random N-sample crops of the speech pool (no silent crop), each at unit RMS (float32)."""
    pool, _ = speech_pool()
    starts = _voiced_starts(n_fft)
    starts = starts[torch.randint(len(starts), (batch_size,), generator=generator)]
    crops = torch.from_numpy(pool)[starts[:, None] + torch.arange(n_fft)]
    crops = crops / crops.square().mean(dim=-1, keepdim=True).sqrt()
    return crops.float()


def draw(data: str, generator: torch.Generator, batch_size: int, n_fft: int) -> torch.Tensor:
    """One (batch_size, n_fft) batch of the target's input data."""
    if data == "sines":
        return sines(generator, batch_size, n_fft)
    return speech_crops(generator, batch_size, n_fft)
