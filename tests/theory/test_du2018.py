"""Tests of fbinit.theory.du2018_conv_filter (Du, Lee, Tian, ICLR 2018).

Closed forms are checked against Monte Carlo with a tolerance of Z_TOL standard errors of
the estimate (seeded, so each check is deterministic); identities that are exact are
checked to floating-point precision.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from fbinit.errors import ParameterError
from fbinit.theory.du2018_conv_filter import (
    SingleFilterCNN,
    StepSchedule,
    angle,
    audio_frames,
    constant_schedule,
    empirical_gd,
    empirical_gradient,
    empirical_loss,
    extract_patches,
    gauss_newton,
    hessian_at_optimum,
    initial_filter,
    overlap_experiment,
    patch_sampler,
    plot_overlap,
    plot_trajectories,
    population_gd,
    population_gradient,
    population_loss,
    relu_kernel,
    sample_patches,
    sample_signals,
    schedule_experiment,
    single_neuron_gradient,
    student_output,
    two_stage_schedule,
    wedge_eigenvalues,
    wedge_second_moment,
    write_curves,
)
from fbinit.theory.du2018_conv_filter.closed_forms import _population_loss

Z_TOL = 5.0  # standard errors allowed between a closed form and its Monte Carlo estimate
N_MC = 200_000


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _pair_at_angle(p: int, theta: float, seed: int, norms=(1.3, 0.7)):
    """Two vectors of given norms at angle theta in a random plane."""
    q, _ = torch.linalg.qr(torch.randn(p, 2, generator=_gen(seed), dtype=torch.float64))
    a = norms[0] * q[:, 0]
    b = norms[1] * (math.cos(theta) * q[:, 0] + math.sin(theta) * q[:, 1])
    return a, b


def _within(mc_samples: torch.Tensor, closed: torch.Tensor) -> torch.Tensor:
    """|mean - closed| / standard error, per component (samples along dim 0)."""
    mean = mc_samples.mean(0)
    se = mc_samples.std(0) / math.sqrt(mc_samples.shape[0])
    return (mean - closed).abs() / se


# ---------------------------------------------------------------- closed forms vs Monte Carlo


@pytest.mark.parametrize("theta", [0.0, 0.4, 1.6, 2.9])
def test_relu_kernel_matches_monte_carlo(theta):
    a, b = _pair_at_angle(6, theta, seed=1)
    x = torch.randn(N_MC, 6, generator=_gen(2), dtype=torch.float64)
    samples = torch.relu(x @ a) * torch.relu(x @ b)
    assert float(_within(samples[:, None], relu_kernel(a, b)[None]).max()) < Z_TOL


def test_relu_kernel_exact_values():
    a = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert float(relu_kernel(a, a)) == pytest.approx(12.5, rel=1e-14)  # ||a||^2 / 2
    assert float(relu_kernel(a, -a)) == pytest.approx(0.0, abs=1e-14)
    # orthogonal: ||a|| ||b|| / (2 pi)
    assert float(relu_kernel([1.0, 0.0], [0.0, 2.0])) == pytest.approx(1 / math.pi, rel=1e-14)


@pytest.mark.parametrize("theta", [0.3, 1.5, 2.8])
def test_single_neuron_gradient_matches_monte_carlo(theta):
    w, w_star = _pair_at_angle(5, theta, seed=3)
    x = torch.randn(N_MC, 5, generator=_gen(4), dtype=torch.float64)
    pre = x @ w
    samples = ((torch.relu(pre) - torch.relu(x @ w_star)) * (pre >= 0))[:, None] * x
    assert float(_within(samples, single_neuron_gradient(w, w_star)).max()) < Z_TOL


@pytest.mark.parametrize("theta", [0.5, 2.0, 3.0])
def test_population_loss_and_gradient_match_monte_carlo(theta):
    p, k = 6, 4
    w, w_star = _pair_at_angle(p, theta, seed=5)
    Z = torch.randn(N_MC, k, p, generator=_gen(6), dtype=torch.float64)
    residual = student_output(Z, w) - student_output(Z, w_star)
    assert float(_within(0.5 * residual[:, None] ** 2, population_loss(w, w_star, k))) < Z_TOL
    J = (Z * (Z @ w >= 0)[..., None]).mean(1)
    grads = residual[:, None] * J
    assert float(_within(grads, population_gradient(w, w_star, k)).max()) < Z_TOL
    # the sample mean of the per-sample gradients is the empirical gradient, exactly
    torch.testing.assert_close(grads.mean(0), empirical_gradient(Z, w, w_star))


def test_population_gradient_is_the_gradient_of_population_loss():
    p, k = 7, 3
    gen = _gen(7)
    w_star = torch.randn(p, generator=gen, dtype=torch.float64)
    w = torch.randn(5, p, generator=gen, dtype=torch.float64).requires_grad_(True)
    _population_loss(w, w_star, k).sum().backward()  # the closed form, through autograd
    torch.testing.assert_close(
        w.grad, population_gradient(w.detach(), w_star, k), atol=1e-12, rtol=0
    )


def test_single_neuron_case_k1_and_loss_formula():
    w, w_star = _pair_at_angle(4, 1.1, seed=8)
    torch.testing.assert_close(population_gradient(w, w_star, 1), single_neuron_gradient(w, w_star))
    # l = E[d^2] / 2 with E[d^2] = K(w,w) - 2K(w,w*) + K(w*,w*)
    d2 = relu_kernel(w, w) - 2 * relu_kernel(w, w_star) + relu_kernel(w_star, w_star)
    torch.testing.assert_close(population_loss(w, w_star, 1), d2 / 2)


@pytest.mark.parametrize("theta", [0.0, 0.7, 2.2, 3.0])
def test_wedge_second_moment_matches_monte_carlo(theta):
    p = 5
    w, w_star = _pair_at_angle(p, theta, seed=9)
    x = torch.randn(N_MC, p, generator=_gen(10), dtype=torch.float64)
    mask = ((x @ w >= 0) & (x @ w_star >= 0)).to(torch.float64)
    samples = (x[:, :, None] * x[:, None, :] * mask[:, None, None]).reshape(N_MC, -1)
    closed = wedge_second_moment(w, w_star)
    assert float(_within(samples, closed.reshape(-1)).max()) < Z_TOL
    # eigenvalues of the closed form are the paper's (a -+ sin a)/2pi and a/2pi (p-2 times)
    torch.testing.assert_close(
        torch.linalg.eigvalsh(closed), wedge_eigenvalues(theta, p), atol=1e-12, rtol=0
    )
    # Weyl: eigenvalues of the Monte Carlo matrix are within its error norm of the formula
    mc = samples.mean(0).reshape(p, p)
    err = torch.linalg.matrix_norm(mc - closed, ord=2)
    se = float((samples.std(0) / math.sqrt(N_MC)).norm())  # Frobenius norm of the s.e.
    assert float(err) < Z_TOL * se
    gap = (torch.linalg.eigvalsh(mc) - wedge_eigenvalues(theta, p)).abs().max()
    assert float(gap) <= float(err) + 1e-12


def test_wedge_eigenvalues_formula_and_gradient_identity():
    a = math.pi - 1.0
    ev = wedge_eigenvalues(1.0, 4)
    expected = torch.tensor([a - math.sin(a), a, a, a + math.sin(a)], dtype=torch.float64)
    torch.testing.assert_close(ev, expected / (2 * math.pi), atol=1e-15, rtol=0)
    # the single-neuron gradient is E[xx^T 1{w}] w - E[xx^T 1{w, w*}] w* = w/2 - M w*
    w, w_star = _pair_at_angle(6, 2.4, seed=11)
    M = wedge_second_moment(w, w_star)
    torch.testing.assert_close(single_neuron_gradient(w, w_star), w / 2 - M @ w_star)


def test_hessian_at_optimum_matches_monte_carlo():
    p, k = 5, 4
    w_star = torch.randn(p, generator=_gen(12), dtype=torch.float64)
    Z = torch.randn(N_MC, k, p, generator=_gen(13), dtype=torch.float64)
    J = (Z * (Z @ w_star >= 0)[..., None]).mean(1)
    samples = (J[:, :, None] * J[:, None, :]).reshape(N_MC, -1)
    closed = hessian_at_optimum(w_star, k)
    assert float(_within(samples, closed.reshape(-1)).max()) < Z_TOL
    torch.testing.assert_close(gauss_newton(Z, w_star), samples.mean(0).reshape(p, p))
    lam = torch.linalg.eigvalsh(closed)
    torch.testing.assert_close(lam[0], torch.tensor(1 / (2 * k), dtype=torch.float64))
    torch.testing.assert_close(
        lam[-1], torch.tensor(1 / (2 * k) + (k - 1) / (2 * math.pi * k), dtype=torch.float64)
    )


def test_angle_is_accurate_near_zero_and_pi():
    w = torch.tensor([1.0, 1e-9, 0.0], dtype=torch.float64)
    e = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    assert float(angle(w, e)) == pytest.approx(1e-9, rel=1e-6)
    assert float(angle(-w, e)) == pytest.approx(math.pi - 1e-9, rel=1e-12)


# ------------------------------------------------------------------------ model and gradient


def test_empirical_gradient_matches_autograd_of_module():
    p, k, s = 6, 5, 2
    gen = _gen(14)
    x = torch.randn(64, (k - 1) * s + p, generator=gen, dtype=torch.float64)
    w_star = torch.randn(p, generator=gen, dtype=torch.float64)
    student = SingleFilterCNN(p, stride=s, generator=gen)
    teacher = SingleFilterCNN(p, stride=s, w=w_star)
    loss = 0.5 * ((student(x) - teacher(x).detach()) ** 2).mean()
    loss.backward()
    Z = extract_patches(x, p, stride=s)
    w = student.w.detach()
    torch.testing.assert_close(student.w.grad, empirical_gradient(Z, w, w_star))
    torch.testing.assert_close(loss.detach(), empirical_loss(Z, w, w_star))
    # several filters at once give the same as one at a time
    W = torch.stack([w, w_star, -w])
    torch.testing.assert_close(
        empirical_gradient(Z, W, w_star)[0], empirical_gradient(Z, w, w_star)
    )


# ------------------------------------------------------------------------------- population GD


def test_population_gd_decreases_angle_monotonically_and_converges():
    p, k = 10, 4
    gen = _gen(15)
    w_star = torch.randn(p, generator=gen, dtype=torch.float64)
    w_star = w_star / w_star.norm()
    theta0 = math.pi - 0.05
    w0 = torch.stack([initial_filter(w_star, theta0=theta0, generator=gen) for _ in range(4)])
    eta = 1.0 / float(torch.linalg.eigvalsh(hessian_at_optimum(w_star, k))[-1])
    schedules = [
        constant_schedule(eta),
        constant_schedule(eta / 4),
        two_stage_schedule(eta / 4, eta, switch_angle=math.pi / 4),
    ]
    for schedule in schedules:
        traj = population_gd(w0, w_star, k=k, schedule=schedule, n_iter=600)
        assert traj.angle[0].tolist() == pytest.approx([theta0] * 4, abs=1e-12)
        steps = torch.diff(traj.angle, dim=0)
        assert float(steps.max()) <= 1e-15, schedule.name  # never increases
        moving = traj.angle[:-1] > 1e-6
        assert bool((steps[moving] < 0).all()), schedule.name  # strictly, until converged
        assert float(traj.distance[-1].max()) < 1e-8, schedule.name
        # the loss decreases too (closed-form population loss)
        assert float(torch.diff(traj.loss, dim=0).max()) <= 1e-15


def test_two_stage_schedule_switches_once_at_threshold():
    w_star = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    w0 = initial_filter(w_star, theta0=3.0, generator=_gen(16))
    traj = population_gd(
        w0, w_star, k=2, schedule=two_stage_schedule(0.5, 2.0, switch_angle=1.0), n_iter=300
    )
    first = int(torch.nonzero(traj.angle < 1.0)[0])
    assert bool((traj.eta[:first] == 0.5).all())
    assert bool((traj.eta[first:] == 2.0).all())


def test_sweep_schedule_equals_separate_runs():
    w_star = torch.tensor([0.6, 0.8, 0.0], dtype=torch.float64)
    w0 = initial_filter(w_star, theta0=2.5, generator=_gen(17))
    etas = torch.tensor([0.5, 2.0])
    both = population_gd(w0, w_star, k=3, schedule=constant_schedule(etas), n_iter=50)
    for j, eta in enumerate(etas.tolist()):
        one = population_gd(w0, w_star, k=3, schedule=constant_schedule(eta), n_iter=50)
        torch.testing.assert_close(both.distance[:, j], one.distance, atol=1e-13, rtol=0)


def test_divergent_step_is_reported_not_raised():
    w_star = torch.tensor([1.0, 0.0], dtype=torch.float64)
    traj = population_gd([0.5, 0.5], w_star, k=1, schedule=constant_schedule(50.0), n_iter=100)
    assert bool(traj.diverged)
    assert int(traj.iterations_to(1e-3)) == -1


# ---------------------------------------------------------------------------- empirical GD/SGD


def test_full_batch_gd_on_empirical_loss_recovers_teacher_non_gaussian():
    p, k = 6, 3
    gen = _gen(18)
    w_star = torch.randn(p, generator=gen, dtype=torch.float64)
    w0 = initial_filter(w_star, theta0=1.0, norm=1.0, generator=gen)
    traj = empirical_gd(
        w0,
        w_star,
        sampler=patch_sampler(p=p, k=k, distribution="uniform"),
        schedule=constant_schedule(2.0),
        n_iter=400,
        batch_size=500,
        n_train=500,
        generator=gen,
    )
    assert float(traj.distance[-1]) < 1e-8  # realisable: w* is a global minimum of every set
    assert float(traj.loss[-1]) < 1e-16


def test_online_sgd_single_samples_recovers_teacher():
    p, k = 5, 2
    gen = _gen(19)
    w_star = torch.randn(p, generator=gen, dtype=torch.float64)
    w_star = w_star / w_star.norm()
    w0 = initial_filter(w_star, theta0=1.2, generator=gen)
    traj = empirical_gd(
        w0,
        w_star,
        sampler=patch_sampler(p=p, k=k, distribution="laplace"),
        schedule=constant_schedule(0.1),
        n_iter=3000,
        batch_size=1,
        generator=gen,
    )
    assert float(traj.angle[-1]) < 1e-3  # the gradient noise vanishes at w*
    assert float(traj.angle[-1]) < float(traj.angle[0]) / 100


def test_empirical_gd_is_deterministic_given_seed():
    kwargs = dict(
        sampler=patch_sampler(p=4, k=3, stride=2, distribution="ar1", rho=0.5),
        schedule=constant_schedule(0.5),
        n_iter=20,
        batch_size=64,
    )
    w0, w_star = [1.0, -1.0, 0.5, 0.0], [0.0, 1.0, 1.0, 0.0]
    a = empirical_gd(w0, w_star, generator=_gen(20), **kwargs)
    b = empirical_gd(w0, w_star, generator=_gen(20), **kwargs)
    assert torch.equal(a.angle, b.angle) and torch.equal(a.w, b.w)


def test_large_batch_gradient_estimates_population_gradient():
    """With Gaussian non-overlapping patches, a fresh large batch is unbiased."""
    p, k = 4, 3
    w, w_star = _pair_at_angle(p, 2.0, seed=21)
    Z = sample_patches(N_MC, p=p, k=k, generator=_gen(22))
    residual = student_output(Z, w) - student_output(Z, w_star)
    grads = residual[:, None] * (Z * (Z @ w >= 0)[..., None]).mean(1)
    assert float(_within(grads, population_gradient(w, w_star, k)).max()) < Z_TOL


# -------------------------------------------------------------------------------------- data


@pytest.mark.parametrize("distribution", ["gaussian", "uniform", "laplace", "ar1"])
def test_signals_have_zero_mean_unit_variance(distribution):
    x = sample_signals(N_MC, 3, distribution=distribution, generator=_gen(23))
    assert float(_within(x, torch.zeros(3)).max()) < Z_TOL
    assert float(_within(x**2, torch.ones(3)).max()) < Z_TOL


def test_non_gaussian_shapes_and_ar1_correlation():
    u = sample_signals(N_MC, 1, distribution="uniform", generator=_gen(24))
    assert float(u.abs().max()) <= math.sqrt(3)
    lap = sample_signals(N_MC, 1, distribution="laplace", generator=_gen(25))
    assert float(_within(lap**4, torch.tensor([6.0]))) < Z_TOL  # Laplace kurtosis 6
    x = sample_signals(N_MC, 4, distribution="ar1", rho=0.7, generator=_gen(26))
    for lag in (1, 3):
        prod = x[:, lag:] * x[:, :-lag]
        assert float(_within(prod, torch.full((4 - lag,), 0.7**lag)).max()) < Z_TOL


def test_patches_overlap_by_kernel_minus_stride():
    Z = sample_patches(3, p=6, k=4, stride=2, generator=_gen(27))
    assert tuple(Z.shape) == (3, 4, 6)
    torch.testing.assert_close(Z[:, 1:, :4], Z[:, :-1, 2:], atol=0, rtol=0)
    x = torch.arange(10.0)[None]
    assert extract_patches(x, 3, stride=4).tolist() == [[[0, 1, 2], [4, 5, 6]]]


def test_audio_frames_are_slices_of_the_normalised_recording():
    rng = np.random.default_rng(0)
    signal = np.concatenate([np.zeros(500), 0.3 * rng.standard_normal(1500)])
    length, min_rms = 20, 0.5
    frames = audio_frames(300, length, signal=signal, min_rms=min_rms, generator=_gen(28)).numpy()
    # independent implementation: admissible windows and their common scale
    windows = np.lib.stride_tricks.sliding_window_view(signal, length)
    power = (windows**2).mean(1)
    admissible = windows[power >= min_rms**2 * (signal**2).mean()]
    scale = 1 / np.sqrt((admissible**2).mean())
    dist = ((frames[:, None, :] - scale * admissible[None]) ** 2).sum(-1).min(1)
    assert dist.max() < 1e-20  # every frame is a scaled admissible window
    assert (frames**2).mean(1).min() > 0  # never a silent frame
    powers = torch.as_tensor((frames**2).mean(1))[:, None]
    assert float(_within(powers, torch.ones(1))) < Z_TOL  # unit mean power


def test_audio_frames_from_bundled_example():
    frames = audio_frames(8, 40, generator=_gen(29))
    assert tuple(frames.shape) == (8, 40) and frames.dtype == torch.float64
    assert bool(torch.isfinite(frames).all())
    Z = patch_sampler(p=10, k=4, stride=5, distribution="audio")(6, _gen(30))
    assert tuple(Z.shape) == (6, 4, 10)


# ------------------------------------------------------------------------------- experiments


def test_schedule_experiment_population_converges_for_all_schedules(tmp_path):
    out = schedule_experiment(n_iter=400)
    assert set(out) == {"constant small", "constant large", "two-stage"}
    for traj in out.values():
        assert float(traj.distance[-1]) < 1e-8
    csv_path = write_curves({"schedules": out}, tmp_path / "c.csv")
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 3 * 401
    assert float(rows[0]["angle"]) == pytest.approx(math.pi - 0.1, abs=1e-8)
    png = plot_trajectories({"population": out}, tmp_path / "s.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_overlap_experiment_and_plot(tmp_path):
    out = overlap_experiment(
        strides=(4, 2),
        p=4,
        k=3,
        theta0s=(0.5, 1.0),
        n_iter=100,
        batch_size=512,
        curvature_samples=5000,
    )
    assert set(out) == {"s=4 theta0=0.50", "s=4 theta0=1.00", "s=2 theta0=0.50", "s=2 theta0=1.00"}
    for traj in out.values():
        assert float(traj.angle[-1]) < 0.05  # from angles below pi/2 every stride recovers w*
    png = plot_overlap(out, tmp_path / "o.png")
    assert png.stat().st_size > 1000


# ------------------------------------------------------------------------------------ errors


def test_errors():
    with pytest.raises(ParameterError, match="w must be nonzero"):
        single_neuron_gradient([0.0, 0.0], [1.0, 0.0])
    with pytest.raises(ParameterError, match=r"b.shape\[-1\]=3 must equal a.shape"):
        relu_kernel([1.0, 0.0], [1.0, 0.0, 0.0])
    with pytest.raises(ParameterError, match="theta must lie in"):
        wedge_eigenvalues(math.pi, 3)
    with pytest.raises(ParameterError, match="p=1 must be an integer >= 2"):
        wedge_eigenvalues(0.5, 1)
    with pytest.raises(ParameterError, match="must be < pi"):
        wedge_second_moment([1.0, 0.0], [-1.0, 0.0])
    with pytest.raises(ParameterError, match="k=0 must be an integer >= 1"):
        population_loss([1.0, 0.0], [1.0, 0.0], 0)
    with pytest.raises(TypeError, match="k=2.0 must be an integer"):
        population_gradient([1.0, 0.0], [1.0, 0.0], 2.0)
    with pytest.raises(ParameterError, match=r"Z.ndim=2 must be 3"):
        student_output(torch.ones(2, 3), torch.ones(3))
    with pytest.raises(ParameterError, match="distribution='cauchy' must be one of"):
        sample_signals(2, 3, distribution="cauchy")
    with pytest.raises(ParameterError, match="rho=1.0 must be in the open interval"):
        sample_signals(2, 3, distribution="ar1", rho=1.0)
    with pytest.raises(ParameterError, match="kernel_size=5 must be <= the signal length 3"):
        extract_patches(torch.ones(1, 3), 5)
    with pytest.raises(ParameterError, match="must be one real channel"):
        audio_frames(2, 4, signal=np.ones((2, 100)))
    with pytest.raises(ParameterError, match="min_rms=10.0 must leave at least one frame"):
        audio_frames(2, 4, signal=np.ones(100), min_rms=10.0)
    with pytest.raises(ParameterError, match="signal must not be all zeros"):
        audio_frames(2, 4, signal=np.zeros(100))
    with pytest.raises(ParameterError, match="eta_small=.* must be a scalar or vector > 0"):
        StepSchedule(-1.0, 1.0, 0.0, "bad")
    with pytest.raises(ParameterError, match="theta0=4.0 must be in"):
        initial_filter([1.0, 0.0], theta0=4.0)
    with pytest.raises(TypeError, match="schedule must be a StepSchedule"):
        population_gd([1.0, 0.0], [0.0, 1.0], k=2, schedule=0.1, n_iter=3)
    with pytest.raises(ParameterError, match="n_iter=-1 must be an integer >= 0"):
        population_gd([1.0, 0.0], [0.0, 1.0], k=2, schedule=constant_schedule(0.1), n_iter=-1)
    with pytest.raises(TypeError, match="sampler must be callable"):
        empirical_gd(
            [1.0, 0.0],
            [0.0, 1.0],
            sampler=None,
            schedule=constant_schedule(0.1),
            n_iter=1,
            batch_size=4,
        )
    with pytest.raises(ParameterError, match=r"w.shape=\(3,\) must be \(4,\)"):
        SingleFilterCNN(4, w=torch.ones(3))
