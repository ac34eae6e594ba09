"""The third-octave bank and the four distillation teachers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fbinit.banks import third_octave, third_octave_frequencies
from fbinit.bench.teachers import TEACHERS, teacher
from fbinit.errors import ParameterError


def test_third_octave_nominal_bands():
    fc, lo, hi = third_octave_frequencies(25.0, 20000.0)
    assert len(fc) == 30 and math.isclose(fc[0], 1000 * 2 ** (-16 / 3))
    np.testing.assert_allclose(hi / lo, 2 ** (1 / 3))
    np.testing.assert_allclose(np.sqrt(lo * hi), fc)


def test_third_octave_minus_3db_edges_match_ansi():
    sr = 16000.0
    bank = third_octave(8191, sample_rate=sr, fmin=100.0, fmax=5000.0)
    fc, lo, hi = third_octave_frequencies(100.0, 5000.0)
    n = 1 << 18
    spec = np.abs(np.fft.fft(bank.weights.numpy(), n=n, axis=1)) ** 2
    freqs = np.fft.fftfreq(n, 1 / sr)
    pos = spec[:, : n // 2]
    for j in range(len(fc)):
        p = pos[j] / pos[j].max()
        inside = np.flatnonzero(p >= 0.5)
        f1, f2 = freqs[inside[0]], freqs[inside[-1]]
        # -3 dB edges within 1% of the centre frequency of the ANSI edges
        assert abs(f1 - lo[j]) < 0.01 * fc[j], (j, f1, lo[j])
        assert abs(f2 - hi[j]) < 0.01 * fc[j], (j, f2, hi[j])
        # unit gain at the centre: the analytic response is 2 h on positive frequencies
        assert abs(pos[j].max() / 4 - 1) < 0.02
    # analytic: the negative frequencies are rejected
    assert spec[:, n // 2 :].max() < 1e-3 * spec.max()


def test_third_octave_rejects_bands_beyond_nyquist_and_warns_on_truncation():
    with pytest.raises(ParameterError, match="sample_rate / 2"):
        third_octave(255, sample_rate=8000.0, fmin=1000.0, fmax=4000.0)
    with pytest.warns(UserWarning, match="third-octave"):
        third_octave(255, sample_rate=8000.0, fmin=50.0, fmax=1000.0)


@pytest.mark.parametrize("name", TEACHERS)
def test_teacher_builds_and_targets_are_power(name):
    t = teacher(name, "tiny")
    x, y = t.dataset("train", 3, 0)
    assert x.shape == (3, t.n_samples) and x.dtype == torch.float32
    assert y.shape == (3, t.n_filters, math.ceil(t.n_samples / t.stride))
    assert (y >= 0).all() and t.stride == 256
    assert np.all(np.diff(t.centres) > 0)
    assert t.band[1] < t.sample_rate / 2
    assert t.kernel_size % 2 == 1  # odd: "same" frames are ceil(N / stride)


def test_unknown_teacher():
    with pytest.raises(ParameterError, match="teacher"):
        teacher("mel", "tiny")
