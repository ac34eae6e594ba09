"""The weighted chi-square law of the energy response: Imhof, saddle point, Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

from fbinit.analysis import energy_response
from fbinit.analysis.autocorrelation import autocorrelation_eigenvalues
from fbinit.analysis.distribution import WeightedChiSquare, energy_distribution
from fbinit.banks import gaussian
from fbinit.errors import ParameterError
from fbinit.signals import constant, flute, impulse, random_walk, sine, snare, white_noise

J = 10


def _paper_signals(n: int) -> dict[str, np.ndarray]:
    return {
        "impulse": impulse(n),
        "white": white_noise(n, seed=0),
        "walk": random_walk(n, seed=0),
        "constant": constant(n),
        "sine": sine(n, periods=8),
    }


def _interp_cdf(law: WeightedChiSquare, lo: float, hi: float, n: int = 3000):
    """Exact cdf on a fine grid, interpolated (error ~1e-7, far below KS resolution)."""
    grid = np.linspace(lo, hi, n)
    values = law.cdf(grid).numpy()
    return lambda q: np.interp(q, grid, values, left=0.0, right=1.0)


# ------------------------------------------------------------------ closed forms


def test_equal_weights_are_a_scaled_chi_square():
    law = WeightedChiSquare([0.25] * 4, dof=3)  # chi2_12 / 4
    q = np.linspace(0.05, 10, 40)
    np.testing.assert_allclose(law.cdf(q).numpy(), scipy.stats.chi2(12).cdf(4 * q), atol=1e-14)
    p = np.array([1e-3, 0.05, 0.5, 0.99])
    np.testing.assert_allclose(law.ppf(p).numpy(), scipy.stats.chi2(12).ppf(p) / 4, rtol=1e-12)


@pytest.mark.parametrize("method", ["imhof", "saddlepoint"])
def test_two_exponentials_closed_form(method):
    # a1 chi2_2 + a2 chi2_2 is hypoexponential: P(Q > q) = (a1 e^{-q/2a1} - a2 e^{-q/2a2})/(a1-a2)
    a1, a2 = 0.7, 0.2
    law = WeightedChiSquare([a1, a2], dof=2)
    q = np.linspace(0.1, 12, 30)
    exact = (a1 * np.exp(-q / (2 * a1)) - a2 * np.exp(-q / (2 * a2))) / (a1 - a2)
    tol = 1e-10 if method == "imhof" else 6e-3
    np.testing.assert_allclose(law.sf(q, method=method).numpy(), exact, atol=tol)
    np.testing.assert_allclose(law.cdf(q, method=method).numpy(), 1 - exact, atol=tol)


def test_imhof_many_distinct_weights_against_chi2_mixture():
    # weights 1 and 1 + 1e-9: indistinguishable from chi2_{2h} to ~1e-9
    law = WeightedChiSquare([1.0, 1.0 + 1e-9], dof=5)
    q = np.linspace(1, 30, 30)
    np.testing.assert_allclose(law.cdf(q).numpy(), scipy.stats.chi2(10).cdf(q), atol=1e-8)


def test_mean_var_and_zero_padding():
    law = WeightedChiSquare([[0.5, 0.25, 0.0], [1.0, 0.0, 0.0]], dof=[2.0, 4.0, 1.0])
    np.testing.assert_allclose(law.mean.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(law.var.numpy(), [2 * (2 * 0.25 + 4 * 0.0625), 4.0])
    single = WeightedChiSquare([1.0], dof=2.0)
    np.testing.assert_allclose(law.cdf(3.0)[1], single.cdf(3.0), atol=1e-14)


def test_cdf_edges_and_broadcasting():
    law = WeightedChiSquare(torch.tensor([[0.3, 0.1], [0.2, 0.2], [0.5, 0.05]]), dof=3)
    assert law.batch_shape == (3,)
    assert law.cdf(torch.tensor([[0.5], [1.0]])).shape == (2, 3)
    assert torch.all(law.cdf(0.0) == 0) and torch.all(law.sf(-1.0) == 1)
    q = torch.tensor([0.3, 1.2, 5.0])[:, None]
    np.testing.assert_allclose((law.cdf(q) + law.sf(q)).numpy(), 1.0, atol=1e-15)
    p = np.array([1e-3, 0.05, 0.5, 0.95, 0.999])
    qs = law.ppf(p[:, None])
    np.testing.assert_allclose(law.cdf(qs).numpy(), np.broadcast_to(p[:, None], (5, 3)), atol=1e-9)


# -------------------------------------------------------- the paper's exact checks


def test_reference_quantiles_impulse_and_constant():
    n = 1024
    sizes = [8, 16, 32, 64, 128, 256, 512, 1024]
    published = [0.2735, 0.1907, 0.1335, 0.0937, 0.0659, 0.0464, 0.0327, 0.0231]
    law = energy_distribution(impulse(n), J, sizes)
    q95 = law.ppf(0.95) - 1
    np.testing.assert_allclose(q95.numpy(), published, atol=6e-5)  # 4 published decimals
    oracle = [scipy.stats.chi2(J * t).ppf(0.95) / (J * t) - 1 for t in sizes]
    np.testing.assert_allclose(q95.numpy(), oracle, rtol=1e-9)
    law = energy_distribution(constant(n), J, [8, 64, 1024])
    np.testing.assert_allclose((law.ppf(0.95) - 1).numpy(), 0.8307, atol=6e-5)
    np.testing.assert_allclose(law.mean.numpy(), 1.0, rtol=1e-12)


def test_law_moments_match_closed_forms():
    n = 512
    sizes = [8, 64, 256]
    x = np.stack(list(_paper_signals(n).values()))
    law = energy_distribution(x, J, sizes)
    assert law.batch_shape == (5, 3)
    np.testing.assert_allclose(law.mean.numpy(), 1.0, rtol=1e-10)
    t = np.array(sizes)
    np.testing.assert_allclose(law.var[0].numpy(), 2 / (J * t), rtol=1e-10)  # impulse
    np.testing.assert_allclose(law.var[3].numpy(), 2 / J, rtol=1e-10)  # constant
    w0 = 2 * np.pi * 8 / n
    sine_var = 1 / J + (np.sin(t * w0) / np.sin(w0)) ** 2 / (J * t**2)
    np.testing.assert_allclose(law.var[4].numpy(), sine_var, rtol=1e-10)
    # sigma scales every weight: mean J T sigma^2 ||x||^2
    scaled = energy_distribution(3.0 * x, J, sizes, sigma=0.1)
    np.testing.assert_allclose(scaled.mean.numpy(), np.broadcast_to(J * t * 0.01 * 9.0, (5, 3)))


# ------------------------------------------------ Imhof vs saddle point vs Monte Carlo


def test_imhof_vs_saddlepoint_on_signal_laws():
    n = 1024
    sigs = _paper_signals(n) | {"flute": flute(n, seed=0), "snare": snare(n, seed=0)}
    law = energy_distribution(np.stack(list(sigs.values())), J, [16, 256])
    worst = 0.0
    for b, name in enumerate(sigs):
        for s in range(2):
            one = WeightedChiSquare(law.weights[b, s], law.dof[b, s])
            lo, hi = one.ppf(1e-3).item(), one.ppf(1 - 1e-3).item()
            q = np.linspace(lo, hi, 200)
            diff = (one.cdf(q) - one.cdf(q, method="saddlepoint")).abs().max().item()
            worst = max(worst, diff)
            assert diff < 1e-3, (name, s, diff)
            # quantiles: saddle point within 1e-3 of the mean energy
            p = np.array([1e-3, 0.01, 0.05, 0.95, 0.99, 0.999])
            gap = (one.ppf(p) - one.ppf(p, method="saddlepoint")).abs().max().item()
            assert gap < 1e-3 * one.mean.item(), (name, s, gap)
    assert worst > 0  # the two methods are distinct computations


def test_sampler_goodness_of_fit_200k():
    x = random_walk(512, seed=3)
    law = energy_distribution(x, J, 24)
    draws = law.sample(200_000, seed=7).numpy()
    assert draws.shape == (200_000,)
    cdf = _interp_cdf(law, draws.min(), draws.max())
    assert scipy.stats.kstest(draws, cdf).pvalue > 0.01
    # quantiles within 4 Monte Carlo standard errors sqrt(p(1-p)/n) / f(q)
    p = np.array([0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 0.999])
    q = law.ppf(p).numpy()
    h = 1e-4 * law.mean.item()
    pdf = (law.cdf(q + h) - law.cdf(q - h)).numpy() / (2 * h)
    se = np.sqrt(p * (1 - p) / draws.size) / pdf
    assert np.all(np.abs(np.quantile(draws, p) - q) < 4 * se)
    assert abs(draws.mean() - law.mean.item()) < 4 * np.sqrt(law.var.item() / draws.size)


def test_sampler_reproducible_and_batched():
    law = WeightedChiSquare([[0.5, 0.1], [0.2, 0.2]], dof=4)
    a = law.sample(1000, seed=3)
    assert a.shape == (1000, 2) and a.dtype == torch.float64
    assert torch.equal(a, law.sample(1000, seed=3))
    assert not torch.equal(a, law.sample(1000, seed=4))
    assert torch.equal(a, law.sample(1000, generator=np.random.default_rng(3)))


def test_sampler_matches_direct_eigenvalue_monte_carlo():
    # the sampler against sum_i sigma^2 lambda_i chi2_J drawn directly from the eigenvalues
    x, t, m = white_noise(256, seed=5), 16, 100_000
    lam = autocorrelation_eigenvalues(x, t).numpy()
    direct = np.random.default_rng(11).chisquare(J, size=(m, t)) @ lam / (J * t)
    draws = energy_distribution(x, J, t).sample(m, seed=12).numpy()
    assert scipy.stats.ks_2samp(draws, direct).pvalue > 0.01
    se = np.sqrt(direct.var() / m)
    assert abs(draws.mean() - direct.mean()) < 4 * np.sqrt(2) * se


@pytest.mark.parametrize(("mode", "t"), [("circular", 32), ("full", 32), ("full", 400)])
def test_law_matches_random_banks(mode, t):
    # actual Gaussian banks convolved with x, against the exact law (T > N in full mode)
    x = random_walk(256, seed=1)
    energies = energy_response(gaussian(J, t, n_draws=3000, seed=0), x, mode=mode).numpy()
    law = energy_distribution(x, J, t, mode=mode)
    cdf = _interp_cdf(law, energies.min(), energies.max())
    assert scipy.stats.kstest(energies, cdf).pvalue > 0.01
    se = np.sqrt(law.var.item() / energies.size)
    assert abs(energies.mean() - 1.0) < 4 * se  # mean energy 1 for a unit-norm signal


# --------------------------------------------------------------------- lumped path


def test_lumped_law_matches_exact():
    n, t = 2048, 512
    sigs = {
        "white": white_noise(n, seed=0),
        "walk": random_walk(n, seed=0),
        "sine+noise": sine(n, periods=37.3) + 0.05 * white_noise(n, seed=1),
        "snare": snare(n, seed=0),
    }
    x = np.stack(list(sigs.values()))
    exact = energy_distribution(x, J, t, method="exact")
    lumped = energy_distribution(x, J, t, method="lumped", n_top=32)
    # mean and variance are exact by construction
    np.testing.assert_allclose(lumped.mean.numpy(), exact.mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(lumped.var.numpy(), exact.var.numpy(), rtol=1e-8)
    p = torch.tensor([0.95, 0.99, 0.999], dtype=torch.float64)[:, None]
    a_exact = exact.ppf(p) / exact.mean - 1
    a_lumped = lumped.ppf(p) / lumped.mean - 1
    rel = ((a_lumped - a_exact) / a_exact).abs().amax(0)
    assert rel.max().item() < 3e-3  # measured 1.6e-3 (white noise, the flattest spectrum)
    assert rel[1:3].max().item() < 1e-6  # decaying spectra: the top 32 carry the law


def test_lumped_with_all_eigenvalues_is_exact():
    x = flute(512, seed=0)
    a = energy_distribution(x, J, [16, 32], method="lumped", n_top=32)
    b = energy_distribution(x, J, [16, 32], method="exact")
    np.testing.assert_allclose(a.ppf(0.99).numpy(), b.ppf(0.99).numpy(), rtol=1e-10)


# ---------------------------------------------------------------------- error paths


def test_low_degrees_of_freedom_warn():
    law = WeightedChiSquare([0.7, 0.2], dof=1)
    with pytest.warns(UserWarning, match="Imhof's integral truncated"):
        value = law.cdf(2.0).item()
    assert abs(value - law.cdf(2.0, method="saddlepoint").item()) < 0.02


def test_errors():
    with pytest.raises(ParameterError, match="weights min=-0.1 must be >= 0"):
        WeightedChiSquare([1.0, -0.1])
    with pytest.raises(ParameterError, match="positive entry in every law"):
        WeightedChiSquare([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ParameterError, match="dof=0.0 must be a finite number > 0"):
        WeightedChiSquare([1.0], dof=0)
    with pytest.raises(ParameterError, match="dof must be > 0"):
        WeightedChiSquare([1.0, 2.0], dof=[1.0, -1.0])
    with pytest.raises(ParameterError, match=r"dof.shape=\(3,\) must broadcast"):
        WeightedChiSquare([1.0, 2.0], dof=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="weights must be real"):
        WeightedChiSquare([1.0 + 1j])
    law = WeightedChiSquare([1.0, 2.0], dof=3)
    with pytest.raises(ParameterError, match="p=1.0 must be in the open interval"):
        law.ppf([0.5, 1.0])
    with pytest.raises(ParameterError, match="p=0.0 must be in the open interval"):
        law.ppf(0.0)
    with pytest.raises(ParameterError, match="method='exact' must be one of"):
        law.cdf(1.0, method="exact")
    with pytest.raises(ParameterError, match="seed and generator must not both be given"):
        law.sample(3, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        law.sample(3, generator=torch.Generator())
    with pytest.raises(ParameterError, match="n=0 must be an integer >= 1"):
        law.sample(0)
    x = white_noise(64, seed=0)
    with pytest.raises(ParameterError, match="n_filters=0 must be an integer >= 1"):
        energy_distribution(x, 0, 8)
    with pytest.raises(ParameterError, match="kernel_size=65 must be <= n_samples=64"):
        energy_distribution(x, J, 65)
    with pytest.raises(ParameterError, match=r"\|\|x\|\|\^2=0 must be > 0"):
        energy_distribution(np.zeros(64), J, 8)
    with pytest.raises(ParameterError, match=r"\|\|x\|\|\^2=0 at batch indices \[\[1\]\]"):
        energy_distribution(np.stack([x, 0 * x]), J, 8)
    with pytest.raises(ParameterError, match="method='dense' must be one of"):
        energy_distribution(x, J, 8, method="dense")
    with pytest.raises(ParameterError, match="sigma=-1.0 must be a finite number > 0"):
        energy_distribution(x, J, 8, sigma=-1.0)
