"""The convolution engine: numpy's direct correlation, and direct == FFT for every setting."""

import numpy as np
import pytest
import torch

from fbinit import ParameterError
from fbinit.frontends.engine import analysis_conv, n_frames, plan


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


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("padding", ["same", "valid", "circular"])
@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("kernel_size", [4, 5])
@pytest.mark.parametrize("complex_kernels", [False, True])
def test_analysis_conv_matches_direct_correlation(
    method, padding, stride, kernel_size, complex_kernels
):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 13))
    w = rng.standard_normal((3, kernel_size))
    if complex_kernels:
        w = w + 1j * rng.standard_normal((3, kernel_size))
    y = analysis_conv(
        torch.tensor(x), torch.tensor(w), stride=stride, padding=padding, method=method
    )
    assert y.shape == (2, 3, n_frames(13, kernel_size, stride, padding))
    assert y.is_complex() == complex_kernels
    expected = np.array([[direct(xb, wj, stride, padding) for wj in w] for xb in x])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
@pytest.mark.parametrize("padding", ["same", "valid", "circular"])
@pytest.mark.parametrize("stride", [1, 2, 5, 16])
@pytest.mark.parametrize("kernel_size", [31, 64])
@pytest.mark.parametrize("complex_kernels", [False, True])
def test_fft_equals_direct_forward_and_backward(
    dtype, tolerance, padding, stride, kernel_size, complex_kernels
):
    g = torch.Generator().manual_seed(stride * 1000 + kernel_size)
    x = torch.randn(3, 700, dtype=dtype, generator=g, requires_grad=True)
    w = torch.randn(5, kernel_size, dtype=dtype, generator=g)
    if complex_kernels:
        w = torch.complex(w, torch.randn(5, kernel_size, dtype=dtype, generator=g))
    w.requires_grad_(True)
    outputs, grads = [], []
    for method in ("direct", "fft"):
        y = analysis_conv(x, w, stride=stride, padding=padding, method=method)
        cotangent = torch.ones_like(y) + 0.5j * torch.ones_like(y) if y.is_complex() else None
        loss = (y * cotangent).real.sum() if cotangent is not None else y.square().sum()
        outputs.append(y.detach())
        grads.append(torch.autograd.grad(loss, (x, w)))
    assert outputs[0].shape == outputs[1].shape
    assert _relative_error(outputs[1], outputs[0]) < tolerance
    for fft_grad, direct_grad in zip(grads[1], grads[0], strict=True):
        assert _relative_error(fft_grad, direct_grad) < tolerance


def test_fft_blocks_cover_long_signals():
    # many overlap-save blocks (small block size forced by a short kernel on a long signal)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 20000, dtype=torch.float64, generator=g)
    w = torch.randn(3, 9, dtype=torch.float64, generator=g)
    assert plan(2, 3, 9, 20000).fft_size < 20000
    a = analysis_conv(x, w, method="fft")
    b = analysis_conv(x, w, method="direct")
    assert _relative_error(a, b) < 1e-12


def test_gradcheck_fft_path():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 40, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(3, 7, dtype=torch.complex128, generator=g, requires_grad=True)

    def real_view(x, w):
        return torch.view_as_real(analysis_conv(x, w, stride=3, method="fft"))

    assert torch.autograd.gradcheck(real_view, (x, w))


def test_plan_prefers_fft_for_long_kernels_at_stride_one():
    # LEAF's complex 401-tap bank at stride 1 is far cheaper by FFT; a strided or short
    # kernel is cheaper directly
    leaf = plan(8, 40, 401, 16000, complex_kernels=True)
    assert leaf.method == "fft" and leaf.fft_cost < leaf.direct_cost
    assert plan(8, 40, 16, 16000).method == "direct"
    assert plan(8, 40, 401, 16000, stride=160).method == "direct"
    # a stride lowers both costs: outputs thrown away are never computed
    dense, strided = plan(8, 40, 401, 16000), plan(8, 40, 401, 16000, stride=4)
    assert strided.fft_cost < dense.fft_cost
    assert strided.direct_cost == pytest.approx(dense.direct_cost / 4)


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
    with pytest.raises(ParameterError, match=r"method='fast' must be one of"):
        analysis_conv(torch.zeros(1, 8), torch.zeros(1, 3), method="fast")
    with pytest.raises(TypeError, match=r"x must hold real floating-point samples"):
        analysis_conv(torch.zeros(1, 8, dtype=torch.int64), torch.zeros(1, 3))
    with pytest.raises(TypeError, match=r"kernels must be a torch.Tensor"):
        analysis_conv(torch.zeros(1, 8), [[1.0, 2.0]])
    with pytest.raises(ParameterError, match=r"kernels.shape=\(3,\) must be \(n_filters"):
        analysis_conv(torch.zeros(1, 8), torch.zeros(3))
    with pytest.raises(ParameterError, match=r"x.shape=\(1, 0\) must have time >= 1"):
        analysis_conv(torch.zeros(1, 0), torch.zeros(1, 3))
