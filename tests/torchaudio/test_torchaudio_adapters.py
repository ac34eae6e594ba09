"""torchaudio and hybra adapters: each reading predicts the module's own forward output."""

from __future__ import annotations

import math

import hybra
import pytest
import torch
import torchaudio

from fbinit import as_filterbank, littlewood_paley
from fbinit.frontends.adapters import adapt, energy_bounds

RTOL = 1e-5  # the modules compute in float32


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


@pytest.fixture
def signal() -> torch.Tensor:
    return torch.randn(2, 1, 4000, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"normalized": True, "win_length": 96},
        {"normalized": "frame_length", "center": False},
        {"pad": 7, "pad_mode": "constant"},
        {"onesided": False, "power": 2.0},
    ],
)
def test_spectrogram_predicts_its_output(signal, options):
    options = {"n_fft": 128, "hop_length": 32, "power": None, **options}
    module = torchaudio.transforms.Spectrogram(**options)
    adapted = adapt(module)
    assert adapted.bank.stride == 32
    assert adapted.bank.n_filters == (65 if options.get("onesided", True) else 128)
    with torch.no_grad():
        c, output = adapted.coefficients(signal[:, 0]), module(signal[:, 0])
    if options["power"] is not None:
        c = c.abs() ** options["power"]
    assert relative(c, output) < RTOL


def test_melspectrogram_predicts_its_output(signal):
    module = torchaudio.transforms.MelSpectrogram(
        sample_rate=8000, n_fft=128, hop_length=32, n_mels=16
    )
    adapted = adapt(module)
    assert adapted.power == 2.0 and adapted.projection.shape == (16, 65)
    assert adapted.bank.sample_rate == 8000
    with torch.no_grad():
        predicted = adapted.projection @ adapted.coefficients(signal[:, 0]).abs() ** 2
        assert relative(predicted, module(signal[:, 0])) < RTOL


def test_melspectrogram_energy_bounds_are_attained():
    n = 256
    module = torchaudio.transforms.MelSpectrogram(
        sample_rate=8000, n_fft=64, hop_length=1, n_mels=8, center=False
    )
    bounds = energy_bounds(module, n_fft=n)
    assert bounds.exact and 0 < bounds.A < bounds.B
    lp = littlewood_paley(bounds.bank, n_fft=n)[: n // 2 + 1]
    t = torch.arange(n, dtype=torch.float64)
    for k, target in ((int(lp.argmin()), bounds.A), (int(lp.argmax()), bounds.B)):
        cosine = torch.cos(2 * math.pi * k * t / n)
        periodic = torch.cat([cosine, cosine[:63]]).float()[None]  # one period of frames
        with torch.no_grad():
            energy = float(module(periodic).double().sum())
        assert energy == pytest.approx(target * float(cosine.square().sum()), rel=1e-4)


@pytest.mark.parametrize("kernel_size", [128, 97])
def test_isac_predicts_its_output(signal, kernel_size):
    module = hybra.ISAC(fs=8000, kernel_size=kernel_size, num_channels=20, stride=8, L=4000)
    adapted = adapt(module)
    bank = adapted.bank
    assert bank.stride == 8 and bank.n_filters == 20 and bank.is_complex
    assert bank.sample_rate == 8000
    with torch.no_grad():
        predicted, output = adapted.coefficients(signal[:, 0]), module(signal[:, 0])
    assert predicted.shape == output.shape
    assert relative(predicted, output) < RTOL


def test_hybra_predicts_its_output_and_keeps_grad(signal):
    torch.manual_seed(0)
    module = hybra.HybrA(fs=8000, kernel_size=128, num_channels=20, stride=8, L=4000)
    adapted = adapt(module)
    with torch.no_grad():
        predicted, output = adapted.coefficients(signal[:, 0]), module(signal[:, 0])
    assert relative(predicted, output) < RTOL
    adapted.bank.weights.abs().square().sum().backward()
    assert module.learned_kernels.grad is not None
    assert as_filterbank(module).weights.dtype == torch.complex128
