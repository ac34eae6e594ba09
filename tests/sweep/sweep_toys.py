"""Toy experiments for the sweep tests: cheap, deterministic, and able to fail on purpose.

Imported by name (``imports = ["sweep_toys"]``) from this folder, which the tests put on
``sys.path`` and on ``PYTHONPATH`` for the processes they start.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from fbinit.sweep import register


@register("toy.draws")
def draws(*, n: int = 8, scale: float = 1.0, fail: bool = False, fail_while: str = "", seed: int):
    """Normal draws from the task's seed; raises if asked to (or while a file exists).

    Takes ``$SWEEP_TOYS_SLEEP`` seconds (default 0): slow in the processes a test starts to
    interrupt them, quick in the test's own reference run, with the same configuration.
    """
    time.sleep(float(os.environ.get("SWEEP_TOYS_SLEEP", "0")))
    if fail or (fail_while and Path(fail_while).exists()):
        raise ValueError(f"toy failure at scale={scale}")
    x = scale * np.random.default_rng(seed).standard_normal(n)
    return {"mean": x.mean(), "draws": x, "nested": {"max": x.max(), "n": n}}


@register("toy.returns")
def returns(*, kind: str, seed: int):
    """Returns something that is not a mapping of JSON values, or exits."""
    if kind == "list":
        return [1, 2]
    if kind == "set":
        return {"x": {1, 2}}
    if kind == "exit":
        sys.exit(3)
    if kind == "nan":
        return {"x": float("nan"), "y": float("inf"), "z": -0.0}
    raise ValueError(f"kind={kind!r}")


class ToyWarning(UserWarning):
    """A warning category that is not a builtin."""


@register("toy.warns")
def warns(*, seed: int) -> dict:
    """Raises two warnings (one twice) and returns."""
    for _ in range(2):
        warnings.warn("a degenerate toy", RuntimeWarning, stacklevel=2)
    warnings.warn("a toy of its own kind", ToyWarning, stacklevel=2)
    return {"ok": True}


@register("toy.crash")
def crash(*, seed: int) -> dict:
    """Kills the process that runs it (a worker that dies mid-task)."""
    os.kill(os.getpid(), signal.SIGKILL)
    return {}
