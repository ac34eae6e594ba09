"""Shared fixtures of the sweep tests: the toy experiments and the processes' environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# the toy experiments must be importable here and in every worker process (the process
# pool's server starts with this sys.path)
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import sweep_toys  # noqa: E402, F401  (registers the toy experiments)


@pytest.fixture
def env() -> dict[str, str]:
    """Environment of the processes a test starts: toys importable, one thread."""
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(HERE), out.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out["OMP_NUM_THREADS"] = "1"
    out["COLUMNS"] = "200"
    return out
