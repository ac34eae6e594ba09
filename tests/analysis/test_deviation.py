"""Moments of the energy response, deviation bounds and exact deviations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch

from fbinit.analysis.autocorrelation import autocorrelation_eigenvalues
from fbinit.analysis.deviation import deviation_bound, energy_moments, exact_deviation
from fbinit.analysis.distribution import energy_distribution
from fbinit.errors import ParameterError
from fbinit.signals import constant, impulse, random_walk, sine, white_noise

J = 10
SIZES = [8, 16, 32, 64, 128, 256, 512]
PROBS = [0.05, 0.01, 0.001]


def _grid_signals(n: int) -> np.ndarray:
    return np.stack(
        [
            impulse(n),
            white_noise(n, seed=0),
            random_walk(n, seed=0),
            constant(n),
            sine(n, periods=8),
        ]
    )


# ------------------------------------------------------------------------ moments


def test_moments_special_signals():
    n = 1024
    sizes = np.array([8, 16, 32, 64, 128, 256, 512, 1024])
    mean, var = energy_moments(impulse(n), J, sizes.tolist())
    np.testing.assert_allclose(mean.numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), 2 / (J * sizes), rtol=1e-12)
    _, var = energy_moments(constant(n), J, sizes.tolist())
    np.testing.assert_allclose(var.numpy(), 2 / J, rtol=1e-12)
    _, var = energy_moments(-constant(n) * (-1.0) ** np.arange(n), J, sizes.tolist())
    np.testing.assert_allclose(var.numpy(), 2 / J, rtol=1e-12)  # (-1)^n: rank one too
    for periods in (3, 8, 100):
        w0 = 2 * np.pi * periods / n
        _, var = energy_moments(sine(n, periods=periods, phase=0.7), J, sizes.tolist())
        expected = 1 / J + (np.sin(sizes * w0) / np.sin(w0)) ** 2 / (J * sizes**2)
        np.testing.assert_allclose(var.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("mode", ["circular", "full"])
def test_moments_match_eigenvalues(rng, mode):
    x = rng.standard_normal((3, 200)).cumsum(-1)
    sizes = [5, 50, 200] + ([300] if mode == "full" else [])
    sigma = 0.03
    mean, var = energy_moments(x, J, sizes, sigma=sigma, mode=mode)
    assert mean.shape == var.shape == (3, len(sizes))
    lam = autocorrelation_eigenvalues(x, sizes, mode=mode).numpy()
    np.testing.assert_allclose(mean.numpy(), J * sigma**2 * lam.sum(-1), rtol=1e-10)
    np.testing.assert_allclose(var.numpy(), 2 * J * sigma**4 * (lam**2).sum(-1), rtol=1e-9)
    # the mean is J T sigma^2 ||x||^2 in both modes
    np.testing.assert_allclose(
        mean.numpy(), J * np.array(sizes) * sigma**2 * (x**2).sum(-1, keepdims=True), rtol=1e-12
    )


def test_many_kernel_sizes_vectorised():
    # cumulative-sum evaluation for 231 kernel sizes against dense Toeplitz Frobenius norms
    x = random_walk(3000, seed=2)
    sizes = list(range(1, 3001, 13))
    _, var = energy_moments(x, J, sizes)
    assert var.shape == (len(sizes),)
    r = np.array([x @ np.roll(x, -tau) for tau in range(3000)])
    for t in (1, 14, 1002, 2991):
        frob = np.sum(scipy.linalg.toeplitz(r[:t]) ** 2)
        assert var[sizes.index(t)].item() == pytest.approx(2 * frob / (J * t**2), rel=1e-10)


# ------------------------------------------------------------------------- bounds


def test_cantelli_reference_values():
    n, sizes = 1024, np.array([8, 64, 1024])
    alpha = deviation_bound(impulse(n), J, sizes.tolist(), 0.05, method="cantelli")
    np.testing.assert_allclose(alpha.numpy(), np.sqrt(3.8 / sizes), rtol=1e-12)
    alpha = deviation_bound(constant(n), J, sizes.tolist(), 0.05, method="cantelli", tail="lower")
    np.testing.assert_allclose(alpha.numpy(), np.sqrt(3.8), rtol=1e-12)
    alpha = deviation_bound(impulse(n), J, 64, 0.05, method="chebyshev")
    assert alpha.item() == pytest.approx(np.sqrt(2 / (J * 64) / 0.05), rel=1e-12)


def test_bernstein_closed_form_impulse():
    # Q_T = I: ||a||_2 = 1/sqrt(JT), ||a||_inf = 1/(JT)
    t, p = 128, np.array(PROBS)
    u = np.log(1 / p)
    up = deviation_bound(impulse(512), J, t, PROBS)
    down = deviation_bound(impulse(512), J, t, PROBS, tail="lower")
    np.testing.assert_allclose(up.numpy(), 2 * np.sqrt(u / (J * t)) + 2 * u / (J * t), rtol=1e-12)
    np.testing.assert_allclose(down.numpy(), 2 * np.sqrt(u / (J * t)), rtol=1e-12)


@pytest.fixture(scope="module")
def grid_exact():
    """Exact deviations of the grid signals for both tails, from one law per signal."""
    x = _grid_signals(1024)
    law = energy_distribution(x, J, SIZES)
    p = torch.tensor(PROBS, dtype=torch.float64)
    levels = torch.cat([1 - p, p]).reshape(-1, 1, 1)
    q = law.ppf(levels).movedim(0, -1) / law.mean[..., None]
    return x, {"upper": q[..., :3] - 1, "lower": 1 - q[..., 3:]}


@pytest.mark.parametrize("tail", ["upper", "lower"])
def test_bounds_dominate_exact_deviation(grid_exact, tail):
    x, exact = grid_exact
    exact = exact[tail]
    assert exact.shape == (5, len(SIZES), 3)
    assert bool((exact > 0).all())
    for method in ("bernstein", "cantelli", "chebyshev"):
        bound = deviation_bound(x, J, SIZES, PROBS, method=method, tail=tail)
        assert bound.shape == exact.shape
        assert bool((bound >= exact).all()), (method, tail, (bound - exact).min().item())


def test_exact_deviation_matches_the_law(grid_exact):
    x, exact = grid_exact
    sizes = [16, 128]
    at = [SIZES.index(t) for t in sizes]
    for tail in ("upper", "lower"):
        alpha = exact_deviation(x[1:3], J, sizes, PROBS, tail=tail)
        # two Imhof grids (different q ranges), each with cdf error ~1e-10
        np.testing.assert_allclose(alpha.numpy(), exact[tail][1:3, at].numpy(), rtol=1e-8)


def test_reference_curve_is_violated():
    # the notebooks' "Chernoff" curve: impulse, J = 10, T = 64, p = 0.01
    x = impulse(1024)
    reference = deviation_bound(x, J, 64, 0.01, method="reference").item()
    exact = exact_deviation(x, J, 64, 0.01).item()
    assert reference == pytest.approx(0.127, abs=5e-4)
    assert exact == pytest.approx(0.135, abs=5e-4)
    assert reference < exact
    assert exact == pytest.approx(scipy.stats.chi2(J * 64).ppf(0.99) / (J * 64) - 1, rel=1e-9)
    # and it is the Bernstein exponent with 2 in place of 4: alpha solves a quadratic
    u, a2, ainf = np.log(100), np.sqrt(1 / 640), 1 / 640
    assert np.exp(-(reference**2) / (2 * a2**2 + 2 * ainf * reference)) == pytest.approx(
        0.01, rel=1e-10
    )
    bernstein = deviation_bound(x, J, 64, 0.01).item()
    assert bernstein == pytest.approx(2 * a2 * np.sqrt(u) + 2 * ainf * u, rel=1e-12)
    assert bernstein > exact


# --------------------------------------------------------------- exact deviation


@pytest.mark.parametrize("tail", ["upper", "lower"])
def test_exact_deviation_is_the_tail_quantile(tail):
    x = random_walk(512, seed=4)
    alpha = exact_deviation(x, J, [16, 128], PROBS, tail=tail)
    law = energy_distribution(x, J, [16, 128])
    for s in range(2):
        for k, p in enumerate(PROBS):
            a = alpha[s, k].item()
            if tail == "upper":
                prob = law.sf((1 + a) * law.mean[s])[s].item()
            else:
                prob = law.cdf((1 - a) * law.mean[s])[s].item()
            assert prob == pytest.approx(p, abs=1e-9)


def test_exact_deviation_is_scale_free():
    x = white_noise(256, seed=1)
    a = exact_deviation(x, J, 32, 0.01)
    b = exact_deviation(5.0 * x, J, 32, 0.01, sigma=0.2)
    assert a.item() == pytest.approx(b.item(), rel=1e-9)


def test_constant_exact_deviation_reference_value():
    alpha = exact_deviation(constant(1024), J, [8, 128, 512], 0.05)
    np.testing.assert_allclose(alpha.numpy(), 0.8307, atol=6e-5)


# ------------------------------------------------------------------------ errors


def test_errors():
    x = white_noise(64, seed=0)
    for p in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ParameterError, match=f"p={p} must be in the open interval"):
            deviation_bound(x, J, 8, p)
    with pytest.raises(ParameterError, match="p=1.0 must be in the open interval"):
        exact_deviation(x, J, 8, [0.1, 1.0])
    with pytest.raises(ParameterError, match=r"p=\[\] must hold"):
        deviation_bound(x, J, 8, [])
    with pytest.raises(ParameterError, match="kernel_size=128 must be <= n_samples=64"):
        deviation_bound(x, J, [8, 128], 0.05)
    with pytest.raises(ParameterError, match="kernel_size=65 must be <= n_samples=64"):
        energy_moments(x, J, 65)
    with pytest.raises(ParameterError, match=r"\|\|x\|\|\^2=0 must be > 0"):
        deviation_bound(np.zeros(64), J, 8, 0.05)
    with pytest.raises(ParameterError, match=r"\|\|x\|\|\^2=0 must be > 0"):
        energy_moments(np.zeros(64), J, 8)
    with pytest.raises(ParameterError, match="method='hoeffding' must be one of"):
        deviation_bound(x, J, 8, 0.05, method="hoeffding")
    with pytest.raises(ParameterError, match="tail='both' must be one of"):
        deviation_bound(x, J, 8, 0.05, tail="both")
    with pytest.raises(ParameterError, match="tail='both' must be one of"):
        exact_deviation(x, J, 8, 0.05, tail="both")
    with pytest.raises(ParameterError, match="tail='lower' must be 'upper' with method="):
        deviation_bound(x, J, 8, 0.05, method="reference", tail="lower")
    with pytest.raises(ParameterError, match="n_filters=0 must be an integer >= 1"):
        deviation_bound(x, 0, 8, 0.05)
    with pytest.raises(ParameterError, match="n_filters=0 must be an integer >= 1"):
        energy_moments(x, 0, 8)
    with pytest.raises(TypeError, match="n_filters=2.5 must be an integer"):
        exact_deviation(x, 2.5, 8, 0.05)
    with pytest.raises(ParameterError, match="mode='valid' must be one of"):
        energy_moments(x, J, 8, mode="valid")
