"""Scaling law of the condition number: kappa_tilde, Monte Carlo statistics, extreme-value model."""

import csv
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.special import gammainc, gammaincc

import fbinit
import fbinit.analysis.scaling as scaling
from fbinit import ParameterError
from fbinit._io import read_csv
from fbinit.analysis.extremes import expected_frame_bounds_model, predict_median_kappa
from fbinit.analysis.scaling import (
    ConditionNumberStats,
    condition_number_stats,
    default_n_fft,
    draw_seeds,
    kappa_tilde,
)
from fbinit.banks import gaussian

QUANTILES = (0.1, 0.5, 0.9)


# ---------------------------------------------------------------------------------------
# kappa_tilde


def closed_form(J, T):
    r = 2 * math.sqrt(math.log(T) / J)
    return (1 + r) / (1 - r)


@pytest.mark.parametrize(("J", "T"), [(40, 8), (256, 4096), (64, 1024), (10, 2), (100, 3)])
def test_kappa_tilde_closed_form(J, T):
    assert kappa_tilde(J, T) == pytest.approx(closed_form(J, T), rel=1e-14)


def test_kappa_tilde_values():
    # values from bc -l to 20 digits
    assert kappa_tilde(256, 8) == pytest.approx(1.43977822466352083, rel=1e-14)
    assert kappa_tilde(40, 64) == pytest.approx(4.63212156934703177, rel=1e-14)
    assert kappa_tilde(7, 1) == 1.0  # ln 1 = 0: the law predicts a tight frame


def test_kappa_tilde_depends_on_log_ratio_only():
    # ln(T^2) / (2J) = ln(T) / J
    J, T = np.array([20, 40, 80]), np.array([8, 16, 64])
    np.testing.assert_allclose(kappa_tilde(J, T), kappa_tilde(2 * J, T**2), rtol=1e-13)


def test_kappa_tilde_broadcasts_numpy_and_torch():
    J = np.array([[40], [128]])
    T = np.array([8, 64, 512])
    out = kappa_tilde(J, T)
    assert out.shape == (2, 3)
    expected = [[closed_form(j, t) for t in T] for j in J[:, 0]]
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    out_t = kappa_tilde(torch.tensor([40, 128]), 64)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64
    np.testing.assert_allclose(out_t.numpy(), [closed_form(40, 64), closed_form(128, 64)])


def test_kappa_tilde_outside_domain_is_inf_with_warning():
    # J <= 4 ln T: 8 <= 4 ln 8 = 8.32; 16 > 4 ln 8
    with pytest.warns(RuntimeWarning, match="inf at 1 of 2"):
        out = kappa_tilde(np.array([8, 16]), 8)
    assert out[0] == np.inf and np.isfinite(out[1])
    with pytest.warns(RuntimeWarning, match="n_filters > 4 ln"):
        assert kappa_tilde(5, 4096) == math.inf


def test_kappa_tilde_no_warning_inside_domain():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kappa_tilde(np.array([64, 256]), np.array([8, 4096]))


@pytest.mark.parametrize(
    ("J", "T", "exc", "match"),
    [
        (0, 8, ParameterError, r"n_filters=0 must be integers >= 1"),
        (2.5, 8, ParameterError, r"n_filters=2.5 must be integers >= 1"),
        (10, [8, -1], ParameterError, r"kernel_size=\[8, -1\] must be integers >= 1"),
        ("10", 8, TypeError, r"n_filters='10' must be integers"),
        (True, 8, TypeError, r"n_filters=True must be integers"),
    ],
)
def test_kappa_tilde_errors(J, T, exc, match):
    with pytest.raises(exc, match=match):
        kappa_tilde(J, T)


# ---------------------------------------------------------------------------------------
# condition_number_stats against an independent numpy computation


def numpy_bounds(seed, J, T, n_fft, n_draws):
    """A, B per draw: the documented seeds, numpy's rfft, min and max of the LP sum."""
    seq = np.random.SeedSequence(seed, spawn_key=(J, T))
    seeds = seq.generate_state(n_draws, np.uint64)
    weights = np.stack([gaussian(J, T, seed=int(s)).weights.numpy() for s in seeds])
    lp = (np.abs(np.fft.rfft(weights, n=n_fft, axis=-1)) ** 2).sum(axis=1)
    return lp.min(axis=-1), lp.max(axis=-1)


@pytest.fixture(scope="module")
def small_stats():
    return condition_number_stats(
        [3, 7], [5, 16], n_fft=64, n_draws=25, seed=11, quantiles=QUANTILES
    )


def test_stats_match_numpy(small_stats):
    s = small_stats
    assert list(zip(s.n_filters.tolist(), s.kernel_size.tolist(), strict=True)) == [
        (3, 5),
        (3, 16),
        (7, 5),
        (7, 16),
    ]
    for i, (J, T) in enumerate(zip(s.n_filters, s.kernel_size, strict=True)):
        A, B = numpy_bounds(11, int(J), int(T), 64, 25)
        kappa = B / A
        np.testing.assert_allclose(s.median_kappa[i], np.median(kappa), rtol=1e-10)
        np.testing.assert_allclose(s.mean_kappa[i], kappa.mean(), rtol=1e-10)
        np.testing.assert_allclose(s.ratio_of_means[i], B.mean() / A.mean(), rtol=1e-10)
        np.testing.assert_allclose(s.kappa_quantiles[i], np.quantile(kappa, QUANTILES), rtol=1e-10)
        np.testing.assert_allclose(s.mean_A[i], A.mean(), rtol=1e-10)
        np.testing.assert_allclose(s.mean_B[i], B.mean(), rtol=1e-10)
        np.testing.assert_allclose(s.sd_A[i], A.std(ddof=1), rtol=1e-10)
        np.testing.assert_allclose(s.sd_B[i], B.std(ddof=1), rtol=1e-10)
    assert (s.n_fft == 64).all() and (s.n_draws == 25).all() and (s.stride == 1).all()
    # the three statistics of kappa differ: mean(B)/mean(A) is not a mean condition number
    assert (s.ratio_of_means < s.mean_kappa).all()


def test_stats_strided_match_dense_frame_operator():
    J, T, N, d, M = 6, 6, 16, 4, 5
    s = condition_number_stats(J, T, n_fft=N, n_draws=M, stride=d, seed=2)
    seeds = np.random.SeedSequence(2, spawn_key=(J, T)).generate_state(M, np.uint64)
    A, B = [], []
    for sd in seeds:
        w = np.zeros((J, N))
        w[:, :T] = gaussian(J, T, seed=int(sd)).weights.numpy()
        n = np.arange(N)
        # (x * w_j)[m d] = sum_n w_j[(m d - n) mod N] x[n]
        phi = np.concatenate([wj[(n[::d, None] - n[None, :]) % N] for wj in w])
        eig = np.linalg.eigvalsh(phi.T @ phi)
        A.append(eig[0])
        B.append(eig[-1])
    np.testing.assert_allclose(s.mean_A[0], np.mean(A), rtol=1e-10)
    np.testing.assert_allclose(s.median_kappa[0], np.median(np.array(B) / A), rtol=1e-10)


def test_stats_do_not_depend_on_grid_or_chunking(small_stats, monkeypatch):
    # the same draws whatever the grid and the chunks; FFTs of different batch sizes may
    # round differently, so compare at a tolerance far below what other draws would change
    alone = condition_number_stats(7, 16, n_fft=64, n_draws=25, seed=11, quantiles=QUANTILES)
    assert alone.median_kappa[0] == pytest.approx(small_stats.median_kappa[3], rel=1e-12)
    assert alone.mean_A[0] == pytest.approx(small_stats.mean_A[3], rel=1e-12)
    monkeypatch.setattr(scaling, "DRAW_CHUNK_BYTES", 4000)  # 2 and 6 draws per chunk
    chunked = condition_number_stats([7, 3], [16, 5], n_fft=64, n_draws=25, seed=11)
    assert chunked.mean_B[0] == pytest.approx(small_stats.mean_B[3], rel=1e-12)
    assert chunked.mean_B[3] == pytest.approx(small_stats.mean_B[0], rel=1e-12)


def test_stats_prefix_of_longer_run():
    short = condition_number_stats(4, 8, n_fft=32, n_draws=3, seed=5)
    seeds = draw_seeds(5, 4, 8, 3)
    assert seeds == draw_seeds(5, 4, 8, 10)[:3]
    assert len(set(seeds)) == 3
    A, B = numpy_bounds(5, 4, 8, 32, 3)
    np.testing.assert_allclose(short.mean_A[0], A.mean(), rtol=1e-12)


def test_stats_seed_changes_draws():
    a = condition_number_stats(4, 8, n_fft=32, n_draws=10, seed=0)
    b = condition_number_stats(4, 8, n_fft=32, n_draws=10, seed=1)
    c = condition_number_stats(4, 8, n_fft=32, n_draws=10, seed=None)
    assert a.mean_A[0] != b.mean_A[0]
    assert c.mean_A[0] == a.mean_A[0]


def test_stats_default_n_fft_and_progress():
    calls = []
    s = condition_number_stats(
        2, [8, 600], n_fft=None, n_draws=3, seed=0, progress=lambda d, t: calls.append((d, t))
    )
    assert s.n_fft.tolist() == [1024, 1200]
    assert default_n_fft(600) == 1200
    assert calls[-1] == (6, 6)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_stats_one_draw_has_nan_sd():
    s = condition_number_stats(3, 4, n_fft=8, n_draws=1, seed=0)
    assert np.isnan(s.sd_A[0]) and np.isnan(s.sd_B[0])
    assert s.median_kappa[0] == s.mean_kappa[0] == s.ratio_of_means[0]


def test_stats_singular_frames_are_inf_with_warning():
    # one filter at stride 4 cannot be a frame: A = 0
    with pytest.warns(RuntimeWarning, match="3 of 3 filterbank"):
        s = condition_number_stats(1, 4, n_fft=8, n_draws=3, stride=4, seed=0)
    assert s.median_kappa[0] == np.inf and s.mean_kappa[0] == np.inf
    assert (s.kappa_quantiles == np.inf).all()


def test_stats_quantiles_with_some_singular_draws():
    # numpy's linear quantiles would give nan (inf - inf) or inf where the answer is finite
    values = np.array([[1.0, 2.0, 3.0, np.inf, np.inf]])
    out = scaling._quantiles(values, (0.0, 0.25, 0.5, 0.6, 0.75, 1.0))
    np.testing.assert_array_equal(out[0], [1.0, 2.0, 3.0, np.inf, np.inf, np.inf])
    finite = np.array([[4.0, 1.0, 3.0, 2.0]])
    np.testing.assert_allclose(
        scaling._quantiles(finite, QUANTILES)[0], np.quantile(finite[0], QUANTILES), rtol=1e-14
    )


def test_stats_table_exports(small_stats, tmp_path):
    records = small_stats.to_records()
    assert len(records) == len(small_stats) == 4
    assert records[1]["n_filters"] == 3 and records[1]["kernel_size"] == 16
    assert records[1]["median_kappa"] == small_stats.median_kappa[1]
    assert records[1]["kappa_q0.9"] == small_stats.kappa_quantiles[1, 2]
    assert "ratio_of_means" in records[0] and "mean_kappa" in records[0]
    path = small_stats.to_csv(tmp_path / "stats.csv")
    settings, columns = read_csv(path)
    assert settings == {
        "fbinit": fbinit.__version__,
        "experiment": "condition_number_stats",
        "seed": 11,
        "n_draws": [25],
        "quantile_levels": list(QUANTILES),
    }
    assert float(columns["mean_A"][2]) == small_stats.mean_A[2]  # repr round trip: exact
    assert int(columns["kernel_size"][3]) == 16
    rows = list(csv.DictReader(line for line in path.open() if not line.startswith("#")))
    assert [float(r["median_kappa"]) for r in rows] == small_stats.median_kappa.tolist()
    grid = small_stats.as_grid("median_kappa")
    assert grid.shape == (2, 2) and grid[1, 0] == small_stats.median_kappa[2]
    assert isinstance(small_stats, ConditionNumberStats)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_draws": 0}, ParameterError, r"n_draws=0 must be an integer >= 1"),
        ({"kernel_size": 64, "n_fft": 32}, ParameterError, r"kernel_size=64 must be <= n_fft=32"),
        ({"stride": 3}, ParameterError, r"stride=3 must divide n_fft=32"),
        ({"stride": 0}, ParameterError, r"stride=0 must be an integer >= 1"),
        ({"quantiles": (0.5, 1.0)}, ParameterError, r"quantiles=1.0 must be in the open"),
        ({"quantiles": ()}, ParameterError, r"quantiles=\(\) must not be empty"),
        ({"n_filters": []}, ParameterError, r"n_filters=\[\] must not be empty"),
        ({"n_filters": [4, 4]}, ParameterError, r"n_filters=\[4, 4\] must not repeat"),
        ({"n_filters": 0}, ParameterError, r"n_filters=0 must be an integer >= 1"),
        ({"n_filters": "4"}, TypeError, r"n_filters='4' must be an integer or a sequence"),
        ({"kernel_size": [8, 2.5]}, TypeError, r"kernel_size=2.5 must be an integer"),
        ({"seed": -1}, ParameterError, r"seed=-1 must be an integer >= 0"),
        ({"n_fft": 32.0}, TypeError, r"n_fft=32.0 must be an integer"),
        ({"progress": 3}, TypeError, r"progress=3 must be a callable"),
    ],
)
def test_stats_errors(kwargs, exc, match):
    args = {"n_filters": 4, "kernel_size": 8, "n_fft": 32, "n_draws": 2, **kwargs}
    with pytest.raises(exc, match=match):
        condition_number_stats(args.pop("n_filters"), args.pop("kernel_size"), **args)


# ---------------------------------------------------------------------------------------
# Published numbers (Haider et al. 2024, Figure 5: J = 40, N = 1024)

REFERENCE = {8: (0.76, 1.27), 1024: (0.59, 1.56)}  # kernel_size: (mean A, mean B)


def test_reference_mean_frame_bounds_monte_carlo():
    # measured: A 0.759, 0.583; B 1.262, 1.551. The standard errors (<= 0.0085, B at
    # T = 8) keep 0.02 above 2 standard errors plus the rounding of the published values
    s = condition_number_stats(40, [8, 1024], n_fft=1024, n_draws=300, seed=0)
    for i, T in enumerate((8, 1024)):
        ref_a, ref_b = REFERENCE[T]
        assert abs(s.mean_A[i] - ref_a) < 0.02
        assert abs(s.mean_B[i] - ref_b) < 0.02
        assert max(s.sd_A[i], s.sd_B[i]) / math.sqrt(300) < 0.009


def test_reference_mean_frame_bounds_model():
    mean_a, mean_b = expected_frame_bounds_model(40, [8, 1024], n_fft=1024)
    np.testing.assert_allclose(mean_a, [REFERENCE[8][0], REFERENCE[1024][0]], atol=0.01)
    np.testing.assert_allclose(mean_b, [REFERENCE[8][1], REFERENCE[1024][1]], atol=0.01)


# ---------------------------------------------------------------------------------------
# The extreme-value model


def iid_bins_means(J, N):
    """E[A], E[B] if the N/2 - 1 interior bins and the 2 end bins were independent."""
    n = N // 2 - 1

    def surv_a(a):
        return gammaincc(J, J * a) ** n * gammaincc(J / 2, J * a / 2) ** 2

    def surv_b(b):
        return 1 - gammainc(J, J * b) ** n * gammainc(J / 2, J * b / 2) ** 2

    mean_a = integrate.quad(surv_a, 0, np.inf, limit=200)[0]
    mean_b = integrate.quad(surv_b, 0, np.inf, limit=200)[0]
    return mean_a, mean_b


@pytest.mark.parametrize(("J", "N"), [(5, 256), (40, 1024), (256, 64)])
def test_model_reduces_to_independent_bins_when_kernel_fills_the_signal(J, N):
    # kernel_size = n_fft: the DFT of i.i.d. taps has (nearly) independent bins
    mean_a, mean_b = expected_frame_bounds_model(J, N, n_fft=N)
    exact_a, exact_b = iid_bins_means(J, N)
    assert mean_a == pytest.approx(exact_a, rel=2e-3)
    assert mean_b == pytest.approx(exact_b, rel=2e-3)


def test_model_monotone_in_grid_density_and_converges():
    # a finer grid sees deeper minima and higher maxima; the continuous limit is finite
    n_fft = np.array([256, 512, 1024, 4096, 16384, 65536])
    mean_a, mean_b = expected_frame_bounds_model(16, 256, n_fft=n_fft)
    assert (np.diff(mean_a) < 0).all() and (np.diff(mean_b) > 0).all()
    assert abs(mean_a[-1] - mean_a[-2]) < 1e-3 and abs(mean_b[-1] - mean_b[-2]) < 1e-3


def test_predictor_beats_kappa_tilde():
    s = condition_number_stats([16, 64], [16, 128], n_fft=1024, n_draws=200, seed=3)
    pred = predict_median_kappa(s.n_filters, s.kernel_size, n_fft=1024)
    with pytest.warns(RuntimeWarning, match="inf at 1 of 4"):
        tilde = kappa_tilde(s.n_filters, s.kernel_size)
    err_pred = np.abs(np.log(pred / s.median_kappa))
    err_tilde = np.abs(np.log(tilde / s.median_kappa))
    assert np.median(err_pred) < np.median(err_tilde) / 10
    # measured 0.2% to 3.5%; the Monte Carlo median has a standard error of ~1-2%
    assert err_pred.max() < 0.06


def test_predictor_vectorised_and_typed():
    J = np.array([[8], [64]])
    T = np.array([16, 256, 1024])
    out = predict_median_kappa(J, T)
    assert out.shape == (2, 3)
    for i, j in enumerate(J[:, 0]):
        for k, t in enumerate(T):
            assert out[i, k] == pytest.approx(predict_median_kappa(int(j), int(t)), rel=1e-9)
    assert isinstance(predict_median_kappa(8, 16), float)
    tensor = predict_median_kappa(torch.tensor([8, 64]), 16)
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (2,)
    # default n_fft is max(1024, 2 kernel_size)
    assert predict_median_kappa(8, 1024) == predict_median_kappa(8, 1024, n_fft=2048)
    assert predict_median_kappa(np.array([], dtype=int), 8).shape == (0,)
    # more filters: better conditioned; longer kernels: worse
    assert (np.diff(out, axis=0) < 0).all() and (np.diff(out, axis=1) > 0).all()


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((8, 1), {}, ParameterError, r"kernel_size=1 must be integers >= 2"),
        ((8, 64), {"n_fft": 32}, ParameterError, r"kernel_size=64 must be <= n_fft=32"),
        ((0, 64), {}, ParameterError, r"n_filters=0 must be integers >= 1"),
        ((8, [16, 32]), {"n_fft": [64, 64, 64]}, ParameterError, r"must broadcast together"),
        ((8.5, 64), {}, ParameterError, r"n_filters=8.5 must be integers"),
        (("8", 64), {}, TypeError, r"n_filters='8' must be integers"),
    ],
)
def test_predictor_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        predict_median_kappa(*args, **kwargs)
    if exc is ParameterError:
        with pytest.raises(exc, match=match):
            expected_frame_bounds_model(*args, **kwargs)


def test_draw_seeds_errors():
    with pytest.raises(ParameterError, match=r"seed=-1 must be an integer >= 0"):
        draw_seeds(-1, 4, 8, 2)
    with pytest.raises(ParameterError, match=r"n_draws=0 must be an integer >= 1"):
        draw_seeds(0, 4, 8, 0)
