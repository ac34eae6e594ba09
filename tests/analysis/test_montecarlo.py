"""The FFT and eigenvalue routes of the energy Monte Carlo agree in distribution."""

import numpy as np
import pytest
import torch
from scipy import stats

from fbinit.analysis import energy_moments, energy_monte_carlo, montecarlo
from fbinit.banks import gaussian
from fbinit.banks.random import make_generator
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


@pytest.mark.parametrize(
    ("n_filters", "kernel_size", "n_draws"), [(3, 5, 37), (1, 2, 9), (4, 8, 21)]
)
@pytest.mark.parametrize("bytes_per_draw", [2**26, 2**26 // 5, 1])  # 1, 5, all draws a chunk
def test_chunked_draws_are_the_draws_of_one_call(n_filters, kernel_size, n_draws, bytes_per_draw):
    """The chunks continue one generator's stream: the banks of gaussian(..., n_draws=M)."""
    whole = gaussian(n_filters, kernel_size, n_draws=n_draws, seed=7).weights
    generator = make_generator(7)
    chunks = montecarlo._draw_chunks(n_draws, n_filters * kernel_size, bytes_per_draw)
    parts = [
        gaussian(n_filters, kernel_size, n_draws=b - a, generator=generator).weights
        for a, b in chunks
    ]
    assert chunks[0][0] == 0 and chunks[-1][1] == n_draws
    assert torch.equal(torch.cat(parts), whole)  # the same random numbers, exactly


def test_chunked_energies_equal_one_batch(monkeypatch):
    x = np.stack([impulse(64), sine(64, periods=3)])
    whole = energy_monte_carlo(x, 3, [5, 16], n_draws=37, seed=4)
    monkeypatch.setattr(montecarlo, "chunk_count", lambda *args: 1)  # 16 taps: 1 or 16 draws
    chunked = energy_monte_carlo(x, 3, [5, 16], n_draws=37, seed=4)
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-12)


def test_draw_count_beyond_the_memory_limit_is_refused_up_front():
    match = r"n_draws=10000000000 must be smaller: .* about 149 GB of memory"
    with pytest.raises(ParameterError, match=match):
        energy_monte_carlo(impulse(64), 4, [8, 16], n_draws=10**10)
