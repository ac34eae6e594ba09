"""Rank correlations of the prediction analysis against scipy, censoring, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fbinit.bench.predict import (
    MIN_RUNS,
    correlations,
    rank_correlation,
    section,
    steps_to,
    threshold,
)


def test_estimates_match_scipy_with_ties():
    rng = np.random.default_rng(1)
    x = np.round(rng.random(25), 1)  # ties in both variables
    y = np.round(x + rng.random(25), 1)
    (rho, tau), ci = rank_correlation(x, y, n_boot=500)
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert tau == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert ci[0][0] < rho < ci[0][1] and ci[1][0] < tau < ci[1][1]


def test_bootstrap_interval_against_a_loop_over_scipy():
    rng = np.random.default_rng(2)
    x, y = rng.random(12), rng.random(12)
    _, ci = rank_correlation(x, y, n_boot=300, seed=5)
    draws = np.random.default_rng(5).integers(0, 12, size=(300, 12))
    rhos = [stats.spearmanr(x[i], y[i]).statistic for i in draws]
    rhos = np.array([r for r in rhos if np.isfinite(r)])
    assert ci[0][0] == pytest.approx(np.quantile(rhos, 0.025), abs=1e-9)
    assert ci[0][1] == pytest.approx(np.quantile(rhos, 0.975), abs=1e-9)


def test_censored_runs_rank_last_and_tied():
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    y = [10.0, 20.0, 30.0, 40.0, math.inf, math.inf]
    (rho, tau), _ = rank_correlation(x, y, n_boot=100)
    ranks_y = [1, 2, 3, 4, 5.5, 5.5]
    assert rho == pytest.approx(stats.spearmanr(x, ranks_y).statistic, abs=1e-12)
    assert tau == pytest.approx(stats.kendalltau(x, ranks_y).statistic, abs=1e-12)


def _records(n, teacher="cqt", kappa=None):
    rng = np.random.default_rng(0)
    kappa = 10 ** rng.uniform(0, 3, n) if kappa is None else kappa
    return [
        {
            "task": "distill",
            "teacher": teacher,
            "frontend": "conv",
            "kappa_init": float(k),
            "energy_deviation_init": float(rng.random()),
            "loss_final": float(np.log(k) + 0.1 * rng.random()),
            "steps_to_threshold": None if k > 100 else int(10 * k),
        }
        for k in kappa
    ]


def test_correlations_per_group_find_a_planted_relation():
    result = {(c.group, c.predictor, c.outcome): c for c in correlations(_records(20), n_boot=300)}
    planted = result[("distill: cqt", "log_kappa_init", "loss_final")]
    assert planted.n == 20 and planted.spearman > 0.9 and planted.verdict == "positive"
    steps = result[("distill: cqt", "log_kappa_init", "steps_to_threshold")]
    assert steps.spearman > 0.9


def test_too_few_runs_or_a_constant_predictor_give_no_estimate():
    few = correlations(_records(MIN_RUNS - 1), n_boot=50)
    assert all(c.spearman is None and c.verdict == "none" for c in few)
    flat = correlations(_records(10, kappa=np.full(10, 5.0)), n_boot=50)
    kappa_rows = [c for c in flat if c.predictor == "log_kappa_init"]
    assert all(c.spearman is None for c in kappa_rows)


def test_section_says_what_the_data_show():
    s = section(_records(20) + _records(8, teacher="vqt", kappa=np.full(8, 3.0)), n_boot=200)
    text = " ".join(s.findings)
    assert "positively rank-correlated" in text and "no estimate" in text
    assert len(s.tables[0].rows) == 2 * 2 * 2 and len(s.figures) == 2


def test_free_conv_students_also_form_their_own_group():
    records = _records(12)
    for i, r in enumerate(records):
        r["frontend"] = "conv-gaussian" if i % 2 else "gabor"
    groups = {c.group: c.n for c in correlations(records, n_boot=50)}
    assert groups == {"distill: cqt": 12, "distill: cqt, Conv1d inits": 6}


def test_steps_to_threshold_come_from_the_curves_at_90_percent_of_the_progress():
    records = _records(6)
    finals = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]  # median 0.35, initial 3.85: 0.35 + 0.1 * 3.5
    for r, final in zip(records, finals, strict=True):
        r["loss_final"] = final
        r["loss_init"] = 3.85
        r["curve"] = {"step": [0, 10, 20, 30], "loss": [1.0, None, 0.6 + final, final]}
    assert threshold(records) == pytest.approx(0.7)
    assert [steps_to(r, 0.7) for r in records] == [20, 30, 30, 30, 30, 30]
    assert steps_to({"curve": {"step": [0], "loss": [2.0]}}, 0.7) == math.inf
    assert steps_to({"steps_to_threshold": 7}, 0.7) == 7  # no curve: the record's own
    steps = [c for c in correlations(records, n_boot=50) if c.outcome == "steps_to_threshold"]
    assert all(c.threshold == pytest.approx(0.7) for c in steps)
