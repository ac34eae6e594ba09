"""SincFrontend against asteroid-filterbanks' ParamSincFB and SincNet's formulas."""

import math

import numpy as np
import pytest
import torch

from fbinit import ParameterError
from fbinit.frontends import SincFrontend


def sincnet_fast_filters(low_param, band_param, kernel_size, sample_rate, min_low, min_band):
    """SincNet's SincConv_fast.forward in numpy (its half window included)."""
    low = min_low + np.abs(low_param)
    high = np.clip(low + min_band + np.abs(band_param), min_low, sample_rate / 2)
    band = high - low
    half = int(kernel_size / 2)
    n_lin = np.linspace(0, kernel_size / 2 - 1, half)
    window = 0.54 - 0.46 * np.cos(2 * math.pi * n_lin / kernel_size)
    n = 2 * math.pi * np.arange(-(kernel_size - 1) / 2, 0) / sample_rate
    left = (np.sin(high[:, None] * n) - np.sin(low[:, None] * n)) / (n / 2) * window
    filters = np.concatenate([left, 2 * band[:, None], left[:, ::-1]], axis=1)
    return filters / (2 * band[:, None])


def test_matches_asteroid_param_sinc_cos_half():
    from asteroid_filterbanks import ParamSincFB

    peer = ParamSincFB(80, 251, stride=1, sample_rate=16000.0)  # 40 bands: 40 cos + 40 sin
    cos_half = peer.filters()[:40, 0].detach().double().numpy()
    ours = SincFrontend(40, 251, gain="peak", fmin=30.0).double()
    w = ours.impulse_responses().detach().numpy()
    # asteroid initialises in float32: the cutoffs agree to ~1e-7 relative
    np.testing.assert_allclose(w, cos_half, rtol=0, atol=2e-5)
    np.testing.assert_allclose(
        ours.low_hz.detach().numpy(), peer.low_hz_.detach().double().numpy()[:, 0], rtol=1e-6
    )


def test_matches_sincnet_reference_up_to_its_half_window():
    # SincNet samples its half Hamming window at n = linspace(0, K/2 - 1, K//2) / K, which
    # differs from the symmetric Hamming window by at most 2.7e-5 at K = 251
    ours = SincFrontend.sincnet().double()
    expected = sincnet_fast_filters(
        ours.low_hz.detach().numpy(), ours.band_hz.detach().numpy(), 251, 16000.0, 50.0, 50.0
    )
    w = ours.impulse_responses().detach().numpy()
    np.testing.assert_allclose(w, expected, rtol=0, atol=5e-5)
    assert np.allclose(w[:, 125], 1.0)  # SincNet's normalisation: unit centre tap


def test_sincnet_preset_setting():
    # Ravanelli & Bengio 2018 (SincNet cfg and SincConv_fast): 80 filters x 251 taps at
    # 16 kHz, stride 1, no padding, min_low_hz 50, min_band_hz 50, mel init from 30 Hz to
    # sr/2 - 100 Hz, Hamming window
    sn = SincFrontend.sincnet()
    assert (sn.n_filters, sn.kernel_size, sn.stride, sn.padding) == (80, 251, 1, "valid")
    assert (sn.min_low_hz, sn.min_band_hz, sn.gain) == (50.0, 50.0, "peak")
    edges = np.append(sn.low_hz.detach().numpy(), float((sn.low_hz[-1] + sn.band_hz[-1]).detach()))
    mel = 2595 * np.log10(1 + edges / 700)
    np.testing.assert_allclose(np.diff(mel), np.diff(mel)[0], rtol=1e-4)
    np.testing.assert_allclose([edges[0], edges[-1]], [30.0, 7900.0], rtol=1e-6)
    assert sn.modulus is None and sn.pooling is None and sn.compression is None


def test_unit_gain_passband():
    frontend = SincFrontend(3, 401).double()
    low, high = (c.detach().numpy() for c in frontend.cutoffs())
    w = frontend.impulse_responses().detach().numpy()
    centre = (low + high) / 2
    t = np.arange(401) - 200
    gain = np.abs(np.einsum("jt,jt->j", w, np.exp(-2j * np.pi * centre[:, None] * t / 16000)))
    wide = (high - low) > 500
    np.testing.assert_allclose(gain[wide], 1.0, atol=0.02)


@pytest.mark.parametrize("gain", ["unit", "peak"])
def test_finite_with_gradients_at_every_cutoff(gain):
    frontend = SincFrontend(5, 33, min_low_hz=0.0, min_band_hz=10.0, gain=gain).double()
    with torch.no_grad():
        # low at 0, at Nyquist, beyond it; a zero and a huge band
        frontend.low_hz.copy_(torch.tensor([0.0, 8000.0, 12000.0, 100.0, 7990.0]))
        frontend.band_hz.copy_(torch.tensor([8000.0, 0.0, 50.0, 0.0, 1e6]))
    w = frontend.impulse_responses()
    w.square().sum().backward()
    assert bool(torch.isfinite(w).all())
    assert bool(torch.isfinite(frontend.low_hz.grad).all())
    assert bool(torch.isfinite(frontend.band_hz.grad).all())
    low, high = frontend.cutoffs()
    assert bool((low >= 0).all()) and bool((high <= 8000).all()) and bool((high > low).all())
    unit = SincFrontend(2, 33, min_low_hz=0.0, min_band_hz=0.0).double()
    with torch.no_grad():
        unit.band_hz.zero_()
    zero_band = unit.impulse_responses()
    zero_band.sum().backward()
    assert float(zero_band.detach().abs().max()) == 0.0 and bool(
        torch.isfinite(unit.low_hz.grad).all()
    )


def test_sinc_frontend_errors_say_why():
    with pytest.raises(ParameterError, match=r"kernel_size=250 must be odd: a sinc band-pass is"):
        SincFrontend(80, 250)
    with pytest.raises(ParameterError, match=r"min_band_hz=0.0 must be > 0 with gain='peak'"):
        SincFrontend(8, 33, min_band_hz=0.0, gain="peak")
    with pytest.raises(ParameterError, match=r"min_low_hz \+ min_band_hz = 9000.0 must be below"):
        SincFrontend(8, 33, min_low_hz=4000.0, min_band_hz=5000.0)
    with pytest.raises(ParameterError, match=r"gain='max' must be one of 'unit', 'peak'"):
        SincFrontend(8, 33, gain="max")
