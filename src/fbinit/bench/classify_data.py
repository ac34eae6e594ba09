r"""Offline data of the classification benchmark: narrowband tones and spoken digits, 8 kHz.

Both tasks run at :data:`SAMPLE_RATE` = 8 kHz: the tones (3.15-3.9 kHz) lie below its
Nyquist frequency, spoken digits keep the telephone band, and every frontend costs half
what it costs at 16 kHz.

``"tones"``
    Class k is a tone at :data:`TONE_HZ` [k] (six tones 150 Hz apart, 3150-3900 Hz, each
    jittered by up to :data:`TONE_JITTER_HZ`), with random phase, onset and duration
    (:data:`TONE_DURATION_S`, 10 ms raised-cosine ramps), in pink noise (power density
    :math:`\propto 1/f` above 20 Hz), at an SNR (tone power while it sounds over the whole
    noise power) drawn from ``snr_db``; one to three class-independent distractor tones
    between 100 and 1000 Hz, each 0-10 dB above the noise, sound over the whole clip. The
    SNR range is -20 to -10 dB by default: the pink noise puts about 5% of its power in
    the discriminative band :data:`TONE_BAND`, so the tone stands -7 to +3 dB over the
    noise of that band and 5 to 15 dB over that in a 60 Hz wide band at 3.5 kHz.
``"digits"``
    "zero" ... "nine" rendered by espeak-ng (:func:`fbinit.bench.speech.render`) in a
    speaker combination (voice, pitch, speed) of :data:`DIGIT_VOICES` x ``pitches`` x
    ``speeds``, trimmed of silence, scaled by a random gain, placed at a random offset in a
    clip of :data:`CLIP_S` ["digits"] seconds (its end cut if longer: a few words of the
    slowest settings last up to 0.8 s), plus white noise at an SNR
    (over the clip) from ``snr_db``, -10 to 5 dB by default (at 0 to 20 dB every frontend
    but the free convolutions is at 97-100%). The combinations are split (from the seed)
    into disjoint test, validation and training sets: no speaker combination of the test
    set is heard in training.

Every clip is finally scaled to a peak amplitude drawn from -10 to +10 dB (a random gain).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from fbinit.bench import speech

__all__ = [
    "CLIP_S",
    "DIGITS",
    "DIGIT_VOICES",
    "SAMPLE_RATE",
    "TASKS",
    "TONE_BAND",
    "TONE_HZ",
    "digit_clip",
    "digits_data",
    "make_splits",
    "pink_noise",
    "split_combos",
    "tones_data",
]

#: sample rate of both tasks (Hz)
SAMPLE_RATE = 8000
#: the tasks
TASKS = ("tones", "digits")
#: clip length per task (seconds)
CLIP_S = {"tones": 0.5, "digits": 0.75}
#: the tone frequency of each class of the tones task (Hz)
TONE_HZ = tuple(3150.0 + 150.0 * k for k in range(6))
#: largest random offset of a tone from its class frequency (Hz)
TONE_JITTER_HZ = 10.0
#: range of a tone's duration (seconds)
TONE_DURATION_S = (0.2, 0.35)
#: the discriminative band of the tones task (Hz)
TONE_BAND = (3050.0, 4000.0)
#: the words of the digits task, class k is DIGITS[k]
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: the speakers' voices (distinct renderings, see :data:`fbinit.bench.speech.VOICES`)
DIGIT_VOICES = speech.VOICES


def pink_noise(rng: np.random.Generator, n_signals: int, n_samples: int) -> np.ndarray:
    r"""Unit-variance pink noise: white Gaussian noise shaped to power :math:`\propto 1/f`.

    The DFT of white noise is multiplied by :math:`f^{-1/2}` for f >= 20 Hz (at
    :data:`SAMPLE_RATE`) and zeroed below; each signal is then scaled to unit variance.

    Returns
    -------
    numpy.ndarray, float64, shape (n_signals, n_samples)
    """
    spec = np.fft.rfft(rng.standard_normal((n_signals, n_samples)), axis=-1)
    freqs = np.fft.rfftfreq(n_samples, 1.0 / SAMPLE_RATE)
    shape = np.where(freqs >= 20.0, 1.0 / np.sqrt(np.maximum(freqs, 20.0)), 0.0)
    x = np.fft.irfft(spec * shape, n=n_samples, axis=-1)
    return x / x.std(axis=-1, keepdims=True)


def _ramp(n_samples: int, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Gates (n, n_samples): 1 on [start, start + length) with 10 ms raised-cosine edges."""
    t = np.arange(n_samples)[None, :] - start[:, None]
    ramp = 0.01 * SAMPLE_RATE
    up = np.clip(t / ramp, 0.0, 1.0)
    down = np.clip((length[:, None] - t) / ramp, 0.0, 1.0)
    return np.sin(0.5 * np.pi * np.minimum(up, down)) ** 2


def tones_data(
    n_examples: int, rng: np.random.Generator, *, snr_db: tuple[float, float] = (-20.0, -10.0)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Examples of the tones task (module docstring), classes balanced then shuffled.

    Returns
    -------
    x : numpy.ndarray, float32, shape (n_examples, 0.5 s)
    y : numpy.ndarray, int64, shape (n_examples,)
        Class indices into :data:`TONE_HZ`.
    freq : numpy.ndarray, float64, shape (n_examples,)
        The tone's frequency (class frequency plus jitter), Hz.
    """
    n = round(CLIP_S["tones"] * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    y = rng.permutation(np.arange(n_examples) % len(TONE_HZ))
    freq = np.asarray(TONE_HZ)[y] + rng.uniform(-TONE_JITTER_HZ, TONE_JITTER_HZ, n_examples)
    length = rng.uniform(*TONE_DURATION_S, n_examples) * SAMPLE_RATE
    start = rng.uniform(0.0, 1.0, n_examples) * (n - length)
    gate = _ramp(n, start, length)
    tone = np.sqrt(2.0) * np.sin(
        2 * np.pi * freq[:, None] * t + rng.uniform(0, 2 * np.pi, (n_examples, 1))
    )
    snr = 10.0 ** (rng.uniform(*snr_db, n_examples) / 20.0)
    x = pink_noise(rng, n_examples, n) + snr[:, None] * gate * tone
    n_distract = rng.integers(1, 4, n_examples)
    for k in range(3):
        on = (k < n_distract)[:, None]
        f = rng.uniform(100.0, 1000.0, (n_examples, 1))
        level = 10.0 ** (rng.uniform(0.0, 10.0, (n_examples, 1)) / 20.0)
        phase = rng.uniform(0, 2 * np.pi, (n_examples, 1))
        x += on * level * np.sqrt(2.0) * np.sin(2 * np.pi * f * t + phase)
    x *= 10.0 ** (rng.uniform(-10.0, 10.0, (n_examples, 1)) / 20.0) / np.abs(x).max(
        -1, keepdims=True
    )
    return x.astype(np.float32), y.astype(np.int64), freq


def split_combos(
    pitches: tuple[int, ...], speeds: tuple[int, ...], n_val: int, n_test: int, seed: int
) -> dict[str, list[tuple[str, int, int]]]:
    """Speaker combinations (voice, pitch, speed) split at random into test, val and train.

    The product :data:`DIGIT_VOICES` x pitches x speeds is shuffled by a generator of
    ``seed``; the first ``n_test`` combinations are the test set, the next ``n_val`` the
    validation set, the rest the training set (disjoint by construction).
    """
    combos = list(itertools.product(DIGIT_VOICES, pitches, speeds))
    order = np.random.default_rng([seed, 1]).permutation(len(combos))
    chosen = [combos[i] for i in order]
    return {
        "test": chosen[:n_test],
        "val": chosen[n_test : n_test + n_val],
        "train": chosen[n_test + n_val :],
    }


@functools.lru_cache(maxsize=1024)
def digit_clip(word: str, voice: str, pitch: int, speed: int) -> np.ndarray:
    """One rendered word at :data:`SAMPLE_RATE`, trimmed to where |x| >= 2% of its peak."""
    x = speech.render(word, sample_rate=SAMPLE_RATE, voice=voice, pitch=pitch, speed=speed)
    loud = np.flatnonzero(np.abs(x) >= 0.02 * np.abs(x).max())
    out = x[loud[0] : loud[-1] + 1] / np.abs(x).max()
    out.flags.writeable = False
    return out


def digits_data(
    n_examples: int,
    combos: list[tuple[str, int, int]],
    rng: np.random.Generator,
    *,
    snr_db: tuple[float, float] = (-10.0, 5.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Examples of the digits task from the given speaker combinations (module docstring).

    Returns
    -------
    x : numpy.ndarray, float32, shape (n_examples, 0.75 s)
    y : numpy.ndarray, int64, shape (n_examples,)
        Class indices into :data:`DIGITS` (balanced, shuffled).
    combo : numpy.ndarray, int64, shape (n_examples,)
        Index into ``combos`` of each example's speaker combination.
    """
    n = round(CLIP_S["digits"] * SAMPLE_RATE)
    y = rng.permutation(np.arange(n_examples) % len(DIGITS))
    which = rng.integers(0, len(combos), n_examples)
    x = np.zeros((n_examples, n))
    for i, (label, c) in enumerate(zip(y, which, strict=True)):
        clip = digit_clip(DIGITS[label], *combos[c])[:n]
        start = rng.integers(0, n - len(clip) + 1)
        x[i, start : start + len(clip)] = clip
    power = np.mean(x**2, axis=-1, keepdims=True)
    snr = 10.0 ** (rng.uniform(*snr_db, (n_examples, 1)) / 10.0)
    x += np.sqrt(power / snr) * rng.standard_normal(x.shape)
    x *= 10.0 ** (rng.uniform(-10.0, 10.0, (n_examples, 1)) / 20.0) / np.abs(x).max(
        -1, keepdims=True
    )
    return x.astype(np.float32), y.astype(np.int64), which


@functools.lru_cache(maxsize=4)
def make_splits(
    task: str,
    n_train: int,
    n_val: int,
    n_test: int,
    seed: int,
    pitches: tuple[int, ...] = (40, 60),
    speeds: tuple[int, ...] = (150, 190),
    val_combos: int = 3,
    test_combos: int = 4,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train, validation and test sets (x, y) of a task, from ``seed``; cached per process.

    The sets of one seed are the same for every frontend (a paired comparison). For the
    tones every example is drawn independently; for the digits the speaker combinations
    are split by :func:`split_combos` (``val_combos`` and ``test_combos`` of them held
    out) and each set draws only from its own.
    """
    rngs = {
        name: np.random.default_rng([seed, i, TASKS.index(task)])
        for i, name in enumerate(("train", "val", "test"))
    }
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    if task == "tones":
        return {name: tones_data(sizes[name], rngs[name])[:2] for name in sizes}
    combos = split_combos(pitches, speeds, val_combos, test_combos, seed)
    return {name: digits_data(sizes[name], combos[name], rngs[name])[:2] for name in sizes}


def chance(task: str) -> float:
    """Accuracy of guessing with balanced classes: 1 / number of classes."""
    return 1.0 / (len(TONE_HZ) if task == "tones" else len(DIGITS))


def n_classes(task: str) -> int:
    """Number of classes of a task."""
    return len(TONE_HZ) if task == "tones" else len(DIGITS)
