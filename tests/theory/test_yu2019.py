"""Tests of fbinit.theory.yu2019_two_layer_cnn (Yu, Zhang, Zhu, arXiv:1905.10157).

The learning tests use a tiny configuration (3 classes, 16-sample patterns, 4 patches,
8 filters, 400 SGD steps). Thresholds: a random direction in d = 16 dimensions has a
cosine of standard deviation 1/sqrt(16) = 0.25 with a fixed pattern, so the best of 8
random filters rarely exceeds 0.6; a cosine above 0.9 is learned, not chance. "Clear
factor" for the norms: the best-aligned filters end at least 3 times larger than every
filter aligned with no key pattern (cosine < 0.5).
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from fbinit.errors import ParameterError
from fbinit.theory.yu2019_two_layer_cnn import (
    TwoLayerCNN,
    accuracy,
    filter_pattern_cosines,
    key_pattern_data,
    key_pattern_experiment,
    plot_key_pattern,
    random_patterns,
    tone_patterns,
    train_sgd,
    write_curves,
)

TINY = dict(
    n_classes=3,
    n_distractors=2,
    patch_size=16,
    n_patches=4,
    noise=0.1,
    n_filters=8,
    lr=0.2,
    n_steps=400,
    batch_size=16,
    n_train=300,
    n_test=300,
    record_every=50,
)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------ data


def test_tone_patterns_unit_norm_and_frequencies():
    sample_rate, fmin, fmax = 16_000.0, 500.0, 6_000.0
    P = tone_patterns(4, 64, sample_rate=sample_rate, fmin=fmin, fmax=fmax)
    torch.testing.assert_close(P.norm(dim=1), torch.ones(4, dtype=torch.float64))
    spectrum = np.abs(np.fft.rfft(P.numpy(), n=1 << 14, axis=1))
    peaks = spectrum.argmax(1) * sample_rate / (1 << 14)
    expected = fmin * (fmax / fmin) ** (np.arange(4) / 3)
    # the Hann window of 64 samples has a main lobe of +-2 bins = +-500 Hz; its peak sits
    # within a few Hz of the tone except at the lowest tone, pulled by its negative image
    np.testing.assert_allclose(peaks, expected, rtol=0.08)


def test_random_patterns_unit_norm_and_seeded():
    a = random_patterns(3, 10, generator=_gen(1))
    b = random_patterns(3, 10, generator=_gen(1))
    assert torch.equal(a, b)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(3, dtype=torch.float64))


def test_key_pattern_sits_at_recorded_position_without_noise():
    P = random_patterns(3, 8, generator=_gen(2))
    data = key_pattern_data(50, P, n_patches=5, noise=0.0, generator=_gen(3))
    slots = data.x.reshape(50, 5, 8)
    rows = torch.arange(50)
    torch.testing.assert_close(slots[rows, data.position], P[data.y], atol=0, rtol=0)
    others = torch.ones(50, 5, dtype=torch.bool)
    others[rows, data.position] = False
    assert float(slots[others].abs().max()) == 0.0
    assert set(data.y.tolist()) == {0, 1, 2} and set(data.position.tolist()) == set(range(5))


def test_distractors_fill_non_key_slots_with_given_probability():
    P = random_patterns(2, 8, generator=_gen(4))
    Q = random_patterns(3, 8, generator=_gen(5))
    n, n_patches, prob = 4000, 6, 0.3
    data = key_pattern_data(
        n,
        P,
        n_patches=n_patches,
        noise=0.0,
        distractors=Q,
        distractor_prob=prob,
        generator=_gen(6),
    )
    slots = data.x.reshape(n, n_patches, 8)
    rows = torch.arange(n)
    torch.testing.assert_close(slots[rows, data.position], P[data.y], atol=0, rtol=0)
    others = torch.ones(n, n_patches, dtype=torch.bool)
    others[rows, data.position] = False
    filled = slots[others]
    nonzero = filled.abs().sum(1) > 0
    # every filled slot is exactly one distractor
    dist = ((filled[nonzero][:, None, :] - Q[None]) ** 2).sum(-1).min(1).values
    assert float(dist.max()) < 1e-28
    m = others.sum().item()
    se = math.sqrt(prob * (1 - prob) / m)
    assert abs(float(nonzero.to(torch.float64).mean()) - prob) < 5 * se


def test_background_noise_level():
    P = random_patterns(2, 8, generator=_gen(7))
    clean = key_pattern_data(3000, P, n_patches=4, noise=0.0, generator=_gen(8))
    noisy = key_pattern_data(3000, P, n_patches=4, noise=0.25, generator=_gen(8))
    xi = (noisy.x - clean.x) / 0.25  # same generator state: same labels and positions
    assert torch.equal(clean.y, noisy.y)
    se = xi.pow(2).std() / math.sqrt(xi.numel())
    assert abs(float(xi.pow(2).mean()) - 1.0) < 5 * float(se)


def test_audio_background_is_scaled_speech():
    rng = np.random.default_rng(0)
    signal = np.convolve(rng.standard_normal(20_000), np.ones(8) / 8, mode="same")
    P = random_patterns(2, 8, generator=_gen(9))
    clean = key_pattern_data(200, P, n_patches=4, noise=0.0, generator=_gen(10))
    speech = key_pattern_data(
        200, P, n_patches=4, noise=0.5, background="audio", signal=signal, generator=_gen(10)
    )
    frames = (speech.x - clean.x).numpy() / 0.5
    # every background is a contiguous stretch of the recording, scaled: cosine 1 with a window
    windows = np.lib.stride_tricks.sliding_window_view(signal, 32)
    unit = windows / np.linalg.norm(windows, axis=1, keepdims=True)
    f = frames / np.linalg.norm(frames, axis=1, keepdims=True)
    assert (f @ unit.T).max(1).min() > 1 - 1e-12
    assert abs(float((frames**2).mean()) - 1.0) < 0.1
    default = key_pattern_data(4, P, n_patches=4, background="audio", generator=_gen(11))
    assert default.x.shape == (4, 32) and bool(torch.isfinite(default.x).all())


# ----------------------------------------------------------------------------------- model


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_forward_equals_patchwise_formula(pooling):
    net = TwoLayerCNN(5, 8, 3, pooling=pooling, generator=_gen(12)).double()
    x = torch.randn(7, 40, generator=_gen(13), dtype=torch.float64)
    patches = x.unfold(1, 8, 8)  # (n, 5, 8)
    h = torch.relu(torch.einsum("nip,jp->nji", patches, net.filters()))
    pooled = h.amax(-1) if pooling == "max" else h.mean(-1)
    expected = pooled @ net.linear.weight.T + net.linear.bias
    torch.testing.assert_close(net(x), expected)


def test_initial_filter_norm_is_init_scale():
    net = TwoLayerCNN(4000, 16, 2, init_scale=0.3, generator=_gen(14))
    sq = net.filters().detach().double().pow(2).sum(1)
    se = float(sq.std()) / math.sqrt(sq.numel())
    assert abs(float(sq.mean()) - 0.09) < 5 * se  # E||w||^2 = init_scale^2


def test_cosines_match_numpy():
    W = torch.randn(6, 9, generator=_gen(15), dtype=torch.float64)
    P = torch.randn(3, 9, generator=_gen(16), dtype=torch.float64)
    w, p = W.numpy(), P.numpy()
    expected = (w @ p.T) / np.outer(np.linalg.norm(w, axis=1), np.linalg.norm(p, axis=1))
    np.testing.assert_allclose(filter_pattern_cosines(W, P).numpy(), expected, rtol=1e-13)


# -------------------------------------------------------------------------------- learning


@pytest.mark.parametrize("seed", [0, 1])
def test_filters_learn_key_patterns_and_dominate(seed):
    result = key_pattern_experiment(dictionary="random", seed=seed, **TINY)
    h = result.history
    s = h.summary()
    assert s["train_accuracy"] == 1.0 and s["test_accuracy"] == 1.0
    assert float(h.cosine[0].max()) < 0.9  # no filter starts aligned: alignment is learned
    assert float(s["best_cosine"].min()) > 0.9
    assert s["n_unaligned"] >= 1  # there are "other" filters to compare with
    assert s["norm_ratio"] > 3.0
    initial = h.norm[0][s["best_filter"]]
    assert float((s["best_norm"] / initial).min()) > 5.0  # the aligned filters grew


def test_tone_dictionary_reaches_full_accuracy_and_alignment():
    result = key_pattern_experiment(dictionary="tones", seed=0, **TINY)
    s = result.history.summary()
    assert s["train_accuracy"] == 1.0 and s["test_accuracy"] == 1.0
    assert float(s["best_cosine"].min()) > 0.9


def test_training_is_deterministic_and_recorded(tmp_path):
    small = dict(TINY, n_steps=60, record_every=20, n_train=64, n_test=64)
    a = key_pattern_experiment(seed=3, **small)
    b = key_pattern_experiment(seed=3, **small)
    assert torch.equal(a.history.cosine, b.history.cosine)
    assert a.history.step.tolist() == [0, 20, 40, 60]
    path = write_curves({"tiny": a}, tmp_path / "curves.csv")
    rows = list(csv.DictReader(path.open()))
    n_filters, n_classes = 8, 3
    assert len(rows) == 4 * (3 + n_filters + n_filters * n_classes)
    cos = [r for r in rows if r["metric"] == "cosine" and r["step"] == "60"]
    assert float(cos[0]["value"]) == pytest.approx(float(a.history.cosine[-1, 0, 0]), rel=1e-5)
    png = plot_key_pattern(a, tmp_path / "fig.png", title="tiny")
    assert png.read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------------- errors


def test_errors():
    P = random_patterns(2, 8, generator=_gen(17))
    data = key_pattern_data(4, P, n_patches=2, generator=_gen(18))
    with pytest.raises(ParameterError, match="fmax=9000.0 must satisfy"):
        tone_patterns(2, 16, fmax=9000.0)
    with pytest.raises(ParameterError, match="patch_size=1 must be an integer >= 2"):
        tone_patterns(2, 1)
    with pytest.raises(ParameterError, match=r"patterns.ndim=1 must be 2"):
        key_pattern_data(4, P[0], n_patches=2)
    with pytest.raises(ParameterError, match=r"distractors.shape=\(2, 5\) must be \(M, 8\)"):
        key_pattern_data(4, P, distractors=torch.ones(2, 5))
    with pytest.raises(ParameterError, match="distractor_prob=1.5 must be in"):
        key_pattern_data(4, P, distractors=P, distractor_prob=1.5)
    with pytest.raises(ParameterError, match="background='pink' must be one of"):
        key_pattern_data(4, P, background="pink")
    with pytest.raises(ParameterError, match="noise=-0.1 must be a finite number >= 0"):
        key_pattern_data(4, P, noise=-0.1)
    with pytest.raises(ParameterError, match="pooling='sum' must be one of"):
        TwoLayerCNN(2, 8, 2, pooling="sum")
    with pytest.raises(ParameterError, match="n_classes=1 must be an integer >= 2"):
        TwoLayerCNN(2, 8, 1)
    with pytest.raises(ParameterError, match=r"x.shape=\(3, 4\) must be"):
        TwoLayerCNN(2, 8, 2)(torch.zeros(3, 4))
    with pytest.raises(ParameterError, match=r"patterns.shape=\(2, 8\) must be \(K, 16\)"):
        train_sgd(TwoLayerCNN(2, 16, 2), data, data, P)
    with pytest.raises(TypeError, match="model must be a TwoLayerCNN"):
        train_sgd(torch.nn.Linear(2, 2), data, data, P)
    with pytest.raises(ParameterError, match="lr=0.0 must be a finite number > 0"):
        train_sgd(TwoLayerCNN(2, 8, 2), data, data, P, lr=0.0)
    with pytest.raises(ParameterError, match="must be \\(n_filters, d\\) and \\(K, d\\)"):
        filter_pattern_cosines(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ParameterError, match="dictionary='wavelets' must be one of"):
        key_pattern_experiment(dictionary="wavelets")
    assert 0.0 <= accuracy(TwoLayerCNN(2, 8, 2), data) <= 1.0
