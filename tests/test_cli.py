"""The fbinit command line and the analyze summary behind it."""

import json

import numpy as np
import pytest
import soundfile as sf

from fbinit._io import read_csv
from fbinit.analysis import condition_number_stats, energy_response
from fbinit.analysis.scaling import draw_banks, draw_seeds
from fbinit.cli import build_parser, main
from fbinit.errors import ParameterError
from fbinit.report.summary import summarize_random_banks
from fbinit.signals import random_walk, sine


def test_summary_equals_independent_computations():
    x = random_walk(512, seed=1)
    s = summarize_random_banks(6, 32, n_draws=40, seed=3, signals={"walk": x})
    stats = condition_number_stats(6, 32, n_fft=1024, n_draws=40, seed=3, quantiles=(0.05,))
    assert s.frames["median_kappa"] == stats.median_kappa[0]
    assert s.frames["ratio_of_means"] == stats.ratio_of_means[0]
    assert s.frames["kappa_q05"] == stats.kappa_quantiles[0, 0]
    bank = draw_banks(6, 32, draw_seeds(3, 6, 32, 40))
    e = energy_response(bank, x).numpy() / np.sum(x**2)
    assert s.clips["walk"]["mean"] == pytest.approx(e.mean(), rel=1e-12)
    assert s.clips["walk"]["q95"] == pytest.approx(np.quantile(e, 0.95), rel=1e-12)


def test_summary_errors():
    with pytest.raises(ParameterError, match="has zero energy"):
        summarize_random_banks(4, 8, n_draws=2, signals={"silence": np.zeros(64)})
    with pytest.raises(ParameterError, match="must be one-dimensional"):
        summarize_random_banks(4, 8, n_draws=2, signals={"stereo": np.ones((2, 64))})


def test_analyze_prints_tables_and_writes_json(tmp_path, capsys):
    wav = tmp_path / "tone.wav"
    sf.write(wav, sine(4000, frequency=440.0, sample_rate=8000.0), 8000)
    out = tmp_path / "summary.json"
    code = main(["analyze", str(wav), "-J", "8", "-T", "64", "--draws", "20", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Frame bounds of 20 Gaussian banks" in text and "tone" in text
    data = json.loads(out.read_text())
    assert data["config"]["n_filters"] == 8 and set(data["clips"]) == {"tone"}
    assert 0.5 < data["clips"]["tone"]["mean"] < 1.5


def test_cli_reports_bad_input_without_traceback(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing.wav"), "--draws", "2"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["analyze", "-J", "0", "--draws", "2"]) == 2
    assert "n_filters=0 must be an integer >= 1" in capsys.readouterr().err


def test_every_command_is_registered():
    parser = build_parser()
    for argv in (
        ["analyze"],
        ["report", "--out", "x"],
        ["figures", "--out", "x"],
        ["scaling"],
        ["theory", "du2018", "--out", "x"],
    ):
        assert callable(parser.parse_args(argv).func)
    with pytest.raises(SystemExit):
        parser.parse_args(["theory", "unknown", "--out", "x"])


def test_scaling_table_and_csv_match_condition_number_stats(tmp_path, capsys):
    out = tmp_path / "grid.csv"
    argv = ["scaling", "-J", "6", "12", "-T", "8", "16", "--draws", "30", "--csv", str(out)]
    assert main(argv) == 0
    assert "Condition number of Gaussian banks" in capsys.readouterr().out
    stats = condition_number_stats([6, 12], [8, 16], n_fft=None, n_draws=30, seed=0)
    settings, columns = read_csv(out)
    assert settings["seed"] == 0 and settings["n_draws"] == [30]
    assert len(columns["median_kappa"]) == 4
    medians = [float(v) for v in columns["median_kappa"]]
    np.testing.assert_allclose(medians, stats.median_kappa, rtol=1e-12)
