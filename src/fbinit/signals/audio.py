"""Reading audio files and the bundled example recordings.

:func:`load` reads any format libsndfile reads (WAV, FLAC, AIFF, Ogg, ...) through
``soundfile`` and returns float64 samples, optionally averaged to mono and resampled with a
polyphase filter. :func:`example` loads one of the recordings shipped in ``audio_examples/``
(each with its licence and source).
"""

from __future__ import annotations

import math
import numbers
import os
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.signal
import soundfile

from fbinit.errors import AudioError, ParameterError

__all__ = ["clip_names", "example", "example_path", "list_examples", "load"]

#: The example loaded by default: CMU ARCTIC utterance a0007 (speech, 16 kHz).
DEFAULT_EXAMPLE = "arctic_a0007"

# libsndfile logs "data : <declared> (should be <present>)" (WAV) or "SSND : ..." (AIFF)
# when the header promises more audio bytes than the file holds.
_SHORT_CHUNK = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Streaming writers leave the size fields at 0 or 0xFFFFFFFF ("unknown length").
_UNKNOWN_SIZES = (0, 0xFFFFFFFF, 0x7FFFFFFF)


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise AudioError(f"path='{path}' does not exist (must be an existing audio file)")
    if path.is_dir():
        raise AudioError(f"path='{path}' is a directory (must be an audio file)")
    return path


def _check_sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real):
        raise TypeError(f"sample_rate={sample_rate!r} must be a number of Hz")
    rate = float(sample_rate)
    if not (math.isfinite(rate) and rate > 0 and rate.is_integer()):
        raise ParameterError(f"sample_rate={sample_rate} must be a whole number of Hz > 0")
    return int(rate)


def _truncation(log: str) -> str | None:
    """Describe a truncation that libsndfile reported in its parse log, or return None."""
    for declared, present in _SHORT_CHUNK.findall(log):
        declared, present = int(declared), int(present)
        if declared not in _UNKNOWN_SIZES and present < declared:
            return (
                f"its header declares {declared} bytes of audio data but the file holds "
                f"only {present}"
            )
    if "File ended unexpectedly" in log:
        return "the stream ends without its end-of-stream marker"
    return None


def load(
    path: str | os.PathLike, *, sample_rate: int | None = None, mono: bool = True
) -> tuple[np.ndarray, int]:
    r"""Read an audio file as float64 samples, optionally resampled and averaged to mono.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file in a format libsndfile reads (WAV, FLAC, AIFF, Ogg, ...).
    sample_rate : int > 0, optional
        Target sample rate in Hz; the file's own rate when None. Other rates are reached
        with a polyphase resampler (``scipy.signal.resample_poly``, Kaiser window) by the
        exact rational factor ``sample_rate / file_rate``.
    mono : bool
        Average the channels to one signal.

    Returns
    -------
    signal : numpy.ndarray of float64, shape (n_samples,) if mono else (n_channels, n_samples)
        Samples in [-1, 1] for integer formats (float formats are returned as stored).
    sample_rate : int
        Sample rate of ``signal`` in Hz.

    Raises
    ------
    AudioError
        If the file does not exist, cannot be decoded (unsupported or corrupt format), is
        truncated (its header declares more data than it holds) or holds no samples.
    ParameterError
        If the file holds NaN or Inf samples, or ``sample_rate`` is not a positive whole
        number.

    Warns
    -----
    UserWarning
        If every sample is 0 (a silent file cannot be normalised to unit norm).

    Notes
    -----
    Resampling from :math:`f_{in}` to :math:`f_{out}` upsamples by
    :math:`L = f_{out}/g` and downsamples by :math:`M = f_{in}/g`,
    :math:`g = \gcd(f_{in}, f_{out})`; the output has :math:`\lceil n L / M \rceil` samples.
    Mono is the channel mean, :math:`x[n] = \frac{1}{C}\sum_c x_c[n]`.

    Examples
    --------
    >>> x, sr = load(example_path("arctic_a0007"), sample_rate=8000)
    >>> sr, x.shape, x.dtype
    (8000, (32000,), dtype('float64'))
    """
    path = _check_path(path)
    target = None if sample_rate is None else _check_sample_rate(sample_rate)
    if not isinstance(mono, bool):
        raise TypeError(f"mono={mono!r} must be a bool")
    try:
        with soundfile.SoundFile(path) as handle:
            reason = _truncation(handle.extra_info)
            if reason is not None:
                raise AudioError(f"path='{path}' is truncated: {reason}")
            native = int(handle.samplerate)
            data = handle.read(dtype="float64", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"path='{path}' cannot be read as audio: {exc}") from exc
    if data.shape[0] == 0:
        raise AudioError(f"path='{path}' holds no samples (an audio file must hold at least one)")
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise ParameterError(
            f"path='{path}' holds {bad} NaN or Inf samples; audio samples must be finite"
        )
    if not data.any():
        warnings.warn(f"path='{path}' is silent (every sample is 0)", stacklevel=2)
    signal = data.mean(axis=1) if mono else np.ascontiguousarray(data.T)
    if target is None or target == native:
        return signal, native
    g = math.gcd(target, native)
    signal = scipy.signal.resample_poly(signal, target // g, native // g, axis=-1)
    return np.asarray(signal, dtype=np.float64), target


def clip_names(paths: Sequence[str | os.PathLike]) -> list[str]:
    """Distinct short names of audio files: the file stems, longer where stems repeat.

    A stem shared by several files is replaced, for those files only, by the file name
    (``a.wav``, ``a.flac``), then by as many trailing folders as needed to tell them apart
    (``take1/a.wav``, ``take2/a.wav``); a path given twice gets `` (2)``, `` (3)``, ...

    Parameters
    ----------
    paths : sequence of str or os.PathLike

    Returns
    -------
    list of str
        One name per path, in order, all distinct.

    Examples
    --------
    >>> clip_names(["x/a.wav", "x/a.flac", "y/b.wav", "z/b.wav", "c.ogg"])
    ['a.wav', 'a.flac', 'y/b.wav', 'z/b.wav', 'c']
    """
    if isinstance(paths, (str, bytes, os.PathLike)) or not isinstance(paths, Sequence):
        raise TypeError(f"paths={paths!r} must be a sequence of paths")
    for p in paths:
        if isinstance(p, bytes) or not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"paths must hold str or os.PathLike, got {type(p).__name__}")
    parts = [Path(p).parts or (".",) for p in paths]
    depth = [0] * len(parts)

    def label(i: int) -> str:
        if depth[i] == 0:
            return Path(*parts[i][-1:]).stem or parts[i][-1]
        return "/".join(parts[i][-depth[i] :])

    names = [label(i) for i in range(len(parts))]
    while True:
        counts = Counter(names)
        longer = [i for i, n in enumerate(names) if counts[n] > 1 and depth[i] < len(parts[i])]
        if not longer:
            break
        for i in longer:
            depth[i] += 1
            names[i] = label(i)
    seen: Counter[str] = Counter()
    counts = Counter(names)
    for i, name in enumerate(names):
        if counts[name] > 1:
            seen[name] += 1
            if seen[name] > 1:
                names[i] = f"{name} ({seen[name]})"
    return names


# --------------------------------------------------------------------------- examples


def _examples_dir() -> Path:
    """The folder of bundled recordings: inside the installed package, else the repository."""
    here = Path(__file__).resolve()
    candidates = (
        here.parents[1] / "audio_examples",  # fbinit/audio_examples (installed wheel)
        here.parents[3] / "audio_examples",  # <repo>/audio_examples (source tree, editable)
    )
    for folder in candidates:
        if (folder / f"{DEFAULT_EXAMPLE}.wav").is_file():
            return folder
    raise AudioError(
        "the bundled audio examples were not found (looked in "
        + ", ".join(f"'{c}'" for c in candidates)
        + "); install fbinit from its source tree or a wheel that includes audio_examples"
    )


def list_examples() -> list[str]:
    """Names of the bundled example recordings.

    Returns
    -------
    list of str
        Sorted file stems of the WAV files in ``audio_examples/``.

    Examples
    --------
    >>> "arctic_a0007" in list_examples()
    True
    """
    return sorted(p.stem for p in _examples_dir().glob("*.wav"))


def example_path(name: str = DEFAULT_EXAMPLE) -> Path:
    """Path of a bundled example recording.

    Parameters
    ----------
    name : str
        One of :func:`list_examples`.

    Returns
    -------
    pathlib.Path
        The WAV file; its licence and source are described in the folder's README.md.

    Examples
    --------
    >>> example_path().name
    'arctic_a0007.wav'
    """
    names = list_examples()
    if name not in names:
        raise ParameterError(f"name={name!r} must be one of {', '.join(map(repr, names))}")
    return _examples_dir() / f"{name}.wav"


def example(
    name: str = DEFAULT_EXAMPLE, *, sample_rate: int | None = None
) -> tuple[np.ndarray, int]:
    """Load a bundled example recording as mono float64.

    Parameters
    ----------
    name : str
        One of :func:`list_examples`; ``"arctic_a0007"`` is a 4 s utterance of the CMU
        ARCTIC speech database (16 kHz, male speaker).
    sample_rate : int > 0, optional
        Target sample rate in Hz (the file's own rate when None).

    Returns
    -------
    signal : numpy.ndarray of float64, shape (n_samples,)
    sample_rate : int

    References
    ----------
    J. Kominek, A. W. Black, "The CMU Arctic speech databases", 5th ISCA Speech Synthesis
    Workshop, 2004.

    Examples
    --------
    >>> x, sr = example()
    >>> sr, x.shape
    (16000, (64000,))
    """
    return load(example_path(name), sample_rate=sample_rate)
