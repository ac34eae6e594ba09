"""The FIR mel bank against librosa's mel triangles."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest

from fbinit.banks.mel import mel
from fbinit.errors import ParameterError

SR = 16000.0


def triangles(n_filters, n_fft, **kwargs):
    return librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_filters, dtype=np.float64, **kwargs)


def full_spectrum(half: np.ndarray, n_fft: int) -> np.ndarray:
    """Hermitian extension of rfft-grid values to the bins k = 0..n_fft-1."""
    mirror = half[:, 1 : (n_fft + 1) // 2][:, ::-1]
    return np.concatenate([half, mirror], axis=1)


CASES = [
    (40, 512, {}),
    (40, 401, {}),  # odd kernel
    (64, 1024, {"htk": True, "norm": None, "fmin": 100.0, "fmax": 7000.0}),
    (20, 256, {"norm": 2.0, "fmin": 300.0}),
]


@pytest.mark.parametrize(("n_filters", "kernel_size", "kwargs"), CASES)
def test_unwindowed_response_equals_librosa(n_filters, kernel_size, kwargs):
    # Without window the FIR filter is the exact inverse DFT of the triangles: its
    # magnitude response on the n_fft grid reproduces them up to FFT round-off.
    bank = mel(n_filters, kernel_size, sample_rate=SR, window=None, **kwargs)
    response = np.abs(np.fft.rfft(bank.weights.numpy(), axis=-1))
    expected = triangles(n_filters, kernel_size, **kwargs)
    np.testing.assert_allclose(response, expected, rtol=0, atol=1e-12 * expected.max())


@pytest.mark.parametrize(("n_filters", "kernel_size", "kwargs"), CASES)
def test_hann_response_is_three_tap_smoothing(n_filters, kernel_size, kwargs):
    # The zero-phase Hann window multiplies the circular response by
    # 1/2 + 1/4 (e^{2 pi i t/N} + e^{-2 pi i t/N}): the spectrum is convolved with
    # (1/4, 1/2, 1/4) on the full N-point grid.
    bank = mel(n_filters, kernel_size, sample_rate=SR, **kwargs)
    response = np.abs(np.fft.rfft(bank.weights.numpy(), axis=-1))
    m = full_spectrum(triangles(n_filters, kernel_size, **kwargs), kernel_size)
    smoothed = 0.25 * np.roll(m, 1, axis=1) + 0.5 * m + 0.25 * np.roll(m, -1, axis=1)
    smoothed = smoothed[:, : kernel_size // 2 + 1]
    np.testing.assert_allclose(response, smoothed, rtol=0, atol=1e-12 * m.max())
    # ... so it departs from the triangles by at most half their largest step per bin
    steps = np.abs(np.diff(m, axis=1, append=m[:, :1]))
    deviation = np.abs(response - m[:, : kernel_size // 2 + 1])
    assert np.all(deviation.max(axis=1) <= 0.5 * steps.max(axis=1) + 1e-12 * m.max())


@pytest.mark.parametrize("kernel_size", [401, 512])
def test_zero_phase_centring(kernel_size):
    # Real, even-symmetric about tap kernel_size // 2 (the unpaired tap 0 of an even
    # kernel is zeroed by the window).
    w = mel(32, kernel_size, sample_rate=SR).weights.numpy()
    c = kernel_size // 2
    t = np.arange(1, kernel_size - c)
    np.testing.assert_allclose(w[:, c + t], w[:, c - t], rtol=0, atol=1e-15)
    if kernel_size % 2 == 0:
        assert np.all(w[:, 0] == 0)
    # the centre tap is the mean of the response: (1/N) sum_k M[k] > 0
    assert np.all(w[:, c] > 0)


def test_short_n_fft_is_zero_padded_and_exact():
    n_fft, kernel_size = 256, 401
    bank = mel(32, kernel_size, sample_rate=SR, n_fft=n_fft, window=None)
    w = bank.weights.numpy()
    c, lo = kernel_size // 2, kernel_size // 2 - n_fft // 2
    assert np.all(w[:, :lo] == 0) and np.all(w[:, lo + n_fft :] == 0)
    # DTFT on the n_fft grid, with the time origin at tap c
    t = np.arange(kernel_size) - c
    k = np.arange(n_fft // 2 + 1)
    dtft = w @ np.exp(-2j * np.pi * np.outer(t, k) / n_fft)
    expected = triangles(32, n_fft)
    np.testing.assert_allclose(dtft.real, expected, rtol=0, atol=1e-12 * expected.max())
    np.testing.assert_allclose(dtft.imag, 0, atol=1e-12 * expected.max())


def test_long_n_fft_warns_when_cropped():
    with pytest.warns(UserWarning, match=r"mel: \d+ of 40 filters do not fit kernel_size=256"):
        mel(40, 256, sample_rate=SR, n_fft=2048)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # responses of wide triangles fit: no warning
        mel(8, 256, sample_rate=SR, n_fft=512, fmin=1000.0)


def test_empty_channels_warn_once_with_our_message():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = mel(128, 64, sample_rate=SR)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "hold no DFT bin at n_fft=64" in messages[0]
    assert caught[0].filename == __file__  # stacklevel=2 points at the caller
    zero = bank.weights.abs().amax(dim=-1) == 0
    assert f"{int(zero.sum())} of 128 channels" in messages[0]
    assert 0 < int(zero.sum()) < 128


def test_mel_validation():
    with pytest.raises(ParameterError, match=r"window='hamming' must be 'hann' or None"):
        mel(8, 64, sample_rate=SR, window="hamming")
    with pytest.raises(ParameterError, match=r"norm='l2' must be 'slaney', None or a number"):
        mel(8, 64, sample_rate=SR, norm="l2")
    with pytest.raises(ParameterError, match=r"n_fft=0 must be an integer >= 1"):
        mel(8, 64, sample_rate=SR, n_fft=0)
