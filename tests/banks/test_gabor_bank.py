"""Gabor filters: the parametrisation's closed forms, LEAF's mel init and its conditioning."""

from __future__ import annotations

import math
import warnings

import librosa
import numpy as np
import pytest
import torch
from scipy.special import erfc

from fbinit.analysis import condition_number
from fbinit.banks.gabor import gabor, gabor_impulse_responses, mel_gabor_parameters
from fbinit.errors import ParameterError

SR = 16000.0


def dtft(w: np.ndarray, omega: np.ndarray, kernel_size: int) -> np.ndarray:
    """DTFT of rows w at angular frequencies omega, time origin at tap kernel_size // 2."""
    t = np.arange(kernel_size) - kernel_size // 2
    return np.einsum("jt,jt->j", w, np.exp(-1j * omega[:, None] * t[None, :]))


@pytest.mark.parametrize("kernel_size", [255, 256])
def test_unit_peak_and_half_maximum_at_bandwidth_edges(kernel_size):
    # psi_hat(w) = exp(-sigma^2 (w - eta)^2 / 2) up to aliasing exp(-2 pi^2 sigma^2) and
    # truncation erfc(T / (2 sigma)): both below 1e-9 for 3 <= sigma <= T / 12.
    eta = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    sigma = torch.tensor([3.0, 10.0, 20.0], dtype=torch.float64)
    beta = 2 * math.sqrt(2 * math.log(2)) / sigma
    w = gabor_impulse_responses(eta, beta, kernel_size).numpy()
    e, b = eta.numpy(), beta.numpy()
    np.testing.assert_allclose(np.abs(dtft(w, e, kernel_size)), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(dtft(w, e - b / 2, kernel_size)), 0.5, atol=1e-9)
    np.testing.assert_allclose(np.abs(dtft(w, e + b / 2, kernel_size)), 0.5, atol=1e-9)
    # centred, Hermitian about tap T // 2: psi(-t) = conj(psi(t))
    c = kernel_size // 2
    t = np.arange(1, kernel_size - c)
    np.testing.assert_allclose(w[:, c - t], np.conj(w[:, c + t]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.abs(w[:, c]), 1 / (math.sqrt(2 * math.pi) * sigma.numpy()))


def test_dtype_follows_inputs_and_batches():
    eta = torch.rand(2, 3, dtype=torch.float32)
    w = gabor_impulse_responses(eta, eta + 0.1, 16)
    assert w.dtype == torch.complex64 and tuple(w.shape) == (2, 3, 16)


def test_gradcheck():
    eta = torch.tensor([0.4, 2.0], dtype=torch.float64, requires_grad=True)
    beta = torch.tensor([0.3, 0.8], dtype=torch.float64, requires_grad=True)

    def real_view(e, b):
        return torch.view_as_real(gabor_impulse_responses(e, b, 9))

    assert torch.autograd.gradcheck(real_view, (eta, beta))


def test_mel_initialisation_matches_leaf_formula():
    # sigma_j = sqrt(2 ln 2) n_fft / (pi fwhm_bins_j), eta_j = 2 pi argmax_j / n_fft,
    # read from the square root of the HTK mel matrix; checked on the taps themselves.
    n_fft = 512
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # low-frequency envelopes are truncated
        bank = gabor(40, 401, sample_rate=SR)
    amplitude = np.sqrt(
        librosa.filters.mel(
            sr=SR, n_fft=n_fft, n_mels=40, fmin=60.0, fmax=7800.0, htk=True, norm=None
        )
    )
    fwhm_bins = (amplitude >= amplitude.max(axis=1, keepdims=True) / 2).sum(axis=1)
    sigma = math.sqrt(2 * math.log(2)) * n_fft / (math.pi * fwhm_bins)
    eta = 2 * np.pi * amplitude.argmax(axis=1) / n_fft
    w = bank.weights.numpy()
    c = 200
    np.testing.assert_allclose(1 / (math.sqrt(2 * math.pi) * np.abs(w[:, c])), sigma, rtol=1e-12)
    np.testing.assert_allclose(np.angle(w[:, c + 1] / w[:, c]), eta, rtol=1e-12)
    assert np.all(np.diff(eta) > 0)


def test_truncation_warning_and_its_energy_criterion():
    # LEAF's reference setting truncates the low-frequency envelopes
    with pytest.warns(UserWarning, match=r"gabor: \d+ of 40 filters do not fit kernel_size=401"):
        gabor(40, 401, sample_rate=SR)
    # the closed-form lost energy agrees with the energy measured on a long kernel
    _, widths = mel_gabor_parameters(40, sample_rate=SR, fmin=60.0, fmax=7800.0, n_fft=512)
    long = gabor(40, 4001, sample_rate=SR).weights.abs().square().numpy()
    kept = long[:, 2000 - 200 : 2000 + 201].sum(axis=1) / long.sum(axis=1)
    sigma = 2 * math.sqrt(2 * math.log(2)) * SR / (2 * np.pi * widths)
    closed = erfc(200.5 / sigma)
    np.testing.assert_allclose(1 - kept, closed, rtol=1e-2, atol=1e-12)  # sampled vs continuous
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gabor(40, 1024, sample_rate=SR)  # 1024 taps hold every envelope


def test_leaf_reference_condition_numbers():
    # Reference (frontends.md): 40 filters, 401 taps, 16 kHz, 60-7800 Hz mel init gives
    # kappa ~ 3e5 over the full band and ~ 16 in band. Measured here at n_fft = 16000
    # (1 Hz bins): 28.5 in band (tolerance: within a factor 2 of 16), and 1.06e4 full band
    # with 401 taps, where the truncated low envelopes leak energy to DC; with untruncated
    # envelopes (4001 taps) the full-band value is 2.19e5 (tolerance: factor 2 of 3e5).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bank = gabor(40, 401, sample_rate=SR)
        long = gabor(40, 4001, sample_rate=SR)
    in_band = float(condition_number(bank, n_fft=16000, band=bank.band))
    full = float(condition_number(bank, n_fft=16000))
    untruncated = float(condition_number(long, n_fft=16000))
    assert 8 <= in_band <= 32
    assert full > 100 * in_band  # DC and Nyquist are not covered
    assert 1.5e5 <= untruncated <= 6e5


def test_gabor_validation():
    with pytest.raises(ParameterError, match=r"center_frequencies and bandwidths must be given"):
        gabor(4, 64, sample_rate=SR, center_frequencies=[100.0, 200.0, 300.0, 400.0])
    with pytest.raises(ParameterError, match=r"bandwidths.shape=\(3,\) must be \(n_filters,\)"):
        gabor(4, 64, sample_rate=SR, center_frequencies=[1.0, 2, 3, 4], bandwidths=[1.0, 2, 3])
    with pytest.raises(ParameterError, match=r"center_frequencies must lie in \[0, sample_rate"):
        gabor(2, 64, sample_rate=SR, center_frequencies=[100.0, 9000.0], bandwidths=[50.0, 50.0])
    with pytest.raises(ParameterError, match=r"bandwidths must be > 0 Hz"):
        gabor(2, 64, sample_rate=SR, center_frequencies=[100.0, 900.0], bandwidths=[50.0, 0.0])
    with pytest.raises(ParameterError, match=r"n_fft=16 must be large enough that every mel"):
        gabor(40, 64, sample_rate=SR, n_fft=16)
    one = torch.ones(3, dtype=torch.float64)
    with pytest.raises(ParameterError, match=r"bandwidths.shape=\(2,\) must equal"):
        gabor_impulse_responses(one, one[:2], 8)
    with pytest.raises(ParameterError, match=r"bandwidths must be > 0"):
        gabor_impulse_responses(one, -one, 8)
    with pytest.raises(ParameterError, match=r"center_frequencies must hold only finite"):
        gabor_impulse_responses(one * float("nan"), one, 8)
    with pytest.raises(ParameterError, match=r"kernel_size=0 must be an integer >= 1"):
        gabor_impulse_responses(one, one, 0)
    with pytest.raises(TypeError, match=r"center_frequencies must be real"):
        gabor_impulse_responses(one * 1j, one, 8)


def test_explicit_parameters_are_used():
    bank = gabor(
        2, 257, sample_rate=SR, center_frequencies=[1000.0, 3000.0], bandwidths=[400.0, 800.0]
    )
    w = bank.weights.numpy()
    eta = 2 * np.pi * np.array([1000.0, 3000.0]) / SR
    np.testing.assert_allclose(np.abs(dtft(w, eta, 257)), 1.0, atol=1e-6)
    half = 2 * np.pi * np.array([200.0, 400.0]) / SR
    np.testing.assert_allclose(np.abs(dtft(w, eta + half, 257)), 0.5, atol=1e-6)
