"""SincNet band-pass filters: windowed-sinc oracle, responses, gradients."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from fbinit.banks.sinc import sinc, sinc_impulse_responses
from fbinit.errors import ParameterError

SR = 16000.0


def band_edges(n_filters, fmin=30.0, fmax=SR / 2, min_band_hz=50.0):
    edges = librosa.mel_frequencies(n_filters + 1, fmin=fmin, fmax=fmax, htk=True)
    low = edges[:-1]
    return low, np.minimum(low + np.maximum(np.diff(edges), min_band_hz), SR / 2)


@pytest.mark.parametrize(("n_filters", "kernel_size"), [(80, 251), (20, 101), (8, 1)])
def test_taps_equal_scipy_firwin(n_filters, kernel_size):
    # firwin without scaling is the Hamming-windowed difference of ideal low-passes
    bank = sinc(n_filters, kernel_size, sample_rate=SR)
    low, high = band_edges(n_filters)
    for j in range(n_filters):
        if high[j] >= SR / 2:
            continue  # firwin needs cutoffs below Nyquist
        expected = scipy.signal.firwin(
            kernel_size, [low[j], high[j]], pass_zero=False, window="hamming", scale=False, fs=SR
        )
        np.testing.assert_allclose(bank.weights[j].numpy(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(("n_filters", "kernel_size"), [(8, 251), (80, 1001), (20, 101)])
def test_passband_and_stopband(n_filters, kernel_size):
    # Hamming: peak side lobe -53 dB (0.0022) and transition ~3.3 SR / T. For bands at least
    # 4 SR / T wide, the centre gain is within 0.01 of 1 and the response is below 0.01
    # further than 2 SR / T from the band edges.
    n_fft = 2**15
    w = sinc(n_filters, kernel_size, sample_rate=SR).weights.numpy()
    response = np.abs(np.fft.rfft(w, n=n_fft))
    freqs = np.arange(n_fft // 2 + 1) * SR / n_fft
    low, high = band_edges(n_filters)
    width = SR / kernel_size
    wide = np.flatnonzero(high - low >= 4 * width)
    assert wide.size >= 4
    for j in wide:
        centre = int(round((low[j] + high[j]) / 2 * n_fft / SR))
        assert abs(response[j, centre] - 1) <= 0.01
        far = (freqs < low[j] - 2 * width) | (freqs > high[j] + 2 * width)
        if far.any():
            assert response[j, far].max() <= 0.01


def test_symmetric_finite_and_centre_tap():
    w = sinc(80, 251, sample_rate=SR).weights
    assert bool(torch.isfinite(w).all())
    torch.testing.assert_close(w, torch.flip(w, dims=(-1,)), rtol=0, atol=0)
    low, high = band_edges(80)
    np.testing.assert_allclose(w[:, 125].numpy(), 2 * (high - low) / SR, rtol=1e-14)
    # a band starting at 0 Hz (a low-pass) is finite too
    lp = sinc_impulse_responses(torch.zeros(1, dtype=torch.float64), torch.ones(1) * 500.0, 11, SR)
    assert bool(torch.isfinite(lp).all())


def test_min_band_widens_narrow_bands():
    w = sinc(200, 251, sample_rate=SR, min_band_hz=50.0).weights.numpy()
    widths = w[:, 125] * SR / 2  # centre tap 2 (f2 - f1) / SR
    edges = librosa.mel_frequencies(201, fmin=30.0, fmax=SR / 2, htk=True)
    narrow = np.diff(edges) < 50.0
    assert narrow.any() and not narrow.all()
    np.testing.assert_allclose(widths[narrow], 50.0, rtol=1e-12)
    np.testing.assert_allclose(widths[~narrow], np.diff(edges)[~narrow], rtol=1e-12)


def test_gradcheck_through_centre_tap():
    low = torch.tensor([300.0, 2000.0], dtype=torch.float64, requires_grad=True)
    band = torch.tensor([200.0, 1500.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: sinc_impulse_responses(a, b, 5, SR), (low, band))
    out = sinc_impulse_responses(low, band, 5, SR)
    out[:, 2].sum().backward()  # d(centre)/d(band) = 2 / SR, d/d(low) = 0
    torch.testing.assert_close(band.grad, torch.full((2,), 2 / SR, dtype=torch.float64))
    torch.testing.assert_close(low.grad, torch.zeros(2, dtype=torch.float64))


def test_sinc_validation():
    with pytest.raises(ParameterError, match=r"kernel_size=250 must be odd for a symmetric sinc"):
        sinc(80, 250, sample_rate=SR)
    one = torch.ones(2, dtype=torch.float64)
    with pytest.raises(ParameterError, match=r"kernel_size=4 must be odd for a symmetric sinc"):
        sinc_impulse_responses(one, one, 4, SR)
    with pytest.raises(ParameterError, match=r"band_hz.shape=\(1,\) must equal low_hz.shape"):
        sinc_impulse_responses(one, one[:1], 5, SR)
    with pytest.raises(ParameterError, match=r"low_hz must hold only finite values"):
        sinc_impulse_responses(one * float("inf"), one, 5, SR)
    with pytest.raises(TypeError, match=r"band_hz must be real, got dtype torch.complex128"):
        sinc_impulse_responses(one, torch.ones(2, dtype=torch.complex128), 5, SR)
    with pytest.raises(TypeError, match=r"low_hz must hold real numbers, got dtype <U1"):
        sinc_impulse_responses(np.array(["a", "b"]), one, 5, SR)
    with pytest.raises(TypeError, match=r"low_hz must hold numbers \(a meta tensor"):
        sinc_impulse_responses(torch.ones(2, device="meta"), one, 5, SR)
    as_int = sinc_impulse_responses(torch.ones(2, dtype=torch.int64), one, 5, SR)
    assert torch.equal(as_int, sinc_impulse_responses(one, one, 5, SR))
    with pytest.raises(ParameterError, match=r"sample_rate=0.0 must be a finite number > 0"):
        sinc_impulse_responses(one, one, 5, 0.0)
    with pytest.raises(ParameterError, match=r"min_band_hz=-1.0 must be a finite number >= 0"):
        sinc(8, 51, sample_rate=SR, min_band_hz=-1.0)
