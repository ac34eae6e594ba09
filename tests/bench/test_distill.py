"""The distillation task: students, the fit loop, records and the section."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from fbinit.bench.distill import EXPERIMENT, plan, run_distill, section
from fbinit.bench.losses import cosine_distance
from fbinit.bench.students import ILL_CONDITIONED, STUDENTS, make_student, octave_counts
from fbinit.bench.teachers import teacher
from fbinit.bench.training import energy_deviation
from fbinit.errors import ParameterError
from fbinit.frontends import ConvFrontend
from fbinit.sweep import get_experiment

REQUIRED = (
    "task frontend n_params wall_s kappa_init kappa_final kappa_band_init kappa_band_final "
    "energy_deviation_init loss_init loss_final threshold steps_to_threshold curve l2_change "
    "js_mean init teacher"
).split()


@pytest.mark.parametrize("student", [*STUDENTS, *ILL_CONDITIONED])
def test_students_match_the_teacher(student):
    t = teacher("vqt", "tiny")
    x, y = t.dataset("test", 2, 0)
    s = make_student(student, t, seed=0, kernel_size=255)  # short kernels: a fast test
    out = s.module(x)
    assert out.shape == y.shape and (out >= 0).all()
    assert s.n_params > 0 and math.isfinite(float(cosine_distance(out, y).detach()))


def test_student_from_teacher_has_near_zero_loss():
    t = teacher("gammatone", "tiny")
    x, y = t.dataset("test", 4, 0)
    s = make_student("conv-teacher", t)
    with torch.no_grad():
        out = s.module(x)
    # the same kernels in float32: cosine distance at rounding level
    assert float(cosine_distance(out, y)) < 1e-5
    assert float(cosine_distance(out, y, axis="time")) < 1e-5


def test_conv_student_learns():
    rec = run_distill(
        teacher="third_octave",
        student="conv-gaussian",
        mode="tiny",
        steps=30,
        batch_size=4,
        n_train=8,
        n_test=4,
        log_every=10,
        seed=0,
    )
    # the test loss falls by at least a factor 2 from initialisation in 30 steps
    assert rec["loss_final"] < rec["loss_init"] / 2
    assert rec["curve"]["step"] == [0, 10, 20, 30]


def test_tiny_plan_records_are_json_and_complete():
    records = [run_distill(**p, seed=s) for p, seeds in plan("tiny") for s in seeds]
    for r in records:
        json.dumps(r, allow_nan=False)
        assert set(REQUIRED) <= set(r)
        assert len(r["curve"]["step"]) == len(r["curve"]["loss"]) == len(r["curve"]["kappa"])
        assert r["kappa_init"] is not None and r["kappa_init"] >= 1
    sec = section(records)
    assert sec.tables[0].rows and sec.figures
    published = [row[3] for row in sec.tables[0].rows if row[1] == "conv-gaussian"]
    assert all("Conv1D" in p for p in published)


def test_plans():
    quick = plan("quick")
    assert len(quick) == 36 and all(seeds == [0] for _, seeds in quick)
    assert all(len(seeds) == 5 for _, seeds in plan("full"))
    with pytest.raises(ParameterError, match="mode"):
        plan("huge")


def test_validation_names_the_parameter():
    exp = get_experiment(EXPERIMENT)
    with pytest.raises(ParameterError, match="student"):
        exp.complete({"student": "leaf"})
    with pytest.raises(ParameterError, match="loss_axis"):
        exp.complete({"loss_axis": "both"})


def test_energy_deviation_closed_form():
    # one filter [1, 1]: LP(k) = 2 + 2 cos(2 pi k / N), mean 2; a sine at bin k0 gives
    # |LP(k0) / 2 - 1| = |cos(2 pi k0 / N)|
    n, k0 = 64, 5
    x = torch.sin(2 * np.pi * k0 * torch.arange(n) / n)[None]
    bank = ConvFrontend.from_filterbank(torch.tensor([[1.0, 1.0]]))
    assert math.isclose(energy_deviation(bank, x), abs(math.cos(2 * np.pi * k0 / n)), rel_tol=1e-6)
    assert energy_deviation(ConvFrontend.from_filterbank(torch.eye(1)), x) < 1e-12


def test_octave_counts_match_the_teacher():
    t = teacher("cqt", "tiny")
    counts = octave_counts(t.centres, 8, t.sample_rate)
    assert sum(counts) == t.n_filters - 1 and min(counts) >= 1
    # centres 86.13 * 2^(k/8) = sr 2^(k/8 - 9), k = 1..63: octave floor(8 - k/8)
    assert counts == [7] + [8] * 7
