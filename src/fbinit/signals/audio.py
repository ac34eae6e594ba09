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

from fbinit._memory import check_memory
from fbinit.errors import AudioError, ParameterError

__all__ = ["clip_names", "example", "example_path", "list_examples", "load"]

#: The example loaded by default: CMU ARCTIC utterance a0007 (speech, 16 kHz).
DEFAULT_EXAMPLE = "arctic_a0007"

# libsndfile logs "data : <declared> (should be <present>)" (WAV) or "SSND : ..." (AIFF)
# when the header promises more audio bytes than the file holds.
_SHORT_CHUNK = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Streaming writers leave the size fields at 0 or 0xFFFFFFFF ("unknown length").
_UNKNOWN_SIZES = (0, 0xFFFFFFFF, 0x7FFFFFFF)
# libsndfile's Ogg parser logs these when a stream lacks its last page or end-of-stream flag
_OGG_LOG = ("File ended unexpectedly", "lacks an end-of-stream", "Junk after the last page")


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
    if any(text in log for text in _OGG_LOG):
        return "the stream ends without its end-of-stream marker"
    return None


def _ogg_truncation(data: bytes) -> str | None:
    """Walk the pages of an Ogg file: a page cut off, or a stream without its last page."""
    pos, open_streams = 0, set()
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS":
            if len(data) - pos < 4 and b"OggS".startswith(data[pos:]):
                return "its last Ogg page is cut off"
            return None  # not a page: leave the verdict to the decoder
        if pos + 27 > len(data) or pos + 27 + data[pos + 26] > len(data):
            return "its last Ogg page is cut off"
        n_segments = data[pos + 26]
        body = sum(data[pos + 27 : pos + 27 + n_segments])
        end = pos + 27 + n_segments + body
        if end > len(data):
            return f"its last Ogg page is cut off ({len(data) - pos} of {end - pos} bytes)"
        flags, serial = data[pos + 5], data[pos + 14 : pos + 18]
        if flags & 0x02:  # beginning of a logical stream
            open_streams.add(serial)
        if flags & 0x04:  # end of a logical stream
            open_streams.discard(serial)
        pos = end
    if open_streams:
        return "the stream ends without its end-of-stream page"
    return None


# kbps by [MPEG-1?][layer 1..3][index]
_MPEG_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame(data: bytes, pos: int) -> tuple[int, int] | None:
    """(frame length, offset of a Xing/Info tag) of the MPEG audio frame at ``pos``, or None."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer = (b1 >> 3) & 3, 4 - ((b1 >> 1) & 3)
    rate_index, bitrate_index = (b2 >> 2) & 3, b2 >> 4
    if version == 1 or layer == 4 or rate_index == 3 or bitrate_index in (0, 15):
        return None  # reserved values, or free format (no length in the header)
    mpeg1 = version == 3
    bitrate = 1000 * _MPEG_BITRATES[mpeg1, layer][bitrate_index]
    rate = _MPEG_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        length = (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + padding
    mono = (b3 >> 6) == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    return length, pos + 4 + side


def _mpeg_truncation(data: bytes) -> str | None:
    """Check an MPEG audio file: its Xing/Info byte count, and that its last frame is whole."""
    start, end = 0, len(data)
    if data[:3] == b"ID3" and end >= 10:  # ID3v2 tag: syncsafe size
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        start = 10 + size + (10 if data[5] & 0x10 else 0)
    if end - start >= 128 and data[end - 128 : end - 125] == b"TAG":  # ID3v1 tag
        end -= 128
    if end - start >= 32 and data[end - 32 : end - 24] == b"APETAGEX":  # APEv2 footer
        size = int.from_bytes(data[end - 20 : end - 16], "little")
        end -= size + (32 if data[end - 9] & 0x80 else 0)
    pos = start
    frame = _mpeg_frame(data, pos)
    if frame is None:
        return None  # no frame where one should start: leave the verdict to the decoder
    tag = frame[1]
    if data[tag : tag + 4] in (b"Xing", b"Info") and tag + 8 <= end:
        flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
        at = tag + 8 + (4 if flags & 1 else 0)
        if flags & 2 and at + 4 <= end:
            declared = int.from_bytes(data[at : at + 4], "big")
            if declared not in _UNKNOWN_SIZES and end - start < declared:
                return (
                    f"its header declares {declared} bytes of audio but the file holds "
                    f"only {end - start}"
                )
    while pos < end:
        frame = _mpeg_frame(data, pos)
        if frame is None:
            if end - pos < 4 and data[pos] == 0xFF:
                return "its last MPEG frame is cut off"
            return None  # lost sync (junk, another tag): not a truncation we can tell
        if pos + frame[0] > end:
            return f"its last MPEG frame is cut off ({end - pos} of {frame[0]} bytes)"
        pos += frame[0]
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
        truncated (its header declares more data than it holds; an Ogg stream without its
        end-of-stream page or with a page cut off; an MPEG file shorter than its Xing/Info
        header says or whose last frame is cut off) or holds no samples.
    ParameterError
        If the file holds NaN or Inf samples, ``sample_rate`` is not a positive whole
        number, or resampling to it would exceed the memory limit (:mod:`fbinit._memory`).

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
            if reason is None and handle.format == "OGG":
                reason = _ogg_truncation(path.read_bytes())
            elif reason is None and handle.format == "MP3":
                reason = _mpeg_truncation(path.read_bytes())
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
    up, down = target // g, native // g
    n_out = -(-data.shape[0] * up // down) * data.shape[1]
    check_memory(
        f"sample_rate={target}",
        8.0 * (20 * max(up, down) + 2 * n_out + data.size),
        f"resampling '{path.name}' from {native} Hz",
    )
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
