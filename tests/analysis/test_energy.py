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


# ---------------------------------------------------------------- extreme amplitudes


@pytest.mark.parametrize(
    ("x_scale", "w_scale"), [(1e160, 1e-20), (1e-170, 1e20), (1e150, 1.0), (1.0, 1e-150)]
)
@pytest.mark.parametrize(
    ("mode", "stride", "kernel_size"), [("circular", 1, 3), ("full", 1, 9), ("circular", 2, 3)]
)
def test_energy_scales_with_the_squared_amplitudes(
    x_scale, w_scale, mode, stride, kernel_size, rng
):
    """E(c w, a x) = (a c)^2 E(w, x) where the squares of the inputs overflow or underflow."""
    w = rng.standard_normal((4, kernel_size))
    x = rng.standard_normal((2, 12))
    reference = energy_response(Filterbank(torch.tensor(w), stride=stride), x, mode=mode)
    bank = Filterbank(torch.tensor(w * w_scale), stride=stride)
    got = energy_response(bank, x * x_scale, mode=mode).numpy()
    np.testing.assert_allclose(got / (x_scale * w_scale) ** 2, reference.numpy(), rtol=1e-12)


def test_energy_beyond_the_float_range_is_inf_with_a_warning(rng):
    x = rng.standard_normal(16) * 1e160  # ||x||^2 ~ 1e321 > 1.8e308
    with pytest.warns(RuntimeWarning, match="exceed the float64 range"):
        energy = energy_response(torch.eye(2), x)
    assert float(energy) == np.inf
    tiny = energy_response(torch.eye(2), rng.standard_normal(16) * 1e-170)
    assert float(tiny) == 0.0  # ~1e-339: below the smallest float64, rounds to 0


def test_empty_batches_give_empty_results(rng):
    bank = gaussian(3, 8, n_draws=2, seed=0)
    assert energy_response(bank, np.zeros((0, 256))).shape == (2, 0)
    assert energy_response(gaussian(3, 8, seed=0), np.zeros((4, 0, 32))).shape == (4, 0)
    empty_bank = Filterbank(torch.zeros(0, 3, 8))
    assert energy_response(empty_bank, rng.standard_normal((5, 32))).shape == (0, 5)


@pytest.mark.parametrize("stride", [1, 4])
@pytest.mark.parametrize("mode", ["circular", "full"])
def test_chunked_banks_and_signals_give_the_same_energies(stride, mode, monkeypatch, rng):
    import fbinit.analysis.energy as energy_module

    bank = Filterbank(gaussian(5, 40, n_draws=7, seed=1).weights, stride=stride)
    x = rng.standard_normal((3, 64))
    whole = energy_response(bank, x, mode=mode)
    monkeypatch.setattr(energy_module, "CHUNK_BYTES", 1)  # one bank (and signal) at a time
    chunked = energy_response(bank, x, mode=mode)
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-12)
    expected = [[direct_energy(w, xi, mode, stride) for xi in x] for w in bank.weights.numpy()]
    np.testing.assert_allclose(chunked.numpy(), expected, rtol=1e-10)
