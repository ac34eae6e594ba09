r"""Yu, Zhang and Zhu (2019), "On the Learning Dynamics of Two-layer Nonlinear CNNs".

Signals made of patches carry one class-determining key pattern at a random position
among noise and distractor patches; a two-layer CNN (Conv1d filters, ReLU, max pooling,
linear output) trained with SGD learns filters aligned with the key patterns, whose norms
grow while the other filters stay near their initial size, and reaches 100% accuracy.
The package holds the 1-D key-pattern data (:mod:`.data`, synthetic and speech
backgrounds), the network (:mod:`.model`), SGD with tracked cosines and norms
(:mod:`.training`) and the experiment (:mod:`.experiment`); :func:`run` writes the
figures and a CSV of the curves.

References
----------
B. Yu, J. Zhang, Z. Zhu, "On the Learning Dynamics of Two-layer Nonlinear Convolutional
Neural Networks", arXiv:1905.10157, 2019.
"""

from __future__ import annotations

from pathlib import Path

import torch

from fbinit._validate import check_int
from fbinit.theory.yu2019_two_layer_cnn.data import (
    KeyPatternData,
    key_pattern_data,
    random_patterns,
    tone_patterns,
)
from fbinit.theory.yu2019_two_layer_cnn.experiment import (
    KeyPatternResult,
    key_pattern_experiment,
    plot_key_pattern,
    write_curves,
)
from fbinit.theory.yu2019_two_layer_cnn.model import TwoLayerCNN, filter_pattern_cosines
from fbinit.theory.yu2019_two_layer_cnn.training import TrainingHistory, accuracy, train_sgd

__all__ = [
    "KeyPatternData",
    "KeyPatternResult",
    "TrainingHistory",
    "TwoLayerCNN",
    "accuracy",
    "filter_pattern_cosines",
    "key_pattern_data",
    "key_pattern_experiment",
    "plot_key_pattern",
    "random_patterns",
    "run",
    "tone_patterns",
    "train_sgd",
    "write_curves",
]


def run(out_dir: Path, *, quick: bool = False, seed: int = 0) -> list[Path]:
    """Train on synthetic and speech-background key-pattern data; write figures and CSV.

    Parameters
    ----------
    out_dir : Path
        Folder for the outputs (created if missing).
    quick : bool
        Fewer steps and smaller data sets.
    seed : int >= 0
        Seed of every random draw.

    Returns
    -------
    list of Path
        ``yu2019_synthetic.png``, ``yu2019_audio.png``, ``yu2019_curves.csv``.

    Notes
    -----
    Torch runs single-threaded during the call (faster for these small networks); the
    previous thread count is restored afterwards.
    """
    seed = check_int("seed", seed, minimum=0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        size = dict(n_steps=800, n_train=500, n_test=500, record_every=20)
    else:
        size = dict(n_steps=3000, n_train=2000, n_test=2000, record_every=25)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = {
            "synthetic": key_pattern_experiment(background="noise", seed=seed, **size),
            "audio": key_pattern_experiment(background="audio", seed=seed, **size),
        }
        titles = {
            "synthetic": "key tones in white noise (RMS 0.1) with distractor tones",
            "audio": "key tones planted in speech (RMS 0.1) with distractor tones",
        }
        paths = [
            plot_key_pattern(result, out / f"yu2019_{name}.png", title=titles[name])
            for name, result in results.items()
        ]
        paths.append(write_curves(results, out / "yu2019_curves.csv"))
    finally:
        torch.set_num_threads(threads)
    return paths
