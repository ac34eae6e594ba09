"""The gammatone bank against scipy.signal.gammatone and the ERB scale."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal
import scipy.special

from fbinit.banks.gammatone import erb_frequencies, gammatone
from fbinit.errors import ParameterError

SR = 16000.0


def erb_hz(f):
    return 24.7 * (4.37e-3 * f + 1)  # Glasberg & Moore (1990), eq. 3


@pytest.mark.parametrize("order", [2, 4])
def test_taps_equal_scipy(order):
    bank = gammatone(12, 300, sample_rate=SR, fmin=500.0, fmax=6000.0, order=order)
    freqs = erb_frequencies(12, 500.0, 6000.0)
    for j, f in enumerate(freqs):
        b, a = scipy.signal.gammatone(f, "fir", order=order, numtaps=300, fs=SR)
        assert list(a) == [1.0]
        np.testing.assert_allclose(bank.weights[j].numpy(), b, rtol=1e-13, atol=0)


def test_erb_spacing_matches_glasberg_moore():
    # ERB-number of Glasberg & Moore (1990): 21.4 log10(1 + 0.00437 f); consecutive
    # centres are equally spaced on it (scipy's ERB constants agree to 1e-4).
    freqs = erb_frequencies(30, 50.0, 7000.0)
    assert freqs[0] == pytest.approx(50.0) and freqs[-1] == pytest.approx(7000.0)
    steps = np.diff(21.4 * np.log10(1 + 4.37e-3 * freqs))
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-4)
    assert erb_frequencies(1, 123.0, 456.0).tolist() == [123.0]


def test_default_fmax_puts_top_erb_band_at_nyquist():
    bank = gammatone(16, 512, sample_rate=SR, fmin=500.0)
    # the highest centre f satisfies f + ERB(f) / 2 = SR / 2 (scipy's ERB constants)
    f = (SR / 2 - 24.7 / 2) / (1 + 1 / (2 * 9.26449))
    assert f + (f / 9.26449 + 24.7) / 2 == pytest.approx(SR / 2, rel=1e-12)
    assert bank.band == (pytest.approx(500.0 - erb_hz(500.0) / 2, rel=1e-4), SR / 2)
    top = scipy.signal.gammatone(f, "fir", numtaps=512, fs=SR)[0]
    np.testing.assert_allclose(bank.weights[-1].numpy(), top, rtol=1e-10, atol=1e-15)


def test_spectral_peaks_at_centre_frequencies():
    n_fft = kernel_size = 4096  # bins of 3.9 Hz, every filter decays within the kernel
    bank = gammatone(24, kernel_size, sample_rate=SR, fmin=100.0)
    freqs = erb_frequencies(24, 100.0, (SR / 2 - 12.35) / (1 + 1 / (2 * 9.26449)))
    response = np.abs(np.fft.rfft(bank.weights.numpy(), n=n_fft))
    peaks = response.argmax(axis=1) * SR / n_fft
    # away from DC and Nyquist (two ERBs), where the mirror image does not bend the peak
    inside = (freqs - 2 * erb_hz(freqs) > 0) & (freqs + 2 * erb_hz(freqs) < SR / 2)
    assert inside.sum() >= 18
    assert np.all(np.abs(peaks - freqs)[inside] <= SR / n_fft)
    # scipy scales for unit gain at the centre: within 1% there
    np.testing.assert_allclose(response.max(axis=1)[inside], 1.0, atol=0.01)


@pytest.mark.parametrize(("fc", "kernel_size"), [(50.0, 512), (200.0, 256), (200.0, 512)])
def test_tail_criterion_agrees_with_measured_tail(fc, kernel_size):
    # the closed form Q(2n - 1, 4 pi b T / sr) is the envelope's tail energy; the sampled,
    # modulated response's measured tail agrees within a factor 2 where it matters
    long = scipy.signal.gammatone(fc, "fir", numtaps=40 * kernel_size, fs=SR)[0]
    measured = np.sum(long[kernel_size:] ** 2) / np.sum(long**2)
    b = 1.019 * (fc / 9.26449 + 24.7)
    closed = scipy.special.gammaincc(7, 4 * np.pi * b * kernel_size / SR)
    assert 0.5 < closed / measured < 2.0


def test_warns_when_response_does_not_decay_in_kernel():
    with pytest.warns(UserWarning, match=r"gammatone: \d+ of 16 filters do not fit") as rec:
        gammatone(16, 128, sample_rate=SR, fmin=50.0)
    assert rec[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gammatone(16, 2048, sample_rate=SR, fmin=50.0)


def test_gammatone_validation():
    with pytest.raises(ParameterError, match=r"fmin=0.0 must be > 0 for a gammatone filter"):
        gammatone(8, 256, sample_rate=SR, fmin=0.0)
    with pytest.raises(ParameterError, match=r"fmax=8000.0 must be < sample_rate / 2 = 8000.0"):
        gammatone(8, 256, sample_rate=SR, fmax=8000.0)
    with pytest.raises(ParameterError, match=r"order=25 must be an integer in \[1, 24\]"):
        gammatone(8, 256, sample_rate=SR, order=25)
    with pytest.raises(ParameterError, match=r"order=0 must be an integer >= 1"):
        gammatone(8, 256, sample_rate=SR, order=0)
