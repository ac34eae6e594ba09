"""`fbinit report --module`: loading frontends by import path or file, safely."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import soundfile
import torch

from fbinit.cli import main
from fbinit.errors import ParameterError
from fbinit.frontends.adapters import energy_bounds
from fbinit.report.bank_spec import BankSpec, load_conv1d_bank, load_module
from fbinit.report.condition_report import ENERGY_ROW, build_report


class Payload:
    """Unpickling this object touches a file: stands for code run by a malicious file."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.fixture
def payload(tmp_path) -> tuple[pathlib.Path, pathlib.Path]:
    marker = tmp_path / "code-ran"
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(4, 1, 8), "payload": Payload(marker)}, path)
    return path, marker


def test_weights_file_that_runs_code_is_refused_without_the_flag(payload):
    path, marker = payload
    with pytest.raises(ParameterError, match="holds pickled objects.*trust_pickle=True"):
        load_conv1d_bank(path)
    assert not marker.exists()
    with pytest.raises(ParameterError, match="holds pickled objects"):
        load_module(path)
    assert not marker.exists()
    with pytest.warns(UserWarning, match="runs code from the file"):
        bank = load_conv1d_bank(path, trust_pickle=True)
    assert marker.exists() and bank.n_filters == 4


def test_cli_weights_never_unpickle_without_the_flag(payload, tmp_path, capsys):
    path, marker = payload
    status = main(
        ["report", "--bank", "torch", "--weights", str(path), "--out", str(tmp_path / "report")]
    )
    assert status == 2 and not marker.exists()
    assert "--trust-pickle" in capsys.readouterr().err


def test_load_module_by_import_path_with_kwargs():
    kwargs = {"n_filters": 16, "kernel_size": 65, "stride": 8, "sample_rate": 8000.0}
    module = load_module("asteroid_filterbanks:ParamSincFB", module_kwargs=json.dumps(kwargs))
    assert type(module).__name__ == "ParamSincFB" and not module.training
    spec = BankSpec(
        "module", {"module": "asteroid_filterbanks:ParamSincFB", "module_kwargs": kwargs}
    )
    bank = spec.resolve()
    assert bank.n_filters == 8 and bank.stride == 8 and bank.sample_rate == 8000.0
    assert (
        bank.name
        == spec.label()
        == (
            "asteroid_filterbanks:ParamSincFB(n_filters=16, kernel_size=65, stride=8, "
            "sample_rate=8000.0)"
        )
    )
    with_band = BankSpec("module", {**spec.params, "fmin": 100.0, "sample_rate": 8000})
    assert with_band.resolve().band == (100.0, 4000.0)


def test_load_module_from_a_trusted_file_and_state_dict(tmp_path):
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(1, 4, 16, stride=4, bias=False)
    whole = tmp_path / "conv.pt"
    torch.save(conv, whole)
    with pytest.raises(ParameterError, match="holds pickled objects"):
        load_module(whole)
    with pytest.warns(UserWarning, match="runs code from the file"):
        loaded = load_module(whole, trust_pickle=True)
    assert torch.equal(loaded.weight, conv.weight)
    state = tmp_path / "state.pt"
    torch.save(conv.state_dict(), state)
    kwargs = {"in_channels": 1, "out_channels": 4, "kernel_size": 16, "stride": 4, "bias": False}
    fresh = load_module("torch.nn:Conv1d", module_kwargs=kwargs, weights=state)
    assert torch.equal(fresh.weight, conv.weight)
    with pytest.raises(ParameterError, match="must hold a whole nn.Module, got OrderedDict"):
        load_module(state)


def test_load_module_errors(tmp_path):
    with pytest.raises(ParameterError, match="must be a JSON object: Expecting"):
        load_module("torch.nn:Conv1d", module_kwargs="{n_filters: 3}")
    with pytest.raises(ParameterError, match=r"module_kwargs=\[1\] must be a JSON object"):
        load_module("torch.nn:Conv1d", module_kwargs="[1]")
    with pytest.raises(ParameterError, match="must be an existing file written by torch.save or"):
        load_module("no_such_file.pt")
    with pytest.raises(ParameterError, match="must name an importable module"):
        load_module("no_such_package:Factory")
    with pytest.raises(ParameterError, match="must name an attribute of torch.nn"):
        load_module("torch.nn:NoSuchLayer")
    with pytest.raises(ParameterError, match="failed with"):
        load_module("torch.nn:Conv1d", module_kwargs={"in_channels": 1})
    with pytest.raises(ParameterError, match="must return a torch.nn.Module, got Tensor"):
        load_module("torch:zeros", module_kwargs={"size": [3]})
    with pytest.raises(ParameterError, match="must name a callable factory"):
        load_module("math:pi")
    with pytest.raises(TypeError, match="module must be a str"):
        load_module(3)
    state = tmp_path / "state.pt"
    torch.save(torch.nn.Conv1d(1, 2, 3).state_dict(), state)
    with pytest.raises(ParameterError, match="must fit the module"):
        load_module(
            "torch.nn:Conv1d",
            module_kwargs='{"in_channels": 1, "out_channels": 4, "kernel_size": 3}',
            weights=state,
        )
    with pytest.raises(ParameterError, match="must be an existing file"):
        load_module(
            "torch.nn:Conv1d",
            module_kwargs='{"in_channels": 1, "out_channels": 4, "kernel_size": 3}',
            weights=tmp_path / "missing.pt",
        )
    whole = tmp_path / "conv.pt"
    torch.save(torch.nn.Conv1d(1, 2, 3), whole)
    with pytest.raises(ParameterError, match="must be empty for a module loaded from a file"):
        load_module(whole, module_kwargs={"a": 1}, trust_pickle=True)
    with pytest.raises(ParameterError, match="module must be given for bank 'module'"):
        BankSpec("module", {})


def _noise(seconds: float = 0.25, rate: int = 8000) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(int(seconds * rate)).astype(np.float32)


MEL = {
    "module": "nnAudio.features:MelSpectrogram",
    "module_kwargs": {"sr": 8000, "n_fft": 128, "hop_length": 32, "n_mels": 16, "verbose": False},
}


def test_report_of_a_mel_module_shows_its_energy_bounds():
    spec = BankSpec("module", MEL)
    data = build_report(spec, {"noise": (_noise(), 8000)}, n_draws=5)
    row = data.frames[ENERGY_ROW]
    module = load_module(MEL["module"], module_kwargs=MEL["module_kwargs"])
    bounds = energy_bounds(module, n_fft=data.settings["n_fft"])
    assert row["A"] == pytest.approx(bounds.A, rel=1e-12)
    assert row["B"] == pytest.approx(bounds.B, rel=1e-12)
    assert list(data.frames)[-1] == "random Gaussian reference, full band"
    assert any("projected power spectrogram" in line for line in data.findings)
    assert any("not each band" in note for note in data.notes)
    assert data.bank["stride"] == 32 and data.settings["n_fft"] % 32 == 0


def test_cli_report_module(tmp_path, capsys):
    clip = tmp_path / "noise.wav"
    soundfile.write(clip, _noise(), 8000)
    out = tmp_path / "report"
    kwargs = json.dumps({"n_filters": 16, "kernel_size": 65, "stride": 1, "sample_rate": 8000.0})
    argv = ["report", str(clip), "--out", str(out), "--draws", "5"]
    status = main(
        [*argv, "--module", "asteroid_filterbanks:ParamSincFB", "--module-kwargs", kwargs]
    )
    assert status == 0, capsys.readouterr().err
    text = (out / "report.md").read_text()
    assert "asteroid_filterbanks:ParamSincFB" in text
    assert "kappa of this bank is" in capsys.readouterr().out
    assert main([*argv, "--module", "torch.nn:Conv1d", "--stride", "2"]) == 2
    assert "--stride must not be given with --module" in capsys.readouterr().err
    assert main([*argv, "--bank", "mel", "--module", "torch.nn:Conv1d"]) == 2
    assert "--bank mel must not be given with --module" in capsys.readouterr().err
    assert main([*argv, "--module-kwargs", "{}"]) == 2
    assert "--module-kwargs must be given with --module" in capsys.readouterr().err
    assert main([*argv, "--module", "torch.nn:ReLU"]) == 2
    assert "must be linear" in capsys.readouterr().err


def test_cli_report_saved_module_needs_trust_pickle(tmp_path, capsys):
    clip = tmp_path / "noise.wav"
    soundfile.write(clip, _noise(), 8000)
    saved = tmp_path / "conv.pt"
    torch.save(torch.nn.Conv1d(1, 8, 32, stride=4, bias=False), saved)
    argv = ["report", str(clip), "--out", str(tmp_path / "out"), "--draws", "5", "--module"]
    assert main([*argv, str(saved)]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    assert main([*argv, str(saved), "--trust-pickle"]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "runs code" in captured.err
    assert "stride=4" in (tmp_path / "out" / "report.md").read_text()


def test_report_of_a_multirate_murenn_module():
    from fbinit import analysis_matrix, as_filterbank, frame_bounds

    spec = BankSpec(
        "module",
        {
            "module": "murenn:MuReNNDirect",
            "module_kwargs": {"J": 3, "Q": 2, "T": 8, "in_channels": 1},
        },
    )
    noise = np.random.default_rng(0).standard_normal(4000)
    torch.manual_seed(0)  # murenn draws its weights from torch's global generator
    data = build_report(spec, {"noise": (noise, 8000)}, n_draws=5)
    assert data.bank["stride"] == (2, 2, 4, 4, 8, 8, 8, 8)
    assert data.settings["n_fft"] % 8 == 0
    torch.manual_seed(0)
    A, B = frame_bounds(spec.resolve(), n_fft=data.settings["n_fft"])
    assert data.frames["this bank, full band"]["A"] == pytest.approx(float(A), rel=1e-9)
    assert any("multirate" in note for note in data.notes)
    # the module's multirate bounds equal the dense frame operator's on a small signal
    bank = as_filterbank(spec.resolve())
    n = 8 * -(-bank.kernel_size // 8)
    phi = analysis_matrix(bank.real_part_bank(), n_fft=n)
    eig = torch.linalg.eigvalsh(phi.T @ phi)
    A_small, B_small = frame_bounds(bank, n_fft=n)
    assert float(A_small) == pytest.approx(float(eig[0]), rel=1e-8, abs=1e-12)
    assert float(B_small) == pytest.approx(float(eig[-1]), rel=1e-8)
