"""`fbinit frontends`: the table, its JSON and its definitions of the energy deviation."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from fbinit import as_filterbank, frame_bounds
from fbinit.analysis import exact_deviation
from fbinit.cli import build_parser, main
from fbinit.cli.frontends import gaussian_law, summarize_frontend
from fbinit.frontends import (
    ConvFrontend,
    GammatoneFrontend,
    MultiresFrontend,
    STFTFrontend,
    registry,
)
from fbinit.signals import sine, white_noise

SR = 16000


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "tone.wav"
    x = sine(8000, frequency=440.0, sample_rate=SR) + 0.1 * white_noise(8000, seed=1)
    sf.write(path, x / np.abs(x).max() * 0.5, SR)
    return path


def test_table_and_json(wav, tmp_path, capsys):
    out = tmp_path / "frontends.json"
    argv = ["frontends", str(wav), "--only", "mel", "conv-gaussian", "--json", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    for words in ("Frame bounds", "mel", "conv-gaussian", "tone", "±", "MelFrontend"):
        assert words in text
    data = json.loads(out.read_text())
    assert data["settings"]["p"] == 0.05 and data["settings"]["clips"] == {"tone": 8000}
    assert data["settings"]["sample_rates"] == [SR]
    mel, conv = data["frontends"]["mel"], data["frontends"]["conv-gaussian"]
    assert mel["n_filters"] == 257 and mel["parameters"] == 0 and mel["band"] == [0.0, 8000.0]
    assert mel["energy"]["tone"]["kind"] == "measured"
    assert mel["kappa_band"] is None  # stride 160: in-band bounds are not defined
    assert conv["parameters"] == 40 * 401 and conv["stride"] == 1
    assert conv["energy"]["tone"]["kind"] == "exact law"
    assert 0 < conv["A"] < 1 < conv["B"]


def test_measured_ratio_is_the_energy_of_the_frontends_own_coefficients():
    # circular padding with 2^J | N: analyze() is exactly the frame the ratio measures
    x = white_noise(4096, seed=2)
    for frontend in (
        STFTFrontend(256, stride=64, padding="circular", modulus=None).double(),
        GammatoneFrontend(12, 512, stride=8, fmin=200.0, padding="circular", modulus=None),
        MultiresFrontend(4, 2, 9, padding="circular"),
    ):
        frontend = frontend.double()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            row = summarize_frontend(frontend, {"x": x})
        coeffs = frontend.analyze(torch.tensor(x)[None])
        coeffs = coeffs if isinstance(coeffs, list) else [coeffs]
        energy = sum(float(c.detach().abs().square().sum()) for c in coeffs)
        assert row["energy"]["x"]["ratio"] == pytest.approx(energy / np.sum(x**2), rel=1e-9)


def test_measured_ratio_lies_between_bounds_at_the_clips_length():
    x = white_noise(2048, seed=3) + np.sin(np.arange(2048) * 0.3)
    frontend = STFTFrontend(128, stride=32).double()
    row = summarize_frontend(frontend, {"x": x}, n_fft=2048)
    A, B = frame_bounds(frontend, n_fft=2048)
    assert float(A) <= row["energy"]["x"]["ratio"] <= float(B)
    assert row["A"] == float(A) and row["n_fft"] == 2048


def test_gaussian_law_is_the_two_sided_exact_deviation():
    x = white_noise(3000, seed=4)
    sigma = 1 / np.sqrt(40 * 401)
    frontend = ConvFrontend(40, 401, init="gaussian", seed=0)
    assert gaussian_law(frontend) == (40, 401, pytest.approx(sigma, rel=1e-15))
    assert gaussian_law(ConvFrontend(40, 401, init="kaiming")) is None
    row = summarize_frontend(frontend, {"x": x}, p=0.1, gaussian_law=gaussian_law(frontend))
    up = exact_deviation(x, 40, 401, 0.05, tail="upper", sigma=sigma)
    down = exact_deviation(x, 40, 401, 0.05, tail="lower", sigma=sigma)
    cell = row["energy"]["x"]
    assert cell["kind"] == "exact law" and cell["p"] == 0.1
    assert cell["mean"] == pytest.approx(1.0, rel=1e-12)
    assert cell["alpha"] == max(float(up), float(down))


def test_every_registered_frontend_is_listed(tmp_path, capsys):
    # the cheap ones end to end; the listing offers every registered name
    out = tmp_path / "all.json"
    assert main(["frontends", "--only", "stft", "sinc", "multires", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["frontends"]
    assert set(rows) == {"stft", "sinc", "multires"}
    assert rows["multires"]["stride"] == list(as_filterbank(registry.create("multires")).strides)
    assert rows["multires"]["kappa"] is not None  # multirate frame bounds
    capsys.readouterr()
    assert main(["frontends", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in registry.names())


def test_help_defines_the_energy_column():
    text = build_parser()._subparsers._group_actions[0].choices["frontends"].format_help()
    assert "‖Φx‖² / ‖x‖²" in text and "max(alpha_up(p/2), alpha_down(p/2))" in text


def test_errors_are_one_line_with_status_2(wav, tmp_path, capsys):
    assert main(["frontends", str(wav), "--only", "lief"]) == 2
    err = capsys.readouterr().err
    assert "--only 'lief' must be one of" in err and "Traceback" not in err
    assert main(["frontends", str(wav), "--only", "mel", "--p", "1.5"]) == 2
    assert "p=1.5 must be in the open interval (0, 1)" in capsys.readouterr().err
    assert main(["frontends", str(tmp_path / "missing.wav"), "--only", "mel"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["frontends", str(wav), "--only", "mel", "--n-fft", "1000"]) == 2
    assert "stride=160 must divide n_fft=1000" in capsys.readouterr().err
