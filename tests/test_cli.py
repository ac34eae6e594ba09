"""The fbinit command line and the analyze summary behind it."""

import json
import re

import numpy as np
import pytest
import soundfile as sf

from fbinit import Filterbank
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


# ------------------------------------------------------------- outputs checked first


def _fail_if_called(*args, **kwargs):
    raise AssertionError("the command computed before checking its outputs")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["analyze", "--json", "{dir}"], r"--json='.*' must be a file path, not a directory"),
        (["analyze", "--json", ""], r"--json='' must be a non-empty path"),
        (["analyze", "--json", "{file}/x.json"], r"--json='.*' must not lie under '.*afile'"),
        (["analyze", "--json", "/sys/fbinit/x.json"], r"--json='.*' must be writable"),
        (["scaling", "--csv", "{dir}"], r"--csv='.*' must be a file path, not a directory"),
        (["scaling", "--csv", ""], r"--csv='' must be a non-empty path"),
        (["report", "--out", "{file}"], r"--out='.*afile' must be a directory \(it is a file\)"),
        (["report", "--out", ""], r"--out='' must be a non-empty path"),
        (["report", "--out", "{file}/r"], r"--out='.*' must not lie under '.*afile'"),
        (["report", "--out", "{busy}"], r"--out='.*busy' must be a new or empty folder"),
        (["report", "--out", "/sys/fbinit/r"], r"--out='/sys/fbinit/r' must be writable"),
        (["figures", "--out", "{file}"], r"--out='.*afile' must be a directory"),
        (["figures", "--out", ""], r"--out='' must be a non-empty path"),
        (["figures", "--out", "{busy}"], r"--out='.*busy' must be a new or empty folder"),
        (["theory", "du2018", "--out", "{file}"], r"--out='.*afile' must be a directory"),
        (["theory", "du2018", "--out", ""], r"--out='' must be a non-empty path"),
    ],
)
def test_unwritable_outputs_fail_in_one_line_before_any_work(
    tmp_path, capsys, monkeypatch, argv, match
):
    import fbinit.analysis as analysis
    import fbinit.report.condition_report as condition_report
    import fbinit.report.figures as report_figures
    import fbinit.report.summary as summary
    import fbinit.theory as theory

    monkeypatch.setattr(summary, "summarize_random_banks", _fail_if_called)
    monkeypatch.setattr(analysis, "condition_number_stats", _fail_if_called)
    monkeypatch.setattr(condition_report, "build_report", _fail_if_called)
    monkeypatch.setattr(report_figures, "write_figures", _fail_if_called)
    monkeypatch.setattr(theory, "run", _fail_if_called)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    where = {"dir": tmp_path, "file": tmp_path / "afile", "busy": tmp_path / "busy"}
    argv = [a.format(**where) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(match, " ".join(err.split())), err
    assert "Traceback" not in err


# ---------------------------------------------------------------- analyze and clips


def test_clips_with_the_same_stem_stay_apart(tmp_path, capsys):
    sf.write(tmp_path / "a.wav", sine(4000, frequency=440.0, sample_rate=8000.0), 8000)
    sf.write(tmp_path / "a.flac", sine(4000, frequency=1000.0, sample_rate=8000.0), 8000)
    out = tmp_path / "s.json"
    argv = ["analyze", str(tmp_path / "a.wav"), str(tmp_path / "a.flac"), "-J", "4", "-T", "16"]
    assert main([*argv, "--draws", "3", "--json", str(out)]) == 0
    assert set(json.loads(out.read_text())["clips"]) == {"a.wav", "a.flac"}
    text = capsys.readouterr().out
    assert "a.wav" in text and "a.flac" in text


def test_analyze_energies_use_the_stride_and_the_mode(tmp_path):
    x = random_walk(48, seed=2)
    sf.write(tmp_path / "walk.wav", x, 8000, subtype="DOUBLE")
    out = tmp_path / "s.json"
    argv = ["analyze", str(tmp_path / "walk.wav"), "-J", "5", "-T", "16", "--draws", "6"]
    assert main([*argv, "--stride", "4", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["config"]["stride"] == 4 and data["config"]["n_fft"] == 1024
    weights = draw_banks(5, 16, draw_seeds(0, 5, 16, 6))
    bank = Filterbank(weights, stride=4)
    e = energy_response(bank, x).numpy() / np.sum(x**2)
    assert data["clips"]["walk"]["mean"] == pytest.approx(e.mean(), rel=1e-10)
    # a clip shorter than the filters: a CLI message naming CLI options, and --mode full
    argv = ["analyze", str(tmp_path / "walk.wav"), "-J", "5", "-T", "64", "--draws", "2"]
    assert main(argv) == 2
    assert main([*argv, "--mode", "full", "--json", str(out)]) == 0
    e = energy_response(draw_banks(5, 64, draw_seeds(0, 5, 64, 2)), x, mode="full").numpy()
    data = json.loads(out.read_text())
    assert data["config"]["mode"] == "full"
    assert data["clips"]["walk"]["mean"] == pytest.approx(e.mean() / np.sum(x**2), rel=1e-10)


def test_short_clip_message_names_cli_options(tmp_path, capsys):
    sf.write(tmp_path / "short.wav", sine(100, periods=3), 8000)
    assert main(["analyze", str(tmp_path / "short.wav"), "-T", "1024", "--draws", "2"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--kernel-size=1024 must be <= the length of clip 'short'" in err
    assert "use --mode full" in err and 'mode="full"' not in err


def test_analyze_and_scaling_agree_on_a_stride_that_does_not_divide_1024(tmp_path):
    out = tmp_path / "s.json"
    assert (
        main(
            ["analyze", "-J", "6", "-T", "32", "--stride", "3", "--draws", "5", "--json", str(out)]
        )
        == 0
    )
    analyze = json.loads(out.read_text())["frames"]
    assert (
        main(
            [
                "scaling",
                "-J",
                "6",
                "-T",
                "32",
                "--stride",
                "3",
                "--draws",
                "5",
                "--csv",
                str(tmp_path / "g.csv"),
            ]
        )
        == 0
    )
    _, columns = read_csv(tmp_path / "g.csv")
    assert columns["n_fft"] == ["1026"]  # max(1024, 2T) rounded up to a multiple of 3
    assert float(columns["median_kappa"][0]) == pytest.approx(analyze["median_kappa"], rel=1e-12)


def test_report_with_sinc_defaults_to_an_odd_kernel_size(tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["report", "--out", str(out), "--bank", "sinc", "-J", "8", "--draws", "3"]
    assert main(argv) == 0
    assert "kernel_size=1025" in (out / "report.md").read_text()
    assert main([*argv, "-T", "64"]) == 2
    assert "--kernel-size=64 must be odd with --bank sinc" in capsys.readouterr().err


def test_file_names_with_markup_are_printed_as_written(tmp_path, capsys):
    name = tmp_path / "[bold]x[red].wav"
    sf.write(name, sine(4000, frequency=440.0, sample_rate=8000.0), 8000)
    assert main(["analyze", str(name), "-J", "4", "-T", "16", "--draws", "2"]) == 0
    assert "[bold]x[red]" in capsys.readouterr().out
