"""The wavelet bank against librosa.filters.wavelet."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest

from fbinit.banks.wavelet import wavelet
from fbinit.errors import ParameterError

SR = 16000.0


def librosa_wavelets(n_filters, fmin, bins_per_octave=12, gamma=0.0):
    freqs = librosa.cqt_frequencies(n_filters, fmin=fmin, bins_per_octave=bins_per_octave)
    return librosa.filters.wavelet(
        freqs=freqs, sr=SR, pad_fft=True, norm=1, dtype=np.complex128, gamma=gamma
    )


@pytest.mark.parametrize(
    ("n_filters", "fmin", "bins_per_octave", "gamma"),
    [(48, 400.0, 12, 0.0), (24, 400.0, 12, 30.0), (12, 200.0, 4, 0.0)],
)
def test_taps_equal_librosa_when_they_fit(n_filters, fmin, bins_per_octave, gamma):
    # librosa pads to a power of two with t = 0 at its middle; with kernel_size equal to
    # that length our bank is librosa's array itself.
    expected, lengths = librosa_wavelets(n_filters, fmin, bins_per_octave, gamma)
    kernel_size = expected.shape[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bank = wavelet(
            n_filters,
            kernel_size,
            sample_rate=SR,
            fmin=fmin,
            bins_per_octave=bins_per_octave,
            gamma=gamma,
        )
    np.testing.assert_array_equal(bank.weights.numpy(), expected)
    # norm=1: each wavelet has unit L1 norm
    np.testing.assert_allclose(np.abs(expected).sum(axis=1), 1.0, rtol=1e-12)
    if gamma > 0:  # VQT filters are shorter than CQT filters
        cqt_lengths = librosa_wavelets(n_filters, fmin, bins_per_octave)[1]
        assert np.all(lengths < cqt_lengths)


@pytest.mark.parametrize("kernel_size", [1001, 1025, 1200])
def test_phase_origin_at_middle_tap(kernel_size):
    # t = 0 of w_j(t) = v(t) exp(2 pi i f_j t / sr) / norm sits at tap kernel_size // 2:
    # that tap is real and positive, and the next one has phase 2 pi f_j / sr.
    freqs = librosa.cqt_frequencies(36, fmin=400.0)
    w = wavelet(36, kernel_size, sample_rate=SR, fmin=400.0).weights.numpy()
    c = kernel_size // 2
    assert np.all(w[:, c].real > 0)
    np.testing.assert_allclose(np.angle(w[:, c]), 0.0, atol=1e-12)
    step = np.angle(w[:, c + 1] * np.conj(w[:, c]))
    np.testing.assert_allclose(step, 2 * np.pi * freqs / SR, atol=1e-12)
    # and the taps are librosa's (its power-of-two stack has t = 0 in its middle)
    expected, _ = librosa_wavelets(36, 400.0)
    start = c - expected.shape[-1] // 2
    kept = w[:, max(start, 0) : start + expected.shape[-1]]
    np.testing.assert_array_equal(kept, expected[:, max(-start, 0) :][:, : kept.shape[-1]])


def test_truncation_warns_and_crops_symmetrically():
    expected, lengths = librosa_wavelets(36, 100.0)
    kernel_size = 1024
    match = r"wavelet: \d+ of 36 filters do not fit kernel_size=1024"
    with pytest.warns(UserWarning, match=match) as rec:
        bank = wavelet(36, kernel_size, sample_rate=SR, fmin=100.0)
    c = expected.shape[-1] // 2
    np.testing.assert_array_equal(
        bank.weights.numpy(), expected[:, c - kernel_size // 2 : c + kernel_size // 2]
    )
    # the warning counts the wavelets with a nonzero tap outside the kernel
    outside = np.ones(expected.shape[-1], dtype=bool)
    outside[c - kernel_size // 2 : c + kernel_size // 2] = False
    n_cropped = int(np.any(expected[:, outside] != 0, axis=1).sum())
    assert 0 < n_cropped < 36
    assert f"{n_cropped} of 36 filters" in str(rec[0].message)
    assert np.all(lengths[:n_cropped] > kernel_size - 2)


def test_single_filter_uses_equal_tempered_bandwidth():
    # like librosa.vqt with one bin: alpha = (r^2 - 1) / (r^2 + 1), r = 2^(1/B)
    one = wavelet(1, 2048, sample_rate=SR, fmin=440.0).weights.numpy()
    many = wavelet(12, 2048, sample_rate=SR, fmin=440.0).weights.numpy()
    np.testing.assert_allclose(one[0], many[0], rtol=0, atol=1e-15)


def test_band_spans_the_passbands():
    bank = wavelet(48, 1024, sample_rate=SR, fmin=400.0)
    freqs = librosa.cqt_frequencies(48, fmin=400.0)
    _, f_cutoff = librosa.filters.wavelet_lengths(freqs=freqs, sr=SR)
    assert bank.band[1] == pytest.approx(f_cutoff)
    # lower edge mirrors the upper one: f (1 - a), with f_cutoff = f_top (1 + a)
    a = f_cutoff / freqs[-1] - 1
    assert bank.band[0] == pytest.approx(400.0 * (1 - a))
    assert 0 < bank.band[0] < 400.0


def test_wavelet_validation():
    with pytest.raises(ParameterError, match=r"n_filters=96 must be small enough"):
        wavelet(96, 1024, sample_rate=SR, fmin=100.0)
    with pytest.raises(ParameterError, match=r"gamma=-1.0 must be a finite number >= 0"):
        wavelet(8, 1024, sample_rate=SR, fmin=400.0, gamma=-1.0)
    with pytest.raises(ParameterError, match=r"bins_per_octave=0 must be an integer >= 1"):
        wavelet(8, 1024, sample_rate=SR, fmin=400.0, bins_per_octave=0)
    with pytest.raises(ParameterError, match=r"filter_scale=0.0 must be a finite number > 0"):
        wavelet(8, 1024, sample_rate=SR, fmin=400.0, filter_scale=0.0)
