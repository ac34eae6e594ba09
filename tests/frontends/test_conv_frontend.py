"""ConvFrontend: its initialisations, from_filterbank and the TD-filterbanks preset."""

import math
import warnings

import numpy as np
import pytest
import torch

from fbinit import ParameterError, condition_number, frame_bounds
from fbinit.banks import gabor, sinc
from fbinit.frontends import ConvFrontend, FIRPooling, LogCompression


def test_gaussian_init_variance_and_seed():
    frontend = ConvFrontend(40, 401, seed=3)
    w = frontend.weight.detach().double()
    # sigma^2 = 1 / (J T) = 1 / 16040; 16040 taps give the variance to ~1.1% (sd sqrt(2/n))
    assert float(w.var()) == pytest.approx(1 / (40 * 401), rel=0.05)
    assert abs(float(w.mean())) < 5 / math.sqrt(40 * 401) / math.sqrt(40 * 401)
    again = ConvFrontend(40, 401, seed=3)
    torch.testing.assert_close(again.weight, frontend.weight)
    other = ConvFrontend(40, 401, generator=torch.Generator().manual_seed(4))
    assert not torch.allclose(other.weight, frontend.weight)


def test_kaiming_init_is_pytorch_conv1d_default():
    torch.manual_seed(7)
    conv = torch.nn.Conv1d(1, 16, 33, bias=False)
    frontend = ConvFrontend(16, 33, init="kaiming", generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(frontend.weight, conv.weight[:, 0].detach())
    bound = 1 / math.sqrt(33)  # U(-1/sqrt(T), 1/sqrt(T)), variance 1/(3T)
    assert float(frontend.weight.detach().abs().max()) <= bound


@pytest.mark.parametrize("stride", [1, 4])
def test_tight_init_is_a_tight_frame_at_its_stride(stride):
    gauss = ConvFrontend(16, 32, stride=stride, seed=3)
    tight = ConvFrontend(16, 32, stride=stride, init="tight", tight_tol=1e-3, seed=3)
    assert tight.impulse_responses().shape == (16, 32) and tight.stride == stride
    kappa = float(condition_number(tight, n_fft=256))
    assert kappa <= 1.001 < float(condition_number(gauss, n_fft=256))
    # still nearly tight on a finer grid, and energy preserving (mean eigenvalue 1)
    assert float(condition_number(tight, n_fft=4096)) < 1.01
    A, B = frame_bounds(tight, n_fft=256)
    assert 0.99 < float(A) <= 1.0 <= float(B) < 1.01


@pytest.mark.parametrize("complex_bank", [False, True])
def test_from_filterbank_keeps_responses_stride_and_band(complex_bank):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bank = (
            gabor(8, 129, sample_rate=8000.0, fmax=3900.0, stride=4)
            if complex_bank
            else sinc(8, 129, sample_rate=8000.0, stride=4)
        )
    frontend = ConvFrontend.from_filterbank(bank)
    w = frontend.impulse_responses()
    assert w.is_complex() == complex_bank
    np.testing.assert_allclose(w.detach().numpy(), bank.weights.numpy(), rtol=1e-6, atol=1e-7)
    assert (frontend.stride, frontend.sample_rate, frontend.band) == (4, 8000.0, bank.band)
    names = {n for n, _ in frontend.named_parameters()}
    assert names == ({"weight", "weight_imag"} if complex_bank else {"weight"})
    fixed = ConvFrontend.from_filterbank(bank, learnable=False, stride=2)
    assert not list(fixed.parameters()) and fixed.stride == 2
    # any filterbank-like object: another frontend, a Conv1d
    copy = ConvFrontend.from_filterbank(frontend)
    torch.testing.assert_close(copy.impulse_responses(), w)
    conv = torch.nn.Conv1d(1, 3, 5, stride=2, bias=False)
    from_conv = ConvFrontend.from_filterbank(conv)
    torch.testing.assert_close(from_conv.weight, conv.weight[:, 0].detach())
    assert from_conv.stride == 2


def test_td_filterbank_setting():
    # Zeghidour et al. 2018 (tdfbanks code): 40 complex filters x 401 taps (25 ms + 1) at
    # 16 kHz, stride 1, mel-Gabor init over 0-8000 Hz (n_fft 512), squared modulus,
    # per-channel learnable low-pass 401 taps stride 160 (10 ms), squared Hann init, no
    # padding; log(1 + x)
    td = ConvFrontend.td_filterbank()
    w = td.impulse_responses()
    assert w.is_complex() and tuple(w.shape) == (40, 401) and td.stride == 1
    assert td.modulus == "power" and td.sample_rate == 16000.0
    assert isinstance(td.pooling, FIRPooling) and td.pooling.stride == 160
    hann = np.hanning(401) ** 2
    np.testing.assert_allclose(td.pooling.taps.detach().numpy(), np.stack([hann] * 40), atol=1e-7)
    assert td.pooling.taps.requires_grad and td.weight.requires_grad
    assert isinstance(td.compression, LogCompression) and td.compression.offset == 1.0
    # the Gabor centres follow the mel scale over 0-8000 Hz: peaks of the responses
    spectrum = torch.fft.fft(w.detach().to(torch.complex128), n=512).abs()
    peaks = spectrum[:, :257].argmax(dim=1).numpy()
    assert np.all(np.diff(peaks) >= 0) and peaks[-1] > 200
    y = td(torch.zeros(1, 16000))
    assert tuple(y.shape) == (1, 40, 98)  # (16000 - 401) // 160 + 1 frames, as tdfbanks


def test_conv_frontend_errors_name_the_rule():
    with pytest.raises(ParameterError, match=r"init='xavier' must be one of 'gaussian', 'kaiming'"):
        ConvFrontend(4, 8, init="xavier")
    with pytest.raises(ParameterError, match=r"n_filters=3 must be >= stride=4 for init='tight'"):
        ConvFrontend(3, 8, stride=4, init="tight")
    with pytest.raises(ParameterError, match=r"seed and generator must not be given together"):
        ConvFrontend(4, 8, init="kaiming", seed=1, generator=torch.Generator())
    with pytest.raises(ParameterError, match=r"n_filters=0 must be an integer >= 1"):
        ConvFrontend(0, 8)
    with pytest.raises(ParameterError, match=r"must be \(n_filters, kernel_size\): one bank"):
        ConvFrontend.from_filterbank(torch.zeros(2, 3, 8))
    with pytest.raises(ParameterError, match=r"stride=\(1, 2\) must be one int"):
        from fbinit import Filterbank

        ConvFrontend.from_filterbank(Filterbank(torch.eye(2), stride=[1, 2]))
    with pytest.raises(ParameterError, match=r"projection needs a modulus"):
        ConvFrontend(4, 8, projection=torch.ones(2, 4))
