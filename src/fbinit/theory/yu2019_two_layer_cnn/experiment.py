r"""Experiment of Yu, Zhang and Zhu (2019): filters learn the key patterns of 1-D data.

Default setting (all parameters): ``n_classes = 4`` key patterns and 4 distractors of
``patch_size = 32`` samples, Hann-windowed tones at geometrically spaced frequencies from
500 Hz to 6 kHz (16 kHz sample rate) assigned alternately to key patterns and distractors;
signals of ``n_patches = 8`` patches (256 samples) with one key pattern at a random slot,
distractors in each other slot with probability 1/2 and background RMS 0.1 per sample
(white noise, or speech frames from :func:`fbinit.signals.example`); network of 16
filters, max pooling, initial filter norm 0.1, trained by SGD (step 0.1, batch 32) on
1000 signals and tested on 1000 fresh ones.

References
----------
B. Yu, J. Zhang, Z. Zhu, "On the Learning Dynamics of Two-layer Nonlinear Convolutional
Neural Networks", arXiv:1905.10157, 2019.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure

from fbinit._io import save_figure, write_csv
from fbinit._validate import check_choice, check_int
from fbinit.theory.yu2019_two_layer_cnn.data import (
    key_pattern_data,
    random_patterns,
    tone_patterns,
)
from fbinit.theory.yu2019_two_layer_cnn.model import TwoLayerCNN
from fbinit.theory.yu2019_two_layer_cnn.training import TrainingHistory, train_sgd

__all__ = ["KeyPatternResult", "key_pattern_experiment", "plot_key_pattern", "write_curves"]


@dataclass(frozen=True)
class KeyPatternResult:
    """Outcome of :func:`key_pattern_experiment`.

    Attributes
    ----------
    history : TrainingHistory
        Recorded curves.
    patterns : torch.Tensor, shape (K, patch_size)
        Key patterns.
    distractors : torch.Tensor, shape (M, patch_size)
        Distractor patterns.
    filters : torch.Tensor, shape (n_filters, patch_size)
        Final filters (float64).
    """

    history: TrainingHistory
    patterns: torch.Tensor
    distractors: torch.Tensor
    filters: torch.Tensor


def key_pattern_experiment(
    *,
    n_classes: int = 4,
    n_distractors: int = 4,
    patch_size: int = 32,
    n_patches: int = 8,
    dictionary: str = "tones",
    background: str = "noise",
    noise: float = 0.1,
    distractor_prob: float = 0.5,
    n_filters: int = 16,
    pooling: str = "max",
    init_scale: float = 0.1,
    lr: float = 0.1,
    n_steps: int = 2000,
    batch_size: int = 32,
    n_train: int = 1000,
    n_test: int = 1000,
    record_every: int = 20,
    seed: int = 0,
) -> KeyPatternResult:
    """Train the two-layer CNN on key-pattern data and record the dynamics.

    Parameters
    ----------
    n_classes, n_distractors : int
        Number of key patterns (= classes) and of distractors (0: none).
    patch_size, n_patches : int >= 1
        Pattern length (= kernel size and stride) and slots per signal.
    dictionary : {"tones", "random"}
        Hann-windowed tones (keys and distractors interleaved in frequency) or random unit
        vectors.
    background : {"noise", "audio"}
        White noise or real speech frames, per-sample RMS ``noise``.
    noise, distractor_prob : float
        See :func:`~fbinit.theory.yu2019_two_layer_cnn.data.key_pattern_data`.
    n_filters, pooling, init_scale
        See :class:`~fbinit.theory.yu2019_two_layer_cnn.model.TwoLayerCNN`.
    lr, n_steps, batch_size, record_every
        See :func:`~fbinit.theory.yu2019_two_layer_cnn.training.train_sgd`.
    n_train, n_test : int >= 1
        Sizes of the training and test sets.
    seed : int >= 0
        Seed of every draw (patterns, data, initialisation, minibatches).

    Returns
    -------
    KeyPatternResult

    Examples
    --------
    >>> res = key_pattern_experiment(n_classes=2, n_distractors=0, patch_size=16, n_patches=4,
    ...                              n_filters=4, n_steps=100, n_train=64, n_test=64,
    ...                              record_every=50)
    >>> res.history.step.tolist()
    [0, 50, 100]
    """
    n_classes = check_int("n_classes", n_classes, minimum=2)
    n_distractors = check_int("n_distractors", n_distractors, minimum=0)
    check_choice("dictionary", dictionary, ("tones", "random"))
    gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    total = n_classes + n_distractors
    if dictionary == "tones":
        tones = tone_patterns(total, patch_size)
        # alternate keys and distractors along frequency while both remain
        n_pairs = min(n_classes, n_distractors)
        keys = torch.cat([tones[: 2 * n_pairs : 2], tones[2 * n_pairs :][: n_classes - n_pairs]])
        others = torch.cat(
            [tones[1 : 2 * n_pairs : 2], tones[2 * n_pairs :][: n_distractors - n_pairs]]
        )
    else:
        everything = random_patterns(total, patch_size, generator=gen)
        keys, others = everything[:n_classes], everything[n_classes:]
    options = dict(
        n_patches=n_patches,
        noise=noise,
        distractors=others if n_distractors else None,
        distractor_prob=distractor_prob,
        background=background,
    )
    train = key_pattern_data(n_train, keys, generator=gen, **options)
    test = key_pattern_data(n_test, keys, generator=gen, **options)
    model = TwoLayerCNN(
        n_filters, patch_size, n_classes, pooling=pooling, init_scale=init_scale, generator=gen
    )
    history = train_sgd(
        model,
        train,
        test,
        keys,
        lr=lr,
        n_steps=n_steps,
        batch_size=batch_size,
        record_every=record_every,
        generator=gen,
    )
    return KeyPatternResult(
        history=history,
        patterns=keys,
        distractors=others,
        filters=model.filters().detach().to(torch.float64),
    )


def plot_key_pattern(result: KeyPatternResult, path, *, title: str = "") -> Path:
    """Plot alignment, norms, accuracy and the learned filters; save a PNG.

    Panels: max cosine of each filter with the key patterns (best-aligned filters in
    colour, the others grey); filter norms (same colours); train and test accuracy; each
    key pattern with its best-aligned filter (scaled to the pattern's peak).

    Returns
    -------
    Path
        The written file.
    """
    h = result.history
    steps = h.step.numpy()
    best = h.best_filters().tolist()
    fig = Figure(figsize=(10, 6.4))
    ax = fig.subplots(2, 2)
    top = h.cosine.max(2).values
    for j in range(top.shape[1]):
        if j not in best:
            ax[0, 0].plot(steps, top[:, j].numpy(), color="0.7", lw=0.8)
            ax[0, 1].plot(steps, h.norm[:, j].numpy(), color="0.7", lw=0.8)
    for k, j in enumerate(best):
        (line,) = ax[0, 0].plot(steps, h.cosine[:, j, k].numpy(), lw=1.5, label=f"pattern {k}")
        ax[0, 1].plot(steps, h.norm[:, j].numpy(), lw=1.5, color=line.get_color())
        pattern = result.patterns[k]
        filt = result.filters[j]
        scale = float(pattern.abs().max()) / max(float(filt.abs().max()), 1e-300)
        offset = -2.2 * k * float(result.patterns.abs().max())
        ax[1, 1].plot(pattern.numpy() + offset, color=line.get_color(), lw=1.5)
        ax[1, 1].plot(scale * filt.numpy() + offset, "k--", lw=0.8)
    ax[0, 0].set_ylabel("cosine with key pattern")
    ax[0, 0].set_title(
        "best-aligned filter per pattern (colour), others: max over patterns",
        fontsize=8,
        loc="left",
    )
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].set_ylabel(r"filter norm $\|w_j\|$")
    ax[1, 0].plot(steps, h.train_accuracy.numpy(), label="train")
    ax[1, 0].plot(steps, h.test_accuracy.numpy(), label="test")
    ax[1, 0].set_ylabel("accuracy")
    ax[1, 0].legend(fontsize=7)
    ax[1, 1].set_title(
        "key patterns (colour) and best-aligned filters (dashed)", fontsize=8, loc="left"
    )
    ax[1, 1].set_xlabel("sample")
    ax[1, 1].set_yticks([])
    for a in (ax[0, 0], ax[0, 1], ax[1, 0]):
        a.set_xlabel("SGD step")
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=80)


def write_curves(results: dict[str, KeyPatternResult], path) -> Path:
    """Write the curves as CSV rows ``experiment,step,metric,filter,pattern,value``.

    Metrics: ``loss``, ``train_accuracy``, ``test_accuracy`` (no filter, no pattern),
    ``norm`` (per filter) and ``cosine`` (per filter and key pattern).

    Returns
    -------
    Path
        The written file.
    """
    header = ["experiment", "step", "metric", "filter", "pattern", "value"]
    return write_csv(path, header, _curve_rows(results))


def _curve_rows(results: dict[str, KeyPatternResult]):
    for name, result in results.items():
        h = result.history
        for r, step in enumerate(h.step.tolist()):
            for metric in ("loss", "train_accuracy", "test_accuracy"):
                yield [name, step, metric, "", "", f"{float(getattr(h, metric)[r]):.6g}"]
            for j, value in enumerate(h.norm[r].tolist()):
                yield [name, step, "norm", j, "", f"{value:.6g}"]
            for j, row in enumerate(h.cosine[r].tolist()):
                for k, value in enumerate(row):
                    yield [name, step, "cosine", j, k, f"{value:.6g}"]
