"""The seven paper figures: table values against independent computations, files, errors."""

from __future__ import annotations

import csv
import io
import math
import warnings

import numpy as np
import pytest
import scipy.signal

import fbinit
from fbinit import signals
from fbinit._io import read_csv, read_manifest
from fbinit.analysis import energy_response
from fbinit.analysis.distribution import energy_distribution
from fbinit.analysis.scaling import draw_seeds
from fbinit.banks import gaussian
from fbinit.errors import AudioError, ParameterError
from fbinit.report import figures
from fbinit.report.figures import (
    FigureResult,
    cell_seed,
    figure_1,
    figure_2,
    figure_3,
    figure_4,
    figure_5,
    figure_6,
    figure_7,
    paper_clips,
    write_figures,
)

J = 10  # filters of the energy figures
P = 0.05
U = math.log(1 / P)
DEVIATION_COLUMNS = [
    "kernel_size",
    "mean_deviation",
    "mean_deviation_se",
    "empirical_q95",
    "exact_q95",
    "bernstein_bound",
    "cantelli_bound",
    "chebyshev_bound",
    "reference_curve",
]
LAZY_WALK = "lazy walk (the paper's 'Brownian noise')"
# exact 95% quantiles of E - 1 for a unit impulse, J = 10 (reference/random-filterbanks.md)
IMPULSE_Q95 = {8: 0.2735, 16: 0.1907, 32: 0.1335, 64: 0.0937}


def short_clips() -> dict[str, np.ndarray]:
    """Two clips of 0.1 s at 22 050 Hz (shorter than 1 s: used whole, with a warning)."""
    return {
        "noise": signals.white_noise(2205, seed=3),
        "tone": signals.sine(2205, frequency=440.0, sample_rate=22050),
    }


def energies(x: np.ndarray, kernel_size: int, n_draws: int, seed: int) -> np.ndarray:
    """E / ||x||^2 of the banks of one cell, recomputed from the documented seed rule."""
    bank = gaussian(J, kernel_size, n_draws=n_draws, seed=cell_seed(seed, J, kernel_size))
    return energy_response(bank, x).numpy() / float(x @ x)


def oracle_bounds(J_: int, T: int, n_draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame bounds of the draws of condition_number_stats, by numpy's rfft per bank."""
    A, B = np.empty(n_draws), np.empty(n_draws)
    for d, s in enumerate(draw_seeds(seed, J_, T, n_draws)):
        w = gaussian(J_, T, seed=s).weights.numpy()
        lp = (np.abs(np.fft.rfft(w, n=1024, axis=-1)) ** 2).sum(axis=0)
        A[d], B[d] = lp.min(), lp.max()
    return A, B


def rows(result: FigureResult, **where) -> dict[str, np.ndarray]:
    sel = np.ones(len(next(iter(result.table.values()))), dtype=bool)
    for key, value in where.items():
        sel &= result.table[key] == value
    return {k: v[sel] for k, v in result.table.items()}


# ----------------------------------------------------------------------- Fig. 3


@pytest.fixture(scope="module")
def fig3() -> FigureResult:
    return figure_3(n_draws=40, seed=3, kernel_sizes=[8, 16, 64])


def test_figure3_columns(fig3):
    assert list(fig3.table) == ["signal", *DEVIATION_COLUMNS]
    assert sorted(set(fig3.table["signal"].tolist())) == [
        "impulse",
        "lazy walk (the paper's 'Brownian noise')",
        "sinusoid (8 periods in N)",
    ]
    assert fig3.table["kernel_size"].tolist() == [8, 16, 64] * 3


def test_figure3_empirical_columns_match_energy_response(fig3):
    paper = signals.make_paper_signals(1024, seed=0)
    labels = {"impulse": "impulse", "lazy_walk": LAZY_WALK}
    labels["sine"] = "sinusoid (8 periods in N)"
    for key, label in labels.items():
        r = rows(fig3, signal=label)
        for k, T in enumerate(r["kernel_size"].tolist()):
            dev = energies(paper[key], T, 40, 3) - 1
            np.testing.assert_allclose(r["empirical_q95"][k], np.quantile(dev, 0.95), rtol=1e-12)
            np.testing.assert_allclose(r["mean_deviation"][k], dev.mean(), atol=1e-14)
            se = dev.std(ddof=1) / math.sqrt(40)
            np.testing.assert_allclose(r["mean_deviation_se"][k], se, rtol=1e-12)
            # the mean energy is ||x||^2 = 1: the sample mean lies within 4 standard errors
            assert abs(r["mean_deviation"][k]) < 4 * se


def test_figure3_exact_quantile_is_the_distribution_ppf(fig3):
    impulse = rows(fig3, signal="impulse")
    for T, q in zip(impulse["kernel_size"].tolist(), impulse["exact_q95"], strict=True):
        assert q == pytest.approx(IMPULSE_Q95[T], abs=5e-5)  # published values
    x = signals.make_paper_signals(1024, seed=0)["lazy_walk"]
    law = energy_distribution(x, J, [8, 16, 64])
    r = rows(fig3, signal=LAZY_WALK)
    np.testing.assert_allclose(r["exact_q95"], law.ppf(0.95).numpy() - 1, rtol=1e-9)


def test_figure3_bounds_in_closed_form(fig3):
    """Impulse: E ~ chi2_{JT}/(JT); sinusoid: V = 1/J + (sin(T w0)/sin w0)^2 / (J T^2)."""
    r = rows(fig3, signal="impulse")
    T = r["kernel_size"].astype(float)
    np.testing.assert_allclose(r["cantelli_bound"], np.sqrt(3.8 / T), rtol=1e-10)
    np.testing.assert_allclose(r["chebyshev_bound"], np.sqrt(4.0 / T), rtol=1e-10)
    a = 1.0 / (J * T)  # every weight, multiplicity J T: ||a||_2 = sqrt(a), ||a||_inf = a
    bern = 2 * np.sqrt(a * U) + 2 * a * U
    np.testing.assert_allclose(r["bernstein_bound"], bern, rtol=1e-9)
    reference = U * a + np.sqrt(U**2 * a**2 + 2 * U * a)
    np.testing.assert_allclose(r["reference_curve"], reference, rtol=1e-9)
    s = rows(fig3, signal="sinusoid (8 periods in N)")
    T = s["kernel_size"].astype(float)
    w0 = 2 * np.pi * 8 / 1024
    var = 1 / J + (np.sin(T * w0) / np.sin(w0)) ** 2 / (J * T**2)
    np.testing.assert_allclose(s["cantelli_bound"], np.sqrt(var * (1 / P - 1)), rtol=1e-9)


def test_figure3_same_seed_same_numbers(fig3):
    again = figure_3(n_draws=40, seed=3, kernel_sizes=[8, 16, 64])
    other = figure_3(n_draws=40, seed=4, kernel_sizes=[8, 16, 64])
    np.testing.assert_array_equal(again.table["empirical_q95"], fig3.table["empirical_q95"])
    assert not np.array_equal(other.table["empirical_q95"], fig3.table["empirical_q95"])


# ------------------------------------------------------------------ Figs. 2 and 4


def test_figure4_on_given_clips():
    clips = short_clips()
    with pytest.warns(UserWarning, match="shorter than 1 s"):
        res = figure_4(clips, n_draws=30, seed=1, kernel_sizes=[8, 128])
    assert list(res.table) == ["clip", *DEVIATION_COLUMNS]
    for name, x in clips.items():
        r = rows(res, clip=name)
        x = signals.normalize(x)  # as the figure does
        for k, T in enumerate([8, 128]):
            dev = energies(x, T, 30, 1) - 1
            np.testing.assert_allclose(r["empirical_q95"][k], np.quantile(dev, 0.95), rtol=1e-10)
        law = energy_distribution(x, J, [8, 128])
        np.testing.assert_allclose(r["exact_q95"], law.ppf(0.95).numpy() - 1, rtol=1e-9)


def test_figure2_histograms_and_exact_law():
    clips = short_clips()
    with pytest.warns(UserWarning, match="shorter than 1 s"):
        res = figure_2(clips, n_draws=200, seed=2, kernel_size=64)
    assert list(res.table) == [
        "clip",
        "bin_left",
        "bin_right",
        "empirical_density",
        "exact_density",
        "empirical_q05",
        "empirical_q95",
        "exact_q05",
        "exact_q95",
    ]
    for name, x in clips.items():
        r = rows(res, clip=name)
        width = r["bin_right"] - r["bin_left"]
        assert len(width) == figures.HISTOGRAM_BINS
        # every draw falls in a bin; the bins cover the exact law's 0.1%..99.9% range
        assert float((r["empirical_density"] * width).sum()) == pytest.approx(1.0, abs=1e-12)
        assert 0.998 - 1e-9 <= float((r["exact_density"] * width).sum()) <= 1.0 + 1e-9
        x = signals.normalize(x)  # as the figure does
        e = energies(x, 64, 200, 2)
        assert r["empirical_q05"][0] == pytest.approx(np.quantile(e, 0.05), rel=1e-12)
        assert r["empirical_q95"][0] == pytest.approx(np.quantile(e, 0.95), rel=1e-12)
        # the figure's counts, against energies recomputed by another code path: a draw
        # within rounding of a bin edge may fall on either side, so compare the cumulative
        # counts at each edge with the counts of draws surely below / possibly below it
        edges = np.append(r["bin_left"], r["bin_right"][-1])
        counts = r["empirical_density"] * width * 200
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
        below = np.concatenate([[0], np.cumsum(np.round(counts))])
        tol = 1e-9 * np.abs(edges).max()
        surely = (e[None, :] < edges[:, None] - tol).sum(axis=1)
        possibly = (e[None, :] < edges[:, None] + tol).sum(axis=1)
        assert np.all(surely[:-1] <= below[:-1]) and np.all(below[:-1] <= possibly[:-1])
        assert below[-1] == 200
        law = energy_distribution(x, J, 64)
        q = law.ppf(np.array([0.05, 0.95])).numpy()
        np.testing.assert_allclose([r["exact_q05"][0], r["exact_q95"][0]], q, rtol=1e-9)
        # the exact bin probabilities match the draws (chi-square goodness of fit, loose)
        counts = np.round(counts)
        expected = r["exact_density"] * width * 200
        keep = expected > 5
        chi2 = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
        assert chi2 < 3 * keep.sum()


# ----------------------------------------------------------------- Figs. 5 to 7


def test_figure5_against_numpy_frame_bounds():
    res = figure_5(n_draws=6, seed=2, kernel_sizes=[8, 1024])
    assert list(res.table) == [
        "kernel_size",
        "mean_A",
        "sd_A",
        "mean_B",
        "sd_B",
        "model_mean_A",
        "model_mean_B",
        "heuristic_A",
        "heuristic_B",
    ]
    for k, T in enumerate([8, 1024]):
        A, B = oracle_bounds(40, T, 6, 2)
        assert res.table["mean_A"][k] == pytest.approx(A.mean(), rel=1e-10)
        assert res.table["sd_A"][k] == pytest.approx(A.std(ddof=1), rel=1e-8)
        assert res.table["mean_B"][k] == pytest.approx(B.mean(), rel=1e-10)
        assert res.table["sd_B"][k] == pytest.approx(B.std(ddof=1), rel=1e-8)
    spread = 2 * np.sqrt(np.log([8.0, 1024.0]) / 40)
    np.testing.assert_allclose(res.table["heuristic_A"], 1 - spread, rtol=1e-12)
    np.testing.assert_allclose(res.table["heuristic_B"], 1 + spread, rtol=1e-12)
    # J = 40: mean A about 0.76 -> 0.59, mean B about 1.27 -> 1.56 (reference checks)
    np.testing.assert_allclose(res.table["model_mean_A"], [0.76, 0.59], atol=0.015)
    np.testing.assert_allclose(res.table["model_mean_B"], [1.27, 1.56], atol=0.02)


def test_figure6_statistics_and_scaling_law():
    res = figure_6(n_draws=8, seed=5, kernel_sizes=[8, 32])
    assert list(res.table) == [
        "n_filters",
        "kernel_size",
        "median_kappa",
        "mean_kappa",
        "ratio_of_means",
        "kappa_tilde",
        "model_median_kappa",
    ]
    for J_ in (5, 10, 40):
        for T in (8, 32):
            r = rows(res, n_filters=J_, kernel_size=T)
            A, B = oracle_bounds(J_, T, 8, 5)
            assert r["median_kappa"][0] == pytest.approx(np.median(B / A), rel=1e-9)
            assert r["mean_kappa"][0] == pytest.approx(np.mean(B / A), rel=1e-9)
            assert r["ratio_of_means"][0] == pytest.approx(B.mean() / A.mean(), rel=1e-9)
            root = 2 * math.sqrt(math.log(T) / J_)
            tilde = (1 + root) / (1 - root) if J_ > 4 * math.log(T) else math.inf
            assert r["kappa_tilde"][0] == pytest.approx(tilde, rel=1e-12)
            assert r["model_median_kappa"][0] > 1


def test_figure7_diagonal():
    res = figure_7(n_draws=4, seed=0, kernel_sizes=[8, 16, 32])
    assert len(res.table["n_filters"]) == 3 * 8
    diag = res.table["on_diagonal"]
    pairs = sorted(
        zip(
            res.table["n_filters"][diag].tolist(),
            res.table["kernel_size"][diag].tolist(),
            strict=True,
        )
    )
    assert pairs == [(3, 8), (4, 16), (5, 32)]
    r = rows(res, n_filters=4, kernel_size=16)
    A, B = oracle_bounds(4, 16, 4, 0)
    assert r["median_kappa"][0] == pytest.approx(np.median(B / A), rel=1e-9)


# ----------------------------------------------------------------------- Fig. 1


def test_figure1_spectrogram_peak_at_the_tone():
    with pytest.warns(UserWarning, match="shorter than 1 s"):
        res = figure_1(short_clips())
    assert list(res.table) == ["clip", "time_s", "frequency_hz", "power_db"]
    tone = rows(res, clip="tone")
    f, t, _ = scipy.signal.spectrogram(np.zeros(2205), fs=22050, nperseg=512, noverlap=256)
    assert len(tone["power_db"]) == f.size * t.size
    assert tone["power_db"].max() == 0.0 and tone["power_db"].min() >= -80.0
    peak = tone["frequency_hz"][np.argmax(tone["power_db"])]
    assert abs(peak - 440.0) <= 22050 / 512 / 2


def test_paper_clips_default_is_the_loudest_second():
    clips = paper_clips()
    assert list(clips) == ["snare (synthetic)", "speech (arctic_a0007)", "flute (synthetic)"]
    for x in clips.values():
        assert x.shape == (22050,)
        assert float(x @ x) == pytest.approx(1.0, abs=1e-12)
    speech, sr = signals.example("arctic_a0007", sample_rate=22050)
    window = scipy.signal.fftconvolve(speech**2, np.ones(22050), mode="valid")
    start = int(np.argmax(window))
    excerpt = speech[start : start + 22050]
    np.testing.assert_allclose(
        clips["speech (arctic_a0007)"], excerpt / np.linalg.norm(excerpt), atol=1e-12
    )


# ------------------------------------------------------------------------ files


def test_write_figures_files(tmp_path):
    calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # short clips
        paths = write_figures(
            tmp_path,
            clips=short_clips(),
            n_draws=4,
            seed=0,
            kernel_sizes=[8, 16],
            progress=lambda stage, done, total: calls.append((stage, done, total)),
        )
    stems = [
        "fig1_spectrograms",
        "fig2_energy_histograms",
        "fig3_deviation_synthetic",
        "fig4_deviation_clips",
        "fig5_frame_bounds",
        "fig6_condition_vs_kernel_size",
        "fig7_condition_vs_n_filters",
    ]
    assert [p.name for p in paths] == [f"{s}.{e}" for s in stems for e in ("png", "pdf", "csv")]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(p.name for p in paths), "manifest.json"]
    )
    manifest = read_manifest(tmp_path)
    assert manifest["kind"] == "fbinit figures" and sorted(manifest["files"]) == sorted(
        p.name for p in paths
    )
    assert manifest["settings"]["seed"] == 0 and manifest["settings"]["n_draws"] == 4
    for p in paths:
        data = p.read_bytes()
        assert data
        if p.suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
        elif p.suffix == ".pdf":
            assert data.startswith(b"%PDF")
    assert [c[1] for c in calls] == list(range(8)) and calls[-1] == ("done", 7, 7)
    # the CSV holds the settings and the table at full precision: same seed, same numbers
    settings, table = read_csv(tmp_path / "fig3_deviation_synthetic.csv")
    direct = figure_3(n_draws=4, seed=0, kernel_sizes=[8, 16])
    assert settings == {
        "fbinit": fbinit.__version__,
        "figure": 3,
        "seed": 0,
        "n_draws": 4,
        "n_filters": 10,
        "kernel_sizes": [8, 16],
        "p": 0.05,
        "signals": list(direct.settings["signals"]),
        "n_samples": 1024,
    }
    assert list(table) == list(direct.table)
    got = np.array([float(v) for v in table["empirical_q95"]])
    np.testing.assert_allclose(got, direct.table["empirical_q95"], rtol=1e-12)
    for path in paths:
        if path.suffix == ".csv":
            settings, _ = read_csv(path)
            assert settings["fbinit"] == fbinit.__version__
            assert settings["figure"] == int(path.name[3])
            if settings["figure"] != 1:  # Fig. 1 draws nothing
                assert settings["seed"] == 0 and settings["n_draws"] == 4
                assert settings["kernel_sizes"] in ([8, 16], [16])
    clip_settings, _ = read_csv(tmp_path / "fig4_deviation_clips.csv")
    assert clip_settings["clips"] == ["noise", "tone"]
    assert clip_settings["sample_rate"] == 22050


def test_interrupted_write_leaves_the_previous_figures(tmp_path, monkeypatch):
    out = tmp_path / "figures"
    calls = []

    def boom(self):
        calls.append(self.number)
        if len(calls) > 7:  # the second run fails on its first CSV
            raise RuntimeError("interrupted")
        return real_to_csv(self)

    real_to_csv = FigureResult.to_csv
    monkeypatch.setattr(FigureResult, "to_csv", boom)
    write_figures(out, n_draws=2, kernel_sizes=[8])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RuntimeError, match="interrupted"):
        write_figures(out, n_draws=3, seed=1, kernel_sizes=[8])
    # the first run's 21 files and manifest, untouched; nothing of the second run
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures"]
    with pytest.raises(RuntimeError, match="interrupted"):
        write_figures(tmp_path / "fresh", n_draws=2, kernel_sizes=[8])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures"]  # no half folder


def test_to_csv_formats_every_column():
    res = FigureResult(
        9,
        "t",
        None,
        {"a": np.array(["x", "y"]), "b": np.array([0.1, math.inf]), "c": np.array([True, False])},
        {"seed": 2},
    )
    header = f'# fbinit: "{fbinit.__version__}"\n# figure: 9\n# seed: 2\n'
    assert res.to_csv() == header + "a,b,c\nx,0.1,1\ny,inf,0\n"
    rows_ = list(csv.reader(io.StringIO(res.to_csv().split("\n", 3)[3])))
    assert rows_[0] == ["a", "b", "c"]
    assert res.with_settings(n_draws=5).settings == {"seed": 2, "n_draws": 5}


# ----------------------------------------------------------------------- errors


def test_parameter_errors(tmp_path):
    with pytest.raises(ParameterError, match="n_draws=0 must be an integer >= 1"):
        write_figures(tmp_path, n_draws=0)
    with pytest.raises(TypeError, match="n_draws=1.5 must be an integer"):
        figure_3(n_draws=1.5)
    with pytest.raises(ParameterError, match="seed=-1 must be an integer >= 0"):
        figure_5(seed=-1)
    with pytest.raises(ParameterError, match="must be distinct integers"):
        figure_6(kernel_sizes=[8, 8])
    with pytest.raises(ParameterError, match=r"must be distinct integers in \[2, 1024\]"):
        figure_7(kernel_sizes=[2048])
    with pytest.raises(ParameterError, match="kernel_sizes=1 must be an integer >= 2"):
        figure_3(kernel_sizes=[1])
    with pytest.raises(TypeError, match="kernel_sizes='abc' must be a sequence"):
        figure_4(kernel_sizes="abc")
    with pytest.raises(TypeError, match="progress=5 must be a callable"):
        write_figures(tmp_path, progress=5)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ParameterError, match="must be a directory"):
        write_figures(afile, n_draws=1, kernel_sizes=[8])
    with pytest.raises(TypeError, match="out_dir=3 must be a path"):
        write_figures(3)
    with pytest.raises(ParameterError, match="table columns have lengths"):
        FigureResult(9, "t", None, {"a": np.zeros(2), "b": np.zeros(3)}).to_csv()


@pytest.mark.filterwarnings("ignore:clip .* is shorter than 1 s")
def test_clip_errors(tmp_path):
    with pytest.raises(AudioError, match="missing.wav"):
        figure_1([tmp_path / "missing.wav"])
    with pytest.raises(TypeError, match="must be a sequence of audio file paths"):
        figure_1("speech.wav")
    with pytest.raises(ParameterError, match="paths=\\[\\] must hold at least one"):
        paper_clips([])
    with pytest.raises(ParameterError, match="clips=\\{\\} must hold at least one clip"):
        figure_2({}, n_draws=2, kernel_size=8)
    with pytest.raises(ParameterError, match="has 10 samples; must have >= 16"):
        figure_4({"short": np.ones(10)}, n_draws=2, kernel_sizes=[8, 16])
    with pytest.raises(ParameterError, match="zero energy"):
        figure_1({"silent": np.zeros(4000)})
    with pytest.raises(ParameterError, match=r"shape=\(2, 3\) must be \(n_samples,\)"):
        figure_1({"stereo": np.ones((2, 3))})
    with pytest.raises(TypeError, match="must hold real numbers"):
        figure_1({"complex": np.ones(4000, dtype=complex)})
