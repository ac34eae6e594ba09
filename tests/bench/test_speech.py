"""espeak-ng rendering: rates, ranges, distinct voices, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from fbinit.bench import speech
from fbinit.errors import ParameterError


def test_every_voice_renders_differently():
    clips = [speech.render("seven", sample_rate=8000, voice=v) for v in speech.VOICES]
    for i, a in enumerate(clips):
        assert a.dtype == np.float32 and 0.05 < np.abs(a).max() <= 1.0
        for b in clips[:i]:
            assert a.shape != b.shape or np.abs(a - b).max() > 1e-3


def test_resampled_duration_and_spectrum_agree_with_the_native_rate():
    native = speech.render("three four", sample_rate=speech.ESPEAK_RATE)
    low = speech.render("three four", sample_rate=8000)
    assert len(low) == pytest.approx(len(native) * 8000 / speech.ESPEAK_RATE, abs=2)
    # energy below 3.5 kHz is kept by the resampler (within 2 %)
    spec = np.abs(np.fft.rfft(native)) ** 2
    f = np.fft.rfftfreq(len(native), 1 / speech.ESPEAK_RATE)
    spec_low = np.abs(np.fft.rfft(low)) ** 2
    f_low = np.fft.rfftfreq(len(low), 1 / 8000)
    in_band = spec[f < 3500].sum() / len(native)
    in_band_low = spec_low[f_low < 3500].sum() / len(low) * speech.ESPEAK_RATE / 8000
    assert in_band_low == pytest.approx(in_band, rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": " "}, "text=' ' must be a non-empty string"),
        ({"text": "a", "pitch": 100}, "pitch=100 must be at most 99"),
        ({"text": "a", "speed": 20}, "speed"),
        ({"text": "a", "voice": "en us"}, "voice='en us' must be an espeak-ng voice name"),
        ({"text": "a", "sample_rate": 0}, "sample_rate"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        speech.render(**kwargs)
