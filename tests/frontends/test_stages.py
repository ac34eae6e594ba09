"""Stages against independent implementations: loops over frames and LEAF's formulas."""

import math

import numpy as np
import pytest
import torch

from fbinit import ParameterError
from fbinit.frontends.stages import (
    PCEN,
    FIRPooling,
    GaussianLowpass,
    LogCompression,
    channel_conv,
    ema,
    gaussian_lowpass_windows,
    modulus,
)


def naive_channel_conv(y, h, stride, padding):
    """z[b, c, m] = sum_t h[c, t] y[b, c, m d + t - c0] by loops."""
    batch, channels, frames = y.shape
    k = h.shape[1]
    c0 = k // 2 if padding == "same" else 0
    n_out = (frames + 2 * c0 - k) // stride + 1
    out = np.zeros((batch, channels, n_out))
    for b in range(batch):
        for c in range(channels):
            for m in range(n_out):
                for t in range(k):
                    i = m * stride + t - c0
                    if 0 <= i < frames:
                        out[b, c, m] += h[c, t] * y[b, c, i]
    return out


def naive_ema(x, w):
    """LEAF's tf.scan: s_t = w x_t + (1 - w) s_{t-1}, s_{-1} = x_0; w has shape (channels,)."""
    out = np.empty_like(x)
    state = x[..., 0].copy()
    for t in range(x.shape[-1]):
        state = w * x[..., t] + (1 - w) * state
        out[..., t] = state
    return out


def leaf_pcen(x, alpha, smooth, delta, root, floor):
    """LEAF's PCENLayer.call in numpy, with its clamps (parameters per channel)."""
    alpha = np.minimum(alpha, 1.0)[:, None]
    root = np.maximum(root, 1.0)[:, None]
    delta = delta[:, None]
    smoother = naive_ema(x, np.clip(smooth, 0.0, 1.0))
    return (x / (floor + smoother) ** alpha + delta) ** (1 / root) - delta ** (1 / root)


def test_modulus_power_and_abs():
    y = torch.tensor([3.0 + 4.0j, 0.0j])
    assert modulus(y, "power").tolist() == [25.0, 0.0]
    assert modulus(y, "abs").tolist() == [5.0, 0.0]
    z = torch.zeros(3, requires_grad=True)
    modulus(z, "abs").sum().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]  # no NaN at 0


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride, kernel_size", [(1, 5), (3, 4), (4, 9)])
def test_channel_conv_matches_loops(padding, stride, kernel_size, rng):
    y = rng.standard_normal((2, 3, 23))
    h = rng.standard_normal((3, kernel_size))
    z = channel_conv(torch.tensor(y), torch.tensor(h), stride=stride, padding=padding)
    np.testing.assert_allclose(z.numpy(), naive_channel_conv(y, h, stride, padding), atol=1e-12)


def test_gaussian_windows_follow_leaf_formula_and_clamps():
    # impulse_responses.gaussian_lowpass: sigma clipped to [2 / K, 0.5],
    # exp(-0.5 ((t - (K - 1) / 2) / (sigma (K - 1) / 2))^2)
    k = 401
    sigma = np.array([0.4, 1e-4, 0.9, 0.1])
    w = gaussian_lowpass_windows(torch.tensor(sigma), k).numpy()
    clipped = np.clip(sigma, 2 / k, 0.5)
    t = np.arange(k)
    expected = np.exp(-0.5 * ((t - 200) / (clipped[:, None] * 200)) ** 2)
    np.testing.assert_allclose(w, expected, rtol=1e-13)
    assert w[:, 200].tolist() == [1.0] * 4


def test_gaussian_lowpass_pooling_matches_loops(rng):
    pool = GaussianLowpass(3, kernel_size=11, stride=4, init=0.3).double()
    with torch.no_grad():
        pool.sigma.copy_(torch.tensor([0.3, 0.1, 0.45]))
    y = rng.random((2, 3, 30))
    expected = naive_channel_conv(y, pool.windows().detach().numpy(), 4, "same")
    np.testing.assert_allclose(pool(torch.tensor(y)).detach().numpy(), expected, atol=1e-12)
    assert isinstance(pool.sigma, torch.nn.Parameter)
    fixed = GaussianLowpass(3, learnable=False)
    assert "sigma" in dict(fixed.named_buffers()) and not list(fixed.parameters())


def test_fir_pooling_shares_or_splits_taps(rng):
    hann = torch.hann_window(6, periodic=False, dtype=torch.float64)
    pool = FIRPooling(hann, 2, stride=2).double()
    y = rng.random((1, 2, 12))
    expected = naive_channel_conv(y, np.stack([hann.numpy()] * 2), 2, "same")
    np.testing.assert_allclose(pool(torch.tensor(y)).detach().numpy(), expected, atol=1e-12)
    assert tuple(pool.taps.shape) == (2, 6) and pool.taps.requires_grad


@pytest.mark.parametrize("frames, block", [(1, 32), (7, 32), (32, 32), (33, 4), (1000, 8)])
def test_ema_matches_the_recursion(frames, block, rng):
    x = rng.random((2, 4, frames)) * 10.0 ** rng.uniform(-5, 3, (2, 4, frames))
    w = np.array([0.04, 0.5, 1.0, 0.0])  # including both ends of [0, 1]
    s = ema(torch.tensor(x), torch.tensor(w), block=block).numpy()
    expected = naive_ema(x, w)
    np.testing.assert_allclose(s, expected, rtol=1e-11, atol=0)


def test_ema_float32_keeps_small_values_accurate():
    # values spanning 1e-5 .. 1e3 (a power spectrogram): relative, not absolute, accuracy
    g = torch.Generator().manual_seed(0)
    x = 10.0 ** (8 * torch.rand(1, 2, 500, generator=g) - 5)
    w = torch.tensor([0.04, 0.3])
    s = ema(x, w)
    expected = naive_ema(x.double().numpy(), w.double().numpy())
    np.testing.assert_allclose(s.numpy(), expected, rtol=1e-4)


def test_ema_gradcheck_including_the_ends():
    x = torch.rand(1, 3, 40, dtype=torch.float64, requires_grad=True)
    w = torch.tensor([0.04, 0.7, 1.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w: ema(x, w, block=8), (x, w))


def test_pcen_matches_leaf_at_initialisation_and_clamps(rng):
    x = rng.random((2, 3, 50)) * 10.0 ** rng.uniform(-4, 2, (2, 3, 50))
    pcen = PCEN(3).double()
    y = pcen(torch.tensor(x)).detach().numpy()
    ones = np.ones(3)
    expected = leaf_pcen(np.maximum(x, 1e-5), 0.96 * ones, 0.04 * ones, 2 * ones, 2 * ones, 1e-12)
    # the initial logarithms are float32 parameters: exp(log 0.96) is 0.96 to ~1e-8
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    # parameters live in log space; out-of-range values are clamped as in LEAF
    alpha, smooth, delta, root = [1.3, 0.5, 0.2], [0.1, 2.0, 0.01], [1.0, 3.0, 0.5], [0.5, 3.0, 1]
    names = ("alpha", "smooth", "delta", "root")
    with torch.no_grad():
        for name, value in zip(names, (alpha, smooth, delta, root), strict=True):
            getattr(pcen, f"log_{name}").copy_(torch.log(torch.tensor(value, dtype=torch.float64)))
    y = pcen(torch.tensor(x)).detach().numpy()
    expected = leaf_pcen(
        np.maximum(x, 1e-5), *(np.array(v) for v in (alpha, smooth, delta, root)), 1e-12
    )
    np.testing.assert_allclose(y, expected, rtol=1e-10)
    assert {name for name, _ in pcen.named_parameters()} == {
        "log_alpha",
        "log_smooth",
        "log_delta",
        "log_root",
    }
    assert math.isclose(float(pcen.parameters_clamped()["alpha"][0].detach()), 1.0)


def test_pcen_is_finite_on_silence_and_at_extreme_parameters():
    pcen = PCEN(2)
    with torch.no_grad():
        pcen.log_smooth.fill_(5.0)  # w clamped to 1: no smoothing
        pcen.log_delta.fill_(-30.0)
    for x in (torch.zeros(1, 2, 20), torch.full((1, 2, 20), 1e30), -torch.ones(1, 2, 20)):
        x.requires_grad_(True)
        y = pcen(x)
        y.sum().backward()
        assert bool(torch.isfinite(y).all())
        assert all(bool(torch.isfinite(p.grad).all()) for p in pcen.parameters())
        pcen.zero_grad()


def test_pcen_gradcheck():
    pcen = PCEN(2, input_floor=0.0).double()
    with torch.no_grad():
        pcen.log_alpha.copy_(torch.log(torch.tensor([0.8, 0.5])))
        pcen.log_root.copy_(torch.log(torch.tensor([2.0, 3.0])))
    x = torch.rand(1, 2, 12, dtype=torch.float64) + 0.1
    params = tuple(pcen.parameters())

    def run(*values):
        return torch.func.functional_call(
            pcen, dict(zip([n for n, _ in pcen.named_parameters()], values, strict=True)), (x,)
        )

    inputs = tuple(p.detach().clone().requires_grad_(True) for p in params)
    assert torch.autograd.gradcheck(run, inputs)


def test_log_compression_offset_and_floor():
    log = LogCompression(1e-3, offset=1.0)
    assert torch.allclose(log(torch.tensor([0.0, math.e - 1])), torch.tensor([0.0, 1.0]))
    assert float(LogCompression(1e-3)(torch.tensor([0.0]))) == pytest.approx(math.log(1e-3))


def test_stage_errors_name_the_rule():
    with pytest.raises(ParameterError, match=r"y.shape=\(1, 2, 5\) must be \(batch, n_channels=3"):
        GaussianLowpass(3)(torch.zeros(1, 2, 5))
    with pytest.raises(ParameterError, match=r"frames=3 must be >= kernel_size=5"):
        channel_conv(torch.zeros(1, 1, 3), torch.ones(1, 5), padding="valid")
    with pytest.raises(ParameterError, match=r"padding='circular' must be one of"):
        GaussianLowpass(3, padding="circular")
    with pytest.raises(ParameterError, match=r"kernel_size=1 must be an integer >= 2"):
        GaussianLowpass(3, kernel_size=1)
    with pytest.raises(ParameterError, match=r"init=0.0 must be a finite number > 0"):
        GaussianLowpass(3, init=0.0)
    with pytest.raises(ParameterError, match=r"alpha=-1.0 must be a finite number > 0"):
        PCEN(3, alpha=-1.0)
    with pytest.raises(ParameterError, match=r"window.shape=\(3, 4\) must be"):
        FIRPooling(torch.ones(3, 4), 2)
    with pytest.raises(TypeError, match=r"y must be a torch.Tensor"):
        PCEN(1)([[1.0]])
    with pytest.raises(ParameterError, match=r"offset=-1.0 must be a finite number >= 0"):
        LogCompression(offset=-1.0)


def test_power_modulus_gradcheck_for_complex_inputs():
    y = torch.randn(2, 3, 5, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda y: modulus(y, "power"), (y,))
    assert torch.autograd.gradcheck(lambda y: modulus(y, "abs"), (y,))
