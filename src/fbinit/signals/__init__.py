"""Test signals: deterministic synthetic generators, audio loading and bundled examples.

Every function returns float64 numpy arrays. Synthetic generators take ``n_samples`` first
and are unit-norm by default; :data:`SYNTHETIC` maps their names to them for the command
line and the figures.
"""

from fbinit.signals.audio import clip_names, example, example_path, list_examples, load
from fbinit.signals.synthetic import (
    SYNTHETIC,
    alternating,
    am_tone,
    chirp,
    constant,
    flute,
    harmonic,
    impulse,
    lazy_walk,
    make_paper_signals,
    normalize,
    pulse_train,
    random_walk,
    sine,
    snare,
    synthetic,
    white_noise,
)

__all__ = [
    "SYNTHETIC",
    "alternating",
    "am_tone",
    "chirp",
    "clip_names",
    "constant",
    "example",
    "example_path",
    "flute",
    "harmonic",
    "impulse",
    "lazy_walk",
    "list_examples",
    "load",
    "make_paper_signals",
    "normalize",
    "pulse_train",
    "random_walk",
    "sine",
    "snare",
    "synthetic",
    "white_noise",
]
