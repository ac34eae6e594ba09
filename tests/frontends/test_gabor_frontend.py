"""GaborFrontend and the LEAF preset against LEAF's formulas, written out in numpy."""

import math

import numpy as np
import pytest
import torch

from fbinit import ParameterError
from fbinit.banks import mel_gabor_parameters
from fbinit.frontends import PCEN, GaborFrontend, GaussianLowpass, leaf_mel_parameters

SQRT_2LN2 = math.sqrt(2 * math.log(2))


def leaf_gabor(eta: np.ndarray, sigma: np.ndarray, size: int) -> np.ndarray:
    """impulse_responses.gabor_filters: t = -(size // 2) .. (size + 1) // 2 - 1."""
    t = np.arange(-(size // 2), (size + 1) // 2)
    gauss = np.exp(-(t[None] ** 2) / (2 * sigma[:, None] ** 2)) / (
        np.sqrt(2 * np.pi) * sigma[:, None]
    )
    return gauss * np.exp(1j * eta[:, None] * t[None])


def leaf_forward(x: np.ndarray, frontend: GaborFrontend) -> np.ndarray:
    """LEAF's Leaf.call in numpy, loops included: complex conv (SAME, stride 1), squared
    modulus, Gaussian lowpass (centred, stride 160), max(., 1e-5), PCEN (tf.scan EMA)."""
    eta, sigma = (p.detach().double().numpy() for p in frontend.constrained())
    filters = leaf_gabor(eta, sigma, 401)
    padded = np.pad(x, (200, 200))
    coefficients = np.array(
        [[np.dot(f, padded[n : n + 401]) for n in range(len(x))] for f in filters]
    )
    power = np.abs(coefficients) ** 2
    sigma_pool = np.clip(frontend.pooling.sigma.detach().double().numpy(), 2 / 401, 0.5)
    t = np.arange(401)
    windows = np.exp(-0.5 * ((t - 200) / (sigma_pool[:, None] * 200)) ** 2)
    power = np.pad(power, ((0, 0), (200, 200)))
    frames = (len(x) - 1) // 160 + 1
    pooled = np.array(
        [
            [np.dot(windows[c], power[c, m * 160 : m * 160 + 401]) for m in range(frames)]
            for c in range(40)
        ]
    )
    pooled = np.maximum(pooled, 1e-5)
    alpha, smooth, delta, root = (
        p.detach().double().exp().numpy()
        for p in (
            frontend.compression.log_alpha,
            frontend.compression.log_smooth,
            frontend.compression.log_delta,
            frontend.compression.log_root,
        )
    )
    state = pooled[:, 0].copy()
    smoothed = np.empty_like(pooled)
    for m in range(frames):
        state = smooth * pooled[:, m] + (1 - smooth) * state
        smoothed[:, m] = state
    a, r, d = np.minimum(alpha, 1)[:, None], np.maximum(root, 1)[:, None], delta[:, None]
    return (pooled / (1e-12 + smoothed) ** a + d) ** (1 / r) - d ** (1 / r)


def test_leaf_preset_matches_leaf_computation_in_numpy():
    leaf = GaborFrontend.leaf().double()
    g = torch.Generator().manual_seed(0)
    x = 0.1 * torch.randn(1, 1200, dtype=torch.float64, generator=g)
    expected = leaf_forward(x[0].numpy(), leaf)
    with torch.no_grad():
        y = leaf(x)[0].numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-8, atol=1e-12)


def test_leaf_preset_setting():
    # LEAF (frontend.py, Leaf defaults): 40 filters, 401 taps, 16 kHz, mel 60-7800 Hz,
    # squared modulus, Gaussian pooling 401 taps stride 160 init 0.4, PCEN alpha 0.96,
    # smoothing 0.04, delta 2, root 2, floor 1e-12, per-channel learnable; max(x, 1e-5)
    leaf = GaborFrontend.leaf()
    assert (leaf.n_filters, leaf.kernel_size, leaf.stride, leaf.sample_rate) == (40, 401, 1, 16000)
    assert leaf.modulus == "power" and leaf.band == (60.0, 7800.0) and leaf.padding == "same"
    pool = leaf.pooling
    assert isinstance(pool, GaussianLowpass)
    assert (pool.kernel_size, pool.stride) == (401, 160)
    torch.testing.assert_close(pool.sigma.detach(), torch.full((40,), 0.4))
    pcen = leaf.compression
    assert isinstance(pcen, PCEN) and (pcen.floor, pcen.input_floor) == (1e-12, 1e-5)
    values = {k: v.detach() for k, v in pcen.parameters_clamped().items()}
    for name, value in (("alpha", 0.96), ("smooth", 0.04), ("delta", 2.0), ("root", 2.0)):
        torch.testing.assert_close(values[name], torch.full((40,), value))
    n_params = sum(p.numel() for p in leaf.parameters())
    assert n_params == 40 * 2 + 40 + 4 * 40
    assert not list(GaborFrontend.leaf(learnable=False).parameters())


def test_mel_initialisation_against_librosa_based_bank_parameters():
    # LEAF reads TensorFlow's mel matrix (triangles linear in mel); fbinit.banks reads
    # librosa's (linear in Hz): same centres, widths within one bin, different in 3 of 40
    eta, sigma = leaf_mel_parameters(40)
    centres, widths = mel_gabor_parameters(
        40, sample_rate=16000.0, fmin=60.0, fmax=7800.0, n_fft=512
    )
    np.testing.assert_allclose(eta * 16000 / (2 * np.pi), centres, rtol=1e-12)
    leaf_bins = SQRT_2LN2 * 512 / (np.pi * sigma)
    librosa_bins = widths / (16000 / 512)
    np.testing.assert_allclose(leaf_bins, np.round(leaf_bins), atol=1e-9)
    difference = np.abs(np.round(leaf_bins) - librosa_bins)
    assert difference.max() == 1 and np.count_nonzero(difference) == 3


def test_impulse_responses_are_leafs_gabor_filters_with_its_constraints():
    frontend = GaborFrontend(4, 65, sample_rate=16000.0, fmin=300.0, fmax=6000.0).double()
    with torch.no_grad():
        frontend.center_frequency.copy_(torch.tensor([-0.5, 1.0, 2.0, 4.0]))
        frontend.sigma.copy_(torch.tensor([0.1, 3.0, 10.0, 500.0]))
    eta = np.clip([-0.5, 1.0, 2.0, 4.0], 0, np.pi)
    sigma = np.clip([0.1, 3.0, 10.0, 500.0], 4 * SQRT_2LN2 / np.pi, 65 * SQRT_2LN2 / np.pi)
    w = frontend.impulse_responses().detach().numpy()
    np.testing.assert_allclose(w, leaf_gabor(eta, sigma, 65), rtol=1e-12, atol=1e-15)
    # gradients vanish outside the constraint, as with LEAF's clipping
    frontend.impulse_responses().abs().sum().backward()
    grad_eta, grad_sigma = frontend.center_frequency.grad, frontend.sigma.grad
    assert grad_eta[0] == 0 and grad_eta[3] == 0 and grad_eta[1] != 0
    assert grad_sigma[0] == 0 and grad_sigma[3] == 0 and grad_sigma[2] != 0
    hz = frontend.center_frequencies_hz
    torch.testing.assert_close(hz, torch.tensor(eta * 16000 / (2 * np.pi)))
    fwhm = frontend.bandwidths_hz
    torch.testing.assert_close(fwhm, torch.tensor(2 * SQRT_2LN2 / sigma * 16000 / (2 * np.pi)))


def test_gabor_frontend_errors():
    with pytest.raises(ParameterError, match=r"n_fft=16 must be large enough"):
        GaborFrontend(40, 401, n_fft=16)
    with pytest.raises(ParameterError, match=r"fmax=9000.0 must be <= sample_rate / 2"):
        GaborFrontend(4, 65, fmax=9000.0)
    with pytest.raises(ParameterError, match=r"kernel_size=0 must be an integer >= 1"):
        GaborFrontend(4, 0)
