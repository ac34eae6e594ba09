"""Tests of fbinit.theory.ergen2021_convex_cnn (Ergen and Pilanci, ICLR 2021)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.linalg
import torch

from fbinit.errors import ParameterError
from fbinit.theory.ergen2021_convex_cnn import (
    TwoLayerCNN,
    arrangement_bound,
    audio_prediction_data,
    circular_conv,
    circular_experiment,
    cnn_forward,
    constraint_violation,
    convex_objective,
    convex_vs_nonconvex,
    enumerate_sign_patterns,
    factorization_cost,
    fourier_l1_penalty,
    make_dataset,
    min_norm_factorization,
    nonconvex_factorization,
    patches,
    pattern_growth,
    plot_circular,
    plot_comparison,
    plot_pattern_growth,
    primal_objective,
    problem_size,
    reconstruct,
    sample_sign_patterns,
    solve_convex,
    teacher_data,
    train_nonconvex,
)
from fbinit.theory.ergen2021_convex_cnn.model import _gradients

BETA = 0.01


@pytest.fixture(scope="module")
def reference():
    """n = 6, d = 6, h = 3, stride 1 (K = 4), beta = 0.01, solved over all patterns."""
    x, y = teacher_data(6, 6, 3, seed=0)
    X = patches(x, 3)
    pats = enumerate_sign_patterns(X)
    return X, y, pats, solve_convex(X, y, BETA, pats)


def test_reference_shapes_and_pattern_count(reference):
    X, _, pats, sol = reference
    assert X.shape == (4, 6, 3)
    assert len(pats) == arrangement_bound(24, 3) == 554
    assert sol.status == "optimal" and sol.solver == "CLARABEL" and sol.n_patterns == 554
    assert sol.solve_time > 0


def test_sampled_patterns_are_cells_of_the_arrangement(reference):
    X, _, pats, _ = reference
    exact = {p.tobytes() for p in pats}
    sampled = sample_sign_patterns(X, 20_000, seed=3)
    assert {p.tobytes() for p in sampled} <= exact
    assert len({p.tobytes() for p in sampled}) == len(sampled)  # deduplicated
    assert 300 < len(sampled) <= 554


def test_reconstructed_network_attains_the_convex_optimum(reference):
    X, y, pats, sol = reference
    U, w = reconstruct(sol)
    primal = float(primal_objective(torch.from_numpy(U), torch.from_numpy(w), X, y, BETA))
    assert primal == pytest.approx(sol.objective, abs=1e-7)
    # independent numpy evaluation of the convex objective at the solver's point
    assert convex_objective(sol.C, sol.C_prime, X, y, BETA, pats) == pytest.approx(
        sol.objective, abs=1e-9
    )
    assert 1 <= len(w) <= 2 * len(pats)


def test_enough_sampled_directions_reach_the_same_optimum(reference):
    X, y, _, sol = reference
    sampled = solve_convex(X, y, BETA, sample_sign_patterns(X, 2000, seed=0))
    assert sampled.n_patterns < 554
    assert sampled.objective == pytest.approx(sol.objective, abs=1e-7)
    # fewer patterns can only raise the optimum (a restriction of the program)
    few = solve_convex(X, y, BETA, sample_sign_patterns(X, 30, seed=0))
    assert few.objective >= sol.objective - 1e-8


def test_constraints_imply_relu_identity(reference):
    X, _, pats, sol = reference
    assert constraint_violation(sol.C, X, pats) < 1e-8
    assert constraint_violation(sol.C_prime, X, pats) < 1e-8
    lin = np.einsum("kih,ph->pki", X, sol.C)  # X_k c_i
    masked = pats * lin  # D_i^k X_k c_i
    scale = np.abs(lin).max()
    np.testing.assert_allclose(masked, np.maximum(lin, 0.0), atol=1e-8 * max(scale, 1.0))
    # exactly, for points inside the cones: c = t u_p with pattern(u_p) = D_p
    rng = np.random.default_rng(0)
    u = rng.standard_normal((50, 3))
    D = np.einsum("kih,ph->pki", X, u) >= 0
    c = u * rng.uniform(0.1, 3.0, (50, 1))
    assert constraint_violation(c, X, D) == 0.0
    lin = np.einsum("kih,ph->pki", X, c)
    np.testing.assert_array_equal(D * lin, np.maximum(lin, 0.0))
    # and a point outside the cone violates the constraint
    assert constraint_violation(-c, X, D) > 0


def test_nonconvex_runs_never_go_below_the_convex_optimum(reference):
    X, y, _, sol = reference
    for opt, lr in (("sgd", 0.006), ("adam", 0.01)):
        trace = train_nonconvex(
            X, y, BETA, optimizer=opt, lr=lr, n_iter=1500, n_runs=3, record_every=50, seed=1
        )
        # any network of any width maps to a feasible convex point: every iterate is above
        assert float(trace.objective.min()) >= sol.objective - 1e-7
        assert bool((trace.objective[-1] < trace.objective[0]).all())


def test_pattern_count_grows_polynomially():
    growth = pattern_growth(n_values=(2, 4, 8, 16), n_directions=3000, seed=0)
    np.testing.assert_array_equal(growth["exact"], growth["bound"])
    assert np.all(growth["sampled"] <= growth["exact"])
    # h = 3: the count is the degree-2 polynomial N^2 - N + 2 in N = nK (K = 4 patches)
    N = growth["n_hyperplanes"]
    np.testing.assert_array_equal(growth["exact"], N**2 - N + 2)
    slope = np.diff(np.log(growth["exact"])) / np.diff(np.log(growth["n"]))
    assert 1.9 < slope[-1] < 2.1


@pytest.mark.parametrize(("h", "n", "d"), [(1, 3, 4), (2, 3, 5), (4, 3, 7)])
def test_enumeration_matches_bound_and_contains_samples(h, n, d):
    x, _ = teacher_data(n, d, h, seed=1)
    X = patches(x, h)
    exact = enumerate_sign_patterns(X)
    assert len(exact) == arrangement_bound(X.shape[0] * X.shape[1], h)
    sampled = {p.tobytes() for p in sample_sign_patterns(X, 20_000)}
    assert sampled <= {p.tobytes() for p in exact}


def test_scs_gives_the_same_optimum(reference):
    X, y, pats, sol = reference
    scs = solve_convex(X, y, BETA, pats[:150], solver="SCS")
    clarabel = solve_convex(X, y, BETA, pats[:150])
    assert scs.solver == "SCS" and scs.status in ("optimal", "optimal_inaccurate")
    assert scs.objective == pytest.approx(clarabel.objective, rel=1e-4)


def test_fallback_to_scs_when_clarabel_fails(reference, monkeypatch):
    import cvxpy

    X, y, pats, _ = reference
    original = cvxpy.Problem.solve

    def failing(self, *args, **kwargs):
        if kwargs.get("solver") == "CLARABEL":
            raise cvxpy.SolverError("forced failure")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cvxpy.Problem, "solve", failing)
    sol = solve_convex(X, y, BETA, pats[:100])
    assert sol.solver == "SCS" and sol.status in ("optimal", "optimal_inaccurate")


def test_all_solvers_failing_is_reported(reference, monkeypatch):
    import cvxpy

    X, y, pats, _ = reference

    def failing(self, *args, **kwargs):
        raise cvxpy.SolverError("forced failure")

    monkeypatch.setattr(cvxpy.Problem, "solve", failing)
    sol = solve_convex(X, y, BETA, pats[:10])
    assert (sol.status, sol.solver) == ("solver_error", "SCS")
    assert np.isnan(sol.objective) and np.isnan(sol.C).all()
    with pytest.raises(ParameterError, match="solution.status='solver_error' must be"):
        reconstruct(sol)


def test_too_large_problem_is_refused_before_building(reference):
    X, y, pats, _ = reference
    assert problem_size(554, 6, 4, 3)["constraints"] == 2 * 554 * 6 * 4
    with pytest.raises(ParameterError, match=r"n_patterns=554 must be <= 208 for n_samples=6"):
        solve_convex(X, y, BETA, pats, max_constraints=10_000)


def test_missing_cvxpy_message(reference, monkeypatch):
    X, y, pats, _ = reference
    monkeypatch.setitem(sys.modules, "cvxpy", None)
    with pytest.raises(ImportError, match=r"pip install fbinit\[convex\]"):
        solve_convex(X, y, BETA, pats[:5])


def test_forward_module_and_loop_agree():
    x, _ = teacher_data(5, 7, 3, seed=2)
    X = patches(x, 3)
    net = TwoLayerCNN(3, 4, seed=0)
    out = net(X).detach()
    loop = torch.zeros(5, dtype=torch.float64)
    for j in range(4):
        for k in range(X.shape[0]):
            loop += torch.relu(torch.from_numpy(X[k]) @ net.U[j].detach()) * net.w[j].detach()
    torch.testing.assert_close(out, loop, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(cnn_forward(net.U.detach()[None], net.w.detach()[None], X)[0], out)


@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_gradient_matches_autograd(weighted):
    x, y = teacher_data(6, 6, 3, seed=0)
    X = torch.from_numpy(patches(x, 3))
    y = torch.from_numpy(y)
    g = torch.Generator().manual_seed(0)
    U = torch.randn(2, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 5, generator=g, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(2, 6, generator=g, dtype=torch.float64) if weighted else None
    pred = cnn_forward(U, w, X)
    r2 = (pred - y) ** 2 if weights is None else weights * (pred - y) ** 2
    loss = 0.5 * r2.sum(-1) + 0.5 * BETA * ((U**2).sum((-2, -1)) + (w**2).sum(-1))
    gU, gw = torch.autograd.grad(loss.sum(), (U, w))
    cU, cw = _gradients(U.detach(), w.detach(), X, y, BETA, weights)
    torch.testing.assert_close(cU, gU, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(cw, gw, rtol=1e-12, atol=1e-12)


def test_training_is_seeded_and_runs_are_independent():
    x, y = teacher_data(6, 6, 3, seed=0)
    X = patches(x, 3)
    a = train_nonconvex(
        X, y, BETA, n_iter=50, n_runs=3, seed=4, batch_size=3, optimizer="sgd", lr=1e-3
    )
    b = train_nonconvex(
        X, y, BETA, n_iter=50, n_runs=3, seed=4, batch_size=3, optimizer="sgd", lr=1e-3
    )
    np.testing.assert_array_equal(a.objective, b.objective)
    single = train_nonconvex(X, y, BETA, n_iter=50, n_runs=1, seed=4)
    joint = train_nonconvex(X, y, BETA, n_iter=50, n_runs=3, seed=4)
    np.testing.assert_allclose(single.objective[:, 0], joint.objective[:, 0], rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 7, 8])
def test_circular_closed_form(d):
    rng = np.random.default_rng(d)
    for z in (rng.standard_normal(d), -np.abs(rng.standard_normal(d))):
        u, w = min_norm_factorization(z)
        np.testing.assert_allclose(circular_conv(u, w), z, atol=1e-12)
        penalty = 2.0 / np.sqrt(d) * np.abs(np.fft.fft(z) / np.sqrt(d)).sum()
        assert float(fourier_l1_penalty(z)) == pytest.approx(penalty, rel=1e-12)
        assert float((u**2).sum() + (w**2).sum()) == pytest.approx(penalty, rel=1e-12)


def test_circular_random_factorizations_are_above_the_penalty():
    # independent oracle: solve the circulant system u (*) w = z for w with scipy
    d = 9
    rng = np.random.default_rng(0)
    z = rng.standard_normal(d)
    penalty = float(fourier_l1_penalty(z))
    for _ in range(200):
        u = rng.standard_normal(d) * rng.uniform(0.2, 3.0)
        w = scipy.linalg.solve_circulant(u, z)
        np.testing.assert_allclose(circular_conv(u, w), z, atol=1e-8)
        cost = float((u**2).sum() + (w**2).sum())
        assert cost >= penalty * (1 - 1e-12)
        assert float(factorization_cost(u, z)) == pytest.approx(cost, rel=1e-8)


def test_circular_nonconvex_reaches_but_never_beats_the_penalty():
    z = np.random.default_rng(1).standard_normal(12)
    g = nonconvex_factorization(z, n_runs=6, n_iter=2000, seed=0)
    penalty = float(fourier_l1_penalty(z))
    assert float(g.min()) >= penalty * (1 - 1e-10)
    assert float(g[-1].min()) == pytest.approx(penalty, rel=1e-6)


def test_audio_data_from_the_bundled_recording():
    x, y = audio_prediction_data(6, 6, seed=0)
    assert x.shape == (6, 6) and y.shape == (6,)
    frames = np.concatenate([x, y[:, None]], axis=1)
    np.testing.assert_allclose((frames**2).mean(1), 1.0, rtol=1e-12)
    X = patches(x, 3)
    assert len(enumerate_sign_patterns(X)) == 554  # real speech frames are in general position


def test_audio_data_skips_silence():
    sig = np.concatenate([np.zeros(700), np.sin(0.3 * np.arange(140))])
    x, _ = audio_prediction_data(10, 6, signal=sig, decimation=1)
    assert np.all(np.abs(x).sum(1) > 0)
    with pytest.raises(ParameterError, match="n_samples=21 must be <= 20"):
        audio_prediction_data(21, 6, signal=sig, decimation=1)


def test_experiment_and_plots(tmp_path):
    x, y = make_dataset("teacher")
    res = convex_vs_nonconvex(
        x, y, n_directions=500, n_iter=60, n_runs=2, record_every=30, exact_check=True
    )
    assert res.convex["status"] == "optimal"
    assert res.convex["n_patterns_exact"] == 554
    assert res.convex["objective"] >= res.convex["objective_exact"] - 1e-8
    assert len(res.curves["objective"]) == 2 * 2 * 3
    growth = pattern_growth(n_values=(2, 3), n_directions=500)
    circ = circular_experiment(d=8, n_filters_z=2, n_runs=2, n_iter=20, signal=np.ones(100))
    paths = [
        plot_comparison({"teacher": res}, tmp_path / "a.png"),
        plot_pattern_growth(growth, tmp_path / "b.png"),
        plot_circular(circ, tmp_path / "c.png"),
    ]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_errors(reference):
    X, y, pats, sol = reference
    with pytest.raises(ParameterError, match="kernel_size=7 must be <= d=6"):
        patches(np.zeros((2, 6)), 7)
    with pytest.raises(ParameterError, match="x.ndim=1 must be 2"):
        patches(np.zeros(6), 3)
    with pytest.raises(ParameterError, match=r"y.shape=\(5,\) must be \(6,\)"):
        solve_convex(X, y[:5], BETA, pats)
    with pytest.raises(ParameterError, match=r"patterns.shape=\(3, 4, 5\) must be"):
        solve_convex(X, y, BETA, np.ones((3, 4, 5), bool))
    with pytest.raises(ParameterError, match="beta=0.0 must be a finite number > 0"):
        solve_convex(X, y, 0.0, pats)
    with pytest.raises(ParameterError, match="batch_size=7 must be <= n_samples=6"):
        train_nonconvex(X, y, BETA, batch_size=7)
    with pytest.raises(ParameterError, match="optimizer='lbfgs' must be one of"):
        train_nonconvex(X, y, BETA, optimizer="lbfgs")
    with pytest.raises(ParameterError, match="lr=10.0 must be smaller"):
        train_nonconvex(X, y, BETA, optimizer="sgd", lr=10.0, n_iter=200)
    with pytest.raises(ParameterError, match="max_candidates=10 must be >= C\\(24, 2\\)"):
        enumerate_sign_patterns(X, max_candidates=10)
    broken = type(sol)(**{**sol.__dict__, "C": np.full_like(sol.C, np.nan), "status": "infeasible"})
    with pytest.raises(ParameterError, match="solution.status='infeasible' must be 'optimal'"):
        reconstruct(broken)
    with pytest.raises(ParameterError, match="w.shape\\[-1\\]=3 must equal u.shape\\[-1\\]=4"):
        circular_conv(np.ones(4), np.ones(3))
