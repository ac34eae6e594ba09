"""The convolution engine against numpy's direct correlation, for every padding."""

import numpy as np
import pytest
import torch

from fbinit import ParameterError
from fbinit.frontends.engine import analysis_conv, n_frames


def direct(x, w, stride, padding):
    """y[m] = sum_t w[t] x~[m d + t - c] by an explicit loop over frames and taps."""
    n, k = len(x), len(w)
    c = 0 if padding == "valid" else k // 2
    frames = n_frames(n, k, stride, padding)
    out = np.zeros(frames, dtype=np.result_type(x, w))
    for m in range(frames):
        for t in range(k):
            i = m * stride + t - c
            if padding == "circular":
                out[m] += w[t] * x[i % n]
            elif 0 <= i < n:
                out[m] += w[t] * x[i]
    return out


@pytest.mark.parametrize("padding", ["same", "valid", "circular"])
@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("kernel_size", [4, 5])
@pytest.mark.parametrize("complex_kernels", [False, True])
def test_analysis_conv_matches_direct_correlation(padding, stride, kernel_size, complex_kernels):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 13))
    w = rng.standard_normal((3, kernel_size))
    if complex_kernels:
        w = w + 1j * rng.standard_normal((3, kernel_size))
    y = analysis_conv(torch.tensor(x), torch.tensor(w), stride=stride, padding=padding)
    assert y.shape == (2, 3, n_frames(13, kernel_size, stride, padding))
    assert y.is_complex() == complex_kernels
    expected = np.array([[direct(xb, wj, stride, padding) for wj in w] for xb in x])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_same_padding_frame_counts():
    # odd kernels keep N frames at stride 1; even ones give one more, like a centred STFT
    assert n_frames(100, 9, 1, "same") == 100
    assert n_frames(100, 8, 1, "same") == 101
    assert n_frames(100, 512, 160, "same") == 1 + 100 // 160


def test_bad_inputs_name_the_rule():
    with pytest.raises(ParameterError, match=r"x.shape=\(2, 3, 4\) must be"):
        analysis_conv(torch.zeros(2, 3, 4), torch.zeros(1, 3))
    with pytest.raises(ParameterError, match=r"n_samples=3 must be >= kernel_size=5"):
        analysis_conv(torch.zeros(1, 3), torch.zeros(1, 5), padding="valid")
    with pytest.raises(ParameterError, match=r"padding='zeros' must be one of"):
        analysis_conv(torch.zeros(1, 8), torch.zeros(1, 3), padding="zeros")
    with pytest.raises(TypeError, match=r"x must hold real floating-point samples"):
        analysis_conv(torch.zeros(1, 8, dtype=torch.int64), torch.zeros(1, 3))
