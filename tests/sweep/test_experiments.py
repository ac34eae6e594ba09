"""The package's experiments: sweep cells give the numbers of the functions they split."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from fbinit import signals
from fbinit.analysis import condition_number_stats, energy_monte_carlo
from fbinit.analysis.experiments import (
    condition_number_grid,
    energy_cell,
    energy_ratio_grid,
    resolve_signal,
    scaling_cell,
)
from fbinit.errors import AudioError, ParameterError
from fbinit.sweep import ResultsStore, SweepRunner, make_task


def test_condition_number_grid_equals_condition_number_stats(tmp_path):
    kwargs = {"n_fft": 128, "n_draws": 30, "stride": 2, "seed": 4, "quantiles": (0.1, 0.9)}
    direct = condition_number_stats([3, 8], [4, 16, 32], **kwargs)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        via_sweep = condition_number_grid(
            [3, 8], [4, 16, 32], runner=SweepRunner(store=store), **kwargs
        )
        again = condition_number_grid(
            [3, 8], [4, 16, 32], runner=SweepRunner(store=store), **kwargs
        )
        assert len(store.rows()) == 6
    for stats in (via_sweep, again):  # drawn, then read back from the store
        assert stats.quantile_levels == direct.quantile_levels
        for name, column in direct._columns().items():
            np.testing.assert_array_equal(stats._columns()[name], column, err_msg=name)


def test_default_n_fft_and_scalar_axes():
    stats = condition_number_grid(6, 2048, n_fft=None, n_draws=3)
    assert stats.n_fft.tolist() == [4096]
    direct = condition_number_stats(6, 2048, n_fft=None, n_draws=3)
    np.testing.assert_array_equal(stats.median_kappa, direct.median_kappa)


def test_scaling_cell_singular_draws_give_inf():
    with pytest.warns(RuntimeWarning):
        out = scaling_cell(n_filters=1, kernel_size=2, n_fft=4, stride=2, n_draws=3, seed=0)
    assert out["mean_kappa"] == math.inf


@pytest.mark.parametrize(
    ("params", "exc", "match"),
    [
        ({"kernel_size": 64, "n_fft": 32}, ParameterError, "kernel_size=64 must be <= n_fft=32"),
        ({"kernel_size": 8, "n_fft": 30, "stride": 4}, ParameterError, "stride=4 must divide"),
        ({"kernel_size": 8, "quantiles": []}, ParameterError, "quantiles=.* must be a non-empty"),
        ({"kernel_size": 8, "quantiles": [1.5]}, ParameterError, "quantiles=1.5 must be in"),
        ({"kernel_size": 8.0}, TypeError, "kernel_size=8.0 must be an integer"),
    ],
)
def test_scaling_parameters_are_checked_before_running(params, exc, match):
    with pytest.raises(exc, match=match):
        make_task("scaling", {"n_filters": 4, **params})


def test_energy_cell_equals_energy_monte_carlo():
    x = signals.random_walk(300, seed=1, unit_norm=False)
    for method in ("fft", "eigen"):
        out = energy_cell(
            signal=x.tolist(), n_filters=6, kernel_size=16, n_draws=50, method=method, seed=3
        )
        ref = energy_monte_carlo(x, 6, 16, n_draws=50, seed=3, method=method).numpy() / (x @ x)
        np.testing.assert_allclose(out["energy_ratios"], ref, rtol=1e-12)
        assert out["signal_energy"] == pytest.approx(float(x @ x), rel=1e-15)
        assert out["mean"] == pytest.approx(ref.mean(), rel=1e-12)
        assert out["sd"] == pytest.approx(ref.std(ddof=1), rel=1e-12)
        assert out["q95"] == pytest.approx(np.quantile(ref, 0.95), rel=1e-12)


def test_energy_ratios_have_mean_one():
    # circular mode, default sigma: E ||Phi x||^2 = ||x||^2 exactly (closed form)
    out = energy_cell(signal="sine", n_filters=10, kernel_size=32, n_draws=4000, seed=0)
    se = out["sd"] / math.sqrt(4000)
    assert abs(out["mean"] - 1.0) < 4 * se


def test_energy_ratio_grid_shape_and_values():
    sigs = {"impulse": signals.impulse(128), "walk": signals.random_walk(128, seed=0)}
    grid = energy_ratio_grid(sigs, 5, [4, 32], n_draws=20, seed=2)
    assert grid.shape == (2, 2, 20)
    for i, x in enumerate(sigs.values()):
        for k, T in enumerate([4, 32]):
            ref = energy_monte_carlo(x, 5, T, n_draws=20, seed=2).numpy() / (x @ x)
            np.testing.assert_allclose(grid[i, k], ref, rtol=1e-12)


def test_resolve_signal(tmp_path):
    np.testing.assert_array_equal(resolve_signal("impulse", n_samples=3), [1.0, 0.0, 0.0])
    walk = resolve_signal("random_walk", n_samples=64, signal_seed=5)
    np.testing.assert_array_equal(walk, signals.random_walk(64, seed=5))
    speech, rate = signals.example("arctic_a0007", sample_rate=8000)
    np.testing.assert_array_equal(resolve_signal("example:arctic_a0007", sample_rate=8000), speech)
    wav = tmp_path / "tone.wav"
    sf.write(wav, signals.sine(800, frequency=100.0, sample_rate=8000.0), 8000, subtype="DOUBLE")
    np.testing.assert_array_equal(resolve_signal(f"file:{wav}"), sf.read(wav)[0])
    with pytest.raises(ParameterError, match="signal='noise' must be a synthetic signal"):
        resolve_signal("noise")
    with pytest.raises(AudioError):
        resolve_signal(f"file:{tmp_path / 'missing.wav'}")


@pytest.mark.parametrize(
    ("signal", "match"),
    [
        ("", "signal='' must name a signal"),
        ([], "must be a signal name or a non-empty list"),
        (["a", "b"], "must be a signal name or a non-empty list"),
        ([[1.0], [2.0]], "must be a signal name or a non-empty list"),
        (3, "must be a signal name or a non-empty list"),
    ],
)
def test_energy_signal_errors(signal, match):
    with pytest.raises(ParameterError, match=match):
        make_task("energy", {"signal": signal, "n_filters": 2, "kernel_size": 2})


def test_a_silent_signal_fails_its_task():
    with pytest.raises(ParameterError, match="has zero energy"):
        energy_cell(signal=[0.0, 0.0, 0.0], n_filters=2, kernel_size=2, n_draws=2, seed=0)


def test_frame_cell_equals_frame_bounds_for_every_family():
    import warnings

    from fbinit.analysis import condition_number, frame_bounds
    from fbinit.analysis.experiments import BANK_FAMILIES
    from fbinit.sweep import execute_task, expand

    # short kernels: some families warn that filters are cropped, some frames are singular
    fixed = {"n_filters": 8, "kernel_size": 65, "stride": 2, "n_fft": 256}
    tasks = expand("frame", {"bank": [b for b in BANK_FAMILIES if b != "wavelet"]}, fixed)
    tasks += expand("frame", {}, {**fixed, "bank": "wavelet", "fmin": 100.0})
    for task in tasks:
        res = execute_task(task)
        bank = task.params["bank"]
        kwargs = {"sample_rate": 16000, "stride": 2}
        kwargs.update({"seed": task.run_seed} if bank == "gaussian" else {})
        kwargs.update({"fmin": 100.0} if bank == "wavelet" else {})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fb = BANK_FAMILIES[bank](8, 65, **kwargs)
            A, B = frame_bounds(fb, n_fft=256)
            kappa = float(condition_number(fb, n_fft=256))
        out = res.result
        assert (out["A"], out["B"]) == (float(A), float(B)), bank
        assert out["kappa"] == pytest.approx(kappa, rel=1e-14)
        assert 0 <= out["A"] <= out["B"] and task.params["n_fft"] == 256
        # the row records the warnings the computation raised
        expected = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        assert res.warnings == expected
    assert any("do not fit kernel_size=65" in w for t in tasks for w in execute_task(t).warnings)


def test_frame_draws_a_new_gaussian_bank_per_listed_seed():
    from fbinit.sweep import SweepRunner, expand

    tasks = expand(
        "frame", {}, {"bank": "gaussian", "n_filters": 10, "kernel_size": 32}, seeds=[0, 1, 2]
    )
    kappas = [r["kappa"] for r in SweepRunner().results(tasks)]
    assert len(set(kappas)) == 3  # three banks
    assert kappas == [r["kappa"] for r in SweepRunner().results(tasks[::-1])][::-1]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"bank": "hann"}, "bank='hann' must be one of 'gaussian'"),
        ({"bank": "wavelet"}, "fmin=None must be given"),
        ({"bank": "gaussian", "fmin": 20.0}, "fmin=20.0 must not be given"),
        ({"bank": "mel", "kernel_size": 2048, "n_fft": 1024}, "must be <= n_fft=1024"),
        ({"bank": "mel", "stride": 3, "n_fft": 1024}, "stride=3 must divide n_fft=1024"),
    ],
)
def test_frame_parameters_are_checked(params, match):
    with pytest.raises(ParameterError, match=match):
        make_task("frame", {"n_filters": 8, "kernel_size": 64, **params})
