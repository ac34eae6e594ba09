"""The FFT and eigenvalue routes of the energy Monte Carlo agree in distribution."""

import numpy as np
import pytest
from scipy import stats

from fbinit.analysis import energy_moments, energy_monte_carlo
from fbinit.errors import ParameterError
from fbinit.signals import impulse, random_walk, sine


def signals(n):
    return np.stack([impulse(n), random_walk(n, seed=3), sine(n, periods=5)])


@pytest.mark.parametrize("mode", ["circular", "full"])
def test_fft_and_eigen_routes_agree(mode):
    x = signals(128)
    sizes = [8, 32, 128]
    fft = energy_monte_carlo(x, 6, sizes, n_draws=2000, mode=mode, seed=11).numpy()
    eig = energy_monte_carlo(x, 6, sizes, n_draws=2000, mode=mode, seed=12, method="eigen")
    assert fft.shape == eig.shape == (2000, 3, 3)
    for i in range(3):
        for s in range(3):
            # two-sample KS at a fixed seed; a wrong law (e.g. a factor 2 in sigma or a
            # wrong autocorrelation) gives p < 1e-10 here
            assert stats.ks_2samp(fft[:, i, s], eig.numpy()[:, i, s]).pvalue > 1e-3


def test_moments_of_the_monte_carlo_match_closed_forms():
    x = signals(256)
    sizes = [16, 64]
    energies = energy_monte_carlo(x, 10, sizes, n_draws=4000, seed=5).numpy()
    mean, var = (t.numpy() for t in energy_moments(x, 10, sizes))  # (3 signals, 2 sizes)
    mc_mean = energies.mean(0).T
    assert np.all(np.abs(mc_mean - mean) < 5 * np.sqrt(var / 4000))
    assert np.allclose(energies.var(0, ddof=1).T, var, rtol=0.2)


def test_draws_of_one_size_do_not_depend_on_the_others():
    x = impulse(64)
    alone = energy_monte_carlo(x, 4, [8], n_draws=50, seed=2)[:, 0]
    together = energy_monte_carlo(x, 4, [8, 16], n_draws=50, seed=2)[:, 0]
    assert np.array_equal(alone.numpy(), together.numpy())
    assert energy_monte_carlo(x, 4, 8, n_draws=50, seed=2).shape == (50,)


def test_errors():
    with pytest.raises(ParameterError, match="method='mc' must be one of"):
        energy_monte_carlo(impulse(16), 2, 4, n_draws=3, method="mc")
    with pytest.raises(ParameterError, match="n_draws=0 must be an integer >= 1"):
        energy_monte_carlo(impulse(16), 2, 4, n_draws=0)
    with pytest.raises(ParameterError, match="kernel_size=32 must be <= n_samples=16"):
        energy_monte_carlo(impulse(16), 2, [4, 32], n_draws=3)
