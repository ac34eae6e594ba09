"""Offline synthetic speech: the espeak-ng synthesiser, rendered in memory.

espeak-ng (the Debian package, installed by ``make test`` and ``make demo``) renders text
at 22050 Hz; :func:`render` resamples it (polyphase, :func:`scipy.signal.resample_poly`)
to the rate asked for. Voices, pitches and speeds vary the speaker.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from fbinit._validate import check_int
from fbinit.errors import ParameterError

__all__ = ["ESPEAK_RATE", "VOICES", "available", "render"]

#: espeak-ng's output sample rate (Hz)
ESPEAK_RATE = 22050

#: six of espeak-ng's English voices that render differently (language variants; +f3 etc.
#: are voice variants, which espeak-ng 1.51 ignores for en-gb: "en-gb+m3" sounds as "en-gb")
VOICES = ("en-us", "en-gb", "en-us+f3", "en-us+m3", "en-us+f4", "en-gb-scotland")


def available() -> bool:
    """True when the ``espeak-ng`` program is on the PATH."""
    return shutil.which("espeak-ng") is not None


def _wav_samples(data: bytes) -> np.ndarray:
    """The 16-bit PCM samples of a WAV stream written to a pipe (its size fields are bogus)."""
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"data":
            body = data[pos + 8 :]
            return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2")
        pos += 8 + size
    raise RuntimeError("espeak-ng wrote no WAV data chunk")


@functools.lru_cache(maxsize=512)
def _render(text: str, voice: str, pitch: int, speed: int) -> np.ndarray:
    if not available():
        raise RuntimeError(
            "espeak-ng is not installed: run `make test` or `apt-get install espeak-ng`"
        )
    out = subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    samples = _wav_samples(out.stdout).astype(np.float32) / 32768.0
    samples.flags.writeable = False
    return samples


def render(
    text: str,
    *,
    sample_rate: int = 16000,
    voice: str = "en-us",
    pitch: int = 50,
    speed: int = 160,
) -> np.ndarray:
    """Speak ``text`` with espeak-ng; float32 samples in [-1, 1] at ``sample_rate``.

    Parameters
    ----------
    text : str
        Non-empty text.
    sample_rate : int > 0
        Output rate in Hz (resampled from :data:`ESPEAK_RATE`).
    voice : str
        An espeak-ng voice, e.g. one of :data:`VOICES`.
    pitch : int in [0, 99]
        espeak-ng's pitch adjustment (50 is the voice's default).
    speed : int in [80, 450]
        Words per minute.

    Raises
    ------
    ParameterError
        Naming a parameter out of its range.
    RuntimeError
        When espeak-ng is not installed.

    Examples
    --------
    >>> x = render("seven", sample_rate=8000)
    >>> x.dtype, 0.2 < len(x) / 8000 < 1.5  # about half a second of speech
    (dtype('float32'), True)
    """
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"text={text!r} must be a non-empty string")
    sample_rate = check_int("sample_rate", sample_rate)
    pitch = check_int("pitch", pitch, minimum=0)
    speed = check_int("speed", speed, minimum=80)
    if pitch > 99:
        raise ParameterError(f"pitch={pitch} must be at most 99")
    if speed > 450:
        raise ParameterError(f"speed={speed} must be at most 450 words per minute")
    if not isinstance(voice, str) or not voice or any(c.isspace() for c in voice):
        raise ParameterError(f"voice={voice!r} must be an espeak-ng voice name")
    x = _render(text, voice, pitch, speed)
    ratio = Fraction(sample_rate, ESPEAK_RATE)
    if ratio != 1:
        x = resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)
    return np.array(x, dtype=np.float32)
