r"""SGD training of the two-layer CNN of Yu, Zhang and Zhu (2019), with the tracked curves.

Plain minibatch SGD (no momentum, no weight decay by default) on the cross-entropy loss,
minibatches drawn by reshuffling the training set every epoch. Every ``record_every``
steps the history stores the training loss and accuracy, the test accuracy, the cosine
between each filter and each key pattern, and the filter norms.

References
----------
B. Yu, J. Zhang, Z. Zhu, "On the Learning Dynamics of Two-layer Nonlinear Convolutional
Neural Networks", arXiv:1905.10157, 2019.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fbinit._validate import as_double_tensor, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError
from fbinit.theory.yu2019_two_layer_cnn.data import KeyPatternData
from fbinit.theory.yu2019_two_layer_cnn.model import TwoLayerCNN, filter_pattern_cosines

__all__ = ["TrainingHistory", "train_sgd", "accuracy"]


@dataclass(frozen=True)
class TrainingHistory:
    r"""Curves recorded during training (T records).

    Attributes
    ----------
    step : torch.Tensor, shape (T,)
        SGD step of each record (0 = initialisation).
    loss : torch.Tensor, shape (T,)
        Cross-entropy on the whole training set.
    train_accuracy, test_accuracy : torch.Tensor, shape (T,)
        Fraction of correctly classified signals.
    cosine : torch.Tensor, shape (T, n_filters, K)
        :math:`\cos(w_j, p_k)`.
    norm : torch.Tensor, shape (T, n_filters)
        :math:`\|w_j\|`.
    """

    step: torch.Tensor
    loss: torch.Tensor
    train_accuracy: torch.Tensor
    test_accuracy: torch.Tensor
    cosine: torch.Tensor
    norm: torch.Tensor

    def best_filters(self, record: int = -1) -> torch.Tensor:
        """Index of the filter best aligned with each key pattern, shape (K,)."""
        return self.cosine[record].argmax(0)

    def summary(
        self,
        record: int = -1,
        *,
        aligned_cosine: float = 0.9,
        unaligned_cosine: float = 0.5,
    ) -> dict[str, torch.Tensor | float | int]:
        r"""Alignment and norm dominance at one record.

        A filter is *aligned* when :math:`\max_k \cos(w_j, p_k) \ge` ``aligned_cosine``
        and *unaligned* when it is below ``unaligned_cosine`` (a random direction in
        :math:`d` dimensions has cosine of standard deviation :math:`1/\sqrt d`, 0.18 for
        :math:`d = 32`, with a fixed pattern).

        Returns
        -------
        dict
            ``best_filter`` (K,) the filter best aligned with each key pattern,
            ``best_cosine`` (K,) its cosine, ``best_norm`` (K,) its norm,
            ``n_aligned`` and ``n_unaligned`` (counts), ``unaligned_norm_max`` (0 without
            unaligned filters), ``norm_ratio`` = min(best_norm) / unaligned_norm_max
            (inf without unaligned filters), ``train_accuracy``, ``test_accuracy``.
        """
        cos = self.cosine[record]
        norm = self.norm[record]
        best = cos.argmax(0)
        top = cos.max(1).values
        unaligned = top < unaligned_cosine
        un_max = float(norm[unaligned].max()) if bool(unaligned.any()) else 0.0
        best_norm = norm[best]
        return {
            "best_filter": best,
            "best_cosine": cos[best, torch.arange(cos.shape[1])],
            "best_norm": best_norm,
            "n_aligned": int((top >= aligned_cosine).sum()),
            "n_unaligned": int(unaligned.sum()),
            "unaligned_norm_max": un_max,
            "norm_ratio": float(best_norm.min()) / un_max if un_max > 0 else float("inf"),
            "train_accuracy": float(self.train_accuracy[record]),
            "test_accuracy": float(self.test_accuracy[record]),
        }


@torch.no_grad()
def accuracy(model: TwoLayerCNN, data: KeyPatternData) -> float:
    """Fraction of ``data`` classified correctly by ``model``.

    Examples
    --------
    >>> from fbinit.theory.yu2019_two_layer_cnn.data import key_pattern_data, tone_patterns
    >>> data = key_pattern_data(10, tone_patterns(2, 8), n_patches=2,
    ...                         generator=torch.Generator().manual_seed(0))
    >>> 0.0 <= accuracy(TwoLayerCNN(2, 8, 2), data) <= 1.0
    True
    """
    logits = model(data.x.to(model.conv.dtype))
    return float((logits.argmax(1) == data.y).to(torch.float64).mean())


def train_sgd(
    model: TwoLayerCNN,
    train: KeyPatternData,
    test: KeyPatternData,
    patterns,
    *,
    lr: float = 0.1,
    n_steps: int = 2000,
    batch_size: int = 32,
    record_every: int = 20,
    weight_decay: float = 0.0,
    generator: torch.Generator | None = None,
) -> TrainingHistory:
    r"""Train ``model`` in place with minibatch SGD and record the dynamics.

    Parameters
    ----------
    model : TwoLayerCNN
        Network (modified in place).
    train, test : KeyPatternData
        Training and test sets.
    patterns : array-like, shape (K, kernel_size)
        Key patterns whose cosines with the filters are tracked.
    lr : float > 0
        Step size.
    n_steps : int >= 1
        SGD steps.
    batch_size : int >= 1
        Minibatch size (the training set is reshuffled every epoch).
    record_every : int >= 1
        Steps between records (the initialisation and the last step are always recorded).
    weight_decay : float >= 0
        L2 penalty of ``torch.optim.SGD``.
    generator : torch.Generator, optional
        Source of the minibatch order (default: a generator seeded with 0).

    Returns
    -------
    TrainingHistory

    Examples
    --------
    >>> from fbinit.theory.yu2019_two_layer_cnn.data import key_pattern_data, tone_patterns
    >>> gen = torch.Generator().manual_seed(0)
    >>> P = tone_patterns(2, 16)
    >>> train = key_pattern_data(64, P, n_patches=4, generator=gen)
    >>> test = key_pattern_data(64, P, n_patches=4, generator=gen)
    >>> hist = train_sgd(TwoLayerCNN(4, 16, 2, generator=gen), train, test, P, lr=0.5,
    ...                  n_steps=200, batch_size=16, record_every=50, generator=gen)
    >>> hist.step.tolist(), float(hist.test_accuracy[-1])
    ([0, 50, 100, 150, 200], 1.0)
    """
    if not isinstance(model, TwoLayerCNN):
        raise TypeError(f"model must be a TwoLayerCNN, got {type(model).__name__}")
    lr = check_positive_float("lr", lr)
    n_steps = check_int("n_steps", n_steps)
    batch_size = check_int("batch_size", batch_size)
    record_every = check_int("record_every", record_every)
    generator = make_generator(None, generator)
    weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
    patterns = as_double_tensor("patterns", patterns)
    if patterns.ndim != 2 or patterns.shape[1] != model.kernel_size:
        raise ParameterError(
            f"patterns.shape={tuple(patterns.shape)} must be (K, {model.kernel_size})"
        )
    dtype = model.conv.dtype
    x_train = train.x.to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    records: dict[str, list] = {k: [] for k in ("step", "loss", "train", "test", "cos", "norm")}

    def record(step: int) -> None:
        with torch.no_grad():
            logits = model(x_train)
            records["step"].append(step)
            records["loss"].append(float(F.cross_entropy(logits, train.y)))
            records["train"].append(float((logits.argmax(1) == train.y).to(torch.float64).mean()))
            records["test"].append(accuracy(model, test))
            w = model.filters().detach().to(torch.float64)
            records["cos"].append(filter_pattern_cosines(w, patterns))
            records["norm"].append(w.norm(dim=1))

    record(0)
    order = torch.empty(0, dtype=torch.int64)
    for step in range(1, n_steps + 1):
        if order.numel() < batch_size:
            order = torch.cat([order, torch.randperm(x_train.shape[0], generator=generator)])
        batch, order = order[:batch_size], order[batch_size:]
        optimizer.zero_grad()
        F.cross_entropy(model(x_train[batch]), train.y[batch]).backward()
        optimizer.step()
        if step % record_every == 0 or step == n_steps:
            record(step)
    return TrainingHistory(
        step=torch.tensor(records["step"]),
        loss=torch.tensor(records["loss"], dtype=torch.float64),
        train_accuracy=torch.tensor(records["train"], dtype=torch.float64),
        test_accuracy=torch.tensor(records["test"], dtype=torch.float64),
        cosine=torch.stack(records["cos"]),
        norm=torch.stack(records["norm"]),
    )
