"""The Dirac probe: kernels and stride of any linear shift-invariant module, or a clear error."""

from __future__ import annotations

import pytest
import torch

from fbinit import as_filterbank
from fbinit.errors import ParameterError
from fbinit.frontends.adapters import adapt, probe
from fbinit.frontends.adapters.probe import probe_groups


def test_probe_recovers_a_strided_padded_conv(generator):
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(1, 5, 33, stride=6, padding=10, bias=False)
    module = torch.nn.Sequential(torch.nn.ReflectionPad1d(3), conv)
    adapted = adapt(module)
    bank = adapted.bank
    assert bank.stride == 6 and bank.kernel_size == 33 and bank.name == "Sequential"
    assert torch.allclose(bank.weights, conv.weight[:, 0], rtol=0, atol=1e-7)
    assert adapted.padding == ((13, 19, "constant"),)  # frame 0 starts 13 samples early
    x = torch.randn(1, 1, 2000, generator=generator)
    with torch.no_grad():
        predicted, output = adapted.coefficients(x), module(x)
    frames = slice(3, output.shape[-1] - 3)  # the reflection is seen only near the ends
    assert torch.allclose(predicted[..., frames], output[..., frames], atol=1e-5)


@pytest.mark.parametrize("stride", [1, 160, 341])
def test_probe_detects_the_stride(stride):
    conv = torch.nn.Conv1d(1, 2, 401, stride=stride, bias=False)
    assert probe(conv).stride == stride


class CircularFFT(torch.nn.Module):
    """A circular convolution computed by FFT (round-off everywhere), at stride 4, complex."""

    def __init__(self, kernels: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("kernels", kernels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        spectrum = torch.fft.fft(x, dim=-1) * torch.fft.fft(self.kernels, n=n, dim=-1)
        return torch.fft.ifft(spectrum, dim=-1)[..., ::4]


def test_probe_reads_fft_modules_and_complex_outputs(generator):
    kernels = torch.randn(3, 40, dtype=torch.complex64, generator=generator)
    bank = probe(CircularFFT(kernels), sample_rate=8000)
    assert bank.stride == 4 and bank.kernel_size == 40 and bank.is_complex
    assert bank.sample_rate == 8000
    # a convolution is a correlation with the reversed kernels
    assert torch.allclose(bank.weights, kernels.flip(-1), atol=1e-5)


def test_probe_accepts_time_only_inputs():
    conv = torch.nn.Conv1d(1, 3, 9, stride=2, bias=False)

    class TimeOnly(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv

        def forward(self, x):
            if x.ndim != 2:
                raise ValueError("x must be (batch, time)")
            return self.conv(x[:, None])

    bank = as_filterbank(TimeOnly())  # dispatched to the probe
    assert bank.stride == 2 and torch.allclose(bank.weights, conv.weight[:, 0].double())


def test_probe_restores_training_mode():
    module = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 5, bias=False), torch.nn.Dropout(0.5))
    module.train()
    assert probe(module).kernel_size == 5  # dropout is off while probing
    assert module.training and module[1].training


class Gain(torch.nn.Module):
    def forward(self, x):
        return x * torch.linspace(1.0, 2.0, x.shape[-1])


class Recursive(torch.nn.Module):
    """y[n] = x[n] + 0.9999 y[n - 1], as a long FIR truncation of an IIR filter."""

    def forward(self, x):
        taps = 0.9999 ** torch.arange(x.shape[-1], dtype=x.dtype)
        n = x.shape[-1]
        return torch.fft.irfft(torch.fft.rfft(x, 2 * n) * torch.fft.rfft(taps, 2 * n), 2 * n)[
            ..., :n
        ]


@pytest.mark.parametrize(
    "module, message",
    [
        (torch.nn.Conv1d(1, 3, 5), "maps the zero signal to a nonzero output"),
        (
            torch.nn.Sequential(torch.nn.Conv1d(1, 3, 5, bias=False), torch.nn.ReLU()),
            "must be linear: f\\(x \\+ 2 x'\\) differs",
        ),
        (
            torch.nn.Sequential(Gain(), torch.nn.Conv1d(1, 3, 5, bias=False)),
            "must be shift-invariant",
        ),
        (
            torch.nn.Sequential(
                torch.nn.Conv1d(1, 2, 4, bias=False), torch.nn.AdaptiveAvgPool1d(8)
            ),
            "must be a convolution over time",
        ),
        (Recursive(), "must have finite impulse responses"),
        (
            torch.nn.Sequential(torch.nn.Conv1d(1, 2, 4, bias=False), torch.nn.Flatten(0)),
            "must return \\(batch, \\.\\.\\., frames\\)",
        ),
        (torch.nn.Identity(), None),
    ],
    ids=["bias", "relu", "time-varying", "pooled", "iir", "flat", "identity"],
)
def test_probe_names_what_fails(module, message):
    if message is None:  # the identity is LTI: one filter, one tap
        bank = probe(module)
        assert bank.weights.tolist() == [[1.0]] and bank.stride == 1
        return
    with pytest.raises(ParameterError, match=message):
        probe(module, max_samples=2**15)


def test_probe_refuses_strides_above_the_limit():
    with pytest.raises(ParameterError, match="max_stride=8 must be >= the module's stride"):
        probe(torch.nn.Conv1d(1, 2, 64, stride=64, bias=False), max_stride=8)


def test_probe_parameter_errors():
    conv = torch.nn.Conv1d(1, 2, 4, bias=False)
    with pytest.raises(TypeError, match="must be a torch.nn.Module or a callable"):
        probe(3)
    with pytest.raises(ParameterError, match="n_samples=8 must be an integer >= 16"):
        probe(conv, n_samples=8)
    with pytest.raises(ParameterError, match="rtol=0.0 must be a finite number > 0"):
        probe(conv, rtol=0.0)
    with pytest.raises(ParameterError, match="must accept real signals"):
        probe(torch.nn.Linear(3, 3))
    with pytest.raises(ParameterError, match="must return one tensor"):
        probe(lambda x: (x, x))
    with pytest.raises(ParameterError, match="must respond to a signal"):
        probe(lambda x: 0 * x)


def test_probe_groups_needs_three_dimensional_outputs():
    with pytest.raises(ParameterError, match="must return \\(batch, channels, frames\\)"):
        probe_groups(lambda x: [x], name="flat")
