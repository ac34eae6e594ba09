r"""Does conditioning at initialisation predict training? Rank correlations with intervals.

Over the records of the training tasks (distillation and conditioning; one record per
task x student or init x seed), relate a predictor measured at initialisation,

- ``log10 kappa_init``: the condition number of the student's frame at initialisation;
- ``energy_deviation_init``: the mean over training examples x of
  :math:`\bigl|\,\|\Phi x\|^2 / (\bar A \|x\|^2) - 1\bigr|` (how far the bank is from a
  scaled isometry on the training data),

to an outcome of training,

- ``loss_final``: the test loss at the end;
- ``steps_to_threshold``: the first logged step at which the test loss reached the
  group's threshold, where the group's median run has made 90 % of its progress from its
  initial to its final loss (:func:`threshold`; a fixed threshold is reached at the first
  log by every run of one teacher and by none of another's). It is read from each
  record's loss curve (the record's own ``steps_to_threshold`` when it has no curve). A
  run that never reached it is *censored*: it ranks after every run that did (ties among
  the censored), which rank correlations handle without inventing a value.

Per group (a distillation teacher or a conditioning target) and predictor-outcome pair,
:func:`correlations` gives Spearman's rho and Kendall's tau-b (``scipy.stats``) with
percentile bootstrap confidence intervals (resampling runs with replacement). A group with
fewer than :data:`MIN_RUNS` runs, or a constant predictor or outcome, gives no estimate
(``None``) rather than a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from fbinit.bench.section import Section, Table

__all__ = [
    "MIN_RUNS",
    "OUTCOMES",
    "PREDICTORS",
    "Correlation",
    "correlations",
    "rank_correlation",
    "section",
]

#: fewest runs in a group for a correlation
MIN_RUNS = 5

#: predictor name -> (label, function of a record)
PREDICTORS = {
    "log_kappa_init": "log10 kappa at init",
    "energy_deviation_init": "energy deviation at init",
}
#: outcome name -> label
OUTCOMES = {"loss_final": "final test loss", "steps_to_threshold": "steps to threshold"}


@dataclass(frozen=True)
class Correlation:
    """A rank correlation with its bootstrap confidence interval.

    Attributes
    ----------
    group, predictor, outcome : str
    n : int
        Runs used (those with a finite predictor).
    spearman, kendall : float or None
    spearman_ci, kendall_ci : (low, high) or None
        Percentile bootstrap interval at ``level``.
    level : float
    threshold : float or None
        The loss threshold of a steps-to-threshold outcome (:func:`threshold`).
    """

    group: str
    predictor: str
    outcome: str
    n: int
    spearman: float | None
    kendall: float | None
    spearman_ci: tuple[float, float] | None
    kendall_ci: tuple[float, float] | None
    level: float
    threshold: float | None = None

    @property
    def verdict(self) -> str:
        """``"positive"``/``"negative"`` when the Spearman interval excludes 0, else ``"none"``."""
        if self.spearman_ci is None:
            return "none"
        low, high = self.spearman_ci
        return "positive" if low > 0 else "negative" if high < 0 else "none"


def threshold(records: Sequence[dict[str, Any]], share: float = 0.9) -> float | None:
    r"""A group's loss threshold: where its median run has made ``share`` of its progress,

    .. math:: \ell^* = m_\text{final} + (1 - s)\,(m_\text{init} - m_\text{final}),

    with :math:`m` the medians over the group's runs of the test loss at initialisation and
    at the end (None without both).
    """
    pairs = [
        (r["loss_init"], r["loss_final"])
        for r in records
        if r.get("loss_init") is not None and r.get("loss_final") is not None
    ]
    if not pairs:
        return None
    start, end = np.median(np.array(pairs), axis=0)
    return float(end + (1.0 - share) * (start - end))


def steps_to(record: dict[str, Any], limit: float | None) -> float:
    """First logged step with test loss <= ``limit`` (inf: never, a censored run)."""
    curve = record.get("curve") or {}
    if limit is None or not curve.get("loss"):
        steps = record.get("steps_to_threshold")
        return math.inf if steps is None else float(steps)
    for step, loss in zip(curve["step"], curve["loss"], strict=False):
        if loss is not None and loss <= limit:
            return float(step)
    return math.inf


def _value(record: dict[str, Any], name: str, limit: float | None = None) -> float:
    """A predictor or outcome of a record as a float (NaN when missing)."""
    if name == "log_kappa_init":
        kappa = record.get("kappa_init")
        ok = kappa is not None and math.isfinite(kappa) and kappa > 0
        return math.log10(kappa) if ok else math.nan
    if name == "steps_to_threshold":
        return steps_to(record, limit)
    value = record.get(name)
    return math.nan if value is None else float(value)


def _both(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Spearman's rho and Kendall's tau-b of each row pair of (draws, n) arrays, (draws, 2).

    rho is the Pearson correlation of the average ranks; tau-b is
    :math:`\sum_{i<j} s^x_{ij} s^y_{ij} / \sqrt{\sum (s^x_{ij})^2 \sum (s^y_{ij})^2}` with
    :math:`s_{ij} = \operatorname{sign}(v_i - v_j)`. NaN where a row is constant.
    """
    rx, ry = stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(-1) / np.sqrt((rx * rx).sum(-1) * (ry * ry).sum(-1))
        tau = np.empty_like(rho)
        for start in range(0, len(x), 256):  # (chunk, n, n) sign matrices
            sx = np.sign(x[start : start + 256, :, None] - x[start : start + 256, None, :])
            sy = np.sign(y[start : start + 256, :, None] - y[start : start + 256, None, :])
            tau[start : start + 256] = (sx * sy).sum((1, 2)) / np.sqrt(
                (sx * sx).sum((1, 2)) * (sy * sy).sum((1, 2))
            )
    return np.stack([rho, tau], axis=-1)


def rank_correlation(
    x: Sequence[float],
    y: Sequence[float],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[tuple[float, float], tuple[tuple[float, float], tuple[float, float]] | None]:
    """Spearman's rho and Kendall's tau-b of (x, y) and their percentile bootstrap intervals.

    ``y`` may hold ``inf`` (censored outcomes: ranked last, tied). Resamples in which
    either variable is constant are dropped; with fewer than half left, no interval.

    Returns
    -------
    (rho, tau), ((rho_low, rho_high), (tau_low, tau_high)) or None

    Examples
    --------
    >>> (rho, tau), ci = rank_correlation([1, 2, 3, 4, 5, 6], [2, 4, 5, 9, 10, 30])
    >>> round(rho, 9), round(tau, 9)
    (1.0, 1.0)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    y = np.where(np.isinf(y), np.nanmax(np.where(np.isinf(y), np.nan, y), initial=0) + 1, y)
    estimate = tuple(map(float, _both(x[None], y[None])[0]))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(x), size=(n_boot, len(x)))
    boot = _both(x[draws], y[draws])
    boot = boot[np.isfinite(boot).all(axis=1)]
    if len(boot) < n_boot / 2 or not np.isfinite(estimate).all():
        return estimate, None
    q = [(1 - level) / 2, (1 + level) / 2]
    rho_ci, tau_ci = np.quantile(boot, q, axis=0).T
    return estimate, (tuple(map(float, rho_ci)), tuple(map(float, tau_ci)))


def _groups(record: dict[str, Any]) -> list[str]:
    """The groups a training record belongs to: its teacher or target, and for the free
    Conv1d students of distillation also the group of those alone (one architecture, its
    initialisations differing only: kappa is not confounded with the family there)."""
    if record.get("task") == "distill":
        teacher = record.get("teacher")
        groups = [f"distill: {teacher}"]
        if str(record.get("frontend", "")).startswith("conv-"):
            groups.append(f"distill: {teacher}, Conv1d inits")
        return groups
    return [f"{record.get('task')}: {record.get('target')}"]


def _grouped(records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("task") in ("distill", "conditioning"):
            for group in _groups(r):
                groups.setdefault(group, []).append(r)
    return dict(sorted(groups.items()))


def correlations(
    records: Sequence[dict[str, Any]], *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> list[Correlation]:
    """Every group x predictor x outcome correlation over the training records.

    Groups: each distillation teacher (every student), the same restricted to the free
    Conv1d students (their initialisations only), and each conditioning target.
    """
    out = []
    for group, rows in _grouped(records).items():
        limit = threshold(rows)
        for predictor in PREDICTORS:
            for outcome in OUTCOMES:
                pairs = [(_value(r, predictor), _value(r, outcome, limit)) for r in rows]
                pairs = [(a, b) for a, b in pairs if math.isfinite(a) and not math.isnan(b)]
                estimate, ci = (math.nan, math.nan), None
                if len(pairs) >= MIN_RUNS:
                    x, y = np.array(pairs).T
                    estimate, ci = rank_correlation(x, y, n_boot=n_boot, level=level, seed=seed)
                rho, tau = (None if math.isnan(v) else v for v in estimate)
                out.append(
                    Correlation(
                        group,
                        predictor,
                        outcome,
                        len(pairs),
                        rho,
                        tau,
                        None if ci is None else ci[0],
                        None if ci is None else ci[1],
                        level,
                        limit if outcome == "steps_to_threshold" else None,
                    )
                )
    return out


def _outcome(c: Correlation) -> str:
    """The outcome's label, with the loss threshold of a steps-to-threshold outcome."""
    if c.threshold is None:
        return OUTCOMES[c.outcome]
    return f"steps to test loss <= {c.threshold:.3g}"


def _fmt(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None:
        return "–"
    text = f"{value:+.2f}"
    return text if ci is None else f"{text} [{ci[0]:+.2f}, {ci[1]:+.2f}]"


def _scatter(records: Sequence[dict[str, Any]], predictor: str) -> Figure:
    groups = _grouped(records)
    n = max(len(groups), 1)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.4 * cols, 2.9 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (group, recs) in zip(axes, groups.items(), strict=False):
        labels = sorted({str(r.get("frontend")) for r in recs})
        for i, label in enumerate(labels):
            pts = [
                (_value(r, predictor), _value(r, "loss_final"))
                for r in recs
                if str(r.get("frontend")) == label
            ]
            pts = [p for p in pts if all(map(math.isfinite, p))]
            if pts:
                x, y = np.array(pts).T
                ax.scatter(x, y, s=14, color=f"C{i % 10}", label=label)
        ax.set_title(group, fontsize=9)
        ax.set_xlabel(PREDICTORS[predictor], fontsize=8)
        ax.set_ylabel("final test loss", fontsize=8)
        ax.set_yscale("log")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    return fig


def section(records: Sequence[dict[str, Any]], *, n_boot: int = 2000) -> Section:
    """The prediction part of the benchmark page: correlations, scatter plots, findings."""
    corr = correlations(records, n_boot=n_boot)
    header = ["group", "predictor", "outcome", "runs", "Spearman rho [95% CI]", "Kendall tau"]
    rows = [
        [
            c.group,
            PREDICTORS[c.predictor],
            _outcome(c),
            str(c.n),
            _fmt(c.spearman, c.spearman_ci),
            _fmt(c.kendall, c.kendall_ci),
        ]
        for c in corr
    ]
    table = Table(
        header,
        rows,
        "Rank correlations over runs (students, inits and seeds) per group; percentile "
        "bootstrap intervals; the loss threshold is where the group's median run has made 90% "
        "of its progress (init to final), and runs that never reached it rank last.",
    )
    findings = []
    estimated = [c for c in corr if c.spearman_ci is not None]
    for c in estimated:
        if c.verdict != "none":
            findings.append(
                f"{c.group}: {PREDICTORS[c.predictor]} and {_outcome(c)} are "
                f"{c.verdict}ly rank-correlated (rho {c.spearman:+.2f}, 95% CI "
                f"[{c.spearman_ci[0]:+.2f}, {c.spearman_ci[1]:+.2f}], {c.n} runs)."
            )
    if estimated:
        flagged = sum(c.verdict != "none" for c in estimated)
        level = estimated[0].level
        findings.append(
            f"{flagged} of {len(estimated)} estimated correlations exclude 0; with that many "
            f"intervals at {level:.0%}, about {len(estimated) * (1 - level):.1f} would by "
            "chance alone (no correction for multiple comparisons is made)."
        )
    silent = [c for c in estimated if c.verdict == "none"]
    if silent:
        findings.append(
            f"{len(silent)} of {len(estimated)} estimated correlations have intervals that "
            "include 0: at this number of runs the data show no rank correlation there "
            "(a null result, not evidence of no effect)."
        )
    missing = len(corr) - len(estimated)
    if missing:
        findings.append(
            f"{missing} group/predictor/outcome combinations have fewer than {MIN_RUNS} runs or "
            "a constant value and no estimate (run the full mode for more runs)."
        )
    figures = [(f"predict_{p}", _scatter(records, p)) for p in PREDICTORS]
    return Section(
        key="predict",
        title="Does conditioning at initialisation predict training?",
        findings=findings,
        tables=[table],
        figures=figures,
    )
