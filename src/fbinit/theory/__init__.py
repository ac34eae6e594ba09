"""Four results on learning convolutional filters, one subpackage per paper.

Each subpackage exposes ``run(out_dir, *, quick=False, seed=0) -> list[pathlib.Path]``
which runs its experiments, writes PNG figures and a CSV of the curves into ``out_dir``
and returns the written paths. ``fbinit theory <name>`` calls it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fbinit.errors import ParameterError

__all__ = ["EXPERIMENTS", "run"]

#: name on the command line -> subpackage
EXPERIMENTS = {
    "du2018": "fbinit.theory.du2018_conv_filter",
    "diederen2026": "fbinit.theory.diederen2026_linear_cnn_flow",
    "yu2019": "fbinit.theory.yu2019_two_layer_cnn",
    "ergen2021": "fbinit.theory.ergen2021_convex_cnn",
}


def run(name: str, out_dir: str | Path, *, quick: bool = False, seed: int = 0) -> list[Path]:
    """Run the experiments of one paper and write figures and CSV files to ``out_dir``."""
    if name not in EXPERIMENTS:
        raise ParameterError(f"name={name!r} must be one of {', '.join(EXPERIMENTS)}")
    module = importlib.import_module(EXPERIMENTS[name])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return module.run(out, quick=quick, seed=seed)
