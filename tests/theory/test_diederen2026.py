"""Tests of fbinit.theory.diederen2026_linear_cnn_flow (Diederen, Rauhut, Terstiege 2026)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fbinit.errors import ParameterError
from fbinit.theory.diederen2026_linear_cnn_flow import (
    LinearConvNet,
    audio_frames,
    conv_matrix,
    drift_experiment,
    empirical_risk,
    end_to_end_filter,
    end_to_end_size,
    flow_experiment,
    flow_gradient,
    gaussian_inputs,
    gradient_descent,
    invariants,
    make_dataset,
    network_forward,
    norm_rates,
    output_length,
    patch_condition,
    patch_matrix,
    plot_drift,
    plot_flow,
    random_filters,
    sinusoid_inputs,
)

KS, SS = (3, 2, 4), (2, 1, 3)


def test_reference_sizes():
    assert end_to_end_size(KS, SS) == (11, 6)
    v, s_v = end_to_end_filter(random_filters(KS, seed=0), SS)
    assert (v.shape[-1], s_v) == (11, 6)


@pytest.mark.parametrize("n_in", [11, 60, 77, 101])
def test_product_of_layer_matrices_is_conv_matrix_of_v(n_in):
    net = LinearConvNet(KS, SS, seed=1)
    mats = net.layer_matrices(n_in)
    product = mats[2] @ mats[1] @ mats[0]
    v, s_v = net.end_to_end()
    expected = conv_matrix(v.detach(), s_v, n_in)
    assert product.shape == expected.shape == (output_length(n_in, KS, SS), n_in)
    torch.testing.assert_close(product, expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize(
    ("kernel_sizes", "strides"),
    [((3, 2, 4), (2, 1, 3)), ((5,), (3,)), ((2, 3, 2, 2), (3, 2, 1, 2))],
)
def test_end_to_end_polynomial_identity(kernel_sizes, strides):
    # v(z) = prod_i w_i(z^{s_1...s_{i-1}}) at random complex points (independent of the
    # coefficient convolution used inside end_to_end_filter)
    filters = random_filters(kernel_sizes, seed=3)
    v, _ = end_to_end_filter(filters, strides)
    z = torch.exp(2j * math.pi * torch.rand(7, dtype=torch.float64)) * 0.9
    lhs = sum(v[j] * z**j for j in range(v.shape[-1]))
    rhs, dilation = torch.ones_like(z), 1
    for w, s in zip(filters, strides, strict=True):
        rhs = rhs * sum(w[j] * z ** (j * dilation) for j in range(w.shape[-1]))
        dilation *= s
    torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)
    assert v.shape[-1] == end_to_end_size(kernel_sizes, strides)[0]


def test_forward_equals_matrix_product_batched_over_runs():
    x = gaussian_inputs(5, 77, seed=0)
    filters = random_filters(KS, n_runs=3, seed=2)
    out = network_forward(filters, SS, x)
    assert out.shape == (3, 5, output_length(77, KS, SS))
    for r in range(3):
        v, s_v = end_to_end_filter([w[r] for w in filters], SS)
        torch.testing.assert_close(out[r], x @ conv_matrix(v, s_v, 77).T, rtol=0, atol=1e-12)
        # the patch matrix gives the same map: vec(V x_n) = P v
        torch.testing.assert_close(
            out[r].reshape(-1), patch_matrix(x, 11, 6) @ v, atol=1e-12, rtol=0
        )


def test_conv_matrix_small_example_and_short_input_warns():
    expected = torch.tensor([[1.0, 2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0, 0.0]])
    torch.testing.assert_close(conv_matrix([1.0, 2.0], 2, 5), expected.double())
    with pytest.warns(UserWarning, match="kernel_size=3 exceeds n_in=2"):
        assert conv_matrix([1.0, 2.0, 3.0], 1, 2).shape == (0, 2)


def test_closed_form_gradient_equals_autograd():
    x = gaussian_inputs(6, 60, seed=4)
    y = gaussian_inputs(6, output_length(60, KS, SS), seed=5)
    filters = random_filters(KS, n_runs=2, seed=6)
    params = [w.clone().requires_grad_(True) for w in filters]
    risk = empirical_risk(params, SS, x, y)
    auto = torch.autograd.grad(risk.sum(), params)
    risk_cf, grads = flow_gradient(filters, SS, x, y)
    torch.testing.assert_close(risk_cf, risk.detach(), rtol=1e-13, atol=0)
    for a, b in zip(auto, grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-14)


def test_norm_rates_equal_across_layers():
    # d/dt ||w_i||^2 = -2 <w_i, grad_i L> is the same for every layer (exact, not O(step))
    x = gaussian_inputs(4, 101, seed=0)
    y = gaussian_inputs(4, 16, seed=1)
    rates = norm_rates(random_filters(KS, n_runs=5, seed=2), SS, x, y)
    assert rates.shape == (5, 3)
    assert float(rates.abs().min()) > 1e-4  # not trivially zero
    torch.testing.assert_close(rates, rates[:, :1].expand(-1, 3), rtol=1e-12, atol=1e-15)


def test_invariants_antisymmetric():
    inv = invariants(random_filters(KS, n_runs=2, seed=0))
    torch.testing.assert_close(inv, -inv.transpose(-1, -2))
    assert inv.shape == (2, 3, 3)


def test_invariant_drift_is_linear_in_step():
    drift = drift_experiment(steps=(0.02, 0.01, 0.005), horizon=4.0, n_runs=3, seed=0)
    d = drift["drift"].reshape(3, 3)  # (step, run)
    assert np.all(d > 1e-6)
    ratios = d[:-1] / d[1:]
    np.testing.assert_allclose(ratios, 2.0, rtol=0.1)
    assert float(d[-1].max()) < 1e-3


def test_gradient_to_zero_with_bounded_iterates():
    data = make_dataset("gaussian", seed=10)
    assert data.condition.holds
    init = random_filters(KS, scale=0.5, n_runs=2, seed=13)
    trace = gradient_descent(init, SS, data.x, data.y, step=0.05, n_steps=8000, record_every=100)
    assert np.all(trace.grad_norm[-1] < 1e-6 * trace.grad_norm[0])
    # loss is non-increasing along the discretised flow
    assert np.all(np.diff(trace.loss, axis=0) <= 1e-15)
    # iterates stay bounded and stop moving
    assert float(trace.sq_norms.max()) < 2.0
    np.testing.assert_allclose(trace.end_to_end[-1], trace.end_to_end[-10], atol=1e-6)
    # both runs reached the teacher filter (zero loss, identifiable since P has full rank)
    np.testing.assert_allclose(trace.end_to_end[-1], data.v_star.expand(2, -1).numpy(), atol=1e-6)


def test_data_condition_holds_or_fails_as_designed():
    assert make_dataset("gaussian").condition.holds
    few = make_dataset("few_samples")
    assert (few.condition.holds, few.condition.rank) == (False, 5)
    sin = patch_condition(sinusoid_inputs(8, 101, n_sinusoids=3, seed=1), KS, SS)
    assert (sin.holds, sin.rank) == (False, 6)
    assert patch_condition(sinusoid_inputs(8, 101, n_sinusoids=6, seed=1), KS, SS).holds
    # inputs too short for the network: one patch per sample, two samples -> rank 2
    assert patch_condition(gaussian_inputs(2, 11, seed=0), KS, SS).rank == 2


def test_audio_frames_of_the_bundled_recording():
    x = audio_frames(16, 101, seed=1)
    assert x.shape == (16, 101)
    assert bool((x.pow(2).mean(1) > 0).all())
    cond = patch_condition(x, KS, SS)
    assert cond.holds and cond.sigma_min < 1e-2 * cond.sigma_max  # low-pass speech


def test_audio_frames_skip_silence_and_check_count():
    signal = torch.cat([torch.zeros(1000), torch.randn(505, generator=torch.Generator())])
    x = audio_frames(5, 101, signal=signal, seed=0)
    assert bool((x.abs().sum(1) > 0).all())
    with pytest.raises(ParameterError, match="n_samples=6 must be <= 5"):
        audio_frames(6, 101, signal=signal)
    with pytest.raises(ParameterError, match="signal.ndim=2 must be 1"):
        audio_frames(1, 10, signal=torch.zeros(2, 50))


def test_seeded_determinism():
    a = flow_experiment(datasets=("sinusoids",), n_runs=2, n_steps=50, record_every=25)
    b = flow_experiment(datasets=("sinusoids",), n_runs=2, n_steps=50, record_every=25)
    np.testing.assert_array_equal(a.curves["loss"], b.curves["loss"])


def test_plots_and_curves(tmp_path):
    res = flow_experiment(
        datasets=("gaussian", "few_samples"), n_runs=2, n_steps=40, record_every=20
    )
    assert set(res.curves) >= {"dataset", "run", "t", "loss", "grad_norm", "invariant_drift"}
    assert len(res.curves["t"]) == 2 * 2 * 3
    p = plot_flow(res, tmp_path / "flow.png")
    drift = drift_experiment(steps=(0.02, 0.01), horizon=0.2, n_runs=1)
    q = plot_drift(drift, tmp_path / "drift.png")
    assert p.stat().st_size > 1000 and q.stat().st_size > 1000


def test_errors():
    with pytest.raises(ParameterError, match="strides=\\(1,\\) must have one entry per layer"):
        end_to_end_size((3, 2), (1,))
    with pytest.raises(ParameterError, match="n_in=10 must be >= k_v=11"):
        network_forward(random_filters(KS), SS, torch.zeros(1, 10))
    with pytest.raises(ParameterError, match="kernel_size=12 must be <= n_in=11"):
        patch_matrix(torch.zeros(1, 11), 12, 1)
    with pytest.raises(ParameterError, match="y.shape=\\(1, 3\\) must be \\(1, 1\\)"):
        flow_gradient(random_filters(KS), SS, torch.zeros(1, 11), torch.zeros(1, 3))
    data = make_dataset("gaussian")
    with pytest.raises(ParameterError, match="step=50.0 must be smaller"):
        gradient_descent(random_filters(KS, scale=3.0), SS, data.x, data.y, step=50.0, n_steps=200)
    with pytest.raises(ParameterError, match="name='noise' must be one of"):
        make_dataset("noise")
    with pytest.raises(TypeError, match="filters must be a sequence"):
        end_to_end_filter(torch.ones(3), (1,))
    with pytest.raises(ParameterError, match="filters must share their leading"):
        network_forward([torch.ones(2, 3), torch.ones(3, 2)], (1, 1), torch.zeros(1, 9))
