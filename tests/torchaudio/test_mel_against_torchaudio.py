"""fbinit's mel matrix and mel power spectrogram against torchaudio's, within 1e-5 relative.

fbinit's mel bank (:func:`fbinit.banks.mel`) takes its triangles from librosa; with no
window and kernel_size = n_fft its magnitude responses on the n_fft-point grid are those
triangles exactly. They are compared with ``torchaudio.functional.melscale_fbanks``, and
the power STFT of fbinit's analysis (the Fourier atoms through
``fbinit.frontends.analysis_conv``) times the same matrix with
``torchaudio.transforms.MelSpectrogram``.
"""

from __future__ import annotations

import librosa
import pytest
import torch
import torchaudio

from fbinit.banks import mel
from fbinit.frontends import analysis_conv
from fbinit.frontends.stft import stft_atoms

SETTINGS = [("slaney", "slaney", False), (None, "htk", True)]


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


@pytest.mark.parametrize("norm, mel_scale, htk", SETTINGS)
def test_mel_bank_responses_equal_melscale_fbanks(norm, mel_scale, htk):
    n_fft, n_mels, rate = 512, 40, 16000
    bank = mel(n_mels, n_fft, sample_rate=rate, fmin=60.0, norm=norm, htk=htk, window=None)
    responses = torch.fft.rfft(bank.weights, n=n_fft).abs()
    reference = torchaudio.functional.melscale_fbanks(
        n_fft // 2 + 1, 60.0, rate / 2, n_mels, rate, norm=norm, mel_scale=mel_scale
    ).T.double()
    assert relative(responses, reference) < 1e-5


@pytest.mark.parametrize("norm, mel_scale, htk", SETTINGS)
def test_stft_power_and_mel_matrix_equal_melspectrogram(norm, mel_scale, htk):
    n_fft, hop, n_mels, rate = 400, 160, 40, 16000
    x = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    module = torchaudio.transforms.MelSpectrogram(
        sample_rate=rate,
        n_fft=n_fft,
        hop_length=hop,
        n_mels=n_mels,
        f_min=60.0,
        norm=norm,
        mel_scale=mel_scale,
    ).double()
    matrix = torch.from_numpy(
        librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=60.0, norm=norm, htk=htk)
    ).double()
    atoms = stft_atoms(torch.hann_window(n_fft, dtype=torch.float64), n_fft)
    padded = torch.nn.functional.pad(x[:, None], (n_fft // 2, n_fft // 2), mode="reflect")[:, 0]
    power = analysis_conv(padded, atoms, stride=hop, padding="valid").abs() ** 2
    assert relative(matrix @ power, module(x)) < 1e-5
