r"""A generic fit loop for the benchmark tasks: Adam, held-out loss, conditioning tracked.

:func:`fit` trains any module on (input, target) tensors with Adam, logs the test loss
and the conditioning of the analysis stage (:class:`~fbinit.frontends.ConditionMonitor`)
every ``log_every`` steps, and returns a JSON-able summary. Conditioning is measured at
**stride 1** (the Littlewood-Paley sum :math:`\mathrm{LP}(k) = \sum_j |\hat w_j(k)|^2` of
the analysis filters, real and imaginary parts counted as real filters): the students
have fewer filters than their stride (J < d), so no strided bank of theirs is a frame
(its kappa is infinite); the LP-sum kappa is also the one of the authors' KappaLoss.
A multirate bank (the MuReNN-like student, filter j at its octave's stride) is measured
at its own strides with fbinit's multirate bounds: each octave's Conv1d works at stride 1
on its octave, so that bank is a frame.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.filterbank import as_filterbank
from fbinit.frontends import ConditionMonitor
from fbinit.frontends.monitor import response_power

__all__ = ["AtStride1", "energy_deviation", "finite", "fit", "kappa_n_fft"]


class AtStride1:
    """A frontend's analysis stage seen at stride 1 (for the LP-sum kappa)."""

    def __init__(self, frontend: Any, band: tuple[float, float] | None = None) -> None:
        self.frontend = frontend
        self.stride = 1
        self.sample_rate = frontend.sample_rate
        self.band = band if band is not None else getattr(frontend, "band", None)

    def impulse_responses(self) -> torch.Tensor:
        return self.frontend.impulse_responses()


def _view(frontend: Any, band: tuple[float, float] | None = None) -> Any:
    """What kappa is measured on: a multirate bank at its own strides, else stride 1."""
    if isinstance(getattr(frontend, "stride", 1), tuple):
        return frontend
    return AtStride1(frontend, band)


def finite(value: Any) -> float | None:
    """A float, or None for NaN/inf (JSON has neither)."""
    value = float(value)
    return value if math.isfinite(value) else None


def kappa_n_fft(fb: Any) -> int:
    """Signal length of the bounds: at stride 1 the power of 2 >= max(2048, 2 K); else the
    smallest multiple of the period (lcm of the strides) >= max(2048, K) (the multirate
    bounds cost grows with N)."""
    if fb.period == 1:
        return 1 << int(math.ceil(math.log2(max(2048, 2 * fb.kernel_size))))
    return -(-max(2048, fb.kernel_size) // fb.period) * fb.period


def energy_deviation(frontend: Any, x: torch.Tensor) -> float:
    r"""How far a bank's energy response is from a scaled isometry on data ``x``.

    .. math:: \delta = \operatorname{mean}_x \left|
              \frac{E\|\Phi x\|^2}{\bar A\,\|x\|^2} - 1 \right|, \qquad
              E\|\Phi x\|^2 = \tfrac1N \sum_k \mathrm{LP}(k)\,|\hat x(k)|^2, \quad
              \bar A = \operatorname{mean}_k \mathrm{LP}(k),

    with :math:`\mathrm{LP}(k) = \sum_j |\hat w_j(k)|^2 / d_j` the stride-weighted LP sum
    that real signals see (:func:`~fbinit.frontends.monitor.response_power`, filter j at
    stride :math:`d_j`), so that :math:`E\|\Phi x\|^2` is the analysis energy averaged
    over the shifts of the signal (exact at stride 1), on the circular DFT of N = len(x)
    samples (padded to >= the kernel size). :math:`\bar A` is the bank's average gain; 0
    for a tight bank on any data. Scale-invariant.
    """
    with torch.no_grad():
        fb = as_filterbank(frontend)
        n = max(x.shape[-1], fb.kernel_size)
        strides = torch.tensor(fb.strides, dtype=torch.float64)[:, None]
        lp = (response_power(fb, n_fft=n) / strides).sum(0)  # (n // 2 + 1,)
        spec = torch.fft.rfft(x.double(), n=n).abs().square()
        weight = torch.full_like(lp, 2.0)
        weight[0] = 1.0
        if n % 2 == 0:
            weight[-1] = 1.0
        a_bar = (weight * lp).sum() / weight.sum()
        ratio = (spec * weight * lp).sum(-1) / (a_bar * (spec * weight).sum(-1))
        return float((ratio - 1).abs().mean())


def fit(
    module: torch.nn.Module,
    *,
    frontend: Any,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    steps: int,
    batch_size: int,
    lr: float,
    log_every: int = 10,
    kappa_every: int | None = None,
    beta: float = 0.0,
    threshold: float | None = None,
    band: tuple[float, float] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    r"""Train ``module`` with Adam on ``train``; log the test loss and kappa.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch of inputs to outputs compared with the targets by ``loss_fn``.
    frontend : filterbank-like
        The analysis stage whose conditioning is tracked (and penalised when beta > 0).
    train, test : (inputs, targets)
        Tensors with the examples along dimension 0.
    loss_fn : callable(output, target) -> scalar tensor
    steps, batch_size : int >= 1
        Optimiser steps; examples per step, drawn without replacement within an epoch
        (a seeded permutation per epoch).
    lr : float > 0
        Adam's learning rate.
    log_every : int >= 1
        Test loss every ``log_every`` steps (and at 0 and at the end).
    kappa_every : int >= 1, optional
        Conditioning every ``kappa_every`` steps (rounded up to a multiple of
        ``log_every``; and at 0 and at the end); default ``log_every``. The curve's kappa
        is None at the other logged steps.
    beta : float >= 0
        Weight of the kappa penalty :math:`\beta(B/A - 1)` (LP sum, stride 1, exact
        extremes: :func:`fbinit.tight.kappa_penalty`) added to the training loss.
    threshold : float, optional
        ``steps_to_threshold`` is the first logged step whose test loss is <= it.
    band : (fmin, fmax), optional
        Band of the in-band kappa (default: the frontend's).
    seed : int
        Seed of the batch order.

    Returns
    -------
    dict
        ``loss_init, loss_final`` (test), ``steps_to_threshold``, ``kappa_init,
        kappa_final, kappa_band_init, kappa_band_final`` (None where not finite),
        ``l2_change, js_mean`` (bank-level, at the end), ``curve`` {step, loss,
        train_loss, kappa}, ``wall_s`` (training time).
    """
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size)
    lr = check_positive_float("lr", lr)
    log_every = check_int("log_every", log_every)
    kappa_every = log_every if kappa_every is None else check_int("kappa_every", kappa_every)
    kappa_every = -(-kappa_every // log_every) * log_every
    beta = check_positive_float("beta", beta, allow_zero=True)
    x_train, y_train = train
    x_test, y_test = test
    if x_train.shape[0] != y_train.shape[0] or x_test.shape[0] != y_test.shape[0]:
        raise ParameterError("train and test must pair inputs and targets of equal length")
    start = time.perf_counter()
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise ParameterError("module must have learnable parameters")
    optimiser = torch.optim.Adam(params, lr=lr)
    view = _view(frontend, band)
    monitor_fb = as_filterbank(view)
    n_fft = kappa_n_fft(monitor_fb)
    monitor = ConditionMonitor(view, every=1, n_fft=n_fft, band=view.band)
    kappa_steps = [0]
    gen = torch.Generator().manual_seed(int(seed))

    def test_loss() -> float:
        with torch.no_grad():
            return float(loss_fn(module(x_test), y_test))

    curve: dict[str, list] = {"step": [0], "loss": [test_loss()], "train_loss": [None]}
    order = torch.randperm(x_train.shape[0], generator=gen)
    pos = 0
    running = []
    for step in range(1, steps + 1):
        if pos + batch_size > order.numel():
            order, pos = torch.randperm(x_train.shape[0], generator=gen), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        optimiser.zero_grad()
        loss = loss_fn(module(x_train[idx]), y_train[idx])
        total = loss
        if beta > 0:
            from fbinit.tight import kappa_penalty

            w = frontend.impulse_responses()
            penalty = kappa_penalty(w, n_fft=kappa_n_fft(monitor_fb), stride=1)
            total = loss + beta * penalty.to(loss.dtype)
        total.backward()
        optimiser.step()
        running.append(float(loss.detach()))
        if step % log_every == 0 or step == steps:
            if step % kappa_every == 0 or step == steps:
                monitor.step(step)
                kappa_steps.append(step)
            curve["step"].append(step)
            curve["loss"].append(test_loss())
            curve["train_loss"].append(float(np.mean(running)))
            running = []
    h = monitor.history()
    measured = dict(zip(kappa_steps, h["kappa"].tolist(), strict=True))
    curve["kappa"] = [finite(measured[s]) if s in measured else None for s in curve["step"]]
    curve["loss"] = [finite(v) for v in curve["loss"]]
    reached = [
        s
        for s, v in zip(curve["step"], curve["loss"], strict=True)
        if threshold is not None and v is not None and v <= threshold
    ]
    return {
        "loss_init": curve["loss"][0],
        "loss_final": curve["loss"][-1],
        "threshold": threshold,
        "steps_to_threshold": reached[0] if reached else None,
        "kappa_init": finite(h["kappa"][0]),
        "kappa_final": finite(h["kappa"][-1]),
        "kappa_band_init": finite(h["kappa_band"][0]),
        "kappa_band_final": finite(h["kappa_band"][-1]),
        "l2_change": finite(h["l2_change_bank"][-1]),
        "js_mean": finite(h["js_mean"][-1]),
        "curve": curve,
        "train_wall_s": time.perf_counter() - start,
    }
