"""Energy responses against direct convolution and the random-bank closed forms."""

import numpy as np
import pytest
import torch

from fbinit import Filterbank, ParameterError
from fbinit.analysis import analysis_matrix, energy_response
from fbinit.banks import gaussian


def direct_energy(w, x, mode, stride=1):
    """Energy by numpy's direct convolution (independent of the FFT path)."""
    total = 0.0
    for filt in np.atleast_2d(w):
        if mode == "full":
            y = np.convolve(x, filt)
        else:
            n = len(x)
            y = np.array(
                [sum(filt[k] * x[(i - k) % n] for k in range(len(filt))) for i in range(n)]
            )
        total += np.sum(np.abs(y[::stride]) ** 2)
    return total


@pytest.mark.parametrize("mode", ["circular", "full"])
@pytest.mark.parametrize("stride", [1, 3])
def test_energy_matches_direct_convolution(mode, stride, rng):
    w = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    x = rng.standard_normal((2, 12))
    energy = energy_response(Filterbank(torch.tensor(w), stride=stride), x, mode=mode)
    expected = [direct_energy(w, xi, mode, stride) for xi in x]
    assert np.allclose(energy.numpy(), expected, rtol=1e-12)
    real_w = w.real
    energy = energy_response(Filterbank(torch.tensor(real_w), stride=stride), x, mode=mode)
    assert np.allclose(energy.numpy(), [direct_energy(real_w, xi, mode, stride) for xi in x])


@pytest.mark.parametrize("mode", ["circular", "full"])
def test_multirate_energy_is_the_sum_over_filters(mode, rng):
    w = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    x = rng.standard_normal((2, 12))
    strides = (1, 2, 4)
    energy = energy_response(Filterbank(torch.tensor(w), stride=strides), x, mode=mode)
    expected = [sum(direct_energy(w[j], xi, mode, d) for j, d in enumerate(strides)) for xi in x]
    assert np.allclose(energy.numpy(), expected, rtol=1e-12)


def test_complex_signals_and_batch_shapes(rng):
    bank = gaussian(4, 6, n_draws=5, seed=2)
    x = rng.standard_normal((3, 2, 16)) + 1j * rng.standard_normal((3, 2, 16))
    energy = energy_response(bank, x)
    assert energy.shape == (5, 3, 2)
    phi = analysis_matrix(bank[1], n_fft=16).to(torch.complex128)
    expected = (phi @ torch.tensor(x[2, 1])).abs().square().sum()
    assert energy[1, 2, 1].item() == pytest.approx(expected.item(), rel=1e-12)


def test_mean_energy_is_input_energy_and_impulse_variance():
    # reference Checks: unit-norm x, N = 1024, J = 10, default sigma: mean energy 1;
    # impulse variance 2 / (J T).
    J, N, M = 10, 1024, 4000
    impulse = np.zeros(N)
    impulse[0] = 1.0
    for T in (8, 64, 512):
        energy = energy_response(gaussian(J, T, n_draws=M, seed=T), impulse).numpy()
        var = 2.0 / (J * T)
        assert abs(energy.mean() - 1.0) < 4 * np.sqrt(var / M)
        # sample variance of a chi2_{JT}/(JT): relative sd about sqrt(2/(M-1))
        assert energy.var(ddof=1) == pytest.approx(var, rel=4 * np.sqrt(2.0 / (M - 1)))


def test_errors():
    bank = gaussian(2, 8, seed=0)
    with pytest.raises(ParameterError, match=r"kernel_size=8 must be <= n_samples=4"):
        energy_response(bank, np.ones(4))
    assert energy_response(bank, np.ones(4), mode="full").shape == ()
    with pytest.raises(ParameterError, match=r"mode='same' must be one of"):
        energy_response(bank, np.ones(16), mode="same")
    with pytest.raises(ParameterError, match=r"x.shape=\(0,\) must have n_samples >= 1"):
        energy_response(bank, np.ones(0))
    with pytest.raises(ParameterError, match="x must hold only finite values"):
        energy_response(bank, np.array([1.0, np.inf] * 8))
    with pytest.raises(TypeError, match="x must be a numpy array or a torch tensor"):
        energy_response(bank, "signal")
