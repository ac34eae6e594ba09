r"""Seeded offline datasets of the distillation teachers: float32 arrays (n_examples, n_samples).

Each generator draws from ``numpy.random.default_rng([seed, split])`` with ``split`` 0
for training and 1 for testing (:func:`split_seed`), so a training and a test set of the
same seed never share a draw. Every synthetic component lies strictly below the Nyquist
frequency (unlike the MuReNN synthetic task, which drew sines up to 44.1 kHz at a
44.1 kHz rate, so that about 10% of them aliased). Each example is scaled to unit RMS.
"""

from __future__ import annotations

import functools

import numpy as np

from fbinit._validate import check_int, check_positive_float
from fbinit.errors import ParameterError

__all__ = [
    "SPLITS",
    "harmonic_tones",
    "log_sine_frequencies",
    "log_sines",
    "noise_bursts",
    "speech_segments",
    "split_seed",
]

#: the data splits
SPLITS = ("train", "test")

#: sentences of the synthetic speech (train, test): disjoint texts
SENTENCES = (
    (
        "The quick brown fox jumps over the lazy dog.",
        "She sells sea shells by the sea shore.",
        "A filterbank splits the signal into frequency bands.",
    ),
    ("Seven silver spoons were found beneath the wooden table.",),
)


def split_seed(split: str, seed: int) -> list[int]:
    """The entropy of a split's generator: ``[seed, 0]`` (train) or ``[seed, 1]`` (test)."""
    if split not in SPLITS:
        raise ParameterError(f"split={split!r} must be one of {SPLITS}")
    return [check_int("seed", seed, minimum=0), SPLITS.index(split)]


def _check(n_examples, n_samples, sample_rate):
    return (
        check_int("n_examples", n_examples),
        check_int("n_samples", n_samples),
        check_positive_float("sample_rate", sample_rate),
    )


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(x**2, axis=-1, keepdims=True))
    return (x / np.maximum(rms, 1e-12)).astype(np.float32)


def _check_range(fmin: float, fmax: float, sample_rate: float) -> tuple[float, float]:
    fmin = check_positive_float("fmin", fmin)
    fmax = check_positive_float("fmax", fmax)
    if not fmin < fmax < sample_rate / 2:
        raise ParameterError(
            f"fmin={fmin}, fmax={fmax} must satisfy 0 < fmin < fmax < sample_rate / 2 = "
            f"{sample_rate / 2}"
        )
    return fmin, fmax


def log_sine_frequencies(
    n_examples: int, *, fmin: float, fmax: float, sample_rate: float, split: str, seed: int
) -> np.ndarray:
    """The frequencies (Hz) of :func:`log_sines`: log-uniform on [fmin, fmax]."""
    fmin, fmax = _check_range(fmin, fmax, sample_rate)
    rng = np.random.default_rng(split_seed(split, seed))
    return np.exp(rng.uniform(np.log(fmin), np.log(fmax), n_examples))


def log_sines(
    n_examples: int,
    n_samples: int,
    *,
    sample_rate: float,
    fmin: float,
    fmax: float,
    split: str = "train",
    seed: int = 0,
) -> np.ndarray:
    r"""Pure sines of log-uniform frequency (the synthetic CQT task).

    :math:`x[n] = \sin(2\pi f n / \mathrm{sr} + \varphi)`, f log-uniform on
    [fmin, fmax] with fmax < sr / 2 (no aliasing), :math:`\varphi` uniform.
    """
    n_examples, n_samples, sample_rate = _check(n_examples, n_samples, sample_rate)
    freqs = log_sine_frequencies(
        n_examples, fmin=fmin, fmax=fmax, sample_rate=sample_rate, split=split, seed=seed
    )
    rng = np.random.default_rng([*split_seed(split, seed), 1])
    phase = rng.uniform(0, 2 * np.pi, (n_examples, 1))
    t = np.arange(n_samples) / sample_rate
    return _unit_rms(np.sin(2 * np.pi * freqs[:, None] * t + phase))


def harmonic_tones(
    n_examples: int,
    n_samples: int,
    *,
    sample_rate: float,
    fmin: float,
    fmax: float,
    max_harmonics: int = 8,
    split: str = "train",
    seed: int = 0,
) -> np.ndarray:
    r"""Harmonic tones (the VQT task): random f0, a few harmonics of decaying amplitude.

    f0 is log-uniform on [fmin, fmax / 2]; the tone has H harmonics (H uniform on
    1..``max_harmonics``), harmonic h of amplitude :math:`h^{-a}` (a uniform on [0.5, 2])
    and random phase, keeping only those below fmax (< sr / 2); an attack-decay envelope
    :math:`(1 - e^{-t/\tau_a}) e^{-t/\tau_d}` with random time constants.
    """
    n_examples, n_samples, sample_rate = _check(n_examples, n_samples, sample_rate)
    fmin, fmax = _check_range(fmin, fmax, sample_rate)
    max_harmonics = check_int("max_harmonics", max_harmonics)
    rng = np.random.default_rng(split_seed(split, seed))
    f0 = np.exp(rng.uniform(np.log(fmin), np.log(max(fmax / 2, fmin * 1.001)), n_examples))
    count = rng.integers(1, max_harmonics + 1, n_examples)
    slope = rng.uniform(0.5, 2.0, n_examples)
    h = np.arange(1, max_harmonics + 1)
    freqs = f0[:, None] * h  # (n, H)
    amp = h[None, :] ** -slope[:, None] * (h[None, :] <= count[:, None]) * (freqs < fmax)
    phase = rng.uniform(0, 2 * np.pi, freqs.shape)
    t = np.arange(n_samples) / sample_rate
    duration = n_samples / sample_rate
    attack = rng.uniform(0.002, 0.05, (n_examples, 1)) * duration
    decay = rng.uniform(0.3, 3.0, (n_examples, 1)) * duration
    x = np.zeros((n_examples, n_samples))
    for j in range(max_harmonics):  # a loop over harmonics, vectorised over examples
        x += amp[:, j : j + 1] * np.sin(2 * np.pi * freqs[:, j : j + 1] * t + phase[:, j : j + 1])
    x *= (1 - np.exp(-t / attack)) * np.exp(-t / decay)
    return _unit_rms(x)


def noise_bursts(
    n_examples: int,
    n_samples: int,
    *,
    sample_rate: float,
    fmin: float = 20.0,
    fmax: float | None = None,
    split: str = "train",
    seed: int = 0,
) -> np.ndarray:
    r"""Enveloped coloured noise bursts (the third-octave task).

    White Gaussian noise shaped in the DFT domain by :math:`f^{-\alpha/2}` (power slope
    :math:`f^{-\alpha}`, :math:`\alpha` uniform on [0, 2]: white to brown) times a random
    band-pass (a Gaussian bump in log frequency, centre log-uniform on [fmin, fmax],
    width 0.5-3 octaves) and zero outside [fmin, fmax]; then 1 to 3 bursts, each a
    Hann-shaped envelope of random onset and length 5-60% of the segment.
    """
    n_examples, n_samples, sample_rate = _check(n_examples, n_samples, sample_rate)
    fmax = 0.95 * sample_rate / 2 if fmax is None else fmax
    fmin, fmax = _check_range(fmin, fmax, sample_rate)
    rng = np.random.default_rng(split_seed(split, seed))
    freqs = np.fft.rfftfreq(n_samples, 1 / sample_rate)
    inside = (freqs >= fmin) & (freqs <= fmax)
    alpha = rng.uniform(0, 2, (n_examples, 1))
    centre = np.exp(rng.uniform(np.log(fmin), np.log(fmax), (n_examples, 1)))
    width = rng.uniform(0.5, 3.0, (n_examples, 1))
    safe = np.where(inside, freqs, fmin)
    shape = safe ** (-alpha / 2) * np.exp(-0.5 * (np.log2(safe / centre) / width) ** 2) * inside
    spec = rng.standard_normal((n_examples, freqs.size)) + 1j * rng.standard_normal(
        (n_examples, freqs.size)
    )
    x = np.fft.irfft(spec * shape, n=n_samples)
    envelope = np.zeros((n_examples, n_samples))
    n = np.arange(n_samples)
    for _ in range(3):
        on = rng.random((n_examples, 1)) < 0.7
        length = rng.uniform(0.05, 0.6, (n_examples, 1)) * n_samples
        start = rng.uniform(-0.2, 1.0, (n_examples, 1)) * n_samples
        phase = np.clip((n - start) / length, 0, 1)
        envelope += on * np.sin(np.pi * phase) ** 2
    envelope[envelope.max(axis=1) == 0] = 1.0  # no burst drawn: keep the noise
    return _unit_rms(x * envelope)


@functools.lru_cache(maxsize=8)
def _speech_corpus(split: str, sample_rate: int, n_voices: int) -> tuple[np.ndarray, ...]:
    """Recordings of a split: part of the bundled recording, then espeak-ng sentences."""
    from fbinit.bench import speech
    from fbinit.signals.audio import example

    recording, _ = example(sample_rate=sample_rate)
    cut = int(0.75 * recording.size)
    pieces = [recording[:cut] if split == "train" else recording[cut:]]
    if speech.available():
        voices = speech.VOICES[:-2] if split == "train" else speech.VOICES[-2:]
        texts = SENTENCES[SPLITS.index(split)]
        for i, voice in enumerate(voices[:n_voices]):
            for j, text in enumerate(texts):
                pitch, speed = (30, 50, 70)[(i + j) % 3], (130, 170, 210)[(i + 2 * j) % 3]
                pieces.append(
                    speech.render(
                        text, sample_rate=sample_rate, voice=voice, pitch=pitch, speed=speed
                    )
                )
    return tuple(np.asarray(p, dtype=np.float64) for p in pieces)


def speech_segments(
    n_examples: int,
    n_samples: int,
    *,
    sample_rate: int = 16000,
    n_voices: int = 4,
    split: str = "train",
    seed: int = 0,
) -> np.ndarray:
    """Random speech segments: the bundled recording and espeak-ng sentences.

    The training split draws from the first 75% of the bundled recording
    (``fbinit.signals.audio.example()``) and three sentences spoken by the first
    ``n_voices`` of :data:`fbinit.bench.speech.VOICES` (at most four) at several pitches and
    speeds; the test split from the last 25% of the recording and another sentence spoken
    by the last two voices, so no audio is shared. A segment starts at a uniform random
    sample of a random recording (weighted by length); segments quieter than 1% of the
    corpus RMS are redrawn (up to 20 times). Without espeak-ng only the recording is used.
    """
    n_examples, n_samples, _ = _check(n_examples, n_samples, sample_rate)
    n_voices = check_int("n_voices", n_voices)
    if split not in SPLITS:
        raise ParameterError(f"split={split!r} must be one of {SPLITS}")
    corpus = _speech_corpus(split, int(sample_rate), n_voices)
    corpus = tuple(np.pad(p, (0, max(0, n_samples - p.size))) for p in corpus)
    lengths = np.array([p.size - n_samples + 1 for p in corpus], dtype=float)
    floor = 0.01 * np.sqrt(np.mean(np.concatenate(corpus) ** 2))
    rng = np.random.default_rng(split_seed(split, seed))
    out = np.empty((n_examples, n_samples))
    for i in range(n_examples):
        for _ in range(20):
            k = rng.choice(len(corpus), p=lengths / lengths.sum())
            start = rng.integers(0, int(lengths[k]))
            seg = corpus[k][start : start + n_samples]
            if np.sqrt(np.mean(seg**2)) > floor:
                break
        out[i] = seg
    return _unit_rms(out)
