"""Tests of the conditioning-during-training task (tiny configurations)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fbinit import Filterbank
from fbinit.analysis import condition_number, frame_bounds
from fbinit.bench import _conditioning_targets as targets
from fbinit.bench import conditioning as cond
from fbinit.bench.section import Section
from fbinit.bench.training import energy_deviation
from fbinit.errors import ParameterError
from fbinit.frontends import ConvFrontend
from fbinit.sweep import get_experiment

REQUIRED = (
    "task",
    "frontend",
    "n_params",
    "wall_s",
    "kappa_init",
    "kappa_final",
    "kappa_band_init",
    "kappa_band_final",
    "energy_deviation_init",
    "loss_init",
    "loss_final",
    "threshold",
    "steps_to_threshold",
    "curve",
    "l2_change",
    "js_mean",
    "init",
    "target",
    "variant",
    "beta",
    "published",
)


@pytest.fixture(scope="module")
def tiny_records() -> dict[str, dict]:
    """The tiny plan (CQT; none, penalty, tight; 20 steps at lr 1e-3, batch 16), by variant."""
    out = {}
    for params, seeds in cond.plan("tiny"):
        for seed in seeds:
            out[params["variant"]] = cond.run_conditioning(**params, seed=seed)
    return out


def test_kappa_init_agrees_with_condition_number(tiny_records):
    """The record's LP kappa (numpy rfft) equals fbinit.analysis.condition_number at stride 1."""
    s = targets.SETTINGS["cqt"]
    bank = ConvFrontend(s["n_filters"], s["kernel_size"], stride=1, init="gaussian", seed=0)
    expected = float(condition_number(bank.weight.detach(), n_fft=s["n_fft"]))
    assert tiny_records["none"]["kappa_init"] == pytest.approx(expected, rel=1e-6)
    assert tiny_records["none"]["curve"]["kappa"][0] == tiny_records["none"]["kappa_init"]


def test_penalty_ends_with_lower_kappa(tiny_records):
    # tiny: lr 1e-3 (100x the notebooks'): 20 steps take kappa from 2.7 to ~150 without the
    # penalty and to ~30 with it (seeds 0-2), a margin of 4x or more
    none, pen = tiny_records["none"], tiny_records["penalty"]
    assert pen["kappa_init"] == none["kappa_init"]  # paired: the same initial draw
    assert pen["loss_init"] == none["loss_init"]  # and the same evaluation set
    assert none["kappa_final"] > 10 * none["kappa_init"]
    assert pen["kappa_final"] < 0.5 * none["kappa_final"]
    assert pen["beta"] == 1e-3 and none["beta"] == 0.0


def test_tight_init_starts_tight(tiny_records):
    rec = tiny_records["tight"]
    assert rec["init"] == "tight"
    assert rec["kappa_init"] <= 1.01
    assert rec["energy_deviation_init"] < 1e-2  # <= kappa - 1 for any signal


def test_students_learn(tiny_records):
    for rec in tiny_records.values():
        assert rec["loss_final"] < 0.7 * rec["loss_init"]
        assert rec["l2_change"] > 0 and 0 < rec["js_mean"] < 1


def test_records_json_and_keys(tiny_records):
    for rec in tiny_records.values():
        assert set(REQUIRED) <= set(rec)
        json.dumps(rec, allow_nan=False)
        curve = rec["curve"]
        assert len(curve["step"]) == len(curve["loss"]) == len(curve["kappa"]) == 3
        assert curve["step"] == [0, 10, 20]
        assert rec["n_params"] == 58 * 1024
        assert rec["kappa_strided_init"] is None  # 58 filters at stride 341: singular
    assert tiny_records["none"]["published"]["kappa_final"] == 186.87
    assert tiny_records["penalty"]["published"]["kappa_final"] == 2.59
    assert tiny_records["tight"]["published"] is None


def test_section(tiny_records):
    sec = cond.section(list(tiny_records.values()))
    assert isinstance(sec, Section)
    assert len(sec.tables[0].rows) == 3
    assert [name for name, _ in sec.figures] == ["conditioning_cqt"]
    assert any("published 72.2x" in f for f in sec.findings)


def test_target_folding_equals_direct_fft():
    """The folded subsampled response equals ifft(fft(x) h^)[::d], |.|, mean (float32)."""
    tgt = targets.Target.build("cqt")
    x = targets.sines(torch.Generator().manual_seed(1), 4, 4092)
    spectra = torch.from_numpy(np.fft.fft(targets.target_bank("cqt"), axis=-1))
    direct = torch.fft.ifft(torch.fft.fft(x.double())[:, None] * spectra, dim=-1)
    direct = direct[..., ::341].abs().mean(dim=-1, keepdim=True)
    assert torch.allclose(tgt(x).double(), direct, rtol=1e-4, atol=1e-6 * float(direct.max()))


def test_energy_deviation_closed_form():
    """A cosine at DFT bin k sees LP[k]: the deviation is |LP[k] / mean LP - 1|."""
    n = 64
    w = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, -0.25]])
    lp = np.square(np.abs(np.fft.fft(w.double().numpy(), n))).sum(0)
    t = torch.arange(n, dtype=torch.float64)
    x = torch.stack([torch.cos(2 * torch.pi * 5 * t / n), torch.cos(2 * torch.pi * 20 * t / n)])
    expected = np.mean([abs(lp[5] / lp.mean() - 1), abs(lp[20] / lp.mean() - 1)])
    assert energy_deviation(w, x) == pytest.approx(expected, rel=1e-10)
    assert energy_deviation(torch.eye(3)[:1], x) == pytest.approx(0.0, abs=1e-12)


def test_lp_kappa_band():
    w = Filterbank(torch.tensor([[1.0, 0.5], [0.0, 1.0]]), sample_rate=8.0)  # LP 2.25 + cos
    assert float(condition_number(w, n_fft=8)) == pytest.approx(3.25 / 1.25)
    A, B = frame_bounds(w, n_fft=8, band=(0.0, 1.0))  # bins 0 and +-1
    assert float(B / A) == pytest.approx(3.25 / (2.25 + 0.5**0.5))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"target": "gammatone"}, "target='gammatone' must be one of"),
        ({"variant": "tighter"}, "variant='tighter' must be one of"),
        ({"lr": -1.0}, "lr"),
        ({"loss_axis": "time"}, "loss_axis='time' must be one of"),
        ({"batch_size": 1}, "batch_size=1 must be >= 2"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ParameterError, match=match):
        get_experiment(cond.EXPERIMENT).complete(params)


def test_plans():
    assert {p["variant"] for p, _ in cond.plan("quick")} == {"none", "penalty", "tight"}
    assert all(p["target"] == "cqt" for p, _ in cond.plan("quick"))
    full = cond.plan("full")
    assert len(full) == 12 and all(seeds == [0, 1, 2] for _, seeds in full)
    assert all(p["epochs"] == 100 and p["batches_per_epoch"] == 50 for p, _ in full)
    with pytest.raises(ParameterError, match="mode='huge' must be one of"):
        cond.plan("huge")
