"""Autocorrelation by FFT and the eigenvalues of its Toeplitz section."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.linalg
import torch

from fbinit.analysis.autocorrelation import (
    autocorrelation,
    autocorrelation_eigenvalues,
    frobenius_norm2,
)
from fbinit.errors import ParameterError
from fbinit.signals import constant, impulse, random_walk, sine, white_noise

# the module, not the function of the same name exported by fbinit.analysis
ac = importlib.import_module("fbinit.analysis.autocorrelation")


def _circular_direct(x: np.ndarray) -> np.ndarray:
    return np.array([x @ np.roll(x, -tau) for tau in range(x.size)])


def test_circular_matches_definition_batched(rng):
    x = rng.standard_normal((3, 2, 37))
    r = autocorrelation(x)
    assert r.dtype == torch.float64 and r.shape == (3, 2, 37)
    expected = np.apply_along_axis(_circular_direct, -1, x)
    np.testing.assert_allclose(r.numpy(), expected, atol=1e-12)
    # even: R(-tau) = R(N - tau) = R(tau); R(0) = ||x||^2
    np.testing.assert_allclose(r[..., 1:].numpy(), r[..., 1:].flip(-1).numpy(), atol=1e-12)
    np.testing.assert_allclose(r[..., 0].numpy(), (x**2).sum(-1), rtol=1e-13)


def test_full_matches_numpy_correlate_and_pads_zeros(rng):
    x = rng.standard_normal((4, 50))
    r = autocorrelation(torch.from_numpy(x), mode="full", max_lag=70)
    assert r.shape == (4, 71)
    for row, xi in zip(r.numpy(), x, strict=True):
        np.testing.assert_allclose(row[:50], np.correlate(xi, xi, "full")[49:], atol=1e-12)
        assert np.all(row[50:] == 0)


def test_max_lag_truncates(rng):
    x = rng.standard_normal(16)
    np.testing.assert_allclose(autocorrelation(x, max_lag=3), autocorrelation(x)[:4])


@pytest.mark.parametrize("mode", ["circular", "full"])
def test_eigenvalues_match_scipy_toeplitz(rng, mode):
    x = rng.standard_normal((2, 300))
    sizes = [16, 64, 200]
    lam = autocorrelation_eigenvalues(x, sizes, mode=mode)
    assert lam.shape == (2, 3, 200)
    r = autocorrelation(x, mode=mode).numpy()
    for b in range(2):
        for s, t in enumerate(sizes):
            q = scipy.linalg.toeplitz(r[b, :t])
            expected = np.sort(scipy.linalg.eigvalsh(q))[::-1]
            np.testing.assert_allclose(lam[b, s, :t].numpy(), expected, atol=1e-10)
            assert np.all(lam[b, s, t:].numpy() == 0)  # padding
            # trace and Frobenius identities
            assert lam[b, s].sum().item() == pytest.approx(t * r[b, 0], rel=1e-12)
            frob = frobenius_norm2(torch.from_numpy(r[b]), t).item()
            assert frob == pytest.approx(np.sum(q**2), rel=1e-12)
            assert lam[b, s].square().sum().item() == pytest.approx(frob, rel=1e-10)


def test_special_spectra():
    n, t = 256, 32
    np.testing.assert_allclose(autocorrelation_eigenvalues(impulse(n), t), np.ones(t), atol=1e-12)
    lam = autocorrelation_eigenvalues(constant(n), t).numpy()  # rank one, lambda_max = T
    assert lam[0] == pytest.approx(t, rel=1e-12)
    assert np.abs(lam[1:]).max() < 1e-12
    # integer-period sinusoid: rank two, eigenvalues T/2 +- sin(T w0) / (2 sin w0)
    w0 = 2 * np.pi * 5 / n
    lam = autocorrelation_eigenvalues(sine(n, periods=5, phase=0.3), t).numpy()
    half = np.sin(t * w0) / (2 * np.sin(w0))
    np.testing.assert_allclose(lam[:2], sorted([t / 2 + half, t / 2 - half])[::-1], atol=1e-10)
    assert np.abs(lam[2:]).max() < 1e-10


def test_full_length_circular_is_circulant(rng):
    # T = N: Q_N is circulant, its eigenvalues are the power spectrum |x_hat(k)|^2
    x = rng.standard_normal(64)
    lam = autocorrelation_eigenvalues(x, 64).numpy()
    np.testing.assert_allclose(lam, np.sort(np.abs(np.fft.fft(x)) ** 2)[::-1], atol=1e-10)


@pytest.mark.parametrize("mode", ["circular", "full"])
def test_lanczos_top_matches_dense(monkeypatch, mode):
    x = np.stack([random_walk(900, seed=1), white_noise(900, seed=2), sine(900, periods=7.5)])
    dense = autocorrelation_eigenvalues(x, [300, 600], mode=mode)
    monkeypatch.setattr(ac, "DENSE_MAX_KERNEL_SIZE", 100)
    top = autocorrelation_eigenvalues(x, [300, 600], mode=mode, n_top=12)
    assert top.shape == (3, 2, 12)
    scale = dense[..., :1]
    np.testing.assert_allclose((top / scale).numpy(), (dense[..., :12] / scale).numpy(), atol=1e-10)


def test_n_top_larger_than_kernel_is_padded():
    lam = autocorrelation_eigenvalues(white_noise(64, seed=0), [4, 8], n_top=6)
    assert lam.shape == (2, 6)
    assert torch.all(lam[0, 4:] == 0) and torch.all(lam[1] > 0)


def test_errors():
    x = white_noise(32, seed=0)
    with pytest.raises(ParameterError, match="mode='same' must be one of"):
        autocorrelation(x, mode="same")
    with pytest.raises(ParameterError, match="max_lag=32 must be <= n_samples - 1 = 31"):
        autocorrelation(x, max_lag=32)
    with pytest.raises(ParameterError, match="max_lag=-1 must be an integer >= 0"):
        autocorrelation(x, max_lag=-1)
    with pytest.raises(TypeError, match="x must be a real signal"):
        autocorrelation(x + 1j)
    with pytest.raises(TypeError, match="x must be a numpy array or a torch tensor"):
        autocorrelation("signal")
    with pytest.raises(ParameterError, match="kernel_size=33 must be <= n_samples=32"):
        autocorrelation_eigenvalues(x, 33)
    with pytest.raises(ParameterError, match="kernel_size=0 must be an integer >= 1"):
        autocorrelation_eigenvalues(x, [8, 0])
    with pytest.raises(ParameterError, match=r"kernel_size=\[\] must hold"):
        autocorrelation_eigenvalues(x, [])
    with pytest.raises(TypeError, match="kernel_size=8.5 must be an integer"):
        autocorrelation_eigenvalues(x, 8.5)
    with pytest.raises(ParameterError, match="n_top=0 must be an integer >= 1"):
        autocorrelation_eigenvalues(x, 8, n_top=0)
    # longer filters than the signal are fine in full mode
    assert autocorrelation_eigenvalues(x, 40, mode="full").shape == (40,)
