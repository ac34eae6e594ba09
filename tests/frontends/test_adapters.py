"""Adapters of third-party frontends: each reading predicts the peer's own forward output.

Each test builds the peer's module, reads it with ``fbinit.frontends.adapters.adapt`` and
compares the coefficients the resulting bank predicts (strided correlation with its
kernels, on the input extended by the module's padding) with the module's forward pass.
The peers compute in float32, so the tolerance is a relative 1e-5 in the L2 norm.
"""

from __future__ import annotations

import asteroid_filterbanks as af
import murenn
import pytest
import torch
from nnAudio import features as nf

from fbinit import Filterbank, as_filterbank, impulse_responses_of
from fbinit.errors import ParameterError
from fbinit.frontends import Frontend
from fbinit.frontends.adapters import adapt, adapter_for, analysis_coefficients
from fbinit.frontends.adapters.torch_nn import conv1d

RTOL = 1e-5


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


@pytest.fixture
def signal(generator) -> torch.Tensor:
    return torch.randn(2, 1, 3000, generator=generator)


# ------------------------------------------------------------------------- torch.nn


@pytest.mark.parametrize(
    "options",
    [
        {"stride": 1, "padding": 0},
        {"stride": 7, "padding": 12},
        {"stride": 1, "padding": "same"},
        {"stride": 3, "padding": 9, "padding_mode": "reflect"},
        {"stride": 5, "padding": 8, "padding_mode": "circular"},
        {"stride": 2, "dilation": 3, "padding": 4},
    ],
)
def test_conv1d_predicts_its_output(signal, options):
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(1, 6, 25, bias=False, **options)
    adapted = adapt(conv)
    assert adapted.bank.stride == options["stride"]
    with torch.no_grad():
        assert relative(adapted.coefficients(signal), conv(signal)) < RTOL


def test_conv1d_bias_is_left_out_and_grad_is_kept(signal):
    conv = torch.nn.Conv1d(1, 4, 16, stride=4)
    bank = impulse_responses_of(conv)
    assert bank.weights.requires_grad
    bank.weights.square().sum().backward()
    assert conv.weight.grad is not None
    with torch.no_grad():
        assert relative(adapt(conv).coefficients(signal) + conv.bias[:, None], conv(signal)) < RTOL
    fb = as_filterbank(conv)
    assert fb.weights.dtype == torch.float64 and not fb.weights.requires_grad


def test_conv1d_needs_one_input_channel():
    with pytest.raises(ParameterError, match="in_channels=2 must be 1"):
        conv1d(torch.nn.Conv1d(2, 4, 8))


@pytest.mark.parametrize("padding", [0, 6])
def test_conv_transpose1d_is_the_adjoint_of_its_bank(generator, padding):
    torch.manual_seed(0)
    layer = torch.nn.ConvTranspose1d(5, 1, 32, stride=8, padding=padding, bias=False)
    coefficients = torch.randn(1, 5, 40, generator=generator)
    with torch.no_grad():
        synthesis = layer(coefficients)
    x = torch.randn_like(synthesis)
    analysis = adapt(layer).coefficients(x)
    assert analysis.shape == coefficients.shape
    lhs, rhs = float((synthesis * x).sum()), float((coefficients * analysis.detach()).sum())
    assert abs(lhs - rhs) <= 1e-5 * abs(lhs) + 1e-5


def test_conv_transpose1d_errors():
    with pytest.raises(ParameterError, match="out_channels=2 must be 1"):
        adapt(torch.nn.ConvTranspose1d(4, 2, 8))
    with pytest.raises(ParameterError, match="output_padding=1 must be 0"):
        adapt(torch.nn.ConvTranspose1d(4, 1, 8, stride=2, output_padding=1))


def test_subclasses_find_their_base_class_adapter():
    class MyConv(torch.nn.Conv1d):
        pass

    assert adapter_for(MyConv(1, 2, 3)) is conv1d
    assert adapter_for(torch.nn.ReLU()) is None


# ------------------------------------------------------------------ asteroid-filterbanks


def _asteroid_output(adapted, coefficients):
    """The encoder's layout: complex filters as real parts, then imaginary parts."""
    if coefficients.is_complex():
        return torch.cat([coefficients.real, coefficients.imag], dim=1)
    return coefficients


@pytest.mark.parametrize(
    "make, n_bands",
    [
        (lambda: af.FreeFB(16, 64, stride=16), 16),
        (lambda: af.ParamSincFB(20, 51, stride=10, sample_rate=8000.0), 10),
        (lambda: af.AnalyticFreeFB(16, 64, stride=16), 8),
        (lambda: af.STFTFB(64, 64, stride=16), 33),
    ],
    ids=["FreeFB", "ParamSincFB", "AnalyticFreeFB", "STFTFB"],
)
def test_asteroid_encoder_predicts_its_output(signal, make, n_bands):
    torch.manual_seed(0)
    fb = make()
    encoder = af.Encoder(fb, padding=5)
    adapted = adapt(encoder)
    assert adapted.bank.n_filters == n_bands and adapted.bank.stride == fb.stride
    assert adapted.bank.batch_shape == ()  # one bank, not n_filters banks of one filter
    with torch.no_grad():
        predicted = _asteroid_output(adapted, adapted.coefficients(signal))
        assert relative(predicted, encoder(signal)) < RTOL
    # the bare filterbank is the same bank
    assert torch.equal(adapt(fb).bank.weights, adapted.bank.weights)


def test_asteroid_paramsinc_halves_are_cos_and_sin():
    fb = af.ParamSincFB(80, 251, stride=160, sample_rate=16000.0)
    bank = as_filterbank(fb)
    filters = fb.filters()[:, 0].double()
    assert bank.n_filters == 40 and bank.kernel_size == 251 and bank.stride == 160
    assert torch.equal(bank.weights.real, filters[:40].detach())
    assert torch.equal(bank.weights.imag, filters[40:].detach())
    assert bank.sample_rate == 16000.0


def test_asteroid_melgram_reads_its_mel_matrix(signal):
    encoder = af.Encoder(af.MelGramFB(64, 64, stride=16, n_mels=10, sample_rate=8000.0))
    adapted = adapt(encoder)
    assert adapted.power == 1.0 and adapted.projection.shape == (10, 33)
    with torch.no_grad():
        c = adapted.coefficients(signal)
        predicted = adapted.projection @ (c.abs() ** 2 + 1e-8).sqrt()  # asteroid's magnitude
        assert relative(predicted, encoder(signal)) < RTOL


def test_asteroid_with_own_pre_analysis_is_probed(signal):
    encoder = af.Encoder(af.TorchSTFTFB(64, 64, stride=16))
    adapted = adapt(encoder)
    assert adapted.bank.stride == 16 and adapted.bank.n_filters == 66
    with torch.no_grad():
        predicted, output = adapted.coefficients(signal), encoder(signal)
    # the probe sees the interior; TorchSTFTFB reflects at the ends
    frames = slice(4, min(predicted.shape[-1], output.shape[-1]) - 4)
    assert relative(predicted[..., frames], output[..., frames]) < RTOL


# ----------------------------------------------------------------------------- nnAudio


@pytest.mark.parametrize("normalization", ["librosa", "convolutional", "wrap"])
@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])
def test_nnaudio_cqt_predicts_its_output(signal, normalization, pad_mode):
    cqt = nf.CQT1992v2(
        sr=8000, hop_length=32, fmin=200, n_bins=24, pad_mode=pad_mode, verbose=False
    )
    adapted = adapt(cqt, normalization_type=normalization)
    assert adapted.bank.n_filters == 24 and adapted.bank.stride == 32
    with torch.no_grad():
        c = adapted.coefficients(signal)
        output = cqt(signal, output_format="Complex", normalization_type=normalization)
    assert relative(torch.stack([c.real, c.imag], dim=-1), output) < RTOL


def test_nnaudio_cqt_kernels_are_scaled_impulse_responses():
    cqt = nf.CQT1992v2(sr=8000, hop_length=32, fmin=200, n_bins=12, verbose=False)
    bank = as_filterbank(cqt)
    scale = cqt.lenghts.double().sqrt()[:, None]
    assert torch.allclose(bank.weights.real, scale * cqt.cqt_kernels_real[:, 0].double())
    assert torch.allclose(bank.weights.imag, -scale * cqt.cqt_kernels_imag[:, 0].double())
    with pytest.raises(ParameterError, match="normalization_type='l2' must be one of"):
        adapt(cqt, normalization_type="l2")


@pytest.mark.parametrize("center", [True, False])
def test_nnaudio_stft_predicts_its_output(signal, center):
    stft = nf.STFT(n_fft=128, hop_length=32, center=center, output_format="Complex", verbose=False)
    adapted = adapt(stft)
    assert adapted.bank.n_filters == 65
    with torch.no_grad():
        c = adapted.coefficients(signal)
        assert relative(torch.stack([c.real, c.imag], dim=-1), stft(signal)) < RTOL


@pytest.mark.parametrize(
    "make",
    [
        lambda: nf.MelSpectrogram(sr=8000, n_fft=128, hop_length=32, n_mels=16, verbose=False),
        lambda: nf.Gammatonegram(sr=8000, n_fft=128, hop_length=32, n_bins=16, verbose=False),
    ],
    ids=["MelSpectrogram", "Gammatonegram"],
)
def test_nnaudio_projected_power_predicts_its_output(signal, make):
    module = make()
    adapted = adapt(module)
    assert adapted.power == 2.0 and adapted.projection.shape == (16, 65)
    with torch.no_grad():
        predicted = adapted.projection @ adapted.coefficients(signal).abs() ** 2
        assert relative(predicted, module(signal)) < RTOL


# ------------------------------------------------------------------------------ murenn


@pytest.fixture(scope="module")
def murenn_layer() -> torch.nn.Module:
    torch.manual_seed(0)
    return murenn.MuReNNDirect(J=3, Q=[3, 2, 2], T=8, in_channels=1)


def test_murenn_is_multirate_with_its_lowpass(murenn_layer):
    bank = adapt(murenn_layer).bank
    assert bank.strides == (2, 2, 2, 4, 4, 8, 8, 8, 8)
    assert bank.is_complex and bank.period == 8
    assert adapt(murenn_layer, lowpass=False).bank.strides == (2, 2, 2, 4, 4, 8, 8)
    single = murenn.MuReNNDirect(J=1, Q=2, T=8, in_channels=1)
    assert adapt(single).bank.strides == (2, 2, 1)


def _interior(coefficients, stride, kernel_size, left, n, margin=0):
    """Frames whose window lies inside the signal (minus ``margin`` frames each side)."""
    first = -(-left // stride) + margin
    last = (n + left - kernel_size) // stride - margin
    return coefficients[..., first : last + 1]


def test_murenn_predicts_its_coefficients_and_output(murenn_layer, signal):
    adapted = adapt(murenn_layer)
    bank = adapted.bank
    left = adapted.padding[0][0]
    x = signal[..., :2048]
    runs = adapted.coefficients(x)
    with torch.no_grad():
        lowpass, bandpass = murenn_layer.dtcwt(x)
        output = murenn_layer(x)  # (batch, 1, sum Q, frames): |.| then low-pass pooling
    row = 0
    octaves = [runs[0], runs[1], runs[2][:, :2]]  # the stride-8 run ends with the low-pass
    for j, (run, stride) in enumerate(zip(octaves, (2, 4, 8), strict=True)):
        with torch.no_grad():
            conv = murenn_layer.conv1d[j]
            direct = torch.complex(conv(bandpass[j].real), conv(bandpass[j].imag))
            assert run.shape[-1] == direct.shape[-1]
            inner = _interior(run, stride, bank.kernel_size, left, 2048)
            ref = _interior(direct, stride, bank.kernel_size, left, 2048)
            assert inner.shape[-1] > 100
            assert relative(inner, ref) < RTOL
            # the module's own pooling on the predicted modulus gives its output
            pooled = murenn_layer.down[j](run.abs())
            q = run.shape[1]
            own = output[:, 0, row : row + q]
            assert (
                relative(
                    _interior(pooled, 8, bank.kernel_size, left, 2048, margin=4),
                    _interior(own, 8, bank.kernel_size, left, 2048, margin=4),
                )
                < RTOL
            )
            row += q
    trees = torch.stack([lowpass[..., 0::2], lowpass[..., 1::2]], dim=1)[:, :, 0]
    inner = _interior(runs[2][:, 2:], 8, bank.kernel_size, left, 2048)
    assert relative(inner, _interior(trees, 8, bank.kernel_size, left, 2048)) < RTOL


def test_murenn_needs_one_input_channel():
    with pytest.raises(ParameterError, match="in_channels=2 must be 1"):
        adapt(murenn.MuReNNDirect(J=2, Q=2, T=4, in_channels=2))


# ----------------------------------------------------------------- analysis_coefficients


def test_analysis_coefficients_of_multirate_bank_runs_by_stride():
    bank = Filterbank(torch.ones(3, 2), stride=[1, 2, 2])
    first, second = analysis_coefficients(bank, torch.arange(6.0)[None])
    assert first.shape == (1, 1, 5) and second.shape == (1, 2, 3)
    assert second[0, 0].tolist() == [1.0, 5.0, 9.0]


def test_analysis_coefficients_errors():
    bank = Filterbank(torch.ones(2, 3))
    with pytest.raises(TypeError, match="bank must be a Filterbank"):
        analysis_coefficients(torch.ones(2, 3), torch.ones(1, 8))
    with pytest.raises(ParameterError, match="must be empty"):
        analysis_coefficients(Filterbank(torch.ones(2, 2, 3)), torch.ones(1, 8))
    with pytest.raises(ParameterError, match="padding mode='wrap' must be one of"):
        analysis_coefficients(bank, torch.ones(1, 8), padding=((1, 1, "wrap"),))
    with pytest.raises(ParameterError, match="must not crop with 'reflect'"):
        analysis_coefficients(bank, torch.ones(1, 8), padding=((-1, 1, "reflect"),))


def test_unknown_objects_are_refused():
    with pytest.raises(TypeError, match="must be a Filterbank"):
        as_filterbank("mel")


def test_impulse_responses_of_frontends_and_tensors():
    class Pair(Frontend):
        def __init__(self):
            super().__init__(sample_rate=8000.0, stride=2, band=(100.0, 3000.0))
            self.weight = torch.nn.Parameter(torch.randn(3, 8))

        def impulse_responses(self):
            return self.weight

    frontend = Pair()
    bank = impulse_responses_of(frontend)
    assert bank.weights is frontend.weight and bank.stride == 2
    assert bank.sample_rate == 8000.0 and bank.band == (100.0, 3000.0)
    single = torch.ones(2, 4, dtype=torch.float32)
    assert impulse_responses_of(single).weights.dtype == torch.float32
    assert as_filterbank(frontend).weights.dtype == torch.float64
