"""The seeded offline datasets of the distillation teachers."""

from __future__ import annotations

import numpy as np
import pytest

from fbinit.bench import data
from fbinit.errors import ParameterError


def test_log_sines_peak_at_drawn_frequency_below_nyquist():
    sr, n = 8000.0, 4096
    x = data.log_sines(32, n, sample_rate=sr, fmin=50.0, fmax=3900.0, split="train", seed=3)
    freqs = data.log_sine_frequencies(
        32, fmin=50.0, fmax=3900.0, sample_rate=sr, split="train", seed=3
    )
    assert x.dtype == np.float32 and x.shape == (32, n)
    np.testing.assert_allclose(np.sqrt((x.astype(float) ** 2).mean(1)), 1.0, rtol=1e-5)
    spec = np.abs(np.fft.rfft(x * np.hanning(n), axis=1))
    peak = spec.argmax(1) * sr / n
    # no aliasing: the peak is the drawn frequency (one bin = sr / n)
    np.testing.assert_allclose(peak, freqs, atol=sr / n)
    assert freqs.max() < sr / 2 and freqs.min() >= 50.0


def test_splits_and_seeds():
    kw = {"sample_rate": 8000.0, "fmin": 100.0, "fmax": 2000.0}
    a = data.harmonic_tones(4, 512, split="train", seed=1, **kw)
    b = data.harmonic_tones(4, 512, split="train", seed=1, **kw)
    c = data.harmonic_tones(4, 512, split="test", seed=1, **kw)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(ParameterError, match="split"):
        data.split_seed("valid", 0)


def test_harmonics_and_noise_stay_in_band():
    sr, n = 16000.0, 8192
    freqs = np.fft.rfftfreq(n, 1 / sr)
    x = data.harmonic_tones(16, n, sample_rate=sr, fmin=100.0, fmax=3000.0, seed=0)
    power = np.abs(np.fft.rfft(x * np.hanning(n), axis=1)) ** 2
    above = power[:, freqs > 3100.0].sum(1) / power.sum(1)
    assert above.max() < 1e-4  # every harmonic below fmax, envelope leakage aside
    y = data.noise_bursts(16, n, sample_rate=sr, fmin=200.0, fmax=4000.0, seed=0)
    power = np.abs(np.fft.rfft(y, axis=1)) ** 2
    outside = power[:, (freqs < 150.0) | (freqs > 4500.0)].sum(1) / power.sum(1)
    assert outside.max() < 2e-2  # the burst envelope spreads the band edges a little
    assert y.dtype == np.float32 and np.isfinite(y).all()


def test_band_must_be_below_nyquist():
    with pytest.raises(ParameterError, match="sample_rate / 2"):
        data.log_sines(2, 64, sample_rate=8000.0, fmin=10.0, fmax=4000.0)


def test_speech_segments_are_speech_like():
    x = data.speech_segments(6, 2048, sample_rate=16000, split="test", seed=0)
    assert x.shape == (6, 2048) and x.dtype == np.float32
    np.testing.assert_allclose(np.sqrt((x.astype(float) ** 2).mean(1)), 1.0, rtol=1e-4)
    assert not np.allclose(x, data.speech_segments(6, 2048, split="train", seed=0))
